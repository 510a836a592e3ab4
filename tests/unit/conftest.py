"""The unit layer's one rule, enforced: a unit test runs in this process
and needs no service. It may start in-process fakes on loopback (the
simulator, a BMC farm), but it starts no process and connects to none of
the machine's services; such a test belongs in tests/functional/.

The guard is a ``sys.addaudithook`` hook (the interpreter's public way to
see every process start and socket connect), active only while a test of
this folder runs: in a whole-suite run the functional tests, which share
the process, are not affected.
"""

import sys

import pytest

#: The ports of the services a unit test must not need (PostgreSQL,
#: MariaDB, Redis, RabbitMQ, etcd, Prometheus, Mosquitto, NATS).
SERVICE_PORTS = {5432, 3306, 6379, 5672, 2379, 9090, 1883, 4222}
PROCESS_EVENTS = {'subprocess.Popen', 'os.posix_spawn', 'os.fork',
                  'os.forkpty', 'os.exec', 'os.system'}

_active = False


class ServiceUsed(Exception):
    """A unit test started a process or reached a service."""


def _guard(event, args):
    if not _active:
        return
    if event in PROCESS_EVENTS:
        raise ServiceUsed('a unit test starts no process (%s %r); move it '
                          'to tests/functional/' % (event, args[:2]))
    if event == 'socket.connect':
        address = args[1]
        if isinstance(address, tuple) and len(address) >= 2 \
                and address[1] in SERVICE_PORTS:
            raise ServiceUsed('a unit test needs no service (connect to '
                              '%s:%s); move it to tests/functional/'
                              % address[:2])


sys.addaudithook(_guard)


@pytest.fixture(autouse=True)
def no_services():
    global _active
    _active = True
    yield
    _active = False

"""sd_notify for the engine, sent when the engine is really ready.

The threading backend runs the service under cotyledon, whose parent
process sends ``READY=1`` before the worker process has even started the
service. To tell systemd the truth, :func:`take_notify_socket` removes
``NOTIFY_SOCKET`` from the environment before the launcher starts (so
neither cotyledon nor oslo.service sees it) and the service sends
``READY=1`` itself once the manager has started, with ``MAINPID`` set to the
launcher's pid. The unit therefore needs ``NotifyAccess=all``.

A reload is ``RELOADING=1`` with ``MONOTONIC_USEC=`` (the time it began,
CLOCK_MONOTONIC in microseconds), then ``READY=1`` once it is applied, as
sd_notify(3) requires of a ``Type=notify-reload`` service: without the
timestamp systemd cannot tell this reload from an earlier one, and
``systemctl reload`` waits until its timeout.
"""

import logging
import os
import socket
import time

LOG = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify messages to one socket; a no-op without a socket."""

    def __init__(self, address=None, main_pid=None):
        self.address = address
        self.main_pid = main_pid

    def __bool__(self):
        return bool(self.address)

    def send(self, *fields):
        if not self.address:
            return False
        if self.main_pid:
            fields += ('MAINPID=%d' % self.main_pid,)
        address = self.address
        if address.startswith('@'):
            address = '\0' + address[1:]
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(address)
                sock.sendall('\n'.join(fields).encode())
        except OSError as exc:
            LOG.warning('Could not notify systemd at %s: %s',
                        self.address, exc)
            return False
        return True

    def ready(self, status='running'):
        return self.send('READY=1', 'STATUS=%s' % status)

    def reloading(self):
        return self.send('RELOADING=1', 'MONOTONIC_USEC=%d' % monotonic_usec(),
                         'STATUS=reloading configuration')

    def stopping(self):
        return self.send('STOPPING=1', 'STATUS=stopping')

    def status(self, text):
        return self.send('STATUS=%s' % text)


def monotonic_usec():
    """CLOCK_MONOTONIC in microseconds, the clock systemd compares a
    reload's ``MONOTONIC_USEC=`` with (one clock for every process)."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def take_notify_socket():
    """Remove ``NOTIFY_SOCKET`` from the environment; return a Notifier."""
    return Notifier(os.environ.pop('NOTIFY_SOCKET', None), os.getpid())

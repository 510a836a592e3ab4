"""The sd_notify sequence of the real daemon through a test NOTIFY_SOCKET:
READY=1 once started, RELOADING=1 (with MONOTONIC_USEC=) then READY=1
around a SIGHUP (the worker process is kept, not restarted), STOPPING=1 on
SIGTERM, exit status 0."""

import os
import pathlib
import signal
import subprocess
import sys
import time

import psutil
import pytest

from tests.fixtures import sd_notify

# Generous: only a bound on a hung daemon, never a speed check.
RECV_TIMEOUT = 60


@pytest.fixture
def notify_socket(tmp_path):
    path = tmp_path / 'notify'
    with sd_notify.bound(path, RECV_TIMEOUT) as sock:
        yield sock, path


def _start(tmp_path, notify_path, backend):
    conf = tmp_path / 'decision-engine.conf'
    conf.write_text('[DEFAULT]\nstate_path = %s\nconcurrency_backend = %s\n'
                    '[api]\nenabled = false\n'
                    '[conductor]\nworkers_pool_size = 4\n'
                    % (tmp_path, backend))
    binary = pathlib.Path(sys.executable).parent / 'decision-engine'
    env = dict(os.environ, NOTIFY_SOCKET=str(notify_path))
    # The child keeps its own copy of the log's descriptor.
    with open(tmp_path / 'engine.log', 'w') as log:
        return subprocess.Popen([str(binary), '--config-file', str(conf)],
                                env=env, stdout=log,
                                stderr=subprocess.STDOUT)


def _worker_pids(proc):
    return sorted(p.pid for p in psutil.Process(proc.pid).children())


# NOTE: the test sends SIGTERM as soon as READY=1 follows the reload, as
# `systemctl reload; systemctl stop` may. On eventlet that used to hit the
# moment oslo.service's launcher had its handlers cleared (exit -15, no
# drain); see service.keep_signals_during_reload().
@pytest.mark.parametrize('backend', ['threading', 'eventlet'])
def test_start_reload_stop(tmp_path, notify_socket, backend):
    sock, path = notify_socket
    proc = _start(tmp_path, path, backend)
    try:
        ready = sd_notify.fields(sock.recv(4096))
        assert ready['READY'] == '1'
        assert ready['MAINPID'] == str(proc.pid)
        workers = _worker_pids(proc)

        # NOTE: a Type=notify-reload unit needs RELOADING=1 to carry a
        # CLOCK_MONOTONIC time (one clock for every process) from after
        # the signal.
        sent = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        proc.send_signal(signal.SIGHUP)
        reloading = sd_notify.fields(sock.recv(4096))
        assert reloading['RELOADING'] == '1'
        assert int(reloading['MONOTONIC_USEC']) >= sent
        assert sd_notify.fields(sock.recv(4096))['READY'] == '1'
        # The worker was reset in place, not replaced.
        assert _worker_pids(proc) == workers

        proc.send_signal(signal.SIGTERM)
        stopping = sd_notify.fields(sock.recv(4096))
        assert stopping['STOPPING'] == '1'
        assert stopping['MAINPID'] == str(proc.pid)
        assert proc.wait(RECV_TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        print((tmp_path / 'engine.log').read_text())

"""Guru Meditation Reports: SIGUSR2 writes a report naming every pool
thread, in a small process and in the real daemon (threading backend,
where the signal reaches the cotyledon parent first)."""

import json
import os
import pathlib
import select
import signal
import socket
import subprocess
import sys
import threading

import pytest
from oslo_config import cfg

from decision_engine.concurrency import pool as pool_mod
from decision_engine import reports

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / 'fixtures'
# Generous: only a bound on a hung process, never a speed check.
TIMEOUT = 60


def _read_until(stream, marker, timeout=TIMEOUT):
    """What ``stream`` gives up to and including the line with ``marker``.

    It reads the raw file descriptor: a buffered readline() would hide
    data from select().
    """
    fd = stream.fileno()
    data = b''
    while marker.encode() not in data or not data.endswith(b'\n'):
        ready, _, _ = select.select([fd], [], [], timeout)
        assert ready, 'no %r within %ss; got:\n%s' % (
            marker, timeout, data.decode(errors='replace'))
        chunk = os.read(fd, 65536)
        assert chunk, 'stream closed before %r:\n%s' % (
            marker, data.decode(errors='replace'))
        data += chunk
    return data.decode()


def test_sigusr2_report_names_every_pool_thread():
    proc = subprocess.Popen(
        [sys.executable, str(FIXTURES / 'gmr_fake_manager.py')],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        names = json.loads(_read_until(proc.stdout, ']'))
        assert len(names) == 3
        proc.send_signal(signal.SIGUSR2)
        report = _read_until(proc.stderr, reports.END_MARKER)
        proc.stdin.write('\n')
        proc.stdin.flush()
        assert proc.wait(TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            pipe.close()
    assert 'Guru Meditation' in report
    section = report.split(reports.SECTION_TITLE, 1)[1]
    for name in names:
        assert '%s (ident' % name in section
    assert 'Pool threads (3):' in section
    assert 'busy = 3' in section
    assert 'size = 4' in section
    assert section.count('main.<locals>.task for') == 3
    [line] = [line for line in section.splitlines()
              if 'manager.fake_periodic: ' in line]
    assert 'failures=1, ' in line and 'runs=3, ' in line


def test_pool_report_in_process():
    pool = pool_mod.WorkerPool(3)
    release = threading.Event()
    started = threading.Event()

    def blocked():
        started.set()
        release.wait()

    fut = pool.submit(blocked)
    started.wait()
    try:
        manager = type('M', (), {'pool': pool, 'started': True,
                                 'periodic_statistics': lambda self: {}})()
        data = reports.pool_report(manager)
        assert data['statistics']['busy'] == 1
        assert len(data['threads']) == 1
        assert data['threads'][0].endswith(': busy')
        assert 'blocked for' in data['running tasks'][0]
    finally:
        release.set()
        fut.result()
        pool.shutdown()


def test_pool_report_before_start():
    assert 'not started' in reports.pool_report(None)['state']
    model = reports.PoolSectionGenerator(lambda: 1 / 0)()
    model.set_current_view_type('text')
    assert 'unavailable: division by zero' in str(model)


def test_setup_off_the_main_thread_is_refused():
    conf = cfg.ConfigOpts()
    conf([])
    errors = []

    def run():
        try:
            reports.setup(conf, lambda: None)
        except RuntimeError as exc:
            errors.append(str(exc))

    thread = threading.Thread(target=run, name='not-main')
    thread.start()
    thread.join()
    assert errors and 'main thread' in errors[0] and 'not-main' in errors[0]


DAEMON = '''
import sys
from decision_engine.concurrency import backend
from decision_engine.cmd import engine as engine_cmd
from decision_engine.common import systemd

conf = engine_cmd.parse_config(sys.argv[1:])
backend.select(conf.concurrency_backend)
from decision_engine import reports
from decision_engine import service
notifier = systemd.take_notify_socket()
engine = service.EngineService(conf, notifier, conf.concurrency_backend)
launcher = service.launch(conf, engine)
reports.install(launcher, conf, engine, conf.concurrency_backend)
sys.exit(launcher.wait() or 0)
'''


def test_sigusr2_to_the_daemon_parent(tmp_path):
    """SIGUSR2 to the cotyledon parent ($MAINPID) reaches the worker, which
    reports its pool; the parent survives and stops cleanly."""
    notify_path = tmp_path / 'notify'
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify_path))
    sock.settimeout(TIMEOUT)
    conf = tmp_path / 'decision-engine.conf'
    conf.write_text('[DEFAULT]\nstate_path = %s\n[api]\nenabled = false\n'
                    '[conductor]\nworkers_pool_size = 5\n' % tmp_path)
    proc = subprocess.Popen(
        [sys.executable, '-c', DAEMON, '--config-file', str(conf)],
        env=dict(os.environ, NOTIFY_SOCKET=str(notify_path)),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert b'READY=1' in sock.recv(4096)
        proc.send_signal(signal.SIGUSR2)
        report = _read_until(proc.stderr, reports.END_MARKER)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(TIMEOUT) == 0
    finally:
        sock.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    section = report.split(reports.SECTION_TITLE, 1)[1]
    assert 'State: running' in section
    assert 'size = 5' in section
    assert 'Pool threads (' in section
    assert 'power_driver.fake.sync_power_states' in section


@pytest.mark.parametrize('marker', [reports.END_MARKER])
def test_end_marker_is_last(marker):
    text = reports._text_view({'state': 'x', 'statistics': {'a': 1}})
    assert text.splitlines()[-1] == marker

"""Security, files: what the daemon creates is its user's only.

The real daemon starts under a permissive umask (0o022, the usual login
default) with a state directory that does not exist yet; the state
directory it creates is 0700, the SQLite store and its -wal and -shm files
0600, and so are its log file and a Guru Meditation Report.
"""

import os
import signal
import stat
import time

from tests.fixtures import engine_process
from tests.fixtures import figures


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_state_store_log_and_report_are_private(tmp_path):
    engine = engine_process.EngineProcess(tmp_path / 'engine')
    state = tmp_path / 'var' / 'lib' / 'decision-engine'
    reports = tmp_path / 'reports'
    reports.mkdir()
    engine.write_config(nodes=('compute-1',))
    engine.config_path.write_text(
        engine.config_path.read_text().replace(
            'state_path = %s' % engine.tmp, 'state_path = %s' % state)
        + '\n[oslo_reports]\nlog_dir = %s\n' % reports)
    old = os.umask(0o022)
    try:
        engine.start()
    finally:
        os.umask(old)
    try:
        engine.notify.wait_for('READY')
        engine.signal(signal.SIGUSR2)
        report = _wait_for_file(reports)
        store = state / 'decision-engine.sqlite'
        created = {state: 0o700, store: 0o600, engine.log_path: 0o600,
                   report: 0o600}
        for suffix in ('-wal', '-shm'):
            extra = store.with_name(store.name + suffix)
            if extra.exists():
                created[extra] = 0o600
        modes = {str(path): oct(_mode(path)) for path in created}
    finally:
        engine.stop()
    wrong = {path: mode for path, mode in modes.items()
             if int(mode, 8) != created[type(state)(path)]}
    figures.record('security/files', checked=len(created),
                   too_open=len(wrong))
    assert not wrong, (wrong, modes)
    assert len(created) >= 4


def _wait_for_file(directory, timeout=engine_process.GUARD):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in directory.iterdir():
            if 'End of the worker pool section' in path.read_text():
                return path
        time.sleep(0.1)
    raise AssertionError('no report written in %s' % directory)

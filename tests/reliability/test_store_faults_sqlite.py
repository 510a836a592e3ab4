"""Store faults, SQLite (issue 15, part 4): the real daemon's state path
on a small file system of its own (a 4 MiB tmpfs mounted by the test: the
suite runs as root) filled up, then remounted read-only.

The claims are about the daemon: while the file system is full a write
through the API is refused with a 503 and one line naming the store's
trouble, reads still answer, the daemon stays up, and once there is room
again the next write succeeds. On a read-only state path the daemon
refuses to start with one line naming it (a live daemon's file system
cannot be remounted read-only: it has writers), and starts once it is
writable again.
"""

import errno
import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.fixtures import coordination
from tests.fixtures import engine_process
from tests.fixtures import figures

GUARD = engine_process.GUARD


def _mount(*args):
    result = subprocess.run(['mount', *args], capture_output=True,
                            text=True)
    assert result.returncode == 0, 'mount %s: %s' % (
        ' '.join(args), result.stderr.strip())


@pytest.fixture
def small_fs(tmp_path):
    path = tmp_path / 'state'
    path.mkdir()
    _mount('-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', str(path))
    yield path
    subprocess.run(['umount', '-l', str(path)], check=False)


@pytest.fixture
def engine(tmp_path, small_fs):
    proc = engine_process.EngineProcess(tmp_path / 'engine')
    port = coordination.free_port()
    proc.write_config(extra='[DEFAULT]\nstate_path = %s\n[audit]\n'
                            'min_continuous_interval = 1\n'
                            'continuous_check_interval = 1\n' % small_fs)
    proc.config_path.write_text(proc.config_path.read_text().replace(
        '[api]\nenabled = false\n',
        '[api]\nenabled = true\nport = %d\n' % port))
    proc.port = port
    yield proc
    proc.stop()


def _call(engine, method, path, body=None):
    """(status, JSON body) of one API call."""
    request = urllib.request.Request(
        'http://127.0.0.1:%d%s' % (engine.port, path), method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(request, timeout=GUARD) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _fill(directory):
    """Write until the file system says ENOSPC; :returns: the file."""
    filler = directory / 'filler'
    # NOTE: unbuffered: a buffered file keeps the chunk that did not fit
    # and tries to write it again at close, which raised ENOSPC out of the
    # with statement now and then.
    with open(filler, 'wb', buffering=0) as out:
        chunk = b'\0' * 65536
        try:
            while True:
                out.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    # NOTE: what the page cache held is written out too: a file system
    # really full, not a buffer that fills later.
    try:
        os.sync()
    except OSError:
        pass
    return filler


def _wait_for_run(engine, audit_uuid, runs):
    """The audit once a run after ``runs`` is stored (the daemon is
    another process: its answers are the event)."""
    deadline = time.monotonic() + GUARD
    while True:
        audit = _call(engine, 'GET', '/v1/audits/' + audit_uuid)[1]
        if audit['runs'] > runs and audit['state'] != 'ONGOING':
            return audit
        assert time.monotonic() < deadline, audit
        threading.Event().wait(0.1)


def _restart(engine, name):
    """The daemon again, on the same configuration and log."""
    again = engine_process.EngineProcess(engine.tmp / name)
    again.config_path, again.log_path = engine.config_path, engine.log_path
    again.port = engine.port
    again.start()
    return again


def _refused(engine, figures_row, what):
    status, body = _call(engine, 'POST', '/v1/audits',
                         {'strategy': 'dummy', 'name': what})
    figures_row['writes_tried'] += 1
    if status == 503:
        message = body['error']['message']
        assert '\n' not in message and 'database error' in message, body
        figures_row['refused_clearly'] += 1
        return message
    figures_row['other'] += 1
    raise AssertionError('%s: HTTP %d %s' % (what, status, body))


def test_full_or_read_only_store_one_line_errors_daemon_stays_up(
        engine, small_fs):
    engine.start()
    engine.notify.wait_for('READY')
    engine.wait_log(r'API listening on')
    row = dict(writes_tried=0, refused_clearly=0, other=0, recovered=0,
               daemon_exits=0, start_refused_clearly=0,
               runs_after_room_again=0)
    # A continuous audit runs every second: its runs end while the disk
    # is full, and must be stored once there is room again.
    status, first = _call(engine, 'POST', '/v1/audits', {
        'strategy': 'dummy', 'audit_type': 'CONTINUOUS', 'interval': 1})
    assert status == 201, first

    filler = _fill(small_fs)
    full = _refused(engine, row, 'disk full')
    assert 'full' in full, full
    status, listed = _call(engine, 'GET', '/v1/audits')
    assert status == 200 and first['uuid'] in json.dumps(listed)
    # NOTE: one line per refused run or start; the continuous audit may
    # have been refused more than once by now (a run a second), each time
    # with the store's own one-line reason, the one the API gave.
    refused = engine.wait_log(
        r'Audit %s: (?:its result could not be stored|not started, the '
        r'store refused it): [^\n]*' % first['uuid'])
    assert all(full in line for line in refused), refused
    runs = _call(engine, 'GET', '/v1/audits/' + first['uuid'])[1]['runs']
    filler.unlink()
    audit = _wait_for_run(engine, first['uuid'], runs)
    assert audit['state'] != 'ONGOING', audit
    row['runs_after_room_again'] = audit['runs'] - runs
    status, _ = _call(engine, 'POST', '/v1/audits', {'strategy': 'dummy'})
    assert status == 201
    row['recovered'] += 1
    row['daemon_exits'] += int(engine.proc.poll() is not None)

    # NOTE: a file system with a writer cannot be remounted read-only
    # (EBUSY), and root ignores the file's mode: the daemon is stopped,
    # the state path remounted read-only, and the daemon started on it:
    # it refuses to start, with one line naming the state path.
    engine.stop()
    _mount('-o', 'remount,ro', str(small_fs))
    try:
        again = _restart(engine, 'read-only')
        assert again.proc.wait(GUARD) != 0
        [line] = again.output().strip().splitlines()
        assert 'state path %s is not writable' % small_fs in line, line
        row['start_refused_clearly'] = 1
    finally:
        _mount('-o', 'remount,rw', str(small_fs))
    again = _restart(engine, 'writable')
    try:
        again.notify.wait_for('READY')
        again.wait_log(r'API listening on', count=2)
        status, _ = _call(again, 'POST', '/v1/audits', {'strategy': 'dummy'})
        assert status == 201
        row['recovered'] += 1
    finally:
        again.stop()
    figures.record('store-faults/sqlite-full-read-only', **row)
    assert row['daemon_exits'] == 0
    assert row['refused_clearly'] == row['writes_tried'] == 1
    assert row['recovered'] == 2 and row['start_refused_clearly'] == 1
    assert row['runs_after_room_again'] >= 1

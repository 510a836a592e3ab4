"""The daemon under oslo.service, on both backends: start, SIGHUP, SIGTERM,
systemd notifications and start-up errors.

It lives in tests/functional/cmd/ rather than tests/functional/service/:
every test starts the ``decision-engine`` console script
(decision_engine/cmd/engine.py) as a process and judges it from outside
(exit code, log, sd_notify); service.py is reached only through that entry
point, as in production."""

import signal
import socket
import subprocess
import sys

import pytest

from tests.fixtures import dbfixtures
from tests.fixtures.engine_process import EngineProcess
from tests.fixtures.engine_process import GUARD

BACKENDS = ['threading', 'eventlet']


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path):
    proc = EngineProcess(tmp_path, backend=request.param)
    yield proc
    proc.stop()


def test_ready_only_once_the_manager_has_started(engine):
    engine.write_config()
    engine.start()
    first = engine.notify.next()
    # The first message is ours, sent by the service after the manager
    # started: not cotyledon's early bare READY=1 from the parent.
    assert first.get('READY') == '1'
    assert first.get('STATUS') == 'running'
    assert first.get('MAINPID') == str(engine.proc.pid)
    log = engine.log()
    assert 'Conductor manager started: pool of 3 workers' in log
    assert 'power_driver.fake.sync_power_states every 3600s' in log
    engine.signal(signal.SIGTERM)
    assert engine.proc.wait(GUARD) == 0
    if engine.backend == 'threading':
        # Neither in the log nor on stderr (where warnings go).
        assert 'Eventlet is deprecated' not in log + engine.output()


def test_sighup_applies_mutable_options_without_restart(engine):
    engine.write_config(debug=False, sync_interval=3600)
    engine.start()
    engine.notify.wait_for('READY')
    assert 'Power-state sweep' not in engine.log()  # debug is off

    engine.write_config(debug=True, sync_interval=1)
    engine.signal(signal.SIGHUP)
    assert engine.notify.wait_for('RELOADING')['RELOADING'] == '1'
    assert engine.notify.wait_for('READY')['READY'] == '1'
    engine.wait_log(r'sync_power_states now runs every 1 s \(was 3600 s\)')
    # debug switched on and the new interval is in force: sweeps are
    # logged again and again, by the same worker process (no restart).
    engine.wait_log(r'Power-state sweep of driver fake: 1 nodes', count=2)
    assert len(engine.wait_log(r'decision-engine started \(pid')) == 1

    engine.signal(signal.SIGTERM)
    assert engine.proc.wait(GUARD) == 0


def test_sigterm_lets_the_task_in_flight_finish(engine):
    engine.write_config(bmc_delay=2, graceful=30)
    engine.start_with_sweep_in_flight()
    engine.signal(signal.SIGTERM)
    assert engine.notify.wait_for('STOPPING')['STOPPING'] == '1'
    assert engine.proc.wait(GUARD) == 0
    log = engine.log()
    assert 'Power-state sweep of driver fake: 1 nodes, 0 failed' in log
    assert 'all running tasks finished' in log


def test_sigterm_abandons_tasks_past_the_graceful_timeout(engine):
    engine.write_config(bmc_delay=600, graceful=1)
    engine.start_with_sweep_in_flight()
    engine.signal(signal.SIGTERM)
    assert engine.proc.wait(GUARD) == 0
    log = engine.log()
    assert 'Stopped with 2 task(s) still running after [conductor] ' \
           'graceful_shutdown_timeout (1 s)' in log
    assert 'sync_power_states' in log.split('Stopped with', 1)[1]


@pytest.mark.parametrize('backend', BACKENDS)
def test_bad_option_exits_nonzero_with_one_line(tmp_path, backend):
    conf = tmp_path / 'bad.conf'
    conf.write_text('[DEFAULT]\nconcurrency_backend = %s\n'
                    '[conductor]\nworkers_pool_size = many\n' % backend)
    result = subprocess.run(
        [sys.executable, '-m', 'decision_engine.cmd.engine',
         '--config-file', str(conf)],
        capture_output=True, text=True, timeout=GUARD,
        stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert result.stderr == (
        "decision-engine: error: invalid value 'many' for option "
        "[conductor] workers_pool_size: could not convert string to "
        "float: 'many'\n") or result.stderr.count('\n') == 1, result.stderr
    assert "[conductor] workers_pool_size" in result.stderr
    assert 'Traceback' not in result.stderr


def test_bad_inventory_exits_nonzero_with_one_line(tmp_path):
    engine = EngineProcess(tmp_path)
    engine.write_config()
    engine.inventory_path.write_text('- {hostname: c1, driver: redfish}\n')
    engine.start()
    try:
        assert engine.proc.wait(GUARD) != 0
        output = engine.output()
        assert "node c1 uses power driver 'redfish'" in output
    finally:
        engine.notify.close()


def test_failed_start_exits_1_once_without_traceback(engine):
    """A failure only the worker can see (the coordination service cannot
    be joined when the manager starts: nothing listens at the etcd URL)
    stops the daemon with status 1 instead of a worker restarted
    forever."""
    with socket.socket() as closed:
        closed.bind(('127.0.0.1', 0))
        port = closed.getsockname()[1]
    with dbfixtures.postgres_url() as url:
        dbfixtures.open_store(url).engine.dispose()
        engine.write_config(extra='[database]\nconnection = %s\n'
                                  '[coordination]\nbackend_url = '
                                  'etcd3+http://127.0.0.1:%d\n' % (url, port))
        engine.start()
        assert engine.proc.wait(GUARD) == 1
    output = engine.output()
    assert 'Traceback' not in output
    log = engine.log()
    assert log.count('decision-engine failed to start: ') == 1, log
    assert 'cannot join the coordination service etcd3+http://127.0.0.1:%d' \
        % port in log


def test_bad_keystone_auth_type_fails_before_the_fork(tmp_path):
    """keystonemiddleware is set up by the pre-flight as the API would:
    a [keystone_authtoken] auth_type with no plugin is status 2 and one
    line, no worker started."""
    engine = EngineProcess(tmp_path)
    engine.write_config(extra='[api]\nenabled = true\nport = 0\n'
                              'auth_strategy = keystone\n'
                              '[keystone_authtoken]\nauth_type = nope\n')
    engine.config_path.write_text(engine.config_path.read_text().replace(
        '[api]\nenabled = false\n', ''))
    try:
        engine.start()
        assert engine.proc.wait(GUARD) == 2
        [line] = engine.output().strip().splitlines()
        assert line == (
            'decision-engine: error: [api] auth_strategy = keystone: '
            'keystonemiddleware cannot be set up from [keystone_authtoken]: '
            'NoMatchingPlugin: The plugin nope could not be found')
    finally:
        engine.stop()


def test_empty_admin_roles_fails_before_the_fork(tmp_path):
    """With keystone, an empty [api] admin_roles would refuse every
    token: status 2 and one line, no worker started."""
    engine = EngineProcess(tmp_path)
    engine.write_config(extra='[api]\nenabled = true\nport = 0\n'
                              'auth_strategy = keystone\n'
                              'admin_roles =\n')
    engine.config_path.write_text(engine.config_path.read_text().replace(
        '[api]\nenabled = false\n', ''))
    try:
        engine.start()
        assert engine.proc.wait(GUARD) == 2
        [line] = engine.output().strip().splitlines()
        assert line.startswith('decision-engine: error: [api] admin_roles '
                               'is empty: '), line
    finally:
        engine.stop()


def test_bad_htpasswd_fails_before_the_fork(tmp_path):
    """The API's htpasswd file is read by the pre-flight: status 2 and one
    line, no worker started."""
    engine = EngineProcess(tmp_path)
    users = tmp_path / 'htpasswd'
    users.write_text('admin:not-a-bcrypt-hash\n')
    engine.write_config(extra='[api]\nenabled = true\nport = 0\n'
                              'auth_strategy = http_basic\n'
                              'http_basic_auth_user_file = %s\n' % users)
    engine.config_path.write_text(engine.config_path.read_text().replace(
        '[api]\nenabled = false\n', ''))
    try:
        engine.start()
        assert engine.proc.wait(GUARD) == 2
        lines = engine.output().splitlines()
        assert len(lines) == 1 and 'the hash of user admin' in lines[0]
    finally:
        engine.stop()


def test_api_port_in_use_fails_before_the_fork(engine):
    """The pre-flight binds the API's address before the launcher forks:
    exit status 2 and one line naming the options."""
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        engine.write_config(extra='[api]\nenabled = true\nport = %d\n' % port)
        engine.config_path.write_text(engine.config_path.read_text().replace(
            '[api]\nenabled = false\n', ''))
        engine.start()
        assert engine.proc.wait(GUARD) == 2
    [line] = engine.output().strip().splitlines()
    assert line == ('decision-engine: error: cannot listen on [api] host '
                    '127.0.0.1 port %d: Address already in use' % port)
    assert 'failed to start' not in engine.log()    # no worker was forked


def test_sighup_with_a_bad_value_keeps_the_running_config(engine):
    engine.write_config(sync_interval=3600)
    engine.start()
    engine.notify.wait_for('READY')

    engine.write_config(sync_interval=-5)
    engine.signal(signal.SIGHUP)
    engine.wait_log(r"Configuration not reloaded, keeping the running "
                    r"values: invalid value '-5' for option \[power\] "
                    r"sync_interval")
    # NOTE: the next SIGHUP only once this reload has ended (READY=1 after
    # RELOADING=1, as systemd waits for): cotyledon's worker drops a SIGHUP
    # that comes while it still handles the previous one.
    engine.notify.wait_for('READY')
    # Still alive and still reloadable: a good file is applied next time.
    engine.write_config(sync_interval=7)
    engine.signal(signal.SIGHUP)
    engine.wait_log(r'sync_power_states now runs every 7 s \(was 3600 s\)')
    assert 'sync_power_states now runs every -5' not in engine.log()
    engine.signal(signal.SIGTERM)
    assert engine.proc.wait(GUARD) == 0


def test_drain_deadline_is_ours_not_the_launchers(engine):
    """oslo.service's own [DEFAULT] graceful_shutdown_timeout (here 1 s)
    would hard-kill the engine before its drain (3 s) ends."""
    engine.write_config(bmc_delay=600, graceful=3,
                        extra='[DEFAULT]\ngraceful_shutdown_timeout = 1\n')
    engine.start_with_sweep_in_flight()
    engine.signal(signal.SIGTERM)
    assert engine.proc.wait(GUARD) == 0
    assert 'graceful_shutdown_timeout (3 s)' in engine.log()


@pytest.mark.parametrize('backend', BACKENDS)
def test_stop_right_after_a_reload_still_drains(tmp_path, backend):
    """``systemctl reload`` then ``stop``: SIGTERM sent the moment READY=1
    follows the reload is handled (STOPPING=1, exit 0), never the default
    action. A race, so it is tried a few times."""
    for attempt in range(4):
        engine = EngineProcess(tmp_path / str(attempt), backend=backend)
        try:
            engine.write_config()
            engine.start()
            engine.notify.wait_for('READY')
            engine.signal(signal.SIGHUP)
            engine.notify.wait_for('RELOADING')
            engine.notify.wait_for('READY')
            engine.signal(signal.SIGTERM)
            assert engine.notify.wait_for('STOPPING')['STOPPING'] == '1'
            assert engine.proc.wait(GUARD) == 0
        finally:
            engine.stop()


@pytest.mark.parametrize('case', ['empty schema', 'unreachable'])
def test_store_problems_fail_before_the_fork(tmp_path, case):
    """A server store that is not at the current schema, or not there at
    all, is refused by the pre-flight: status 2, one line naming the store
    (never its password) and what to do."""
    from tests.fixtures import dbfixtures

    engine = EngineProcess(tmp_path)
    with dbfixtures.postgres_url() as url:
        if case == 'unreachable':
            url = 'postgresql+psycopg2://postgres:s3cret@127.0.0.1:9/test'
        engine.write_config(extra='[database]\nconnection = %s\n' % url)
        engine.start()
        try:
            assert engine.proc.wait(GUARD) == 2
            [line] = engine.output().strip().splitlines()
        finally:
            engine.notify.close()
    assert line.startswith('decision-engine: error: ')
    assert 's3cret' not in line
    if case == 'empty schema':
        assert 'schema is at revision none (empty)' in line
        assert 'decision-engine-manage db sync' in line
    else:
        assert line.startswith('decision-engine: error: cannot open the '
                               'store postgresql+psycopg2://postgres:***@'
                               '127.0.0.1:9/test: ')
        assert 'Connection refused' in line

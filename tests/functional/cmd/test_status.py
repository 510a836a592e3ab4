"""``decision-engine-status upgrade check``: each check passes on a sound
deployment and fails (or warns) with one clear line on a broken one."""

import json
import pathlib
import shutil
import subprocess
import sys

import pytest
import sqlalchemy as sa
from oslo_config import cfg

from decision_engine.cmd import status
from decision_engine import conf as conf_mod
from decision_engine.db import migration
from decision_engine.db import session

REPO = pathlib.Path(__file__).resolve().parents[3]
SHIPPED_UNIT = REPO / 'etc' / 'systemd' / 'decision-engine.service'


@pytest.fixture
def deployment(tmp_path, monkeypatch, capsys):
    """``run(**sections)``: write a config, run the checks with --json,
    return ``(exit code, {check name: (result code, details)})``."""
    state = tmp_path / 'state'
    state.mkdir()
    unit_dir = tmp_path / 'systemd'
    unit_dir.mkdir()
    monkeypatch.setattr(status, 'UNIT_DIRS', (str(unit_dir),))

    def run(**sections):
        values = {'DEFAULT': {'state_path': str(state)}}
        for section, options in sections.items():
            values.setdefault(section, {}).update(options)
        path = tmp_path / 'decision-engine.conf'
        path.write_text(''.join(
            '[%s]\n%s\n' % (s, ''.join('%s = %s\n' % kv
                                       for kv in opts.items()))
            for s, opts in values.items()))
        conf = cfg.ConfigOpts()
        conf_mod.register_opts(conf)
        capsys.readouterr()
        code = status.main(['--config-file', str(path), 'upgrade', 'check',
                            '--json'], conf=conf)
        out = json.loads(capsys.readouterr().out)
        return code, {c['check']: (c['result'], c['details'])
                      for c in out['checks']}

    run.state = state
    run.unit_dir = unit_dir
    return run


def _sync(state):
    engine = session.create_engine('sqlite:///%s' % (
        state / session.SQLITE_NAME))
    migration.upgrade(engine)
    engine.dispose()


def test_sound_deployment_passes(deployment):
    _sync(deployment.state)
    shutil.copy(SHIPPED_UNIT, deployment.unit_dir)
    code, results = deployment()
    assert code == 0, results
    assert set(results) == {name for name, _ in status.Checks._upgrade_checks}
    assert all(r == 0 for r, _ in results.values()), results
    assert 'TimeoutStopSec=90s covers the drain (75 s)' in \
        results['systemd stop timeout'][1]
    assert 'at revision %s' % migration.head() in results['Store schema'][1]


def test_missing_store(deployment):
    code, results = deployment()
    assert code == 2
    result, details = results['Store schema']
    assert result == 2
    assert 'does not exist: run "decision-engine-manage db sync"' in details
    assert not (deployment.state / session.SQLITE_NAME).exists()


def test_empty_and_outdated_store(deployment):
    engine = session.create_engine('sqlite:///%s' % (
        deployment.state / session.SQLITE_NAME))
    with engine.begin() as conn:
        conn.execute(sa.text('CREATE TABLE unrelated (id INTEGER)'))
    code, results = deployment()
    assert code == 2
    assert 'has no schema' in results['Store schema'][1]
    with engine.begin() as conn:
        conn.execute(sa.text(
            'CREATE TABLE alembic_version (version_num VARCHAR(32))'))
        conn.execute(sa.text(
            "INSERT INTO alembic_version VALUES ('0000_ancient')"))
    engine.dispose()
    code, results = deployment()
    assert code == 2
    assert ('at schema revision 0000_ancient, this release needs %s'
            % migration.head()) in results['Store schema'][1]


def test_unreachable_store_hides_the_password(deployment):
    code, results = deployment(database={
        'connection': 'postgresql+psycopg2://de:s3cret@127.0.0.1:1/de',
        'connection_timeout': '2'})
    assert code == 2
    result, details = results['Store schema']
    assert result == 2
    assert details.startswith('cannot read the store postgresql+psycopg2://'
                              'de:***@127.0.0.1:1/de: ')
    assert 's3cret' not in json.dumps(results)


def test_bad_option_value(deployment):
    _sync(deployment.state)
    code, results = deployment(conductor={'workers_pool_size': '1'})
    assert code == 2
    result, details = results['Configuration values']
    assert result == 2
    assert '[conductor] workers_pool_size' in details


def test_noauth_on_a_public_address(deployment):
    _sync(deployment.state)
    code, results = deployment(api={'host': '0.0.0.0',
                                    'auth_strategy': 'noauth'})
    assert code == 2
    assert 'only allowed on a loopback address, not [api] host = 0.0.0.0' \
        in results['API exposure'][1]


def test_unknown_power_driver_and_inventory(deployment, tmp_path):
    _sync(deployment.state)
    code, results = deployment(DEFAULT={'enabled_power_drivers': 'acme'})
    assert code == 2
    assert 'acme' in results['Power drivers and inventory'][1]
    assert 'not installed' in results['Power drivers and inventory'][1]

    inventory = tmp_path / 'inventory.yaml'
    inventory.write_text('- hostname: c1\n  driver: redfish\n'
                         '  driver_info: {}\n')
    code, results = deployment(power={'inventory_file': str(inventory)})
    assert code == 2
    assert 'redfish' in results['Power drivers and inventory'][1]

    inventory.write_text('- hostname: c1\n  driver: fake\n')
    code, results = deployment(power={'inventory_file': str(inventory)})
    assert code == 0, results
    assert '1 node(s)' in results['Power drivers and inventory'][1]


def test_stop_timeout_shorter_than_the_drain(deployment):
    _sync(deployment.state)
    shutil.copy(SHIPPED_UNIT, deployment.unit_dir)
    code, results = deployment(conductor={'graceful_shutdown_timeout':
                                          '120'})
    assert code == 1
    result, details = results['systemd stop timeout']
    assert result == 1
    assert 'TimeoutStopSec=90s is not above' in details
    assert '= 135 s' in details

    dropin = deployment.unit_dir / 'decision-engine.service.d'
    dropin.mkdir()
    (dropin / 'timeout.conf').write_text('[Service]\nTimeoutStopSec=3min\n')
    code, results = deployment(conductor={'graceful_shutdown_timeout':
                                          '120'})
    assert code == 0, results
    assert 'TimeoutStopSec=180s' in results['systemd stop timeout'][1]


def test_eventlet_backend_warns(deployment):
    _sync(deployment.state)
    code, results = deployment(DEFAULT={'concurrency_backend': 'eventlet'})
    assert code == 1
    assert results['Concurrency backend'][0] == 1


def test_missing_state_path_warns(deployment, tmp_path):
    code, results = deployment(DEFAULT={'state_path':
                                        str(tmp_path / 'absent')})
    assert results['State path'][0] == 1
    assert 'does not exist' in results['State path'][1]


@pytest.mark.parametrize('text, seconds', [
    ('90', 90), ('90s', 90), ('2min', 120), ('1min 30s', 90),
    ('infinity', float('inf')), ('1.5h', 5400), ('soon', None), ('', None)])
def test_parse_timespan(text, seconds):
    assert status.parse_timespan(text) == seconds


def test_console_script(tmp_path):
    script = pathlib.Path(sys.executable).parent / 'decision-engine-status'
    assert script.exists(), 'pip install -e . to get decision-engine-status'
    conf = tmp_path / 'c.conf'
    conf.write_text('[DEFAULT]\nstate_path = %s\n' % tmp_path)
    proc = subprocess.run([str(script), '--config-file', str(conf),
                           'upgrade', 'check'], capture_output=True,
                          text=True)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert 'Upgrade Check Results' in proc.stdout
    assert 'Check: Store schema' in proc.stdout

    proc = subprocess.run([str(script), '--config-file',
                           str(tmp_path / 'absent.conf'), 'upgrade',
                           'check'], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and 'absent.conf' in lines[0], proc.stderr


def test_invalid_driver_info_fails_as_the_daemon_would(deployment, tmp_path):
    """The daemon refuses an inventory whose driver_info is invalid; the
    check must not call it a success."""
    _sync(deployment.state)
    secret = 'Pw-status-never-shown'
    inventory = tmp_path / 'inventory.yaml'
    inventory.write_text(
        '- hostname: c1\n  driver: redfish\n  driver_info: {address: '
        '"ftp://10.0.0.1", username: admin, password: "%s"}\n' % secret)
    code, results = deployment(
        DEFAULT={'enabled_power_drivers': 'redfish'},
        power={'inventory_file': str(inventory)})
    assert code == 2, results
    detail = results['Power drivers and inventory'][1]
    assert 'node c1: invalid driver_info for driver redfish' in detail
    assert "must use http or https, not 'ftp'" in detail
    assert secret not in json.dumps(results)

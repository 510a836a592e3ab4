"""The devstack plugin, sourced by bash with devstack's functions stubbed.

Each phase runs in a fresh ``bash`` with ``errexit`` and ``nounset`` (so a
misspelt variable fails the test) after sourcing the stubs, the plugin's
``settings`` and then ``plugin.sh <phase>``, as devstack does. The stubs
record every call; the tests check what each phase writes and runs.
"""

import os
import pathlib
import shutil
import subprocess

import pytest
from oslo_config import cfg

from decision_engine import conf as conf_mod
from decision_engine.conf import validation

REPO = pathlib.Path(__file__).resolve().parents[3]
DEVSTACK = REPO / 'devstack'
STUBS = pathlib.Path(__file__).with_name('devstack_stubs.sh')
SCRIPTS = [DEVSTACK / 'plugin.sh', DEVSTACK / 'settings',
           DEVSTACK / 'lib' / 'decision-engine']
ALL_SERVICES = 'key,mysql,n-api,placement-api,ir-api,decision-engine'


class Run:
    """The calls one phase made, parsed from the stubs' record."""

    def __init__(self, calls, env):
        self.calls = calls
        self.env = env

    def named(self, name):
        return [c[1:] for c in self.calls if c[0] == name]

    def ini(self):
        """``{(section, option): value}`` as iniset left it."""
        conf_file = self.env['DECISION_ENGINE_CONF']
        values = {}
        for path, section, option, value in self.named('iniset'):
            assert path == conf_file
            values[(section, option)] = value
        return values

    def index(self, name):
        return [c[0] for c in self.calls].index(name)


@pytest.fixture
def devstack(tmp_path):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    calls_file = tmp_path / 'calls'
    # decision-engine-manage is run for real by the plugin: a fake one that
    # records itself like the stubs do.
    manage = bin_dir / 'decision-engine-manage'
    manage.write_text('#!/bin/bash\n'
                      'set -- decision-engine-manage "$@"\n'
                      'IFS=$\'\\x1f\'\n'
                      'printf "%s\\n" "$*" >> "$CALLS_FILE"\n')
    manage.chmod(0o755)

    def run(*phase, services=ALL_SERVICES, **overrides):
        calls_file.write_text('')
        env = {
            'PATH': os.environ['PATH'],
            'CALLS_FILE': str(calls_file),
            'FAKE_BIN_DIR': str(bin_dir),
            'ENABLED_SERVICES': services,
            'DEST': str(tmp_path / 'opt-stack'),
            'DATA_DIR': str(tmp_path / 'data'),
            'STACK_USER': 'stack',
            'SERVICE_HOST': '192.0.2.10',
            'SERVICE_PROTOCOL': 'http',
            'KEYSTONE_SERVICE_URI': 'http://192.0.2.10/identity',
            'SERVICE_PASSWORD': 'secret',
            'SERVICE_PROJECT_NAME': 'service',
            'SERVICE_DOMAIN_NAME': 'Default',
            'REGION_NAME': 'RegionOne',
            'ENABLE_DEBUG_LOG_LEVEL': 'True',
            'DECISION_ENGINE_CONF_DIR': str(tmp_path / 'etc'),
        }
        env.update(overrides)
        script = ('set -o errexit -o nounset -o pipefail\n'
                  'source "$1"; source "$2"; shift 2\n'
                  'source "$0" "$@"\n'
                  'for v in "${!DECISION_ENGINE_@}"; do\n'
                  '    printf "%s=%s\\n" "$v" "${!v}"\n'
                  'done > "$CALLS_FILE.env"\n')
        proc = subprocess.run(
            ['bash', '-c', script, str(DEVSTACK / 'plugin.sh'),
             str(STUBS), str(DEVSTACK / 'settings'), *phase],
            env=env, capture_output=True, text=True, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        final_env = dict(
            line.split('=', 1) for line in
            pathlib.Path(str(calls_file) + '.env').read_text().splitlines()
            if '=' in line)
        calls = [line.split('\x1f')
                 for line in calls_file.read_text().splitlines()]
        return Run(calls, final_env)

    return run


def test_scripts_parse():
    for script in SCRIPTS:
        proc = subprocess.run(['bash', '-n', str(script)],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def test_shellcheck_clean():
    shellcheck = shutil.which('shellcheck')
    assert shellcheck, ('shellcheck is missing: run '
                        'tools/install-system-deps.sh')
    proc = subprocess.run(
        [shellcheck, '-x', *[str(s.relative_to(REPO)) for s in SCRIPTS],
         'tools/install-system-deps.sh', str(STUBS.relative_to(REPO))],
        capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_install(devstack):
    run = devstack('stack', 'install')
    assert run.named('setup_develop') == [[run.env['DECISION_ENGINE_DIR']]]
    assert run.env['DECISION_ENGINE_DIR'].endswith('opt-stack/decision-engine')
    assert not run.named('iniset')
    assert not run.named('run_process')


@pytest.mark.parametrize('section', ['nova', 'placement', 'ironic'])
def test_post_config_keystone_auth(devstack, section):
    ini = devstack('stack', 'post-config').ini()
    assert {k: v for (s, k), v in ini.items() if s == section} == {
        'auth_type': 'password',
        'auth_url': 'http://192.0.2.10/identity',
        'username': 'decision-engine',
        'password': 'secret',
        'project_name': 'service',
        'user_domain_name': 'Default',
        'project_domain_name': 'Default',
        'region_name': 'RegionOne',
    }


def test_post_config_store_api_and_accounts(devstack, tmp_path):
    run = devstack('stack', 'post-config')
    ini = run.ini()
    assert ini[('database', 'connection')] == (
        'mysql+pymysql://root:secretdb@127.0.0.1/decision_engine'
        '?charset=utf8')
    assert ini[('api', 'auth_strategy')] == 'keystone'
    assert ini[('api', 'host')] == '192.0.2.10'
    assert ini[('api', 'port')] == '9322'
    assert ini[('DEFAULT', 'state_path')] == str(tmp_path / 'data'
                                                 / 'decision-engine')
    conf_file = run.env['DECISION_ENGINE_CONF']
    assert run.named('configure_keystone_authtoken_middleware') == [
        [conf_file, 'decision-engine']]
    assert run.named('create_service_user') == [['decision-engine', 'admin']]
    assert run.named('get_or_create_service')[0][:2] == [
        'decision-engine', 'decision-engine']
    assert run.named('get_or_create_endpoint') == [
        ['decision-engine', 'RegionOne', 'http://192.0.2.10:9322']]
    sudo = run.named('sudo')
    assert ['install', '-d', '-o', 'stack', '-m', '750',
            str(tmp_path / 'data' / 'decision-engine')] in sudo
    assert ['install', '-d', '-o', 'stack', '-m', '755',
            str(tmp_path / 'etc')] in sudo
    assert not run.named('run_process')


def test_post_config_is_valid_for_the_engine(devstack, tmp_path):
    """The file the plugin writes passes the engine's own validation."""
    ini = devstack('stack', 'post-config').ini()
    sections = {}
    for (section, option), value in ini.items():
        sections.setdefault(section, []).append('%s = %s' % (option, value))
    path = tmp_path / 'written.conf'
    path.write_text(''.join('[%s]\n%s\n' % (s, '\n'.join(lines))
                            for s, lines in sections.items()))
    conf = cfg.ConfigOpts()
    conf_mod.register_opts(conf)
    conf(['--config-file', str(path)], project='decision-engine')
    validation.check_all(conf)
    assert conf.api.auth_strategy == 'keystone'
    assert conf.conductor.workers_pool_size == 100
    assert conf.enabled_power_drivers == ['fake']


def test_post_config_without_optional_services(devstack):
    run = devstack('stack', 'post-config', services='decision-engine')
    ini = run.ini()
    assert ('database', 'connection') not in ini
    assert not [k for k in ini if k[0] == 'ironic']
    assert ini[('api', 'auth_strategy')] == 'noauth'
    assert ini[('api', 'host')] == '127.0.0.1'
    assert not run.named('create_service_user')
    # nova and placement are what the engine models: always configured.
    assert ini[('nova', 'auth_type')] == 'password'
    assert ini[('placement', 'auth_type')] == 'password'


def test_post_config_overrides(devstack, tmp_path):
    inventory = str(tmp_path / 'inventory.yaml')
    ini = devstack('stack', 'post-config',
                   DECISION_ENGINE_WORKERS_POOL_SIZE='400',
                   DECISION_ENGINE_CONCURRENCY_BACKEND='eventlet',
                   DECISION_ENGINE_ENABLED_POWER_DRIVERS='fake,redfish',
                   DECISION_ENGINE_INVENTORY_FILE=inventory).ini()
    assert ini[('conductor', 'workers_pool_size')] == '400'
    assert ini[('DEFAULT', 'concurrency_backend')] == 'eventlet'
    assert ini[('DEFAULT', 'enabled_power_drivers')] == 'fake,redfish'
    assert ini[('power', 'inventory_file')] == inventory


def test_extra_syncs_the_store_then_starts(devstack, tmp_path):
    run = devstack('stack', 'extra')
    conf_file = str(tmp_path / 'etc' / 'decision-engine.conf')
    assert run.named('recreate_database') == [['decision_engine']]
    assert run.named('decision-engine-manage') == [
        ['--config-file', conf_file, 'db', 'sync']]
    assert run.named('run_process') == [
        ['decision-engine', '%s/decision-engine --config-file %s'
         % (tmp_path / 'bin', conf_file)]]
    assert (run.index('recreate_database')
            < run.index('decision-engine-manage')
            < run.index('run_process'))


def test_extra_without_database_service(devstack):
    run = devstack('stack', 'extra', services='decision-engine')
    assert not run.named('recreate_database')
    assert len(run.named('decision-engine-manage')) == 1
    assert len(run.named('run_process')) == 1


def test_unstack_stops_the_daemon(devstack):
    run = devstack('unstack')
    assert run.named('stop_process') == [['decision-engine']]
    assert not run.named('run_process')
    assert not run.named('sudo')


def test_clean_removes_config_and_state(devstack, tmp_path):
    run = devstack('clean')
    assert run.named('sudo') == [
        ['rm', '-rf', str(tmp_path / 'etc'),
         str(tmp_path / 'data' / 'decision-engine')]]
    assert not run.named('stop_process')


@pytest.mark.parametrize('phase', [('stack', 'install'),
                                   ('stack', 'post-config'),
                                   ('stack', 'extra'), ('unstack',),
                                   ('clean',)])
def test_nothing_when_disabled(devstack, phase):
    run = devstack(*phase, services='n-api')
    names = {c[0] for c in run.calls}
    # settings enables the service; a local.conf disable_service after it
    # wins, which is what ENABLED_SERVICES models here.
    assert names <= {'enable_service'}


def test_post_config_postgresql_names_the_driver_devstack_installs(devstack):
    """devstack installs psycopg2 and hands out ``postgresql://``, which
    SQLAlchemy 2.1 maps to psycopg 3: the written URL must load."""
    import sqlalchemy

    ini = devstack('stack', 'post-config',
                   services='key,postgresql,n-api,decision-engine',
                   DATABASE_TYPE='postgresql').ini()
    url = ini[('database', 'connection')]
    assert url == ('postgresql+psycopg2://root:secretdb@127.0.0.1/'
                   'decision_engine?client_encoding=utf8')
    # Imports the DB-API module, connects nowhere.
    sqlalchemy.create_engine(url).dispose()

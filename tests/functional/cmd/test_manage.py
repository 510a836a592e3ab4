import json
import os
import subprocess
import sys

import pytest

from decision_engine.cmd import manage
from decision_engine.db import migration
from tests.fixtures import api_engine
from tests.fixtures import dbfixtures


@pytest.fixture
def engine(tmp_path):
    engine = api_engine.Engine(tmp_path)
    yield engine
    engine.close()


def run(capsys, *argv):
    status = manage.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_create_wait_show_and_export(engine, capsys, tmp_path):
    status, out, err = run(capsys, '--url', engine.url, '-f', 'json',
                           'audit', 'create', '--strategy',
                           'server_consolidation', '--param',
                           'power_off=false', '--param',
                           'target_utilization=90', '--wait')
    assert status == 0, err
    audit = json.loads(out)
    assert audit['state'] == 'SUCCEEDED'
    assert audit['parameters'] == {'power_off': False,
                                   'target_utilization': 90}
    assert 'SUCCEEDED' in err and 'PENDING' in err
    status, out, _ = run(capsys, 'audit', 'list', '--url', engine.url)
    assert status == 0 and audit['uuid'] in out and '| state' in out
    status, out, _ = run(capsys, 'audit', 'show', audit['uuid'],
                         '--url', engine.url)
    assert 'last_action_plan_uuid' in out
    plan_uuid = audit['last_action_plan_uuid']
    status, out, _ = run(capsys, 'action-plan', 'show', plan_uuid,
                         '--url', engine.url)
    assert status == 0 and 'migrate' in out and 'hosts_released' in out
    target = tmp_path / 'plan.json'
    status, _, err = run(capsys, 'action-plan', 'export', plan_uuid,
                         '-o', str(target), '--url', engine.url)
    assert status == 0 and str(target) in err
    exported = json.loads(target.read_text())
    assert exported['uuid'] == plan_uuid and exported['actions']


def test_refusals_are_one_line_and_non_zero(engine, capsys):
    status, _, err = run(capsys, '--url', engine.url, 'audit', 'create',
                         '--strategy', 'nope')
    assert status == 1
    assert err.count('\n') == 1
    assert "HTTP 400: unknown strategy 'nope'" in err
    status, _, err = run(capsys, '--url', engine.url, 'audit', 'show',
                         'missing')
    assert status == 1 and 'HTTP 404: no audit missing' in err
    status, _, err = run(capsys, '--url', engine.url, 'audit', 'create',
                         '--strategy', 'dummy', '--scope', '[1')
    assert status == 2 and '--scope is not valid JSON' in err


def test_wait_reports_a_failed_audit(engine, capsys):
    status, out, err = run(capsys, '--url', engine.url, 'audit', 'create',
                           '--strategy', 'host_maintenance', '--param',
                           'maintenance_node=zz', '--wait')
    assert status == 1
    assert 'FAILED: cannot evacuate zz' in err


def test_cancel(engine, capsys):
    engine.audits.runner.stop()   # keep the audit PENDING
    status, out, _ = run(capsys, '--url', engine.url, '-f', 'json',
                         'audit', 'create', '--strategy', 'dummy')
    uuid = json.loads(out)['uuid']
    status, out, _ = run(capsys, '--url', engine.url, 'audit', 'cancel',
                         uuid)
    assert status == 0 and 'CANCELLED' in out
    status, _, err = run(capsys, '--url', engine.url, 'audit', 'cancel',
                         uuid)
    assert status == 1 and 'HTTP 409' in err


def test_export_to_an_unwritable_file_is_one_line(engine, capsys,
                                                  tmp_path):
    audit = engine.audits.create({'strategy': 'dummy'})
    assert engine.audits.runner.wait_idle(30)
    plan_uuid = engine.store.get_audit(audit['uuid'])[
        'last_action_plan_uuid']
    target = tmp_path / 'missing-dir' / 'plan.json'
    status, _, err = run(capsys, '--url', engine.url, 'action-plan',
                         'export', plan_uuid, '-o', str(target))
    assert status == 1 and err.count('\n') == 1
    assert 'cannot write %s' % target in err


@pytest.mark.parametrize('url', ['127.0.0.1:9322', 'ftp://127.0.0.1:1',
                                 'http://[::1'])
def test_a_malformed_url_is_bad_usage(capsys, url):
    status, _, err = run(capsys, '--url', url, 'audit', 'list')
    assert status == 2 and err.count('\n') == 1
    assert 'invalid --url' in err


def test_list_follows_every_page(tmp_path, capsys):
    engine = api_engine.Engine(tmp_path, max_limit=2)
    try:
        uuids = [engine.store.create_audit(
            {'strategy': 'dummy', 'state': 'CANCELLED'})['uuid']
            for _ in range(5)]
        status, out, _ = run(capsys, '--url', engine.url, '-f', 'json',
                             'audit', 'list')
        assert status == 0
        assert [a['uuid'] for a in json.loads(out)] == uuids
    finally:
        engine.close()


def test_unreachable_api_exits_3():
    result = subprocess.run(
        [sys.executable, '-m', 'decision_engine.cmd.manage', '--url',
         'http://127.0.0.1:1', 'audit', 'list'],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    assert result.stderr.strip() == (
        'decision-engine-manage: error: cannot reach the decision-engine '
        'API at http://127.0.0.1:1 (is the engine running? see --url)')


def test_a_reader_that_left_is_no_traceback(engine):
    """``... | head``: the pipe's reader is gone before the table is
    written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, '-m', 'decision_engine.cmd.manage', '--url',
             engine.url, 'audit', 'list'],
            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert result.stderr == ''


@pytest.mark.parametrize('kind', ['sqlite', 'postgresql'])
def test_db_sync_from_a_config_file(kind, tmp_path):
    with dbfixtures.database_url(kind, tmp_path) as url:
        config = tmp_path / 'de.conf'
        config.write_text('[DEFAULT]\nstate_path = %s\n%s' % (
            tmp_path, '' if kind == 'sqlite'
            else '[database]\nconnection = %s\n' % url))
        for _ in range(2):
            result = subprocess.run(
                [sys.executable, '-m', 'decision_engine.cmd.manage',
                 'db', 'sync', '--config-file', str(config)],
                capture_output=True, text=True, timeout=120)
            assert result.returncode == 0, result.stderr
            assert 'at revision %s' % migration.head() in result.stdout
        if kind == 'sqlite':
            url = 'sqlite:///%s' % (tmp_path / 'decision-engine.sqlite')
        store = dbfixtures.open_store(url, upgrade=False)
        store.check_schema()
        store.dispose()


def test_db_sync_bad_config_is_one_line(tmp_path):
    config = tmp_path / 'de.conf'
    config.write_text('[database]\nconnection = postgresql+psycopg2://'
                      'postgres@127.0.0.1:1/x\n')
    result = subprocess.run(
        [sys.executable, '-m', 'decision_engine.cmd.manage', 'db', 'sync',
         '--config-file', str(config)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.count('\n') == 1
    assert 'database error' in result.stderr or 'db sync failed' in \
        result.stderr


def test_http_basic_credentials(tmp_path, capsys):
    import bcrypt
    digest = bcrypt.hashpw(b'pw', bcrypt.gensalt(rounds=4)).decode()
    path = api_engine.write_htpasswd(tmp_path, ['ops:' + digest])
    engine = api_engine.Engine(tmp_path, auth_strategy='http_basic',
                               http_basic_auth_user_file=path)
    try:
        status, out, _ = run(capsys, '--url', engine.url, '--user', 'ops',
                             '--password', 'pw', 'audit', 'list')
        assert status == 0 and '| uuid' in out
        status, _, err = run(capsys, '--url', engine.url, '--user', 'ops',
                             '--password', 'nope', 'audit', 'list')
        assert status == 1 and 'HTTP 401: valid HTTP basic credentials' \
            in err
    finally:
        engine.close()


def test_value_format_picks_fields_for_the_shell(engine, capsys):
    status, out, err = run(capsys, '--url', engine.url, 'audit', 'create',
                           '--strategy', 'dummy', '--wait', '-f', 'value',
                           '-c', 'last_action_plan_uuid')
    assert status == 0, err
    plan_uuid = out.strip()
    assert '\n' not in plan_uuid and plan_uuid
    status, out, _ = run(capsys, '--url', engine.url, 'action-plan', 'show',
                         plan_uuid, '-f', 'value', '-c', 'state',
                         '-c', 'uuid')
    assert status == 0 and out == 'RECOMMENDED %s\n' % plan_uuid
    status, out, _ = run(capsys, '--url', engine.url, 'audit', 'list',
                         '-c', 'strategy')
    assert status == 0 and '| strategy' in out and '| state' not in out
    status, _, err = run(capsys, '--url', engine.url, 'audit', 'list',
                         '-f', 'value', '-c', 'nope')
    assert status == 2 and err.count('\n') == 1
    assert 'unknown -c column nope (known: uuid, name' in err

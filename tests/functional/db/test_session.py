"""The database URL people write: ``postgresql://`` (psycopg 3) and
``postgresql+psycopg2://`` both work against the real PostgreSQL, and a
missing driver is one line naming the dialect, the package and the extra,
from the daemon, ``decision-engine-manage`` and ``decision-engine-status``.
"""

import json
import subprocess
import sys

import pytest
import sqlalchemy as sa

from decision_engine.db import session
from tests.fixtures import dbfixtures

PSYCOPG_LINE = (
    "the database URL's dialect postgresql+psycopg needs the Python package "
    'psycopg, which is not installed: pip install "psycopg[binary]", or pip '
    'install "decision-engine[postgresql]"')


@pytest.mark.parametrize('scheme, driver', [
    ('postgresql', 'psycopg'),
    ('postgresql+psycopg', 'psycopg'),
    ('postgresql+psycopg2', 'psycopg2'),
])
def test_both_postgresql_url_forms_hold_a_store(scheme, driver):
    with dbfixtures.postgres_url(scheme) as url:
        assert url.startswith(scheme + '://')
        store = dbfixtures.open_store(url)
        try:
            assert store.engine.dialect.driver == driver
            audit = store.create_audit({'strategy': 'dummy'})
            assert store.get_audit(audit['uuid'])['strategy'] == 'dummy'
            with store.engine.connect() as conn:
                # The schema of this test, not public.
                assert conn.execute(sa.text('SELECT current_schema()')
                                    ).scalar().startswith('de_test_')
        finally:
            store.engine.dispose()


def test_a_driver_really_missing_is_one_line():
    # NOTE: PyMySQL is not a requirement of this project.
    with pytest.raises(session.MissingDriver) as caught:
        session.create_engine('mysql+pymysql://de@127.0.0.1/de')
    assert str(caught.value) == (
        "the database URL's dialect mysql+pymysql needs the Python package "
        'pymysql, which is not installed: pip install "PyMySQL"')


@pytest.mark.parametrize('url, message', [
    ('postgresql+nope://de@127.0.0.1/de',
     "unknown database dialect 'postgresql+nope' in the database URL"),
    ('not a url', 'invalid database URL: '),
])
def test_a_bad_url_is_one_line(url, message):
    with pytest.raises(ValueError) as caught:
        session.import_driver(url)
    assert str(caught.value).startswith(message)
    assert '\n' not in str(caught.value)


def _without_psycopg(module, *argv):
    """Run a console entry point where psycopg (3) cannot be imported, as
    on a machine that has only psycopg2; ``(exit status, stdout, stderr)``.
    """
    code = ('import sys; sys.modules["psycopg"] = None; '
            'from decision_engine.cmd import %s as m; '
            'sys.exit(m.main(%r))' % (module, list(argv)))
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def config(tmp_path):
    path = tmp_path / 'decision-engine.conf'
    path.write_text(
        '[DEFAULT]\nstate_path = %s\nenabled_power_drivers = fake\n'
        '[database]\nconnection = postgresql://postgres@127.0.0.1:5432/test\n'
        '[api]\nenabled = false\n[collector]\nenabled = false\n' % tmp_path)
    return str(path)


def test_daemon_says_which_driver_is_missing(config):
    status, out, err = _without_psycopg('engine', '--config-file', config)
    assert status == 2
    assert err == ('decision-engine: error: cannot open the store '
                   'postgresql://postgres@127.0.0.1:5432/test: %s\n'
                   % PSYCOPG_LINE)


def test_manage_db_sync_says_which_driver_is_missing(config):
    status, out, err = _without_psycopg('manage', '--config-file', config,
                                        'db', 'sync')
    assert status == 1
    assert err == 'decision-engine-manage: error: %s\n' % PSYCOPG_LINE


def test_status_says_which_driver_is_missing(config):
    status, out, err = _without_psycopg('status', '--config-file', config,
                                        'upgrade', 'check', '--json')
    assert status == 2, err
    checks = {c['check']: c for c in json.loads(out)['checks']}
    assert checks['Store schema']['details'] == (
        'cannot read the store postgresql://postgres@127.0.0.1:5432/test: %s'
        % PSYCOPG_LINE)

"""An engine with [coordination] backend_url needs a shared PostgreSQL
store: with SQLite it refuses to start, with one line."""

import pytest

from decision_engine.conductor import manager as manager_mod
from decision_engine.coordination import preflight
from tests import fresh_conf
from tests.fixtures import engine_process


# NOTE: the tests that start several engines as a cluster run one after
# another, after the rest of the functional layer (tools/run-tests.sh):
# side by side, a dozen engine processes on two cores missed their
# membership timeouts.
pytestmark = pytest.mark.cluster

LINE = ('decision-engine: error: [coordination] backend_url is set but the '
        'store is SQLite (the embedded one); several engines need one '
        'shared PostgreSQL store: set [database] connection')


def test_the_daemon_refuses_sqlite_with_one_line(tmp_path):
    engine = engine_process.EngineProcess(tmp_path)
    engine.write_config(extra='[coordination]\n'
                              'backend_url = redis://127.0.0.1:6379\n')
    engine.start()
    try:
        assert engine.proc.wait(engine_process.GUARD) == 2
        assert engine.output().strip().splitlines() == [LINE]
    finally:
        engine.stop()


def test_the_manager_refuses_a_sqlite_file(tmp_path):
    conf = fresh_conf(state_path=str(tmp_path))
    conf.set_override('backend_url', 'redis://127.0.0.1:6379',
                      'coordination')
    conf.set_override('connection', 'sqlite:///%s' % (tmp_path / 'x.db'),
                      'database')
    conf.set_override('enabled', False, 'api')
    with pytest.raises(preflight.ClusterMisconfigured) as info:
        manager_mod.ConductorManager(conf).start()
    assert 'the store is SQLite;' in str(info.value)
    assert not (tmp_path / 'x.db').exists()


def test_without_backend_url_sqlite_is_fine():
    preflight.check_store(fresh_conf())

"""Test-wide set-up.

``DECISION_ENGINE_TEST_BACKEND=eventlet`` runs the tests in an
eventlet-patched process, the way the daemon runs with
``concurrency_backend = eventlet`` (``tox -e py3-eventlet``).
"""

import os
import pathlib

import pytest

from tests import BACKEND

if BACKEND == 'eventlet':
    import eventlet
    eventlet.monkey_patch()

DEPRECATIONS = ('DeprecationWarning', 'PendingDeprecationWarning',
                'FutureWarning')
#: Deprecations of ours that are accepted, as in tox.ini: the eventlet
#: backend builds futurist's green executor, deprecated with eventlet
#: itself (doc/source/contributor/warnings.rst).
ACCEPTED = ("ignore:Using class 'GreenThreadPoolExecutor':DeprecationWarning",)


def own_deprecations_as_errors():
    """``PYTHONWARNINGS`` entries that make a deprecation warning whose
    origin is a decision_engine module an error.

    tox.ini's filterwarnings do that in the pytest process; this does it in
    the processes the tests start (the daemon, the simulator, the CLI),
    which inherit the environment. NOTE: in ``-W`` and ``PYTHONWARNINGS``
    the module is matched exactly, not as a prefix, hence one entry per
    module.
    """
    root = pathlib.Path(__file__).resolve().parents[1]
    modules = sorted(
        '.'.join(path.relative_to(root).with_suffix('').parts[:-1]
                 if path.name == '__init__.py'
                 else path.relative_to(root).with_suffix('').parts)
        for path in (root / 'decision_engine').rglob('*.py'))
    # NOTE: later entries take precedence, so the accepted ones come last.
    return ['error::%s:%s' % (category, module)
            for module in modules for category in DEPRECATIONS] + list(
                ACCEPTED)


def pytest_configure(config):
    entries = [e for e in os.environ.get('PYTHONWARNINGS', '').split(',')
               if e]
    os.environ['PYTHONWARNINGS'] = ','.join(
        entries + own_deprecations_as_errors())


#: The simulated cloud's shape when a test has no ``topology`` mark.
TOPOLOGY = {'hosts': 8, 'instances': 40, 'aggregates': 2, 'azs': 1,
            'seed': 3}


@pytest.fixture
def topology(request):
    """The simulated cloud's topology: ``Topology.generate`` with the
    keywords of the test's closest ``topology`` mark over ``TOPOLOGY``; the
    mark's ``edit`` (a callable taking the topology) adjusts it, e.g.
    ``pytestmark = pytest.mark.topology(hosts=23, instances=300, seed=7)``.
    """
    from decision_engine.simulator import Topology

    mark = request.node.get_closest_marker('topology')
    shape = dict(TOPOLOGY, **(mark.kwargs if mark else {}))
    edit = shape.pop('edit', None)
    topo = Topology.generate(**shape)
    if edit is not None:
        edit(topo)
    return topo


@pytest.fixture
def nova():
    """Makes Nova's versioned notifications (tests/fixtures/nova_events)."""
    from tests.fixtures import nova_events

    return nova_events.Nova()


@pytest.fixture
def vhost():
    """A RabbitMQ virtual host of this test only (127.0.0.1:5672,
    guest/guest): parallel runs never see each other's events."""
    from tests.fixtures import rabbit

    with rabbit.own_vhost() as name:
        yield name


@pytest.fixture
def sim(topology):
    """The simulated cloud (real HTTP on loopback) serving ``topology``."""
    from decision_engine.simulator import Simulator

    simulator = Simulator(topology, latency_ms=0, token_ttl_s=3600)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def conn(sim):
    """An openstacksdk connection to ``sim``."""
    connection = sim.connection()
    yield connection
    connection.close()


@pytest.fixture(params=['sqlite', 'postgresql'])
def url(request, tmp_path):
    """A fresh store database of each kind (PostgreSQL at 127.0.0.1:5432,
    database ``test``, a schema of its own; absent means a loud failure)."""
    from tests.fixtures import dbfixtures

    with dbfixtures.database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(url):
    """A store (db/api.Store) at head on each kind of database."""
    from tests.fixtures import dbfixtures

    store = dbfixtures.open_store(url)
    yield store
    store.dispose()


@pytest.fixture
def sqlite_store(tmp_path):
    """A store at head in a SQLite file of the test's own."""
    from tests.fixtures import dbfixtures

    store = dbfixtures.open_store('sqlite:///%s' % (tmp_path / 's.sqlite'))
    yield store
    store.dispose()


@pytest.fixture
def made():
    """A list of callables that undo what the test made, called last
    first at teardown."""
    things = []
    yield things
    for thing in reversed(things):
        thing()


@pytest.fixture
def pool():
    """The real worker pool at its smallest size (folders that need another
    size define their own)."""
    from decision_engine.concurrency import pool as pool_mod

    pool = pool_mod.WorkerPool(3, backend=BACKEND)
    yield pool
    pool.shutdown(timeout=10)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Hand the figures lines a test recorded to its teardown report
    (tests/fixtures/figures: they reach the controller under xdist)."""
    outcome = yield
    report = outcome.get_result()
    if report.when == 'teardown':
        from tests.fixtures import figures
        recorded = figures.take()
        if recorded:
            report.user_properties.append((figures.KEY, recorded))


def pytest_runtest_logreport(report):
    from tests.fixtures import figures
    for key, value in report.user_properties:
        if key == figures.KEY:
            figures.collect(value)


def pytest_terminal_summary(terminalreporter):
    """Print the reliability suite's figures lines (tests/fixtures/figures)."""
    from tests.fixtures import figures
    recorded = figures.lines()
    if recorded:
        terminalreporter.section('reliability figures')
        for line in recorded:
            terminalreporter.write_line(line)

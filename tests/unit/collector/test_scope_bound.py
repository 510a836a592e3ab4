"""The collector keeps at most ``[collector] max_scopes`` scoped models,
forgetting the least recently used, never the whole cloud nor a scope
whose build is in flight."""

import threading
import time

from decision_engine.collector import collector as collector_mod
from decision_engine.model import elements
from decision_engine.model import scope as scope_mod
from tests.fixtures import fakes


class _Builder:
    """Builds an empty model at once, or holds the build of ``held``."""

    def __init__(self):
        self.built = []
        self.held = None
        self.entered = threading.Event()
        self.release = threading.Event()

    def build(self, scope):
        if scope is not None and scope == self.held:
            self.entered.set()
            self.release.wait(30)
        self.built.append(scope)
        model = elements.ComputeModel()
        model.built_at = time.time()
        return model


def _collector(max_scopes):
    conf = fakes.make_conf(collector={'max_scopes': max_scopes})
    collector = collector_mod.ModelCollector(
        conf, None, connection_factory=lambda size: None)
    builder = _Builder()
    collector._builder = lambda: builder
    return collector, builder


def _scope(n):
    return scope_mod.Scope(include_hosts=('host-%d' % n,))


def _scoped(collector):
    return [s.scope['include_hosts'][0] for s in collector.status().scoped]


def test_scopes_kept_stay_flat_over_many_scopes():
    collector, builder = _collector(max_scopes=5)
    collector.get_model(scope=None)
    for n in range(500):
        # NOTE: max_age=0: a build, not a selection from the whole cloud.
        collector.get_model(max_age=0, scope=_scope(n))
        assert len(collector._states) <= 6
    assert len(builder.built) == 501
    assert _scoped(collector) == ['host-%d' % n for n in range(495, 500)]
    # NOTE: the whole-cloud model is kept besides the scopes.
    assert collector.status().nodes == 0
    assert collector.status().totals.builds == 501


def test_least_recently_used_scope_is_forgotten():
    collector, builder = _collector(max_scopes=2)
    collector.get_model(scope=_scope(1))
    collector.get_model(scope=_scope(2))
    collector.get_model(scope=_scope(1))        # kept: no build
    assert len(builder.built) == 2
    collector.get_model(scope=_scope(3))
    assert _scoped(collector) == ['host-1', 'host-3']
    collector.get_model(scope=_scope(2))        # forgotten: built again
    assert len(builder.built) == 4


def test_scope_whose_build_is_in_flight_is_kept():
    collector, builder = _collector(max_scopes=1)
    builder.held = _scope(0)
    thread = threading.Thread(target=collector.get_model,
                              kwargs={'scope': _scope(0)})
    thread.start()
    try:
        assert builder.entered.wait(30)
        for n in range(1, 20):
            collector.get_model(scope=_scope(n))
        assert _scoped(collector) == ['host-0', 'host-19']
    finally:
        builder.release.set()
        thread.join(30)
    assert collector.current_model(_scope(0)) is not None
    collector.get_model(scope=_scope(20))
    assert _scoped(collector) == ['host-20']


def test_lower_bound_applies_at_the_next_new_scope():
    collector, _ = _collector(max_scopes=10)
    for n in range(10):
        collector.get_model(scope=_scope(n))
    collector.conf.set_override('max_scopes', 3, group='collector')
    collector.get_model(scope=_scope(10))
    assert _scoped(collector) == ['host-8', 'host-9', 'host-10']

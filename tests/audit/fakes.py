"""Test doubles for audits: a config and a collector with the real
collector's contract (fresh-enough cache, one shared build in flight per
scope, the build fanning out on the shared pool)."""

import threading
import time

from oslo_config import cfg

from decision_engine.collector import collector as collector_mod
from decision_engine import conf as conf_mod
from decision_engine.model import scope as scope_mod


def make_conf(**overrides):
    conf = cfg.ConfigOpts()
    conf_mod.register_opts(conf)
    conf([], project='decision-engine-test')
    for group, values in overrides.items():
        for name, value in values.items():
            conf.set_override(name, value, group=group)
    return conf


class FakeCollector:
    """Builds ``factory()`` models; ``gate`` (an Event) holds builds."""

    def __init__(self, pool, factory, gate=None):
        self.pool = pool
        self.factory = factory
        self.gate = gate
        self.builds = 0
        self.build_started = threading.Event()
        self._lock = threading.Lock()
        self._cache = {}
        self._in_flight = {}

    def get_model(self, max_age=None, scope=None):
        key = scope_mod.key_of(scope)
        with self._lock:
            model = self._cache.get(key)
            if model is not None and (max_age is None
                                      or model.age() <= max_age):
                return model.copy()
            event = self._in_flight.get(key)
            owner = event is None
            if owner:
                event = self._in_flight[key] = threading.Event()
                self.builds += 1
        if owner:
            try:
                self._cache[key] = self._build()
            finally:
                with self._lock:
                    del self._in_flight[key]
                event.set()
        else:
            event.wait()
        with self._lock:
            return self._cache[key].copy()

    def status(self):
        model = self._cache.get(())
        return collector_mod.CollectorStatus(
            scope=None, built_at=model.built_at if model else None,
            age=model.age() if model else None, stale=model is None,
            reason=None if model else 'no model built yet',
            building=bool(self._in_flight),
            build_seconds=model.build_seconds if model else None,
            requests=None, nodes=len(model.nodes) if model else None,
            instances=len(model.instances) if model else None,
            builds=self.builds, failures=0, last_failure_at=None, scoped=[],
            totals=collector_mod.BuildTotals(
                builds=self.builds, failures=0, requests=0))

    def current_model(self, scope=None):
        model = self._cache.get(scope_mod.key_of(scope))
        return model.copy() if model else None

    def _build(self):
        self.build_started.set()
        if self.gate is not None:
            self.gate.wait()
        t0 = time.monotonic()
        model = self.factory()
        # Fan out per node, as the real builder does, so that nested pool
        # use is exercised.
        self.pool.fan_out(lambda node: node.hostname,
                          list(model.nodes.values()), max_workers=8)
        model.built_at = time.time()
        model.build_seconds = time.monotonic() - t0
        return model

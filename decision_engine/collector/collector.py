"""The live compute model: periodic refresh and on-demand builds.

:class:`ModelCollector` keeps the current model of the whole cloud (and of
any scope asked for). A published model is never mutated again: callers
get :meth:`~decision_engine.model.elements.ComputeModel.copy` snapshots
they may change freely.

* ``refresh_model`` is a periodic task (``[collector] period``, mutable)
  that rebuilds the whole-cloud model on the shared pool, from the start.
  It is not scheduled when no cloud is configured (nothing to refresh);
  :meth:`ModelCollector.get_model` then fails with one clear error.
* :meth:`ModelCollector.get_model` returns a snapshot at most ``max_age``
  seconds old, building one if needed. A scoped request is served from a
  fresh enough whole-cloud model when there is one (no request at all),
  otherwise by a scoped build.
* Concurrent requests for the same scope share one build in flight.
* A failed build leaves the previous model current; :meth:`status` reports
  it stale with the error. A caller that needs a fresher model than the one
  kept gets the :class:`ModelBuildError`.
* At most ``[collector] max_scopes`` scoped models are kept, besides the
  whole-cloud one: beyond that the scope used least recently is forgotten
  (its next request builds it again).
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import logging
import threading
import time
from typing import Any, Callable

from oslo_config import cfg

from decision_engine.cloud import connection as connection_mod
from decision_engine.concurrency import periodics
from decision_engine.concurrency import pool as pool_mod
from decision_engine.collector import builder as builder_mod
from decision_engine.collector import notifications as notifications_mod
from decision_engine.model import elements
from decision_engine.model import scope as scope_mod
from decision_engine.collector import transport as transport_mod
from decision_engine.model.errors import ModelBuildError

LOG = logging.getLogger(__name__)


class _ScopeState:
    """What the collector knows about one scope."""

    def __init__(self, scope):
        self.scope = scope
        self.model = None           # current, immutable
        self.failure = None         # message of the last failed build
        self.failed_at = None
        self.builds = 0
        self.failures = 0


@dataclasses.dataclass(frozen=True)
class ScopeStatus:
    """The current model of one scope: age, staleness, last build."""

    #: the scope (``None`` for the whole cloud).
    scope: dict | None
    built_at: float | None
    age: float | None
    stale: bool
    #: why it is stale, or None.
    reason: str | None
    #: a build of this scope is in flight.
    building: bool
    build_seconds: float | None
    requests: int | None
    nodes: int | None
    instances: int | None
    builds: int
    failures: int
    last_failure_at: float | None
    #: the last build's requests by service (``compute``, ``placement``).
    requests_by_service: dict | None = dataclasses.field(default=None,
                                                         kw_only=True)
    #: the Neutron queries Nova made to answer the last build's server
    #: listings, estimated from the pages listed.
    neutron_queries_estimate: int | None = dataclasses.field(
        default=None, kw_only=True)
    #: how the last build listed the servers (``[collector]
    #: servers_listing``).
    servers_listing: str | None = dataclasses.field(default=None,
                                                    kw_only=True)


@dataclasses.dataclass(frozen=True)
class BuildTotals:
    """Since start, over every scope: builds, failed builds, and the
    requests of the successful ones (counters that never go down), also by
    service, and the Neutron queries (estimated) their server listings
    cost."""

    builds: int
    failures: int
    requests: int
    requests_by_service: dict = dataclasses.field(default_factory=dict)
    neutron_queries_estimate: int = 0


@dataclasses.dataclass(frozen=True)
class CollectorStatus(ScopeStatus):
    """The whole-cloud model's :class:`ScopeStatus`, the scoped ones and
    the totals (``/v1/model``, ``/metrics``)."""

    scoped: list[ScopeStatus]
    totals: BuildTotals
    #: the notification listener's status (``[notifications]``), or None
    #: when no listener feeds the model.
    notifications: object = None


class DisabledCollector:
    """Stands in for the collector with ``[collector] enabled = false``:
    every method a caller of :class:`ModelCollector` uses, so callers hold
    a collector, never None. A model asked for is a clear error; there is
    no status, no current model and no event feed."""

    enabled: bool = False
    live: notifications_mod.NotificationListener | None = None

    def get_model(self, max_age: float | None = None,
                  scope: scope_mod.Scope | None = None
                  ) -> elements.ComputeModel:
        raise ModelBuildError('the model collector is disabled ([collector] '
                              'enabled = false)')

    get_snapshot = get_model

    def current_model(self, scope: scope_mod.Scope | None = None) -> None:
        return None

    def status(self) -> None:
        return None

    def refresh_model(self) -> None:
        return None

    def stop(self) -> None:
        pass


class ModelCollector:
    """Owner of the current compute models.

    :param conf: the engine's ``ConfigOpts``.
    :param pool: the shared :class:`~decision_engine.concurrency.pool.
        WorkerPool`.
    :param connection_factory: ``factory(pool_maxsize) -> cloud`` (an
        object with ``compute`` and ``placement`` SDK proxies), called once,
        at the first build: the manager hands its
        :class:`~decision_engine.cloud.connection.SharedCloud` and closes it
        itself; by default the collector makes (and closes) a
        :class:`~decision_engine.cloud.connection.CloudConnector`.
    :param power_states: optional callable returning ``{hostname: {'state':
        'power on'|'power off'|None, 'power_failure': bool, ...}}`` (the
        manager's ``PowerStateTracker.snapshot``); snapshots get each
        node's ``power_state`` and ``power_failure`` from it, as of the
        moment they are handed out.
    :param live: optional event feed of the whole-cloud model (the
        manager's :class:`~decision_engine.collector.notifications.
        NotificationListener`): told when a whole-cloud build begins, ends
        or fails, and, while it says it is ``fresh()``, its ``snapshot()``
        serves whole-cloud and scoped requests of any ``max_age`` without a
        build.
    """

    enabled = True

    def __init__(self, conf: cfg.ConfigOpts, pool: pool_mod.WorkerPool,
                 connection_factory: Callable[[int], object] | None = None,
                 power_states: Callable[[], dict[str, dict]] | None = None,
                 live: notifications_mod.NotificationListener | None = None
                 ) -> None:
        self.conf = conf
        self.pool = pool
        self.live = live
        self._power_states = power_states
        # NOTE: a factory handed in (the manager's SharedCloud) belongs to
        # whoever handed it; only one made here is closed by stop().
        self._owns_factory = connection_factory is None
        self._connector: connection_mod.CloudConnector | None = None
        self._factory: Callable[[int], object]
        if connection_factory is None:
            self._connector = connection_mod.CloudConnector(conf)
            self._factory = self._connector
        else:
            self._factory = connection_factory
        self._lock = threading.Lock()
        self._connect_lock = threading.Lock()
        # NOTE: least recently used first, so that the scopes kept stay
        # within [collector] max_scopes (audits may ask for any number of
        # distinct scopes over the engine's life).
        self._states: collections.OrderedDict[tuple, _ScopeState] = \
            collections.OrderedDict()
        self._in_flight: dict[tuple, concurrent.futures.Future] = {}
        self._cloud = None
        self._transport = None
        self._stopped = False
        # NOTE: since start, over every scope (scopes may be dropped), for
        # counters that never go down: builds, failed ones, and the HTTP
        # requests of the successful ones.
        self._totals: dict[str, Any] = {
            'builds': 0, 'failures': 0, 'requests': 0,
            'requests_by_service': collections.Counter(),
            'neutron_queries_estimate': 0}

    # -- the periodic --------------------------------------------------------

    @periodics.periodic(spacing=lambda self: self.conf.collector.period,
                        run_immediately=True,
                        enabled=lambda self: connection_mod.cloud_configured(
                            self.conf))
    def refresh_model(self) -> None:
        """Rebuild the whole-cloud model (shared with a build in flight)."""
        try:
            error = self._shared_build(None).exception()
        except ModelBuildError as exc:     # the collector is stopped
            error = exc
        if error is not None:
            # NOTE: logged outside any ``except`` block: oslo.log appends
            # the active exception to a warning, repeating the reason.
            LOG.warning('Periodic compute model refresh failed; the previous '
                        'model stays current and is stale: %s', error)

    # -- callers -------------------------------------------------------------

    def get_model(self, max_age: float | None = None,
                  scope: scope_mod.Scope | None = None
                  ) -> elements.ComputeModel:
        """A snapshot (a copy the caller owns) at most ``max_age`` s old.

        :param max_age: seconds; ``[collector] max_age`` when None; 0 forces
            a build (or joins one in flight).
        :param scope: a :class:`~decision_engine.model.scope.Scope`, or None
            for the whole cloud.
        :raises ModelBuildError: when a build was needed and failed.
        """
        return self._get(max_age, scope, shared=False)

    def get_snapshot(self, max_age: float | None = None,
                     scope: scope_mod.Scope | None = None
                     ) -> elements.ComputeModel:
        """As :meth:`get_model`, but a read-only snapshot that shares the
        kept model's elements: O(changes), not O(model) (what audits take;
        see :meth:`~decision_engine.model.elements.ComputeModel.
        snapshot`). Its elements must not be changed in place."""
        return self._get(max_age, scope, shared=True)

    def _get(self, max_age, scope, shared):
        if max_age is None:
            max_age = self.conf.collector.max_age
        scope = None if scope is None or scope.is_everything else scope
        if self.live is not None and max_age > 0 and self.live.fresh():
            current = self.live.snapshot()
            if current is not None:
                if scope is not None:
                    current = scope_mod.select(current, scope)
                elif not shared:
                    current = current.copy()
                return self._with_power(current)
        copy = (lambda model: model.snapshot()) if shared else \
            (lambda model: model.copy())
        current = self._fresh(None, max_age)
        if current is not None:
            return self._with_power(copy(current) if scope is None
                                    else scope_mod.select(current, scope))
        if scope is not None:
            current = self._fresh(scope, max_age)
            if current is not None:
                return self._with_power(copy(current))
        future = self._shared_build(scope)
        timeout = self.conf.collector.build_timeout + 30
        try:
            model = future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            raise ModelBuildError('no model: the build in flight did not end '
                                  'within %d s' % timeout)
        return self._with_power(copy(model))

    def _with_power(self, snapshot):
        if self._power_states is None:
            return snapshot
        states = self._power_states() or {}
        for node in list(snapshot.nodes.values()):
            record = states.get(node.hostname)
            if record is None:
                continue
            power = record.get('state')
            failure = bool(record.get('power_failure'))
            if node.power_state != power or node.power_failure != failure:
                # NOTE: replaced, never changed in place: a snapshot's
                # elements may be shared with other snapshots.
                node = node.copy()
                node.power_state = power
                node.power_failure = failure
                snapshot.add_node(node)
        return snapshot

    def current_model(self, scope: scope_mod.Scope | None = None
                      ) -> elements.ComputeModel | None:
        """The kept model (a copy), however old; None if there is none."""
        if scope is None and self.live is not None:
            current = self.live.snapshot()
            if current is not None:
                return self._with_power(current)
        with self._lock:
            state = self._states.get(scope_mod.key_of(scope))
            model = state.model if state is not None else None
        return self._with_power(model.copy()) if model is not None \
            else None

    def _fresh(self, scope, max_age):
        with self._lock:
            state = self._used(scope_mod.key_of(scope))
            model = state.model if state is not None else None
        if model is not None and max_age > 0 and model.age() <= max_age:
            return model
        return None

    # -- builds --------------------------------------------------------------

    def _shared_build(self, scope):
        """The future of the build of ``scope``: a new one, run in the
        calling thread, or the one already in flight."""
        key = scope_mod.key_of(scope)
        with self._lock:
            if self._stopped:
                raise ModelBuildError('the model collector is stopped')
            future = self._in_flight.get(key)
            if future is not None:
                return future
            future = self._in_flight[key] = concurrent.futures.Future()
            state = self._used(key)
            if state is None:
                state = self._states[key] = _ScopeState(scope)
                self._forget_unused()
        live = self.live if key == () else None
        if live is not None:
            live.begin_build()
        try:
            model = self._builder().build(scope)
        except Exception as exc:
            if live is not None:
                live.build_failed()
            if not isinstance(exc, ModelBuildError):
                LOG.exception('Unexpected error in a compute model build')
                exc = ModelBuildError('model build failed: %s: %s'
                                      % (type(exc).__name__, exc))
            with self._lock:
                state.failure = str(exc)
                state.failed_at = time.time()
                state.failures += 1
                state.builds += 1
                self._totals['builds'] += 1
                self._totals['failures'] += 1
                del self._in_flight[key]
            future.set_exception(exc)
        else:
            if live is not None:
                live.finish_build(model.copy())
            with self._lock:
                state.model = model
                state.failure = None
                state.builds += 1
                self._totals['builds'] += 1
                self._totals['requests'] += model.requests or 0
                self._totals['requests_by_service'].update(
                    model.requests_by_service)
                self._totals['neutron_queries_estimate'] += \
                    model.neutron_queries_estimate or 0
                del self._in_flight[key]
            future.set_result(model)
        return future

    def _used(self, key):
        """The state of ``key`` (or None), marked used now. Under the
        lock."""
        state = self._states.get(key)
        if state is not None:
            self._states.move_to_end(key)
        return state

    def _forget_unused(self):
        """Drop the least recently used scopes beyond ``[collector]
        max_scopes``. Under the lock."""
        scoped = len(self._states) - (1 if () in self._states else 0)
        excess = scoped - self.conf.collector.max_scopes
        if excess <= 0:
            return
        # NOTE: never the whole cloud, nor a scope whose build is in
        # flight: that build would store its model in a forgotten state.
        for key in [key for key in self._states
                    if key != () and key not in self._in_flight][:excess]:
            del self._states[key]

    def _builder(self):
        transport = self._get_transport()
        return builder_mod.ModelBuilder(
            transport, self.pool, builder_mod.BuildSettings.from_conf(
                self.conf))

    def transport(self) -> (transport_mod.SdkTransport
                            | transport_mod.DirectTransport):
        """The collector's transport (for the listener's targeted
        fetches); connects on first use."""
        return self._get_transport()

    def _get_transport(self):
        wanted = self.conf.collector.http_transport
        with self._connect_lock:
            # NOTE: requests at once: the SDK's connection pools and the
            # direct transport's keep as many connections per endpoint.
            connections = max(self.pool.size,
                              self.conf.collector.build_workers)
            if self._cloud is None:
                cloud = None
                try:
                    cloud = self._factory(connections)
                    # NOTE: the proxies are made on first use; make the
                    # model's two here so that a cloud that cannot be
                    # reached fails once, with this message, not in every
                    # build request.
                    for service_type in connection_mod.MODEL_SERVICES:
                        getattr(cloud, service_type)
                except ModelBuildError:
                    raise
                except Exception as exc:
                    if cloud is not None and hasattr(cloud, 'close'):
                        cloud.close()
                    raise ModelBuildError('cannot connect to the cloud: %s'
                                          % exc)
                self._cloud = cloud
            if self._transport is None or self._transport.name != wanted:
                if self._transport is not None:
                    self._transport.close()
                self._transport = transport_mod.make_transport(
                    self._cloud, wanted, connections)
            return self._transport

    # -- state ---------------------------------------------------------------

    def status(self) -> CollectorStatus:
        """The :class:`CollectorStatus`: age, staleness and reason, last
        build time and request count of the whole-cloud model (top level)
        and of each scope kept (``scoped``); under ``totals``, the builds,
        failed builds and requests of successful builds of every scope
        since start."""
        max_age = self.conf.collector.max_age
        now = time.time()
        with self._lock:
            states = list(self._states.items())
            building = set(self._in_flight)
            totals = dict(self._totals)
            totals['requests_by_service'] = dict(
                totals['requests_by_service'])
        scopes = []
        result = None
        for key, state in states:
            entry = _describe(state, now, max_age, key in building)
            if key == ():
                result = entry
            else:
                scopes.append(ScopeStatus(**entry))
        if result is None:
            result = _describe(_ScopeState(None), now, max_age,
                               () in building)
        return CollectorStatus(
            scoped=scopes, totals=BuildTotals(**totals),
            notifications=self.live.status() if self.live else None,
            **result)

    def stop(self) -> None:
        """Refuse new builds, close the connection (and stop an embedded
        simulator)."""
        with self._lock:
            self._stopped = True
        with self._connect_lock:
            if self._transport is not None:
                self._transport.close()
            if self._owns_factory and self._cloud is not None:
                self._cloud.close()
            self._transport = self._cloud = None
        if self._connector is not None:
            self._connector.close()


def _describe(state, now, max_age, building):
    model = state.model
    age = None if model is None else now - model.built_at
    if model is None:
        stale, reason = True, state.failure or 'no model built yet'
    elif state.failure is not None:
        stale, reason = True, 'last build failed: %s' % state.failure
    elif age > max_age:
        stale, reason = True, ('older than [collector] max_age (%d s)'
                               % max_age)
    else:
        stale, reason = False, None
    return dict(
        scope=state.scope.to_dict() if state.scope is not None else None,
        built_at=model.built_at if model else None,
        age=age, stale=stale, reason=reason, building=building,
        build_seconds=model.build_seconds if model else None,
        requests=model.requests if model else None,
        requests_by_service=dict(model.requests_by_service) if model
        else None,
        neutron_queries_estimate=model.neutron_queries_estimate if model
        else None,
        servers_listing=model.servers_listing if model else None,
        nodes=len(model.nodes) if model else None,
        instances=len(model.instances) if model else None,
        builds=state.builds, failures=state.failures,
        last_failure_at=state.failed_at)

"""The conductor-style manager: the one place that wires the engine together.

One manager per engine process. :meth:`ConductorManager.start` builds, in
this order, and hands each part the pieces it needs (no part reaches back
into the manager):

1. the one :class:`~decision_engine.concurrency.pool.WorkerPool`
   (``[conductor] workers_pool_size``);
2. the store (:meth:`~decision_engine.db.api.Store.open_for_engine`: the
   embedded SQLite store is created or migrated, a server database must be
   at the current schema);
3. the engine's one cloud connection
   (:class:`~decision_engine.cloud.connection.SharedCloud`, connected on
   first use; it starts the embedded simulator when ``[simulator]
   embedded`` says so);
4. the power-state tracker and the enabled power drivers (stevedore);
5. the model collector, which joins the tracker's power states to the
   models it hands out;
6. the metrics gatherer of the configured datasource (none without
   ``[datasource] prometheus_url``), and the audit service it is handed to;
7. the applier (it resumes the plans this engine left running); in a
   cluster, the plan claims too (plans the ring gives this engine, and
   the running plans of engines that left);
8. the HTTP API server (``[api] enabled``);
9. one ``futurist.periodics.PeriodicWorker`` running the periodic tasks of
   the manager, the drivers, the collector and the audit service on the
   pool: last, so that a start failing earlier has begun nothing it must
   then wait for.

:meth:`reset` applies a mutated configuration; :meth:`stop` drains and
releases everything in the reverse order.
"""

import dataclasses
from importlib import metadata as importlib_metadata
import logging
import threading
import time

from futurist import periodics as futurist_periodics

from decision_engine.api import auth as api_auth
from decision_engine.api import engine_api as engine_api_mod
from decision_engine.api import server as api_server
from decision_engine.applier import applier as applier_mod
from decision_engine.applier import cluster_plans
from decision_engine.applier.actions import base as action_base
from decision_engine.audit import runner as audit_runner
from decision_engine.audit import service as audit_service_mod
from decision_engine.cloud import connection as connection_mod
from decision_engine.cloud import watcher_notifications
from decision_engine.collector import collector as collector_mod
from decision_engine.collector import fetch as fetch_mod
from decision_engine.collector import notifications as notifications_mod
from decision_engine.collector import protocols as collector_protocols
from decision_engine.concurrency import periodics
from decision_engine.concurrency import pool as pool_mod
from decision_engine.coordination import cluster as cluster_mod
from decision_engine.coordination import preflight as cluster_preflight
from decision_engine.coordination import protocols as cluster_protocols
from decision_engine.datasources import loader as datasource_loader
from decision_engine.db import api as db_api
from decision_engine.drivers import base as drivers_base
from decision_engine.drivers import loader
from decision_engine.drivers import power_state

LOG = logging.getLogger(__name__)


def _version():
    try:
        return importlib_metadata.version('decision-engine')
    except importlib_metadata.PackageNotFoundError:
        return None


@dataclasses.dataclass(frozen=True)
class EngineStatus:
    """What ``/v1/status``, ``/metrics`` and the report read of the engine;
    each field is the typed status of the part that produces it."""

    pool: pool_mod.PoolStatistics | None
    periodics: dict[str, periodics.PeriodicStatistics]
    #: ``{hostname: power-state record}`` (``PowerStateTracker.snapshot``).
    power_states: dict[str, dict]
    power_sweeps: dict[str, drivers_base.SweepStatistics]
    audits: audit_runner.AuditStatistics | None
    applier: applier_mod.ApplierStatistics | None = None
    cluster: cluster_mod.ClusterStatus | None = None
    #: ``{driver: nodes this engine owns on the ring now}``.
    node_share: dict[str, int] = dataclasses.field(default_factory=dict)


class ConductorManager:

    def __init__(self, conf, backend='threading'):
        self.conf = conf
        self.backend = backend
        self.pool = None
        self.store = None
        self.cloud = None
        self.drivers = {}
        self.tracker = None
        #: a ModelCollector, or its DisabledCollector stand-in (also
        #: before the start and with ``[collector] enabled = false``).
        self.collector: collector_protocols.Collector = \
            collector_mod.DisabledCollector()
        self.listener = None
        self.metrics = None
        self.audits = None
        self.applier = None
        self.plan_claims = None
        self.cluster = None
        self.api_server = None
        self.periodic_tasks = []
        self._worker = None
        self._worker_thread = None
        #: replaced periodic workers (SIGHUP) whose last runs may still be
        #: going; stop() waits for them.
        self._retired_workers = []
        self._started = threading.Event()

    # -- life cycle ----------------------------------------------------------

    def start(self):
        conf = self.conf
        # Refuse a bad API setup before anything starts.
        if conf.api.enabled:
            api_auth.check_bind(conf)
        cluster_preflight.check_store(conf)
        size = conf.conductor.workers_pool_size
        self.pool = pool_mod.WorkerPool(
            size, backend=self.backend,
            reserved=pool_mod.reserved_workers(
                size, conf.conductor.reserved_workers_percentage),
            default_fan_out=conf.conductor.periodic_max_workers)
        try:
            self._build_parts()
        except Exception:
            self._release()
            raise
        # NOTE: periodics start last: a start that fails above must not
        # have begun model builds or sweeps it then has to wait for.
        self._start_periodic_worker(
            [task.callable for task in self.periodic_tasks])
        self._started.set()
        LOG.info('Conductor manager started: pool of %d workers (%d reserved '
                 'from periodics, %s backend), %d periodic task(s): %s',
                 size, self.pool.reserved, self.backend,
                 len(self.periodic_tasks),
                 ', '.join('%s every %ss' % (t.name, t.spacing)
                           for t in self.periodic_tasks) or 'none')

    def _build_parts(self):
        conf = self.conf
        self.store = db_api.Store.open_for_engine(conf)
        # Watcher's notifications ([oslo_messaging_notifications]).
        watcher_notifications.configure(conf, conf.host)
        self.cluster = self._build_cluster()
        self.cloud = connection_mod.SharedCloud(conf, max(
            self.pool.size, conf.collector.build_workers,
            conf.power.sync_workers))
        # NOTE: in a cluster the failures of each node are kept in the
        # store too, so a node that moves keeps its count and flag.
        self.tracker = power_state.PowerStateTracker(
            conf.power.max_retries,
            ledger=self.store if self.cluster.enabled else None,
            engine=conf.host)
        self.drivers = loader.load_drivers(
            conf, self.pool, self.tracker, loader.load_nodes(conf),
            cloud=self.cloud)
        for driver in self.drivers.values():
            driver.owns = self.cluster.owns
        tasks = periodics.collect(self, prefix='manager')
        # NOTE: an engine alone is its own leader: it runs the chores too.
        tasks += periodics.collect(self.cluster, prefix='coordination')
        for name, driver in self.drivers.items():
            tasks += periodics.collect(driver,
                                       prefix='power_driver.%s' % name)
        if conf.collector.enabled:
            if conf.notifications.transport_url:
                self.listener = notifications_mod.NotificationListener(
                    conf, self.pool)
            self.collector = collector_mod.ModelCollector(
                conf, self.pool, connection_factory=self.cloud,
                power_states=self.tracker.snapshot, live=self.listener)
            tasks += periodics.collect(self.collector, prefix='collector')
            if self.listener is not None:
                self.listener.start(
                    self.collector.transport,
                    fetch_mod.FetchSettings.from_conf(conf.collector),
                    self.collector.refresh_model)
        self.metrics = datasource_loader.load(conf, self.pool)
        self.audits = audit_service_mod.AuditService(
            conf, self.store, self.pool, self.collector,
            cluster=self.cluster, metrics=self.metrics)
        tasks += periodics.collect(self.audits, prefix='audit')
        self.periodic_tasks = tasks
        # NOTE: late-bound: the applier is built below, after the audits
        # start (an auto_trigger plan stored before that is refused and
        # stays RECOMMENDED, logged).
        self.audits.runner.on_plan = self._start_plan
        self.audits.start()
        collector = self.collector
        self.applier = applier_mod.Applier(
            conf, self.store, self.pool,
            action_base.ActionContext(conf, self.cloud,
                                      power_drivers=self.drivers,
                                      owns_cloud=False),
            on_plan_end=(lambda plan_uuid: collector.refresh_model())
            if collector.enabled else None,
            placement=self.cluster.owner_of
            if self.cluster.enabled else None)
        self.applier.start()
        if self.cluster.enabled:
            self.plan_claims = cluster_plans.PlanClaims(
                conf, self.store, self.applier, self.cluster)
            tasks += periodics.collect(self.plan_claims, prefix='applier')
        # NOTE: after the parts exist: a membership change makes the new
        # owners poll their new nodes, claim orphaned audits and resume
        # the plans of engines that left, at once.
        self.cluster.add_listener(self._membership_changed)
        # NOTE: the cluster-wide chores, on the leader only.
        self.cluster.add_leader_chore(self.audits.requeue_all_orphans)
        self.cluster.add_leader_chore(
            lambda: cluster_plans.expire_recommended_plans(conf, self.store))
        if conf.api.enabled:
            self.api_server = api_server.start(conf, engine_api_mod.EngineAPI(
                self.audits, self.store, self.collector, status=self.status,
                applier=self.applier))

    def _start_plan(self, plan_uuid):
        """Start a plan for an ``auto_trigger`` audit."""
        if self.applier is None:
            raise applier_mod.ApplierStopped('the applier is not running yet')
        return self.applier.start_plan(plan_uuid)

    def _build_cluster(self) -> cluster_protocols.Cluster:
        conf = self.conf
        if not conf.coordination.backend_url:
            return cluster_mod.SoleCluster(conf)
        api_url = ('http://%s:%d' % (conf.api.host, conf.api.port)
                   if conf.api.enabled else None)
        cluster = cluster_mod.Cluster(conf, {'api_url': api_url},
                                      version=_version())
        cluster.start()
        return cluster

    def _membership_changed(self, joined, left):
        for driver in self.drivers.values():
            try:
                self.pool.submit(driver.poll_gained_nodes)
            except (pool_mod.NoFreeWorker, pool_mod.PoolShutDown):
                # NOTE: the next sweep polls them; a full pool is busy
                # sweeping already.
                LOG.info('No free worker to poll the nodes gained by %s '
                         'at once; its next sweep will', driver.name)
        self.audits.claim_cluster_audits()
        if self.plan_claims is not None:
            self.plan_claims.claim()

    def _release(self, timeout=0):
        """Release every part built so far, in the reverse order.

        :returns: the tasks abandoned because they were still running.
        """
        if self.api_server is not None:
            self.api_server.stop()
            self.api_server = None
        if self.applier is not None:
            # NOTE: before leaving: the survivor that resumes this
            # engine's plans must find no step being dispatched here.
            self.applier.stop(timeout)
        if self.cluster is not None:
            # NOTE: leave first, so the others take over at once (a
            # SIGTERM hands over without waiting for membership_timeout);
            # owns() is False from now on, so the sweep still running
            # polls nothing more and an audit still running is not saved
            # (its new owner runs it again).
            self.cluster.stop()
        if self.audits is not None:
            self.audits.stop(timeout)
        if self.listener is not None:
            self.listener.stop()
        abandoned = self.pool.shutdown(timeout=timeout)
        self.collector.stop()
        if self.metrics is not None:
            self.metrics.datasource.close()
        for driver in self.drivers.values():
            driver.close()
        if self.cloud is not None:
            self.cloud.close()
        if self.store is not None:
            self.store.dispose()
        watcher_notifications.reset()
        return abandoned

    def _start_periodic_worker(self, callables):
        self._worker = futurist_periodics.PeriodicWorker(
            [(cb, None, None) for cb in callables],
            executor_factory=futurist_periodics.ExistingExecutor(
                self.pool.periodic_executor()),
            schedule_strategy='last_started')
        # NOTE: the scheduling loop runs on a thread of its own, not on a
        # pool worker as Ironic does: it would pin one worker forever,
        # a third of the pool at the minimum size of 3.
        self._worker_thread = threading.Thread(
            target=self._worker.start, kwargs={'allow_empty': True},
            name='periodic-scheduler', daemon=True)
        self._worker_thread.start()

    def reset(self):
        """Apply the mutable options after the config files changed.

        Nothing running is interrupted. When a periodic's spacing changed,
        the periodic worker is replaced by one scheduled with the new
        spacings (futurist cannot reschedule a queued run); each task's
        next run then comes one new interval from now, and a run of the old
        worker still in progress is never overlapped (see PeriodicTask).
        """
        if not self._started.is_set():
            return
        changed = [task.refresh() for task in self.periodic_tasks]
        if any(changed):
            old = self._worker
            old.stop()
            self._start_periodic_worker(
                [task.rescheduled() for task in self.periodic_tasks])
            # NOTE: a retired worker whose start() has returned has nothing
            # left for stop() to wait for; kept, every reload that changes
            # a spacing would add one for the life of the process.
            self._retired_workers = [
                worker for worker in self._retired_workers
                if not worker.wait(0)] + [old]
        self.pool.default_fan_out = self.conf.conductor.periodic_max_workers
        self.tracker.set_max_retries(self.conf.power.max_retries)

    def stop(self, timeout=None):
        """Stop the periodics, then wait up to ``timeout`` for running work.

        The API stops serving and the audit service stops dispatching
        first; running audits and sweeps then get what is left of
        ``timeout`` on the pool (an audit still running is settled as
        interrupted at the next start).

        :returns: the tasks abandoned because they were still running.
        """
        if not self._started.is_set():
            return []
        self._started.clear()
        timeout = (self.conf.conductor.graceful_shutdown_timeout
                   if timeout is None else timeout)
        started = time.monotonic()
        # NOTE: stop() only sets the tombstone: no new periodic starts, the
        # running ones carry on and are waited for by the pool below.
        self._worker.stop()
        abandoned = self._release(timeout)
        for worker in self._retired_workers + [self._worker]:
            worker.wait(max(0.0, timeout - (time.monotonic() - started)))
        if abandoned:
            LOG.warning('Stopped with %d task(s) still running after '
                        '[conductor] graceful_shutdown_timeout (%d s): %s',
                        len(abandoned), timeout,
                        ', '.join('%s (%.1f s)' % t for t in abandoned))
        else:
            LOG.info('Conductor manager stopped; all running tasks finished')
        return abandoned

    # -- state -------------------------------------------------------------

    @property
    def started(self):
        return self._started.is_set()

    def periodic_statistics(self):
        """``{task name: PeriodicStatistics}``."""
        return {task.name: task.statistics() for task in self.periodic_tasks}

    def status(self):
        """The engine's :class:`EngineStatus`."""
        return EngineStatus(
            pool=self.pool.statistics() if self.pool else None,
            periodics=self.periodic_statistics(),
            power_states=self.tracker.snapshot() if self.tracker else {},
            power_sweeps={name: driver.sweep_statistics()
                          for name, driver in self.drivers.items()},
            audits=self.audits.statistics() if self.audits else None,
            applier=self.applier.statistics() if self.applier else None,
            cluster=self.cluster.status() if self.cluster else None,
            node_share={name: driver.owned_count()
                        for name, driver in self.drivers.items()})

    # -- periodic tasks of the manager itself ------------------------------

    @periodics.periodic(
        spacing=lambda self: self.conf.conductor.stats_interval)
    def log_statistics(self):
        stats = self.pool.statistics()
        LOG.debug('Worker pool: %(busy)d busy, %(queued)d queued, %(free)d '
                  'free of %(size)d; %(executed)d executed, %(failed)d '
                  'failed, %(rejected)d rejected', dataclasses.asdict(stats))

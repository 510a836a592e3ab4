"""The conductor-style manager: owner of the pool, periodics and drivers.

One manager per engine process. :meth:`ConductorManager.start` builds, in
this order, the one :class:`~decision_engine.conductor.pool.WorkerPool`
(``[conductor] workers_pool_size``), the enabled power drivers (stevedore),
and one ``futurist.periodics.PeriodicWorker`` running the periodic tasks of
the manager and of every driver on that pool. :meth:`reset` applies a
mutated configuration; :meth:`stop` drains.
"""

import logging
import threading
import time

from futurist import periodics as futurist_periodics

from decision_engine.applier import applier as applier_mod
from decision_engine.applier.actions import base as action_base
from decision_engine.audit import wiring as audit_wiring
from decision_engine.cloud import connection as connection_mod
from decision_engine.conductor import periodics
from decision_engine.conductor import pool as pool_mod
from decision_engine.drivers import loader
from decision_engine.drivers import power_state
from decision_engine.model import collector as collector_mod

LOG = logging.getLogger(__name__)


class ConductorManager:

    def __init__(self, conf, backend='threading'):
        self.conf = conf
        self.backend = backend
        self.pool = None
        self.drivers = {}
        self.tracker = None
        self.collector = None
        self.audit_engine = None
        self.applier = None
        self.cloud_connector = None
        self.periodic_tasks = []
        self._worker = None
        self._worker_thread = None
        self._retired_workers = []
        self._started = threading.Event()

    # -- life cycle ----------------------------------------------------------

    def start(self):
        conf = self.conf
        size = conf.conductor.workers_pool_size
        self.pool = pool_mod.WorkerPool(
            size, backend=self.backend,
            reserved=pool_mod.reserved_workers(
                size, conf.conductor.reserved_workers_percentage),
            default_fan_out=conf.conductor.periodic_max_workers)
        pool_mod.set_pool(self.pool)
        self.tracker = power_state.PowerStateTracker(conf.power.max_retries)
        nodes = loader.load_nodes(conf)
        self.drivers = loader.load_drivers(conf, self.pool, self.tracker,
                                           nodes)
        self.periodic_tasks = periodics.collect(self, prefix='manager')
        for name, driver in self.drivers.items():
            self.periodic_tasks += periodics.collect(
                driver, prefix='power_driver.%s' % name)
        # NOTE: one connector for the collector and the applier, so both
        # reach the same cloud (with [simulator] embedded, one simulator).
        self.cloud_connector = connection_mod.CloudConnector(conf)
        if conf.collector.enabled:
            self.collector = collector_mod.ModelCollector(
                conf, self.pool, power_states=self.tracker.snapshot,
                connection_factory=self.cloud_connector)
            self.periodic_tasks += periodics.collect(self.collector,
                                                     prefix='collector')
        try:
            self.audit_engine = audit_wiring.AuditEngine(conf, self)
            self.periodic_tasks += self.audit_engine.periodic_tasks()
            self._start_applier()
            self.audit_engine.start()
        except Exception:
            self._abort_start()
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

    def _start_applier(self):
        """The applier: the store of the audit engine, this pool, the
        shared cloud connector and the power drivers; the model is rebuilt
        when a plan ends."""
        conf = self.conf
        size = conf.conductor.workers_pool_size
        context = action_base.ActionContext(
            conf, lambda: self.cloud_connector(size),
            power_drivers=self.drivers)
        collector = self.collector
        self.applier = applier_mod.Applier(
            conf, self.audit_engine.store, self.pool, context,
            on_plan_end=(lambda plan_uuid: collector.refresh_model())
            if collector is not None else None)
        self.applier.start()

    def _abort_start(self):
        """Release what a failed :meth:`start` had set up."""
        if self.applier is not None:
            self.applier.stop(0)
        if self.audit_engine is not None:
            self.audit_engine.stop(0)
            self.audit_engine.close()
        if self.collector is not None:
            self.collector.stop()
        self.cloud_connector.close()
        for driver in self.drivers.values():
            driver.close()
        self.pool.shutdown(timeout=0)
        pool_mod.set_pool(None)

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
            self._retired_workers.append(old)
        self.pool.default_fan_out = self.conf.conductor.periodic_max_workers
        self.tracker.set_max_retries(self.conf.power.max_retries)

    def stop(self, timeout=None):
        """Stop the periodics, then wait up to ``timeout`` for running work.

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
        self.applier.stop(timeout)
        self.audit_engine.stop(timeout)
        abandoned = self.pool.shutdown(timeout=timeout)
        self.audit_engine.close()
        if self.collector is not None:
            self.collector.stop()
        self.cloud_connector.close()
        for driver in self.drivers.values():
            driver.close()
        for worker in self._retired_workers + [self._worker]:
            worker.wait(max(0.0, timeout - (time.monotonic() - started)))
        if abandoned:
            LOG.warning('Stopped with %d task(s) still running after '
                        '[conductor] graceful_shutdown_timeout (%d s): %s',
                        len(abandoned), timeout,
                        ', '.join('%s (%.1f s)' % t for t in abandoned))
        else:
            LOG.info('Conductor manager stopped; all running tasks finished')
        pool_mod.set_pool(None)
        return abandoned

    # -- state -------------------------------------------------------------

    @property
    def started(self):
        return self._started.is_set()

    def periodic_statistics(self):
        """``{task name: {spacing, runs, failures, skipped, ...}}``."""
        return {task.name: task.statistics() for task in self.periodic_tasks}

    def status(self):
        return {
            'pool': self.pool.statistics() if self.pool else None,
            'periodics': self.periodic_statistics(),
            'power_states': self.tracker.snapshot() if self.tracker else {},
            'power_sweeps': {name: driver.sweep_statistics()
                             for name, driver in self.drivers.items()},
            'applier': self.applier.statistics() if self.applier else None,
        }

    # -- periodic tasks of the manager itself ------------------------------

    @periodics.periodic(spacing=lambda: _conf().conductor.stats_interval)
    def log_statistics(self):
        stats = self.pool.statistics()
        LOG.debug('Worker pool: %(busy)d busy, %(queued)d queued, %(free)d '
                  'free of %(size)d; %(executed)d executed, %(failed)d '
                  'failed, %(rejected)d rejected', stats)


def _conf():
    from decision_engine.conf import CONF
    return CONF

"""Running audits on the shared pool, a bounded number at a time.

:meth:`AuditRunner.enqueue` puts an audit in a FIFO; the runner's
:class:`~decision_engine.concurrency.dispatcher.Dispatcher` (a thread of
its own, not a pool worker) hands audits to the pool while fewer than
``[audit] max_concurrent_audits`` are admitted; one the full pool refuses
stays queued (first) and is offered again as soon as an audit ends, or
after the dispatcher's full-pool retry delay. An audit counts as queued
until its run starts on a worker, then as running. Each run takes one pool
worker for its whole duration; the model build it may trigger fans out on
the same pool (and runs inline when the pool is full, so an audit always
completes, even with a pool of 3).

One run: PENDING -> ONGOING with this engine (``[DEFAULT] host``) as the
audit's owner, in one compare-and-set (a cancelled audit, or one another
engine on the same database took first, is skipped),
get a model no older than ``[audit] max_model_age`` from the collector,
apply the scope, gather the metrics the strategy needs for that scope (on
the pool, through the gatherer the manager hands in; missing ones fail the
run naming them unless ``missing_metrics`` is ``skip``), run the strategy,
replay the plan to verify it, and store plan, timings and the final state
in one transaction (dropped if the audit was cancelled meanwhile).
"""

import collections
import dataclasses
import functools
import logging
import threading
import time

from decision_engine.audit import schedule
from decision_engine.audit import scope as scope_mod
from decision_engine.audit import strategy_call
from decision_engine.cloud import watcher_notifications
from decision_engine.common import measurements as metrics_mod
from decision_engine.common import states
from decision_engine.common import timeutils
from decision_engine.concurrency import dispatcher as dispatcher_mod
from decision_engine.datasources import gather as gather_mod
from decision_engine.db import api as db_api
from decision_engine.strategies import base as strategy_base
from decision_engine.strategies import loader
from decision_engine.strategies import verify

LOG = logging.getLogger(__name__)

# NOTE: the longest the dispatcher waits between two looks at the queue (so
# that a reloaded, mutable, max_concurrent_audits takes effect without an
# event), and the shortest between two tries of a store that refused.
_IDLE_WAKE = 1.0


@dataclasses.dataclass(frozen=True)
class RunnerStatistics:
    """Audits in this engine (``/v1/status``, ``/metrics``)."""

    queued: int
    running: int
    max_concurrent: int
    runs: int
    succeeded: int
    failed: int
    cancelled: int


@dataclasses.dataclass(frozen=True)
class AuditStatistics(RunnerStatistics):
    """:class:`RunnerStatistics` and the store's audits by state."""

    by_state: dict[str, int]


class AuditRunner:
    """Queue and run audits; see the module docstring."""

    def __init__(self, conf, store, pool, collector, strategies=None,
                 owns=None, metrics=None):
        self.conf = conf
        #: ``owns(audit)``: whether this engine is the audit's owner on the
        #: cluster's ring (always yes for an engine working alone).
        self.owns = owns or (lambda audit: True)
        self.store = store
        self.pool = pool
        self.collector = collector
        #: the :class:`~decision_engine.datasources.gather.MetricsGatherer`,
        #: or None when no datasource is configured.
        self.metrics = metrics
        self._strategies = strategies or loader.get
        self.host = conf.host
        self._cond = threading.Condition()
        #: audits waiting for admission, in order.
        self._queue = collections.deque()
        #: audits admitted (handed to the dispatcher) whose run has not
        #: started on a worker yet.
        self._admitted = set()
        #: ``_queue`` and ``_admitted``: the audits counted as queued.
        self._queued = set()
        self._running = set()
        self._dispatcher = dispatcher_mod.Dispatcher(
            pool, self._pump, name='audit-dispatcher', idle_wake=_IDLE_WAKE)
        #: ``{audit uuid: (values, plan)}``: finished runs the store
        #: refused to save (disk full, database down); saved again by the
        #: dispatcher until it takes them.
        self._unsaved = {}
        #: audits the store refused to start: queued again by the pump.
        self._retry = set()
        #: when the dispatcher may ask the store again for the two above.
        self._store_retry_at = 0.0
        self.counters = collections.Counter()
        self.durations = collections.deque(maxlen=1000)
        #: ``on_plan(plan_uuid)``: starts a plan of an ``auto_trigger``
        #: audit as soon as it is stored (the manager hands the applier's
        #: start); None: such plans stay RECOMMENDED.
        self.on_plan = None

    # -- life cycle ----------------------------------------------------------

    def start(self):
        self._dispatcher.start()

    def stop(self, timeout=None):
        self._dispatcher.stop(timeout)

    # -- queue -------------------------------------------------------------

    def enqueue(self, audit_uuid):
        """Queue an audit to run; a no-op if it is queued or running."""
        with self._cond:
            if audit_uuid in self._queued or audit_uuid in self._running:
                return False
            self._queue.append(audit_uuid)
            self._queued.add(audit_uuid)
            self._cond.notify_all()
        self._dispatcher.wake()
        return True

    def statistics(self):
        """This engine's :class:`RunnerStatistics`."""
        with self._cond:
            return RunnerStatistics(
                queued=len(self._queued), running=len(self._running),
                max_concurrent=self.conf.audit.max_concurrent_audits,
                **{k: self.counters[k] for k in (
                    'runs', 'succeeded', 'failed', 'cancelled')})

    def wait_idle(self, timeout=None):
        """Block until nothing is queued or running (for tests and tools).

        :returns: whether it became idle in time.
        """
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._queued and not self._running, timeout)

    def _pump(self):
        """In the dispatcher thread: save the runs the store refused,
        queue again the audits it refused to start, and return the runs
        ``[audit] max_concurrent_audits`` admits now, as pool tasks."""
        now = time.monotonic()
        if (self._unsaved or self._retry) and now >= self._store_retry_at:
            # NOTE: the dispatcher calls the pump at every end of a run and
            # every full-pool retry: a store that refuses is asked again at
            # most once per _IDLE_WAKE, as the runner's own loop did.
            self._store_retry_at = now + _IDLE_WAKE
            if self._unsaved:
                self._save_unsaved()
            if self._retry and not self._unsaved:
                with self._cond:
                    retry, self._retry = self._retry, set()
                for audit_uuid in sorted(retry):
                    self.enqueue(audit_uuid)
        tasks = []
        with self._cond:
            while self._queue and (len(self._running) + len(self._admitted)
                                   < self.conf.audit.max_concurrent_audits):
                audit_uuid = self._queue.popleft()
                self._admitted.add(audit_uuid)
                tasks.append(functools.partial(self._run_one, audit_uuid))
        return tasks

    def _save_unsaved(self):
        """In the dispatcher thread: save the runs the store refused, in
        order, until it refuses again."""
        with self._cond:
            unsaved = list(self._unsaved.items())
        for audit_uuid, (values, plan) in unsaved:
            try:
                stored, plan_uuid = self.store.save_run(
                    audit_uuid, values, plan, owner=self.host)
            except db_api.StoreError:
                return      # still refused: at the next turn
            with self._cond:
                self._unsaved.pop(audit_uuid, None)
            LOG.info('Audit %s: its result is stored now%s', audit_uuid,
                     '' if stored is not None else
                     ' (dropped: cancelled or taken over meanwhile)')

    def _run_one(self, audit_uuid):
        with self._cond:
            self._admitted.discard(audit_uuid)
            self._queued.discard(audit_uuid)
            self._running.add(audit_uuid)
            self._cond.notify_all()
        try:
            self.run(audit_uuid)
        except db_api.StoreError as exc:
            # NOTE: refused before the run changed anything (the take, or
            # the reads before it): the audit is as it was; run it again
            # once the store answers.
            LOG.error('Audit %s: not started, the store refused it: %s; '
                      'queued again', audit_uuid, exc)
            with self._cond:
                self._retry.add(audit_uuid)
        except Exception:
            LOG.exception('Audit %s: unexpected error', audit_uuid)
        finally:
            with self._cond:
                self._running.discard(audit_uuid)
                self._cond.notify_all()

    # -- one run -----------------------------------------------------------

    def run(self, audit_uuid):
        """Run one audit now, in the calling thread.

        :returns: the audit as stored at the end (None if it was not
            PENDING when the run began).
        """
        started = timeutils.utcnow()
        if not self.owns(self.store.get_audit(audit_uuid)):
            LOG.info('Audit %s belongs to another engine of the cluster; '
                     'not running it here', audit_uuid)
            return None
        audit = self.store.take(audit_uuid, self.host, due_by=started,
                                started_at=started, state_reason=None)
        if audit is None:
            LOG.info('Audit %s is no longer PENDING and due (cancelled, '
                     'or taken by another engine); not running it',
                     audit_uuid)
            return None
        self.counters['runs'] += 1
        notify = watcher_notifications.get()
        notify.audit('update', audit, old_state=states.PENDING)
        notify.audit_phase('strategy', 'start', audit)
        t0 = time.monotonic()
        LOG.info('Audit %s (%s, strategy %s) started', audit_uuid,
                 audit['audit_type'], audit['strategy'])
        plan = None
        try:
            plan = self._decide(audit)
        except _RunFailed as exc:
            values = self._failed_values(audit, str(exc), exc.final)
            notify.audit_phase('strategy', 'error', audit, error=str(exc))
        except Exception as exc:
            LOG.exception('Audit %s failed', audit_uuid)
            values = self._failed_values(
                audit, 'unexpected error: %s: %s'
                % (type(exc).__name__, exc), final=False)
            notify.audit_phase('strategy', 'error', audit, error=exc)
        else:
            values = self._done_values(audit, plan)
            notify.audit_phase('strategy', 'end', audit)
            if plan is not None:
                notify.audit_phase('planner', 'start', audit)
        try:
            stored, plan_uuid = self.store.save_run(audit_uuid, values, plan,
                                                    owner=self.host)
        except db_api.StoreError as exc:
            LOG.error('Audit %s: its result could not be stored: %s; it '
                      'is saved again until the store takes it',
                      audit_uuid, exc)
            with self._cond:
                self._unsaved[audit_uuid] = (values, plan)
            return None
        elapsed = time.monotonic() - t0
        if stored is None:
            self.counters['cancelled'] += 1
            LOG.info('Audit %s was cancelled (or taken over by another '
                     'engine) while running; result dropped', audit_uuid)
            return self.store.get_audit(audit_uuid)
        self.durations.append(elapsed)
        self._notify_saved(notify, audit, stored, plan_uuid,
                           planned=plan is not None)
        outcome = 'failed' if values.get('state') == states.FAILED or (
            plan is None) else 'succeeded'
        self.counters[outcome] += 1
        LOG.info('Audit %s %s in %.2f s%s', audit_uuid, outcome, elapsed,
                 ': action plan %s' % plan_uuid if plan_uuid else
                 ': %s' % values.get('state_reason'))
        if plan_uuid and stored.get('auto_trigger'):
            self._trigger(audit_uuid, plan_uuid)
        return stored

    def _notify_saved(self, notify, audit, stored, plan_uuid, planned):
        """The notifications of a stored run: the new plan, the end of
        planning, the audit's new state."""
        if not notify.enabled:
            return
        if plan_uuid:
            try:
                plan = self.store.get_action_plan(plan_uuid)
            except Exception as exc:
                notify.audit_phase('planner', 'error', stored, error=exc)
            else:
                notify.action_plan('create', plan, stored)
                notify.audit_phase('planner', 'end', stored)
        elif planned:
            notify.audit_phase('planner', 'end', stored)
        if stored['state'] != audit['state']:
            notify.audit('update', stored, old_state=audit['state'])

    def _trigger(self, audit_uuid, plan_uuid):
        """Start the plan of an ``auto_trigger`` audit; a plan that
        cannot start (it overlaps a running one, no applier) stays
        RECOMMENDED, and the log says why."""
        if self.on_plan is None:
            LOG.warning('Audit %s: auto_trigger, but this engine has no '
                        'applier; action plan %s stays RECOMMENDED',
                        audit_uuid, plan_uuid)
            return
        try:
            self.on_plan(plan_uuid)
        except Exception as exc:
            LOG.warning('Audit %s: auto_trigger could not start action plan '
                        '%s: %s; it stays RECOMMENDED', audit_uuid, plan_uuid,
                        ' '.join(str(exc).split()) or type(exc).__name__)
        else:
            LOG.info('Audit %s: action plan %s started (auto_trigger)',
                     audit_uuid, plan_uuid)

    def _decide(self, audit):
        try:
            call = strategy_call.check(
                audit['strategy'], audit['parameters'], audit['scope'],
                strategies=self._strategies)
        except (LookupError, strategy_call.InvalidCall) as exc:
            raise _RunFailed(strategy_call.one_line(exc), final=True)
        strategy_cls, params, scope = call.strategy, call.parameters, \
            call.scope
        wait0 = started = time.monotonic()
        try:
            # NOTE: a read-only snapshot (O(changes)): the audit reads it.
            model = self.collector.get_snapshot(
                max_age=self.conf.audit.max_model_age,
                scope=scope_mod.model_scope(scope))
        except Exception as exc:
            raise _RunFailed('no model of the cloud: %s' % exc)
        waited = time.monotonic() - wait0
        timeout = self.conf.audit.audit_timeout
        if waited > timeout:
            raise _RunFailed('timed out after %.0f s waiting for the model '
                             '([audit] audit_timeout is %d s)'
                             % (waited, timeout))
        # NOTE: a run suspended meanwhile still ends, with its plan.
        if self.store.get_audit(audit['uuid'])['state'] not in (
                states.ONGOING, states.SUSPENDED):
            return None
        age = model.age()
        t0 = time.monotonic()
        context = scope_mod.resolve(
            model, scope, self.conf.audit.opt_out_metadata_key)
        required = strategy_cls.required_metrics(params)
        if required:
            context.metrics = self._measure(audit, context, required, params)
        try:
            solution = strategy_cls().execute(context, params)
        except strategy_base.StrategyError as exc:
            raise _RunFailed(str(exc))
        elapsed = time.monotonic() - started
        if elapsed > timeout:
            raise _RunFailed('timed out after %.0f s ([audit] audit_timeout '
                             'is %d s); the plan was dropped'
                             % (elapsed, timeout))
        try:
            verify.check_plan(context, solution.actions)
        except verify.InvalidPlan as exc:
            raise _RunFailed('strategy %s produced an invalid plan: %s'
                             % (audit['strategy'], exc))
        return {
            'strategy': audit['strategy'],
            'actions': solution.actions,
            'indicators': solution.indicators,
            'message': solution.message,
            'model_age': age,
            'build_seconds': model.build_seconds,
            'wait_seconds': waited,
            'strategy_seconds': time.monotonic() - t0,
        }

    def _measure(self, audit, context, required, params):
        """The checked measurements ``required`` for ``context``."""
        if self.metrics is None:
            raise _RunFailed(
                'strategy %s needs metrics (%s) and no datasource is '
                'configured ([datasource] prometheus_url is not set)'
                % (audit['strategy'], ', '.join(required)))
        try:
            measurements = self.metrics.gather(
                metrics_mod.needed(context, required))
            return metrics_mod.apply_policy(
                context, measurements, required,
                params.get('missing_metrics', metrics_mod.FAIL))
        except (gather_mod.GatheringError,
                metrics_mod.MissingMetrics) as exc:
            raise _RunFailed(str(exc))

    def _timings(self, plan):
        if plan is None:
            return {}
        return {k: plan[k] for k in ('model_age', 'build_seconds',
                                     'strategy_seconds')}

    def _done_values(self, audit, plan):
        now = timeutils.utcnow()
        values = dict(self._timings(plan), finished_at=now)
        if audit['audit_type'] == states.CONTINUOUS:
            values.update(self._next_cycle(audit, now, 'last run succeeded'))
        else:
            # NOTE: an EVENT audit's trigger is used: it waits for the next.
            values.update(state=states.SUCCEEDED, state_reason=None,
                          next_run_at=None)
        return values

    def _failed_values(self, audit, reason, final):
        now = timeutils.utcnow()
        if audit['audit_type'] == states.CONTINUOUS and not final:
            return dict(self._next_cycle(audit, now,
                                         'last run failed: %s' % reason),
                        finished_at=now)
        return {'state': states.FAILED, 'finished_at': now,
                'state_reason': reason, 'next_run_at': None}

    @staticmethod
    def _next_cycle(audit, now, reason):
        """A CONTINUOUS audit after a run: PENDING until its next run, or
        SUCCEEDED when that would be after its ``end_time``."""
        next_run = schedule.next_run(audit['interval'], audit['cron'], now)
        if schedule.past_window(audit.get('end_time'), next_run):
            return {'state': states.SUCCEEDED, 'next_run_at': None,
                    'state_reason': '%s; end_time %s reached' % (
                        reason, audit['end_time'].isoformat())}
        return {'state': states.PENDING, 'next_run_at': next_run,
                'state_reason': reason}


class _RunFailed(Exception):
    def __init__(self, reason, final=False):
        super().__init__(reason)
        self.final = final

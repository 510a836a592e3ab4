"""The applier: action plans carried out on the shared pool.

The manager builds one :class:`Applier` per engine with the store, the
pool and an :class:`~decision_engine.applier.actions.base.ActionContext`
(the cloud connection and the power drivers), calls :meth:`Applier.start`
after the store is open and :meth:`Applier.stop` before it drains the
pool.

Life of a plan: :meth:`start_plan` moves it RECOMMENDED -> PENDING in the
store (refused while a running plan touches one of its hosts), then
PENDING -> ONGOING, and the plan's actions run as their dependencies
(:mod:`.graph`) and the limits (``[applier] max_parallel_actions``,
``max_migrations_per_host``) allow. Each step of an action is a pool
task; an action is ONGOING in the store before the cloud is asked
anything, and its end is stored before its dependents start.

Resume: at :meth:`start` the plans this engine (``[DEFAULT] host``) left
PENDING, ONGOING or CANCELLING go on. An action left ONGOING is never
replayed blindly: its plugin's ``resume()`` reads the cloud (a migration:
already on the destination -> SUCCEEDED, still moving -> poll again, idle
on the source -> run again, after its pre-condition). In a cluster the
same path resumes the plans of an engine that left
(:mod:`.cluster_plans`).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from oslo_config import cfg

from decision_engine.applier import run as run_mod
from decision_engine.applier import statistics as statistics_mod
from decision_engine.applier import steps as steps_mod
from decision_engine.applier.actions import base as action_base
from decision_engine.applier.actions import loader as loader_mod
from decision_engine.cloud import watcher_notifications
from decision_engine.common import plan_states as st
from decision_engine.common import timeutils
from decision_engine.concurrency import dispatcher as dispatcher_mod
from decision_engine.concurrency import pool as pool_mod
from decision_engine.db import api as db_api
from decision_engine.db import protocols as db_protocols

LOG = logging.getLogger(__name__)

#: seconds before a plan's end refused by the store is written again,
#: doubled each time up to END_RETRY_MAX_DELAY (see Applier._store_end).
END_RETRY_DELAY = 0.5
END_RETRY_MAX_DELAY = 10.0


ApplierStatistics = statistics_mod.ApplierStatistics


class PlanNotCancellable(RuntimeError):
    """The plan has already ended."""


class ApplierStopped(RuntimeError):
    """The applier is not running (the engine is stopping)."""


class Applier(steps_mod.ActionSteps):

    def __init__(self, conf: cfg.ConfigOpts, store: db_protocols.PlanStore,
                 pool: pool_mod.WorkerPool,
                 context: action_base.ActionContext,
                 loader: loader_mod.ActionLoader | None = None,
                 on_plan_end: Callable[[str], object] | None = None,
                 owner: str | None = None,
                 placement: Callable[[str], str | None] | None = None
                 ) -> None:
        self.conf = conf
        self.store = store
        self.pool = pool
        self.context = context
        self.loader = loader or loader_mod.ActionLoader()
        self.on_plan_end = on_plan_end
        self.owner = owner or conf.host
        #: ``placement(plan_uuid)``: the engine that runs a plan started
        #: here (the cluster ring's owner of its uuid; None: this one).
        self.placement = placement
        self._lock = threading.RLock()
        self._runs: dict[str, Any] = {}
        self._launching: set[str] = set()
        #: ``{plan uuid: Event}`` of the plans out of ``_runs`` whose end
        #: is not stored yet (see :meth:`wait`).
        self._done: dict[str, threading.Event] = {}
        self._ongoing = 0
        self._migrations_on: dict[str, int] = {}
        self._running = False
        #: set by stop(): ends the waits between tries of a plan's end.
        self._stopped = threading.Event()
        self._dispatcher = dispatcher_mod.Dispatcher(
            pool, self._pump, name='applier-dispatcher')
        self._stats: dict[str, Any] = {
            'plans_started': 0, 'plans_resumed': 0, 'plans_ended': {},
            'actions_ended': {}, 'last_plan_seconds': None,
            'peak_parallel': 0, 'peak_migrations': 0, 'model_refresh': None}

    # -- life cycle ---------------------------------------------------------

    def start(self) -> None:
        self._stopped.clear()
        self._running = True
        self._dispatcher.start()
        for plan in self.store.list_plans(st.PLAN_RUNNING, owner=self.owner):
            LOG.warning('Resuming action plan %s (%s when this engine '
                        'stopped)', plan['uuid'], plan['state'])
            self.adopt(plan, resumed=True)

    def stop(self, timeout: float | None = None) -> None:
        """Dispatch nothing more. Steps running on the pool finish (the
        manager's drain); actions between two polls stay ONGOING in the
        store and are resumed at the next start."""
        self._running = False
        self._stopped.set()
        self._dispatcher.stop(timeout)
        self.context.close()

    # -- operations ---------------------------------------------------------

    def start_plan(self, plan_uuid: str) -> dict[str, Any]:
        """Start a RECOMMENDED plan. :returns: the plan (PENDING or
        ONGOING).

        :raises decision_engine.db.api.PlanConflict: hosts of a running
            plan.
        :raises decision_engine.db.api.PlanNotStartable: not RECOMMENDED.
        :raises ApplierStopped: the engine is stopping.
        """
        if not self._running:
            raise ApplierStopped('the applier is not running')
        owner = (self.placement(plan_uuid) if self.placement else None) \
            or self.owner
        try:
            plan = self.store.start_plan(plan_uuid, owner)
            self._notify_plan(plan_uuid, None, st.RECOMMENDED)
        except db_api.PlanNotStartable:
            plan = self.store.get_action_plan(plan_uuid)
            if plan['state'] != st.PENDING or plan['owner'] != owner \
                    or self.is_running(plan_uuid):
                raise
            # NOTE: PENDING for that engine but not running here: its
            # start was applied and the answer lost (or the launch was
            # refused); launching it twice is safe (compare-and-set).
        if owner != self.owner:
            # NOTE: the owner's claim periodic picks it up (a cluster: any
            # engine's API accepts the start, the ring's owner runs it).
            LOG.info('Action plan %s started; engine %s runs it',
                     plan_uuid, owner)
            return plan
        with self._lock:
            self._stats['plans_started'] += 1
        self._launch_or_retry(plan)
        try:
            return self.store.get_action_plan(plan_uuid)
        except db_api.StoreError:
            return plan     # PENDING and this engine's: it will run

    def _launch_or_retry(self, plan):
        """Launch a plan the store has made PENDING for this engine; a
        store that refuses it now does not leave it PENDING for good
        (until the next start): it is launched again after a poll
        interval."""
        try:
            self.adopt(plan)
        except db_api.StoreError as exc:
            LOG.error('Action plan %s: not launched, the store refused it: '
                      '%s; trying again', plan['uuid'], exc)

            def again():
                if not self._running:
                    return      # PENDING: resumed at the next start
                try:
                    current = self.store.get_action_plan(plan['uuid'])
                except db_api.StoreError:
                    current = plan
                if current['state'] in st.PLAN_RUNNING and \
                        not self.is_running(plan['uuid']):
                    self._launch_or_retry(current)
            self._dispatcher.call_later(self.conf.applier.poll_interval,
                                        again)

    def adopt(self, plan: dict[str, Any], resumed: bool = False) -> bool:
        """Run ``plan`` (PENDING, ONGOING or CANCELLING, owned by this
        engine in the store) unless it already runs here. ONGOING actions
        go through the resume path: the cloud says whether each is done,
        still moving or to run again.

        :returns: whether it was launched here now.
        """
        with self._lock:
            if not self._running or plan['uuid'] in self._runs \
                    or plan['uuid'] in self._launching:
                return False
            self._launching.add(plan['uuid'])
            if resumed:
                self._stats['plans_resumed'] += 1
        try:
            self._launch(plan)
        finally:
            with self._lock:
                self._launching.discard(plan['uuid'])
        return True

    def is_running(self, plan_uuid: str) -> bool:
        with self._lock:
            return plan_uuid in self._runs or plan_uuid in self._launching

    def cancel_plan(self, plan_uuid: str) -> dict[str, Any]:
        """PENDING actions become CANCELLED, ONGOING ones finish, then the
        plan is CANCELLED. :returns: the plan.

        :raises PlanNotCancellable: when the plan has already ended.
        """
        now = timeutils.utcnow()
        plan = self.store.transition_plan(
            plan_uuid, [st.RECOMMENDED], state=st.CANCELLED,
            state_reason='cancelled by request', finished_at=now)
        if plan is not None:
            self._notify_plan(plan_uuid, None, st.RECOMMENDED)
            return plan
        before = (self.store.get_action_plan(plan_uuid)['state']
                  if watcher_notifications.get().enabled else None)
        plan = self.store.transition_plan(
            plan_uuid, [st.PENDING, st.ONGOING], state=st.CANCELLING,
            state_reason='cancel requested')
        if plan is not None:
            self._notify_plan(plan_uuid, None, before)
        if plan is None:
            current = self.store.get_action_plan(plan_uuid)
            if current['state'] == st.CANCELLING:
                return current
            raise PlanNotCancellable(
                'action plan %s has already ended (%s)'
                % (plan_uuid, current['state']))
        with self._lock:
            run = self._runs.get(plan_uuid)
            dropped = []
            if run is not None:
                run.cancelling = True
                run.plan = run_mod.plan_fields(plan)
                dropped = run.drop_pending(st.CANCELLED)
                run.unsettled += 1
        # NOTE: every PENDING action of the plan in the store, not just the
        # ones dropped here: a step already handed to the pool then finds
        # its action CANCELLED and does not start it.
        try:
            self.store.transition_actions(
                plan_uuid, None, [st.PENDING], state=st.CANCELLED,
                state_reason='the plan was cancelled', finished_at=now)
        finally:
            if run is not None:
                with self._lock:
                    run.unsettled -= 1
        self._count_ended(run, dropped, st.CANCELLED)
        if run is not None:
            self._maybe_end(run)
        return self.store.get_action_plan(plan_uuid)

    def wait(self, plan_uuid: str, timeout: float | None = None) -> bool:
        """Block until a plan run by this applier ends (for tests and the
        benchmark): its end is in the store. :returns: whether it ended.

        A plan neither running here nor ending has ended (or never ran
        here): True at once."""
        with self._lock:
            run = self._runs.get(plan_uuid)
            event = run.done if run is not None else self._done.get(
                plan_uuid)
        return True if event is None else event.wait(timeout)

    # -- statistics -----------------------------------------------------------

    def statistics(self) -> ApplierStatistics:
        """:returns: :class:`ApplierStatistics`."""
        # NOTE: the store first, outside the lock.
        in_store = statistics_mod.actions_in_store(self.store)
        with self._lock:
            return statistics_mod.collect(
                in_store, dict(self._stats), list(self._runs.values()),
                self._ongoing, self._dispatcher)

    # -- running plans --------------------------------------------------------

    def _is_migration(self, action_type):
        try:
            return self.loader.get(action_type).is_migration
        except LookupError:
            return False

    def _launch(self, plan):
        if plan['state'] == st.PENDING:
            started = self.store.transition_plan(
                plan['uuid'], [st.PENDING], state=st.ONGOING,
                started_at=timeutils.utcnow())
            if started is None:
                # NOTE: cancelled between start and here: end it CANCELLED
                # (a plan left CANCELLING would hold its hosts).
                plan = self.store.get_action_plan(plan['uuid'])
                if plan['state'] != st.CANCELLING:
                    return
            else:
                plan = started
                self._notify_plan(plan['uuid'], 'start', st.PENDING)
        run = run_mod.PlanRun(plan, self.conf.applier.max_migrations_per_host,
                              self._is_migration)
        run.done = threading.Event()
        if run.initial_skips:
            self._store_skips(run, run.initial_skips)
        if run.cancelling:
            dropped = run.drop_pending(st.CANCELLED)
            self.store.transition_actions(
                run.uuid, None, [st.PENDING], state=st.CANCELLED,
                state_reason='the plan was cancelled',
                finished_at=timeutils.utcnow())
            self._count_ended(run, dropped, st.CANCELLED)
        with self._lock:
            self._runs[run.uuid] = run
            for position in sorted(run.resuming):
                self._admit(run, position)
                run.dispatched.add(position)
                self._dispatcher.call_later(
                    0, self._task(self._step_resume, run, position))
        self._maybe_end(run)
        self._dispatcher.wake()

    def _admit(self, run, position):
        self._ongoing += 1
        for host in run.migration_hosts.get(position, ()):
            self._migrations_on[host] = self._migrations_on.get(host, 0) + 1
        self._stats['peak_parallel'] = max(self._stats['peak_parallel'],
                                           self._ongoing)
        self._stats['peak_migrations'] = max(
            self._stats['peak_migrations'],
            max(self._migrations_on.values(), default=0))

    def _release(self, run, position):
        self._ongoing -= 1
        for host in run.migration_hosts.get(position, ()):
            self._migrations_on[host] -= 1

    def _pump(self):
        """In the dispatcher thread: the ready actions the limits admit,
        as pool tasks."""
        if not self._running:
            return []
        limit = self.conf.applier.max_parallel_actions
        per_host = self.conf.applier.max_migrations_per_host
        tasks = []
        with self._lock:
            for run in list(self._runs.values()):
                if run.cancelling or run.stopped_by is not None:
                    continue

                def admit(position, run=run):
                    if self._ongoing >= limit:
                        return None
                    hosts = run.migration_hosts.get(position, ())
                    if any(self._migrations_on.get(h, 0) >= per_host
                           for h in hosts):
                        return False
                    self._admit(run, position)
                    return True
                for position in run.take_ready(admit):
                    tasks.append(self._task(self._step_start, run,
                                            position))
                if self._ongoing >= limit:
                    break
        return tasks

    def _task(self, step, run, position):
        def task():
            try:
                step(run, position)
            except Exception as exc:
                LOG.exception('Action %d of plan %s failed unexpectedly',
                              position, run.uuid)
                self._finish(run, position, st.FAILED,
                             'unexpected error: %s: %s'
                             % (type(exc).__name__, exc))
        task.__name__ = 'applier-%s-%d' % (step.__name__.strip('_'),
                                           position)
        return task

    # -- ends -----------------------------------------------------------------

    def _finish(self, run, position, state, reason, stored=False):
        with self._lock:
            if run.state.get(position) in st.ACTION_FINAL \
                    and position not in run.dispatched:
                return      # already ended (an error after its end)
        now = timeutils.utcnow()
        if not stored:
            self.store.transition_action(
                run.uuid, position, [st.ONGOING], state=state,
                state_reason=reason, finished_at=now)
        with self._lock:
            self._release(run, position)
            skipped = run.finish(position, state)
            stop = (state == st.FAILED and run.stopped_by is None
                    and self.conf.applier.on_failure == 'stop')
            if stop:
                run.stopped_by = position
                stopped = run.drop_pending(st.SKIPPED)
            # NOTE: until the skips are in the store, no other action's
            # end may end the plan (its actions would still be PENDING
            # in the store, for good if the engine stopped then).
            run.unsettled += 1
        kind = run.actions[position]['action_type']
        self._count(kind, state)
        if state in (st.SUCCEEDED, st.FAILED):
            self._notify_action(
                run, position, 'end' if state == st.SUCCEEDED else 'error',
                st.ONGOING, dict(state=state, state_reason=reason,
                                 finished_at=now), error=reason)
        if state == st.FAILED:
            LOG.warning('Action %d (%s) of plan %s FAILED: %s', position,
                        kind, run.uuid, reason)
        try:
            self._store_skips(run, skipped)
            if stop:
                self.store.transition_actions(
                    run.uuid, stopped, [st.PENDING], state=st.SKIPPED,
                    state_reason='the plan stopped after action %d failed '
                                 '([applier] on_failure = stop)' % position,
                    finished_at=timeutils.utcnow())
                self._count_ended(run, stopped, st.SKIPPED)
        finally:
            with self._lock:
                run.unsettled -= 1
        self._maybe_end(run)
        self._dispatcher.wake()

    # -- Watcher's notifications ------------------------------------------

    def _notify_plan(self, plan_uuid, phase, old_state, error=None):
        """``action_plan.update`` from ``old_state`` and, with
        ``phase``, ``action_plan.execution.<phase>``."""
        notify = watcher_notifications.get()
        if not notify.enabled:
            return
        try:
            plan = self.store.get_action_plan(plan_uuid)
            audit = self.store.get_audit(plan['audit_uuid'])
        except Exception as exc:
            LOG.warning('Action plan %s: no notification: %s', plan_uuid,
                        exc)
            return
        if phase == 'start':
            notify.action_plan_execution('start', plan, audit)
        notify.action_plan('update', plan, audit, old_state=old_state)
        if phase in ('end', 'error'):
            notify.action_plan_execution(
                phase, plan, audit,
                error=error if phase == 'error' else None)

    def _notify_action(self, run, position, phase, old_state, written,
                       error=None):
        """``action.execution.<phase>`` and ``action.update`` from
        ``old_state``; ``written``: what this engine has just stored of
        the action (its state, reason, times).

        NOTE: from what the run holds, not read again from the store: a
        plan is read with all its actions, and a read per action made a
        plan of N actions read N**2 rows."""
        notify = watcher_notifications.get()
        if not notify.enabled:
            return
        with self._lock:
            plan = run.plan
        action = dict(run.actions[position], **written)
        if phase == 'start':
            notify.action_execution('start', action, plan)
        notify.action('update', action, plan, old_state=old_state)
        if phase in ('end', 'error'):
            notify.action_execution(
                phase, action, plan,
                error=error if phase == 'error' else None)

    def _store_skips(self, run, skipped):
        by_reason = {}
        for child, reason in skipped.items():
            by_reason.setdefault(reason, []).append(child)
        for reason, positions in by_reason.items():
            self.store.transition_actions(
                run.uuid, positions, [st.PENDING], state=st.SKIPPED,
                state_reason=reason, finished_at=timeutils.utcnow())
            self._count_ended(run, positions, st.SKIPPED)

    def _count_ended(self, run, positions, state):
        if run is None:
            return
        for position in positions:
            self._count(run.actions[position]['action_type'], state)

    def _count(self, kind, state):
        with self._lock:
            key = (kind, state)
            ended = self._stats['actions_ended']
            ended[key] = ended.get(key, 0) + 1

    def _maybe_end(self, run):
        with self._lock:
            if not run.finished() or self._runs.get(run.uuid) is not run:
                return
            del self._runs[run.uuid]
            self._done[run.uuid] = run.done
        state = run.final_state()
        reason = run.summary() or 'no actions'
        if run.stopped_by is not None:
            reason += '; stopped after action %d failed' % run.stopped_by
        stored = None
        try:
            stored = self._store_end(run, state, reason)
        finally:
            # NOTE: the event was kept only for a waiter that comes between
            # the plan's leaving _runs and its end being stored; a waiter
            # already holds it, a later one needs none. Kept, the events
            # of every plan ever ended would pile up. A plan whose end the
            # store never took (the applier stopped first) keeps it: it
            # has not ended, and wait() must not say it has.
            with self._lock:
                if stored is not False and \
                        self._done.get(run.uuid) is run.done:
                    del self._done[run.uuid]
        if not stored:
            return
        seconds = time.monotonic() - run.started
        with self._lock:
            ended = self._stats['plans_ended']
            ended[state] = ended.get(state, 0) + 1
            self._stats['last_plan_seconds'] = seconds
        LOG.info('Action plan %s ended %s in %.1f s: %s', run.uuid, state,
                 seconds, reason)
        self._notify_plan(run.uuid,
                          'error' if state == st.FAILED else 'end',
                          st.CANCELLING if state == st.CANCELLED
                          else st.ONGOING, error=reason)
        self._refresh_model(run.uuid)
        run.done.set()

    def _store_end(self, run, state, reason):
        """Write the plan's end, again and again until the store takes it
        or the applier stops.

        NOTE: the store already tries an operation again after a lost
        connection, a few times within a second; a database away for
        longer must not lose the end: the plan would stay ONGOING in the
        store, and to its waiters, until this engine restarted. Writing
        it again is safe: the write is a compare-and-set on the plan
        still being ONGOING or CANCELLING (a commit whose answer was lost
        makes the next one a no-op), and only while this engine owns it
        (a plan taken over by another engine is ended there).

        :returns: whether the end is stored; when the applier stops first,
            the plan stays ONGOING in the store and the next start of this
            engine resumes and ends it.
        """
        delay = END_RETRY_DELAY
        while True:
            try:
                self.store.transition_plan_of(
                    run.uuid, self.owner, [st.ONGOING, st.CANCELLING],
                    state=state, state_reason=reason,
                    finished_at=timeutils.utcnow())
                return True
            except db_api.StoreError as exc:
                if not self._running:
                    LOG.warning('Action plan %s ended %s but the store '
                                'refused its end (%s); the applier is '
                                'stopping: the next start resumes it',
                                run.uuid, state, exc)
                    return False
                LOG.warning('Action plan %s ended %s but the store refused '
                            'its end (%s); trying again in %.1f s',
                            run.uuid, state, exc, delay)
            if self._stopped.wait(delay):
                continue        # one last try, then the message above
            delay = min(delay * 2, END_RETRY_MAX_DELAY)

    def _refresh_model(self, plan_uuid):
        if self.on_plan_end is None or \
                not self.conf.applier.refresh_model_after_plan:
            return
        record = {'plan': plan_uuid, 'requested_at': time.time(),
                  'state': 'refreshing'}
        self._stats['model_refresh'] = record

        def refresh():
            try:
                self.on_plan_end(plan_uuid)
                record['state'] = 'refreshed'
            except Exception as exc:
                record['state'] = 'failed: %s' % exc
            record['ended_at'] = time.time()
        try:
            self.pool.submit(refresh)
        except Exception as exc:
            # NOTE: a full pool: the periodic refresh catches up later.
            record['state'] = 'not refreshed: %s' % exc

"""The audit service: creating, cancelling and scheduling audits.

The manager owns one :class:`AuditService`. It validates new audits,
stores them, hands them to the :class:`~decision_engine.audit.runner.
AuditRunner`, and carries the periodic task that starts CONTINUOUS audits
when they are due (collect it with ``periodics.collect``).

At start, audits a previous process of this engine (same ``[DEFAULT]
host``) left ONGOING are settled (see
:meth:`decision_engine.db.api.Store.fail_interrupted`: a ONESHOT ends FAILED
with reason "interrupted", because its model and the cloud may have changed
since and re-running silently could surprise the operator; a CONTINUOUS one
just runs again) and PENDING ones are queued again. ONGOING audits owned by
another engine on the same database are left to it; a PENDING audit queued
by several engines is run by the one whose compare-and-set wins.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Callable, Iterable

from oslo_config import cfg

from decision_engine.audit import runner as runner_mod
from decision_engine.audit import schedule
from decision_engine.audit import scope as scope_mod
from decision_engine.audit import strategy_call
from decision_engine.cloud import watcher_notifications
from decision_engine.common import schema as schema_mod
from decision_engine.common import states
from decision_engine.common import timeutils
from decision_engine.collector import protocols as collector_protocols
from decision_engine.concurrency import periodics
from decision_engine.concurrency import pool as pool_mod
from decision_engine.coordination import cluster as cluster_mod
from decision_engine.coordination import protocols as cluster_protocols
from decision_engine.datasources import gather as gather_mod
from decision_engine.db import protocols as db_protocols
from decision_engine.model import scope as model_scope_mod
from decision_engine.strategies import loader

LOG = logging.getLogger(__name__)

CREATE_SCHEMA = {
    'type': 'object',
    'properties': {
        'name': {'type': 'string', 'maxLength': 255},
        'strategy': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'audit_type': {'enum': list(states.AUDIT_TYPES)},
        'parameters': {'type': 'object'},
        'scope': {'type': 'object'},
        'interval': {'type': 'integer', 'maximum': schedule.MAX_INTERVAL},
        'cron': {'type': 'string', 'maxLength': 255},
        'force': {'type': 'boolean'},
        'auto_trigger': {'type': 'boolean'},
        'start_time': {'type': 'string', 'maxLength': 64},
        'end_time': {'type': 'string', 'maxLength': 64},
    },
    'required': ['strategy'],
    'additionalProperties': False,
}


class InvalidAudit(ValueError):
    """A request to create an audit is invalid; the message says why."""


def _find_nul(value, path=()):
    """The path of the first string (or key) holding a NUL character.

    NOTE: PostgreSQL text columns cannot hold NUL; refuse it up front
    rather than fail in the store.
    """
    if isinstance(value, str):
        return path if '\x00' in value else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and '\x00' in key:
            return path + (key,)
        found = _find_nul(item, path + (key,))
        if found is not None:
            return found
    return None


class AuditNotCancellable(ValueError):
    pass


class InvalidTransition(ValueError):
    """A state change the audit's type or state does not allow; the
    message says why (Watcher answers 400)."""


#: Watcher's audit state machine, as far as a request may move an audit
#: (Watcher's ONGOING between two runs of a CONTINUOUS audit is the
#: engine's PENDING).
SUSPENDABLE = (states.PENDING, states.ONGOING)


class AuditConflict(ValueError):
    """The audit's scope covers hosts of a running action plan."""


def ring_key(audit: dict[str, Any]) -> str:
    """The key of ``audit`` on the cluster's ring: its uuid, and for a
    CONTINUOUS audit its next slot too."""
    if audit['audit_type'] == states.CONTINUOUS and audit['next_run_at']:
        return '%s@%s' % (audit['uuid'], audit['next_run_at'].isoformat())
    return audit['uuid']


class AuditService:
    """See the module docstring."""

    def __init__(self, conf: cfg.ConfigOpts, store: db_protocols.AuditStore,
                 pool: pool_mod.WorkerPool,
                 collector: collector_protocols.Collector,
                 strategies: Callable[[str], type] | None = None,
                 cluster: cluster_protocols.Cluster | None = None,
                 metrics: gather_mod.MetricsGatherer | None = None) -> None:
        self.conf = conf
        self.store = store
        self.collector = collector
        #: the coordination part's cluster (``owns``, ``live_members``,
        #: ``count_takeover``, ``enabled``); a SoleCluster, its own leader
        #: and owner of everything, for an engine alone.
        self.cluster: cluster_protocols.Cluster = (
            cluster if cluster is not None
            else cluster_mod.SoleCluster(conf))
        self._strategies = strategies or loader.get
        #: the metrics gatherer (or None), also for the requirements check.
        self.metrics = metrics
        self.runner = runner_mod.AuditRunner(conf, store, pool, collector,
                                             strategies=self._strategies,
                                             owns=self.owns,
                                             metrics=metrics)

    def owns(self, audit: dict[str, Any]) -> bool:
        """Whether this engine runs ``audit`` (a dict): its owner on the
        ring. A CONTINUOUS audit is keyed by its next slot, so its runs
        spread over the engines."""
        return self.cluster.owns(ring_key(audit))

    def start(self) -> None:
        if self.cluster.enabled:
            # NOTE: in a cluster an interrupted audit runs again, wherever
            # the ring puts it (a ONESHOT only recommends).
            self._requeue(self.store.orphaned_audits(
                set(self.cluster.live_members()) - {self.conf.host}))
            settled = []
        else:
            settled = self.store.fail_interrupted(self.conf.host)
        if settled:
            LOG.warning('%d audit(s) were running when this engine (host '
                        '%s) last stopped; ONESHOT ones are now FAILED '
                        '("interrupted"), CONTINUOUS ones run again: %s',
                        len(settled), self.conf.host, ', '.join(settled))
        self.runner.start()
        for audit in self.store.list_audits(state=states.PENDING,
                                            audit_type=states.ONESHOT):
            if self.owns(audit):
                self.runner.enqueue(audit['uuid'])
        self.run_due_continuous_audits()

    def stop(self, timeout: float | None = None) -> None:
        self.runner.stop(timeout)

    # -- API operations --------------------------------------------------

    def validate(self, body: object) -> dict[str, Any]:
        """Check a create request; :returns: the values to store.

        :raises InvalidAudit: one line naming what is wrong.
        """
        if not isinstance(body, dict):
            raise InvalidAudit('the request body must be a JSON object')
        error = schema_mod.first_error(CREATE_SCHEMA, body)
        if error is not None:
            where, message = error
            raise InvalidAudit('invalid audit%s: %s' % (
                ' field %r' % where if where else '', message))
        nul = _find_nul(body)
        if nul is not None:
            raise InvalidAudit('invalid audit field %r: NUL characters are '
                               'not allowed' % '.'.join(map(str, nul)))
        try:
            call = strategy_call.check(
                body['strategy'], body.get('parameters'), body.get('scope'),
                strategies=self._strategies)
        except (LookupError, strategy_call.InvalidCall) as exc:
            raise InvalidAudit(strategy_call.one_line(exc))
        params, scope = call.parameters, call.scope
        audit_type = body.get('audit_type', states.ONESHOT)
        interval, cron = body.get('interval'), body.get('cron')
        now = timeutils.utcnow()
        window = {}
        if audit_type == states.CONTINUOUS:
            try:
                schedule.validate(interval, cron,
                                  self.conf.audit.min_continuous_interval)
                for name in ('start_time', 'end_time'):
                    window[name] = (
                        schedule.parse_time(name, body[name])
                        if body.get(name) is not None else None)
                schedule.check_window(window['start_time'],
                                      window['end_time'], now)
            except schedule.InvalidSchedule as exc:
                raise InvalidAudit(str(exc))
        elif interval is not None or cron is not None:
            raise InvalidAudit('"interval" and "cron" are only for '
                               'CONTINUOUS audits')
        elif body.get('start_time') is not None or \
                body.get('end_time') is not None:
            raise InvalidAudit('"start_time" and "end_time" are only for '
                               'CONTINUOUS audits, not %s' % audit_type)
        return dict(window, name=body.get('name'),
                    strategy=body['strategy'], audit_type=audit_type,
                    parameters=params, scope=scope, interval=interval,
                    cron=cron, auto_trigger=bool(body.get('auto_trigger')),
                    next_run_at=schedule.first_run(
                        window['start_time'], now)
                    if audit_type == states.CONTINUOUS else None)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """Validate, store and queue an audit; :returns: the audit.

        :raises AuditConflict: when its scope covers a host of a running
            action plan, unless the body says ``"force": true``.
        """
        values = self.validate(body)
        if not body.get('force'):
            self._check_running_plans(values['scope'])
        audit = self.store.create_audit(values)
        watcher_notifications.get().audit('create', audit)
        # NOTE: an EVENT audit waits for its trigger; a CONTINUOUS one
        # that starts later is queued by the periodic task when due.
        if audit['audit_type'] == states.ONESHOT or (
                audit['audit_type'] == states.CONTINUOUS
                and audit['next_run_at'] <= timeutils.utcnow()):
            self.runner.enqueue(audit['uuid'])
        return audit

    def _check_running_plans(self, scope):
        """A plan running over hosts of the scope would make the audit's
        model wrong while it moves them. Aggregates and zones are matched
        on the current model; with none, a scope naming them is taken to
        cover every host."""
        running = self.store.running_plan_hosts()
        if not running:
            return
        hosts = model_scope_mod.Scope(**{
            k: tuple(v) for k, v in scope.items()
            if k in scope_mod.HOST_FIELDS})
        groups = {}
        if any(k in scope for k in scope_mod.HOST_FIELDS
               if k.endswith(('aggregates', 'azs'))):
            model = self.collector.current_model()
            groups = {n.hostname: (n.aggregates, n.availability_zone)
                      for n in (model.nodes.values() if model else ())}
        for plan_uuid, plan_hosts in sorted(running.items()):
            covered = sorted(
                h for h in plan_hosts if hosts.host_by_name(h)
                and (h not in groups or hosts.host_by_groups(*groups[h])))
            if covered:
                raise AuditConflict(
                    'the audit\'s scope covers host(s) %s of action plan '
                    '%s, which is running; wait for it, narrow the scope, '
                    'or create the audit with "force": true'
                    % (', '.join(covered[:5]), plan_uuid))

    def cancel(self, audit_uuid: str) -> dict[str, Any]:
        """Cancel a PENDING or ONGOING audit.

        :raises AuditNotCancellable: when it has already ended.
        :raises decision_engine.db.api.NotFound: for an unknown audit.
        """
        before = self.store.get_audit(audit_uuid)
        audit = self.store.transition(
            audit_uuid, [states.PENDING, states.ONGOING],
            state=states.CANCELLED, state_reason='cancelled by request',
            finished_at=timeutils.utcnow(), next_run_at=None)
        if audit is None:
            current = self.store.get_audit(audit_uuid)
            raise AuditNotCancellable(
                'audit %s has already ended (%s); only PENDING or ONGOING '
                'audits can be cancelled' % (audit_uuid, current['state']))
        watcher_notifications.get().audit('update', audit,
                                          old_state=before['state'])
        return audit

    def suspend(self, audit_uuid: str) -> dict[str, Any]:
        """SUSPENDED: a CONTINUOUS audit, waiting (PENDING) or running
        (ONGOING: the run ends and keeps its plan), runs no more cycles
        until resumed.

        :raises InvalidTransition: for another type or state.
        :raises decision_engine.db.api.NotFound: for an unknown audit.
        """
        before = self.store.get_audit(audit_uuid)
        self._check_continuous(before, states.SUSPENDED)
        audit = self.store.transition(
            audit_uuid, SUSPENDABLE, state=states.SUSPENDED,
            state_reason='suspended by request', next_run_at=None)
        if audit is None:
            raise self._not_allowed(audit_uuid, states.SUSPENDED)
        watcher_notifications.get().audit('update', audit,
                                          old_state=before['state'])
        return audit

    def resume(self, audit_uuid: str) -> dict[str, Any]:
        """SUSPENDED -> PENDING (Watcher's ONGOING), due at once (or at
        its ``start_time``); one past its ``end_time`` ends SUCCEEDED.

        :raises InvalidTransition: unless the audit is SUSPENDED.
        """
        before = self.store.get_audit(audit_uuid)
        self._check_continuous(before, states.ONGOING)
        now = timeutils.utcnow()
        if schedule.past_window(before['end_time'], now):
            values = {'state': states.SUCCEEDED, 'finished_at': now,
                      'next_run_at': None,
                      'state_reason': 'end_time %s reached while suspended'
                                      % before['end_time'].isoformat()}
        else:
            values = {'state': states.PENDING,
                      'state_reason': 'resumed by request',
                      'next_run_at': schedule.first_run(
                          before['start_time'], now)}
        audit = self.store.transition(audit_uuid, [states.SUSPENDED],
                                      **values)
        if audit is None:
            raise self._not_allowed(audit_uuid, states.ONGOING)
        watcher_notifications.get().audit('update', audit,
                                          old_state=before['state'])
        if audit['state'] == states.PENDING and \
                audit['next_run_at'] <= now and self.owns(audit):
            self.runner.enqueue(audit_uuid)
        return audit

    def set_window(self, audit_uuid: str, start_time: str | None,
                   end_time: str | None) -> dict[str, Any]:
        """Change a CONTINUOUS audit's ``start_time`` and ``end_time``
        (ISO 8601 text or None) while it has not ended. A waiting audit's
        next run moves to the new start if it is later; one that has not
        run yet starts at the new start.

        :raises InvalidAudit: for a bad time or window (one line).
        :raises InvalidTransition: for another type, or an ended audit.
        """
        before = self.store.get_audit(audit_uuid)
        if before['audit_type'] != states.CONTINUOUS:
            raise InvalidTransition('start_time and end_time are only for '
                                    'CONTINUOUS audits, not %s'
                                    % before['audit_type'])
        live = (states.PENDING, states.ONGOING, states.SUSPENDED)
        if before['state'] not in live:
            raise InvalidTransition('the time window of a %s audit cannot '
                                    'change' % before['state'])
        now = timeutils.utcnow()
        try:
            start, end = (schedule.parse_time(name, value)
                          if value is not None else None
                          for name, value in (('start_time', start_time),
                                              ('end_time', end_time)))
            schedule.check_window(start, end, now)
        except schedule.InvalidSchedule as exc:
            raise InvalidAudit(str(exc))
        values = {'start_time': start, 'end_time': end}
        if before['state'] == states.PENDING:
            if not before['runs']:
                values['next_run_at'] = schedule.first_run(start, now)
            elif start is not None and before['next_run_at'] is not None \
                    and before['next_run_at'] < start:
                values['next_run_at'] = start
        audit = self.store.transition(audit_uuid, [before['state']],
                                      **values)
        if audit is None:
            raise self._not_allowed(audit_uuid, before['state'])
        return audit

    def trigger(self, audit_uuid: str) -> dict[str, Any]:
        """Run an EVENT audit once (Watcher's webhook): PENDING or
        SUCCEEDED -> PENDING, due now, and queued. The trigger is stored
        (``next_run_at``), so an engine restarting before the run still
        runs it.

        :raises InvalidTransition: for another type, or while the audit
            runs or after it failed or was cancelled.
        """
        before = self.store.get_audit(audit_uuid)
        if before['audit_type'] != states.EVENT:
            raise InvalidTransition(
                'Audit type %s could not be triggered by a webhook: only '
                'EVENT audits can' % before['audit_type'])
        allowed = (states.PENDING, states.SUCCEEDED)
        audit = self.store.transition(
            audit_uuid, allowed, state=states.PENDING,
            next_run_at=timeutils.utcnow(),
            state_reason='triggered by a webhook')
        if audit is None:
            current = self.store.get_audit(audit_uuid)
            raise InvalidTransition(
                'Audit %s is %s: an EVENT audit can be triggered only when '
                '%s' % (audit_uuid, current['state'],
                        ' or '.join(allowed)))
        if before['state'] != audit['state']:
            watcher_notifications.get().audit('update', audit,
                                              old_state=before['state'])
        if self.owns(audit):
            self.runner.enqueue(audit_uuid)
        return audit

    def _check_continuous(self, audit, wanted):
        if audit['audit_type'] != states.CONTINUOUS:
            raise InvalidTransition(
                'State transition not allowed: (%s -> %s): only CONTINUOUS '
                'audits can be suspended and resumed, not %s'
                % (audit['state'], wanted, audit['audit_type']))

    def _not_allowed(self, audit_uuid, wanted):
        current = self.store.get_audit(audit_uuid)
        return InvalidTransition('State transition not allowed: (%s -> %s)'
                                 % (current['state'], wanted))

    # -- continuous and EVENT audits ---------------------------------------

    @periodics.periodic(
        spacing=lambda self: self.conf.audit.continuous_check_interval)
    def run_due_continuous_audits(self) -> int:
        """End the CONTINUOUS audits past their ``end_time``, and queue
        the ones whose next run time has come and the triggered EVENT
        audits."""
        now = timeutils.utcnow()
        notify = watcher_notifications.get()
        for before in self.store.end_expired(now):
            LOG.info('Audit %s reached its end_time (%s): SUCCEEDED',
                     before['uuid'], before['end_time'].isoformat())
            if notify.enabled:
                notify.audit('update', self.store.get_audit(before['uuid']),
                             old_state=before['state'])
        due = [a for a in self.store.list_audits(
            state=states.PENDING, audit_type=states.CONTINUOUS)
            if (a['next_run_at'] is None or a['next_run_at'] <= now)
            and self.owns(a)]
        due += [a for a in self.store.list_audits(
            state=states.PENDING, audit_type=states.EVENT)
            if a['next_run_at'] is not None and a['next_run_at'] <= now
            and self.owns(a)]
        queued = sum(1 for a in due if self.runner.enqueue(a['uuid']))
        if queued:
            LOG.debug('Queued %d due continuous audit(s)', queued)
        return queued

    # -- several engines ---------------------------------------------------

    @periodics.periodic(
        spacing=lambda self: self.conf.audit.continuous_check_interval,
        enabled=lambda self: self.cluster.enabled)
    def claim_cluster_audits(self) -> int:
        """Queue the PENDING audits the ring gives this engine (submitted
        through another engine's API, or orphaned) and take over the
        ONGOING audits of engines that left the cluster.

        :returns: how many audits were queued.
        """
        self.take_over(())
        queued = sum(1 for audit in self.store.list_audits(
            state=states.PENDING, audit_type=states.ONESHOT)
            if self.owns(audit) and self.runner.enqueue(audit['uuid']))
        return queued + self.run_due_continuous_audits()

    def take_over(self, left: Iterable[str]) -> list[str]:
        """Requeue the ONGOING audits of engines no longer in the cluster
        that the ring now gives this engine (``left``: the members that
        just left; any other absent owner counts too), and queue them.

        :returns: the uuids taken over.
        """
        if not self.cluster.enabled:
            return []
        live = set(self.cluster.live_members())
        orphans = [a for a in self.store.orphaned_audits(live)
                   if self.cluster.owns(a['uuid'])]
        return self._requeue(orphans)

    def requeue_all_orphans(self) -> list[str]:
        """The leader's chore: requeue every audit left ONGOING by an engine
        that is not a member, whoever owns it on the ring (a safety net for
        an owner that missed the leave, e.g. while it restarted)."""
        if not self.cluster.enabled:
            return []
        return self._requeue(self.store.orphaned_audits(
            set(self.cluster.live_members())))

    def _requeue(self, orphans):
        taken = []
        for audit in orphans:
            requeued = self.store.requeue_orphan(
                audit['uuid'], audit['owner'], self.conf.host)
            if requeued is None:
                continue
            taken.append(audit['uuid'])
            LOG.warning('Audit %s was ONGOING on engine %s, which left the '
                        'cluster; running it again', audit['uuid'],
                        audit['owner'])
            if self.owns(requeued):
                self.runner.enqueue(audit['uuid'])
        if taken:
            self.cluster.count_takeover('audits', len(taken))
        return taken

    def statistics(self) -> runner_mod.AuditStatistics:
        """:class:`~decision_engine.audit.runner.AuditStatistics`."""
        return runner_mod.AuditStatistics(
            by_state=self.store.count_by_state(),
            **dataclasses.asdict(self.runner.statistics()))

"""The applier's typed status, read by ``/v1/status`` and ``/metrics``."""

import dataclasses
import logging

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ApplierStatistics:
    """What ``/v1/status`` and ``/metrics`` read of the applier."""

    plans_started: int
    plans_resumed: int
    plans_running: int
    #: ``{plan state: count}`` of the plans this engine ended.
    plans_ended: dict[str, int]
    actions_ongoing: int
    migrations_in_flight: int
    #: ``{'type/state': count}`` of the actions this engine ended.
    actions_ended: dict[str, int]
    #: ``{'type/state': count}`` of every action in the store.
    actions_in_store: dict[str, int]
    peak_parallel: int
    peak_migrations: int
    last_plan_seconds: float | None
    #: ``{'plan', 'state', 'requested_at', 'ended_at'}`` of the model
    #: rebuild the last plan's end asked for, or None.
    model_refresh: dict | None
    #: delayed polls and steps waiting for a worker.
    waiting_tasks: int
    #: steps the full pool refused (offered again later).
    pool_refusals: int


def actions_in_store(store):
    """``{'type/state': count}`` of every action in the store; empty when
    the store is down (said in the log)."""
    try:
        return {'%s/%s' % key: n for key, n in sorted(
            store.count_actions_by_state().items())}
    except Exception as exc:   # the store is down: say so, go on
        LOG.warning('Cannot count the actions in the store: %s', exc)
        return {}


def collect(in_store, stats, runs, ongoing, dispatcher):
    """The applier's :class:`ApplierStatistics` from its counters
    (``stats``), its running :class:`~.run.PlanRun` objects and its
    dispatcher; called under the applier's lock."""
    return ApplierStatistics(
        plans_started=stats['plans_started'],
        plans_resumed=stats['plans_resumed'],
        plans_running=len(runs),
        plans_ended=dict(stats['plans_ended']),
        actions_ongoing=ongoing,
        migrations_in_flight=sum(
            len([p for p in run.dispatched | run.resuming
                 if p in run.migration_hosts])
            for run in runs),
        actions_ended={'%s/%s' % key: n for key, n in sorted(
            stats['actions_ended'].items())},
        actions_in_store=in_store,
        peak_parallel=stats['peak_parallel'],
        peak_migrations=stats['peak_migrations'],
        last_plan_seconds=stats['last_plan_seconds'],
        model_refresh=dict(stats['model_refresh'])
        if stats['model_refresh'] else None,
        waiting_tasks=dispatcher.pending(),
        pool_refusals=dispatcher.refused)

"""The applier's typed status, read by ``/v1/status`` and ``/metrics``."""

import dataclasses


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

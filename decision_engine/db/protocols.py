"""The store as the parts above it see it (typed seams).

The audit service and runner, the applier and the API are handed the
engine's one :class:`~decision_engine.db.api.Store`; they rely on these
surfaces only, which a test double may implement instead. Rows are plain
dicts (see :mod:`decision_engine.db.row_dicts`).
"""

from __future__ import annotations

import datetime
from typing import Any, Iterable, Protocol, Sequence, runtime_checkable

from decision_engine.db import row_dicts

Row = row_dicts.Row


@runtime_checkable
class AuditStore(Protocol):
    """What the audit service and runner use."""

    def create_audit(self, values: Row) -> Row: ...

    def get_audit(self, audit_uuid: str) -> Row: ...

    def list_audits(self, state: str | None = None,
                    audit_type: str | None = None, limit: int | None = None,
                    marker: str | None = None) -> list[Row]: ...

    def transition(self, audit_uuid: str, from_states: Iterable[str],
                   **values: Any) -> Row | None: ...

    def save_run(self, audit_uuid: str, audit_values: Row,
                 plan: Row | None = None, owner: str | None = None
                 ) -> tuple[Row | None, str | None]: ...

    def take(self, audit_uuid: str, owner: str,
             due_by: datetime.datetime | None = None,
             **values: Any) -> Row | None: ...

    def orphaned_audits(self, live_owners: Iterable[str]) -> list[Row]: ...

    def end_expired(self, now: datetime.datetime) -> list[Row]: ...

    def requeue_orphan(self, audit_uuid: str, dead_owner: str,
                       by: str) -> Row | None: ...

    def fail_interrupted(self, owner: str) -> list[str]: ...

    def count_by_state(self) -> dict[str, int]: ...

    def running_plan_hosts(self) -> dict[str, set[str]]: ...


@runtime_checkable
class PlanStore(Protocol):
    """What the applier (and its cluster claims) use."""

    def get_action_plan(self, plan_uuid: str) -> Row: ...

    def list_plans(self, states: Iterable[str] | None = None,
                   owner: str | None = None) -> list[Row]: ...

    def start_plan(self, plan_uuid: str, owner: str) -> Row: ...

    def transition_plan(self, plan_uuid: str, from_states: Iterable[str],
                        **values: Any) -> Row | None: ...

    def transition_actions(self, plan_uuid: str,
                           positions: Sequence[int] | None,
                           from_states: Iterable[str],
                           owner: str | None = None,
                           **values: Any) -> list[int]: ...

    def transition_action(self, plan_uuid: str, position: int,
                          from_states: Iterable[str],
                          owner: str | None = None,
                          **values: Any) -> bool: ...

    def orphaned_plans(self, live_owners: Iterable[str]) -> list[Row]: ...

    def claim_plan(self, plan_uuid: str, dead_owner: str,
                   by: str) -> Row | None: ...

    def transition_plan_of(self, plan_uuid: str, owned_by: str,
                           from_states: Iterable[str],
                           **values: Any) -> Row | None: ...

    def expire_plans(self, older_than: datetime.datetime) -> list[str]: ...

    def count_actions_by_state(self) -> dict[tuple[str, str], int]: ...


@runtime_checkable
class SharedStore(AuditStore, PlanStore, Protocol):
    """The store's whole shared surface: what the API reads besides."""

    def list_action_plans(self, audit_uuid: str) -> list[Row]: ...

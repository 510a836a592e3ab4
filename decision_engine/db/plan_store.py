"""The store's interface for applying action plans (mixed into
:class:`decision_engine.db.api.Store`).

Every change of a plan or an action state is a compare-and-set UPDATE,
committed before anything that depends on it happens: a plan cancelled
through the API is never flipped back by the applier, and an action is
ONGOING in the store before the cloud is asked anything.
"""

from __future__ import annotations

import datetime
from typing import Any, Iterable, Sequence, cast

import sqlalchemy as sa
from sqlalchemy import orm

from decision_engine.common import action_hosts
from decision_engine.common import plan_states
from decision_engine.common import timeutils
from decision_engine.db import errors
from decision_engine.db import models
from decision_engine.db import row_dicts
from decision_engine.db import store_core

# NOTE: an arbitrary constant: the PostgreSQL advisory lock key that
# serializes plan starts, so two overlapping plans started at once on two
# engines cannot both pass the overlap check.
_START_LOCK = 0x4445_4150

Row = row_dicts.Row


def _rowcount(result: Any) -> int:
    """The rows an UPDATE matched (its result is a CursorResult)."""
    return cast(sa.CursorResult, result).rowcount


class PlanConflict(RuntimeError):
    """Starting the plan would touch hosts of a running plan."""


class PlanNotStartable(RuntimeError):
    """The plan is not in a state it can be started from."""


class PlanStoreMixin(store_core.StoreCore):

    def _plan(self, session, plan_uuid):
        plan = session.scalars(
            sa.select(models.ActionPlan)
            .where(models.ActionPlan.uuid == plan_uuid)
            .options(orm.selectinload(models.ActionPlan.actions),
                     orm.joinedload(models.ActionPlan.audit))
        ).one_or_none()
        if plan is None:
            raise errors.NotFound('no action plan %s' % plan_uuid)
        return plan

    def start_plan(self, plan_uuid: str, owner: str) -> Row:
        """RECOMMENDED -> PENDING for the engine ``owner``.

        :raises PlanConflict: when a PENDING, ONGOING or CANCELLING plan
            touches one of its hosts (the message names the plan and up to
            five hosts).
        :raises PlanNotStartable: when the plan is not RECOMMENDED.
        :raises NotFound: for an unknown plan.
        """
        if not owner:
            raise ValueError('a plan must be started by a named engine')
        with self._wrap(), self._session() as session:
            if session.get_bind().dialect.name == 'postgresql':
                session.execute(sa.select(
                    sa.func.pg_advisory_xact_lock(_START_LOCK)))
            # NOTE: the UPDATE first (see Store.save_run): on SQLite it
            # takes the write lock, so the overlap check below sees every
            # plan started before and none can start meanwhile.
            now = timeutils.utcnow()
            result = session.execute(
                sa.update(models.ActionPlan)
                .where(models.ActionPlan.uuid == plan_uuid,
                       models.ActionPlan.state == plan_states.RECOMMENDED)
                .values(state=plan_states.PENDING, owner=owner,
                        state_reason=None, updated_at=now))
            plan = self._plan(session, plan_uuid)
            if _rowcount(result) != 1:
                raise PlanNotStartable(
                    'action plan %s is %s; only a RECOMMENDED plan can be '
                    'started' % (plan_uuid, plan.state))
            mine = set()
            for action in plan.actions:
                mine |= action_hosts.hosts_of(action.input_parameters)
            running = session.scalars(
                sa.select(models.ActionPlan)
                .where(models.ActionPlan.state.in_(
                    plan_states.PLAN_RUNNING),
                    models.ActionPlan.id != plan.id)
                .options(orm.selectinload(models.ActionPlan.actions))
            ).all()
            for other in running:
                theirs = set()
                for action in other.actions:
                    theirs |= action_hosts.hosts_of(action.input_parameters)
                common = sorted(mine & theirs)
                if common:
                    raise PlanConflict(
                        'action plan %s touches host(s) %s of action plan '
                        '%s, which is %s; start it when that one has ended'
                        % (plan_uuid, ', '.join(common[:5])
                           + (' and %d more' % (len(common) - 5)
                              if len(common) > 5 else ''),
                           other.uuid, other.state))
            return row_dicts.plan_dict(plan)

    def transition_plan(self, plan_uuid: str, from_states: Iterable[str],
                        **values: Any) -> Row | None:
        """Update a plan only if its state is one of ``from_states``.

        :returns: the plan (with its actions), or None when its state was
            another.
        """
        with self._wrap(), self._session() as session:
            result = session.execute(
                sa.update(models.ActionPlan)
                .where(models.ActionPlan.uuid == plan_uuid,
                       models.ActionPlan.state.in_(list(from_states)))
                .values(updated_at=timeutils.utcnow(), **values))
            plan = self._plan(session, plan_uuid)
            if _rowcount(result) != 1:
                return None
            session.refresh(plan)
            return row_dicts.plan_dict(plan)

    def transition_actions(self, plan_uuid: str,
                           positions: Sequence[int] | None,
                           from_states: Iterable[str],
                           owner: str | None = None,
                           **values: Any) -> list[int]:
        """Update the actions at ``positions`` (all of the plan's when
        None) whose state is one of ``from_states``, in one statement;
        with ``owner``, only while that engine owns the plan (an engine
        whose plan was taken over starts no action of it).

        :returns: the positions updated.
        """
        with self._wrap(), self._session() as session:
            plan = sa.select(models.ActionPlan.id).where(
                models.ActionPlan.uuid == plan_uuid)
            if owner is not None:
                plan = plan.where(models.ActionPlan.owner == owner)
                # NOTE: the plan's row locked (shared) before its actions
                # change: a claim by another engine (claim_plan) waits
                # for this transaction and then reads the actions as they
                # are, or this one waits for the claim and then finds
                # another owner. With the owner only in the UPDATE's
                # subquery, PostgreSQL (read committed) let an action
                # start commit after a claim had read it PENDING: the
                # claimer's own start was refused and it ended the plan
                # CANCELLED. (SQLite has one writer at a time.)
                if session.execute(plan.with_for_update(read=True)
                                   ).first() is None:
                    return []
            plan_id = plan.scalar_subquery()
            query = (sa.update(models.Action)
                     .where(models.Action.action_plan_id == plan_id,
                            models.Action.state.in_(list(from_states)))
                     .values(updated_at=timeutils.utcnow(), **values)
                     .returning(models.Action.position))
            if positions is not None:
                query = query.where(
                    models.Action.position.in_(list(positions)))
            return sorted(session.execute(query).scalars().all())

    def transition_action(self, plan_uuid: str, position: int,
                          from_states: Iterable[str],
                          owner: str | None = None,
                          **values: Any) -> bool:
        """:returns: whether the action at ``position`` was updated."""
        return bool(self.transition_actions(plan_uuid, [position],
                                            from_states, owner=owner,
                                            **values))

    def orphaned_plans(self, live_owners: Iterable[str]) -> list[Row]:
        """PENDING, ONGOING or CANCELLING plans (with their actions) whose
        owner is not one of ``live_owners`` (an engine that left the
        cluster), oldest first."""
        with self._wrap(), self._session() as session:
            return [row_dicts.plan_dict(p) for p in session.scalars(
                sa.select(models.ActionPlan)
                .where(models.ActionPlan.state.in_(
                    plan_states.PLAN_RUNNING),
                    models.ActionPlan.owner.is_not(None),
                    models.ActionPlan.owner.not_in(list(live_owners)))
                .order_by(models.ActionPlan.id)
                .options(orm.selectinload(models.ActionPlan.actions),
                         orm.joinedload(models.ActionPlan.audit)))]

    def claim_plan(self, plan_uuid: str, dead_owner: str,
                   by: str) -> Row | None:
        """The owner of a running plan ``dead_owner`` -> ``by``,
        compare-and-set, so that of the survivors exactly one resumes it.

        :returns: the plan (with its actions), or None when it had ended
            or another engine claimed it first.
        """
        return self.transition_plan_of(
            plan_uuid, dead_owner, plan_states.PLAN_RUNNING, owner=by)

    def transition_plan_of(self, plan_uuid: str, owned_by: str,
                           from_states: Iterable[str],
                           **values: Any) -> Row | None:
        """:meth:`transition_plan`, only while ``owned_by`` owns the
        plan."""
        with self._wrap(), self._session() as session:
            result = session.execute(
                sa.update(models.ActionPlan)
                .where(models.ActionPlan.uuid == plan_uuid,
                       models.ActionPlan.owner == owned_by,
                       models.ActionPlan.state.in_(list(from_states)))
                .values(updated_at=timeutils.utcnow(), **values))
            if _rowcount(result) != 1:
                return None
            plan = self._plan(session, plan_uuid)
            session.refresh(plan)
            return row_dicts.plan_dict(plan)

    def expire_plans(self, older_than: datetime.datetime) -> list[str]:
        """RECOMMENDED plans created before ``older_than`` (UTC) ->
        SUPERSEDED, with the reason: nobody started them and the cloud
        has moved on since.

        :returns: the uuids expired.
        """
        with self._wrap(), self._session() as session:
            return sorted(session.execute(
                sa.update(models.ActionPlan)
                .where(models.ActionPlan.state == plan_states.RECOMMENDED,
                       models.ActionPlan.created_at < older_than)
                .values(state=plan_states.SUPERSEDED,
                        updated_at=timeutils.utcnow(),
                        state_reason='expired: not started within '
                                     '[applier] recommended_plan_ttl')
                .returning(models.ActionPlan.uuid)).scalars().all())

    def list_plans(self, states: Iterable[str] | None = None,
                   owner: str | None = None) -> list[Row]:
        """Plans (with their actions), oldest first, in ``states``, of
        the engine ``owner`` (or of none)."""
        with self._wrap(), self._session() as session:
            query = (sa.select(models.ActionPlan)
                     .order_by(models.ActionPlan.id)
                     .options(orm.selectinload(models.ActionPlan.actions),
                              orm.joinedload(models.ActionPlan.audit)))
            if states:
                query = query.where(
                    models.ActionPlan.state.in_(list(states)))
            if owner is not None:
                query = query.where(sa.or_(
                    models.ActionPlan.owner == owner,
                    models.ActionPlan.owner.is_(None)))
            return [row_dicts.plan_dict(p) for p in session.scalars(query)]

    def running_plan_hosts(self) -> dict[str, set[str]]:
        """``{plan uuid: set of hostnames}`` of every PENDING, ONGOING or
        CANCELLING plan."""
        return {plan['uuid']: set().union(*[
            action_hosts.hosts_of(a['input_parameters'])
            for a in plan['actions']])
            for plan in self.list_plans(plan_states.PLAN_RUNNING)}

    def count_actions_by_state(self) -> dict[tuple[str, str], int]:
        """``{(action_type, state): count}`` over every plan."""
        with self._wrap(), self._session() as session:
            rows = session.execute(
                sa.select(models.Action.action_type, models.Action.state,
                          sa.func.count())
                .group_by(models.Action.action_type,
                          models.Action.state)).all()
        return {(kind, state): count for kind, state, count in rows}

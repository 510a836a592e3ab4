"""The store's interface: every read and write of audits and plans.

Rows leave this module as plain dicts (:mod:`decision_engine.db.row_dicts`), so
no session or lazy load escapes. Every write is one transaction. State changes
are compare-and-set (:meth:`Store.transition`): an audit cancelled through
the API while it runs cannot be flipped back to SUCCEEDED by the runner.
"""

from __future__ import annotations

import datetime
import logging
import os
import re
import uuid as uuid_mod
from typing import Any, Iterable

from oslo_config import cfg
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from decision_engine.common import action_graph
from decision_engine.common import files
from decision_engine.common import states
from decision_engine.common import timeutils
from decision_engine.db import errors
from decision_engine.db import listing_store
from decision_engine.db import migration
from decision_engine.db import models
from decision_engine.db import plan_store
from decision_engine.db import power_store
from decision_engine.db import reconnect
from decision_engine.db import row_dicts
from decision_engine.db import session as session_mod

LOG = logging.getLogger(__name__)

Row = row_dicts.Row


# NOTE: defined below db.api so plan_store need not import this module.
NotFound = errors.NotFound


class StoreUnavailable(RuntimeError):
    """The store cannot be opened; the message is one line naming it."""


def one_line(exc):
    """``exc`` as one line, without SQLAlchemy's "Background on this
    error" link."""
    text = ' '.join(str(exc).split()) or type(exc).__name__
    return re.sub(r'\s*\(Background on this error at: [^)]*\)', '', text)


class StoreError(RuntimeError):
    """The database could not be reached or refused the operation."""


PlanConflict = plan_store.PlanConflict
PlanNotStartable = plan_store.PlanNotStartable
InvalidSort = listing_store.InvalidSort
TemplateConflict = listing_store.TemplateConflict


@reconnect.reconnecting
class Store(plan_store.PlanStoreMixin, power_store.PowerFailureStoreMixin,
            listing_store.ListingStoreMixin):
    """Audits, action plans and actions in one SQL database.

    Every operation is made again after a lost connection (see
    :mod:`decision_engine.db.reconnect`).
    """

    # NOTE: create_audit and save_run take their keys first, then make
    # their retried part (_insert_audit, _save_run).
    NOT_RETRIED = ('from_conf', 'open_for_engine', 'upgrade',
                   'check_schema', 'dispose', 'create_audit', 'save_run',
                   'create_template')

    def __init__(self, engine):
        self.engine = engine
        self._sessions = orm.sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> Store:
        return cls(session_mod.create_engine(
            session_mod.url_from_conf(conf),
            timeout=conf.database.connection_timeout,
            pool_size=conf.database.max_pool_size))

    @classmethod
    def open_for_engine(cls, conf: cfg.ConfigOpts) -> Store:
        """The engine's store, ready for use, or a one-line error.

        The embedded SQLite store (no ``[database] connection``) is created
        under ``[DEFAULT] state_path`` or upgraded on the spot; a server
        database must already be at the current schema
        (``decision-engine-manage db sync``).

        :raises StoreUnavailable: one line naming the store (password
            hidden) and what is wrong: unreachable, refused, or a server
            database not at the current schema.
        """
        embedded = not conf.database.connection
        url = session_mod.url_from_conf(conf)
        shown = sa.engine.make_url(url).render_as_string(hide_password=True)
        store = None
        try:
            if embedded:
                files.make_private_directory(conf.state_path)
            store = cls.from_conf(conf)
            if embedded:
                store.upgrade()
            else:
                store.check_schema()
        except Exception as exc:
            if store is not None:
                store.dispose()
            if isinstance(exc, migration.SchemaOutOfDate):
                raise StoreUnavailable('the store %s: %s' % (shown, exc))
            if embedded and os.path.isdir(conf.state_path) and \
                    not os.access(conf.state_path, os.W_OK):
                # NOTE: SQLite only says "unable to open database file".
                raise StoreUnavailable(
                    'cannot open the store %s: the state path %s is not '
                    'writable (read-only file system or permissions; '
                    '[DEFAULT] state_path)' % (shown, conf.state_path))
            raise StoreUnavailable('cannot open the store %s: %s'
                                   % (shown, one_line(exc)))
        LOG.info('Store: %s', url if embedded else url.split(':', 1)[0])
        return store

    def upgrade(self):
        migration.upgrade(self.engine)

    def check_schema(self):
        migration.check_current(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    def _session(self):
        return self._sessions.begin()

    # -- audits --------------------------------------------------------------

    def create_audit(self, values: Row) -> Row:
        """Insert an audit (PENDING unless ``values`` says otherwise)."""
        # NOTE: the key is taken once, before any attempt: an insert made
        # again after its COMMIT was applied meets itself.
        values = dict(values, uuid=values.get('uuid') or str(
            uuid_mod.uuid4()))
        try:
            return self._insert_audit(values)
        except sa_exc.IntegrityError:
            if not self._exists(values['uuid']):
                raise
            return self.get_audit(values['uuid'])

    def _exists(self, audit_uuid):
        try:
            self.get_audit(audit_uuid)
        except NotFound:
            return False
        return True

    @reconnect.retrying
    def _insert_audit(self, values):
        audit = models.Audit(
            uuid=values['uuid'],
            name=values.get('name'),
            audit_type=values.get('audit_type', states.ONESHOT),
            state=values.get('state', states.PENDING),
            state_reason=values.get('state_reason'),
            strategy=values['strategy'],
            parameters=values.get('parameters') or {},
            scope=values.get('scope') or {},
            interval=values.get('interval'),
            cron=values.get('cron'),
            next_run_at=values.get('next_run_at'),
            auto_trigger=bool(values.get('auto_trigger')),
            start_time=values.get('start_time'),
            end_time=values.get('end_time'),
            runs=0)
        with self._wrap(), self._session() as session:
            session.add(audit)
            session.flush()
            return row_dicts.audit_dict(audit)

    def get_audit(self, audit_uuid: str) -> Row:
        with self._wrap(), self._session() as session:
            return row_dicts.audit_dict(self._audit(session, audit_uuid))

    def _audit(self, session, audit_uuid):
        audit = session.scalars(sa.select(models.Audit).where(
            models.Audit.uuid == audit_uuid)).one_or_none()
        if audit is None:
            raise NotFound('no audit %s' % audit_uuid)
        return audit

    def list_audits(self, state: str | None = None,
                    audit_type: str | None = None, limit: int | None = None,
                    marker: str | None = None) -> list[Row]:
        """Audits, oldest first; ``marker`` is the uuid of the last audit
        of the previous page."""
        with self._wrap(), self._session() as session:
            query = sa.select(models.Audit).order_by(models.Audit.id)
            if state:
                query = query.where(models.Audit.state == state)
            if audit_type:
                query = query.where(models.Audit.audit_type == audit_type)
            if marker:
                query = query.where(
                    models.Audit.id > self._audit(session, marker).id)
            if limit:
                query = query.limit(limit)
            return [row_dicts.audit_dict(a) for a in session.scalars(query)]

    def transition(self, audit_uuid: str, from_states: Iterable[str],
                   **values: Any) -> Row | None:
        """Update an audit only if its state is one of ``from_states``.

        :returns: the updated audit, or None when its state was another.
        :raises NotFound: for an unknown audit.
        """
        with self._wrap(), self._session() as session:
            audit = self._audit(session, audit_uuid)
            result = session.execute(
                sa.update(models.Audit)
                .where(models.Audit.id == audit.id,
                       models.Audit.state.in_(list(from_states)))
                .values(updated_at=timeutils.utcnow(), **values))
            if result.rowcount != 1:
                return None
            session.refresh(audit)
            return row_dicts.audit_dict(audit)

    def save_run(self, audit_uuid: str, audit_values: Row,
                 plan: Row | None = None, owner: str | None = None
                 ) -> tuple[Row | None, str | None]:
        """Store a finished run in one transaction: the action plan (if
        any) with its actions, the previous plans of the audit marked
        SUPERSEDED, and the audit's new state and timings.

        Nothing is written unless the audit is still ONGOING (it may have
        been cancelled meanwhile) and, with ``owner``, still owned by that
        engine (another may have taken it over meanwhile).

        :param plan: ``{'strategy', 'indicators', 'message', 'actions',
            'model_age', 'build_seconds', 'strategy_seconds'}``.
        :returns: ``(audit dict, plan uuid or None)``, or ``(None, None)``
            when the audit was no longer ONGOING.
        """
        # NOTE: the plan's key is taken once, before any attempt (see
        # decision_engine.db.reconnect).
        plan_uuid = str(uuid_mod.uuid4()) if plan is not None else None
        return self._save_run(audit_uuid, audit_values, plan, owner,
                              plan_uuid)

    @reconnect.retrying
    def _save_run(self, audit_uuid, audit_values, plan, owner, plan_uuid):
        with self._wrap(), self._session() as session:
            # NOTE: the compare-and-set UPDATE comes first, so this
            # transaction owns the audit from its first statement: the row
            # lock on PostgreSQL, the write lock on SQLite (whose driver
            # starts a transaction only at the first write, so a SELECT
            # ... FOR UPDATE first would lock nothing there, and a cancel
            # committed between it and the write would be overwritten).
            values = dict(audit_values, updated_at=timeutils.utcnow(),
                          runs=sa.func.coalesce(models.Audit.runs, 0) + 1)
            if plan_uuid is not None:
                values['last_action_plan_uuid'] = plan_uuid
            query = (sa.update(models.Audit)
                     .where(models.Audit.uuid == audit_uuid,
                            models.Audit.state == states.ONGOING))
            if owner is not None:
                query = query.where(models.Audit.owner == owner)
            result = session.execute(query.values(**values))
            if result.rowcount != 1:
                # NOTE: a CONTINUOUS audit suspended during its run keeps
                # the run (its plan, timings) and stays SUSPENDED, not due.
                suspended = dict(values, next_run_at=None)
                suspended.pop('state', None)
                suspended.pop('state_reason', None)
                query = (sa.update(models.Audit)
                         .where(models.Audit.uuid == audit_uuid,
                                models.Audit.state == states.SUSPENDED,
                                models.Audit.audit_type
                                == states.CONTINUOUS))
                if owner is not None:
                    query = query.where(models.Audit.owner == owner)
                result = session.execute(query.values(**suspended))
            if result.rowcount != 1:
                audit = self._audit(session, audit_uuid)  # or NotFound
                if reconnect.saved_by(audit, audit_values, plan_uuid, owner):
                    # This very run, made again after its COMMIT was
                    # applied but not acknowledged: saved once, not lost.
                    return row_dicts.audit_dict(audit), plan_uuid
                return None, None
            audit = self._audit(session, audit_uuid)
            if plan is not None:
                session.execute(
                    sa.update(models.ActionPlan)
                    .where(models.ActionPlan.audit_id == audit.id,
                           models.ActionPlan.state == states.RECOMMENDED)
                    .values(state=states.SUPERSEDED,
                            updated_at=timeutils.utcnow()))
                row = models.ActionPlan(
                    uuid=plan_uuid, audit_id=audit.id,
                    state=states.RECOMMENDED, strategy=plan['strategy'],
                    indicators=plan.get('indicators') or {},
                    message=plan.get('message'),
                    model_age=plan.get('model_age'),
                    build_seconds=plan.get('build_seconds'),
                    strategy_seconds=plan.get('strategy_seconds'))
                actions = plan.get('actions', [])
                uuids = [str(uuid_mod.uuid4()) for _ in actions]
                row.actions = [
                    models.Action(position=i, uuid=uuids[i],
                                  action_type=a['action_type'],
                                  input_parameters=a['input_parameters'],
                                  description=a.get('description'),
                                  state=states.ACTION_PENDING,
                                  parents=' '.join(
                                      uuids[p] for p in sorted(parents)))
                    for i, (a, parents) in enumerate(zip(
                        actions, action_graph.parents_of(actions)))]
                session.add(row)
                session.flush()
            return row_dicts.audit_dict(audit), plan_uuid

    def take(self, audit_uuid: str, owner: str,
             due_by: datetime.datetime | None = None,
             **values: Any) -> Row | None:
        """PENDING -> ONGOING for the engine ``owner``, compare-and-set.

        One UPDATE ... WHERE state = 'PENDING' sets the state and the
        owner together, so of engines racing for an audit exactly one
        gets it. With ``due_by``, a CONTINUOUS audit is taken only if its
        next run time is at or before it: the slot is claimed on its
        next-run time, so an engine with a stale view (a ring change, a
        queue filled before the last run ended) cannot run a slot again.

        :returns: the audit, or None when it was not PENDING (another
            engine took it, or it was cancelled) or not due.
        :raises NotFound: for an unknown audit.
        """
        if not owner:
            raise ValueError('an audit must be taken by a named engine')
        with self._wrap(), self._session() as session:
            audit = self._audit(session, audit_uuid)
            query = (sa.update(models.Audit)
                     .where(models.Audit.id == audit.id,
                            models.Audit.state == states.PENDING))
            if due_by is not None:
                # NOTE: an EVENT audit runs only once triggered (its
                # next_run_at set by the trigger).
                query = query.where(sa.or_(
                    models.Audit.audit_type.not_in(
                        [states.CONTINUOUS, states.EVENT]),
                    sa.and_(models.Audit.audit_type == states.CONTINUOUS,
                            models.Audit.next_run_at.is_(None)),
                    models.Audit.next_run_at <= due_by))
            result = session.execute(query.values(
                updated_at=timeutils.utcnow(), state=states.ONGOING,
                owner=owner, **values))
            if result.rowcount != 1:
                session.refresh(audit)
                if values.get('started_at') is not None and \
                        audit.state == states.ONGOING and \
                        audit.owner == owner and \
                        audit.started_at == values['started_at']:
                    # This very take, made again after its COMMIT was
                    # applied but not acknowledged.
                    return row_dicts.audit_dict(audit)
                return None
            session.refresh(audit)
            return row_dicts.audit_dict(audit)

    def end_expired(self, now: datetime.datetime) -> list[Row]:
        """End (SUCCEEDED) the PENDING or SUSPENDED CONTINUOUS audits
        whose ``end_time`` has passed, compare-and-set.

        :returns: the audits ended, as they were before.
        """
        with self._wrap(), self._session() as session:
            expired = session.scalars(
                sa.select(models.Audit)
                .where(models.Audit.audit_type == states.CONTINUOUS,
                       models.Audit.state.in_([states.PENDING,
                                               states.SUSPENDED]),
                       models.Audit.end_time.is_not(None),
                       models.Audit.end_time <= now)
                .order_by(models.Audit.id)).all()
            ended = []
            for audit in expired:
                before = row_dicts.audit_dict(audit)
                result = session.execute(
                    sa.update(models.Audit)
                    .where(models.Audit.id == audit.id,
                           models.Audit.state == before['state'])
                    .values(state=states.SUCCEEDED, updated_at=now,
                            finished_at=now, next_run_at=None,
                            state_reason='end_time %s reached'
                            % before['end_time'].isoformat()))
                if result.rowcount == 1:
                    ended.append(before)
            return ended

    def orphaned_audits(self, live_owners: Iterable[str]) -> list[Row]:
        """ONGOING audits whose owner is not one of ``live_owners`` (an
        engine that left the cluster), as dicts."""
        with self._wrap(), self._session() as session:
            return [row_dicts.audit_dict(a) for a in session.scalars(
                sa.select(models.Audit)
                .where(models.Audit.state == states.ONGOING,
                       models.Audit.owner.is_not(None),
                       models.Audit.owner.not_in(list(live_owners)))
                .order_by(models.Audit.id))]

    def requeue_orphan(self, audit_uuid: str, dead_owner: str,
                       by: str) -> Row | None:
        """ONGOING of ``dead_owner`` -> PENDING, compare-and-set, so that
        of the survivors exactly one requeues it (a ONESHOT audit runs
        again: it only recommends; a CONTINUOUS one is due at once).

        :returns: the audit, or None when it was no longer ONGOING with
            that owner.
        """
        now = timeutils.utcnow()
        with self._wrap(), self._session() as session:
            result = session.execute(
                sa.update(models.Audit)
                .where(models.Audit.uuid == audit_uuid,
                       models.Audit.state == states.ONGOING,
                       models.Audit.owner == dead_owner)
                .values(state=states.PENDING, updated_at=now,
                        next_run_at=sa.case(
                            (models.Audit.audit_type == states.CONTINUOUS,
                             now), else_=models.Audit.next_run_at),
                        state_reason='engine %s left the cluster during '
                                     'the run; taken over by %s'
                                     % (dead_owner, by)))
            if result.rowcount != 1:
                return None
            return row_dicts.audit_dict(self._audit(session, audit_uuid))

    def fail_interrupted(self, owner: str) -> list[str]:
        """At start: settle the audits the engine ``owner`` left ONGOING.

        ONESHOT audits end FAILED with reason "interrupted"; CONTINUOUS
        ones go back to PENDING, due at once. PENDING audits are left
        PENDING and run again. Audits ONGOING with another owner are left
        alone: another engine on this database is running them. Audits
        ONGOING with no owner were taken before revision 0002 (when one
        engine per database was the rule) and are settled too.

        :returns: the uuids of the audits changed.
        """
        if not owner:
            raise ValueError('interrupted audits are settled per engine; '
                             'an owner is needed')
        now = timeutils.utcnow()
        mine = sa.and_(
            models.Audit.state == states.ONGOING,
            sa.or_(models.Audit.owner == owner,
                   models.Audit.owner.is_(None)))
        changed = []
        with self._wrap(), self._session() as session:
            # NOTE: compare-and-set UPDATEs, not read-then-write: a cancel
            # committed meanwhile is never overwritten.
            for audit_type, values in (
                    (states.CONTINUOUS, {
                        'state': states.PENDING,
                        'state_reason': '%s: the engine stopped during a '
                                        'run; running again'
                                        % states.INTERRUPTED,
                        'next_run_at': now}),
                    (states.ONESHOT, {
                        'state': states.FAILED,
                        'state_reason': states.INTERRUPTED,
                        'finished_at': now})):
                # NOTE: anything not CONTINUOUS is settled as a ONESHOT.
                type_match = (
                    models.Audit.audit_type == audit_type
                    if audit_type == states.CONTINUOUS else
                    models.Audit.audit_type != states.CONTINUOUS)
                result = session.execute(
                    sa.update(models.Audit)
                    .where(mine, type_match)
                    .values(updated_at=now, **values)
                    .returning(models.Audit.uuid))
                changed.extend(result.scalars().all())
        return changed

    def count_by_state(self) -> dict[str, int]:
        with self._wrap(), self._session() as session:
            rows = session.execute(
                sa.select(models.Audit.state, sa.func.count())
                .group_by(models.Audit.state)).all()
        counts = {state: 0 for state in states.STATES}
        counts.update({state: count for state, count in rows})
        return counts

    # -- action plans ------------------------------------------------------

    def get_action_plan(self, plan_uuid: str) -> Row:
        with self._wrap(), self._session() as session:
            plan = session.scalars(
                sa.select(models.ActionPlan)
                .where(models.ActionPlan.uuid == plan_uuid)
                .options(orm.selectinload(models.ActionPlan.actions),
                         orm.joinedload(models.ActionPlan.audit))
            ).one_or_none()
            if plan is None:
                raise NotFound('no action plan %s' % plan_uuid)
            return row_dicts.plan_dict(plan)

    def list_action_plans(self, audit_uuid: str) -> list[Row]:
        with self._wrap(), self._session() as session:
            audit = self._audit(session, audit_uuid)
            return [row_dicts.plan_dict(p, with_actions=False)
                    for p in audit.action_plans]

    # -- errors ------------------------------------------------------------

    class _Wrap:
        def __enter__(self):
            return self

        def __exit__(self, exc_type, exc, tb):
            if exc is not None and (
                    isinstance(exc, sa_exc.OperationalError)
                    or reconnect.is_disconnect(exc)):
                raise StoreError('database error: %s'
                                 % str(exc.orig).strip().splitlines()[0]
                                 ) from exc
            return False

    def _wrap(self):
        return self._Wrap()

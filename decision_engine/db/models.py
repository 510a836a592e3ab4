"""Tables of the store (SQLAlchemy 2.x declarative models).

Conventions as in oslo.db: integer primary keys, a unique ``uuid`` exposed
by the API, ``created_at``/``updated_at`` in naive UTC. Any change here
needs a new migration under ``migrations/versions``.
"""

import datetime
import uuid as uuid_mod

import sqlalchemy as sa
from sqlalchemy import orm

from decision_engine.common import timeutils


class Base(orm.DeclarativeBase):
    pass


class TimestampMixin:
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=timeutils.utcnow, nullable=False)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, onupdate=timeutils.utcnow)


class Audit(TimestampMixin, Base):
    __tablename__ = 'audits'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_audits0uuid'),
        sa.Index('audits_state_idx', 'state'),
        sa.Index('audits_next_run_at_idx', 'next_run_at'),
        sa.Index('audits_state_owner_idx', 'state', 'owner'),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36))
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    audit_type: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    state: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    state_reason: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    strategy: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    parameters: orm.Mapped[dict] = orm.mapped_column(sa.JSON)
    scope: orm.Mapped[dict] = orm.mapped_column(sa.JSON)
    interval: orm.Mapped[int | None] = orm.mapped_column(sa.Integer)
    cron: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    next_run_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)
    started_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)
    finished_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)
    runs: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    model_age: orm.Mapped[float | None] = orm.mapped_column(sa.Float)
    build_seconds: orm.Mapped[float | None] = orm.mapped_column(sa.Float)
    strategy_seconds: orm.Mapped[float | None] = orm.mapped_column(sa.Float)
    last_action_plan_uuid: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(36))
    # NOTE: the ``[DEFAULT] host`` of the engine that took the audit last
    # (set with PENDING -> ONGOING); an engine at start settles only the
    # ONGOING audits it owns. NULL for audits never run, or run before
    # revision 0002.
    owner: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    # NOTE: revision 0005: start each plan of the audit as soon as it is
    # stored (Watcher's auto_trigger).
    auto_trigger: orm.Mapped[bool] = orm.mapped_column(
        sa.Boolean, default=False, server_default=sa.false())
    # NOTE: revision 0006: a CONTINUOUS audit runs only from start_time and
    # ends SUCCEEDED once a next run would come after end_time.
    start_time: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)
    end_time: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)

    action_plans: orm.Mapped[list['ActionPlan']] = orm.relationship(
        back_populates='audit', cascade='all, delete-orphan',
        order_by='ActionPlan.id')


class ActionPlan(TimestampMixin, Base):
    __tablename__ = 'action_plans'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_action_plans0uuid'),
        sa.Index('action_plans_audit_id_idx', 'audit_id'),
        sa.Index('action_plans_state_owner_idx', 'state', 'owner'),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36))
    audit_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey('audits.id', ondelete='CASCADE'))
    state: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    strategy: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    indicators: orm.Mapped[dict] = orm.mapped_column(sa.JSON)
    message: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    model_age: orm.Mapped[float | None] = orm.mapped_column(sa.Float)
    build_seconds: orm.Mapped[float | None] = orm.mapped_column(sa.Float)
    strategy_seconds: orm.Mapped[float | None] = orm.mapped_column(sa.Float)
    # NOTE: revision 0003, the applier: why the plan ended as it did, the
    # ``[DEFAULT] host`` of the engine applying it, and when.
    state_reason: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    owner: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    started_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)
    finished_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)

    audit: orm.Mapped[Audit] = orm.relationship(back_populates='action_plans')
    actions: orm.Mapped[list['Action']] = orm.relationship(
        back_populates='action_plan', cascade='all, delete-orphan',
        order_by='Action.position')


def _new_uuid():
    return str(uuid_mod.uuid4())


class Action(Base):
    __tablename__ = 'actions'
    __table_args__ = (sa.UniqueConstraint('action_plan_id', 'position',
                                          name='uniq_actions0plan0position'),
                      sa.UniqueConstraint('uuid', name='uniq_actions0uuid'))

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    # NOTE: revision 0005, for Watcher's API, which names actions by uuid.
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36),
                                              default=_new_uuid)
    action_plan_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey('action_plans.id', ondelete='CASCADE'))
    position: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    action_type: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    input_parameters: orm.Mapped[dict] = orm.mapped_column(sa.JSON)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    state: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    state_reason: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    started_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)
    finished_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)
    # NOTE: revision 0006: the uuids of the actions this one waits for,
    # space-separated (text, not JSON: a page of 1,000 actions decodes no
    # JSON column it does not show); NULL for actions stored before.
    parents: orm.Mapped[str | None] = orm.mapped_column(sa.Text)

    action_plan: orm.Mapped[ActionPlan] = orm.relationship(
        back_populates='actions')


class AuditTemplate(TimestampMixin, Base):
    """Revision 0005: Watcher's audit templates (a goal, maybe a strategy,
    a scope in Watcher's list form, default parameters)."""

    __tablename__ = 'audit_templates'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_audit_templates0uuid'),
        sa.UniqueConstraint('name', name='uniq_audit_templates0name'),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36))
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    goal: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    strategy: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    scope: orm.Mapped[list] = orm.mapped_column(sa.JSON)
    default_parameters: orm.Mapped[dict] = orm.mapped_column(sa.JSON)


class NodePowerFailure(Base):
    """Revision 0004: a node whose last power-state polls failed, as the
    engine polling it counted them (a row only while they fail)."""

    __tablename__ = 'node_power_failures'

    hostname: orm.Mapped[str] = orm.mapped_column(sa.String(255),
                                                  primary_key=True)
    failures: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    power_failure: orm.Mapped[bool] = orm.mapped_column(sa.Boolean)
    last_error: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    #: the ``[DEFAULT] host`` of the engine that counted the last failure.
    engine: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=timeutils.utcnow)

"""Paged listings and audit templates, for Watcher's REST API v1 (mixed
into :class:`decision_engine.db.api.Store`).

A page is ordered by one sort key then by the row id (so rows with equal
keys keep one order), and starts after the row whose uuid is the
``marker``. Only columns that are never NULL may be sort keys: a NULL
would sort first on SQLite and last on PostgreSQL.
"""

from __future__ import annotations

import uuid as uuid_mod
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from decision_engine.common import timeutils
from decision_engine.db import errors
from decision_engine.db import models
from decision_engine.db import reconnect
from decision_engine.db import row_dicts
from decision_engine.db import store_core

Row = row_dicts.Row

#: the sort keys each listing accepts (besides ``id``, the default).
SORT_KEYS = {
    'audits': ('uuid', 'name', 'audit_type', 'state', 'strategy',
               'created_at'),
    'action_plans': ('uuid', 'state', 'strategy', 'created_at'),
    'actions': ('uuid', 'state', 'action_type', 'position'),
    'audit_templates': ('uuid', 'name', 'goal', 'created_at'),
}


_ACTION_COLUMNS = ('uuid', 'position', 'action_type', 'input_parameters',
                   'description', 'state', 'state_reason', 'started_at',
                   'finished_at', 'updated_at', 'parents')

#: the columns of a page without details (Watcher's short lists): no JSON
#: column but the scope, which the short audit list shows.
_BRIEF_AUDIT_COLUMNS = ('uuid', 'name', 'audit_type', 'state', 'strategy',
                        'scope', 'interval', 'cron', 'next_run_at',
                        'auto_trigger')
_BRIEF_ACTION_COLUMNS = ('uuid', 'position', 'action_type', 'state',
                         'parents')


def _delete_in_states(session, model, kind, uuid, from_states):
    """Delete the row of ``model`` (an audit or a plan, with what it owns)
    whose uuid is ``uuid``, only if its state is one of ``from_states``.

    :returns: whether it was deleted.
    :raises NotFound: for an unknown uuid (``kind`` names it).
    """
    row = session.scalars(sa.select(model).where(
        model.uuid == uuid)).one_or_none()
    if row is None:
        raise errors.NotFound('%s %s could not be found' % (kind, uuid))
    if row.state not in set(from_states):
        return False
    # NOTE: through the ORM, so the cascade also works on SQLite without
    # its foreign keys pragma.
    session.delete(row)
    return True


class InvalidSort(ValueError):
    """An unknown sort key or direction; the message names it."""


class TemplateConflict(ValueError):
    """An audit template of that name exists already."""


def _check_sort(kind, sort_key, sort_dir):
    if sort_key != 'id' and sort_key not in SORT_KEYS[kind]:
        raise InvalidSort('sort_key %r is not one of %s' % (
            sort_key, ', '.join(('id',) + SORT_KEYS[kind])))
    if sort_dir not in ('asc', 'desc'):
        raise InvalidSort('sort_dir must be asc or desc, not %r'
                          % sort_dir)


def _paged(session, model, query, kind, limit, marker, sort_key,
           sort_dir, rows=False):
    """The page's ORM objects, or its result rows with ``rows`` (for a
    query of columns)."""
    _check_sort(kind, sort_key, sort_dir)
    column = getattr(model, sort_key)
    descending = sort_dir == 'desc'
    if marker:
        # NOTE: the marker's id and sort value only, not its whole row.
        after = session.execute(sa.select(model.id, column).where(
            model.uuid == marker)).one_or_none()
        if after is None:
            raise errors.NotFound('marker %s is not a known %s'
                                  % (marker, kind[:-1].replace('_', ' ')))
        value = after[1]
        if descending:
            query = query.where(sa.or_(column < value, sa.and_(
                column == value, model.id < after.id)))
        else:
            query = query.where(sa.or_(column > value, sa.and_(
                column == value, model.id > after.id)))
    if descending:
        query = query.order_by(column.desc(), model.id.desc())
    else:
        query = query.order_by(column.asc(), model.id.asc())
    if limit:
        query = query.limit(limit)
    return session.execute(query) if rows else session.scalars(query)


def _dicts(result):
    """The rows of ``result`` as dicts (zipped with its keys, cheaper than
    ``dict(row._mapping)`` per row: a page of 1,000 actions 13 -> 11 ms
    through the whole WSGI stack in process)."""
    keys = list(result.keys())
    return [dict(zip(keys, row)) for row in result]


class ListingStoreMixin(store_core.StoreCore):

    # -- pages ---------------------------------------------------------

    def page_audits(self, limit: int | None = None,
                    marker: str | None = None, sort_key: str = 'id',
                    sort_dir: str = 'asc',
                    strategies: Iterable[str] | None = None,
                    detail: bool = True) -> list[Row]:
        """A page of audits; ``strategies``: only audits of these;
        without ``detail`` only the columns of Watcher's short list."""
        fields = row_dicts.AUDIT_FIELDS if detail else _BRIEF_AUDIT_COLUMNS
        with self._wrap(), self._session() as session:
            query = sa.select(*[getattr(models.Audit, f) for f in fields])
            if strategies is not None:
                query = query.where(
                    models.Audit.strategy.in_(list(strategies)))
            return _dicts(_paged(
                session, models.Audit, query, 'audits', limit, marker,
                sort_key, sort_dir, rows=True))

    def find_audit(self, ident: str) -> Row:
        """An audit by uuid, or by name when no uuid matches."""
        with self._wrap(), self._session() as session:
            audit = session.scalars(sa.select(models.Audit).where(
                models.Audit.uuid == ident)).one_or_none()
            if audit is None:
                audit = session.scalars(sa.select(models.Audit).where(
                    models.Audit.name == ident).order_by(
                        models.Audit.id).limit(1)).one_or_none()
            if audit is None:
                raise errors.NotFound('Audit %s could not be found' % ident)
            return row_dicts.audit_dict(audit)

    def delete_audit(self, audit_uuid: str,
                     from_states: Iterable[str]) -> bool:
        """Delete an audit, its plans and their actions, only if its state
        is one of ``from_states``.

        :returns: whether it was deleted.
        :raises NotFound: for an unknown audit.
        """
        with self._wrap(), self._session() as session:
            return _delete_in_states(session, models.Audit, 'Audit',
                                     audit_uuid, from_states)

    def page_action_plans(self, limit: int | None = None,
                          marker: str | None = None, sort_key: str = 'id',
                          sort_dir: str = 'asc',
                          audit_uuid: str | None = None,
                          strategies: Iterable[str] | None = None
                          ) -> list[Row]:
        """A page of plans (without their actions)."""
        with self._wrap(), self._session() as session:
            query = sa.select(
                *[getattr(models.ActionPlan, f)
                  for f in row_dicts.PLAN_FIELDS],
                models.Audit.uuid.label('audit_uuid'),
            ).join(models.ActionPlan.audit)
            if audit_uuid:
                query = query.where(models.Audit.uuid == audit_uuid)
            if strategies is not None:
                query = query.where(
                    models.ActionPlan.strategy.in_(list(strategies)))
            return _dicts(_paged(
                session, models.ActionPlan, query, 'action_plans', limit,
                marker, sort_key, sort_dir, rows=True))

    def page_actions(self, limit: int | None = None,
                     marker: str | None = None, sort_key: str = 'id',
                     sort_dir: str = 'asc',
                     action_plan_uuid: str | None = None,
                     audit_uuid: str | None = None,
                     detail: bool = True) -> list[Row]:
        """A page of actions with their plan's uuid and (with
        ``detail``) creation time; without ``detail`` only the columns of
        Watcher's short list.

        NOTE: here and in the other pages, columns, not ORM objects: a
        page of 1,000 rows is read in a third of the time; and no JSON
        column a page does not show (decoding them was half of a short
        page's time).
        """
        columns = [getattr(models.Action, f) for f in (
            _ACTION_COLUMNS if detail else _BRIEF_ACTION_COLUMNS)]
        columns.append(models.ActionPlan.uuid.label('action_plan_uuid'))
        if detail:
            columns.append(models.ActionPlan.created_at.label('created_at'))
        with self._wrap(), self._session() as session:
            query = sa.select(*columns).join(models.Action.action_plan)
            if action_plan_uuid:
                query = query.where(
                    models.ActionPlan.uuid == action_plan_uuid)
            if audit_uuid:
                query = query.join(models.ActionPlan.audit).where(
                    models.Audit.uuid == audit_uuid)
            return _dicts(_paged(
                session, models.Action, query, 'actions', limit, marker,
                sort_key, sort_dir, rows=True))

    @staticmethod
    def _action_row(action):
        data = row_dicts.action_dict(action)
        data['created_at'] = action.action_plan.created_at
        return data

    def get_action(self, action_uuid: str) -> Row:
        with self._wrap(), self._session() as session:
            action = session.scalars(
                sa.select(models.Action).where(
                    models.Action.uuid == action_uuid)
                .options(orm.joinedload(models.Action.action_plan))
            ).one_or_none()
            if action is None:
                raise errors.NotFound('Action %s could not be found'
                                      % action_uuid)
            return self._action_row(action)

    # -- audit templates -------------------------------------------------

    def create_template(self, values: Row) -> Row:
        """Insert an audit template.

        :raises TemplateConflict: when its name is taken.
        """
        # NOTE: the key is taken once, before any attempt (as for audits).
        values = dict(values, uuid=values.get('uuid') or str(
            uuid_mod.uuid4()))
        try:
            return self._insert_template(values)
        except sa_exc.IntegrityError:
            # NOTE: an insert made again after its COMMIT was applied
            # meets itself: that is the template, not a conflict.
            try:
                return self.find_template(values['uuid'])
            except errors.NotFound:
                raise TemplateConflict('an audit template named %r exists '
                                       'already' % values['name'])

    @reconnect.retrying
    def _insert_template(self, values):
        with self._wrap(), self._session() as session:
            template = models.AuditTemplate(
                uuid=values['uuid'], name=values['name'],
                description=values.get('description'),
                goal=values['goal'], strategy=values.get('strategy'),
                scope=values.get('scope') or [],
                default_parameters=values.get('default_parameters') or {})
            session.add(template)
            session.flush()
            return row_dicts.template_dict(template)

    def _template(self, session, ident):
        template = session.scalars(sa.select(models.AuditTemplate).where(
            models.AuditTemplate.uuid == ident)).one_or_none()
        if template is None:
            template = session.scalars(sa.select(models.AuditTemplate).where(
                models.AuditTemplate.name == ident)).one_or_none()
        if template is None:
            raise errors.NotFound('AuditTemplate %s could not be found'
                                  % ident)
        return template

    def find_template(self, ident: str) -> Row:
        """An audit template by uuid or name."""
        with self._wrap(), self._session() as session:
            return row_dicts.template_dict(self._template(session, ident))

    def page_templates(self, limit: int | None = None,
                       marker: str | None = None, sort_key: str = 'id',
                       sort_dir: str = 'asc', goal: str | None = None,
                       strategy: str | None = None) -> list[Row]:
        with self._wrap(), self._session() as session:
            query = sa.select(models.AuditTemplate)
            if goal:
                query = query.where(models.AuditTemplate.goal == goal)
            if strategy:
                query = query.where(models.AuditTemplate.strategy == strategy)
            return [row_dicts.template_dict(t) for t in _paged(
                session, models.AuditTemplate, query, 'audit_templates',
                limit, marker, sort_key, sort_dir)]

    def update_template(self, ident: str, values: dict[str, Any]) -> Row:
        """:raises TemplateConflict: for a name taken by another one."""
        try:
            with self._wrap(), self._session() as session:
                template = self._template(session, ident)
                for key, value in values.items():
                    setattr(template, key, value)
                template.updated_at = timeutils.utcnow()
                session.flush()
                return row_dicts.template_dict(template)
        except sa_exc.IntegrityError:
            raise TemplateConflict('an audit template named %r exists '
                                   'already' % values.get('name'))

    def delete_template(self, ident: str) -> None:
        with self._wrap(), self._session() as session:
            session.delete(self._template(session, ident))

    def delete_plan(self, plan_uuid: str,
                    from_states: Iterable[str]) -> bool:
        """Delete a plan and its actions, only if its state is one of
        ``from_states``; :returns: whether it was deleted.

        :raises NotFound: for an unknown plan.
        """
        with self._wrap(), self._session() as session:
            return _delete_in_states(session, models.ActionPlan,
                                     'Action plan', plan_uuid, from_states)

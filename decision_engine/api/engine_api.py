"""The small interface between the HTTP API and the engine.

The API calls only these methods; the manager builds one :class:`EngineAPI`
from its parts and hands it to :func:`decision_engine.api.server.start`.
Everything returned is JSON-able (datetimes become ISO 8601 strings).
"""

import dataclasses
import datetime
import time

from decision_engine.db import api as db_api
from decision_engine.strategies import loader

NotFound = db_api.NotFound


def jsonable(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, datetime.datetime):
        return value.isoformat() + 'Z'
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


class EngineAPI:
    """What the API may ask of the engine.

    :param audits: the :class:`~decision_engine.audit.service.AuditService`.
    :param store: the :class:`~decision_engine.db.api.Store`.
    :param collector: the model collector (``status()`` and
        ``current_model()``), or None.
    :param status: a callable returning the manager's ``EngineStatus``.
    """

    def __init__(self, audits, store, collector=None, status=None):
        self.audits = audits
        self.store = store
        self.collector = collector
        self._status = status
        self.started_at = time.time()

    # -- audits --------------------------------------------------------------

    def create_audit(self, body):
        return jsonable(self.audits.create(body))

    def list_audits(self, state=None, limit=None, marker=None):
        return jsonable(self.store.list_audits(state=state, limit=limit,
                                               marker=marker))

    def get_audit(self, audit_uuid):
        audit = self.store.get_audit(audit_uuid)
        audit['action_plans'] = self.store.list_action_plans(audit_uuid)
        return jsonable(audit)

    def cancel_audit(self, audit_uuid):
        return jsonable(self.audits.cancel(audit_uuid))

    def get_action_plan(self, plan_uuid):
        return jsonable(self.store.get_action_plan(plan_uuid))

    def list_strategies(self):
        return [cls.describe() for _, cls in
                sorted(loader.available().items())]

    # -- engine state ------------------------------------------------------

    def collector_status(self):
        """The collector's own status (cheap: no model copy), or None:
        a ``CollectorStatus`` (see :mod:`decision_engine.collector.
        collector`)."""
        return self.collector.status() if self.collector else None

    def model_summary(self):
        """The current model's summary and how stale it is."""
        result = {'max_model_age': self.audits.conf.audit.max_model_age}
        if self.collector is None:
            result['collector'] = None
            return result
        result['collector'] = jsonable(self.collector_status())
        model = self.collector.current_model()
        if model is not None:
            result['summary'] = jsonable(model.summary())
            age = model.age()
            result['age_seconds'] = age
            # NOTE: an event-fed model that is caught up is current
            # however old its last full build ([notifications]).
            live = getattr(self.collector, 'live', None)
            result['event_fed'] = bool(live is not None and live.fresh())
            result['stale'] = not result['event_fed'] and (
                age is None or age > self.audits.conf.audit.max_model_age)
        return result

    def status(self):
        """The engine's typed status (the manager's ``EngineStatus``)."""
        return self._status()

    def status_document(self):
        """``GET /v1/status``: the engine's status and its uptime."""
        document = jsonable(self.status())
        document['uptime_seconds'] = time.time() - self.started_at
        return document

"""The small interface between the HTTP API and the engine.

The API calls only these methods; the manager builds one :class:`EngineAPI`
from its parts and hands it to :func:`decision_engine.api.server.start`.
Everything returned is JSON-able (datetimes become ISO 8601 strings).
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from typing import Any, Callable

from decision_engine.applier import applier as applier_mod
from decision_engine.audit import scope as scope_mod
from decision_engine.audit import service as audit_service_mod
from decision_engine.audit import strategy_call
from decision_engine.collector import collector as collector_mod
from decision_engine.collector import protocols as collector_protocols
from decision_engine.common import measurements as metrics_mod
from decision_engine.datasources import gather as gather_mod
from decision_engine.db import api as db_api
from decision_engine.db import protocols as db_protocols
from decision_engine.model import errors as model_errors
from decision_engine.strategies import loader

NotFound = db_api.NotFound


class ApplierUnavailable(RuntimeError):
    pass


def with_durations(plan: dict[str, Any]) -> dict[str, Any]:
    """Add ``duration_seconds`` to the plan and each action that
    started (up to now for a running one)."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    for item in [plan] + list(plan.get('actions') or []):
        started = item.get('started_at')
        if started is not None:
            end = item.get('finished_at') or now
            item['duration_seconds'] = round(
                (end - started).total_seconds(), 3)
    return plan


def jsonable(value: Any) -> Any:
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
    :param collector: the model collector, or its
        :class:`~decision_engine.collector.collector.DisabledCollector`
        (the default).
    :param status: a callable returning the manager's ``EngineStatus``.
    :param applier: the :class:`~decision_engine.applier.applier.Applier`,
        or None (plans cannot be started or cancelled).
    """

    def __init__(self, audits: audit_service_mod.AuditService,
                 store: db_protocols.SharedStore,
                 collector: collector_protocols.Collector | None = None,
                 status: Callable[[], Any] | None = None,
                 applier: applier_mod.Applier | None = None) -> None:
        self.audits = audits
        self.store = store
        self.applier = applier
        #: a ModelCollector, or its DisabledCollector stand-in.
        self.collector: collector_protocols.Collector = (
            collector if collector is not None
            else collector_mod.DisabledCollector())
        self._status = status
        self.started_at = time.time()

    # -- audits --------------------------------------------------------------

    def create_audit(self, body: Any) -> Any:
        return jsonable(self.audits.create(body))

    def list_audits(self, state: str | None = None, limit: int | None = None,
                    marker: str | None = None) -> Any:
        return jsonable(self.store.list_audits(state=state, limit=limit,
                                               marker=marker))

    def get_audit(self, audit_uuid: str) -> Any:
        audit = self.store.get_audit(audit_uuid)
        audit['action_plans'] = self.store.list_action_plans(audit_uuid)
        return jsonable(audit)

    def cancel_audit(self, audit_uuid: str) -> Any:
        return jsonable(self.audits.cancel(audit_uuid))

    def get_action_plan(self, plan_uuid: str) -> Any:
        return jsonable(with_durations(self.store.get_action_plan(
            plan_uuid)))

    def _applier(self) -> applier_mod.Applier:
        if self.applier is None:
            raise ApplierUnavailable('this engine has no applier running')
        return self.applier

    def start_action_plan(self, plan_uuid: str) -> Any:
        return jsonable(with_durations(
            self._applier().start_plan(plan_uuid)))

    def cancel_action_plan(self, plan_uuid: str) -> Any:
        return jsonable(with_durations(
            self._applier().cancel_plan(plan_uuid)))

    def list_strategies(self) -> list[dict[str, Any]]:
        return [cls.describe() for _, cls in
                sorted(loader.available().items())]

    def get_strategy(self, name: str, scope: dict | None = None,
                     parameters: dict | None = None) -> dict[str, Any]:
        """A strategy's description and ``metrics_check``: whether the
        metrics it needs (with ``parameters``) exist for ``scope``.

        :raises LookupError: unknown strategy.
        :raises ValueError: invalid scope or parameters (one line).
        """
        call = strategy_call.check(name, parameters, scope,
                                   unchecked_defaults=True)
        result = call.strategy.describe()
        result['metrics_check'] = jsonable(self._metrics_check(
            call.strategy.required_metrics(call.parameters), call.scope))
        return result

    def _metrics_check(self, required, scope):
        check = {'required': list(required), 'available': True,
                 'datasource': None, 'metrics': {}, 'error': None}
        if not required:
            return check
        gatherer = self.audits.metrics
        if gatherer is None:
            check.update(available=False, error='no datasource is '
                         'configured ([datasource] prometheus_url is not '
                         'set)')
            return check
        check['datasource'] = gatherer.describe()
        if not self.collector.enabled:
            check.update(available=False, error='the collector is disabled: '
                         'no model to know the scope\'s hosts and instances')
            return check
        try:
            model = self.collector.get_model(
                max_age=self.audits.conf.audit.max_model_age,
                scope=scope_mod.model_scope(scope))
            context = scope_mod.resolve(model, scope)
            report = gatherer.check(metrics_mod.needed(context, required))
        except model_errors.ModelBuildError as exc:
            check.update(available=False,
                         error='no model of the cloud: %s' % exc)
            return check
        except gather_mod.GatheringError as exc:
            check.update(available=False, error=str(exc))
            return check
        for entry in report.values():
            # NOTE: the first names are enough to act on; the count says
            # how many there are.
            entry['missing_count'] = len(entry['missing'])
            entry['missing'] = entry['missing'][:50]
        check['metrics'] = report
        check['available'] = all(not e['missing_count']
                                 for e in report.values())
        return check

    # -- engine state ------------------------------------------------------

    def collector_status(self) -> collector_mod.CollectorStatus | None:
        """The collector's own status (cheap: no model copy), or None:
        a ``CollectorStatus`` (see :mod:`decision_engine.collector.
        collector`)."""
        return self.collector.status()

    def gathering_statistics(self) -> gather_mod.GatheringStatistics | None:
        """The metrics gatherer's ``GatheringStatistics``, or None without
        a datasource."""
        gatherer = self.audits.metrics
        return gatherer.statistics() if gatherer is not None else None

    def model_summary(self) -> dict[str, Any]:
        """The current model's summary and how stale it is."""
        result = {'max_model_age': self.audits.conf.audit.max_model_age}
        if self.applier is not None:
            # NOTE: which plan's end asked for the current model, if any:
            # the model is rebuilt (not patched) after each plan.
            result['after_plan'] = jsonable(
                self.applier.statistics().model_refresh)
        if not self.collector.enabled:
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
            live = self.collector.live
            result['event_fed'] = bool(live is not None and live.fresh())
            result['stale'] = not result['event_fed'] and (
                age is None or age > self.audits.conf.audit.max_model_age)
        return result

    def status(self) -> Any:
        """The engine's typed status (the manager's ``EngineStatus``).

        :raises RuntimeError: this API was built without ``status``.
        """
        if self._status is None:
            raise RuntimeError('this engine API was built without a status '
                               'source (status=None)')
        return self._status()

    def status_document(self) -> dict[str, Any]:
        """``GET /v1/status``: the engine's status and its uptime."""
        document = jsonable(self.status())
        document['uptime_seconds'] = time.time() - self.started_at
        return document

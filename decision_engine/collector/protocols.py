"""The model collector as the parts above it see it (a typed seam).

The manager builds a :class:`~decision_engine.collector.collector.
ModelCollector`, or with ``[collector] enabled = false`` a
:class:`~decision_engine.collector.collector.DisabledCollector` (a null
object: a model asked for is a clear error, there is no status and no
current model), and hands it to the audit service and the API. Both
satisfy :class:`Collector`; callers never hold None.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from decision_engine.collector import collector as collector_mod
from decision_engine.collector import notifications
from decision_engine.model import elements
from decision_engine.model import scope as scope_mod


@runtime_checkable
class Collector(Protocol):
    """The owner of the current compute models."""

    #: False for the DisabledCollector.
    enabled: bool
    #: the notification listener feeding the whole-cloud model, or None.
    live: notifications.NotificationListener | None

    def get_model(self, max_age: float | None = None,
                  scope: scope_mod.Scope | None = None
                  ) -> elements.ComputeModel: ...

    def get_snapshot(self, max_age: float | None = None,
                     scope: scope_mod.Scope | None = None
                     ) -> elements.ComputeModel: ...

    def current_model(self, scope: scope_mod.Scope | None = None
                      ) -> elements.ComputeModel | None: ...

    def status(self) -> collector_mod.CollectorStatus | None: ...

    def refresh_model(self) -> None: ...

    def stop(self) -> None: ...

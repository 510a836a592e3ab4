"""The cluster as the parts above it see it (a typed seam).

The manager builds one cluster per engine, a
:class:`~decision_engine.coordination.cluster.Cluster` with ``[coordination]
backend_url`` set, else a :class:`~decision_engine.coordination.cluster.
SoleCluster` (a null object: one member, itself, the leader and owner of
everything), and hands it to the audit service and the applier's plan
claims. Both satisfy :class:`Cluster`; callers never hold None.
"""

from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

from decision_engine.coordination import cluster as cluster_mod


@runtime_checkable
class Cluster(Protocol):
    """This engine's membership in a cluster of engines."""

    #: False for an engine alone (a SoleCluster).
    enabled: bool

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def owns(self, key: str) -> bool: ...

    def owner_of(self, key: str) -> str | None: ...

    def is_leader(self) -> bool: ...

    def live_members(self) -> set[str]: ...

    def count_takeover(self, kind: str, count: int) -> None: ...

    def add_listener(self, listener: cluster_mod.Listener) -> None: ...

    def add_leader_chore(self, chore: Callable[[], object]) -> None: ...

    def status(self) -> cluster_mod.ClusterStatus: ...

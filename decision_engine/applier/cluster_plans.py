"""Action plans in a cluster: each plan runs on the ring's owner of its
uuid, and the running plans of an engine that left move to a survivor.

The store's owner column says who runs a plan. Any engine's API accepts a
start: the plan is stored PENDING with the ring's owner as its owner
(:meth:`~decision_engine.applier.applier.Applier.start_plan`), and that
engine's :meth:`PlanClaims.claim` picks it up. When an owner leaves the
group (a clean stop at once, a SIGKILL after ``[coordination]
membership_timeout``), the ring's owner of each of its PENDING, ONGOING or
CANCELLING plans moves the owner column to itself by compare-and-set
(exactly one survivor wins) and resumes the plan through the applier's
resume path: each ONGOING action is checked against the cloud (done, still
moving, or to run again), never replayed blindly.
"""

from __future__ import annotations

import datetime
import logging

from oslo_config import cfg

from decision_engine.applier import applier as applier_mod
from decision_engine.common import plan_states as st
from decision_engine.common import timeutils
from decision_engine.concurrency import periodics
from decision_engine.coordination import protocols as cluster_protocols
from decision_engine.db import protocols as db_protocols

LOG = logging.getLogger(__name__)


class PlanClaims:
    """See the module docstring.

    :param cluster: the coordination part's cluster (``owns``,
        ``live_members``, ``count_takeover``).
    """

    def __init__(self, conf: cfg.ConfigOpts, store: db_protocols.PlanStore,
                 applier: applier_mod.Applier,
                 cluster: cluster_protocols.Cluster) -> None:
        self.conf = conf
        self.store = store
        self.applier = applier
        self.cluster = cluster
        self.host = applier.owner

    @periodics.periodic(
        spacing=lambda self: self.conf.coordination.watcher_interval)
    def claim(self) -> tuple[list[str], list[str]]:
        """Take over the running plans of engines that left, then run the
        plans the store gives this engine that do not run here yet.

        :returns: ``(taken over, picked up)`` plan uuids.
        """
        taken = self.take_over()
        picked = []
        for plan in self.store.list_plans(st.PLAN_RUNNING, owner=self.host):
            if plan['owner'] != self.host or \
                    self.applier.is_running(plan['uuid']):
                continue
            if self.applier.adopt(plan, resumed=plan['state'] != st.PENDING):
                picked.append(plan['uuid'])
                LOG.info('Running action plan %s (%s), started through '
                         'another engine', plan['uuid'], plan['state'])
        return taken, picked

    def take_over(self) -> list[str]:
        """:returns: the uuids of the plans taken over and resumed here."""
        live = set(self.cluster.live_members())
        if self.host not in live:
            # NOTE: no ring yet, or this engine is leaving: claim nothing.
            return []
        taken = []
        for plan in self.store.orphaned_plans(live):
            if not self.cluster.owns(plan['uuid']):
                continue
            claimed = self.store.claim_plan(plan['uuid'], plan['owner'],
                                            self.host)
            if claimed is None:
                continue
            LOG.warning('Action plan %s was %s on engine %s, which left the '
                        'cluster; resuming it here', plan['uuid'],
                        plan['state'], plan['owner'])
            taken.append(plan['uuid'])
            self.applier.adopt(claimed, resumed=True)
        if taken:
            self.cluster.count_takeover('plans', len(taken))
        return taken


def expire_recommended_plans(conf: cfg.ConfigOpts,
                             store: db_protocols.PlanStore) -> list[str]:
    """The leader's chore: RECOMMENDED plans older than ``[applier]
    recommended_plan_ttl`` become SUPERSEDED (their model is stale; run the
    audit again). Once across the cluster, so on the leader only.

    :returns: the uuids expired.
    """
    ttl = conf.applier.recommended_plan_ttl
    if not ttl:
        return []
    expired = store.expire_plans(
        timeutils.utcnow() - datetime.timedelta(seconds=ttl))
    if expired:
        LOG.info('Expired %d RECOMMENDED action plan(s) older than %d s: '
                 '%s', len(expired), ttl, ', '.join(expired))
    return expired

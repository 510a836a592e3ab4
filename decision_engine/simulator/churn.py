"""Churn: a seeded stream of changes to the simulated cloud, each one
published as the notifications Nova sends for it.

:class:`Churn` changes the simulator's :class:`~decision_engine.simulator.
topology.Topology` at ``rate_per_s`` changes a second, in ticks: each tick
applies its share of changes, makes the simulator serve the new state
(:meth:`~decision_engine.simulator.server.Simulator.reload_topology`) and
only then publishes the notifications, as Nova notifies after it saved.

The mix (weights in :data:`MIX`): creates, deletes, live migrations (with
the source's ``live_migration_post.end`` still naming the source, as Nova
sends it, after the destination's ``post_dest.end``), cold migrations
(``resize_finish.end`` then ``resize_confirm.end`` on the destination),
power off/on, compute service disable/enable, and aggregate membership
(aggregates that define no availability zone).
"""

import dataclasses
import datetime
import logging
import random
import threading
import time
import uuid as uuid_mod

from decision_engine.simulator import notifier as notifier_mod
from decision_engine.simulator import records

LOG = logging.getLogger(__name__)

MIX = (('create', 20), ('delete', 18), ('live_migrate', 20),
       ('cold_migrate', 7), ('power', 25), ('service', 5),
       ('aggregate', 5))


@dataclasses.dataclass
class ChurnStats:
    changes: int = 0
    notifications: int = 0
    ticks: int = 0
    reload_seconds: float = 0.0
    by_kind: dict = dataclasses.field(default_factory=dict)


class Churn:
    """:param sim: a started :class:`~decision_engine.simulator.Simulator`.
    :param notifier: a :class:`~decision_engine.simulator.notifier.
        NovaNotifier`, or None to change the cloud silently.
    """

    def __init__(self, sim, notifier, rate_per_s, seed=0, tick_s=0.2):
        self.sim = sim
        self.notifier = notifier
        self.rate_per_s = rate_per_s
        self.tick_s = tick_s
        self.rng = random.Random(seed)
        self.stats = ChurnStats()
        self._stop = threading.Event()
        self._thread = None
        self._carry = 0.0
        topo = sim.topology
        self._hosts = {h.hostname: h for h in topo.hosts}
        self._by_uuid = {i.uuid: i for i in topo.instances
                         if i.host is not None}
        self._uuids = list(self._by_uuid)
        self._slot = {u: n for n, u in enumerate(self._uuids)}
        self._flavors = list({i.flavor.name: i.flavor
                              for i in topo.instances}.values())
        self._owners = sorted({(i.project_id, i.user_id)
                               for i in topo.instances})
        self._kinds = [k for k, _ in MIX]
        self._weights = [w for _, w in MIX]

    # -- life cycle ----------------------------------------------------------

    def start(self):
        self._thread = threading.Thread(target=self._run, name='churn',
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self):
        # NOTE: the changes due are counted from the time gone by, so a
        # slow tick (a large cloud to serve again) makes the next one
        # larger instead of lowering the rate.
        last = time.monotonic()
        while not self._stop.wait(max(0.0, last + self.tick_s
                                      - time.monotonic())):
            now = time.monotonic()
            self._carry += self.rate_per_s * (now - last)
            last = now
            count, self._carry = int(self._carry), self._carry % 1
            try:
                self.step(count)
            except Exception:
                LOG.exception('churn step failed')

    # -- changes -------------------------------------------------------------

    def step(self, count):
        """Apply ``count`` changes, serve them, then publish them."""
        messages = []
        for _ in range(count):
            kind = self.rng.choices(self._kinds, self._weights)[0]
            sent = getattr(self, '_' + kind)(_now())
            if sent is None:
                continue
            # One request of Nova's API per change: its notifications
            # share the request id.
            request_id = 'req-%s' % uuid_mod.uuid4()
            messages.extend(message + (request_id,) for message in sent)
            self.stats.changes += 1
            self.stats.by_kind[kind] = self.stats.by_kind.get(kind, 0) + 1
        started = time.monotonic()
        self.sim.reload_topology()
        self.stats.reload_seconds += time.monotonic() - started
        self.stats.ticks += 1
        if self.notifier is not None:
            for publisher, event_type, payload, request_id in messages:
                self.notifier.send(publisher, event_type, payload,
                                   request_id=request_id)
                self.stats.notifications += 1

    def _instance(self):
        if not self._uuids:
            return None
        return self._by_uuid[self.rng.choice(self._uuids)]

    def _other_host(self, hostname):
        names = [h for h in self._hosts if h != hostname]
        return self.rng.choice(names) if names else None

    def _payload(self, inst, moment, host=None, **kwargs):
        host = inst.host if host is None else host
        return notifier_mod.instance_payload(
            inst, host, moment,
            availability_zone=self._hosts[inst.host].availability_zone,
            **kwargs)

    def _create(self, moment):
        host = self.rng.choice(list(self._hosts))
        project, user = self.rng.choice(self._owners)
        uuid = str(uuid_mod.UUID(int=self.rng.getrandbits(128)))
        inst = records.Instance(
            uuid=uuid, name='churn-%s' % uuid[:8], host=host,
            project_id=project, user_id=user, vm_state='active',
            flavor=self.rng.choice(self._flavors),
            created=notifier_mod.iso(moment))
        self.sim.topology.instances.append(inst)
        self._by_uuid[uuid] = inst
        self._slot[uuid] = len(self._uuids)
        self._uuids.append(uuid)
        payload = self._payload(inst, moment)
        payload['nova_object.name'] = 'InstanceCreatePayload'
        payload['nova_object.data'].update(
            keypairs=[], tags=[], trusted_image_certificates=None,
            instance_name='instance-%s' % uuid[:8])
        return [('nova-compute:%s' % host, 'instance.create.end', payload)]

    def _delete(self, moment):
        inst = self._instance()
        if inst is None:
            return None
        self._forget(inst)
        self.sim.topology.instances.remove(inst)
        payload = self._payload(inst, moment)
        payload['nova_object.data'].update(state='deleted',
                                           deleted_at=notifier_mod.iso(
                                               moment))
        return [('nova-compute:%s' % inst.host, 'instance.delete.end',
                 payload)]

    def _forget(self, inst):
        slot = self._slot.pop(inst.uuid)
        last = self._uuids.pop()
        if last != inst.uuid:
            self._uuids[slot] = last
            self._slot[last] = slot
        del self._by_uuid[inst.uuid]

    def _live_migrate(self, moment):
        inst = self._instance()
        if inst is None or inst.vm_state not in ('active', 'paused'):
            return None
        source, dest = inst.host, self._other_host(inst.host)
        if dest is None:
            return None
        inst.host = dest
        return [
            ('nova-compute:%s' % dest,
             'instance.live_migration_post_dest.end',
             self._payload(inst, moment)),
            # Sent by the source after the destination's; its object still
            # names the source.
            ('nova-compute:%s' % source, 'instance.live_migration_post.end',
             self._payload(inst, moment, host=source,
                           task_state='migrating')),
        ]

    def _cold_migrate(self, moment):
        inst = self._instance()
        if inst is None or inst.vm_state not in ('active', 'stopped'):
            return None
        dest = self._other_host(inst.host)
        if dest is None:
            return None
        inst.host = dest
        finish = self._payload(inst, moment)
        finish['nova_object.data']['state'] = 'resized'
        return [
            ('nova-compute:%s' % dest, 'instance.resize_finish.end', finish),
            ('nova-compute:%s' % dest, 'instance.resize_confirm.end',
             self._payload(inst, moment)),
        ]

    def _power(self, moment):
        inst = self._instance()
        if inst is None:
            return None
        if inst.vm_state == 'active':
            inst.vm_state, event = 'stopped', 'instance.power_off.end'
        elif inst.vm_state == 'stopped':
            inst.vm_state, event = 'active', 'instance.power_on.end'
        else:
            return None
        return [('nova-compute:%s' % inst.host, event,
                 self._payload(inst, moment))]

    def _service(self, moment):
        host = self._hosts[self.rng.choice(list(self._hosts))]
        if host.status == 'enabled':
            host.status, host.disabled_reason = 'disabled', 'churn'
        else:
            host.status, host.disabled_reason = 'enabled', None
        return [('nova-api:controller', 'service.update',
                 notifier_mod.service_payload(host, moment))]

    def _aggregate(self, moment):
        plain = [a for a in self.sim.topology.aggregates
                 if not a.availability_zone]
        if not plain:
            return None
        agg = self.rng.choice(plain)
        hostname = self.rng.choice(list(self._hosts))
        if hostname in agg.hosts:
            agg.hosts.remove(hostname)
            event = 'aggregate.remove_host.end'
        else:
            agg.hosts.append(hostname)
            event = 'aggregate.add_host.end'
        return [('nova-api:controller', event,
                 notifier_mod.aggregate_payload(agg))]


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(
        microsecond=0)

"""Hand-made models for strategy tests, and brute-force references."""

import itertools
import random

from decision_engine.model import elements
from decision_engine.strategies import context as context_mod
from decision_engine.strategies import placement as placement_mod


def node(name, vcpus=8, memory_mb=8192, disk_gb=100, **kw):
    kw.setdefault('power_state', 'power on')
    return elements.ComputeNode(uuid='node-%s' % name, hostname=name,
                                vcpus=vcpus, memory_mb=memory_mb,
                                disk_gb=disk_gb, **kw)


def instance(uuid, host, vcpus=1, memory_mb=1024, disk_gb=10, **kw):
    kw.setdefault('state', 'active')
    kw.setdefault('project_id', 'p1')
    return elements.Instance(uuid=uuid, name='vm-%s' % uuid, host=host,
                             vcpus=vcpus, memory_mb=memory_mb,
                             disk_gb=disk_gb, **kw)


def model(nodes, instances):
    m = elements.ComputeModel()
    for n in nodes:
        m.add_node(n)
    for i in instances:
        m.add_instance(i)
    return m


def context(m, movable=None):
    return context_mod.StrategyContext(m.nodes.values(),
                                       m.instances.values(), movable)


def random_model(rng, hosts, instances, uniform=False):
    """Small random clouds: hosts of a few sizes, instances placed validly
    (first fit from a random host)."""
    nodes = []
    for h in range(hosts):
        size = 8 if uniform else rng.choice([4, 8, 8, 16])
        nodes.append(node('h%d' % h, vcpus=size, memory_mb=size * 1024,
                          disk_gb=size * 20,
                          vcpu_allocation_ratio=1.0 if uniform
                          else rng.choice([1.0, 1.5]),
                          memory_mb_reserved=0 if uniform
                          else rng.choice([0, 512])))
    m = model(nodes, [])
    p = placement_mod.Placement(context(m))
    for i in range(instances):
        vcpus = rng.choice([1, 2, 4])
        inst = instance('i%d' % i, None, vcpus=vcpus,
                        memory_mb=vcpus * 1024 - rng.choice([0, 512]),
                        disk_gb=rng.choice([5, 10, 20]))
        start = rng.randrange(hosts)
        for k in range(hosts):
            host = 'h%d' % ((start + k) % hosts)
            if all(d <= f for d, f in zip(placement_mod.demand(inst),
                                          p.free(host))):
                inst.host = host
                m.add_instance(inst)
                p = placement_mod.Placement(context(m))
                break
    return m


def min_hosts_brute_force(ctx):
    """Fewest hosts that can run every instance (movable instances may go
    to any usable target host; the others stay), by exhaustive search."""
    hosts = sorted(ctx.nodes)
    insts = sorted(ctx.instances.values(), key=lambda i: i.uuid)
    fixed = [i for i in insts if not ctx.can_move(i)]
    movable = [i for i in insts if ctx.can_move(i)]
    targets = [h for h in hosts if ctx.is_target(h)]
    best = None
    for assignment in itertools.product(targets, repeat=len(movable)):
        used = {h: [0, 0, 0] for h in hosts}
        for inst, host in itertools.chain(((i, i.host) for i in fixed),
                                          zip(movable, assignment)):
            for k, d in enumerate(placement_mod.demand(inst)):
                used[host][k] += d
        ok = all(used[h][k] <= placement_mod.capacity(ctx.nodes[h])[k]
                 for h in set(assignment) for k in range(3))
        if ok:
            count = sum(1 for h in hosts if any(used[h]))
            best = count if best is None else min(best, count)
    return best


def evacuation_possible(ctx, host):
    """Whether every instance of ``host`` fits together on the other
    usable hosts, by exhaustive search."""
    insts = ctx.instances_by_host[host]
    targets = [h for h in ctx.nodes if h != host and ctx.is_target(h)]
    base = placement_mod.Placement(ctx)
    for assignment in itertools.product(targets, repeat=len(insts)):
        used = {h: list(base.used[h]) for h in targets}
        for inst, dest in zip(insts, assignment):
            for k, d in enumerate(placement_mod.demand(inst)):
                used[dest][k] += d
        if all(used[h][k] <= base.capacity[h][k]
               for h in set(assignment) for k in range(3)):
            return True
    return not insts


def rng(seed):
    return random.Random(seed)

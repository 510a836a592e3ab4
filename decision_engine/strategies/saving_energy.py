"""``saving_energy``: keep a spare pool of powered-on empty hosts.

A *spare* host is empty, up, enabled and powered on: it can take new
instances at once. The strategy keeps ``max(min_free_hosts_num,
ceil(used hosts * free_used_percent / 100))`` spares: it powers off the
extra ones (after disabling their compute service, so nothing is scheduled
onto a host going down) and, when short, powers on empty hosts that are off
(and re-enables their service if the engine had disabled it).

Only hosts whose power state a power driver reports (``power_state`` not
None) and that have no ``power_failure`` are touched. A host an operator
disabled (a disabled reason not written by the engine) is left alone.
"""

import math

from decision_engine.strategies import actions
from decision_engine.strategies import base
from decision_engine.strategies import placement as placement_mod


def _ours(node):
    return (node.disabled_reason or '').startswith(
        actions.DISABLED_REASON_PREFIX)


class SavingEnergy(base.Strategy):
    name = 'saving_energy'
    goal = 'saving_energy'
    description = ('Keep a configurable number of empty hosts powered on '
                   'as spares; power off the other empty hosts, power some '
                   'on again when spares run short.')
    parameters_schema = {
        'type': 'object',
        'properties': {
            'free_used_percent': {
                'type': 'number', 'minimum': 0, 'maximum': 1000,
                'default': 10.0,
                'description': 'Spare hosts to keep, as a percentage of '
                               'the hosts running instances.'},
            'min_free_hosts_num': {
                'type': 'integer', 'minimum': 0, 'maximum': 100000,
                'default': 1,
                'description': 'Spare hosts to keep at least.'},
        },
        'additionalProperties': False,
    }
    indicators = (
        ('spare_hosts_target', 'hosts', 'Spare hosts the plan aims for.'),
        ('spare_hosts_before', 'hosts', 'Powered-on empty hosts now.'),
        ('spare_hosts_after', 'hosts', 'The same after the plan.'),
        ('hosts_powered_off', 'hosts', 'Hosts the plan powers off.'),
        ('hosts_powered_on', 'hosts', 'Hosts the plan powers on.'),
    )

    def execute(self, context, params):
        placement = placement_mod.Placement(context)
        used = [h for h in context.nodes if not placement.is_empty(h)]
        managed = {h: n for h, n in context.nodes.items()
                   if n.power_state is not None
                   and not getattr(n, 'power_failure', False)
                   and placement.is_empty(h)}
        spares = [h for h, n in managed.items()
                  if n.power_state == 'power on' and n.state == 'up'
                  and n.status == 'enabled']
        sleeping = [h for h, n in managed.items()
                    if n.power_state == 'power off'
                    and (n.status == 'enabled' or _ours(n))]
        target = max(params['min_free_hosts_num'],
                     int(math.ceil(len(used) * params['free_used_percent']
                                   / 100.0 - 1e-9)))

        def size(h):
            return (placement.capacity[h], h)

        plan = []
        off, on = [], []
        if len(spares) > target:
            # Keep the biggest spares; power off the smallest.
            off = sorted(spares, key=size)[:len(spares) - target]
            for host in off:
                plan.append(actions.change_service(
                    host, 'disabled', '%s: powered off to save energy'
                    % actions.DISABLED_REASON_PREFIX))
                plan.append(actions.change_power(host, 'off'))
        elif len(spares) < target:
            on = sorted(sleeping, key=size,
                        reverse=True)[:target - len(spares)]
            for host in on:
                plan.append(actions.change_power(host, 'on'))
                if context.nodes[host].status == 'disabled':
                    plan.append(actions.change_service(host, 'enabled'))
        after = len(spares) - len(off) + len(on)
        message = None
        if after < target:
            message = ('short of %d spare host(s): no more powered-off empty '
                       'host can be powered on' % (target - after))
        return base.Solution(
            actions=plan,
            indicators={'spare_hosts_target': target,
                        'spare_hosts_before': len(spares),
                        'spare_hosts_after': after,
                        'hosts_powered_off': len(off),
                        'hosts_powered_on': len(on)},
            message=message)

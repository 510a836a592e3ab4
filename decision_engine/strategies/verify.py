"""Replaying a plan to prove every intermediate state is valid.

:func:`check_plan` applies a plan's actions in order to a what-if copy of
the scoped model and raises :class:`InvalidPlan` at the first action that
would be wrong at that point: moving an instance to the host it is on,
overcommitting a destination, landing on a disabled, down or powered-off
host, moving an instance the scope or the operator's opt-out protects,
breaking a hard rule of Nova's scheduler (server groups, pinned zones,
traits: :mod:`decision_engine.strategies.constraints`), or powering off a
host that still runs instances. The audit runner checks every plan before
storing it, and the strategy tests check every plan they get.
"""

from decision_engine.strategies import actions as act
from decision_engine.strategies import placement as placement_mod


class InvalidPlan(ValueError):
    """A plan's action is not valid at its place in the plan."""


def check_plan(context, plan_actions):
    """:returns: the final :class:`Placement` when every action is valid.

    :raises InvalidPlan: naming the action (by index) and what is wrong.
    """
    placement = placement_mod.Placement(context)
    status = {h: n.status for h, n in context.nodes.items()}
    power = {h: n.power_state for h, n in context.nodes.items()}
    for index, action in enumerate(plan_actions):
        try:
            _apply(context, placement, status, power, action)
        except (InvalidPlan, placement_mod.CapacityError, KeyError) as exc:
            raise InvalidPlan('action %d (%s): %s'
                              % (index, action.get('action_type'), exc))
    return placement


def _apply(context, placement, status, power, action):
    kind = action['action_type']
    params = action['input_parameters']
    if kind == act.MIGRATE:
        inst = context.instances.get(params['instance_uuid'])
        if inst is None:
            raise InvalidPlan('unknown instance %s' % params['instance_uuid'])
        source, dest = params['source_node'], params['destination_node']
        if placement.host_of[inst.uuid] != source:
            raise InvalidPlan('instance %s is on %s, not on %s'
                              % (inst.uuid, placement.host_of[inst.uuid],
                                 source))
        if dest == source:
            raise InvalidPlan('instance %s moved to its own host'
                              % inst.uuid)
        if dest not in context.nodes:
            raise InvalidPlan('destination %s is not in scope' % dest)
        node = context.nodes[dest]
        if status[dest] != 'enabled' or node.state != 'up' \
                or power[dest] == 'power off' \
                or getattr(node, 'power_failure', False):
            raise InvalidPlan('destination %s cannot take instances '
                              '(service %s, %s, power %s)'
                              % (dest, status[dest], node.state,
                                 power[dest]))
        why = context.why_not_movable(inst)
        if why is not None:
            raise InvalidPlan('instance %s may not be moved: %s'
                              % (inst.uuid, why))
        placement.move(inst, dest)
    elif kind == act.CHANGE_SERVICE:
        host = params['hostname']
        if host not in context.nodes:
            raise InvalidPlan('host %s is not in scope' % host)
        if params['state'] not in ('enabled', 'disabled'):
            raise InvalidPlan('bad service state %r' % params['state'])
        status[host] = params['state']
    elif kind == act.CHANGE_POWER:
        host = params['hostname']
        if host not in context.nodes:
            raise InvalidPlan('host %s is not in scope' % host)
        if power[host] is None:
            raise InvalidPlan('host %s has no known power state (no power '
                              'driver manages it)' % host)
        if params['state'] == 'off':
            if not placement.is_empty(host):
                raise InvalidPlan('host %s still runs %d instance(s)'
                                  % (host, len(placement.on_host[host])))
            power[host] = 'power off'
        elif params['state'] == 'on':
            power[host] = 'power on'
        else:
            raise InvalidPlan('bad power state %r' % params['state'])
    elif kind not in act.TYPES:
        raise InvalidPlan('unknown action type %r' % kind)

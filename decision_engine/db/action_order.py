"""The parents of a plan's actions as stored with the plan (Watcher's
``parents``): on each host the plan's order is kept, so an action waits
for the last earlier action touching one of its hosts (as source,
destination or target); actions touching no common host wait for nothing.

This is the applier's graph with ``[applier] max_migrations_per_host =
1`` (:func:`decision_engine.applier.graph.parents_of`, which the store,
below the applier, cannot import; a test keeps the two equal). With a
larger value the applier may also overlap consecutive migrations that
only leave, or only arrive on, a host.
"""

from decision_engine.common import action_hosts


def parents(actions):
    """:param actions: ``[{'input_parameters': ...}]`` in plan order.
    :returns: ``[sorted list of positions]``, the direct parents of each.
    """
    last = {}
    result = []
    for position, action in enumerate(actions):
        hosts = action_hosts.hosts_of(action.get('input_parameters'))
        result.append(sorted({last[h] for h in hosts if h in last}))
        for host in hosts:
            last[host] = position
    return result

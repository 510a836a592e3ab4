"""The dependency graph of a plan: which earlier actions each action
waits for. The applier runs a plan by it; the store keeps its
``per_host = 1`` form as the actions' ``parents`` (Watcher's field).

The strategy verified its plan as a sequence: every intermediate state is
valid in that order (:mod:`decision_engine.strategies.verify`). Two
actions touching no common host commute, so they may run at once; on one
host the order is kept: with ``per_host = 1`` an action waits for every
earlier action touching any of its hosts (as source, destination or
target). It is enough to wait for the last one on each host, which waited
for the ones before it.

With ``per_host > 1`` (``[applier] max_migrations_per_host``), a run of
consecutive migrations that all only leave a host (or all only arrive on
it) may overlap on that host: removals never overcommit a host, and any
subset of a run of arrivals uses no more than the whole run, which the
strategy verified fits. Such a run waits for the whole run (or action)
before it on that host, and the next different use waits for the whole
run.
"""

from decision_engine.common import action_hosts

MIGRATE = 'migrate'


def parents_of(actions, per_host=1):
    """:param actions: ``[{'action_type', 'input_parameters'}]`` in plan
        order.
    :returns: ``[set of positions]``, the direct parents of each action.
    """
    # host -> (role of the current run or None, positions of the run
    # before it, positions of the current run)
    runs = {}
    parents = []
    for position, action in enumerate(actions):
        mine = set()
        commuting = action.get('action_type') == MIGRATE and per_host > 1
        for host, role in action_hosts.roles_of(
                action['input_parameters']):
            role = role if commuting else None
            current = runs.get(host)
            if current is None:
                runs[host] = (role, [], [position])
                continue
            run_role, before, run = current
            if role is not None and role == run_role:
                mine.update(before)
                run.append(position)
            else:
                mine.update(run)
                runs[host] = (role, run, [position])
        mine.discard(position)
        parents.append(mine)
    return parents


def children_of(parents):
    children = [[] for _ in parents]
    for child, mine in enumerate(parents):
        for parent in mine:
            children[parent].append(child)
    return children


def critical_path(parents, durations):
    """Length of the longest chain (sum of ``durations``) of the graph."""
    finish = []
    for position, mine in enumerate(parents):
        start = max((finish[p] for p in mine), default=0.0)
        finish.append(start + durations[position])
    return max(finish, default=0.0)

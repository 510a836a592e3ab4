"""The uuids and display names of goals and strategies.

Goals and strategies are not stored: their uuids are derived from their
names (uuid5), so every engine of a cluster, and every restart, gives the
same ones. The API (:mod:`decision_engine.api.v1.catalog`) and the
notifications (:mod:`decision_engine.cloud.watcher_notifications`) show
the same ones.
"""

import functools
import uuid as uuid_mod

_NAMESPACE = uuid_mod.UUID('0f6c1c86-2f4e-4b43-b8c6-9d3f1f1b7e4a')

#: display names of the goals the engine's strategies have.
GOAL_NAMES = {
    'dummy': 'Dummy goal',
    'server_consolidation': 'Server Consolidation',
    'saving_energy': 'Saving Energy',
    'cluster_maintaining': 'Cluster Maintaining',
    'workload_balancing': 'Workload Balancing',
}


@functools.lru_cache(maxsize=1024)
def goal_uuid(name):
    return str(uuid_mod.uuid5(_NAMESPACE, 'goal:' + name))


@functools.lru_cache(maxsize=1024)
def strategy_uuid(name):
    return str(uuid_mod.uuid5(_NAMESPACE, 'strategy:' + name))


def display(name):
    return name.replace('_', ' ').capitalize()


def goal_display(name):
    return GOAL_NAMES.get(name, display(name))


def strategy_display(cls, name):
    first = (cls.description or '').strip().split('\n')[0].strip()
    if first and len(first) <= 60:
        return first.rstrip('.')
    return display(name) + ' strategy'

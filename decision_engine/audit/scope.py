"""An audit's scope: its JSON schema, and applying it to a model.

Scope fields (all optional lists of strings; empty means "all", excludes
win over includes, matching is exact):
``include_aggregates``, ``exclude_aggregates``, ``include_azs``,
``exclude_azs``, ``include_hosts``, ``exclude_hosts`` choose the compute
hosts; ``include_projects``, ``exclude_projects`` and ``exclude_instances``
(instance uuids) choose which instances the strategy may move. Instances
out of scope on in-scope hosts still count against those hosts' capacity.
"""

from decision_engine.common import schema
from decision_engine.model import scope as model_scope_mod
from decision_engine.strategies import context as context_mod

HOST_FIELDS = ('include_aggregates', 'exclude_aggregates', 'include_azs',
               'exclude_azs', 'include_hosts', 'exclude_hosts')
INSTANCE_FIELDS = ('include_projects', 'exclude_projects',
                   'exclude_instances')

_NAMES = {'type': 'array', 'maxItems': 10000, 'uniqueItems': True,
          'items': {'type': 'string', 'minLength': 1, 'maxLength': 255}}

SCHEMA = {
    'type': 'object',
    'properties': {name: _NAMES for name in HOST_FIELDS + INSTANCE_FIELDS},
    'additionalProperties': False,
}


class InvalidScope(ValueError):
    pass


def validate(scope):
    """:returns: the scope without empty lists.

    :raises InvalidScope: one line naming the bad field.
    """
    scope = scope or {}
    error = schema.first_error(SCHEMA, scope)
    if error is not None:
        where, message = error
        raise InvalidScope('invalid scope%s: %s' % (
            ' field %r' % where if where else '', message))
    return {k: v for k, v in scope.items() if v}


def model_scope(scope):
    """The :class:`~decision_engine.model.scope.Scope` to build a model for.

    Only the host fields: every instance of an in-scope host is needed to
    know how full the host is, whatever its project.
    """
    fields = {k: tuple(v) for k, v in (scope or {}).items()
              if k in HOST_FIELDS}
    return model_scope_mod.Scope(**fields) if fields else None


def resolve(model, scope, opt_out_key=None):
    """The :class:`StrategyContext` of ``scope`` on ``model``
    (``opt_out_key``: ``[audit] opt_out_metadata_key``; None: the
    default key)."""
    scope = scope or {}
    hosts = model_scope_mod.Scope(**{k: tuple(v) for k, v in scope.items()
                                     if k in HOST_FIELDS})
    projects = model_scope_mod.Scope(**{
        k: tuple(v) for k, v in scope.items()
        if k in ('include_projects', 'exclude_projects')})
    excluded = frozenset(scope.get('exclude_instances', ()))
    nodes = [n for n in model.nodes.values() if hosts.covers(n)]
    names = {n.hostname for n in nodes}
    instances = [i for i in model.instances.values() if i.host in names]

    def movable(inst):
        return inst.uuid not in excluded and projects.project(
            inst.project_id)

    return context_mod.StrategyContext(
        nodes, instances, movable,
        server_groups=getattr(model, 'server_groups', None),
        opt_out_key=opt_out_key)

"""The part of the cloud a model covers.

A :class:`Scope` includes or excludes compute hosts by aggregate name,
availability zone and hostname, and instances by project. Empty include
lists mean "all"; excludes win over includes. Matching is exact (never a
substring or prefix match). A scope is immutable and hashable: equal
scopes share one build in flight and one cached model.
"""

_FIELDS = ('include_aggregates', 'exclude_aggregates', 'include_azs',
           'exclude_azs', 'include_hosts', 'exclude_hosts',
           'include_projects', 'exclude_projects')


class ScopeError(ValueError):
    """A scope description is invalid."""


class Scope:
    __slots__ = _FIELDS

    def __init__(self, include_aggregates=(), exclude_aggregates=(),
                 include_azs=(), exclude_azs=(), include_hosts=(),
                 exclude_hosts=(), include_projects=(), exclude_projects=()):
        values = locals()
        for name in _FIELDS:
            value = values[name]
            if isinstance(value, str) or not all(
                    isinstance(v, str) and v for v in value):
                raise ScopeError('scope %s must be a list of non-empty '
                                 'strings, not %r' % (name, value))
            object.__setattr__(self, name, frozenset(value))

    def __setattr__(self, name, value):
        raise AttributeError('a Scope is immutable')

    @classmethod
    def from_dict(cls, data):
        """A scope from a dict with (some of) the field names.

        :raises ScopeError: on an unknown key or a bad value.
        """
        if data is None:
            return None
        if not isinstance(data, dict):
            raise ScopeError('a scope must be an object, not %r' % (data,))
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise ScopeError('unknown scope field(s) %s; known: %s'
                             % (', '.join(unknown), ', '.join(_FIELDS)))
        return cls(**{k: tuple(v) if isinstance(v, list) else v
                      for k, v in data.items()})

    def to_dict(self):
        return {name: sorted(getattr(self, name)) for name in _FIELDS
                if getattr(self, name)}

    def key(self):
        return tuple(tuple(sorted(getattr(self, name))) for name in _FIELDS)

    def __eq__(self, other):
        return isinstance(other, Scope) and self.key() == other.key()

    def __hash__(self):
        return hash(self.key())

    def __repr__(self):
        return 'Scope(%s)' % ', '.join(
            '%s=%s' % (k, v) for k, v in self.to_dict().items())

    @property
    def is_everything(self):
        return not any(getattr(self, name) for name in _FIELDS)

    @property
    def needs_host_groups(self):
        """Whether hosts are chosen by aggregate or AZ (so step 1 must end
        before per-host requests start)."""
        return bool(self.include_aggregates or self.exclude_aggregates
                    or self.include_azs or self.exclude_azs)

    def host_by_name(self, hostname):
        """Whether the hostname alone keeps the host in scope."""
        if hostname in self.exclude_hosts:
            return False
        return not self.include_hosts or hostname in self.include_hosts

    def host_by_groups(self, aggregates, zone):
        """Whether the host's aggregates and AZ keep it in scope."""
        if self.exclude_aggregates.intersection(aggregates):
            return False
        if zone in self.exclude_azs:
            return False
        if self.include_aggregates and \
                not self.include_aggregates.intersection(aggregates):
            return False
        return not self.include_azs or zone in self.include_azs

    def covers(self, node):
        """Whether the compute ``node`` (its name, aggregates and AZ) is in
        scope."""
        return self.host_by_name(node.hostname) and self.host_by_groups(
            node.aggregates, node.availability_zone)

    def project(self, project_id):
        if project_id in self.exclude_projects:
            return False
        return not self.include_projects or \
            project_id in self.include_projects


def key_of(scope):
    """Cache key of a scope; None and an empty scope are the same."""
    if scope is None or scope.is_everything:
        return ()
    return scope.key()


def select(model, scope):
    """The part of a whole-cloud ``model`` that ``scope`` covers, as a new
    model sharing no element with ``model`` (elements are copied)."""
    from decision_engine.model import elements
    new = elements.ComputeModel()
    copies = [node.copy() for node in model.nodes.values()
              if scope.covers(node)]
    for node in copies:
        new.add_node(node)
    placement = model.usage_source == 'placement'
    for node in copies:
        held = None
        for inst in model.instances_on(node.hostname):
            if scope.project(inst.project_id):
                new.add_instance(inst.copy())
            elif placement:
                # NOTE: as a scoped build reads it from Placement: another
                # project's instance still holds its resources there.
                if held is None:
                    held = dict(node.held)
                for rc, amount in inst.resources.items():
                    held[rc] = held.get(rc, 0) + amount
        if held is not None:
            node.held = held
    new.index_groups(model.aggregates)
    new.aggregate_zones = dict(model.aggregate_zones)
    new.aggregate_uuids = dict(model.aggregate_uuids)
    new.default_zone = model.default_zone
    new.built_at = model.built_at
    new.build_seconds = model.build_seconds
    new.requests = 0
    new.servers_listing = model.servers_listing
    new.scope = scope
    new.usage_source = model.usage_source
    new.excluded = {uuid: dict(entry)
                    for uuid, entry in model.excluded.items()
                    if scope.host_by_name(entry['hostname'])
                    and scope.host_by_groups(entry['aggregates'],
                                             entry['availability_zone'])}
    return new

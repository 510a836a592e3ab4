"""Ground truth of the simulated cloud.

A :class:`Topology` is plain Python data (the dataclasses of
:mod:`.records`, lists, dicts and strings) that the simulator serves and
that tests and the model builder compare against.  Nothing in it refers to
HTTP.

Structure::

    Topology
      hosts: list[Host]            # one per nova-compute service,
                                   # hypervisor, Placement resource
                                   # provider and Ironic node
      instances: list[Instance]    # each with its own Flavor copy
      aggregates: list[Aggregate]  # host aggregates; an aggregate with
                                   # availability_zone set defines that AZ
      server_groups: list[ServerGroup]  # Nova server groups (policy,
                                   # rules, member instance uuids)
      availability_zones           # property: sorted AZ names used by hosts

Invariants (checked by :meth:`Topology.validate`, which :meth:`from_dict`
calls): hostnames, host uuids, node uuids, instance uuids and aggregate ids
are unique; every instance's host (when set) names a host; every aggregate
host names a host; a host whose ``availability_zone`` is not
``DEFAULT_AZ`` is in an aggregate of that zone, and every host of an AZ
aggregate has that zone; server group uuids are unique and their members
name instances, each in one group at most (as Nova allows).
"""

import dataclasses
import json

from decision_engine.simulator import generator
from decision_engine.simulator.records import DEFAULT_AZ
from decision_engine.simulator.records import TopologyError
from decision_engine.simulator.topology_document import aggregate_from_dict
from decision_engine.simulator.topology_document import abort
from decision_engine.simulator.topology_document import host_from_dict
from decision_engine.simulator.topology_document import instance_from_dict
from decision_engine.simulator.topology_document import pick
from decision_engine.simulator.topology_document import \
    server_group_from_dict


@dataclasses.dataclass
class Topology:
    """The simulated cloud's ground truth.  See the module docstring."""
    hosts: list
    instances: list
    aggregates: list = dataclasses.field(default_factory=list)
    server_groups: list = dataclasses.field(default_factory=list)

    # -- derived views (computed on demand; the lists are the truth) -------

    @property
    def availability_zones(self):
        """Sorted names of the AZs that hosts are in."""
        return sorted({h.availability_zone for h in self.hosts})

    def host(self, hostname):
        for h in self.hosts:
            if h.hostname == hostname:
                return h
        raise KeyError(hostname)

    def instances_on(self, hostname):
        return [i for i in self.instances if i.host == hostname]

    def server_group_of(self, uuid):
        """The server group instance ``uuid`` is a member of, or None."""
        for g in self.server_groups:
            if uuid in g.members:
                return g
        return None

    def host_aggregates(self, hostname):
        """Names of the aggregates a host belongs to, in aggregate order."""
        return [a.name for a in self.aggregates if hostname in a.hosts]

    # -- construction ------------------------------------------------------

    @classmethod
    def generate(cls, hosts=10, instances=100, aggregates=2, azs=1, seed=0,
                 projects=5, volume_backed=0.08, providerless=0, ironic=0,
                 opted_out=0.0):
        """A deterministic, deliberately awkward topology.

        Hostnames are ``compute-1``..``compute-N`` (so ``compute-1`` is a
        prefix of ``compute-10``); about 5% of hosts are empty (never
        ``compute-1`` or ``compute-10``), instances are spread unevenly
        (heavy-tailed weights), about 5% of hosts are disabled and 3% down
        (at least one of each from 4 hosts on).
        ``azs`` zones ``az-1``..``az-Z`` each get an AZ aggregate of the
        same name (azs=0 leaves every host in ``nova``); ``aggregates``
        plain aggregates ``agg-1``.. get random members.  The same
        arguments always give the same topology.  For ``volume_backed``,
        ``providerless``, ``ironic`` and ``opted_out`` see
        :func:`.generator.generate`.
        """
        return generator.generate(cls, hosts=hosts, instances=instances,
                                  aggregates=aggregates, azs=azs, seed=seed,
                                  projects=projects,
                                  volume_backed=volume_backed,
                                  providerless=providerless, ironic=ironic,
                                  opted_out=opted_out)

    # -- (de)serialization -------------------------------------------------

    def to_dict(self):
        doc = {
            'version': 1,
            'hosts': [dataclasses.asdict(h) for h in self.hosts],
            'instances': [dataclasses.asdict(i) for i in self.instances],
            'aggregates': [dataclasses.asdict(a) for a in self.aggregates],
        }
        if self.server_groups:
            doc['server_groups'] = [dataclasses.asdict(g)
                                    for g in self.server_groups]
        return doc

    def to_json(self, indent=None):
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_dict(cls, doc):
        """Build and validate; raise TopologyError naming the bad field."""
        if not isinstance(doc, dict):
            abort('topology', 'expected a JSON object')
        version = doc.get('version', 1)
        if version != 1:
            abort('version', 'unsupported version %r (expected 1)'
                  % (version,))
        hosts = pick(doc, 'hosts', 'topology', list)
        instances = pick(doc, 'instances', 'topology', list, False, list)
        aggregates = pick(doc, 'aggregates', 'topology', list, False, list)
        groups = pick(doc, 'server_groups', 'topology', list, False, list)
        topo = cls(
            hosts=[host_from_dict(h, 'hosts[%d]' % i, i)
                   for i, h in enumerate(hosts)],
            instances=[instance_from_dict(d, 'instances[%d]' % i)
                       for i, d in enumerate(instances)],
            aggregates=[aggregate_from_dict(a, 'aggregates[%d]' % i, i)
                        for i, a in enumerate(aggregates)],
            server_groups=[server_group_from_dict(g, 'server_groups[%d]' % i)
                           for i, g in enumerate(groups)],
        )
        topo.validate()
        return topo

    @classmethod
    def from_json(cls, text):
        try:
            doc = json.loads(text, object_pairs_hook=_unique_keys,
                             parse_constant=_no_constant)
        except ValueError as exc:
            raise TopologyError('topology: not valid JSON: %s' % exc)
        except RecursionError:
            raise TopologyError('topology: nested too deeply to be read')
        return cls.from_dict(doc)

    @classmethod
    def load(cls, path):
        try:
            with open(path, encoding='utf-8') as f:
                text = f.read()
        except OSError as exc:
            raise TopologyError('%s: cannot read: %s' % (path,
                                                         exc.strerror))
        except UnicodeDecodeError as exc:
            raise TopologyError('%s: not UTF-8 text (byte %d)'
                                % (path, exc.start))
        return cls.from_json(text)

    def validate(self):
        """Check cross-references and uniqueness (see module docstring)."""
        def unique(items, where, key):
            seen = {}
            for i, item in enumerate(items):
                value = getattr(item, key)
                if value in seen:
                    abort('%s[%d].%s' % (where, i, key),
                          'duplicate %r (also %s[%d])'
                          % (value, where, seen[value]))
                seen[value] = i
        unique(self.hosts, 'hosts', 'hostname')
        unique(self.hosts, 'hosts', 'uuid')
        unique(self.hosts, 'hosts', 'id')
        unique(self.hosts, 'hosts', 'node_uuid')
        unique(self.instances, 'instances', 'uuid')
        unique(self.aggregates, 'aggregates', 'id')
        unique(self.aggregates, 'aggregates', 'name')
        by_name = {h.hostname: h for h in self.hosts}
        for i, inst in enumerate(self.instances):
            if inst.host is not None and inst.host not in by_name:
                abort('instances[%d].host' % i,
                      'unknown host %r' % (inst.host,))
            if inst.migration_source is not None:
                if inst.migration_source not in by_name:
                    abort('instances[%d].migration_source' % i,
                          'unknown host %r' % (inst.migration_source,))
                if inst.host is None or inst.migration_source == inst.host:
                    abort('instances[%d].migration_source' % i,
                          'must be another host than the instance\'s')
                if not inst.migration_uuid:
                    abort('instances[%d].migration_uuid' % i,
                          'is required with migration_source')
        unique(self.server_groups, 'server_groups', 'uuid')
        known = {i.uuid for i in self.instances}
        group_of = {}
        for i, group in enumerate(self.server_groups):
            for j, member in enumerate(group.members):
                where = 'server_groups[%d].members[%d]' % (i, j)
                if member not in known:
                    abort(where, 'unknown instance %r' % (member,))
                if member in group_of:
                    abort(where, 'instance %r is already in server group '
                          '%r' % (member, group_of[member]))
                group_of[member] = group.uuid
        zones_of = {}
        for i, agg in enumerate(self.aggregates):
            for j, hostname in enumerate(agg.hosts):
                if hostname not in by_name:
                    abort('aggregates[%d].hosts[%d]' % (i, j),
                          'unknown host %r' % (hostname,))
                if agg.availability_zone is not None:
                    host_az = by_name[hostname].availability_zone
                    if host_az != agg.availability_zone:
                        abort('aggregates[%d].hosts[%d]' % (i, j),
                              'host %r is in availability zone %r, not %r'
                              % (hostname, host_az, agg.availability_zone))
                    zones_of.setdefault(hostname, set()).add(
                        agg.availability_zone)
        for i, host in enumerate(self.hosts):
            if (host.availability_zone != DEFAULT_AZ
                    and host.availability_zone not in zones_of.get(
                        host.hostname, ())):
                abort('hosts[%d].availability_zone' % i,
                      '%r is not the zone of any aggregate holding %r'
                      % (host.availability_zone, host.hostname))


def _unique_keys(pairs):
    """A JSON object, refusing a key given twice (json keeps the last)."""
    doc = {}
    for key, value in pairs:
        if key in doc:
            raise ValueError('key %r appears twice in one object' % key)
        doc[key] = value
    return doc


def _no_constant(name):
    # NOTE: NaN and Infinity are not JSON (RFC 8259).
    raise ValueError('%s is not a JSON number' % name)

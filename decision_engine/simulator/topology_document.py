"""Reading a topology document (JSON) into records, field by field.

Every check raises :class:`~.records.TopologyError` naming the bad field
(``hosts[3].vcpus: must be > 0, got 0``), so a hand-written topology file
is fixed in one go.
"""

import datetime
import math

from decision_engine.simulator.records import ADMIN_USER_ID
from decision_engine.simulator.records import Aggregate
from decision_engine.simulator.records import DEFAULT_AZ
from decision_engine.simulator.records import DEFAULT_IMAGE_ID
from decision_engine.simulator.records import derived_uuid
from decision_engine.simulator.records import Flavor
from decision_engine.simulator.records import Host
from decision_engine.simulator.records import HYPERVISOR_TYPES
from decision_engine.simulator.records import SERVER_GROUP_POLICIES
from decision_engine.simulator.records import ServerGroup
from decision_engine.simulator.records import Instance
from decision_engine.simulator.records import INSTANCE_STATES
from decision_engine.simulator.records import POWER_STATES
from decision_engine.simulator.records import TopologyError


def abort(where, msg):
    """Raise TopologyError for field ``where``."""
    raise TopologyError('%s: %s' % (where, msg))


def pick(d, key, where, kind, required=True, default=None, check=None):
    """Fetch d[key] and type-check it; raise TopologyError naming it."""
    field = '%s.%s' % (where, key)
    if key not in d or (d[key] is None and not required):
        if required:
            abort(field, 'is required')
        return default() if callable(default) else default
    value = d[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        abort(field, 'expected an integer, got %r' % (value,))
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            abort(field, 'expected a number, got %r' % (value,))
        value = float(value)
        if not math.isfinite(value):
            # NOTE: json.dumps would then serve Infinity/NaN: not JSON.
            abort(field, 'expected a finite number, got %r' % (value,))
    if kind in (str, bool, dict, list) and not isinstance(value, kind):
        abort(field, 'expected %s, got %r' % (kind.__name__, value))
    if check is not None:
        problem = check(value)
        if problem:
            abort(field, problem)
    return value


def _non_negative(v):
    return None if v >= 0 else 'must be >= 0, got %r' % (v,)


def _positive(v):
    return None if v > 0 else 'must be > 0, got %r' % (v,)


def _one_of(choices):
    def check(v):
        if v not in choices:
            return 'must be one of %s, got %r' % (sorted(choices), v)
    return check


def _iso_time(v):
    try:
        datetime.datetime.strptime(v, '%Y-%m-%dT%H:%M:%SZ')
    except ValueError:
        return "expected 'YYYY-MM-DDTHH:MM:SSZ', got %r" % (v,)


def _str_dict(v):
    for k, val in v.items():
        if not isinstance(val, str):
            return 'values must be strings, got %r for %r' % (val, k)


def flavor_from_dict(d, where):
    if not isinstance(d, dict):
        abort(where, 'expected an object')
    return Flavor(
        name=pick(d, 'name', where, str),
        vcpus=pick(d, 'vcpus', where, int, check=_positive),
        ram=pick(d, 'ram', where, int, check=_positive),
        disk=pick(d, 'disk', where, int, check=_non_negative),
        ephemeral=pick(d, 'ephemeral', where, int, False, 0, _non_negative),
        swap=pick(d, 'swap', where, int, False, 0, _non_negative),
        extra_specs=pick(d, 'extra_specs', where, dict, False, dict,
                         _str_dict),
        id=pick(d, 'id', where, str, False, ''),
    )


def host_from_dict(d, where, index):
    if not isinstance(d, dict):
        abort(where, 'expected an object')
    hostname = pick(d, 'hostname', where, str,
                    check=lambda v: None if v else 'must not be empty')
    return Host(
        hostname=hostname,
        uuid=pick(d, 'uuid', where, str),
        id=pick(d, 'id', where, int, False, index + 1, _positive),
        vcpus=pick(d, 'vcpus', where, int, check=_positive),
        memory_mb=pick(d, 'memory_mb', where, int, check=_positive),
        disk_gb=pick(d, 'disk_gb', where, int, check=_positive),
        vcpus_reserved=pick(d, 'vcpus_reserved', where, int, False, 0,
                            _non_negative),
        memory_mb_reserved=pick(d, 'memory_mb_reserved', where, int, False,
                                512, _non_negative),
        disk_gb_reserved=pick(d, 'disk_gb_reserved', where, int, False, 0,
                              _non_negative),
        cpu_allocation_ratio=pick(d, 'cpu_allocation_ratio', where, float,
                                  False, 4.0, _positive),
        ram_allocation_ratio=pick(d, 'ram_allocation_ratio', where, float,
                                  False, 1.0, _positive),
        disk_allocation_ratio=pick(d, 'disk_allocation_ratio', where, float,
                                   False, 1.0, _positive),
        status=pick(d, 'status', where, str, False, 'enabled',
                    _one_of({'enabled', 'disabled'})),
        state=pick(d, 'state', where, str, False, 'up',
                   _one_of({'up', 'down'})),
        disabled_reason=pick(d, 'disabled_reason', where, str, False, None),
        availability_zone=pick(d, 'availability_zone', where, str, False,
                               DEFAULT_AZ),
        service_uuid=pick(d, 'service_uuid', where, str, False,
                          derived_uuid('service', hostname)),
        host_ip=pick(d, 'host_ip', where, str, False,
                     '10.0.%d.%d' % (index // 250, index % 250 + 1)),
        node_uuid=pick(d, 'node_uuid', where, str, False,
                       derived_uuid('node', hostname)),
        power_state=pick(d, 'power_state', where, str, False, 'power on',
                         _one_of(set(POWER_STATES))),
        provision_state=pick(d, 'provision_state', where, str, False,
                             'active'),
        maintenance=pick(d, 'maintenance', where, bool, False, False),
        driver=pick(d, 'driver', where, str, False, 'ipmi'),
        pcpus=pick(d, 'pcpus', where, int, False, 0, _non_negative),
        pcpus_reserved=pick(d, 'pcpus_reserved', where, int, False, 0,
                            _non_negative),
        hypervisor_type=pick(d, 'hypervisor_type', where, str, False,
                             'QEMU', _one_of(set(HYPERVISOR_TYPES))),
        service_host=pick(d, 'service_host', where, str, False, ''),
        resource_provider=pick(d, 'resource_provider', where, bool, False,
                               True),
        traits=pick(d, 'traits', where, list, False, list, _trait_names),
    )


def _trait_names(v):
    # Placement's trait names: standard (os-traits) or CUSTOM_*, upper
    # case letters, digits and underscores.
    for name in v:
        if not isinstance(name, str) or not name or not all(
                c.isupper() or c.isdigit() or c == '_' for c in name):
            return 'expected a list of trait names (A-Z, 0-9, _), got %r' \
                % (name,)
    return None


def instance_from_dict(d, where):
    if not isinstance(d, dict):
        abort(where, 'expected an object')
    return Instance(
        uuid=pick(d, 'uuid', where, str),
        name=pick(d, 'name', where, str),
        host=pick(d, 'host', where, str, False, None),
        project_id=pick(d, 'project_id', where, str),
        user_id=pick(d, 'user_id', where, str, False, ADMIN_USER_ID),
        vm_state=pick(d, 'vm_state', where, str, False, 'active',
                      _one_of(set(INSTANCE_STATES))),
        flavor=flavor_from_dict(pick(d, 'flavor', where, dict),
                                where + '.flavor'),
        created=pick(d, 'created', where, str, False,
                     '2024-01-01T00:00:00Z', _iso_time),
        metadata=pick(d, 'metadata', where, dict, False, dict, _str_dict),
        locked=pick(d, 'locked', where, bool, False, False),
        image_id=pick(d, 'image_id', where, str, False, DEFAULT_IMAGE_ID),
        migration_source=pick(d, 'migration_source', where, str, False,
                              None),
        migration_uuid=pick(d, 'migration_uuid', where, str, False, ''),
    )


def aggregate_from_dict(d, where, index):
    if not isinstance(d, dict):
        abort(where, 'expected an object')
    name = pick(d, 'name', where, str)
    hosts = pick(d, 'hosts', where, list, False, list)
    for i, h in enumerate(hosts):
        if not isinstance(h, str):
            abort('%s.hosts[%d]' % (where, i), 'expected a hostname string')
    return Aggregate(
        id=pick(d, 'id', where, int, False, index + 1, _positive),
        uuid=pick(d, 'uuid', where, str, False,
                  derived_uuid('aggregate', name)),
        name=name,
        hosts=list(hosts),
        metadata=pick(d, 'metadata', where, dict, False, dict, _str_dict),
        availability_zone=pick(d, 'availability_zone', where, str, False,
                               None),
    )


def server_group_from_dict(d, where):
    if not isinstance(d, dict):
        abort(where, 'expected an object')
    name = pick(d, 'name', where, str)
    policy = pick(d, 'policy', where, str, True, None,
                  _one_of(SERVER_GROUP_POLICIES))
    members = pick(d, 'members', where, list, False, list)
    for i, m in enumerate(members):
        if not isinstance(m, str):
            abort('%s.members[%d]' % (where, i),
                  'expected an instance uuid string')
    rules = pick(d, 'rules', where, dict, False, dict)
    for key, value in rules.items():
        if key != 'max_server_per_host':
            abort('%s.rules' % where, 'unknown rule %r (Nova knows '
                  'max_server_per_host)' % (key,))
        if type(value) is not int or value < 1:
            abort('%s.rules.max_server_per_host' % where,
                  'expected a positive integer')
    if rules and policy != 'anti-affinity':
        abort('%s.rules' % where, 'only anti-affinity supports rules')
    return ServerGroup(
        uuid=pick(d, 'uuid', where, str, False,
                  derived_uuid('server_group', name)),
        name=name, policy=policy,
        project_id=pick(d, 'project_id', where, str, False, ''),
        user_id=pick(d, 'user_id', where, str, False, ''),
        members=list(members), rules=dict(rules))

"""The records a simulated cloud is made of: flavors, hosts, instances,
aggregates, and the constants their fields take.

Plain dataclasses; nothing here refers to HTTP.  :mod:`.topology` holds
them together, :mod:`.topology_document` reads them from JSON and
:mod:`.generator` makes seeded ones.

As in real Nova, the hypervisor id (microversion >= 2.53) and the Placement
resource provider uuid are the same value, ``Host.uuid``, and the resource
provider name is the hostname.  ``Host.id`` is the legacy integer id
(microversion < 2.53).
"""

import dataclasses
import uuid as uuid_lib

DEFAULT_AZ = 'nova'
INSTANCE_STATES = {
    # vm_state -> API status
    'active': 'ACTIVE',
    'stopped': 'SHUTOFF',
    'paused': 'PAUSED',
    'suspended': 'SUSPENDED',
    'error': 'ERROR',
    'building': 'BUILD',
    'shelved': 'SHELVED',
    'resized': 'VERIFY_RESIZE',
}
POWER_STATES = ('power on', 'power off')
HYPERVISOR_TYPES = ('QEMU', 'ironic')
# Deterministic ids for the simulator's own identities (the admin project
# owns some generated instances, so non all_tenants listings are not empty).
_NS = uuid_lib.UUID('6ba7b811-9dad-11d1-80b4-00c04fd430c8')
ADMIN_PROJECT_ID = uuid_lib.uuid5(_NS, 'decision-engine-sim/project/admin').hex
ADMIN_USER_ID = uuid_lib.uuid5(_NS, 'decision-engine-sim/user/admin').hex
DEFAULT_IMAGE_ID = str(uuid_lib.uuid5(_NS, 'decision-engine-sim/image/cirros'))


class TopologyError(ValueError):
    """A topology document is invalid; the message names the bad field."""


@dataclasses.dataclass
class Flavor:
    """Flavor as embedded in a server (Nova microversion >= 2.47)."""
    name: str
    vcpus: int
    ram: int          # MiB
    disk: int         # GiB (root disk)
    ephemeral: int = 0
    swap: int = 0     # MiB
    extra_specs: dict = dataclasses.field(default_factory=dict)
    id: str = ''      # flavor id for microversion < 2.47 ({"id", "links"})


@dataclasses.dataclass
class Host:
    """One compute host: service, hypervisor, resource provider, node."""
    hostname: str
    uuid: str                       # hypervisor id (>= 2.53) == RP uuid
    id: int                         # legacy hypervisor/service id (< 2.53)
    vcpus: int
    memory_mb: int
    disk_gb: int
    vcpus_reserved: int = 0
    memory_mb_reserved: int = 512
    disk_gb_reserved: int = 0
    cpu_allocation_ratio: float = 4.0
    ram_allocation_ratio: float = 1.0
    disk_allocation_ratio: float = 1.0
    status: str = 'enabled'         # nova-compute service: enabled|disabled
    state: str = 'up'               # nova-compute service: up|down
    disabled_reason: str | None = None
    availability_zone: str = DEFAULT_AZ
    service_uuid: str = ''          # os-services id (>= 2.53)
    host_ip: str = ''
    node_uuid: str = ''             # Ironic node uuid (node name = hostname)
    power_state: str = 'power on'   # Ironic: 'power on' | 'power off'
    provision_state: str = 'active'
    maintenance: bool = False
    driver: str = 'ipmi'
    # Dedicated CPUs ([compute] cpu_dedicated_set): a PCPU inventory.
    pcpus: int = 0
    pcpus_reserved: int = 0
    # 'ironic' for a bare metal node that Nova's ironic driver reports as
    # a hypervisor; several share one nova-compute service host.
    hypervisor_type: str = 'QEMU'
    service_host: str = ''          # nova-compute host; '' = hostname
    # False: a compute node Placement has no resource provider for yet.
    resource_provider: bool = True
    # Traits an operator or the virt driver set on the host's resource
    # provider (Placement's GET /resource_providers/{uuid}/traits); Nova
    # adds COMPUTE_STATUS_DISABLED itself while the service is disabled.
    traits: list = dataclasses.field(default_factory=list)

    @property
    def compute_host(self):
        """The nova-compute service host (``service.host``, instances'
        ``OS-EXT-SRV-ATTR:host``)."""
        return self.service_host or self.hostname

    @property
    def is_ironic(self):
        return self.hypervisor_type.lower() == 'ironic'


@dataclasses.dataclass
class Instance:
    """One server.  ``host`` is None for an unscheduled instance."""
    uuid: str
    name: str
    host: str | None
    project_id: str
    user_id: str
    vm_state: str
    flavor: Flavor
    created: str                    # ISO 8601, 'YYYY-MM-DDTHH:MM:SSZ'
    metadata: dict = dataclasses.field(default_factory=dict)
    locked: bool = False
    # Glance image the server boots from; '' when it boots from a volume
    # (Nova's API then shows "image": "").
    image_id: str = DEFAULT_IMAGE_ID
    # A move in progress (e.g. VERIFY_RESIZE): the migration record holds
    # the instance's old allocation on this source host, as Nova does.
    migration_source: str | None = None
    migration_uuid: str = ''

    @property
    def status(self):
        return INSTANCE_STATES[self.vm_state]

    @property
    def volume_backed(self):
        return not self.image_id


@dataclasses.dataclass
class Aggregate:
    """A host aggregate; with availability_zone set it defines that AZ."""
    id: int
    uuid: str
    name: str
    hosts: list = dataclasses.field(default_factory=list)
    metadata: dict = dataclasses.field(default_factory=dict)
    availability_zone: str | None = None


#: Nova's server group policies (one per group from microversion 2.64)
SERVER_GROUP_POLICIES = ('affinity', 'anti-affinity', 'soft-affinity',
                         'soft-anti-affinity')


@dataclasses.dataclass
class ServerGroup:
    """A Nova server group: a policy, its rules (``max_server_per_host``
    for anti-affinity only, as Nova allows) and member instance uuids."""
    uuid: str
    name: str
    policy: str
    project_id: str
    user_id: str
    members: list = dataclasses.field(default_factory=list)
    rules: dict = dataclasses.field(default_factory=dict)


def derived_uuid(kind, name):
    """A stable uuid for a record that the document does not give one."""
    return str(uuid_lib.uuid5(_NS, 'decision-engine-sim/%s/%s'
                              % (kind, name)))

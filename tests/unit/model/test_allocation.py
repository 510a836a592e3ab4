"""Nova's rules for what a flavor allocates in Placement (the examples of
Nova's CPU-pinning and flavor documentation and its resources_from_flavor
behaviour), applied by the model."""

from decision_engine.model import allocation
from decision_engine.model import elements


def _res(vcpus=2, ram=4096, disk=20, ephemeral=0, swap=0, specs=None,
         bfv=False):
    return allocation.flavor_resources(vcpus, ram, disk, ephemeral, swap,
                                       specs, bfv)


def test_image_backed_counts_root_ephemeral_and_swap_rounded_up():
    assert _res(disk=20, ephemeral=10, swap=512) == {
        'VCPU': 2, 'MEMORY_MB': 4096, 'DISK_GB': 31}
    assert _res(disk=20, swap=1024)['DISK_GB'] == 21
    assert _res(disk=20, swap=1025)['DISK_GB'] == 22


def test_volume_backed_counts_no_root_disk():
    assert _res(disk=20, ephemeral=10, swap=512, bfv=True) == {
        'VCPU': 2, 'MEMORY_MB': 4096, 'DISK_GB': 11}
    # Nothing local at all: no DISK_GB in the allocation.
    assert _res(disk=20, bfv=True) == {'VCPU': 2, 'MEMORY_MB': 4096}


def test_dedicated_cpus_are_pcpu_not_vcpu():
    specs = {'hw:cpu_policy': 'dedicated'}
    assert _res(vcpus=4, specs=specs) == {
        'PCPU': 4, 'MEMORY_MB': 4096, 'DISK_GB': 20}
    specs['hw:emulator_threads_policy'] = 'isolate'
    assert _res(vcpus=4, specs=specs)['PCPU'] == 5
    assert _res(vcpus=4, specs={'hw:cpu_policy': 'shared'})['VCPU'] == 4


def test_mixed_policy_splits_by_the_dedicated_mask():
    got = _res(vcpus=4, specs={'hw:cpu_policy': 'mixed',
                               'hw:cpu_dedicated_mask': '2-3'})
    assert (got['PCPU'], got['VCPU']) == (2, 2)
    got = _res(vcpus=4, specs={'hw:cpu_policy': 'mixed',
                               'hw:cpu_dedicated_mask': '^0'})
    assert (got['PCPU'], got['VCPU']) == (3, 1)


def test_resources_extra_specs_override_and_add():
    got = _res(specs={'resources:VCPU': '0', 'resources:PCPU': '2',
                      'resources:CUSTOM_GPU': '1',
                      'resources1:CUSTOM_GPU': '1',
                      'resources:DISK_GB': '5',
                      'resources:MEMORY_MB': 'lots'})
    assert got == {'PCPU': 2, 'CUSTOM_GPU': 2, 'DISK_GB': 5,
                   'MEMORY_MB': 4096}


def test_instance_amounts_follow_the_rules():
    inst = elements.Instance('u', 'vm', 'active', 'p', 'h', vcpus=4,
                             memory_mb=8192, disk_gb=40, ephemeral_gb=20,
                             swap_mb=1024, volume_backed=True,
                             extra_specs={'hw:cpu_policy': 'dedicated'})
    assert (inst.used_vcpus, inst.used_pcpus, inst.used_memory_mb,
            inst.disk_gb_total) == (0, 4, 8192, 21)
    model = elements.ComputeModel()
    model.add_node(elements.ComputeNode('n', 'h', vcpus=8, pcpus=8,
                                        held={'VCPU': 1, 'DISK_GB': 3}))
    model.add_instance(inst)
    assert model.used('h') == (1, 8192, 24)
    assert model.usage('h') == {'PCPU': 4, 'MEMORY_MB': 8192,
                                'DISK_GB': 24, 'VCPU': 1}
    assert model.summary()['pcpus_used'] == 4

"""Reading traits: a provider's from Placement, an instance's from its
flavor, as the build parses them."""

import pytest

from decision_engine.model import parse
from decision_engine.model import traits


def test_provider_traits_leave_the_disabled_status_trait_out():
    doc = {'resource_provider_generation': 3,
           'traits': ['HW_CPU_X86_AVX2', 'COMPUTE_STATUS_DISABLED',
                      'CUSTOM_SSD']}
    assert parse.provider_traits(doc) == {'HW_CPU_X86_AVX2', 'CUSTOM_SSD'}
    assert parse.provider_traits({'traits': []}) == frozenset()


@pytest.mark.parametrize('doc', [{}, {'traits': 'CUSTOM_SSD'},
                                 {'traits': [1]}, []])
def test_a_bad_traits_answer_is_one_clear_error(doc):
    with pytest.raises(parse.BadDocument,
                       match="'traits' is not a list of trait names"):
        parse.provider_traits(doc)


def test_servers_get_their_flavors_traits_shared():
    flavor = {'vcpus': 1, 'ram': 512, 'disk': 1, 'extra_specs': {
        'trait:CUSTOM_SSD': 'required', 'trait:CUSTOM_GPU': 'forbidden'}}
    servers = [{'id': str(n), 'name': 'vm', 'OS-EXT-SRV-ATTR:host': 'h',
                'tenant_id': 'p', 'OS-EXT-STS:vm_state': 'active',
                'flavor': dict(flavor), 'created': 'x'} for n in range(2)]
    servers.append(dict(servers[0], id='plain', flavor={
        'vcpus': 1, 'ram': 512, 'disk': 1}))
    insts, _ = parse.servers({'servers': servers}, 'h', None, {})
    a, b, plain = insts
    assert a.required_traits == {'CUSTOM_SSD'}
    assert a.forbidden_traits == {'CUSTOM_GPU'}
    assert a.required_traits is b.required_traits     # one per flavor
    assert plain.required_traits == plain.forbidden_traits == frozenset()
    assert plain.required_traits is traits.NONE

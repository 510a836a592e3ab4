"""API documents to elements: exact hosts, pages, bad bodies."""

import pytest

from decision_engine.model import parse
from decision_engine.model import scope as scope_mod


def _server(uuid, host, project='p1', **flavor):
    f = {'vcpus': 1, 'ram': 512, 'disk': 1, 'ephemeral': 0, 'swap': ''}
    f.update(flavor)
    return {'id': uuid, 'name': 'vm-' + uuid, 'tenant_id': project,
            'OS-EXT-SRV-ATTR:host': host, 'OS-EXT-STS:vm_state': 'active',
            'flavor': f, 'metadata': {'k': 'v'}, 'locked': False,
            'created': '2024-01-01T00:00:00Z'}


def test_hypervisor_hostname_is_the_service_host():
    doc = {'hypervisors': [{
        'id': 'u1', 'hypervisor_hostname': 'compute-1.example.com',
        'status': 'disabled', 'state': 'down',
        'service': {'host': 'compute-1', 'disabled_reason': 'maint'}}]}
    hyps, marker = parse.hypervisors(doc)
    assert hyps == [('u1', 'compute-1', 'disabled', 'down', 'maint', None)]
    assert marker is None


def test_servers_of_other_hosts_and_projects_are_dropped():
    doc = {'servers': [_server('a', 'compute-1'), _server('b', 'compute-10'),
                       _server('c', 'compute-1', project='p2', swap=1025)]}
    scope = scope_mod.Scope(exclude_projects=['p2'])
    got, marker = parse.servers(doc, 'compute-1', None, {})
    assert [i.uuid for i in got] == ['a', 'c'] and marker is None
    assert got[0].swap_mb == 0 and got[1].disk_gb_total == 3
    got, _ = parse.servers(doc, 'compute-1', scope, {})
    assert [i.uuid for i in got] == ['a']


def test_a_listing_over_all_hosts_keeps_each_servers_host():
    doc = {'servers': [_server('a', 'compute-1'), _server('b', 'compute-10'),
                       _server('c', None), _server('d', 'compute-1',
                                                   project='p2')]}
    strings = {}
    got, _ = parse.servers(doc, None, None, strings)
    # Never scheduled (no host): not in the model.
    assert [(i.uuid, i.host) for i in got] == [
        ('a', 'compute-1'), ('b', 'compute-10'), ('d', 'compute-1')]
    assert got[0].host is got[2].host       # one string per host
    scope = scope_mod.Scope(exclude_projects=['p2'])
    got, _ = parse.servers(doc, None, scope, strings)
    assert [i.uuid for i in got] == ['a', 'b']


def test_next_marker_follows_next_links_only():
    items = [_server('a', 'h'), _server('b', 'h')]
    assert parse.next_marker({'servers_links': [
        {'rel': 'next', 'href': 'x?marker=b'}]}, 'servers', items) == 'b'
    assert parse.next_marker({}, 'servers', items) is None
    assert parse.next_marker({'servers_links': [
        {'rel': 'next', 'href': 'x'}]}, 'servers', []) is None


def test_equal_allocations_share_one_dict():
    def doc(*pairs):
        return {'allocations': {c: {'resources': r} for c, r in pairs}}
    small = {'VCPU': 1, 'MEMORY_MB': 512}
    strings = {}
    first = parse.allocations(doc(('a', dict(small)),
                                  ('b', dict(small, DISK_GB=0)),
                                  ('c', {'VCPU': 2})), strings)
    second = parse.allocations(doc(('d', dict(small))), strings)
    assert first == {'a': small, 'b': small, 'c': {'VCPU': 2}}
    assert first['a'] is first['b'] is second['d']
    assert first['c'] is not first['a']
    alone = parse.allocations(doc(('a', dict(small)), ('b', dict(small))))
    assert alone == {'a': small, 'b': small}


@pytest.mark.parametrize('fn,doc,match', [
    (lambda d: parse.servers(d, 'h', None, {}), {'servers': {}},
     "'servers' is not a list"),
    (lambda d: parse.servers(d, 'h', None, {}),
     {'servers': [{'id': 'x', 'OS-EXT-SRV-ATTR:host': 'h',
                   'tenant_id': 'p'}]}, "lacks 'flavor'"),
    (parse.hypervisors, {'hypervisors': [{'id': 3,
                                          'hypervisor_hostname': 'h',
                                          'status': 'enabled',
                                          'state': 'up'}]},
     'microversion >= 2.53'),
    (lambda d: parse.node(('u', 'h', 'enabled', 'up', None), d),
     {'inventories': {'VCPU': {'reserved': 0}}}, 'VCPU inventory'),
    (parse.aggregates, {'aggregates': [{'hosts': []}]}, 'no name'),
])
def test_bad_documents_name_what_is_wrong(fn, doc, match):
    with pytest.raises(parse.BadDocument, match=match):
        fn(doc)

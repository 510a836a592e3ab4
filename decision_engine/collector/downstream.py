"""What the engine's server listings cost Neutron, estimated from the
pages it received.

nova-api answers each ``GET /servers/detail`` page only after asking
Neutron for the security groups of the listed servers' ports (nova 34,
``api/openstack/compute/views/servers.py`` ``_add_security_grps`` ->
``network/security_group_api.py``), one query after the other, in the
request's own time:

* ``GET /v2.0/ports?device_id=...`` once per 150 servers of the page
  (Nova's ``MAX_SEARCH_IDS``: the ids go in the URL);
* ``GET /v2.0/security-groups?id=...`` once per 150 distinct security
  groups of those ports (none when no listed server has one: a server
  booted with ``networks: none`` has no port and shows no
  ``security_groups``).

The engine sees neither query. It counts the port queries exactly from
the page's size and the security group queries from the distinct
``(project, group name)`` pairs the page shows (a group's id is not in
the body; two groups of one project with the same name count once). An
empty page costs nothing. A page Nova answered but the engine could not
use (a 5xx or a truncated body that was retried) is not counted: the
figure is an estimate and is labelled so wherever it is reported.
"""

#: Nova's ``nova.network.security_group_api.MAX_SEARCH_IDS``.
NOVA_MAX_SEARCH_IDS = 150


def _chunks(count):
    return -(-count // NOVA_MAX_SEARCH_IDS)


def neutron_queries(servers):
    """Estimated Neutron queries nova-api sent to answer a page listing
    ``servers`` (the page's list of server dicts)."""
    if not servers:
        return 0
    groups = set()
    for server in servers:
        listed = server.get('security_groups')
        if listed and isinstance(listed, list):
            project = str(server.get('tenant_id'))
            for group in listed:
                name = group.get('name') if isinstance(group, dict) \
                    else group
                groups.add((project, str(name)))
    return _chunks(len(servers)) + _chunks(len(groups))

"""Watcher's audit scope (a list) to the engine's (a dict), and back.

Watcher's compute scope, ``[{"compute": [...]}]`` or its items directly::

    {"host_aggregates": [{"name": "agg"}, {"id": "*"}]}
    {"availability_zones": [{"name": "az1"}]}
    {"exclude": [{"instances": [{"uuid": ...}]},
                 {"compute_nodes": [{"name": ...}]},
                 {"host_aggregates": [{"name": ...}]},
                 {"projects": [{"uuid": ...}]}]}

maps to the engine's ``include_aggregates``, ``include_azs``,
``exclude_instances``, ``exclude_hosts``, ``exclude_aggregates`` and
``exclude_projects``. ``"*"`` means all (no restriction). Aggregates are
matched by name: a numeric aggregate id, ``instance_metadata`` and the
storage and baremetal scopes are refused (400, naming them).
"""

from decision_engine.api.v1 import common


def _names(items, key, what):
    if not isinstance(items, list):
        raise common.bad_request('scope: %s must be a list' % what)
    names = []
    for item in items:
        if not isinstance(item, dict) or set(item) - {'name', 'id',
                                                      'uuid'}:
            raise common.bad_request('scope: each of %s must be an object '
                                     'with a %s' % (what, key))
        if item.get('id') == '*' or item.get('name') == '*':
            return None
        if key == 'name' and 'id' in item:
            raise common.bad_request(
                'scope: %s by id (%r) is not supported; name them'
                % (what, item['id']))
        value = item.get(key)
        if not isinstance(value, str) or not value:
            raise common.bad_request('scope: each of %s needs a %s'
                                     % (what, key))
        names.append(value)
    return names


_EXCLUDES = {'instances': ('uuid', 'exclude_instances'),
             'compute_nodes': ('name', 'exclude_hosts'),
             'host_aggregates': ('name', 'exclude_aggregates'),
             'projects': ('uuid', 'exclude_projects')}


def to_engine(scope):
    """:raises common.APIError: 400 naming what cannot be mapped."""
    if scope in (None, [], {}):
        return {}
    if not isinstance(scope, list):
        raise common.bad_request('scope must be a list (Watcher\'s audit '
                                 'scope)')
    items = []
    for entry in scope:
        if not isinstance(entry, dict):
            raise common.bad_request('scope: each item must be an object')
        if 'compute' in entry:
            if not isinstance(entry['compute'], list):
                raise common.bad_request('scope: compute must be a list')
            items.extend(entry['compute'])
        elif set(entry) & {'storage', 'baremetal'}:
            raise common.bad_request(
                'scope: %s is not supported; the engine audits compute '
                'hosts only' % ', '.join(sorted(set(entry) & {
                    'storage', 'baremetal'})))
        else:
            items.append(entry)
    result = {}
    for item in items:
        if not isinstance(item, dict):
            raise common.bad_request('scope: each item must be an object')
        for key, value in item.items():
            if key == 'host_aggregates':
                names = _names(value, 'name', 'host_aggregates')
                if names:
                    result.setdefault('include_aggregates', []).extend(names)
            elif key == 'availability_zones':
                names = _names(value, 'name', 'availability_zones')
                if names:
                    result.setdefault('include_azs', []).extend(names)
            elif key == 'exclude':
                _excludes(value, result)
            else:
                raise common.bad_request('scope: %r is not supported' % key)
    return {k: list(dict.fromkeys(v)) for k, v in result.items()}


def _excludes(value, result):
    if not isinstance(value, list):
        raise common.bad_request('scope: exclude must be a list')
    for item in value:
        if not isinstance(item, dict):
            raise common.bad_request('scope: each exclude must be an object')
        for key, names in item.items():
            if key not in _EXCLUDES:
                raise common.bad_request(
                    'scope: exclude %r is not supported (%s are)' % (
                        key, ', '.join(sorted(_EXCLUDES))))
            field, target = _EXCLUDES[key]
            found = _names(names, field, 'exclude ' + key)
            if found:
                result.setdefault(target, []).extend(found)


def to_watcher(scope):
    """The engine's scope (a dict) in Watcher's form."""
    if not scope:
        return []
    compute = []
    if scope.get('include_aggregates'):
        compute.append({'host_aggregates': [
            {'name': n} for n in scope['include_aggregates']]})
    if scope.get('include_azs'):
        compute.append({'availability_zones': [
            {'name': n} for n in scope['include_azs']]})
    if scope.get('include_hosts'):
        # NOTE: the engine's own: Watcher has no include of hosts.
        compute.append({'compute_nodes': [
            {'name': n} for n in scope['include_hosts']]})
    excludes = []
    for key, (field, source) in sorted(_EXCLUDES.items()):
        if scope.get(source):
            excludes.append({key: [{field: n} for n in scope[source]]})
    if excludes:
        compute.append({'exclude': excludes})
    return [{'compute': compute}] if compute else []

"""What the resources of API v1 share: the request context, errors in
Watcher's shape, JSON bodies, links, collections and JSON patches."""

import dataclasses
import datetime
import functools
import json
import uuid as uuid_mod
from typing import Any
from urllib import parse

import webob

from decision_engine.api.v1 import catalog as catalog_mod
from decision_engine.api.v1 import microversion
from decision_engine.api.v1 import policy


class APIError(Exception):
    """An answer other than success: ``code`` and a one-line message."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def not_found(message):
    return APIError(404, message)


def bad_request(message):
    return APIError(400, message)


@dataclasses.dataclass
class Context:
    """One request: what its handler needs."""

    request: webob.Request
    version: Any
    creds: dict
    enforcer: Any
    engine: Any
    conf: Any

    def authorize(self, rule):
        try:
            policy.authorize(self.enforcer, rule, self.creds)
        except policy.Forbidden as exc:
            raise APIError(403, str(exc))

    def at_least(self, wanted):
        return microversion.at_least(self.version, wanted)

    @functools.cached_property
    def catalog(self):
        """The goals and strategies, read once per request."""
        return catalog_mod.Catalog()

    @property
    def store(self):
        return self.engine.store

    @functools.cached_property
    def base(self):
        return self.request.host_url + self.request.script_name


def error_response(code, message):
    """Watcher's error body: ``error_message`` holds a JSON string with
    ``faultcode``, ``faultstring`` and ``debuginfo``."""
    inner = json.dumps({'faultcode': 'Client' if code < 500 else 'Server',
                        'faultstring': message, 'debuginfo': None})
    return json_response({'error_message': inner}, status=code)


def json_response(data, status=200):
    response = webob.Response(status=status, charset='utf-8',
                              content_type='application/json')
    response.text = json.dumps(data, sort_keys=True, default=_encode)
    return response


def _encode(value):
    if isinstance(value, datetime.datetime):
        return _timestamp(value)
    raise TypeError('%r is not JSON serializable' % (value,))


def _timestamp(value):
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.isoformat()


def empty_response(status=204):
    response = webob.Response(status=status)
    response.content_type = None
    return response


def links(ctx, kind, ident):
    return [{'rel': 'self', 'href': '%s/v1/%s/%s' % (ctx.base, kind, ident)},
            {'rel': 'bookmark', 'href': '%s/%s/%s' % (ctx.base, kind,
                                                      ident)}]


def is_uuid(text):
    try:
        return str(uuid_mod.UUID(text)) == text.lower()
    except (ValueError, AttributeError, TypeError):
        return False


def read_body(ctx):
    """The request's JSON object.

    :raises APIError: 400 for a body that is not a JSON object, 413 over
        ``[api] max_request_body_size``, 415 for another content type.
    """
    request = ctx.request
    limit = ctx.conf.api.max_request_body_size
    raw = request.body_file.read(limit + 1)
    if len(raw) > limit:
        raise APIError(413, 'request body is over the limit of %d bytes '
                            '([api] max_request_body_size)' % limit)
    ctype = request.content_type
    if ctype and ctype != 'application/json':
        raise APIError(415, 'request body must be application/json, not %s'
                       % ctype)
    try:
        body = json.loads(raw.decode('utf-8'), parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request('request body is not valid JSON: %s' % exc)
    return body


def _no_constant(name):
    raise ValueError('%s is not a JSON number' % name)


@dataclasses.dataclass
class Paging:
    limit: int
    marker: str | None
    sort_key: str
    sort_dir: str


def paging(ctx, sort_keys=None):
    """``limit`` (capped by ``[api] max_limit``), ``marker``, ``sort_key``
    and ``sort_dir`` of a list request.

    :raises APIError: 400 naming the bad parameter.
    """
    params = ctx.request.GET
    max_limit = ctx.conf.api.max_limit
    limit = max_limit
    if params.get('limit') not in (None, ''):
        try:
            limit = int(params['limit'])
        except ValueError:
            limit = -1
        if limit < 0:
            raise bad_request('limit must be a positive integer, not %r'
                              % params['limit'])
        limit = min(limit or max_limit, max_limit)
    sort_dir = params.get('sort_dir') or 'asc'
    if sort_dir not in ('asc', 'desc'):
        raise bad_request("Invalid sort direction: %s. Acceptable values "
                          "are 'asc' or 'desc'" % sort_dir)
    sort_key = params.get('sort_key') or 'id'
    if sort_keys is not None and sort_key not in sort_keys:
        raise bad_request('Invalid sort key: %s. Acceptable values are %s'
                          % (sort_key, ', '.join(sort_keys)))
    return Paging(limit=limit, marker=params.get('marker') or None,
                  sort_key=sort_key, sort_dir=sort_dir)


def collection(ctx, plural, items, page, key='uuid'):
    """``{plural: items, "next": url}``; ``next`` only when the page is
    full (there may be more)."""
    result = {plural: items}
    if page.limit and len(items) == page.limit:
        query = [(k, v) for k, v in ctx.request.GET.items()
                 if k not in ('marker', 'limit')]
        query += [('limit', page.limit), ('marker', items[-1][key])]
        result['next'] = '%s%s?%s' % (ctx.base, ctx.request.path_info,
                                      parse.urlencode(query))
    return json_response(result)


def page_of(items, page, key='uuid'):
    """Sort and page a list of dicts in memory (goals, strategies...)."""
    sort_key = 'position' if page.sort_key == 'id' else page.sort_key
    items = [dict(item, position=i) for i, item in enumerate(items)]
    items.sort(key=lambda item: (item.get(sort_key) is None,
                                 str(item.get(sort_key)), item['position']),
               reverse=page.sort_dir == 'desc')
    if page.marker:
        keys = [str(item[key]) for item in items]
        if page.marker not in keys:
            raise bad_request('marker %s is not known' % page.marker)
        items = items[keys.index(page.marker) + 1:]
    for item in items:
        del item['position']
    return items[:page.limit] if page.limit else items


def apply_patch(document, patch, allowed):
    """Apply a JSON patch (RFC 6902 ``add``, ``replace``, ``remove`` of
    top-level members) to ``document`` (a dict, changed in place).

    :param allowed: the members that may be changed.
    :raises APIError: 400 naming the bad operation.
    """
    if not isinstance(patch, list):
        raise bad_request('the request body must be a JSON patch: a list '
                          'of operations')
    for number, op in enumerate(patch):
        if not isinstance(op, dict) or not isinstance(op.get('path'), str):
            raise bad_request('patch operation %d must be an object with a '
                              'path' % number)
        name = op['path'].strip('/')
        kind = op.get('op')
        if name not in allowed:
            raise bad_request("'%s' is not a field that can be changed "
                              "(%s)" % (op['path'], ', '.join(
                                  '/' + a for a in sorted(allowed))))
        if kind in ('add', 'replace'):
            if 'value' not in op:
                raise bad_request("patch operation %d (%s %s) has no value"
                                  % (number, kind, op['path']))
            document[name] = op['value']
        elif kind == 'remove':
            document[name] = None
        else:
            raise bad_request("patch operation %d: op must be add, replace "
                              "or remove, not %r" % (number, kind))
    return document

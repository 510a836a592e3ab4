"""Request/response objects, routes and small HTTP helpers shared by the
emulated services.

A service module exposes a class with ``name``, ``prefix``, ``routes()``
(a list of :class:`Route`) and ``error(status, message)`` (an error body in
that service's own format).  Handlers take a :class:`Request` and return a
:class:`Response`; they raise :class:`HTTPError` for 4xx answers.
"""

import json
import re
import urllib.parse


class HTTPError(Exception):
    """Abort the handler with status and message (formatted by the
    service's ``error``)."""

    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class Request:
    __slots__ = ('method', 'path', 'raw_query', 'query', 'headers', 'body',
                 'params', 'token', 'base_url', 'microversion')

    def __init__(self, method, path, raw_query, headers, body, base_url):
        self.method = method
        self.path = path
        self.raw_query = raw_query
        # Ordered (key, value) pairs; blank values kept (?all_tenants=).
        self.query = urllib.parse.parse_qsl(raw_query,
                                            keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.base_url = base_url
        self.params = {}
        self.token = None
        self.microversion = None

    def arg(self, name, default=None):
        """Last value of a query parameter (as Nova/webob does)."""
        value = default
        for k, v in self.query:
            if k == name:
                value = v
        return value

    def has_arg(self, name):
        return any(k == name for k, _ in self.query)

    def int_arg(self, name, minimum=0):
        value = self.arg(name)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            raise HTTPError(400, "Invalid input for query parameter '%s'. "
                            "Value: %s. %r is not an integer."
                            % (name, value, value))
        if number < minimum:
            raise HTTPError(400, "Invalid input for query parameter '%s'. "
                            "Value: %s. Must be >= %d."
                            % (name, value, minimum))
        return number

    def json(self):
        try:
            return json.loads(self.body or b'null')
        except ValueError:
            raise HTTPError(400, 'Malformed request body: not JSON')

    def query_with(self, **replace):
        """The query string with some parameters replaced (for next links)."""
        pairs = [(k, v) for k, v in self.query if k not in replace]
        pairs += [(k, v) for k, v in replace.items() if v is not None]
        return urllib.parse.urlencode(pairs)


class Response:
    __slots__ = ('status', 'body', 'headers', 'content_type', 'token_issued',
                 'close')

    def __init__(self, status=200, body=b'', headers=None,
                 content_type='application/json'):
        self.token_issued = False   # counted in stats as a token issue
        self.close = False          # close the connection after answering
        self.status = status
        self.body = body
        self.headers = headers if headers is not None else {}
        self.content_type = content_type


def dumps(obj):
    # Compact separators: smaller bodies, faster client parse.
    return json.dumps(obj, separators=(',', ':')).encode()


def json_response(obj, status=200, headers=None):
    body = obj if isinstance(obj, (bytes, bytearray)) else dumps(obj)
    return Response(status, body, headers)


class Route:
    """``template`` is the normalized path (used as the stats endpoint);
    ``pattern`` a regex matched against the path after the service
    prefix, with named groups passed to the handler as ``req.params``;
    ``policy`` names the service's rule of an admin-only route."""
    __slots__ = ('method', 'regex', 'template', 'handler', 'auth',
                 'policy', 'endpoint')

    def __init__(self, method, pattern, template, handler, auth=True,
                 policy=None):
        self.method = method
        self.regex = re.compile(pattern + r'/?\Z')
        self.template = template
        self.handler = handler
        self.auth = auth
        #: the service's policy rule for this route when it is one of the
        #: service's admin APIs (the token needs one of the service's
        #: ``policy_roles``, else 403 naming the rule), else None.
        self.policy = policy
        self.endpoint = '%s %s' % (method, template)


def parse_version(text):
    """'2.47' -> (2, 47); raise ValueError on anything else."""
    major, dot, minor = text.strip().partition('.')
    if not dot:
        raise ValueError(text)
    return int(major), int(minor)


def requested_microversion(headers, service_type, legacy_header, minimum,
                           maximum):
    """The microversion asked for (``OpenStack-API-Version: <type> X`` or
    the service's legacy header), as a (major, minor) tuple; the minimum
    when absent, the maximum for 'latest'.  HTTPError(406) out of range,
    as Nova, Placement and Ironic answer."""
    text = None
    new = headers.get('OpenStack-API-Version')
    if new:
        for part in new.split(','):
            kind, _, value = part.strip().partition(' ')
            if kind.lower() == service_type:
                text = value.strip()
    if text is None and legacy_header:
        text = headers.get(legacy_header)
    if text is None:
        return minimum
    if text.strip().lower() == 'latest':
        return maximum
    try:
        version = parse_version(text)
    except ValueError:
        raise HTTPError(400, 'Invalid API version request %r' % text)
    if not minimum <= version <= maximum:
        raise HTTPError(406, 'Version %s is not supported by the API. '
                        'Minimum is %d.%d and maximum is %d.%d.'
                        % ((text,) + minimum + maximum))
    return version

"""Small helpers for actions talking to Nova through openstacksdk.

The proxy's ``get``/``post``/``put`` are used with an explicit compute
microversion per call, so each request says which Nova behaviour it
relies on (see each action for why that version).
"""

from decision_engine.applier.actions import base

# GET /servers/{id}: 2.47 embeds the flavor; the host and task state
# fields (OS-EXT-SRV-ATTR:host, OS-EXT-STS:task_state) are there for
# admins at every version.
SERVER_READ = '2.47'


def error_message(response):
    """Nova's message from an error body (``{"badRequest": {"message":
    ...}}``), else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, dict) and value.get('message'):
                return value['message']
    text = (response.text or '').strip()
    return text[:200] or response.reason or 'no message'


#: statuses after which a request is worth making again: the cloud was
#: busy or failing, not refusing this request.
TRANSIENT = (429, 500, 502, 503, 504)


def request(cloud, method, path, microversion, json=None):
    """:returns: the response; :raises CloudUnreadable: (a GET) or
    :raises NoAnswer: (a write) when no answer came back at all."""
    try:
        response = getattr(cloud.compute, method)(
            path, json=json, microversion=microversion)
        if response.status_code == 401:
            # NOTE: after a 401 keystoneauth re-authenticates and sends
            # again only in the thread that invalidated the token first;
            # a request that raced it gets the 401 back. Once more, with
            # the token that is now current.
            response = getattr(cloud.compute, method)(
                path, json=json, microversion=microversion)
        return response
    except Exception as exc:
        error = base.CloudUnreadable if method == 'get' else base.NoAnswer
        raise error('%s %s failed: %s' % (method.upper(), path, exc))


def refused(what, response, method='get'):
    """The error for a response that is not the one hoped for: a 5xx or
    429 is transient (:class:`CloudUnreadable` for a read,
    :class:`NoAnswer` for a write), and so is an unexpected success
    status to a write (a garbled answer says nothing of what was done);
    any other is a refusal."""
    error = base.ActionFailed
    status = response.status_code
    if method != 'get' and (status in TRANSIENT or 200 <= status < 300):
        error = base.NoAnswer
    elif status in TRANSIENT:
        error = base.CloudUnreadable
    return error('Nova refused %s: HTTP %d: %s' % (
        what, response.status_code, error_message(response)))


def read_json(response, key, what):
    """``response.json()[key]``; :raises CloudUnreadable: when the body is
    not JSON holding ``key`` (a truncated or garbled answer)."""
    try:
        return response.json()[key]
    except (ValueError, KeyError, TypeError) as exc:
        raise base.CloudUnreadable('unreadable answer %s: %s: %s' % (
            what, type(exc).__name__, exc))


def get_server(cloud, uuid):
    """The server's body, or None when Nova says it does not exist."""
    response = request(cloud, 'get', '/servers/%s' % uuid, SERVER_READ)
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise refused('reading server %s' % uuid, response)
    return read_json(response, 'server', 'reading server %s' % uuid)


def host_of(server):
    return server.get('OS-EXT-SRV-ATTR:host')


def task_of(server):
    return server.get('OS-EXT-STS:task_state')

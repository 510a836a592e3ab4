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


def request(cloud, method, path, microversion, json=None):
    """:returns: the response; :raises ActionFailed: when the request
    could not be made at all."""
    try:
        return getattr(cloud.compute, method)(
            path, json=json, microversion=microversion)
    except Exception as exc:
        raise base.ActionFailed('%s %s failed: %s' % (
            method.upper(), path, exc))


def refused(what, response):
    return base.ActionFailed('Nova refused %s: HTTP %d: %s' % (
        what, response.status_code, error_message(response)))


def get_server(cloud, uuid):
    """The server's body, or None when Nova says it does not exist."""
    response = request(cloud, 'get', '/servers/%s' % uuid, SERVER_READ)
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise refused('reading server %s' % uuid, response)
    return response.json()['server']


def host_of(server):
    return server.get('OS-EXT-SRV-ATTR:host')


def task_of(server):
    return server.get('OS-EXT-STS:task_state')

"""Which of the two APIs on the port answers a request.

The engine serves Watcher's REST API v1 (:mod:`decision_engine.api.v1`)
and, until they are retired, its own first routes (:mod:`.app`). Some of
their paths are the same (``/v1/audits``, ``/v1/audits/{uuid}``,
``/v1/action_plans/{uuid}``, ``.../start``, ``/v1/strategies``,
``/v1/strategies/{name}``):

* ``/`` and ``/v1`` are Watcher's (their documents keep the engine's
  ``name`` and links);
* a request carrying ``OpenStack-API-Version`` (python-watcherclient,
  Horizon and Tempest always send it) goes to Watcher's API whenever it
  has the path;
* any other request goes to the engine's route that serves its path and
  method, if there is one (``decision-engine-manage``, scripts written
  for the engine's routes), else to Watcher's API if it has the path;
* a path (or a method) neither has is answered 404 (405) in Watcher's
  shape with the header, in the engine's without.
"""

from decision_engine.api.v1 import router

_ROOTS = frozenset(['/', '/v1'])


class Dispatcher:
    """WSGI: send each request to ``watcher`` or to ``engine``."""

    def __init__(self, watcher, engine):
        self.watcher = watcher
        self.engine = engine

    def choose(self, environ):
        """The application that answers ``environ``."""
        path = router.normalize(environ.get('PATH_INFO') or '/')
        if path in _ROOTS:
            return self.watcher
        versioned = bool(environ.get('HTTP_OPENSTACK_API_VERSION'))
        if versioned and self.watcher.serves(path):
            return self.watcher
        raw = environ.get('PATH_INFO') or '/'
        method = environ.get('REQUEST_METHOD', 'GET')
        if self.engine.handles(raw, method):
            return self.engine
        if self.watcher.serves(path, method):
            return self.watcher
        # NOTE: a method neither serves: the 405 of the API whose path it
        # is, the engine's first for a request without the header.
        if self.engine.handles(raw, 'GET') or not self.watcher.serves(path):
            return self.watcher if versioned else self.engine
        return self.watcher

    def __call__(self, environ, start_response):
        return self.choose(environ)(environ, start_response)

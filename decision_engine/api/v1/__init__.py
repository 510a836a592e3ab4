"""Watcher's REST API v1, as Watcher 17.0.0 documents it, served by the
engine (see doc/source/user/watcher-api.rst).

Laid out as Placement's API is: :mod:`.router` is the route table (over
``routes``), one module per resource, :mod:`.microversion` and
:mod:`.policy`; requests and responses are webob's.
"""

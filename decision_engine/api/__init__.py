"""The HTTP API, a WSGI application served by cheroot inside the daemon.

:mod:`.engine_api` is the only thing it talks to (never the pool or the
store directly); :mod:`.server` starts and stops it.
"""

"""Test-wide set-up.

``DECISION_ENGINE_TEST_BACKEND=eventlet`` runs the tests in an
eventlet-patched process, the way the daemon runs with
``concurrency_backend = eventlet`` (``tox -e py3-eventlet``).
"""

from tests import BACKEND

if BACKEND == 'eventlet':
    import eventlet
    eventlet.monkey_patch()

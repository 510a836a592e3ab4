"""The worker pool, periodic tasks and the concurrency backend.

The lowest layer of the engine: it imports only futurist, eventlet and the
standard library, never another decision_engine package.
"""

"""Choosing the concurrency backend, before anything depends on it.

The choice (``[DEFAULT] concurrency_backend``) must be made after the config
files are parsed but before oslo.service, futurist's executors or anything
that creates locks at import time is imported. :func:`select` does both
halves: it monkey-patches the standard library for eventlet, and tells
oslo.service which backend to load.
"""

import logging

THREADING = 'threading'
EVENTLET = 'eventlet'

_selected = None

LOG = logging.getLogger(__name__)


def select(name):
    """Select the backend ``name`` for this process; idempotent."""
    global _selected
    if _selected is not None:
        if _selected != name:
            raise RuntimeError('concurrency backend already set to %s'
                               % _selected)
        return
    from oslo_service import backend as oslo_backend
    if name == EVENTLET:
        import eventlet
        eventlet.monkey_patch()
        _wake_hub_on_signals()
        oslo_backend.init_backend(oslo_backend.BackendType.EVENTLET)
    elif name == THREADING:
        oslo_backend.init_backend(oslo_backend.BackendType.THREADING)
    else:
        raise ValueError('unknown concurrency backend %r' % name)
    _selected = name


def _wake_hub_on_signals():
    """Make a signal wake eventlet's hub at once.

    Python runs a signal handler only when the main thread executes
    bytecode; an eventlet hub asleep in epoll until its next timer leaves
    SIGHUP or SIGTERM unhandled for up to the next timer (10-30 s seen). A
    wake-up fd that a green thread watches makes the hub return as soon as
    any signal arrives.
    """
    import os
    import signal

    import eventlet
    from eventlet import hubs

    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)
    signal.set_wakeup_fd(write_fd)

    def _drain():
        while True:
            hubs.trampoline(read_fd, read=True)
            try:
                os.read(read_fd, 512)
            except BlockingIOError:
                pass

    eventlet.spawn_n(_drain)


def log_choice():
    if _selected == EVENTLET:
        LOG.warning('Running on the eventlet backend, which eventlet itself '
                    'deprecates; prefer [DEFAULT] concurrency_backend = '
                    'threading.')
    else:
        LOG.info('Running on the %s backend', _selected)

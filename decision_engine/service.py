"""The oslo.service Service that runs the conductor manager.

Life cycle, per backend (see doc/source/admin/operations.rst):

* start: the manager starts, then ``READY=1`` goes to systemd.
* SIGHUP: the config files are mutated and :meth:`EngineService.reset`
  applies the mutable options to the running manager: the pool, the power
  states and running tasks are kept. With the eventlet backend oslo.service
  does this itself; with the threading backend cotyledon would restart the
  worker process instead, so :func:`route_sighup_to_reset` makes its worker
  call ``reset()`` too.
* SIGTERM: ``STOPPING=1``, the periodics stop, running tasks get up to
  ``[conductor] graceful_shutdown_timeout`` to finish, exit status 0.
"""

import logging
import multiprocessing
import os
import signal
import threading

from oslo_service import service

from decision_engine.conductor import manager as manager_mod
from decision_engine.conf import validation

LOG = logging.getLogger(__name__)


class EngineService(service.Service):

    def __init__(self, conf, notifier, backend):
        super().__init__()
        self.conf = conf
        self.notifier = notifier
        self.manager = manager_mod.ConductorManager(conf, backend=backend)
        self._stopped = threading.Event()
        # NOTE: shared memory, created before the threading backend forks,
        # so a start failure in the worker reaches the launcher's exit code.
        self._start_failed = multiprocessing.Value('b', False, lock=False)
        self._launcher_pid = os.getpid()
        #: called first thing on reset(), and given the READY notification
        #: to send; see keep_signals_during_reload().
        self.before_reset = None
        self.after_reset = None

    def start(self):
        super().start()
        try:
            self.manager.start()
        except Exception as exc:
            self._fail_start(exc)
            return
        self.notifier.ready()
        LOG.info('decision-engine started (pid %d)', os.getpid())

    def _fail_start(self, exc):
        """Stop the whole engine, exit status 1.

        Raising would make cotyledon fork a new worker that fails the same
        way, forever (and print a traceback each time): instead the launcher
        is asked to shut down, as on SIGTERM, and ``main()`` turns the
        recorded failure into the exit status.
        """
        LOG.error('decision-engine failed to start: %s: %s',
                  type(exc).__name__, exc)
        self._start_failed.value = True
        self.notifier.status('failed to start: %s' % exc)
        os.kill(self._launcher_pid, signal.SIGTERM)

    def start_failed(self):
        return bool(self._start_failed.value)

    def reset(self):
        """Apply a mutated configuration without losing state."""
        if self.before_reset is not None:
            self.before_reset()
        self.notifier.reloading()
        LOG.info('Applying the reloaded configuration')
        try:
            self.manager.reset()
        finally:
            # NOTE: READY=1 even when the reset failed: with
            # Type=notify-reload, systemctl reload waits for it (until its
            # timeout) and the engine runs on in any case.
            if self.after_reset is not None:
                self.after_reset(self.notifier.ready)
            else:
                self.notifier.ready()

    def stop(self, graceful=True):
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.notifier.stopping()
        LOG.info('decision-engine stopping')
        self.manager.stop()
        super().stop(graceful)

    def wait(self):
        self._stopped.wait()
        super().wait()


def on_new_worker(launcher, hook, consequence):
    """Run ``hook(engine_service)`` in each new threading-backend worker.

    The hook runs in the worker process, on its main thread, with the
    worker's own copy of the :class:`EngineService`.

    :param consequence: what an operator loses when the hook cannot be
        installed, for the warning.
    :returns: whether the hook was installed.
    """
    # NOTE: ServiceLauncher keeps its cotyledon manager private and has no
    # hook of its own; without it we keep cotyledon's behaviour (and
    # tests/service/test_launcher_hooks.py fails).
    cotyledon_manager = getattr(launcher, '_manager', None)
    if cotyledon_manager is None:
        LOG.warning('Cannot hook into the threading launcher: %s',
                    consequence)
        return False

    def _on_new_worker(service_id, worker_id, wrapper):
        hook(wrapper)

    cotyledon_manager.register_hooks(on_new_worker=_on_new_worker)
    return True


def keep_signals_during_reload(launcher, engine_service):
    """Eventlet backend: keep SIGTERM handled while a SIGHUP is applied.

    oslo.service's eventlet launcher clears its signal handlers when SIGHUP
    arrives and installs them again only after ``reset()`` returned; a
    SIGTERM in between (``systemctl reload`` then ``stop``) would kill the
    engine with no drain. Re-installing them as ``reset()`` begins closes
    most of that window, and READY=1 is only sent once the launcher has
    installed them again itself.
    """
    restore = getattr(launcher, 'handle_signal', None)
    if restore is None:
        LOG.warning('Cannot keep signal handlers during reloads: a SIGTERM '
                    'during a reload stops the engine without draining')
        return
    import eventlet

    engine_service.before_reset = restore
    # READY=1 goes out from a green thread, which runs once the launcher
    # is back waiting, its handlers installed for good: whoever stops the
    # engine when the reload is reported done finds SIGTERM handled.
    engine_service.after_reset = eventlet.spawn_n


def route_sighup_to_reset(launcher, conf):
    """Make SIGHUP reset the threading backend's worker instead of
    restarting it.

    cotyledon's worker answers SIGHUP by terminating itself so that its
    parent forks a fresh one: the pool, the power states and anything running
    would be lost. oslo.service's wrapper has no hook for it, so the worker's
    ``reload`` is replaced with one that mutates the config files in the
    worker and calls ``reset()``, as the eventlet launcher does. Without the
    hook, SIGHUP restarts the worker (draining it first).
    """
    # NOTE: reload() is cotyledon's documented override point of a worker
    # (cotyledon.Service.reload), set here on oslo.service's wrapper
    # instance, which has no hook of its own; tests/service/
    # test_launcher_hooks.py fails if either library moves it.
    # NOTE: cotyledon's launcher mutates its own copy of the files on
    # SIGHUP too (for the workers it forks later) and refuses a bad file
    # the same way; the worker, which runs the engine, is the one that
    # reports it at ERROR.
    validation.set_refusal_level(conf, logging.DEBUG)

    def _route(wrapper):
        validation.set_refusal_level(conf, logging.ERROR)

        def reload():
            conf.mutate_config_files()
            wrapper.service_instance.reset()
        wrapper.reload = reload

    on_new_worker(launcher, _route, 'SIGHUP will restart the worker process')

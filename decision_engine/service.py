"""The oslo.service Service that runs the conductor manager, and how it is
launched (:func:`launch`).

Launchers: with the eventlet backend, oslo.service's (one process); with
the threading backend, :class:`ThreadingLauncher`, a cotyledon parent that
supervises one worker process, built on cotyledon's public interface.

Life cycle, per backend (see doc/source/admin/operations.rst):

* start: the manager starts, then ``READY=1`` goes to systemd.
* SIGHUP: the config files are mutated and :meth:`EngineService.reset`
  applies the mutable options to the running manager: the pool, the power
  states and running tasks are kept. With the eventlet backend oslo.service
  does this itself; with the threading backend cotyledon would restart the
  worker process instead, so :class:`EngineWorker`'s ``reload`` calls
  ``reset()`` too.
* SIGTERM: ``STOPPING=1``, the periodics stop, running tasks get up to
  ``[conductor] graceful_shutdown_timeout`` to finish, exit status 0.
"""

import logging
import multiprocessing
import os
import signal
import sys
import threading

import cotyledon
from oslo_service import service

from decision_engine.conductor import manager as manager_mod
from decision_engine.conf import validation

LOG = logging.getLogger(__name__)


class EngineService(service.Service):

    def __init__(self, conf, notifier, backend):
        super().__init__()
        self.conf = conf
        self.notifier = notifier
        self.backend = backend
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


class EngineWorker(cotyledon.Service):
    """The threading backend's worker process: it runs the
    :class:`EngineService`.

    Built on cotyledon's documented override points: ``run``,
    ``terminate``, and ``reload``, which applies a SIGHUP in place
    (cotyledon's own ends the worker so that its parent forks a fresh one:
    the pool, the power states and anything running would be lost).
    """

    def __init__(self, worker_id, engine, conf):
        super().__init__(worker_id)
        #: the worker's own copy of the engine (its parent's, forked).
        self.service_instance = engine
        self._conf = conf
        # NOTE: the worker, which runs the engine, reports a bad file at
        # ERROR; the parent mutates its own copy too and says it at DEBUG.
        validation.set_refusal_level(conf, logging.ERROR)

    def run(self):
        try:
            self.service_instance.start()
            self.service_instance.wait()
        except Exception:
            LOG.exception('decision-engine worker failed')
            sys.exit(1)

    def terminate(self):
        self.service_instance.stop()

    def reload(self):
        self._conf.mutate_config_files()
        self.service_instance.reset()


class ThreadingLauncher:
    """The threading backend's launcher: a cotyledon ``ServiceManager``
    (a supervising parent) running one :class:`EngineWorker`.

    What oslo.service's ``ServiceLauncher`` does for one service, through
    cotyledon's public interface: that launcher keeps its cotyledon manager
    private, so neither the SIGHUP reset nor the per-worker hooks could be
    installed without reaching into it.
    """

    def __init__(self, conf, engine):
        from cotyledon import oslo_config_glue
        from oslo_service import opts as oslo_service_opts

        # NOTE: as oslo.service's launchers do: graceful_shutdown_timeout
        # and log_options, which the glue below reads.
        oslo_service_opts.register_service_opts(conf)
        # NOTE: fork, as oslo.service chooses on Linux: the worker starts
        # with the engine the parent built and the config it parsed.
        self.manager = cotyledon.ServiceManager(
            mp_context=multiprocessing.get_context('fork'))
        # NOTE: the manager's graceful_shutdown_timeout from the config,
        # and SIGHUP mutating the parent's copy of it.
        oslo_config_glue.link(self.manager, conf, reload_method='mutate')
        validation.set_refusal_level(conf, logging.DEBUG)
        self.manager.add(EngineWorker, 1, args=(engine, conf))

    def on_new_worker(self, hook):
        """Run ``hook(worker)`` in each new worker process, on its main
        thread, before the engine starts (``worker.service_instance`` is
        the worker's :class:`EngineService`)."""
        self.manager.register_hooks(
            on_new_worker=lambda service_id, worker_id, worker: hook(worker))

    def stop(self):
        self.manager.shutdown()

    def wait(self):
        """Run until the engine stops. :returns: the exit status."""
        try:
            return self.manager.run()
        except SystemExit as exc:
            self.stop()
            return exc.code
        except BaseException:
            self.stop()
            LOG.exception('Unhandled exception')
            return 2


def launch(conf, engine):
    """Launch ``engine`` on the chosen backend; :returns: the launcher
    (``wait()`` runs it and gives the exit status)."""
    if engine.backend == 'threading':
        return ThreadingLauncher(conf, engine)
    launcher = service.launch(conf, engine, workers=1,
                              restart_method='mutate')
    keep_signals_during_reload(launcher, engine)
    return launcher


def on_new_worker(launcher, hook, consequence):
    """Run ``hook(worker)`` in each new threading-backend worker (see
    :meth:`ThreadingLauncher.on_new_worker`).

    :param consequence: what an operator loses when the launcher has no
        workers to hook, for the warning.
    :returns: whether the hook was installed.
    """
    register = getattr(launcher, 'on_new_worker', None)
    if register is None:
        LOG.warning('Cannot hook into the launcher\'s workers: %s',
                    consequence)
        return False
    register(hook)
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

"""Guru Meditation Reports (oslo.reports) of the engine, on SIGUSR2.

A report is written to stderr, or to a file under ``[oslo_reports]
log_dir`` when that is set. Besides oslo.reports' own sections (package,
every thread's stack, green threads, processes, configuration with secrets
masked) it has a ``Worker Pool`` section: the pool's statistics, every
thread (or green thread) of the pool with its state, and the tasks running
on the pool with how long they have been running.

Where to call what
------------------

:func:`setup` installs the SIGUSR2 handler, which Python allows only on a
process's main thread:

* eventlet backend (one process): call it from ``main()`` before
  ``launcher.wait()``;
* threading backend (cotyledon parent + worker): call it in the worker,
  from a cotyledon ``on_new_worker`` hook (those run on the worker's main
  thread; the service's ``start()`` does not), and call
  :func:`forward_from_parent` in the parent, whose default action for
  SIGUSR2 would otherwise be to die. :func:`install` does both.

With ``[oslo_reports] file_event_handler`` set, touching that file triggers
a report instead of the signal, from any thread.
"""

import dataclasses
import logging
import os
import signal
import threading

from oslo_reports import guru_meditation_report as gmr
from oslo_reports.models import with_default_views as mwdv
from oslo_reports import opts as gmr_opts

LOG = logging.getLogger(__name__)

SERVICE_NAME = 'decision-engine'
SECTION_TITLE = 'Worker Pool'
# Last line of the section, which is the last of the report.
END_MARKER = 'End of the worker pool section'


class EngineReport(gmr.TextGuruMeditation):
    """The engine's report class; it owns its persistent sections (the
    base class keeps them in a class attribute shared by every user)."""

    persistent_sections = []


class VersionInfo:
    """What oslo.reports' package section asks a version object for."""

    def vendor_string(self):
        return 'OpenStack'

    def product_string(self):
        return SERVICE_NAME

    def version_string_with_package(self):
        try:
            from importlib import metadata
            return metadata.version(SERVICE_NAME)
        except Exception:  # not installed, e.g. run from a source tree
            return 'unknown'


def pool_threads(pool):
    """``[(name, ident, state)]`` of every thread the pool has spawned.

    Threads are spawned on demand, so a pool that never had more than N
    tasks at once lists N threads. ``state`` is ``idle`` or ``busy`` for
    native threads and ``running`` for green threads.
    """
    # NOTE: WorkerPool does not expose its executor's threads; futurist's
    # executors keep them in ``_workers`` (native) or a GreenPool's
    # ``coroutines_running`` (eventlet). Read defensively: a report must
    # never fail because a private attribute moved (tests/unit/concurrency/
    # test_library_internals.py says when one did).
    getter = getattr(pool, 'worker_threads', None)
    if callable(getter):
        return list(getter())
    executor = getattr(pool, '_executor', None)
    threads = []
    for worker in list(getattr(executor, '_workers', None) or ()):
        state = 'idle' if getattr(worker, 'idle', False) else 'busy'
        if not worker.is_alive():
            state = 'exited'
        threads.append((worker.name, worker.ident, state))
    green_pool = getattr(executor, '_pool', None)
    for green in list(getattr(green_pool, 'coroutines_running', None) or ()):
        threads.append(('greenthread-%x' % id(green), id(green), 'running'))
    return threads


def pool_report(manager):
    """The ``Worker Pool`` section's data, as a plain dict."""
    pool = getattr(manager, 'pool', None) if manager is not None else None
    if pool is None:
        return {'state': 'not started: the conductor manager has no pool'}
    data = {'state': 'running' if manager.started else 'stopped'}
    data['statistics'] = dataclasses.asdict(pool.statistics())
    threads = pool_threads(pool)
    data['threads'] = ['%s (ident %s): %s' % thread for thread in threads]
    data['running tasks'] = ['%s for %.1f s' % (name, seconds)
                             for name, seconds in pool.running_tasks()]
    data['periodic tasks'] = {
        name: dataclasses.asdict(stats)
        for name, stats in manager.periodic_statistics().items()}
    return data


def _text_view(model):
    lines = []
    data = dict(model)
    lines.append('State: %s' % data.pop('state'))
    stats = data.pop('statistics', None)
    if stats is not None:
        lines.append('Statistics:')
        lines.extend('  %s = %s' % (k, stats[k]) for k in sorted(stats))
    threads = data.pop('threads', None)
    if threads is not None:
        lines.append('Pool threads (%d):' % len(threads))
        lines.extend('  %s' % t for t in threads)
    running = data.pop('running tasks', None)
    if running is not None:
        lines.append('Running tasks (%d):' % len(running))
        lines.extend('  %s' % t for t in running)
    periodics = data.pop('periodic tasks', None)
    if periodics:
        lines.append('Periodic tasks:')
        for name in sorted(periodics):
            stats = periodics[name]
            lines.append('  %s: %s' % (name, ', '.join(
                '%s=%s' % (k, stats[k]) for k in sorted(stats))))
    lines.append(END_MARKER)
    return '\n'.join(lines)


class PoolSectionGenerator:
    """oslo.reports generator of the ``Worker Pool`` section."""

    def __init__(self, manager_getter):
        self.manager_getter = manager_getter

    def __call__(self):
        try:
            data = pool_report(self.manager_getter())
        except Exception as exc:  # a report must always be written
            data = {'state': 'unavailable: %s' % exc}
        return mwdv.ModelWithDefaultViews(data, text_view=_text_view)


def register_opts(conf):
    """Register ``[oslo_reports]`` (log_dir, file_event_handler, ...)."""
    gmr_opts.set_defaults(conf)


def setup(conf, manager_getter):
    """Write a report on SIGUSR2 (or when the watched file changes).

    :param conf: the engine's ``ConfigOpts``; ``[oslo_reports]`` is
        registered on it if needed.
    :param manager_getter: a callable returning the running
        :class:`~decision_engine.conductor.manager.ConductorManager` (or
        None before it exists); called each time a report is made.
    :raises RuntimeError: when called off the main thread without
        ``[oslo_reports] file_event_handler`` (Python only lets the main
        thread install signal handlers).
    """
    register_opts(conf)
    uses_signal = not conf.oslo_reports.file_event_handler
    EngineReport.persistent_sections = [
        (SECTION_TITLE, PoolSectionGenerator(manager_getter))]
    try:
        EngineReport.setup_autorun(VersionInfo(), service_name=SERVICE_NAME,
                                   conf=conf)
    except ValueError as exc:
        # NOTE: signal.signal() itself is the judge of "main thread": under
        # eventlet's monkey patching threading.main_thread() is not.
        raise RuntimeError(
            'decision_engine.reports.setup() must run on the main thread '
            'to handle SIGUSR2 (it ran on %s): %s'
            % (threading.current_thread().name, exc))
    LOG.debug('Guru Meditation Reports enabled (%s)',
              'SIGUSR2' if uses_signal else
              'watching %s' % conf.oslo_reports.file_event_handler)


def forward_from_parent():
    """In the cotyledon parent: pass SIGUSR2 on to the worker processes.

    Without it the parent, which does not make reports, would be killed by
    SIGUSR2 (``kill -USR2 $MAINPID`` or ``systemctl kill -s USR2``).
    cotyledon makes the parent a session and process group leader, so the
    signal goes to the group, the parent ignoring it meanwhile. A child
    forked before its own :func:`setup` inherits this handler and ignores
    the signal rather than bounce it back.
    """
    parent = os.getpid()

    def _forward(signum, frame):
        if os.getpid() != parent:
            return
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)
        try:
            if os.getpgid(0) == parent:
                os.killpg(0, signal.SIGUSR2)
            else:
                LOG.warning('SIGUSR2 not forwarded: the engine is not a '
                            'process group leader; send it to the worker '
                            'process instead')
        finally:
            signal.signal(signal.SIGUSR2, _forward)

    signal.signal(signal.SIGUSR2, _forward)


def install(launcher, conf, engine, backend):
    """Wire reports into a launched engine (see the module docstring).

    :param launcher: what :func:`decision_engine.service.launch`
        returned.
    :param engine: the :class:`~decision_engine.service.EngineService`.
    :param backend: ``'threading'`` or ``'eventlet'``.
    """
    if backend != 'threading':
        setup(conf, lambda: engine.manager)
        return
    # NOTE: imported here: decision_engine.service needs the backend chosen.
    from decision_engine import service as service_mod

    register_opts(conf)

    def _setup_in_worker(worker):
        service = worker.service_instance
        setup(conf, lambda: service.manager)

    if not service_mod.on_new_worker(
            launcher, _setup_in_worker,
            'SIGUSR2 will not produce a Guru Meditation Report'):
        return
    forward_from_parent()

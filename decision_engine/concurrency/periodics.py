"""Periodic tasks: how they are declared, collected and run.

A periodic task is a method decorated with :func:`periodic`, on the conductor
manager or on a power driver class. The manager collects them from itself
and from every enabled driver instance (:func:`collect`) and runs all of them
with one ``futurist.periodics.PeriodicWorker`` whose executor is the shared
worker pool (``ExistingExecutor``): each run takes a pool worker, so a task
that blocks delays only itself, and futurist never starts a task again before
its previous run ended, so a task never overlaps itself.

Spacing may be a number or a callable of the instance, typically reading
an option of the configuration the instance was given::

    @periodics.periodic(spacing=lambda self: self.conf.power.sync_interval)
    def sync_power_states(self):
        ...

A callable spacing (and a callable ``enabled``) is resolved when the tasks
are collected from the instance, not at import (so the config file has been
read by then, and each instance answers from its own ``conf``), and again
after a SIGHUP so a mutable interval takes effect without a restart: the
next run then comes one new interval after the reload (see
:meth:`PeriodicTask.refresh`). A callable taking no argument is accepted
too, for out-of-tree drivers written against the old interface.

Per-node work inside a periodic fans out into the pool with
:func:`fan_out_nodes`, bounded by ``[conductor] periodic_max_workers`` unless
the caller gives a tighter bound.

:func:`driver_periodic_task` is the old decorator, kept for out-of-tree
drivers; it logs a deprecation warning once and applies :func:`periodic`.
"""

import dataclasses
import functools
import inspect
import logging
import threading
import time

from futurist import periodics as futurist_periodics

LOG = logging.getLogger(__name__)

_MARKER = '_decision_engine_periodic'


class PeriodicSpec:
    """What :func:`periodic` records on a function."""

    def __init__(self, spacing, run_immediately=False, enabled=True):
        if not callable(spacing):
            _check_spacing(spacing, 'spacing')
        self.spacing = spacing
        self.run_immediately = run_immediately
        self.enabled = enabled

    def resolve(self, name, owner):
        """The spacing in seconds; a callable spacing is called now."""
        return _check_spacing(_value_for(self.spacing, owner), name)

    def is_enabled(self, owner):
        return bool(_value_for(self.enabled, owner))


def _value_for(value, owner):
    """``value``, or what it returns for ``owner`` when it is callable."""
    if not callable(value):
        return value
    try:
        takes_owner = bool(inspect.signature(value).parameters)
    except (TypeError, ValueError):     # a builtin without a signature
        takes_owner = False
    return value(owner) if takes_owner else value()


def _check_spacing(spacing, name):
    if isinstance(spacing, bool) or not isinstance(spacing, (int, float)) \
            or spacing <= 0:
        raise ValueError('periodic task %s: spacing must be a positive '
                         'number of seconds, not %r' % (name, spacing))
    return spacing


def periodic(spacing, run_immediately=False, enabled=True):
    """Declare a method (or function) as a periodic task.

    :param spacing: seconds between two starts of the task, or a callable
        of the instance returning them (resolved when the task is collected
        and after SIGHUP).
    :param run_immediately: run once as soon as the manager starts.
    :param enabled: a bool, or a callable of the instance returning one,
        resolved when the task is collected; a disabled task is not
        scheduled at all.
    """
    spec = PeriodicSpec(spacing, run_immediately, enabled)

    def decorator(func):
        setattr(func, _MARKER, spec)
        return func

    return decorator


_deprecation_lock = threading.Lock()
_deprecation_logged = False


def driver_periodic_task(spacing=None, parallel=True, **kwargs):
    """Deprecated: use :func:`periodic`.

    Kept so out-of-tree drivers written against the old interface keep
    working. ``parallel`` is accepted and ignored: every periodic runs on the
    shared pool now. A deprecation warning is logged the first time the
    decorator is used in a process.
    """
    global _deprecation_logged
    with _deprecation_lock:
        if not _deprecation_logged:
            _deprecation_logged = True
            LOG.warning('driver_periodic_task is deprecated and will be '
                        'removed; decorate the method with '
                        'decision_engine.concurrency.periodics.periodic '
                        'instead.')
    return periodic(spacing if spacing is not None else 60, **kwargs)


class NonOverlapping:
    """At most one run at a time of whatever it guards.

    The one guard against a periodic overlapping itself: futurist never
    starts a periodic again before its run ended, but a run of a previous
    ``PeriodicWorker`` (after a SIGHUP) or a direct call (a test, an
    operator's "sync now") could still overlap one; both use this.
    """

    def __init__(self):
        self._lock = threading.Lock()

    def enter(self):
        """Take the guard; False (and nothing taken) while a run holds it."""
        return self._lock.acquire(blocking=False)

    def leave(self):
        self._lock.release()

    @property
    def running(self):
        return self._lock.locked()


@dataclasses.dataclass(frozen=True)
class PeriodicStatistics:
    """One periodic task's numbers (``/v1/status``, ``/metrics``, report)."""

    spacing: float
    runs: int
    failures: int
    #: runs skipped because the previous run was still going.
    skipped: int
    running: bool
    last_duration: float | None
    #: how late past its spacing the last run started.
    last_lateness: float | None
    last_error: str | None


class PeriodicTask:
    """One collected periodic: a bound callable, its spacing, its numbers.

    :attr:`callable` is what the ``PeriodicWorker`` runs. It never runs the
    task twice at once, even across a change of worker (see
    :meth:`ConductorManager.reset`): a run that finds the previous one still
    going is skipped and counted in ``skipped``.
    """

    def __init__(self, name, func, spec, owner=None):
        self.name = name
        self.spec = spec
        self._func = func
        self._owner = owner
        self._running = NonOverlapping()
        self._stats_lock = threading.Lock()
        self.runs = 0
        self.failures = 0
        self.skipped = 0
        self.last_duration = None
        self.last_lateness = None
        self.last_error = None
        self._last_started = None
        self.spacing = spec.resolve(name, owner)
        self.callable = self._make_callable(spec.run_immediately)

    def _make_callable(self, run_immediately):
        # NOTE: the callable is decorated afresh for every PeriodicWorker:
        # futurist reads its spacing from the decorated function.
        return futurist_periodics.periodic(
            self.spacing, run_immediately=run_immediately)(
                _named(self._run, self.name))

    def _run(self):
        if not self._running.enter():
            with self._stats_lock:
                self.skipped += 1
            LOG.debug('Periodic task %s is still running; skipping this '
                      'run', self.name)
            return
        started = time.monotonic()
        try:
            with self._stats_lock:
                if self._last_started is not None:
                    self.last_lateness = max(
                        0.0, started - self._last_started - self.spacing)
                self._last_started = started
            return self._func()
        except Exception as exc:
            with self._stats_lock:
                self.failures += 1
                self.last_error = '%s: %s' % (type(exc).__name__, exc)
            raise
        finally:
            with self._stats_lock:
                self.runs += 1
                self.last_duration = time.monotonic() - started
            self._running.leave()

    def refresh(self):
        """Re-resolve a callable spacing after the config changed.

        :returns: True when the spacing changed; the caller then hands
            :meth:`rescheduled` to a new ``PeriodicWorker``, because
            futurist keeps the next run time it computed with the old one.
        """
        spacing = self.spec.resolve(self.name, self._owner)
        if spacing == self.spacing:
            return False
        LOG.info('Periodic task %s now runs every %s s (was %s s)',
                 self.name, spacing, self.spacing)
        self.spacing = spacing
        return True

    def rescheduled(self):
        """A callable for a new worker: first run one spacing from now."""
        self.callable = self._make_callable(run_immediately=False)
        return self.callable

    def statistics(self):
        """A snapshot of this task's numbers (:class:`PeriodicStatistics`)."""
        with self._stats_lock:
            return PeriodicStatistics(
                spacing=self.spacing, runs=self.runs, failures=self.failures,
                skipped=self.skipped, running=self._running.running,
                last_duration=self.last_duration,
                last_lateness=self.last_lateness,
                last_error=self.last_error)


def _named(func, name):
    @functools.wraps(func)
    def run(*args, **kwargs):
        return func(*args, **kwargs)
    run.__module__ = 'decision_engine'
    run.__qualname__ = run.__name__ = name
    return run


def collect(obj, prefix=None):
    """The enabled periodic tasks declared on ``obj`` (an instance).

    Methods decorated with :func:`periodic` (or :func:`driver_periodic_task`)
    are collected, and so are methods decorated directly with futurist's own
    ``periodic`` decorator.

    :param prefix: name shown in logs and statistics before the method name
        (the class name by default).
    :returns: a list of :class:`PeriodicTask`.
    """
    prefix = prefix or type(obj).__name__
    tasks = []
    for attr, member in inspect.getmembers(type(obj)):
        func = getattr(member, '__func__', member)
        spec = getattr(func, _MARKER, None)
        if spec is None and futurist_periodics.is_periodic(func):
            # NOTE: futurist keeps what its decorator recorded in private
            # attributes and has no public reader for them; tests/
            # concurrency/test_library_internals.py fails if they move.
            spec = PeriodicSpec(func._periodic_spacing,
                                func._periodic_run_immediately,
                                func._is_periodic)
        if spec is None:
            continue
        name = '%s.%s' % (prefix, attr)
        if not spec.is_enabled(obj):
            LOG.debug('Periodic task %s is disabled', name)
            continue
        tasks.append(PeriodicTask(name, getattr(obj, attr), spec, owner=obj))
    return tasks


def fan_out_nodes(pool, fn, nodes, max_workers, limit=None):
    """Run ``fn(node)`` for every node on the pool, a bounded number at once.

    For per-node work inside a periodic task. Failures do not stop the
    others: a node's exception takes its place in the returned list.

    :param max_workers: ``[conductor] periodic_max_workers``, the ceiling.
    :param limit: a tighter bound of the caller's (e.g. ``sync_workers``).
    """
    bound = max_workers if limit is None else min(limit, max_workers)
    return pool.fan_out(fn, nodes, max_workers=bound, return_exceptions=True)

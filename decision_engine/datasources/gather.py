"""Gathering an audit's metrics: chunked, parallel, retried, cached.

For each required metric the scope's names (see
:func:`decision_engine.common.measurements.needed`) are cut into chunks of
``[datasource] query_chunk_size`` divided by the metric's weight for the
datasource (:meth:`~.base.Datasource.weight`: Prometheus's host CPU query
reads a series per CPU, so it names 16 times fewer hosts, and the queries
cost about the same); each chunk is one query, so a scope of
1,000 hosts and 20,000 instances takes about sixty queries, not 38,000.
The queries fan out on the shared
:class:`~decision_engine.concurrency.pool.WorkerPool`, at most
``[datasource] parallelism`` at once (a full pool runs one in the calling
thread, so gathering always progresses). Host names a first wave found no
series for are asked again by the datasource's fallback (Prometheus: the
``instance`` label), in a second wave.

Each query is retried after a :class:`~.base.RetryableError` (``max_retries``
times, exponential backoff with full jitter, or as long as the server's
``Retry-After`` says) within one deadline (``gather_timeout``); a wait,
``Retry-After`` or backoff, that would reach the deadline fails the query
at once (:mod:`decision_engine.common.retry_policy`). The first
query that still fails aborts the gathering: the others stop before their
next attempt and
:class:`GatheringError` names that query. Values are never returned for a
part of the queries: it is all of them or the error.

Answers are cached per (metric, names of the chunk, window, granularity) for
``cache_ttl`` seconds, so audits over the same scope within that time share
them; a query already on its way for another audit is waited for, not sent
twice. A name absent from every answer is missing, which is the audit's
policy to judge (:func:`decision_engine.common.measurements.apply_policy`).
"""

import collections
import dataclasses
import logging
import random
import threading
import time

from decision_engine.common import measurements as metrics_mod
from decision_engine.common import retry_policy
from decision_engine.concurrency import pool as pool_mod
from decision_engine.datasources import base

LOG = logging.getLogger(__name__)


class GatheringError(Exception):
    """The metrics could not all be gathered; the message says which query
    failed and why."""


@dataclasses.dataclass(frozen=True)
class GatheringStatistics:
    """Counters of this engine's gatherings (``/v1/status``)."""

    gatherings: int
    failed: int
    queries: int
    retries: int
    errors: int
    cache_hits: int
    last_seconds: float | None


@dataclasses.dataclass(frozen=True)
class Settings:
    """The ``[datasource]`` numbers one gathering reads once."""

    window: int = 600
    chunk_size: int = 1000
    parallelism: int = 8
    query_timeout: float = 30.0
    gather_timeout: float = 120.0
    max_retries: int = 3
    retry_delay: float = 0.5
    cache_ttl: int = 60
    granularity: int = 0

    def __post_init__(self):
        if self.granularity and self.granularity * 2 > self.window:
            raise GatheringError(
                '[datasource] granularity (%d s) must be at most half of '
                '[datasource] window (%d s)'
                % (self.granularity, self.window))

    @classmethod
    def from_conf(cls, conf):
        g = conf.datasource
        return cls(g.window, g.query_chunk_size, g.parallelism,
                   g.query_timeout, g.gather_timeout, g.max_retries,
                   g.retry_delay, g.cache_ttl, g.granularity)


def chunks(names, size):
    names = list(names)
    return [tuple(names[i:i + size]) for i in range(0, len(names), size)]


class MetricsGatherer:
    """What the manager hands the audit service to get measured load.

    :param datasource: a :class:`~.base.Datasource`.
    :param pool: the shared worker pool.
    :param settings: a callable returning the current :class:`Settings`
        (re-read at every gathering, so a SIGHUP applies to the next one).
    """

    def __init__(self, datasource, pool, settings, clock=time.monotonic,
                 rng=None):
        self.datasource = datasource
        self.pool = pool
        self._settings = settings
        self._clock = clock
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._cache = collections.OrderedDict()
        self._in_flight = {}
        self._counters = collections.Counter()
        self._last_seconds = None

    @property
    def name(self):
        return self.datasource.name

    def describe(self):
        return self.datasource.describe()

    def statistics(self):
        with self._lock:
            c = self._counters
            return GatheringStatistics(
                c['gatherings'], c['failed'], c['queries'], c['retries'],
                c['errors'], c['cache_hits'], self._last_seconds)

    # -- one gathering -------------------------------------------------------

    def gather(self, wanted):
        """Values of ``wanted`` (``{metric: [names]}``).

        :returns: :class:`~decision_engine.common.measurements.Measurements`
            with every value the datasource has; names it has none for are
            absent.
        :raises GatheringError: when a query fails after its retries, or
            the deadline passes.
        """
        settings = self._settings()
        started = self._clock()
        run = _Run(self, settings, started + settings.gather_timeout,
                   time.time())
        with self._lock:
            self._counters['gatherings'] += 1
        try:
            values = run.collect(wanted)
        except GatheringError:
            with self._lock:
                self._counters['failed'] += 1
            raise
        finally:
            with self._lock:
                self._last_seconds = self._clock() - started
        return metrics_mod.Measurements(values, window=settings.window,
                                        source=self.datasource.describe(),
                                        at=run.at)

    def check(self, wanted):
        """``{metric: {'needed', 'present', 'missing': [names]}}`` for the
        requirements check (API and CLI).

        :raises GatheringError: as :meth:`gather`.
        """
        found = self.gather(wanted)
        absent = metrics_mod.missing(found, wanted)
        return {metric: {'needed': len(names),
                         'present': len(names) - len(absent.get(metric, ())),
                         'missing': absent.get(metric, [])}
                for metric, names in wanted.items()}

    # -- cache -------------------------------------------------------------

    def _cached(self, key, ttl):
        if ttl <= 0:
            return None
        with self._lock:
            entry = self._cache.get(key)
            if entry is None:
                return None
            stamp, values = entry
            if self._clock() - stamp > ttl:
                del self._cache[key]
                return None
            self._counters['cache_hits'] += 1
            return values

    def _store(self, key, values, ttl):
        if ttl <= 0:
            return
        with self._lock:
            self._cache[key] = (self._clock(), values)
            self._cache.move_to_end(key)
            # NOTE: bounded: entries of old scopes must not pile up.
            while len(self._cache) > 4096:
                self._cache.popitem(last=False)

    def _join(self, key, ttl):
        """``(True, event)`` for the first asker of ``key``, ``(False,
        its event)`` for the others while it runs (only with a cache)."""
        with self._lock:
            event = self._in_flight.get(key)
            if event is not None:
                return False, event
            event = threading.Event()
            if ttl > 0:
                self._in_flight[key] = event
            return True, event

    def _leave(self, key):
        with self._lock:
            event = self._in_flight.pop(key, None)
        if event is not None:
            event.set()

    def _count(self, name, n=1):
        with self._lock:
            self._counters[name] += n


class _Run:
    """The state of one gathering."""

    def __init__(self, gatherer, settings, deadline, at):
        self.g = gatherer
        self.settings = settings
        self.deadline = deadline
        self.at = at
        self.aborted = threading.Event()
        self.failure = None
        self._failure_lock = threading.Lock()

    def collect(self, wanted):
        s = self.settings
        values = {metric: {} for metric in wanted}
        for fallback in (False, True):
            queries = []
            for metric, names in wanted.items():
                todo = [n for n in names if n not in values[metric]]
                size = max(1, s.chunk_size // max(
                    1, self.g.datasource.weight(metric)))
                for chunk in chunks(todo, size):
                    q = self.g.datasource.query(
                        metric, chunk, s.window, fallback=fallback,
                        granularity=s.granularity)
                    if q is not None:
                        queries.append(q)
            if not queries:
                continue
            for q, got in zip(queries, self._run_all(queries)):
                values[q.metric].update(got)
        return values

    def _run_all(self, queries):
        limit = max(1, min(self.settings.parallelism, self.g.pool.size))
        left = self.deadline - self.g._clock()
        try:
            return self.g.pool.fan_out(self._one, queries, max_workers=limit,
                                       timeout=max(0.0, left) + 1.0)
        except pool_mod.PoolTimeout:
            self.aborted.set()
            raise GatheringError(
                'metrics gathering from %s did not finish within '
                '[datasource] gather_timeout (%s s)'
                % (self.g.describe(), self.settings.gather_timeout))
        except GatheringError:
            # NOTE: the first failure, not whichever aborted query ended
            # first: that one names the query that broke the gathering.
            self.aborted.set()
            raise self.failure or GatheringError('gathering aborted')
        except BaseException:
            self.aborted.set()
            raise

    def _one(self, query):
        s = self.settings
        key = (query.metric, query.names, s.window, s.granularity,
               query.strip_port)
        cached = self.g._cached(key, s.cache_ttl)
        if cached is not None:
            return cached
        owner, event = self.g._join(key, s.cache_ttl)
        if not owner:
            # NOTE: another gathering is asking the same query: its answer
            # lands in the cache; ask ourselves only if it failed.
            event.wait(max(0.0, self.deadline - self.g._clock()))
            cached = self.g._cached(key, s.cache_ttl)
            if cached is not None:
                return cached
        try:
            return self._fetch(query, key)
        finally:
            if owner:
                self.g._leave(key)

    def _fetch(self, query, key):
        s = self.settings

        def attempt():
            self.g._count('queries')
            try:
                return self.g.datasource.run(
                    query, min(s.query_timeout,
                               self.deadline - self.g._clock()),
                    at=self.at)
            except base.DatasourceError:
                self.g._count('errors')
                raise

        policy = retry_policy.Policy(
            s.max_retries + 1, retry_policy.full_jitter(s.retry_delay),
            rng=self.g._rng)
        try:
            values = policy.call(
                attempt,
                retryable=lambda exc: isinstance(exc, base.RetryableError),
                retry_after=lambda exc: exc.retry_after,
                deadline=self.deadline, stop=self.aborted,
                on_retry=lambda *_: self.g._count('retries'),
                clock=self.g._clock)
        # NOTE: from None: the message names the last error; the policy's
        # exception says nothing more.
        except retry_policy.Stopped:
            raise GatheringError('gathering aborted') from None
        except retry_policy.AttemptsExhausted as gave_up:
            raise self._failed(query, '%s (after %d attempts)'
                               % (gave_up.last, gave_up.attempts)) from None
        except retry_policy.PastDeadline as gave_up:
            if gave_up.retry_after is None:
                raise self._deadline_failure(query) from None
            # NOTE: the server said when to come back (429, 503); a wait
            # past the deadline would only fail later.
            raise self._failed(query, '%s; its Retry-After of %s s is past '
                               'the deadline of [datasource] gather_timeout '
                               '(%s s)' % (gave_up.last, gave_up.retry_after,
                                           s.gather_timeout)) from None
        except retry_policy.DeadlineReached:
            raise self._deadline_failure(query) from None
        except base.DatasourceError as exc:
            raise self._failed(query, str(exc))
        self.g._store(key, values, s.cache_ttl)
        return values

    def _deadline_failure(self, query):
        return self._failed(query, 'deadline of [datasource] gather_timeout '
                            '(%s s) reached' % self.settings.gather_timeout)

    def _failed(self, query, reason):
        text = query.text if len(query.text) <= 300 else (
            query.text[:300] + '... (%d names)' % len(query.names))
        error = GatheringError('metrics query %s failed: %s'
                               % (text, reason))
        with self._failure_lock:
            if self.failure is None:
                self.failure = error
        self.aborted.set()
        return error

"""The event-fed whole-cloud model between full builds.

:class:`LiveModel` holds a working copy of the last whole-cloud build and
applies events to it (:mod:`decision_engine.collector.events`) under one
short lock (no I/O is ever done under it: targeted fetches run before it
is taken). Audits get :meth:`LiveModel.snapshot`.

Full builds and events
----------------------
:meth:`begin_build` is called before a full build sends its first
request: from then on every event is also *held*. :meth:`finish_build`
takes the new model, replays the held events onto it in arrival order
(each event carries the whole element and versions drop the ones already
reflected, so nothing is lost and nothing counts twice) and swaps it in.
Events keep being applied to the old model during the build, so it stays
fresh until then. The versions of the events applied before the build
began are kept for the new model (the build reflects them): a copy the
broker delivers again after a closed connection stays stale instead of
rolling the new model back.

Rebuild-only
------------
The model is *rebuild-only* (served only by full builds, as without
notifications) until a full build completes with no gap since it began; a
listener disconnect, an event refused because too many wait, or an event
that could not be applied (a failed targeted fetch) is a gap. While
event-fed and caught up (connected, nothing older than ``[notifications]
max_lag`` waiting), :meth:`fresh` says the model is current, whatever the
age of its last build.
"""

import collections
import dataclasses
import logging
import threading
import time

from decision_engine.collector import events as events_mod

LOG = logging.getLogger(__name__)

OUTCOMES = (events_mod.APPLIED, events_mod.STALE, events_mod.IGNORED,
            'failed')


@dataclasses.dataclass(frozen=True)
class NotificationStatus:
    """What ``/v1/model`` and ``/metrics`` show of the listener."""

    #: ``'event-fed'`` or ``'rebuild-only'``.
    mode: str
    connected: bool
    #: why the model is rebuild-only, or None.
    reason: str | None
    last_event_at: float | None
    #: milliseconds from Nova's timestamp to applied, last event.
    lag_ms: float | None
    pending: int
    applied: int
    ignored: int
    stale: int
    failed: int
    gaps: int
    #: full builds asked for because of a gap.
    rebuilds_triggered: int
    #: ``{event type: {outcome: count}}``.
    by_type: dict


class LiveModel:
    """:param clock: ``() -> epoch seconds`` (for the lag and the start
        of full builds).
    :param clock_skew: ``() -> seconds`` Nova's clocks may be behind
        ``clock`` (see :meth:`finish_build`).
    """

    def __init__(self, max_lag=lambda: 5.0, clock=time.time,
                 clock_skew=lambda: 10.0):
        self._lock = threading.Lock()
        self._max_lag = max_lag
        self._clock = clock
        self._clock_skew = clock_skew
        #: when the running full build began (``clock``), or None.
        self._build_began = None
        #: events stamped before this (epoch seconds) are reflected in the
        #: current model's build; None: no such bound known.
        self._floor = None
        self._model = None
        self._versions = events_mod.Versions()
        self._held = None
        #: the versions when the running full build began.
        self._versions_at_build = None
        self._gap_epoch = 0     # bumped at every gap
        self._build_epoch = None
        self._rebuild_only = True
        self._reason = 'no full build since the listener started'
        self.connected = False
        self._counts = collections.Counter()
        self._by_type = collections.defaultdict(collections.Counter)
        self._gaps = 0
        self._rebuilds = 0
        self._last_event_at = None
        self._lag_ms = None
        #: lags (ms) of the last applied events, for percentiles.
        self.recent_lags_ms = collections.deque(maxlen=100000)
        self._pending = lambda: 0
        self.changed = threading.Condition(self._lock)

    def attach_queue(self, pending):
        """``pending``: a callable, the number of events waiting."""
        self._pending = pending

    def knows_host(self, hostname):
        model = self._model
        return model is not None and \
            model.get_node_by_hostname(hostname) is not None

    # -- full builds ---------------------------------------------------------

    def begin_build(self):
        with self._lock:
            self._build_began = self._clock()
            self._held = []
            self._versions_at_build = self._versions.copy()
            self._build_epoch = self._gap_epoch

    def finish_build(self, model):
        """Take ``model`` (the live model's own copy), replay the held
        events onto it, and swap it in.

        Events stamped more than ``clock_skew`` before the build began
        are reflected in it: they are not replayed, and from now on such
        an event is dropped as stale (a listener pool's queue delivers,
        after a restart, what Nova sent while the engine was away; a
        service event replayed onto a build that saw the host go down
        since would bring it back up, and no later event corrects it).

        :returns: the held events that need a targeted fetch (to be put
            again through the dispatcher).
        """
        refetch = []
        with self._lock:
            held, self._held = self._held or [], None
            began, self._build_began = self._build_began, None
            if began is not None:
                self._floor = began - max(0.0, self._clock_skew())
                # NOTE: each was counted when it arrived.
                held = [e for e in held if not self._reflected(e)]
            # NOTE: what events applied before the build began set stays:
            # the build reflects them, so a late or redelivered copy of one
            # must not roll the new model back. Held events are replayed.
            before = self._versions_at_build or events_mod.Versions()
            self._versions_at_build = None
            versions = before.carried(model)
            for event in held:
                outcome = events_mod.apply(model, versions, event)
                if isinstance(outcome, tuple):
                    refetch.append(event)
            self._model = model
            self._versions = versions
            if self._build_epoch == self._gap_epoch and self.connected:
                self._rebuild_only = False
                self._reason = None
            elif not self.connected:
                self._reason = 'the listener is not connected'
            self._build_epoch = None
            self.changed.notify_all()
        if held:
            LOG.info('Replayed %d event(s) received during the full build '
                     'onto the new model', len(held))
        return refetch

    def build_failed(self):
        with self._lock:
            self._build_began = None
            self._held = None
            self._versions_at_build = None
            self._build_epoch = None

    # -- events --------------------------------------------------------------

    def apply(self, event, fetched=None):
        """Apply one event; ``fetched`` is an element a targeted fetch
        brought for it (``('instance', Instance)`` or ``('host',
        ComputeNode)``).

        :returns: the outcome of :func:`~decision_engine.collector.events.
            apply` (None when there is no model yet: nothing to apply to,
            the first build will have it).
        """
        with self._lock:
            if self._reflected(event):
                self._count(event, events_mod.STALE)
                return events_mod.STALE
            if self._held is not None:
                self._held.append(event)
            model = self._model
            if model is None:
                self._count(event, events_mod.STALE)
                return events_mod.STALE
            if fetched is not None:
                _insert(model, self._versions, event, *fetched)
            outcome = events_mod.apply(model, self._versions, event)
            if fetched is not None and fetched[0] == 'instance' and \
                    outcome == events_mod.STALE:
                # The fetched instance is Nova's state now, newer than
                # the event: the event is applied by having fetched it.
                outcome = events_mod.APPLIED
            if not isinstance(outcome, tuple):
                self._count(event, outcome)
                self.changed.notify_all()
            return outcome

    def _reflected(self, event):
        """Whether the current model's build reflects ``event`` (stamped
        before the build began, less the clock skew)."""
        return self._floor is not None and event.timestamp < self._floor

    def _count(self, event, outcome):
        self._counts[outcome] += 1
        self._by_type[event.event_type][outcome] += 1
        now = self._clock()
        if outcome == events_mod.APPLIED:
            self._last_event_at = event.timestamp
            self._lag_ms = events_mod.lag_ms(event, now)
            self.recent_lags_ms.append(self._lag_ms)

    def count_unhandled(self, event_type, outcome):
        """Count an event of a type not kept, or a malformed/failed one."""
        with self._lock:
            self._counts[outcome] += 1
            self._by_type[event_type][outcome] += 1

    def gap(self, reason):
        """Something may be missing: rebuild-only until the next full
        build that starts after now completes."""
        with self._lock:
            self._gap_epoch += 1
            self._gaps += 1
            first = not self._rebuild_only
            self._rebuild_only = True
            self._reason = reason
        if first:
            LOG.warning('Compute model is rebuild-only until the next full '
                        'build: %s', reason)
        return first

    def rebuild_triggered(self):
        with self._lock:
            self._rebuilds += 1

    def set_connected(self, connected, reason=None):
        self.connected = connected
        if not connected:
            self.gap(reason or 'the listener is not connected')

    # -- readers -------------------------------------------------------------

    def fresh(self):
        """True when the event-fed model is current: event-fed, connected
        and nothing waits for longer than ``[notifications] max_lag``."""
        if self._rebuild_only or not self.connected or self._model is None:
            return False
        if not self._pending():
            return True
        # Events wait: caught up while the last one applied was recent.
        return self._lag_ms is not None and \
            self._lag_ms <= self._max_lag() * 1000.0

    def snapshot(self):
        """A snapshot of the live model (None before the first build):
        O(changes) (:meth:`~decision_engine.model.elements.ComputeModel.
        snapshot`), and it never changes while events keep arriving."""
        with self._lock:
            model = self._model
            return model.snapshot() if model is not None else None

    def status(self):
        with self._lock:
            counts = self._counts
            return NotificationStatus(
                mode='rebuild-only' if self._rebuild_only else 'event-fed',
                connected=self.connected, reason=self._reason,
                last_event_at=self._last_event_at, lag_ms=self._lag_ms,
                pending=self._pending(),
                applied=counts[events_mod.APPLIED],
                ignored=counts[events_mod.IGNORED],
                stale=counts[events_mod.STALE], failed=counts['failed'],
                gaps=self._gaps, rebuilds_triggered=self._rebuilds,
                by_type={t: dict(c) for t, c in self._by_type.items()})


def _insert(model, versions, event, kind, element):
    """Put a fetched element into the model (under the live lock)."""
    if kind == 'host':
        if model.get_node_by_hostname(element.hostname) is None:
            model.add_node(element)
            for name in element.aggregates:
                members = model.aggregates.get(name, ())
                if element.hostname not in members:
                    aggregates = dict(model.aggregates)
                    aggregates[name] = members + (element.hostname,)
                    model.aggregates = aggregates
            events_mod.rezone(model)
    elif element is not None and model.get_instance(element.uuid) is None:
        gone = versions.deleted.get(element.uuid)
        if gone is None or event.version > gone:
            model.add_instance(element)
            versions.state[element.uuid] = event.version
            versions.host[element.uuid] = event.version

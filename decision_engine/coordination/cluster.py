"""This engine's membership in a cluster of engines (tooz).

The manager builds one :class:`Cluster` when ``[coordination]
backend_url`` is set (else a :class:`SoleCluster`, which owns everything
and needs no service) and hands its :meth:`Cluster.owns` to the parts that
share work: the power drivers (nodes, keyed by hostname) and the audit
service (audits, keyed by uuid).

- Membership: the engine joins the group ``<group_prefix>-engines`` with its
  capabilities (host, API URL, version). A heartbeat thread of its own
  keeps the membership alive (not a pool task: a pool busy with sweeps must
  not get the engine dropped from the group).
- Watching: :meth:`Cluster.watch` is a periodic on the shared pool; it
  calls tooz ``run_watchers()`` (tooz only notices joins, leaves and
  elections when called) and compares the members with the last ones. On a
  change the ring is rebuilt and every listener is called with the members
  that joined and left, so the new owners act at once.
- Leader: one engine at a time runs the cluster-wide chores. With a backend
  whose tooz driver has leader election (Redis, ZooKeeper), it is the
  elected leader of the group; on etcd3 (tooz's etcd3gw driver has none) it
  is whoever holds the lock ``<group_prefix>-leader``, refreshed by the
  heartbeat and released on a clean stop.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
import time
from typing import Any, Callable
import urllib.parse

from oslo_config import cfg
import tooz
from tooz import coordination as tooz_coordination

from decision_engine.common import timeutils
from decision_engine.common import urls
from decision_engine.concurrency import periodics
from decision_engine.coordination import ring as ring_mod

LOG = logging.getLogger(__name__)

#: ``listener(joined, left)``: the member ids that joined and left.
Listener = Callable[[set[str], set[str]], object]


class CoordinationUnavailable(RuntimeError):
    """The coordination service cannot be joined; one line naming it."""


@dataclasses.dataclass(frozen=True)
class ClusterStatus:
    """The cluster as this engine sees it (``/v1/status``, ``/metrics``)."""

    #: False when the engine works alone (no ``backend_url``).
    enabled: bool
    #: this engine's member id (``[DEFAULT] host``).
    member: str
    #: ``{member id: capabilities}`` of the live members.
    members: dict[str, dict]
    #: the member running the cluster-wide chores (None: not known yet).
    leader: str | None
    #: how the leader is chosen: "election", "lock" or "sole".
    leader_by: str
    #: ring rebuilds after a membership change (the first build counts).
    ring_changes: int
    #: when the membership last changed (UTC), None before the first.
    last_change: object
    #: work taken over from engines that left, by kind ("audits", ...).
    takeovers: dict[str, int]
    #: heartbeats that failed (the service unreachable).
    heartbeat_failures: int


def _text(value):
    return value.decode('utf-8') if isinstance(value, bytes) else value


def _check_reachable(backend_url: str, timeout: float) -> None:
    """Raise OSError at once when nothing listens at the service's
    address (a URL with a host and port; any other is left to tooz).

    NOTE: tooz 9's Redis driver retries a refused connection 15 times and
    redis-py 8 retries each of those 10 times with a backoff: about a
    minute before an engine started against a stopped Redis says so, or a
    watch that tries to join again holds its pool worker.
    """
    parsed = urllib.parse.urlsplit(backend_url)
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        return
    if not host or not port:
        return
    socket.create_connection((host, port), timeout=timeout).close()


class LeaderChores:
    """The cluster-wide chores, run every ``leader_chore_interval`` seconds
    by the engine that leads (an engine alone leads itself)."""

    conf: cfg.ConfigOpts
    ring: ring_mod.Ring | ring_mod.SoleRing
    _chores: list[Callable[[], object]]

    def is_leader(self) -> bool:
        raise NotImplementedError

    def add_leader_chore(self, chore: Callable[[], object]) -> None:
        """Run ``chore()`` every ``leader_chore_interval`` seconds on the
        leader only (one engine of the cluster at a time)."""
        self._chores.append(chore)

    @periodics.periodic(
        spacing=lambda self: self.conf.coordination.leader_chore_interval)
    def run_leader_chores(self) -> int:
        """:returns: how many chores ran here (0 when not the leader)."""
        if not self.is_leader():
            return 0
        for chore in self._chores:
            try:
                chore()
            except Exception:
                LOG.exception('Leader chore %r failed', chore)
        return len(self._chores)

    def owner_of(self, key: str) -> str | None:
        """The member owning ``key`` on the ring (None: no ring yet)."""
        return self.ring.owner(key)


class SoleCluster(LeaderChores):
    """An engine without coordination: one member, itself, the leader."""

    enabled = False

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        self.member = conf.host
        self.ring = ring_mod.SoleRing(self.member)
        self._chores = []

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def add_listener(self, listener: Listener) -> None:
        pass

    def owns(self, key: str) -> bool:
        return True

    def is_leader(self) -> bool:
        return True

    def live_members(self) -> set[str]:
        return {self.member}

    def count_takeover(self, kind: str, count: int) -> None:
        pass

    def status(self) -> ClusterStatus:
        return ClusterStatus(
            enabled=False, member=self.member, members={self.member: {}},
            leader=self.member, leader_by='sole', ring_changes=0,
            last_change=None, takeovers={}, heartbeat_failures=0)


class Cluster(LeaderChores):
    """See the module docstring."""

    enabled = True

    def __init__(self, conf: cfg.ConfigOpts, capabilities: dict,
                 version: str | None = None) -> None:
        self.conf = conf
        self.member = conf.host
        self.group = ('%s-engines' % conf.coordination.group_prefix).encode()
        self.capabilities = dict(capabilities, host=conf.host,
                                 version=version)
        self.ring = ring_mod.Ring([], conf.coordination.ring_replicas)
        self.leader = None
        self.ring_changes = 0
        self.last_change = None
        self.takeovers: dict[str, int] = {}
        self.heartbeat_failures = 0
        self._listeners: list[Listener] = []
        self._chores = []
        self._members: dict[str, dict | None] = {}
        self._lock = threading.Lock()
        # NOTE: Any: tooz's CoordinationDriver, whose answers mix bytes
        # and str (member ids); None between sessions.
        self._coordinator: Any = None
        self._leader_lock = None
        self._elections = True
        self._won = False
        self._stopping = threading.Event()
        self._heart: threading.Thread | None = None
        #: until when (monotonic) the ring keeps the members it had before
        #: this engine had to join again; see watch().
        self._rejoin_grace = 0.0
        #: when (monotonic) the last heartbeat the service took was sent.
        self._beat_ok = 0.0
        #: held while the heartbeat runs and while a session is replaced.
        self._session_lock = threading.Lock()
        #: set by a heartbeat after a gap of membership_timeout; see
        #: _beat_loop.
        self._lapsed = False

    # -- life cycle ----------------------------------------------------------

    def start(self) -> None:
        """Connect, join the group and build the first ring.

        :raises CoordinationUnavailable: one line, the URL without its
            password.
        """
        options = self.conf.coordination
        try:
            self._open_session()
        except Exception as exc:
            self._stop_coordinator()
            raise CoordinationUnavailable(
                'cannot join the coordination service %s: %s: %s' % (
                    urls.without_password(options.backend_url),
                    type(exc).__name__,
                    ' '.join(str(exc).split())))
        self._heart = threading.Thread(target=self._beat_loop,
                                       name='coordination-heartbeat',
                                       daemon=True)
        self._heart.start()
        self.watch()
        LOG.info('Joined the cluster %s as %s: %d member(s), leader by %s',
                 self.group.decode(), self.member, len(self._members),
                 'election' if self._elections else 'lock')

    def _open_session(self):
        """A new tooz session: connect, create the group if it is missing,
        join it and stand for leader."""
        options = self.conf.coordination
        _check_reachable(options.backend_url,
                         options.membership_timeout)
        # NOTE: executor='synchronous': every tooz call runs in the thread
        # that makes it (each caller waits for its answer at once anyway).
        # tooz's default, a one-thread futurist pool, costs a thread per
        # session and holds stop() for up to a second (its idle worker
        # polls its queue once a second).
        coordinator = tooz_coordination.get_coordinator(
            options.backend_url, self.member.encode(),
            timeout=options.membership_timeout,
            membership_timeout=options.membership_timeout,
            lock_timeout=options.membership_timeout,
            executor='synchronous')
        coordinator.start(start_heart=False)
        self._coordinator = coordinator
        self._create_group()
        self._join()
        try:
            coordinator.watch_elected_as_leader(self.group, self._elected)
            self._elections = True
        except tooz.NotImplemented:
            # NOTE: tooz's etcd3gw driver: the leader lock instead.
            self._elections = False
            self._leader_lock = coordinator.get_lock(
                ('%s-leader' % options.group_prefix).encode())
        self._beat_ok = time.monotonic()

    def _renew_session(self, why):
        """The service lost this engine's state (``why``): its group entry,
        and with it the leadership, whose lock lapsed as well. Give the
        leadership up and start a new session.

        NOTE: neither tooz lock (Redis, etcd3gw) tells its holder that it
        lapsed: ``acquired`` stays true and the election hook never fires
        again while the old session's lock object exists. Stopping that
        session drops it (and releases the lock if it is still ours), so
        the next election is a fair one and nobody leads twice.
        """
        LOG.warning('%s; this engine gives up any leadership and joins '
                    'again', why)
        with self._session_lock:
            self._resign()
            self._stop_coordinator()
            try:
                self._open_session()
            except Exception as exc:
                # NOTE: the next watch tries again; meanwhile the ring
                # keeps its members (see the operator guide).
                self._stop_coordinator()
                LOG.warning('Cannot join the coordination service %s again:'
                            ' %s: %s', urls.without_password(
                                self.conf.coordination.backend_url),
                            type(exc).__name__, ' '.join(str(exc).split()))
                return False
        self._rejoined()
        return True

    def _resign(self):
        """Lead no more, and stop saying so in our capabilities."""
        self._won = False
        self._leader_lock = None
        self.leader = None
        self.capabilities.pop('leader', None)

    def _create_group(self):
        try:
            self._coordinator.create_group(self.group).get()
        except tooz_coordination.GroupAlreadyExist:
            pass

    def _join(self):
        try:
            self._coordinator.join_group(
                self.group, capabilities=self.capabilities).get()
        except tooz_coordination.MemberAlreadyExist:
            # NOTE: a restart within membership_timeout of a crash: the old
            # entry is ours; refresh its capabilities.
            self._coordinator.update_capabilities(
                self.group, self.capabilities).get()

    def stop(self) -> None:
        """Leave the group at once, so the others take over now (a clean
        stop needs no membership_timeout)."""
        self._stopping.set()
        self.ring = ring_mod.Ring([], self.conf.coordination.ring_replicas)
        if self._heart is not None:
            self._heart.join(5)
        if self._coordinator is None:
            return
        try:
            if self._leader_lock is not None and self._leader_lock.acquired:
                self._leader_lock.release()
            self._coordinator.leave_group(self.group).get()
        except Exception as exc:
            LOG.warning('Could not leave the cluster cleanly (the others '
                        'take over after [coordination] membership_timeout)'
                        ': %s: %s', type(exc).__name__, exc)
        self._stop_coordinator()

    def _stop_coordinator(self):
        if self._coordinator is not None:
            try:
                self._coordinator.stop()
            except Exception as exc:
                LOG.debug('tooz stop: %s', exc)
            self._coordinator = None

    def _beat_loop(self):
        interval = self.conf.coordination.heartbeat_interval
        failed = 0
        while not self._stopping.wait(interval):
            with self._session_lock:
                started = time.monotonic()
                try:
                    if self._coordinator is None:
                        continue
                    # NOTE: a refused connection fails this beat at once;
                    # through tooz's and redis-py's retries it took about
                    # a minute, holding the session lock all along.
                    _check_reachable(
                        self.conf.coordination.backend_url,
                        self.conf.coordination.membership_timeout)
                    self._coordinator.heartbeat()
                    if self._leader_lock is not None and \
                            self._leader_lock.acquired:
                        self._leader_lock.heartbeat()
                    if started - self._beat_ok >= \
                            self.conf.coordination.membership_timeout:
                        # NOTE: the service took no heartbeat of ours for
                        # membership_timeout: our lock may have lapsed and
                        # another engine won, though the service still
                        # lists us (tooz keeps a member that beats again
                        # before another one checks). Lead no more; the
                        # next watch opens a new session.
                        self._resign()
                        self._lapsed = True
                    self._beat_ok = started
                except Exception as exc:
                    self.heartbeat_failures += 1
                    failed += 1
                    # NOTE: the first failure of a run of them, then one a
                    # minute or so: an outage would log every beat.
                    if failed == 1 or failed % max(
                            1, round(60 / interval)) == 0:
                        LOG.warning('Coordination heartbeat failed (%d in a '
                                    'row): %s: %s', failed,
                                    type(exc).__name__, exc)
                else:
                    failed = 0

    def _lease_held(self):
        """Whether the last heartbeat the service took is recent enough
        that our leadership cannot have lapsed there (its keys live for
        membership_timeout after the heartbeat that refreshed them)."""
        return time.monotonic() - self._beat_ok < \
            self.conf.coordination.membership_timeout

    # -- listening -----------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(joined, left)`` (sets of member ids) after each
        ring rebuild."""
        self._listeners.append(listener)

    @periodics.periodic(
        spacing=lambda self: self.conf.coordination.watcher_interval)
    def watch(self) -> None:
        """Run tooz's watchers, rebuild the ring on a change, keep the
        leadership."""
        if self._heart is None or self._stopping.is_set():
            return
        if self._coordinator is None and not self._renew_session(
                'No session with the coordination service'):
            return
        if self._lapsed:
            self._lapsed = False
            if not self._renew_session(
                    'The coordination service took no heartbeat of this '
                    'engine for [coordination] membership_timeout'):
                return
        members = {}
        # NOTE: capabilities are read once per member, and again for all
        # while no member says it leads (a new leader announces itself).
        known_leader = any((caps or {}).get('leader')
                           for caps in self._members.values())
        try:
            listed = self._coordinator.get_members(self.group).get()
        except tooz_coordination.GroupNotCreated:
            # NOTE: the backend restarted without its data (a Redis without
            # persistence).
            if not self._renew_session('The cluster group is gone from '
                                       'the coordination service '
                                       '(restarted?)'):
                return
            listed = self._coordinator.get_members(self.group).get()
        listed = {_text(member) for member in listed}
        if self.member not in listed:
            # NOTE: our entry expired (heartbeats failed for longer than
            # membership_timeout, e.g. the service restarted).
            if not self._renew_session('This engine was dropped from the '
                                       'cluster'):
                return
            listed.add(self.member)
        coordinator = self._coordinator
        # NOTE: after the membership check, so that an election won here
        # is never given up by a session renewal in the same watch.
        coordinator.run_watchers()
        for member in listed:
            members[member] = self._members.get(member) \
                if known_leader else None
        members[self.member] = self.capabilities
        for member, caps in members.items():
            if caps is None:
                try:
                    members[member] = coordinator.get_member_capabilities(
                        self.group, member.encode()).get()
                except tooz_coordination.MemberNotJoined:
                    members[member] = {}
        if time.monotonic() < self._rejoin_grace:
            # NOTE: the others rejoin one by one, each when its own watch
            # or heartbeat notices: until they had the time to, the ring
            # keeps them, or every engine back first would poll every node.
            for member, caps in self._members.items():
                members.setdefault(member, caps)
        self._refresh_leader(members)
        with self._lock:
            joined = set(members) - set(self._members)
            left = set(self._members) - set(members)
            if self._stopping.is_set():
                return
            self._members = members
            if not joined and not left:
                return
            self.ring = ring_mod.Ring(members,
                                      self.conf.coordination.ring_replicas)
            self.ring_changes += 1
            self.last_change = timeutils.utcnow()
        LOG.info('Cluster membership changed: %d member(s); joined: %s; '
                 'left: %s', len(members), ', '.join(sorted(joined)) or '-',
                 ', '.join(sorted(left)) or '-')
        for listener in self._listeners:
            try:
                listener(joined, left)
            except Exception:
                LOG.exception('Cluster listener %r failed', listener)

    def _rejoined(self):
        """This engine joined again (the service lost the group or our
        entry): the members it had keep their place on the ring for
        ``membership_timeout`` (a dead one is noticed after that)."""
        self._rejoin_grace = time.monotonic() + \
            self.conf.coordination.membership_timeout

    def _elected(self, event):
        self._won = True
        LOG.info('This engine (%s) was elected cluster leader', self.member)

    def _refresh_leader(self, members):
        won = self._won
        if not self._elections:
            lock = self._leader_lock
            if lock is not None and not lock.acquired and \
                    lock.acquire(blocking=False):
                LOG.info('This engine (%s) holds the leader lock',
                         self.member)
            won = lock is not None and lock.acquired
        if won and self._lease_held():
            self.leader = self.member
            if not self.capabilities.get('leader'):
                self.capabilities['leader'] = True
                self._coordinator.update_capabilities(
                    self.group, self.capabilities).get()
            members[self.member] = self.capabilities
        else:
            # NOTE: neither tooz's Redis driver (no get_leader) nor a lock
            # says who leads: the leader says so in its capabilities.
            self.leader = next((m for m, caps in sorted(members.items())
                                if m != self.member and
                                (caps or {}).get('leader')), None)

    # -- answers -------------------------------------------------------------

    def owns(self, key: str) -> bool:
        """Whether this engine owns ``key`` (a hostname, an audit uuid).

        Before the first ring (or with the service unreachable at start)
        the answer is no: better nothing done for a moment than twice.
        """
        return self.ring.owner(key) == self.member

    def is_leader(self) -> bool:
        """Whether this engine leads, and its heartbeats still reach the
        service (a leader cut off from it stops running chores before its
        leadership can lapse there and another engine's begins)."""
        return self.leader == self.member and self._lease_held()

    def live_members(self) -> set[str]:
        return set(self.ring.members)

    def count_takeover(self, kind: str, count: int) -> None:
        with self._lock:
            self.takeovers[kind] = self.takeovers.get(kind, 0) + count

    def status(self) -> ClusterStatus:
        with self._lock:
            return ClusterStatus(
                enabled=True, member=self.member,
                members={m: dict(c or {}) for m, c in self._members.items()},
                leader=self.leader,
                leader_by='election' if self._elections else 'lock',
                ring_changes=self.ring_changes, last_change=self.last_change,
                takeovers=dict(self.takeovers),
                heartbeat_failures=self.heartbeat_failures)

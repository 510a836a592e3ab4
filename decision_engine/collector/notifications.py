"""The oslo.messaging listener of Nova's versioned notifications.

:class:`NotificationListener` listens on ``[notifications] topics`` of
``exchange`` in a listener *pool* of its own (by default named after
``[DEFAULT] host``): a pool is a queue of its own on the bus, so every
engine gets every event, and events published while the engine is briefly
away wait for it in that queue.

Threads: oslo.messaging's server is started with one dispatch thread
(``start(override_pool_size=1)``), which only parses an event and hands it
to the :class:`~decision_engine.collector.dispatch.KeyedDispatcher`, in
arrival order; applying events and their targeted fetches run on the
notification lane of the shared pool (``[notifications] workers``).

Gaps: oslo.messaging reconnects by itself and says so only in its log.
A handler on its RabbitMQ driver's logger sees a connection error (a gap:
the model is rebuild-only) and the reconnection (then a full build is
asked for, which heals the model). Events that cannot be applied (a failed
targeted fetch) or are refused (too many waiting) are gaps too.
"""

import logging
import threading
import time

from decision_engine.collector import dispatch
from decision_engine.collector import events as events_mod
from decision_engine.collector import live as live_mod
from decision_engine.collector import targeted
from decision_engine.model.errors import ModelBuildError

LOG = logging.getLogger(__name__)

#: NOTE: the logger of oslo.messaging's RabbitMQ driver; its messages are
#: the only public sign of a lost and a regained connection.
#: tests/unit/concurrency/test_library_internals.py (no broker needed)
#: and tests/functional/collector/test_listener.py fail loudly if that
#: changes.
RABBIT_LOGGER = 'oslo.messaging._drivers.impl_rabbit'


class BadTransportURL(ValueError):
    """``[notifications] transport_url`` cannot work; one line, without
    the URL (it may hold a password)."""


def check_transport_url(conf):
    """Check ``[notifications] transport_url`` names a transport
    oslo.messaging has, before the engine starts (a broker that is down is
    not an error: the listener connects in the background).

    :raises BadTransportURL: naming the option and what is wrong.
    """
    url = conf.notifications.transport_url
    if not (conf.collector.enabled and url):
        return
    from importlib import metadata

    import oslo_messaging

    try:
        parsed = oslo_messaging.TransportURL.parse(conf, url)
    except oslo_messaging.InvalidTransportURL:
        raise BadTransportURL('[notifications] transport_url is not a '
                              'valid transport URL')
    # NOTE: the entry points' names only: loading them (stevedore) logs a
    # warning for each optional driver whose library is absent (kafka).
    known = sorted({point.name for point in metadata.entry_points(
        group='oslo.messaging.drivers')})
    if parsed.transport not in known:
        raise BadTransportURL(
            '[notifications] transport_url names the unknown transport %r '
            '(available: %s)' % (parsed.transport, ', '.join(known)))


def pool_name(conf):
    return conf.notifications.pool or 'decision-engine-%s' % conf.host


def _request(request_id):
    """`` (request req-...)`` for a log line, or nothing."""
    return ' (request %s)' % request_id if request_id else ''


class _Endpoint:
    """oslo.messaging endpoint: every priority goes the same way."""

    def __init__(self, receive):
        self._receive = receive

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._receive(event_type, payload, metadata, ctxt, publisher_id)

    warn = error = audit = debug = critical = sample = info


class _ConnectionWatch(logging.Handler):
    """Turns the RabbitMQ driver's log records into connection events."""

    def __init__(self, lost, regained):
        super().__init__(logging.INFO)
        self._lost = lost
        self._regained = regained

    def emit(self, record):
        try:
            message = record.getMessage()
        except Exception:
            return
        if record.levelno >= logging.ERROR:
            self._lost('lost the message bus connection: %s'
                       % message.splitlines()[0][:200])
        elif 'Reconnected to AMQP server' in message:
            self._regained()


class NotificationListener:
    """Feeds a :class:`~decision_engine.collector.live.LiveModel`.

    The collector calls :meth:`begin_build`, :meth:`finish_build`,
    :meth:`build_failed`, :meth:`fresh`, :meth:`snapshot` and
    :meth:`status` (duck-typed: it imports nothing of this module).

    :param conf: the engine's ``ConfigOpts``.
    :param pool: the shared WorkerPool.
    """

    def __init__(self, conf, pool):
        self.conf = conf
        self.pool = pool
        group = conf.notifications
        self.live = live_mod.LiveModel(
            max_lag=lambda: group.max_lag,
            clock_skew=lambda: group.clock_skew)
        self.dispatcher = dispatch.KeyedDispatcher(
            pool, self._handle, workers=group.workers,
            max_pending=group.max_pending)
        self.live.attach_queue(lambda: self.dispatcher.pending)
        self.fetcher = None
        self._rebuild = None
        self._server = None
        self._transport = None
        self._watch = None
        self._starter = None
        self._stopped = threading.Event()

    # -- life cycle ----------------------------------------------------------

    def start(self, transport_factory, fetch_settings, rebuild):
        """Start listening (connecting in the background: a broker that is
        down does not hold up the engine's start).

        :param transport_factory: ``() -> transport`` for targeted fetches
            (the collector's).
        :param rebuild: ``() -> None`` asks for a full build (after a gap).
        """
        self.fetcher = targeted.TargetedFetcher(transport_factory,
                                                fetch_settings)
        self._rebuild = rebuild
        self._watch = _ConnectionWatch(self._lost, self._regained)
        logger = logging.getLogger(RABBIT_LOGGER)
        # NOTE: the reconnection is logged at INFO; make sure it is made.
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
        logger.addHandler(self._watch)
        self._starter = threading.Thread(target=self._connect,
                                         name='notification-listener-start',
                                         daemon=True)
        self._starter.start()

    def _connect(self):
        import oslo_messaging

        group = self.conf.notifications
        try:
            self._transport = oslo_messaging.get_notification_transport(
                self.conf, url=group.transport_url)
            targets = [oslo_messaging.Target(topic=topic,
                                             exchange=group.exchange)
                       for topic in group.topics]
            server = oslo_messaging.get_notification_listener(
                self._transport, targets,
                [_Endpoint(self._receive)], executor='threading',
                pool=pool_name(self.conf))
            # One dispatch thread: events reach us in arrival order.
            server.start(override_pool_size=1)
        except Exception as exc:
            LOG.error('Cannot listen to notifications on %s (topics %s): '
                      '%s; the model stays rebuild-only',
                      group.exchange, ','.join(group.topics), exc)
            self.live.set_connected(False, 'cannot listen: %s' % exc)
            return
        if self._stopped.is_set():
            server.stop()
            return
        self._server = server
        LOG.info('Listening to Nova notifications: exchange %s, topics %s, '
                 'pool %s', group.exchange, ','.join(group.topics),
                 pool_name(self.conf))
        self.live.set_connected(True)
        self._ask_rebuild()

    def stop(self):
        self._stopped.set()
        if self._watch is not None:
            logging.getLogger(RABBIT_LOGGER).removeHandler(self._watch)
        if self._starter is not None:
            self._starter.join(10)
        server = self._server
        if server is not None:
            server.stop()
            server.wait()
            self._server = None
        if self._transport is not None:
            self._transport.cleanup()
            self._transport = None
        self.live.connected = False

    # -- connection ----------------------------------------------------------

    def _lost(self, reason):
        if self.live.connected:
            LOG.warning('Notification listener: %s', reason)
        self.live.set_connected(False, reason)

    def _regained(self):
        if self._stopped.is_set() or self.live.connected:
            return
        LOG.info('Notification listener reconnected; a full build heals '
                 'the model')
        self.live.set_connected(True)
        self._ask_rebuild()

    def _ask_rebuild(self):
        if self._rebuild is None or self._stopped.is_set():
            return
        self.live.rebuild_triggered()
        try:
            self.pool.submit(self._rebuild_until_fed)
        except Exception as exc:     # full pool: the periodic does it
            LOG.warning('Could not start a full build after a gap now (%s); '
                        'the periodic one will heal the model', exc)

    def _rebuild_until_fed(self):
        # NOTE: a build already in flight is joined, not restarted; if it
        # began before the gap it cannot heal it, so build once more.
        for _ in range(2):
            self._rebuild()
            if self._stopped.is_set() or not self.live.connected or \
                    self.live.status().mode == 'event-fed':
                return

    # -- events --------------------------------------------------------------

    def _receive(self, event_type, payload, metadata, context=None,
                 publisher_id=None):
        try:
            event = events_mod.parse(event_type, payload, metadata,
                                     context, publisher_id)
        except events_mod.BadEvent as exc:
            LOG.warning('Malformed %s notification ignored%s: %s',
                        event_type, _request(events_mod.request_id(context)),
                        exc)
            self.live.count_unhandled(event_type, 'failed')
            return
        except Exception as exc:
            LOG.warning('Malformed %s notification ignored%s: %s: %s',
                        event_type, _request(events_mod.request_id(context)),
                        type(exc).__name__, exc)
            self.live.count_unhandled(event_type, 'failed')
            return
        if event is None:
            self.live.count_unhandled(event_type, events_mod.IGNORED)
            return
        if not self.live.connected and not self._stopped.is_set():
            # A message got through: the connection is back.
            self._regained()
        if not self.dispatcher.put(event.key, event):
            self.live.count_unhandled(event_type, 'failed')
            if self.live.gap('more than [notifications] max_pending (%d) '
                             'events waiting' % self.dispatcher.max_pending):
                self._ask_rebuild()

    def _handle(self, event):
        fetched = None
        for _ in range(3):
            try:
                outcome = self.live.apply(event, fetched)
            except events_mod.BadEvent as exc:
                LOG.warning('Malformed %s notification ignored%s: %s',
                            event.event_type, _request(event.request_id),
                            exc)
                self.live.count_unhandled(event.event_type, 'failed')
                return
            if not isinstance(outcome, tuple):
                return
            _, kind, name = outcome
            try:
                if kind == 'instance':
                    instance, host = self.fetcher.instance(name)
                    if instance is None:
                        # On no host (never scheduled, shelved
                        # offloaded): not in the model.
                        self.live.count_unhandled(event.event_type,
                                                  events_mod.IGNORED)
                        return
                    fetched = ('instance', instance)
                    if not self.live.knows_host(host):
                        fetched = ('host', self.fetcher.host(host))
                else:
                    fetched = ('host', self.fetcher.host(name))
            except targeted.NotFound as exc:
                LOG.debug('%s about %s: %s', event.event_type, name, exc)
                self.live.count_unhandled(event.event_type,
                                          events_mod.IGNORED)
                return
            except ModelBuildError as exc:
                self._fetch_failed(event, exc)
                return
        self._fetch_failed(event, 'still unknown after fetching it')

    def _fetch_failed(self, event, error):
        LOG.warning('Could not apply %s about %s%s: %s', event.event_type,
                    event.key[1], _request(event.request_id), error)
        self.live.count_unhandled(event.event_type, 'failed')
        if self.live.gap('a targeted fetch failed'):
            self._ask_rebuild()

    # -- the collector's side -----------------------------------------------

    def begin_build(self):
        self.live.begin_build()

    def finish_build(self, model):
        for event in self.live.finish_build(model):
            self.dispatcher.put(event.key, event)

    def build_failed(self):
        self.live.build_failed()

    def fresh(self):
        return self.live.fresh()

    def snapshot(self):
        return self.live.snapshot()

    def status(self):
        return self.live.status()

    def wait_idle(self, timeout=None):
        """Every event received so far applied (tests, benchmarks)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        return self.dispatcher.wait_idle(
            None if deadline is None else max(0, deadline - time.monotonic()))

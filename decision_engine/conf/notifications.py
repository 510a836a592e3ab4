"""Options of the ``[notifications]`` group: keeping the compute model
live between full builds from Nova's versioned notifications."""

from oslo_config import cfg

GROUP = 'notifications'

opts = [
    cfg.StrOpt(
        'transport_url',
        secret=True,
        help='oslo.messaging transport URL of the message bus Nova '
             'publishes its versioned notifications to, e.g. '
             '``rabbit://user:password@rabbit-host:5672/``. Unset (the '
             'default): no listener; the model is only as fresh as its last '
             'full build. Takes effect on restart.'),
    cfg.ListOpt(
        'topics',
        default=['versioned_notifications'],
        help='Notification topics to listen on: Nova\'s '
             '``[notifications] versioned_notifications_topics`` (by '
             'default ``versioned_notifications``). Takes effect on '
             'restart.'),
    cfg.StrOpt(
        'exchange',
        default='nova',
        help='Exchange Nova publishes to (Nova\'s ``control_exchange``, '
             '``nova`` by default). Takes effect on restart.'),
    cfg.StrOpt(
        'pool',
        help='Name of this engine\'s listener pool (its own queue on the '
             'bus). Every pool gets a copy of every notification, so each '
             'engine must have a pool of its own; by default '
             '``decision-engine-<[DEFAULT] host>``. Engines given the same '
             'pool would share (split) the events and each keep a wrong '
             'model. Takes effect on restart.'),
    cfg.IntOpt(
        'workers',
        default=4, min=1, max=64,
        help='Most workers of the shared pool that applying events and '
             'the targeted fetches they trigger (an instance or host the '
             'model does not know) may hold at the same time (the '
             'notification lane of the pool). Events of one instance or '
             'host are always applied in the order they arrived. Takes '
             'effect on restart.'),
    cfg.IntOpt(
        'max_pending',
        default=100000, min=100, max=10000000,
        help='Most received events waiting to be applied. Beyond it the '
             'listener stops applying, marks the model rebuild-only (a gap) '
             'and the next full build heals it. Takes effect on restart.'),
    cfg.FloatOpt(
        'max_lag',
        default=5.0, min=0.1, max=3600.0, mutable=True,
        help='Seconds an event may take from Nova\'s timestamp to being '
             'applied while the model still counts as caught up. An audit '
             'is handed the event-fed model without a rebuild only while '
             'the listener is connected and the last applied event\'s lag '
             'is within this bound.'),
    cfg.FloatOpt(
        'clock_skew',
        default=10.0, min=0.0, max=3600.0, mutable=True,
        help='Seconds the clocks of Nova\'s services may be behind this '
             'engine\'s. An event stamped more than this before the start '
             'of the full build that made the current model is taken as '
             'reflected in that build and dropped (counted stale) instead '
             'of applied over it: the events a durable listener pool kept '
             'while the engine was down, replayed onto its first build, '
             'never roll it back. Too small a value drops events the build '
             'missed when clocks disagree; too large replays old events '
             'onto a fresh build.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return opts

"""Options of the ``[coordination]`` group: several engines as one."""

from oslo_config import cfg

GROUP = 'coordination'

opts = [
    cfg.StrOpt(
        'backend_url',
        secret=True,
        help='tooz URL of the coordination service shared by every engine '
             'of one cluster, e.g. redis://127.0.0.1:6379 or '
             'etcd3+http://127.0.0.1:2379 (zookeeper:// should work too, '
             'untested). Unset (the default): this engine works alone, as '
             'the only engine of its store, and needs no coordination '
             'service. Set: the engines of the same group share the power '
             'sync and the audits through a hash ring, and take over the '
             'work of an engine that dies; the store must then be '
             'PostgreSQL. Secret: it may hold a password. Takes effect on '
             'restart.'),
    cfg.StrOpt(
        'group_prefix',
        default='decision-engine',
        help='Prefix of the tooz group, election and lock names. Engines '
             'with the same prefix and backend form one cluster; give each '
             'cluster sharing a backend its own prefix. Takes effect on '
             'restart.'),
    cfg.IntOpt(
        'membership_timeout',
        default=10, min=2, max=600,
        help='Seconds after its last heartbeat at which an engine that '
             'stopped answering (SIGKILL, host loss) leaves the group and '
             'its work moves to the others. Lower means a faster takeover '
             'but a busy engine more likely dropped by mistake. Takes '
             'effect on restart.'),
    cfg.FloatOpt(
        'heartbeat_interval',
        default=1.0, min=0.1, max=60.0,
        help='Seconds between two heartbeats of this engine; keep it well '
             'under membership_timeout (a third or less). Takes effect on '
             'restart.'),
    cfg.FloatOpt(
        'watcher_interval',
        default=1.0, min=0.1, max=60.0, mutable=True,
        help='Seconds between two checks of the group membership (tooz '
             'run_watchers). A join or leave is acted upon (ring rebuilt, '
             'orphaned work taken over) at the next check.'),
    cfg.IntOpt(
        'leader_chore_interval',
        default=60, min=1, max=86400, mutable=True,
        help='Seconds between two runs of the cluster-wide chores on the '
             'leader: requeueing audits left ONGOING by engines that are no '
             'longer members, whichever engine owns them on the ring, and '
             'expiring RECOMMENDED plans older than [applier] '
             'recommended_plan_ttl. An engine alone is its own leader.'),
    cfg.IntOpt(
        'ring_replicas',
        default=32, min=1, max=1024,
        help='Points of each engine on the hash ring (tooz partitions). '
             'More points spread nodes and audits more evenly at a small '
             'memory cost. Must be the same on every engine of a cluster. '
             'Takes effect on restart.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return opts

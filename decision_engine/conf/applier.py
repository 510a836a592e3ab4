"""Options of the ``[applier]`` group: how action plans are carried out."""

from oslo_config import cfg

GROUP = 'applier'

opts = [
    cfg.IntOpt(
        'max_parallel_actions',
        default=16, min=1, max=10000, mutable=True,
        help='How many actions, over every running plan of this engine, '
             'may be ONGOING at the same time. An ONGOING action holds a '
             'worker of the shared pool only while it talks to the cloud; '
             'between two polls of a migration it holds none.'),
    cfg.IntOpt(
        'max_migrations_per_host',
        default=1, min=1, max=100, mutable=True,
        help='How many migrations may be in flight at once on one compute '
             'host, as source or destination (like Nova\'s '
             '[DEFAULT] max_concurrent_live_migrations, whose default is '
             'also 1). With 1, every action touching a host waits for '
             'every earlier action of the plan touching that host. Above '
             '1, consecutive migrations that only leave a host (or only '
             'arrive on it) may overlap, up to this number: their order '
             'does not change any intermediate state the strategy '
             'verified. A new value bounds running plans at once; the '
             'overlaps it allows apply to plans started afterwards.'),
    cfg.IntOpt(
        'migration_timeout',
        default=900, min=1, max=86400, mutable=True,
        help='Seconds a migration may take, from its request to the '
             'server being ACTIVE on the destination with no task state. '
             'Past it, the action ends FAILED (the migration itself is not '
             'aborted). Watcher raised its own from 120 s to 900 s after '
             'real migrations took longer.'),
    cfg.FloatOpt(
        'poll_interval',
        default=2.0, min=0.01, max=300, mutable=True,
        help='Seconds between two reads of a migrating server (or of a '
             'node changing power state). The wait between polls holds no '
             'worker: the next poll is a delayed task.'),
    cfg.StrOpt(
        'on_failure',
        default='continue', choices=['continue', 'stop'], mutable=True,
        help='When an action fails: "continue" skips only the actions '
             'that depend on it (on the same hosts) and runs the '
             'independent ones; "stop" skips every action not started '
             'yet. Either way the plan ends FAILED.'),
    cfg.BoolOpt(
        'refresh_model_after_plan',
        default=True, mutable=True,
        help='Rebuild the whole-cloud model when a plan ends, so the next '
             'audit sees the placement the plan produced.'),
    cfg.IntOpt(
        'recommended_plan_ttl',
        default=0, min=0, max=31536000, mutable=True,
        help='Seconds after which a RECOMMENDED action plan nobody started '
             'expires (becomes SUPERSEDED, reason "expired"): its model is '
             'stale by then. 0 (the default): plans never expire. Checked '
             'every [coordination] leader_chore_interval seconds, by the '
             'cluster leader only (by the engine itself when it works '
             'alone).'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return opts

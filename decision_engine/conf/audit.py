"""Options of the ``[audit]`` group: how audits run."""

from oslo_config import cfg

GROUP = 'audit'

opts = [
    cfg.IntOpt(
        'max_model_age',
        default=300, min=0, max=86400, mutable=True,
        help='Oldest model, in seconds, an audit accepts. When the cached '
             'model of the cloud is older, the audit triggers a fresh '
             'parallel build on the shared worker pool first (audits with '
             'the same scope share one build in flight). 0 always builds.'),
    cfg.IntOpt(
        'max_concurrent_audits',
        default=4, min=1, max=1000, mutable=True,
        help='How many audits may be ONGOING at the same time. Further '
             'audits stay PENDING until one ends. Every running audit takes '
             'one worker of the shared pool, plus what its model build fans '
             'out to.'),
    cfg.IntOpt(
        'continuous_check_interval',
        default=10, min=1, max=3600, mutable=True,
        help='Seconds between two checks for CONTINUOUS audits that are '
             'due to run again.'),
    cfg.IntOpt(
        'min_continuous_interval',
        default=60, min=1, max=86400, mutable=True,
        help='Smallest interval, in seconds, a CONTINUOUS audit may ask '
             'for (as a number of seconds, or as the gap between two runs '
             'of its cron expression).'),
    cfg.IntOpt(
        'audit_timeout',
        default=1800, min=10, max=86400, mutable=True,
        help='Seconds an audit may take from its start. It is checked '
             'when the model arrives and when the strategy returns (a '
             'running build or strategy is not interrupted): past it, the '
             'audit ends FAILED with a timeout reason and no plan.'),
    cfg.StrOpt(
        'opt_out_metadata_key',
        default='optimize', max_length=255, mutable=True,
        help='Server metadata key by which an operator opts an instance '
             'out of optimization: an instance whose metadata sets it to '
             'false, no, off or 0 (any case) is never moved by any '
             'strategy, and a plan moving it is refused. Set it with e.g. '
             '"openstack server set --property optimize=false SERVER". '
             'Empty: no opt-out. Read at the start of each audit.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return opts

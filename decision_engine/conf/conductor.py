"""Options of the ``[conductor]`` group: the worker pool and periodics."""

from oslo_config import cfg

GROUP = 'conductor'

opts = [
    cfg.IntOpt(
        'workers_pool_size',
        default=100, min=3, max=10000,
        help='Size of the one worker pool that runs every periodic task and '
             'every parallel model build. A task submitted while all '
             'workers are busy is refused (NoFreeWorker) rather than queued. '
             'Takes effect on restart.'),
    cfg.IntOpt(
        'reserved_workers_percentage',
        default=5, min=0, max=50,
        help='Share of the worker pool, in percent, that periodic tasks may '
             'not use, so that audits and API work get a worker promptly '
             'while a large periodic sweep runs. Any non-zero value '
             'reserves at least one worker. Takes effect on restart.'),
    cfg.IntOpt(
        'periodic_max_workers',
        default=8, min=1, max=1000, mutable=True,
        help='Default bound on how many workers one periodic task may fan '
             'out its per-node work to at the same time.'),
    cfg.IntOpt(
        'graceful_shutdown_timeout',
        default=60, min=0, max=3600,
        help='Seconds that stopping the engine (SIGTERM) waits for running '
             'tasks to finish after the periodics are stopped. Tasks still '
             'running after that are abandoned and logged by name. 0 means '
             'do not wait.'),
    cfg.IntOpt(
        'stats_interval',
        default=60, min=1, max=86400, mutable=True,
        help='Seconds between two debug log lines with the worker pool and '
             'periodic task statistics.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return opts

"""Options of the ``[power]`` group: power-state polling of the hosts."""

from oslo_config import cfg

GROUP = 'power'

opts = [
    cfg.IntOpt(
        'sync_interval',
        default=60, min=1, max=86400, mutable=True,
        help='Seconds between two power-state sweeps of a power driver. A '
             'sweep never overlaps itself: the next one starts this long '
             'after the previous one started, or at once if it ran longer.'),
    cfg.IntOpt(
        'sync_workers',
        default=8, min=1, max=1000, mutable=True,
        help='How many nodes one sweep polls at the same time, drawn from '
             'the shared worker pool.'),
    cfg.IntOpt(
        'max_retries',
        default=3, min=1, max=100, mutable=True,
        help='Consecutive failed polls after which a node is flagged '
             '``power_failure``; a later successful poll clears the flag.'),
    cfg.StrOpt(
        'inventory_file',
        help='YAML file listing the hosts and their BMCs: a list (or a '
             'mapping with a ``nodes`` list) of entries with ``hostname``, '
             '``driver`` and ``driver_info``. Without it, no node is polled.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return opts

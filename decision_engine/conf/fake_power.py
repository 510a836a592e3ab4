"""Options of the ``[fake_power]`` group: the simulated power driver."""

from oslo_config import cfg

GROUP = 'fake_power'

opts = [
    cfg.FloatOpt(
        'bmc_delay',
        default=0.0, min=0.0, max=600.0, mutable=True,
        help='Seconds every simulated BMC call takes, to make the fake '
             'driver behave like a slow BMC. A node may override it with '
             '``bmc_delay`` in its ``driver_info``.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return opts

"""Options of the ``[ipmi]`` group: the ``ipmi`` power driver."""

from oslo_config import cfg

GROUP = 'ipmi'

opts = [
    cfg.FloatOpt(
        'command_timeout',
        default=10.0, min=0.5, max=600.0, mutable=True,
        help='Seconds one IPMI call (session set-up included) may take '
             'before the poll counts as failed and its worker is freed. '
             'IPMI runs over UDP, so there is no separate connect timeout: '
             'this one deadline covers the whole exchange.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return opts

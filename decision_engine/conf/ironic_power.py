"""Options of the ``[ironic_power]`` group: the ``ironic`` power driver.

The connection to Ironic itself (keystoneauth session, auth and adapter
options, timeouts) is configured in the ``[ironic]`` group, which belongs to
the cloud connection, not here.
"""

from oslo_config import cfg

GROUP = 'ironic_power'

opts = [
    cfg.BoolOpt(
        'discover_nodes',
        default=False, mutable=True,
        help='Also poll the Ironic nodes that are not in the inventory '
             'file: each node found by a sweep is tracked under its compute '
             'host name (its ``extra.compute_host``, else its name).'),
    cfg.IntOpt(
        'page_size',
        default=1000, min=1, max=10000, mutable=True,
        help='Nodes asked for per page of the one node listing a sweep '
             'makes (Ironic caps it at its own ``[api] max_limit``).'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return opts

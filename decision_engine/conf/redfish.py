"""Options of the ``[redfish]`` group: the ``redfish`` power driver."""

from oslo_config import cfg

GROUP = 'redfish'

opts = [
    cfg.FloatOpt(
        'connect_timeout',
        default=5.0, min=0.1, max=300.0, mutable=True,
        help='Seconds to wait for the TCP (and TLS) connection to a BMC. '
             'Together with ``read_timeout`` it bounds how long an '
             'unreachable or hung BMC holds a worker of the pool.'),
    cfg.FloatOpt(
        'read_timeout',
        default=15.0, min=0.1, max=600.0, mutable=True,
        help='Seconds to wait for a BMC to answer a Redfish request once '
             'connected (between two received bytes).'),
    cfg.StrOpt(
        'auth_type',
        default='auto',
        choices=[
            ('basic', 'HTTP basic authentication on every request.'),
            ('session', 'A Redfish session, created once per node.'),
            ('auto', 'A Redfish session if the BMC offers one, otherwise '
                     'basic authentication.'),
        ],
        mutable=True,
        help='How the driver authenticates to Redfish BMCs; a node may '
             'override it with ``auth_type`` in its ``driver_info``. '
             'Applies to connections opened after a change.'),
    cfg.BoolOpt(
        'verify_ca',
        default=True, mutable=True,
        help='Verify the TLS certificates of the BMCs. A node may override '
             'it with ``verify_ca`` in its ``driver_info`` (true, false, or '
             'the path of a CA bundle). Turning this off exposes the BMC '
             'credentials to anyone on the path.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return opts

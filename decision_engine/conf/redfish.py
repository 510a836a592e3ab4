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
    cfg.StrOpt(
        'power_read',
        default='lean',
        choices=[
            ('lean', 'One GET of the system resource over a kept-open '
                     'connection, PowerState taken from the JSON (sushy '
                     'still authenticates, finds the system and switches '
                     'power).'),
            ('sushy', 'Every poll through sushy\'s resource objects, on a '
                      'new connection each time.'),
        ],
        mutable=True,
        help='How the periodic power-state poll reads a Redfish BMC. '
             '"lean" costs a fraction of the CPU of "sushy"; it uses sushy '
             'anyway for a BMC reached through an HTTP proxy (set in the '
             'environment), and for the poll after a BMC refused the '
             'session token. Choose "sushy" for BMCs that misbehave on '
             'persistent connections.'),
    cfg.IntOpt(
        'lean_connections_per_bmc',
        default=4, min=1, max=1000, mutable=True,
        help='Most idle connections kept open to one BMC endpoint (scheme, '
             'host, port) between lean reads. A BMC managing one system '
             'needs one; a service managing many systems behind one '
             'address (a chassis manager, an emulator) is polled up to '
             '[power] sync_workers at a time, and connections beyond this '
             'bound are closed after their request.'),
    cfg.IntOpt(
        'lean_idle_connections',
        default=1000, min=1, max=100000, mutable=True,
        help='Most idle connections the lean read keeps open over all '
             'BMCs (each is a socket of the engine and a connection the BMC '
             'holds). Beyond it, the least recently polled BMCs lose their '
             'idle connections and the next poll of each opens a new one; '
             'keep it under the process\'s open-file limit.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return opts

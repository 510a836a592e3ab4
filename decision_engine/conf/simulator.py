"""Options of the ``[simulator]`` group: the built-in simulated cloud.

With ``embedded = true`` the engine starts the simulator itself on a
loopback port and models it instead of a real cloud (the demo
configuration, ``etc/decision-engine/decision-engine-demo.conf``).
"""

from oslo_config import cfg

GROUP = 'simulator'

opts = [
    cfg.BoolOpt(
        'embedded',
        default=False,
        help='Start the simulated cloud (decision-engine-simulator) in a '
             'child process on a loopback port and connect to it, ignoring '
             '[cloud] and the auth options of [nova], [placement] and '
             '[ironic]. For demos and tests. Takes effect on restart.'),
    cfg.HostAddressOpt(
        'host',
        default='127.0.0.1',
        help='Address the embedded simulator listens on.'),
    cfg.PortOpt(
        'port',
        default=0,
        help='Port of the embedded simulator; 0 picks a free one.'),
    cfg.IntOpt(
        'hosts',
        default=50, min=0, max=100000,
        help='Compute hosts of the generated topology.'),
    cfg.IntOpt(
        'instances',
        default=500, min=0, max=2000000,
        help='Instances of the generated topology.'),
    cfg.IntOpt(
        'aggregates',
        default=3, min=0, max=1000,
        help='Plain host aggregates of the generated topology.'),
    cfg.IntOpt(
        'azs',
        default=2, min=0, max=1000,
        help='Availability zones of the generated topology.'),
    cfg.IntOpt(
        'seed',
        default=1, min=0, max=2 ** 31 - 1,
        help='Seed of the topology generator: the same seed gives the same '
             'cloud.'),
    cfg.StrOpt(
        'topology_file',
        help='JSON topology to serve instead of a generated one.'),
    cfg.FloatOpt(
        'latency_ms',
        default=0.0, min=0.0, max=60000.0,
        help='Latency the simulator adds to every request, in ms.'),
    cfg.FloatOpt(
        'token_ttl',
        default=3600.0, min=1.0, max=86400.0,
        help='Lifetime of the simulator\'s tokens, in seconds.'),
    cfg.FloatOpt(
        'migration_seconds',
        default=5.0, min=0.0, max=3600.0,
        help='How long a migration takes in the embedded simulator, from '
             'its request to the server being on the destination.'),
    cfg.FloatOpt(
        'migration_jitter',
        default=0.2, min=0.0, max=1.0,
        help='Each migration of the embedded simulator takes '
             'migration_seconds times 1 +/- up to this share.'),
    cfg.FloatOpt(
        'migration_fail_ratio',
        default=0.0, min=0.0, max=1.0,
        help='Share of the embedded simulator\'s migrations that fail and '
             'roll back to the source, for testing failure handling.'),
    cfg.PortOpt(
        'exporter_port',
        help='Also serve the simulated load (node_exporter and Ceilometer '
             'series, moving with migrations) as Prometheus metrics on this '
             'port of [simulator] host, 0 for a free one (logged at '
             'start), for a Prometheus to scrape and the workload '
             'strategies to read through [datasource] prometheus_url. '
             'Unset: no exporter.'),
    cfg.IntOpt(
        'load_seed',
        default=1, min=0, max=2 ** 31 - 1,
        help='Seed of the exporter\'s load model: the same seed gives every '
             'instance the same CPU and memory profile.'),
    cfg.FloatOpt(
        'start_timeout',
        default=60.0, min=1.0, max=3600.0,
        help='Seconds to wait for the embedded simulator to listen.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return opts

"""``decision-engine-simulator``: run the simulated cloud until SIGTERM or
SIGINT, then exit 0.

On start it prints (stdout, flushed) the listening URL on the first line::

    decision-engine-simulator listening on http://127.0.0.1:PORT

then the auth settings as a clouds.yaml snippet.  ``--ready-file PATH``
also writes ``{"url", "auth_url", "port", "pid"}`` as JSON (atomically) for
a parent process to read.  Bad flags or a bad topology file: one line on
stderr, exit 2.
"""

import argparse
import gc
import json
import os
import signal
import sys
import threading

from decision_engine.simulator import churn
from decision_engine.simulator import faults
from decision_engine.simulator import identity
from decision_engine.simulator import notifier
from decision_engine.simulator.records import TopologyError
from decision_engine.simulator.server import Simulator
from decision_engine.simulator.topology import Topology

PROG = 'decision-engine-simulator'


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse prints the whole usage; we promise one line.
        raise _UsageError(message)


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError('expected an integer, got %r'
                                         % text)
    if value < 0:
        raise argparse.ArgumentTypeError('must be >= 0, got %d' % value)
    return value


def _port(text):
    value = _non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError('must be <= 65535, got %d' % value)
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError('expected a number, got %r' % text)
    if value <= 0:
        raise argparse.ArgumentTypeError('must be > 0, got %r' % text)
    return value


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError('expected a number, got %r' % text)
    if not 0 <= value < float('inf'):
        raise argparse.ArgumentTypeError('must be >= 0, got %r' % text)
    return value


def _share(text):
    value = _non_negative_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError('must be between 0 and 1, got %r'
                                         % text)
    return value


def _latency(text):
    try:
        return faults.LatencyPlan.parse(text)
    except faults.ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc))


def _fault(text):
    try:
        return faults.FaultRule.parse(text)
    except faults.ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc))


def _user(text):
    """``NAME:PASSWORD:ROLE[:PROJECT]`` -> (name, settings)."""
    parts = text.split(':')
    if len(parts) not in (3, 4) or not all(parts):
        raise argparse.ArgumentTypeError(
            'expected NAME:PASSWORD:ROLE[:PROJECT], got %r' % text)
    if parts[2] not in identity.IMPLIED_ROLES:
        raise argparse.ArgumentTypeError(
            'role must be one of %s, got %r'
            % (', '.join(sorted(identity.IMPLIED_ROLES)), parts[2]))
    return parts[0], {'password': parts[1], 'role': parts[2],
                      'project': parts[3] if len(parts) == 4 else None}


def build_parser():
    p = _Parser(prog=PROG, description='Run a simulated OpenStack cloud '
                '(Keystone, Nova, Placement, Ironic) on one port.')
    p.add_argument('--host', default='127.0.0.1',
                   help='address to bind (default 127.0.0.1)')
    p.add_argument('--port', type=_port, default=0,
                   help='port to bind (default 0: any free port)')
    p.add_argument('--hosts', type=_non_negative_int, default=10)
    p.add_argument('--instances', type=_non_negative_int, default=100)
    p.add_argument('--aggregates', type=_non_negative_int, default=2)
    p.add_argument('--azs', type=_non_negative_int, default=1)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--volume-backed', type=float, default=0.08,
                   metavar='FRACTION',
                   help='share of servers that boot from a volume')
    p.add_argument('--providerless', type=_non_negative_int, default=0,
                   help='extra hosts without a Placement resource provider')
    p.add_argument('--ironic', type=_non_negative_int, default=0,
                   help='bare metal nodes reported as ironic hypervisors')
    p.add_argument('--topology', metavar='FILE',
                   help='load the topology from a JSON file instead')
    p.add_argument('--dump-topology', metavar='FILE',
                   help='write the topology as JSON to FILE and continue')
    p.add_argument('--latency-ms', type=_latency, default=(0.0, {}),
                   help='per-request latency: "20" or '
                        '"compute=50,placement=20"')
    p.add_argument('--neutron-latency-ms', type=_non_negative_float,
                   default=0.0,
                   help='latency of each Neutron query real Nova would '
                        'send for a server listing or show (one per 150 '
                        'servers of a page, plus the security groups), '
                        'added to that Nova request')
    p.add_argument('--fault', type=_fault, action='append', default=[],
                   help='fault rule "kind[:key=value,...]", e.g. '
                        '"error:rate=0.1,status=503" (repeatable)')
    p.add_argument('--fault-seed', type=int, default=0)
    p.add_argument('--migration-s', type=_non_negative_float, default=5.0,
                   help='seconds a migration takes (default 5)')
    p.add_argument('--migration-jitter', type=_share, default=0.2,
                   help='each migration takes --migration-s times 1 +/- '
                        'up to this share (default 0.2)')
    p.add_argument('--migration-fail-ratio', type=_share, default=0.0,
                   help='share of migrations that fail and roll back to '
                        'the source (default 0)')
    p.add_argument('--max-concurrent-live-migrations',
                   type=_non_negative_int, default=1,
                   help='live migrations running at once per source '
                        'compute; more wait queued (default 1, as Nova)')
    p.add_argument('--idle-timeout', type=_positive_float, default=None,
                   metavar='SECONDS',
                   help='close a keep-alive connection idle this long, as '
                        'gunicorn (2 s) and Apache do (default: never)')
    p.add_argument('--token-ttl-s', type=_positive_float, default=3600.0)
    p.add_argument('--max-limit', type=_non_negative_int, default=1000)
    p.add_argument('--username', default='admin')
    p.add_argument('--password', default='secret')
    p.add_argument('--project', default='admin')
    p.add_argument('--user', type=_user, action='append', default=[],
                   metavar='NAME:PASSWORD:ROLE[:PROJECT]',
                   help='another Keystone user (role admin, manager, '
                        'member, reader or service; project default: '
                        '--project), repeatable')
    p.add_argument('--noauth', action='store_true',
                   help='Placement as with [api] auth_strategy = noauth2 '
                        '(token "admin" is an admin, any other token has '
                        'no role) and Ironic as with noauth; Nova keeps '
                        'requiring Keystone tokens (Nova 34 has no noauth2)')
    p.add_argument('--exporter-port', type=_port, default=None,
                   help='also serve the load model as Prometheus metrics '
                        '(node_exporter and Ceilometer names) on this port '
                        '(0: a free one); migrations move the load')
    p.add_argument('--load-seed', type=int, default=0,
                   help='seed of the load model (--exporter-port)')
    p.add_argument('--ready-file', metavar='PATH',
                   help='write {"url", "auth_url", "port", "pid", '
                        '"exporter"} here')
    p.add_argument('--quiet', action='store_true',
                   help='print only the first (URL) line')
    p.add_argument('--notifications-url', metavar='URL',
                   help='publish Nova versioned notifications of every '
                        'change through oslo.messaging to this transport '
                        'URL, e.g. rabbit://guest:guest@127.0.0.1:5672/')
    p.add_argument('--notifications-exchange', default='nova',
                   help="Nova's control_exchange (default nova)")
    p.add_argument('--churn-per-s', type=_non_negative_float, default=0.0,
                   help='changes a second (creates, deletes, migrations, '
                        'power and service changes, aggregate membership); '
                        'default 0: a static cloud')
    p.add_argument('--churn-seed', type=int, default=0)
    return p


def _fail(message):
    print('%s: error: %s' % (PROG, message), file=sys.stderr)
    return 2


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
    except _UsageError as exc:
        return _fail(exc)
    if args.max_limit < 1:
        return _fail('--max-limit must be >= 1')
    try:
        if args.topology:
            topology = Topology.load(args.topology)
        else:
            topology = Topology.generate(
                hosts=args.hosts, instances=args.instances,
                aggregates=args.aggregates, azs=args.azs, seed=args.seed,
                volume_backed=args.volume_backed,
                providerless=args.providerless, ironic=args.ironic)
    except TopologyError as exc:
        return _fail('topology: %s' % exc)
    if args.dump_topology:
        try:
            with open(args.dump_topology, 'w', encoding='utf-8') as f:
                f.write(topology.to_json())
        except OSError as exc:
            return _fail('--dump-topology %s: %s'
                         % (args.dump_topology, exc.strerror))
    default_ms, per_service = args.latency_ms
    sim = Simulator(topology, host=args.host, port=args.port,
                    latency_ms=dict(per_service, default=default_ms),
                    token_ttl_s=args.token_ttl_s, faults=args.fault,
                    fault_seed=args.fault_seed,
                    username=args.username, password=args.password,
                    project=args.project, max_limit=args.max_limit,
                    noauth=args.noauth, users=dict(args.user),
                    neutron_latency_ms=args.neutron_latency_ms,
                    idle_timeout=args.idle_timeout,
                    migrations={
                        'duration_s': args.migration_s,
                        'jitter': args.migration_jitter,
                        'fail_ratio': args.migration_fail_ratio,
                        'seed': args.fault_seed,
                        'max_concurrent_live_migrations': max(
                            1, args.max_concurrent_live_migrations)})
    exporter = None
    if args.exporter_port is not None:
        from decision_engine.simulator import exporter as exporter_mod
        from decision_engine.simulator import load as load_mod
        try:
            exporter = exporter_mod.ExporterServer(
                exporter_mod.LoadExporter(
                    topology, load_mod.LoadModel(seed=args.load_seed)),
                host=args.host, port=args.exporter_port).start()
        except OSError as exc:
            return _fail('--exporter-port %s: %s'
                         % (args.exporter_port, exc.strerror or exc))
    stop = threading.Event()

    def _on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        sim.start()
    except OSError as exc:
        return _fail('cannot listen on %s:%s: %s'
                     % (args.host, args.port, exc.strerror or exc))
    # This process only serves: move the large, immortal topology and
    # pre-serialized bodies out of the collector's way, so full GC passes
    # do not stall requests.
    gc.collect()
    gc.freeze()
    # The ready file exists before the first line is printed, so a
    # reader of either can rely on the other.
    if args.ready_file:
        tmp = args.ready_file + '.tmp'
        try:
            with open(tmp, 'w', encoding='utf-8') as f:
                json.dump({'url': sim.url, 'auth_url': sim.auth_url,
                           'port': sim.port, 'pid': os.getpid(),
                           'exporter': exporter.address if exporter
                           else None}, f)
            os.replace(tmp, args.ready_file)
        except OSError as exc:
            sim.stop()
            return _fail('--ready-file %s: %s' % (args.ready_file,
                                                  exc.strerror))
    try:
        publisher, churner = _start_churn(args, sim)
    except Exception as exc:
        sim.stop()
        return _fail('--notifications-url %s: %s'
                     % (args.notifications_url, exc))
    print('%s listening on %s' % (PROG, sim.url), flush=True)
    if exporter is not None:
        print('load exporter: http://%s/metrics' % exporter.address,
              flush=True)
    if not args.quiet:
        print('auth_url: %s' % sim.auth_url)
        print('# clouds.yaml')
        print(sim.clouds_yaml(), end='', flush=True)
    try:
        # wait() with a timeout so signal handlers run promptly.
        while not stop.wait(1.0):
            pass
    finally:
        if churner is not None:
            churner.stop()
        if publisher is not None:
            publisher.close()
        sim.stop()
        if exporter is not None:
            exporter.stop()
    return 0


def _start_churn(args, sim):
    """The notifier and the churn the arguments ask for (either None)."""
    publisher = churner = None
    if args.notifications_url:
        publisher = notifier.NovaNotifier(
            args.notifications_url, exchange=args.notifications_exchange)
        sim.notifier = publisher
    if args.churn_per_s > 0:
        churner = churn.Churn(sim, publisher, args.churn_per_s,
                              seed=args.churn_seed).start()
    return publisher, churner


if __name__ == '__main__':
    sys.exit(main())

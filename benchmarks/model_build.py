"""Model build benchmark: the daemon's real builder against the simulator.

The simulated cloud runs in a child process (its own CPU); this process is
the engine side: the openstacksdk connection, the shared WorkerPool and the
:class:`~decision_engine.collector.builder.ModelBuilder`, configured from the
``[collector]`` defaults. Builds, in order:

1. a warm-up build at 0 ms (token, endpoint discovery, connections);
2. the CPU floor: the same build at 0 ms latency (``cpu_floor_s``);
3. the measured build at ``--latency-ms`` with ``--pool-size`` workers
   (``wall_s``, ``cpu_s`` = this process's CPU during it);
4. the sequential build: pool size 1 at the same latency
   (``sequential_wall_s``). ``--sequential estimate`` replaces it by a
   pool-size-1 build at 0 ms plus ``requests x latency``
   (``sequential_method`` says which).

``bound_s = cpu_floor_s + latency x (3 + ceil(k x hosts / pool_size))``
with ``k`` the requests per host: 3 (inventories, servers, the
provider's traits) for ``[collector] usage_source = flavors``, 4 (and the
provider's allocations) for ``placement``; ``complete`` compares a digest
of the model with one of the ground truth, computed in a child process
from the same generator arguments (so the truth does not count in
``rss_mb``, this process's peak RSS).

Steps 2 and 3 run for each usage source of ``--usage-source`` (both by
default) with the first listing of ``--servers-listing``, and for each
other listing with the first usage source; the top-level figures are those
of the first pair, ``by_usage_source`` and ``by_servers_listing`` hold each
one's wall time, CPU, requests, bound and completeness, and step 4 runs for
the first pair only.

Cost to the cloud (``[collector] servers_listing``): the measured builds
run with ``--neutron-latency-ms`` added by the simulator to each Neutron
query real nova-api would send for a server listing page (one per 150
servers, plus the security groups; the floor runs without). Per listing:
``requests_by_service`` (what the simulator received, by service),
``neutron_queries`` (what Nova would have sent Neutron, counted by the
simulator) and ``neutron_queries_estimate`` (the engine's own figure).
The bound adds the Neutron time: with ``N`` Neutron queries and Neutron
latency ``n``,

* ``per_host``: ``cpu_floor_s + latency x (3 + ceil(k x hosts /
  pool_size)) + n x ceil(N / pool_size)`` (the host listings run in
  parallel);
* ``all_servers``: ``cpu_floor_s + max(latency x (3 + ceil((k - 1) x
  hosts / pool_size)), latency x pages + n x N)``: the pages follow one
  another, alongside the per-host Placement requests.

    python -m benchmarks.model_build --hosts 1000 --instances 20000 \\
        --latency-ms 50 --pool-size 64 --neutron-latency-ms 10
"""

import argparse
import gc
import hashlib
import json
import math
import resource
import subprocess
import sys
import time

from oslo_config import cfg

from benchmarks import _report
from decision_engine.cloud import connection
from decision_engine.cloud import embedded
from decision_engine import conf as conf_mod
from decision_engine.concurrency import pool as pool_mod
from decision_engine.collector import builder as builder_mod
from decision_engine.collector import transport as transport_mod

SERVERS = 'GET /compute/v2.1/servers/detail'


def digest(model):
    """A digest of every element of a model (order independent)."""
    h = hashlib.sha256()
    for uuid in sorted(model.nodes):
        h.update(json.dumps(model.nodes[uuid].to_dict(),
                            sort_keys=True).encode())
    for uuid in sorted(model.instances):
        h.update(json.dumps(model.instances[uuid].to_dict(),
                            sort_keys=True).encode())
    h.update(json.dumps(sorted(model.aggregates.items())).encode())
    h.update(json.dumps(sorted(model.availability_zones.items())).encode())
    return h.hexdigest()


def _truth_digest(args, usage_source):
    """The ground truth's digest, computed in a child process."""
    out = subprocess.run(
        [sys.executable, '-m', 'benchmarks.model_build', '--truth-digest',
         '--hosts', str(args.hosts), '--instances', str(args.instances),
         '--aggregates', str(args.aggregates), '--azs', str(args.azs),
         '--seed', str(args.seed), '--usage-source', usage_source],
        check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def _print_truth_digest(args):
    from decision_engine.simulator import Topology
    from tests.fixtures import truth
    topo = Topology.generate(hosts=args.hosts, instances=args.instances,
                             aggregates=args.aggregates, azs=args.azs,
                             seed=args.seed)
    print(digest(truth.expected_model(topo,
                                      usage_source=args.usage_source)))


def _conf(args):
    conf = cfg.ConfigOpts()
    conf_mod.register_opts(conf)
    conf([], project='decision-engine', default_config_files=[])
    conf.set_override('build_workers', args.pool_size, group='collector')
    conf.set_override('http_transport', args.transport, group='collector')
    conf.set_override('build_timeout', 3600, group='collector')
    return conf


class _Engine:
    def __init__(self, conf, sim, pool_size):
        self.conf = conf
        self.cloud = connection.from_auth(conf, sim.auth(), pool_size)
        self.transport = transport_mod.make_transport(
            self.cloud, conf.collector.http_transport)
        self.settings = builder_mod.BuildSettings.from_conf(conf)

    def build(self, pool_size, usage_source='flavors',
              servers_listing='per_host'):
        pool = pool_mod.WorkerPool(pool_size)
        self.settings.build_workers = pool_size
        self.settings.usage_source = usage_source
        self.settings.servers_listing = servers_listing
        try:
            builder = builder_mod.ModelBuilder(self.transport, pool,
                                               self.settings)
            gc.collect()
            cpu = time.process_time()
            wall = time.perf_counter()
            model = builder.build()
            wall = time.perf_counter() - wall
            cpu = time.process_time() - cpu
        finally:
            pool.shutdown(timeout=60)
        return model, wall, cpu


def _latency(sim, ms):
    sim.admin('latency', 'PUT', {'default': ms})


def _sources(args):
    if args.usage_source == 'both':
        return list(builder_mod.USAGE_SOURCES)
    return [args.usage_source]


def _listings(args):
    if args.servers_listing == 'both':
        return list(builder_mod.SERVERS_LISTINGS)
    return [args.servers_listing]


def _neutron_latency(sim, ms):
    sim.admin('neutron', 'PUT', {'latency_ms': ms})


def _measure(engine, sim, args, source, listing):
    """The floor (0 ms) and the measured build of one usage source and
    listing."""
    _latency(sim, 0)
    _neutron_latency(sim, 0)
    _, floor_wall, floor_cpu = engine.build(args.pool_size, source, listing)
    _latency(sim, args.latency_ms)
    _neutron_latency(sim, args.neutron_latency_ms)
    sim.admin('reset', 'POST')
    sim_cpu = sim.cpu_seconds()
    model, wall, cpu = engine.build(args.pool_size, source, listing)
    sim_cpu = sim.cpu_seconds() - sim_cpu
    stats = sim.admin('stats')
    _neutron_latency(sim, 0)
    return {'floor_wall': floor_wall, 'floor_cpu': floor_cpu,
            'wall': wall, 'cpu': cpu, 'sim_cpu': sim_cpu,
            'stats': stats, 'digest': digest(model),
            'summary': (len(model.nodes), len(model.instances),
                        model.requests),
            'neutron_estimate': model.neutron_queries_estimate}


def _by_service(stats):
    """What the simulator received, by service (``compute``,
    ``placement``; the token requests under ``identity``)."""
    counts = {}
    for endpoint, n in stats['by_endpoint'].items():
        parts = endpoint.split(' ', 1)[-1].split('/')
        service = parts[1] if len(parts) > 1 else 'unknown'
        counts[service] = counts.get(service, 0) + n
    return counts


def _bound(args, m, source, listing):
    latency = args.latency_ms / 1000.0
    neutron_s = args.neutron_latency_ms / 1000.0
    # inventories, servers and traits (+ allocations)
    per_host = 4 if source == 'placement' else 3
    queries = sum(m['stats'].get('downstream', {}).get('neutron',
                                                       {}).values())
    if listing == 'all_servers':
        pages = m['stats']['by_endpoint'].get(SERVERS, 0)
        return m['floor_wall'] + max(
            latency * (3 + math.ceil((per_host - 1) * args.hosts
                                     / args.pool_size)),
            latency * pages + neutron_s * queries)
    return m['floor_wall'] + latency * (
        3 + math.ceil(per_host * args.hosts / args.pool_size)) + \
        neutron_s * math.ceil(queries / args.pool_size)


def _figures(args, m, source, listing, with_truth=True):
    bound = _bound(args, m, source, listing)
    stats = m['stats']
    figures = {
        'wall_s': round(m['wall'], 3), 'cpu_s': round(m['cpu'], 3),
        'requests': m['summary'][2],
        'requests_by_service': _by_service(stats),
        'server_listing_requests': stats['by_endpoint'].get(SERVERS, 0),
        'neutron_queries': sum(stats.get('downstream', {}).get(
            'neutron', {}).values()),
        'neutron_queries_estimate': m['neutron_estimate'],
        'cpu_floor_s': round(m['floor_wall'], 3),
        'bound_s': round(bound, 3),
        'ratio_to_bound': round(m['wall'] / bound, 3),
        'bound': bound}
    if with_truth:
        figures['complete'] = (
            m['summary'][0] == args.hosts
            and m['summary'][1] == args.instances
            and m['digest'] == _truth_digest(args, source))
    return figures


def run(args):
    conf = _conf(args)
    sources = _sources(args)
    listings = _listings(args)
    sim = embedded.EmbeddedSimulator(
        hosts=args.hosts, instances=args.instances,
        aggregates=args.aggregates, azs=args.azs, seed=args.seed,
        latency_ms=0).start()
    measured = {}
    by_listing = {}
    try:
        engine = _Engine(conf, sim, args.pool_size)
        latency = args.latency_ms / 1000.0
        engine.build(args.pool_size)                        # warm-up
        for source in sources:
            measured[source] = _measure(engine, sim, args, source,
                                        listings[0])
        by_listing[listings[0]] = measured[sources[0]]
        for listing in listings[1:]:
            by_listing[listing] = _measure(engine, sim, args, sources[0],
                                           listing)
        first = measured[sources[0]]
        if args.sequential == 'measure':
            _latency(sim, args.latency_ms)
            _neutron_latency(sim, args.neutron_latency_ms)
            _, seq_wall, _ = engine.build(1, sources[0], listings[0])
            _neutron_latency(sim, 0)
            method = 'measured'
        elif args.sequential == 'estimate':
            _latency(sim, 0)
            _, seq_floor, _ = engine.build(1, sources[0], listings[0])
            seq_wall = seq_floor + first['summary'][2] * latency + \
                args.neutron_latency_ms / 1000.0 * sum(
                    first['stats']['downstream'].get('neutron',
                                                     {}).values())
            method = 'estimated: pool-size-1 build at 0 ms + requests x ' \
                     'latency + Neutron queries x Neutron latency'
        else:
            seq_wall, method = None, 'skipped'
        engine.transport.close()
        engine.cloud.close()
    finally:
        sim.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    per_source = {source: _figures(args, m, source, listings[0])
                  for source, m in measured.items()}
    per_listing = {listings[0]: dict(per_source[sources[0]])}
    for listing in listings[1:]:
        m = by_listing[listing]
        figures = _figures(args, m, sources[0], listing, with_truth=False)
        figures['complete'] = (
            m['summary'][0] == args.hosts
            and m['summary'][1] == args.instances
            and m['digest'] == first['digest'])
        per_listing[listing] = figures
    bound = per_source[sources[0]]['bound']
    for figures in list(per_source.values()) + list(per_listing.values()):
        figures.pop('bound', None)
    summary = first['summary']
    wall = first['wall']
    return {
        'hosts': args.hosts, 'instances': args.instances,
        'latency_ms': args.latency_ms, 'pool_size': args.pool_size,
        'transport': args.transport, 'usage_source': sources[0],
        'servers_listing': listings[0],
        'neutron_latency_ms': args.neutron_latency_ms,
        'wall_s': round(wall, 3), 'cpu_s': round(first['cpu'], 3),
        'requests': summary[2],
        'sequential_wall_s': None if seq_wall is None else round(seq_wall,
                                                                 3),
        'sequential_method': method,
        'speedup_vs_sequential': None if seq_wall is None
        else round(seq_wall / wall, 2),
        'cpu_floor_s': round(first['floor_wall'], 3),
        'cpu_floor_cpu_s': round(first['floor_cpu'], 3),
        'bound_s': round(bound, 3),
        'ratio_to_bound': round(wall / bound, 3),
        'instances_per_s': round(summary[1] / wall),
        'rss_mb': round(rss_mb, 1),
        'neutron_queries': per_listing[listings[0]]['neutron_queries'],
        'complete': all(f['complete'] for f in list(per_source.values())
                        + list(per_listing.values())),
        'by_usage_source': per_source,
        'by_servers_listing': per_listing,
        'simulator_cpu_s': None if first['sim_cpu'] is None
        else round(first['sim_cpu'], 3),
        'simulator_peak_in_flight': first['stats']['peak_in_flight'],
        'simulator_requests': first['stats']['total'],
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--hosts', type=int, default=1000)
    p.add_argument('--instances', type=int, default=20000)
    p.add_argument('--latency-ms', type=float, default=50.0)
    p.add_argument('--pool-size', type=int, default=64)
    p.add_argument('--aggregates', type=int, default=3)
    p.add_argument('--azs', type=int, default=2)
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--transport', choices=sorted(transport_mod.TRANSPORTS),
                   default='direct')
    p.add_argument('--usage-source',
                   choices=list(builder_mod.USAGE_SOURCES) + ['both'],
                   default='both',
                   help='[collector] usage_source of the measured builds')
    p.add_argument('--servers-listing',
                   choices=list(builder_mod.SERVERS_LISTINGS) + ['both'],
                   default='both',
                   help='[collector] servers_listing of the measured builds '
                        '(both: per_host first)')
    p.add_argument('--neutron-latency-ms', type=float, default=10.0,
                   help='latency the simulator adds per Neutron query real '
                        'Nova would send for a server listing page, in the '
                        'measured builds')
    p.add_argument('--sequential', choices=['measure', 'estimate', 'skip'],
                   default='measure')
    p.add_argument('--truth-digest', action='store_true',
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.truth_digest:
        _print_truth_digest(args)
        return 0
    if args.pool_size < 1 or args.hosts < 1 or args.instances < 0:
        p.error('--pool-size and --hosts must be >= 1, --instances >= 0')
    if not 0 <= args.neutron_latency_ms < float('inf'):
        p.error('--neutron-latency-ms must be >= 0')
    _report.emit(run(args))
    return 0


if __name__ == '__main__':
    sys.exit(main())

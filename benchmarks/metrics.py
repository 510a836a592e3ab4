"""Metrics gathering benchmark: batched PromQL on the shared pool against a
real Prometheus scraping the simulator's load exporter.

Set-up: ``Topology.generate(--hosts, --instances, seed)`` served by the
load exporter in this process; Debian's ``prometheus`` scraping it every
``--scrape-interval`` seconds on a free loopback port; the run starts once
Prometheus holds a full ``--window`` of samples. Measured:

1. the gathering of the four workload metrics (host CPU and RAM, instance
   CPU and RAM) for every host and running instance, with ``[datasource]``
   defaults but ``--chunk-size`` and ``--parallelism``: ``wall_s``,
   ``queries`` (one per metric and chunk), ``values`` and ``complete``
   (every name got a value: nothing is hidden in this run);
   ``per_resource_queries`` is what asking one resource at a time would
   send (one query per metric and element, as Watcher does);
2. the median time of one such query alone (``--sample`` chunk queries,
   one at a time, in the same run), so ``bound_s = waves x median`` with
   ``waves = ceil(queries / parallelism)``; ``ratio_to_bound = wall_s /
   bound_s`` (target <= 1.5) and ``queries`` <= ``per_resource_queries``
   / 100; ``sequential_wall_s`` is the same gathering one query at a time
   (``parallel_speedup`` = sequential / parallel, which a machine whose
   cores are busy caps near 1);
3. an end-to-end ``workload_balance`` audit the way the runner does it:
   the real model build (the embedded simulator in a child process, its
   own CPU, same generator arguments) + the gathering (cache off) + the
   strategy + the plan's verification: ``audit_e2e_s`` and its parts.

    python -m benchmarks.metrics --hosts 1000 --instances 20000
"""

import argparse
import math
import statistics
import sys
import time

from oslo_config import cfg

from benchmarks import _report
from decision_engine.audit import scope as scope_mod
from decision_engine.cloud import connection
from decision_engine.cloud import embedded
from decision_engine.collector import builder as builder_mod
from decision_engine.collector import transport as transport_mod
from decision_engine import conf as conf_mod
from decision_engine.concurrency import pool as pool_mod
from decision_engine.datasources import loader
from decision_engine.simulator import exporter as exporter_mod
from decision_engine.simulator import load as load_mod
from decision_engine.simulator.topology import Topology
from decision_engine.strategies import metrics as m
from decision_engine.strategies import verify
from decision_engine.strategies import workload_balance
from tests.fixtures import prometheus as prometheus_fixture

ALL = (m.HOST_CPU, m.HOST_RAM, m.INSTANCE_CPU, m.INSTANCE_RAM)


def _conf(args, url):
    conf = cfg.ConfigOpts()
    for module in conf_mod.MODULES:
        module.register_opts(conf)
    conf([], project='decision-engine', default_config_files=[])
    for name, value in (('prometheus_url', url), ('window', args.window),
                        ('query_chunk_size', args.chunk_size),
                        ('parallelism', args.parallelism),
                        ('cache_ttl', 0), ('gather_timeout', 600)):
        conf.set_override(name, value, group='datasource')
    conf.set_override('build_timeout', 3600, group='collector')
    conf.set_override('build_workers', args.pool_size, group='collector')
    return conf


def _median_query(gatherer, wanted, sample, chunk_size, window):
    """Median seconds of one full-size chunk query sent alone, each metric
    in turn."""
    ds = gatherer.datasource
    at = time.time()
    metrics = list(wanted)
    times = []
    for i in range(sample):
        metric = metrics[i % len(metrics)]
        names = wanted[metric]
        first = (i // len(metrics)) * chunk_size % max(1, len(names))
        query = ds.query(metric, names[first:first + chunk_size], window)
        t0 = time.perf_counter()
        ds.run(query, 60.0, at=at)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(args):
    topo = Topology.generate(hosts=args.hosts, instances=args.instances,
                             aggregates=args.aggregates, azs=args.azs,
                             seed=args.seed)
    exporter = exporter_mod.LoadExporter(topo, load_mod.LoadModel(
        seed=args.seed))
    server = exporter_mod.ExporterServer(exporter).start()
    interval = '%ds' % args.scrape_interval
    prom = prometheus_fixture.Prometheus(server.address, interval=interval,
                                         timeout=interval)
    pool = pool_mod.WorkerPool(args.pool_size)
    sim = None
    try:
        prom.start()
        prom.wait_for_samples(
            math.ceil(args.window / args.scrape_interval) + 2,
            timeout=args.window * 4 + 120)
        conf = _conf(args, prom.url)
        gatherer = loader.load(conf, pool)
        hosts = sorted(h.hostname for h in topo.hosts)
        running = sorted(i.uuid for i in topo.instances if i.host
                         and i.vm_state in exporter_mod.RUNNING)
        wanted = {m.HOST_CPU: hosts, m.HOST_RAM: hosts,
                  m.INSTANCE_CPU: running, m.INSTANCE_RAM: running}
        gatherer.gather({m.HOST_CPU: hosts[:10]})       # warm-up
        before = gatherer.statistics().queries
        t0 = time.perf_counter()
        measured = gatherer.gather(wanted)
        wall = time.perf_counter() - t0
        queries = gatherer.statistics().queries - before
        values = sum(len(v) for v in measured.values.values())
        complete = not m.missing(measured, wanted)
        # The same gathering one query at a time: what the parallelism
        # buys on this machine, under its current load.
        conf.set_override('parallelism', 1, group='datasource')
        s0 = time.perf_counter()
        gatherer.gather(wanted)
        sequential = time.perf_counter() - s0
        conf.set_override('parallelism', args.parallelism, group='datasource')
        median = _median_query(gatherer, wanted, args.sample,
                               args.chunk_size, args.window)
        waves = math.ceil(queries / args.parallelism)
        bound = waves * median

        # End to end: the real model build, the gathering, the strategy.
        sim = embedded.EmbeddedSimulator(
            hosts=args.hosts, instances=args.instances,
            aggregates=args.aggregates, azs=args.azs, seed=args.seed,
            latency_ms=args.latency_ms).start()
        cloud = connection.from_auth(conf, sim.auth(), args.pool_size)
        transport = transport_mod.make_transport(
            cloud, conf.collector.http_transport)
        builder = builder_mod.ModelBuilder(
            transport, pool, builder_mod.BuildSettings.from_conf(conf))
        e2e0 = time.perf_counter()
        model = builder.build()
        build_s = time.perf_counter() - e2e0
        context = scope_mod.resolve(model, {})
        strategy = workload_balance.WorkloadBalance
        params = strategy.validate_parameters({'threshold': args.threshold})
        required = strategy.required_metrics(params)
        g0 = time.perf_counter()
        context.metrics = m.apply_policy(
            context, gatherer.gather(m.needed(context, required)), required,
            params['missing_metrics'])
        gather_s = time.perf_counter() - g0
        s0 = time.perf_counter()
        solution = strategy().execute(context, params)
        verify.check_plan(context, solution.actions)
        strategy_s = time.perf_counter() - s0
        e2e = time.perf_counter() - e2e0
        transport.close()
        cloud.close()
    finally:
        if sim is not None:
            sim.stop()
        pool.shutdown(timeout=60)
        prom.stop()
        server.stop()
    per_resource = 2 * len(hosts) + 2 * len(running)
    return {
        'hosts': args.hosts,
        'instances': args.instances,
        'running_instances': len(running),
        'chunk_size': args.chunk_size,
        'parallelism': args.parallelism,
        'window_s': args.window,
        'queries': queries,
        'per_resource_queries': per_resource,
        'queries_ratio_to_target': round(queries / (per_resource / 100.0),
                                         3),
        'wall_s': round(wall, 3),
        'sequential_wall_s': round(sequential, 3),
        'parallel_speedup': round(sequential / wall, 2) if wall else None,
        'median_query_s': round(median, 4),
        'waves': waves,
        'bound_s': round(bound, 3),
        'ratio_to_bound': round(wall / bound, 3) if bound else None,
        'values': values,
        'complete': complete,
        'audit_e2e_s': round(e2e, 3),
        'audit_build_s': round(build_s, 3),
        'audit_gather_s': round(gather_s, 3),
        'audit_strategy_s': round(strategy_s, 3),
        'audit_migrations': solution.indicators['migrations'],
        'audit_hosts_over_before': solution.indicators['hosts_over_before'],
        'audit_hosts_over_after': solution.indicators['hosts_over_after'],
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--hosts', type=int, default=1000)
    p.add_argument('--instances', type=int, default=20000)
    p.add_argument('--aggregates', type=int, default=10)
    p.add_argument('--azs', type=int, default=3)
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--chunk-size', type=int, default=200)
    p.add_argument('--parallelism', type=int, default=8)
    p.add_argument('--pool-size', type=int, default=32)
    p.add_argument('--window', type=int, default=30)
    p.add_argument('--scrape-interval', type=int, default=5)
    p.add_argument('--sample', type=int, default=12,
                   help='single queries timed for the median')
    p.add_argument('--threshold', type=float, default=10.0,
                   help='workload_balance threshold (percent CPU) of the '
                        'end-to-end audit')
    p.add_argument('--latency-ms', type=float, default=0.0,
                   help='simulator latency of the end-to-end model build')
    args = p.parse_args(argv)
    _report.emit(run(args))
    return 0


if __name__ == '__main__':
    sys.exit(main())

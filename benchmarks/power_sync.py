"""Power-state sweep at scale: the real redfish driver against the BMC farm.

The farm (:mod:`decision_engine.simulator.bmc`) runs in a process of its
own, serving ``--nodes`` Redfish systems that each answer after
``--bmc-latency-ms``. The engine side is built as the manager builds it: one
:class:`WorkerPool` (``[conductor] workers_pool_size``, 5 % reserved from
periodics), one futurist ``PeriodicWorker`` on it running the driver's
``sync_power_states`` and another periodic every ``--other-spacing`` s.

1. A first sweep connects every node (service root + system: two calls
   per node); it is reported as ``first_sweep_s``, not measured against
   the bound.
2. The measured sweep runs on the PeriodicWorker. Meanwhile an "audit"
   thread submits a default-lane task every ``--audit-every-ms`` and
   measures submit -> start, and the other periodic's lateness (its start -
   (previous start + spacing)) is recorded.

``bound_s = ceil(nodes / sync_workers) x latency`` (one call per node in a
steady-state sweep). ``cpu_ms_per_poll`` is the CPU time of this process
(every thread: the sweep, the audit probe, the other periodic) during the
measured sweep, per node polled; the farm's CPU is not in it.

``--power-read`` chooses ``[redfish] power_read``: ``lean`` (one GET over a
kept-open connection) or ``sushy``. The farm puts every system behind one
port, where real BMCs have one each: ``--lean-connections-per-bmc``
(default: ``--sync-workers``) lets the farm's one endpoint keep as many
connections as real one-system BMCs would keep together; pass ``4`` (the
option's default) to see the lean read with connections opened and closed.

Targets at 2,000 nodes, 100 ms, 50 workers: ``ratio_to_bound`` <= 1.1,
``audit_start_delay_ms_p99`` <= 20, ``other_periodics_lateness_p99_ms`` <=
20 and, on the lean read, ``cpu_ms_per_poll`` <= 0.5; at 5,000 nodes and
100 workers ``ratio_to_bound`` <= 1.2 (``--max-ratio 1.2``)::

    python -m benchmarks.power_sync --nodes 2000 --bmc-latency-ms 100 \\
        --sync-workers 50
    python -m benchmarks.power_sync --nodes 5000 --sync-workers 100 \\
        --max-ratio 1.2

``--fake`` uses the fake driver (``bmc_delay``) instead, with no HTTP.
"""

import argparse
import math
import os
import threading
import time

from futurist import periodics as futurist_periodics
from oslo_config import cfg

from benchmarks import _bmc_farm
from benchmarks import _report
from decision_engine import conf as conf_mod
from decision_engine.concurrency import periodics
from decision_engine.concurrency import pool as pool_mod
from decision_engine.drivers import fake
from decision_engine.drivers import inventory
from decision_engine.drivers import power_state
from decision_engine.drivers import redfish


def _conf(args):
    conf = cfg.ConfigOpts()
    conf_mod.register_opts(conf)
    conf([], project='decision-engine', default_config_files=[])
    conf.set_override('sync_workers', args.sync_workers, group='power')
    conf.set_override('periodic_max_workers', args.sync_workers,
                      group='conductor')
    conf.set_override('workers_pool_size', args.pool_size, group='conductor')
    conf.set_override('bmc_delay', args.bmc_latency_ms / 1000.0,
                      group='fake_power')
    conf.set_override('power_read', args.power_read, group='redfish')
    conf.set_override('lean_connections_per_bmc',
                      args.lean_connections_per_bmc, group='redfish')
    return conf


def _nodes(args, farm):
    if farm is None:
        return [inventory.Node('compute-%d' % i, 'fake')
                for i in range(args.nodes)]
    return [inventory.Node('compute-%d' % i, 'redfish', farm.driver_info(i))
            for i in range(args.nodes)]


class _Lateness:
    def __init__(self, spacing):
        self.spacing = spacing
        self.samples = []
        self._last = None

    @periodics.periodic(spacing=0.2, run_immediately=True)
    def other_periodic(self):
        now = time.monotonic()
        if self._last is not None:
            self.samples.append(
                max(0.0, now - self._last - self.spacing) * 1000.0)
        self._last = now


def _audit_probe(pool, every, stop, delays, rejected):
    while not stop.is_set():
        started = []
        submitted = time.monotonic()
        try:
            future = pool.submit(lambda: started.append(time.monotonic()))
        except pool_mod.NoFreeWorker:
            rejected.append(submitted)
        else:
            future.result()
            delays.append((started[0] - submitted) * 1000.0)
        stop.wait(every)


def run(args):
    conf = _conf(args)
    size = args.pool_size
    pool = pool_mod.WorkerPool(size, reserved=pool_mod.reserved_workers(
        size, conf.conductor.reserved_workers_percentage))
    tracker = power_state.PowerStateTracker(conf.power.max_retries)
    farm = None if args.fake else _bmc_farm.Farm(args.nodes,
                                                 args.bmc_latency_ms)
    try:
        nodes = _nodes(args, farm)
        cls = fake.FakePowerDriver if args.fake else \
            redfish.RedfishPowerDriver
        driver = cls(conf=conf, pool=pool, nodes=nodes, tracker=tracker)
        driver.name = 'fake' if args.fake else 'redfish'

        # 1. connect every node.
        started = time.monotonic()
        pool.periodic_executor().submit(driver.sync_power_states).result()
        first_sweep_s = time.monotonic() - started

        # 2. the measured sweep, on the PeriodicWorker, with company.
        sweep_done = threading.Event()
        timing = {}

        @periodics.periodic(spacing=3600, run_immediately=True)
        def sweep():
            timing['cpu_start'] = time.process_time()
            timing['start'] = time.monotonic()
            driver.sync_power_states()
            timing['end'] = time.monotonic()
            timing['cpu_end'] = time.process_time()
            sweep_done.set()

        lateness = _Lateness(args.other_spacing)
        tasks = [periodics.PeriodicTask('sweep', sweep,
                                        periodics.PeriodicSpec(3600, True)),
                 periodics.PeriodicTask(
                     'other', lateness.other_periodic,
                     periodics.PeriodicSpec(args.other_spacing, True))]
        worker = futurist_periodics.PeriodicWorker(
            [(t.callable, None, None) for t in tasks],
            executor_factory=futurist_periodics.ExistingExecutor(
                pool.periodic_executor()),
            schedule_strategy='last_started')
        stop = threading.Event()
        delays, rejected = [], []
        audit = threading.Thread(target=_audit_probe, args=(
            pool, args.audit_every_ms / 1000.0, stop, delays, rejected))
        worker_thread = threading.Thread(target=worker.start, daemon=True)
        worker_thread.start()
        audit.start()
        sweep_done.wait()
        stop.set()
        audit.join()
        worker.stop()
        worker.wait()
        worker_thread.join()
    finally:
        if farm is not None:
            farm.stop()
        pool.shutdown(timeout=30)

    failed = sum(1 for r in tracker.snapshot().values() if r['failures'])
    sweep_s = timing['end'] - timing['start']
    latency_s = args.bmc_latency_ms / 1000.0
    bound_s = math.ceil(args.nodes / args.sync_workers) * latency_s
    cpu_ms = (timing['cpu_end'] - timing['cpu_start']) * 1000.0
    return {
        'driver': ('fake (bmc_delay, no HTTP)' if args.fake else
                   'redfish (%s read) -> BMC farm in its own process'
                   % args.power_read),
        'power_read': None if args.fake else args.power_read,
        'lean_connections_per_bmc': (
            args.lean_connections_per_bmc
            if not args.fake and args.power_read == 'lean' else None),
        'nodes': args.nodes,
        'bmc_latency_ms': args.bmc_latency_ms,
        'sync_workers': args.sync_workers,
        'pool_size': size,
        'reserved_workers': pool.reserved,
        'first_sweep_s': round(first_sweep_s, 3),
        'sweep_s': round(sweep_s, 3),
        'bound_s': round(bound_s, 3),
        'ratio_to_bound': round(sweep_s / bound_s, 3) if bound_s else None,
        'failed_nodes': failed,
        'audit_samples': len(delays),
        'audit_rejected': len(rejected),
        'audit_start_delay_ms_p50': _round(_report.percentile(delays, 50)),
        'audit_start_delay_ms_p99': _round(_report.percentile(delays, 99)),
        'other_periodic_runs': len(lateness.samples) + 1,
        'other_periodics_lateness_p99_ms': _round(
            _report.percentile(lateness.samples, 99)),
        'cpu_ms_per_poll': round(cpu_ms / args.nodes, 3),
        'cpu_s': round(sum(os.times()[:2]), 2),
    }


def _round(value):
    return None if value is None else round(value, 2)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m benchmarks.power_sync')
    parser.add_argument('--nodes', type=int, default=2000)
    parser.add_argument('--bmc-latency-ms', type=float, default=100.0)
    parser.add_argument('--sync-workers', type=int, default=50)
    parser.add_argument('--pool-size', type=int, default=None,
                        help='[conductor] workers_pool_size (default: 100, '
                             'or 2 x --sync-workers when more)')
    parser.add_argument('--power-read', choices=('lean', 'sushy'),
                        default='lean',
                        help='[redfish] power_read (default lean)')
    parser.add_argument('--lean-connections-per-bmc', type=int,
                        default=None,
                        help='[redfish] lean_connections_per_bmc (default: '
                             '--sync-workers, see above)')
    parser.add_argument('--max-ratio', type=float, default=1.1,
                        help='target of ratio_to_bound (default 1.1)')
    parser.add_argument('--other-spacing', type=float, default=0.2)
    parser.add_argument('--audit-every-ms', type=float, default=20.0)
    parser.add_argument('--fake', action='store_true',
                        help='the fake driver (bmc_delay) instead of '
                             'redfish against the BMC farm')
    args = parser.parse_args(argv)
    if args.nodes < 1 or args.sync_workers < 1 or args.bmc_latency_ms <= 0:
        parser.error('--nodes and --sync-workers must be >= 1, '
                     '--bmc-latency-ms > 0')
    if args.pool_size is None:
        args.pool_size = max(100, 2 * args.sync_workers)
    if args.lean_connections_per_bmc is None:
        args.lean_connections_per_bmc = args.sync_workers
    if not 1 <= args.lean_connections_per_bmc <= 1000:
        parser.error('--lean-connections-per-bmc must be 1 to 1000')
    if args.pool_size <= args.sync_workers + 1:
        parser.error('--pool-size must exceed --sync-workers + 1 (the sweep '
                     'task itself holds a worker)')
    result = run(args)
    result['targets_met'] = bool(
        result['ratio_to_bound'] <= args.max_ratio
        and (result['audit_start_delay_ms_p99'] or 0) <= 20
        and (result['other_periodics_lateness_p99_ms'] or 0) <= 20
        and (result['power_read'] != 'lean'
             or result['cpu_ms_per_poll'] <= 0.5)
        and not result['audit_rejected'] and not result['failed_nodes'])
    _report.emit(result)


if __name__ == '__main__':
    main()

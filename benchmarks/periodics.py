"""Lateness of periodic tasks while one of them blocks.

Ten periodics run every ``--spacing`` seconds on the engine's shared pool
(``PeriodicWorker`` with ``ExistingExecutor(pool.periodic_executor())``, as
the manager runs them) while one more periodic blocks for ``--block-s``
seconds. The same set then runs on futurist's default executor (one thread,
``SynchronousExecutor``) for contrast.

Lateness of a run = its start - (the previous start + spacing).
Target: ``lateness_p99_ms`` <= 50 (``ratio_to_bound`` <= 1).

    python -m benchmarks.periodics [--duration 30] [--block-s 30]
"""

import argparse
import threading
import time

from futurist import periodics as futurist_periodics

from benchmarks import _report
from decision_engine.concurrency import periodics
from decision_engine.concurrency import pool as pool_mod

BOUND_MS = 50.0


class LatenessProbe:
    def __init__(self, spacing):
        self.spacing = spacing
        self.samples = []
        self._last = None
        self._lock = threading.Lock()

    def __call__(self):
        now = time.monotonic()
        with self._lock:
            if self._last is not None:
                self.samples.append(
                    max(0.0, now - self._last - self.spacing) * 1000.0)
            self._last = now


def run(executor_factory, duration, block_s, spacing, tasks=10):
    probes = [LatenessProbe(spacing) for _ in range(tasks)]
    stop = threading.Event()
    specs = [periodics.PeriodicTask('probe%d' % i, probe,
                                    periodics.PeriodicSpec(spacing, True))
             for i, probe in enumerate(probes)]
    specs.append(periodics.PeriodicTask(
        'blocker', lambda: stop.wait(block_s),
        periodics.PeriodicSpec(spacing, True)))
    worker = futurist_periodics.PeriodicWorker(
        [(t.callable, None, None) for t in specs],
        executor_factory=executor_factory, schedule_strategy='last_started')
    thread = threading.Thread(target=worker.start, daemon=True)
    thread.start()
    time.sleep(duration)
    stop.set()
    worker.stop()
    worker.wait(block_s + 5)
    samples = [s for probe in probes for s in probe.samples]
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--duration', type=float, default=30.0)
    parser.add_argument('--block-s', type=float, default=30.0)
    parser.add_argument('--spacing', type=float, default=1.0)
    parser.add_argument('--pool-size', type=int, default=100)
    args = parser.parse_args()

    pool = pool_mod.WorkerPool(args.pool_size)
    shared = run(futurist_periodics.ExistingExecutor(
        pool.periodic_executor()), args.duration, args.block_s, args.spacing)
    pool.shutdown(5)
    single = run(None, args.duration, args.block_s, args.spacing)

    p99 = _report.percentile(shared, 99)
    _report.emit({
        'periodics': 10,
        'spacing_s': args.spacing,
        'blocker_s': args.block_s,
        'duration_s': args.duration,
        'runs': len(shared),
        'lateness_p50_ms': round(_report.percentile(shared, 50), 2),
        'lateness_p99_ms': round(p99, 2),
        'lateness_max_ms': round(max(shared), 2),
        'runs_single_thread': len(single),
        'lateness_p99_ms_single_thread': round(
            _report.percentile(single, 99), 2) if single else None,
        'bound_ms': BOUND_MS,
        'ratio_to_bound': round(p99 / BOUND_MS, 3),
    })


if __name__ == '__main__':
    main()

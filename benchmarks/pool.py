"""Submit-and-wait throughput of the pool helpers vs a bare executor.

Rounds of ``--batch`` tiny tasks are submitted and waited for, through
:class:`WorkerPool` (``submit`` + ``wait_all``; ``fan_out``) and straight on
a ``futurist.ThreadPoolExecutor`` of the same size (``submit`` +
``futurist.waiters.wait_for_all``), round after round interleaved so all
see the same machine load.

Target: ``ratio_to_bare_futurist`` (pool tasks/s over bare tasks/s) >= 0.9.

    python -m benchmarks.pool [--tasks 40000] [--size 100] [--batch 100]
"""

import argparse
import time

import futurist
from futurist import waiters

from benchmarks import _report
from decision_engine.concurrency import pool as pool_mod

BOUND = 0.9


def _task(i):
    return i


def bare_round(executor, batch):
    futs = [executor.submit(_task, i) for i in range(batch)]
    waiters.wait_for_all(futs)
    return [f.result() for f in futs]


def pool_round(pool, batch):
    return pool.wait_all([pool.submit(_task, i) for i in range(batch)])


def fan_out_round(pool, batch):
    return pool.fan_out(_task, range(batch), max_workers=batch)


def measure(contenders, batch, rounds):
    """Tasks per second of each contender, rounds interleaved.

    Round by round interleaving spreads the machine's noise (other
    processes, the GC) evenly over the contenders.
    """
    spent = [0.0] * len(contenders)
    for _ in range(rounds):
        for i, (fn, target) in enumerate(contenders):
            started = time.perf_counter()
            fn(target, batch)
            spent[i] += time.perf_counter() - started
    return [rounds * batch / t for t in spent]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--tasks', type=int, default=40000)
    parser.add_argument('--size', type=int, default=100)
    parser.add_argument('--batch', type=int, default=100)
    args = parser.parse_args()
    batch = min(args.batch, args.size)

    bare = futurist.ThreadPoolExecutor(args.size)
    pool = pool_mod.WorkerPool(args.size)
    # Warm up: both spawn their threads.
    bare_round(bare, batch)
    pool_round(pool, batch)
    bare_rate, pool_rate, fan_rate = measure(
        [(bare_round, bare), (pool_round, pool), (fan_out_round, pool)],
        batch, args.tasks // batch)
    bare.shutdown()
    pool.shutdown(5)

    ratio = pool_rate / bare_rate
    _report.emit({
        'pool_size': args.size,
        'batch': batch,
        'tasks_per_contender': args.tasks // batch * batch,
        'bare_futurist_tasks_per_s': round(bare_rate),
        'pool_submit_wait_tasks_per_s': round(pool_rate),
        'pool_fan_out_tasks_per_s': round(fan_rate),
        'ratio_to_bare_futurist': round(ratio, 3),
        'fan_out_ratio_to_bare_futurist': round(fan_rate / bare_rate, 3),
        'bound': BOUND,
        'ratio_to_bound': round(ratio / BOUND, 3),
    })


if __name__ == '__main__':
    main()

"""A small process for test_reports: a real worker pool with tasks blocked
on an event, a fake manager around it, and reports.setup() on the main
thread. It prints the pool's thread names as JSON, then waits for a line on
stdin before it lets the tasks finish and exits."""

import json
import sys
import threading

from oslo_config import cfg

from decision_engine.concurrency import periodics
from decision_engine.concurrency import pool as pool_mod
from decision_engine import reports


class FakeManager:
    started = True

    def __init__(self, pool):
        self.pool = pool

    def periodic_statistics(self):
        return {'manager.fake_periodic': periodics.PeriodicStatistics(
            spacing=60, runs=3, failures=1, skipped=0, running=False,
            last_duration=0.5, last_lateness=0.0, last_error='boom')}


def blocked_task(release):
    release.wait()


def main():
    conf = cfg.ConfigOpts()
    conf([], project='decision-engine')
    pool = pool_mod.WorkerPool(4)
    release = threading.Event()
    started = threading.Barrier(4)

    def task():
        started.wait()
        blocked_task(release)

    futures = [pool.submit(task) for _ in range(3)]
    started.wait()
    manager = FakeManager(pool)
    reports.setup(conf, lambda: manager)
    names = [name for name, _ident, _state in reports.pool_threads(pool)]
    print(json.dumps(names), flush=True)
    sys.stdin.readline()
    release.set()
    pool.wait_all(futures)


if __name__ == '__main__':
    main()

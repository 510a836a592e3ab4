"""Notification-fed model benchmark: churn in the simulator, published as
Nova's versioned notifications through RabbitMQ, applied by the engine's
listener; audits take their model meanwhile.

The simulated cloud and its churn (which publishes the notifications) run
in a child process, on a CPU of their own; this process is the engine side
(collector, listener, pool). Both use the RabbitMQ at 127.0.0.1:5672
(guest/guest) in a virtual host of the run's own (``rabbitmqctl
add_vhost``, removed at the end).

1. a full build (``full_build_s``), the listener connected: event-fed;
2. ``--duration-s`` of churn at ``--churn-per-s`` changes a second
   (``events`` notifications, ``events_per_s`` applied a second); an
   "audit" thread asks every 50 ms for a model at most 60 s old
   (``audit_model_wait_ms_p99``) and times a bare snapshot
   (``snapshot_ms_p99``); the listener keeps each event's lag from Nova's
   timestamp to applied (``lag_p50_ms``, ``lag_p99_ms``);
3. the churn stops; once every notification is received and applied, the
   event-fed model is compared, element by element, with a fresh full
   build (``drift_elements``); ``lost_events`` = published - received.

Bounds (issue 12): ``lag_p99_ms`` <= 100 at 500 events/s, ``drift_elements``
0, ``lost_events`` 0, ``snapshot_ms_p99`` <= 5 at 20,000 instances,
``audit_model_wait_ms_p99`` <= 10.

    python -m benchmarks.notifications --hosts 1000 --instances 20000 \\
        --churn-per-s 500 --duration-s 60
"""

import argparse
import multiprocessing
import os
import subprocess
import threading
import time
import uuid

from oslo_config import cfg

from benchmarks import _report
from decision_engine.cloud import connection
from decision_engine import conf as conf_mod
from decision_engine.collector import collector as collector_mod
from decision_engine.collector import fetch
from decision_engine.collector import notifications
from decision_engine.concurrency import pool as pool_mod
from decision_engine.simulator import churn as churn_mod
from decision_engine.simulator import notifier as notifier_mod
from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology

BOUNDS = {'lag_p99_ms': 100.0, 'snapshot_ms_p99': 5.0,
          'audit_model_wait_ms_p99': 10.0}


def _rabbitmqctl(*args):
    subprocess.run(('rabbitmqctl',) + args, check=True, capture_output=True,
                   timeout=60)


def _conf(url, pool_size):
    conf = cfg.ConfigOpts()
    for module in conf_mod.MODULES:
        module.register_opts(conf)
    conf([], project='decision-engine', default_config_files=[])
    conf.set_override('transport_url', url, group='notifications')
    conf.set_override('workers_pool_size', pool_size, group='conductor')
    return conf


def _until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _received(status):
    return status.applied + status.stale + status.ignored + status.failed


def _drift(event_fed, built):
    drift = 0
    for table in ('nodes', 'instances'):
        mine, theirs = getattr(event_fed, table), getattr(built, table)
        for key in set(mine) | set(theirs):
            if mine.get(key) != theirs.get(key):
                drift += 1
    for key in set(event_fed.aggregates) | set(built.aggregates):
        if event_fed.aggregates.get(key) != built.aggregates.get(key):
            drift += 1
    return drift


class _Audits(threading.Thread):
    """Asks for a model every ``interval`` s, as audits would."""

    def __init__(self, collector, listener, interval=0.05):
        super().__init__(name='audits', daemon=True)
        self.collector = collector
        self.listener = listener
        self.interval = interval
        self.waits_ms = []
        self.snapshots_ms = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(self.interval):
            started = time.perf_counter()
            self.listener.snapshot()
            self.snapshots_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            self.collector.get_snapshot(max_age=60)
            self.waits_ms.append((time.perf_counter() - started) * 1000)


def _cloud_child(args, url, pipe):
    """The simulator and its churn, driven through ``pipe``."""
    topo = Topology.generate(hosts=args.hosts, instances=args.instances,
                             aggregates=args.aggregates, azs=2,
                             seed=args.seed)
    sim = Simulator(topo, latency_ms=0).start()
    publisher = notifier_mod.NovaNotifier(url)
    pipe.send(sim.auth())
    churn = churn_mod.Churn(sim, publisher, args.churn_per_s,
                            seed=args.seed, tick_s=args.tick_s)
    assert pipe.recv() == 'start'
    churn.start()
    assert pipe.recv() == 'stop'
    churn.stop()
    pipe.send({'changes': churn.stats.changes,
               'notifications': churn.stats.notifications,
               'reload_seconds': churn.stats.reload_seconds})
    assert pipe.recv() == 'exit'
    publisher.close()
    sim.stop()


def run(args):
    vhost = 'de-bench-%d-%s' % (os.getpid(), uuid.uuid4().hex[:6])
    _rabbitmqctl('add_vhost', vhost)
    _rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*')
    url = 'rabbit://guest:guest@127.0.0.1:5672/%s' % vhost
    pipe, child_pipe = multiprocessing.Pipe()
    child = multiprocessing.get_context('spawn').Process(
        target=_cloud_child, args=(args, url, child_pipe), daemon=True)
    child.start()
    auth = pipe.recv()
    conf = _conf(url, args.pool_size)
    pool = pool_mod.WorkerPool(args.pool_size)
    listener = notifications.NotificationListener(conf, pool)

    def cloud(size):
        return connection.from_auth(conf, auth, size)

    collector = collector_mod.ModelCollector(conf, pool, cloud,
                                             live=listener)
    fresh = collector_mod.ModelCollector(conf, pool, cloud)
    try:
        listener.start(collector.transport,
                       fetch.FetchSettings.from_conf(conf.collector),
                       collector.refresh_model)
        if not _until(lambda: listener.status().mode == 'event-fed', 600):
            raise SystemExit('the model never became event-fed: %s'
                             % (listener.status().reason,))
        full_build_s = collector.status().build_seconds
        listener.live.recent_lags_ms.clear()
        audits = _Audits(collector, listener)
        applied0 = listener.status().applied
        started = time.monotonic()
        pipe.send('start')
        audits.start()
        time.sleep(args.duration_s)
        pipe.send('stop')
        churned = pipe.recv()
        audits.stop.set()
        audits.join()
        sent = churned['notifications']
        _until(lambda: _received(listener.status()) >= sent, 120)
        listener.wait_idle(120)
        elapsed = time.monotonic() - started
        status = listener.status()
        event_fed = listener.snapshot()
        built = fresh.get_model(max_age=0)
        lags = list(listener.live.recent_lags_ms)
        result = {
            'hosts': args.hosts, 'instances': args.instances,
            'churn_per_s': args.churn_per_s, 'duration_s': args.duration_s,
            'changes': churned['changes'],
            'events': sent,
            'events_per_s': round((status.applied - applied0)
                                  / args.duration_s, 1),
            'applied': status.applied, 'stale': status.stale,
            'ignored': status.ignored, 'failed': status.failed,
            'lag_p50_ms': _round(_report.percentile(lags, 50)),
            'lag_p99_ms': _round(_report.percentile(lags, 99)),
            'drift_elements': _drift(event_fed, built),
            'lost_events': max(0, sent - _received(status)),
            'snapshot_ms_p99': _round(_report.percentile(
                audits.snapshots_ms, 99), 3),
            'full_build_s': _round(full_build_s, 2),
            'audit_model_wait_ms_p99': _round(_report.percentile(
                audits.waits_ms, 99), 3),
            'mode': status.mode, 'gaps': status.gaps,
            'simulator_reload_s': round(churned['reload_seconds'], 2),
            'elapsed_s': round(elapsed, 1),
        }
        for key, bound in BOUNDS.items():
            if result[key] is not None:
                result[key + '_ratio'] = round(result[key] / bound, 3)
        return result
    finally:
        listener.stop()
        collector.stop()
        fresh.stop()
        pool.shutdown(timeout=60)
        try:
            pipe.send('exit')
        except OSError:
            pass
        child.join(30)
        if child.is_alive():
            child.terminate()
        _rabbitmqctl('delete_vhost', vhost)


def _round(value, digits=1):
    return None if value is None else round(value, digits)


def main(argv=None):
    p = argparse.ArgumentParser(prog='python -m benchmarks.notifications',
                                description=__doc__.splitlines()[0])
    p.add_argument('--hosts', type=int, default=1000)
    p.add_argument('--instances', type=int, default=20000)
    p.add_argument('--aggregates', type=int, default=4)
    p.add_argument('--churn-per-s', type=float, default=500.0)
    p.add_argument('--duration-s', type=float, default=60.0)
    p.add_argument('--tick-s', type=float, default=0.2,
                   help='churn tick (changes are applied in ticks)')
    p.add_argument('--pool-size', type=int, default=32)
    p.add_argument('--seed', type=int, default=1)
    args = p.parse_args(argv)
    for name in ('hosts', 'instances', 'pool_size'):
        if getattr(args, name) < 1:
            p.error('--%s must be >= 1' % name.replace('_', '-'))
    if not args.churn_per_s > 0 or not args.duration_s > 0:
        p.error('--churn-per-s and --duration-s must be > 0')
    _report.emit(run(args))


if __name__ == '__main__':
    main()

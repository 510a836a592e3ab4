"""Audit benchmark: ``audit create`` to stored plan, through the daemon.

The engine runs as a subprocess with its embedded simulator (``--hosts``
hosts, ``--instances`` instances, ``--latency-ms`` per request) and
``[audit] max_model_age = 0``, so every audit triggers a model build (or
joins the one in flight). After the start-up model refresh has finished:

1. one ``server_consolidation`` audit: POST to SUCCEEDED as the client
   sees it (``single_wall_s``), and the stored timings (build, strategy);
2. ``--concurrent`` audits POSTed at once (``[audit]
   max_concurrent_audits`` = that number): time until the last one is
   SUCCEEDED (``concurrent_wall_s``) and the number of model builds they
   caused (``concurrent_builds``; sharing means 1).

Bounds: ``single_bound_s = build_s + strategy_s + 1`` (1 s for the API,
the store and the client's 50 ms polling); ``concurrent_bound_s = 2 x
single_wall_s`` (they share one build; the strategies run in parallel on a
2-core machine under the GIL, so up to ``concurrent`` strategy times).

    python -m benchmarks.audit --hosts 1000 --instances 20000 \\
        --latency-ms 50 --concurrent 10
"""

import argparse
import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests

from benchmarks import _report

FINAL = ('SUCCEEDED', 'FAILED', 'CANCELLED')


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _config(args, tmp, port):
    return f"""
[DEFAULT]
state_path = {tmp}
log_file = {tmp}/engine.log
enabled_power_drivers = fake

[conductor]
workers_pool_size = {args.pool_size}

[collector]
period = 86400
max_age = 86400
build_timeout = 3600

[audit]
max_model_age = 0
max_concurrent_audits = {args.concurrent}

[api]
port = {port}

[simulator]
embedded = true
hosts = {args.hosts}
instances = {args.instances}
aggregates = 10
azs = 3
seed = 1
latency_ms = {args.latency_ms}
"""


class Daemon:
    def __init__(self, args, tmp):
        self.port = _free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        path = os.path.join(tmp, 'engine.conf')
        with open(path, 'w') as handle:
            handle.write(_config(args, tmp, self.port))
        self.log = os.path.join(tmp, 'engine.log')
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'decision_engine.cmd.engine',
             '--config-file', path], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)

    def get(self, path):
        return requests.get(self.url + path, timeout=60).json()

    def wait(self, predicate, what, timeout=3600):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise SystemExit('engine exited (%s); see %s'
                                 % (self.proc.returncode, self.log))
            try:
                value = predicate()
                if value:
                    return value
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit('timed out waiting for %s' % what)
            time.sleep(0.05)

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(120)


def _audits(daemon, count):
    def create(_):
        return requests.post(daemon.url + '/v1/audits', json={
            'strategy': 'server_consolidation'}, timeout=60).json()['uuid']

    t0 = time.perf_counter()
    # All at once, as a burst of clients would.
    with concurrent.futures.ThreadPoolExecutor(count) as executor:
        uuids = list(executor.map(create, range(count)))
    done = {}

    def all_done():
        for uuid in uuids:
            if uuid not in done:
                audit = daemon.get('/v1/audits/' + uuid)
                if audit['state'] in FINAL:
                    done[uuid] = (audit, time.perf_counter() - t0)
        return len(done) == len(uuids)
    daemon.wait(all_done, '%d audit(s)' % count)
    return [done[u] for u in uuids]


def run(args):
    with tempfile.TemporaryDirectory() as tmp:
        daemon = Daemon(args, tmp)
        try:
            started = time.perf_counter()
            daemon.wait(lambda: (daemon.get('/v1/model').get(
                'collector') or {}).get('builds'), 'the start-up build')
            startup = time.perf_counter() - started
            builds0 = daemon.get('/v1/model')['collector']['builds']
            [(single, single_wall)] = _audits(daemon, 1)
            assert single['state'] == 'SUCCEEDED', single['state_reason']
            builds1 = daemon.get('/v1/model')['collector']['builds']
            many = _audits(daemon, args.concurrent)
            builds2 = daemon.get('/v1/model')['collector']['builds']
            plan = daemon.get('/v1/action_plans/%s'
                              % single['last_action_plan_uuid'])
        finally:
            daemon.stop()
    states = sorted({a['state'] for a, _ in many})
    concurrent_wall = max(w for _, w in many)
    single_bound = single['build_seconds'] + single['strategy_seconds'] + 1
    result = {
        'hosts': args.hosts, 'instances': args.instances,
        'latency_ms': args.latency_ms, 'pool_size': args.pool_size,
        'startup_model_s': round(startup, 2),
        'single_wall_s': round(single_wall, 2),
        'single_build_s': round(single['build_seconds'], 2),
        'single_strategy_s': round(single['strategy_seconds'], 2),
        'single_builds': builds1 - builds0,
        'single_bound_s': round(single_bound, 2),
        'single_ratio': round(single_wall / single_bound, 3),
        'plan_actions': len(plan['actions']),
        'plan_hosts_released': plan['indicators']['hosts_released'],
        'concurrent': args.concurrent,
        'concurrent_states': states,
        'concurrent_wall_s': round(concurrent_wall, 2),
        'concurrent_builds': builds2 - builds1,
        'concurrent_strategy_s_max': round(max(
            a['strategy_seconds'] for a, _ in many), 2),
        'concurrent_bound_s': round(2 * single_wall, 2),
        'concurrent_ratio': round(concurrent_wall / (2 * single_wall), 3),
    }
    _report.emit(result)
    return 0 if states == ['SUCCEEDED'] else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--hosts', type=int, default=1000)
    parser.add_argument('--instances', type=int, default=20000)
    parser.add_argument('--latency-ms', type=float, default=50.0)
    parser.add_argument('--pool-size', type=int, default=100)
    parser.add_argument('--concurrent', type=int, default=10)
    return run(parser.parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())

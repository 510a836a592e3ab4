"""Several engines as one: sweep speed-up, exactly-once polls, takeover.

Starts ``--engines`` real engine processes (the daemon, each with its own
API port and ``[DEFAULT] host``) on one PostgreSQL schema and one
coordination backend. They poll ``--nodes`` BMCs answering after
``--bmc-latency-ms``: with ``--driver redfish`` (the default), the redfish
driver reads the simulated Redfish systems of the BMC farm, in a process
of its own; with ``--driver fake``, the fake driver waits that long. The
backend is ``--backend redis`` (127.0.0.1:6379 with a group prefix of its
own) or ``etcd3`` (an etcd of its own from Debian's etcd-server on free
ports).

1. ``single_engine_sweep_s``: one engine alone sweeps ``--nodes`` nodes.
2. ``cluster_sweep_s``: after the ring of ``--engines`` engines settled,
   the longest of their next sweeps; ``scale_efficiency`` = single /
   (engines x cluster).
3. ``polled_exactly_once``/``duplicate_polls``: after the ring settled and
   every engine swept once more, how many engines polled each node (each
   engine's power-state records, ``last_attempt``, from ``/v1/status``).
4. ``takeover_kill9_s``: SIGKILL one engine; seconds until the survivors'
   ring covers every node (``node_share`` sums to ``--nodes``);
   ``kill9_moved_nodes_polled_s``: until every node it owned was polled by
   a survivor. ``audits_lost``: of ``--audits`` ONESHOT audits submitted
   around the kill (one of them ONGOING on the killed engine), those not
   ended on a survivor.
5. ``takeover_sigterm_s``: SIGTERM another engine; seconds until the
   survivors' ring covers every node.

Targets (issue 14): ``scale_efficiency`` >= 0.8, ``polled_exactly_once``,
``takeover_kill9_s`` <= membership_timeout + sync_interval + 2,
``takeover_sigterm_s`` <= 2, ``audits_lost`` 0::

    python -m benchmarks.scale_out --engines 3 --nodes 1500 \\
        --bmc-latency-ms 500 --sync-workers 50 --backend redis
"""

import argparse
import json
import os
import pathlib
import signal
import tempfile
import time
import urllib.request

import sqlalchemy as sa

from benchmarks import _bmc_farm
from benchmarks import _report
from decision_engine.common import states
from tests.fixtures import coordination
from tests.fixtures import dbfixtures
from tests.fixtures import engine_process

GUARD = 300
FINAL = (states.SUCCEEDED, states.FAILED, states.CANCELLED)


def _parser():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--engines', type=int, default=3)
    parser.add_argument('--nodes', type=int, default=1500)
    parser.add_argument('--bmc-latency-ms', type=float, default=500)
    parser.add_argument('--sync-workers', type=int, default=50)
    parser.add_argument('--backend', choices=coordination.BACKENDS,
                        default='redis')
    parser.add_argument('--membership-timeout', type=int, default=10)
    parser.add_argument('--sync-interval', type=int, default=30)
    parser.add_argument('--audits', type=int, default=12)
    parser.add_argument('--driver', choices=('redfish', 'fake'),
                        default='redfish',
                        help='redfish: the BMC farm over HTTP (default); '
                             'fake: the fake driver\'s bmc_delay')
    return parser


class _Engine(engine_process.EngineProcess):

    def __init__(self, tmp, host, args, backend, store_url, prefix,
                 farm=None):
        super().__init__(tmp / host)
        self.host = host
        self.driver = 'fake' if farm is None else 'redfish'
        self.port = coordination.free_port()
        nodes = ['node-%05d' % i for i in range(args.nodes)]
        self.write_config(
            debug=False, sync_interval=args.sync_interval,
            bmc_delay=args.bmc_latency_ms / 1000.0, nodes=nodes, extra=f"""
[DEFAULT]
host = {host}

[conductor]
workers_pool_size = {args.sync_workers * 2 + 8}
periodic_max_workers = {args.sync_workers}

[power]
sync_workers = {args.sync_workers}

[database]
connection = {store_url}

[coordination]
backend_url = {backend}
group_prefix = {prefix}
membership_timeout = {args.membership_timeout}
heartbeat_interval = 1
watcher_interval = 0.5

[audit]
continuous_check_interval = 1

[redfish]
# NOTE: the farm serves every system on one port, where real BMCs have
# one each: that one address may keep as many connections as the sweep
# has workers.
lean_connections_per_bmc = {args.sync_workers}
""")
        text = self.config_path.read_text()
        text = text.replace('[api]\nenabled = false\n',
                            '[api]\nenabled = true\nport = %d\n' % self.port)
        text = text.replace('workers_pool_size = 3\n', '')
        if farm is not None:
            text = text.replace('enabled_power_drivers = fake',
                                'enabled_power_drivers = redfish')
            self.inventory_path.write_text(''.join(
                '- hostname: %s\n  driver: redfish\n  driver_info: %s\n'
                % (node, json.dumps(farm.driver_info(i)))
                for i, node in enumerate(nodes)))
        self.config_path.write_text(text)

    def status(self):
        with urllib.request.urlopen('http://127.0.0.1:%d/v1/status'
                                    % self.port, timeout=30) as answer:
            return json.loads(answer.read())

    def create_audit(self):
        request = urllib.request.Request(
            'http://127.0.0.1:%d/v1/audits' % self.port, method='POST',
            data=json.dumps({'strategy': 'dummy'}).encode(),
            headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())['uuid']


def _wait(predicate, what, timeout=GUARD):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit('scale_out: timed out waiting for %s' % what)
        time.sleep(0.1)


def _sweeps(engine):
    return engine.status()['power_sweeps'][engine.driver]


def _next_sweep(engines):
    """Wait for a sweep of every engine to start and end after now;
    :returns: the longest duration."""
    first = {e.host: _sweeps(e)['sweeps'] for e in engines}
    _wait(lambda: all(_sweeps(e)['sweeps'] >= first[e.host] + 2
                      for e in engines), 'sweeps')
    return max(_sweeps(e)['last_duration'] for e in engines)


def _members_are(engines, expected):
    return all(set(e.status()['cluster']['members']) == expected
               for e in engines)


def _covered(engines, nodes):
    return sum(e.status()['node_share'][e.driver] for e in engines) == nodes


def _polled_since(engine, since):
    return {h for h, r in engine.status()['power_states'].items()
            if (r['last_attempt'] or 0) > since}


def _start(engines):
    for engine in engines:
        engine.start()
    for engine in engines:
        engine.notify.wait_for('READY', timeout=GUARD)


def _audit_rows(store_url):
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            return {r.uuid: r for r in conn.execute(sa.text(
                'SELECT uuid, state, owner FROM audits'))}
    finally:
        engine.dispose()


def _mark_ongoing(store_url, uuid, owner):
    engine = sa.create_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE audits SET state = 'ONGOING', "
                                 "owner = :o WHERE uuid = :u"),
                         {'o': owner, 'u': uuid})
    finally:
        engine.dispose()


def run(args, tmp, backend, store_url, farm=None):
    prefix = coordination.unique_prefix()
    result = {'engines': args.engines, 'nodes': args.nodes,
              'backend': args.backend, 'driver': args.driver,
              'membership_timeout_s': args.membership_timeout,
              'sync_interval_s': args.sync_interval}
    alone = _Engine(tmp / 'single', 'engine-alone', args, backend,
                    store_url, prefix + '-single', farm)
    try:
        _start([alone])
        result['single_engine_sweep_s'] = round(_next_sweep([alone]), 2)
    finally:
        alone.stop()

    engines = [_Engine(tmp, 'engine-%d' % i, args, backend, store_url,
                       prefix, farm) for i in range(args.engines)]
    hosts = {e.host for e in engines}
    try:
        _start(engines)
        _wait(lambda: _members_are(engines, hosts), 'the ring to settle')
        # NOTE: a poll records its time when the BMC answers: one begun
        # just before the last ring change ends up to one latency later.
        settled = time.time() + args.bmc_latency_ms / 1000.0
        result['cluster_sweep_s'] = round(_next_sweep(engines), 2)
        result['scale_efficiency'] = round(
            result['single_engine_sweep_s']
            / (args.engines * result['cluster_sweep_s']), 3)
        polled = {e.host: _polled_since(e, settled) for e in engines}
        counts = [sum(node in p for p in polled.values())
                  for node in set().union(*polled.values())]
        result['polled_exactly_once'] = (
            len(counts) == args.nodes and set(counts) == {1})
        result['duplicate_polls'] = sum(c - 1 for c in counts)
        result['node_shares'] = sorted(len(p) for p in polled.values())

        victim, survivors = engines[0], engines[1:]
        audits = [survivors[0].create_audit()]
        _wait(lambda: _audit_rows(store_url)[audits[0]].state in FINAL,
              'the first audit')
        _mark_ongoing(store_url, audits[0], victim.host)
        # NOTE: the whole process group (see tests/functional/coordination).
        os.killpg(victim.proc.pid, signal.SIGKILL)
        killed = time.time()
        audits += [survivors[i % len(survivors)].create_audit()
                   for i in range(args.audits - 1)]
        _wait(lambda: _covered(survivors, args.nodes), 'the kill -9 takeover')
        result['takeover_kill9_s'] = round(time.time() - killed, 2)
        moved = polled[victim.host]
        _wait(lambda: not moved - set().union(
            *(_polled_since(s, killed) for s in survivors)),
            'the moved nodes to be polled')
        result['kill9_moved_nodes_polled_s'] = round(time.time() - killed, 2)
        try:
            _wait(lambda: all(_audit_rows(store_url)[u].state in FINAL
                              for u in audits), 'the audits', timeout=120)
        except SystemExit:
            pass
        rows = _audit_rows(store_url)
        live = {s.host for s in survivors}
        result['audits_lost'] = sum(
            1 for u in audits
            if rows[u].state not in FINAL or rows[u].owner not in live)

        leaving, staying = survivors[0], survivors[1:]
        if staying:
            leaving.signal(signal.SIGTERM)
            stopped = time.time()
            _wait(lambda: _covered(staying, args.nodes),
                  'the SIGTERM handover')
            result['takeover_sigterm_s'] = round(time.time() - stopped, 2)
    finally:
        for engine in engines:
            engine.stop()
    bound = args.membership_timeout + args.sync_interval + 2
    result['takeover_kill9_ratio_to_bound'] = round(
        result['takeover_kill9_s'] / bound, 3)
    result['takeover_sigterm_ratio_to_bound'] = round(
        result.get('takeover_sigterm_s', 0) / 2, 3)
    result['scale_efficiency_ratio_to_bound'] = round(
        result['scale_efficiency'] / 0.8, 3)
    return result


def main(argv=None):
    args = _parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='scale-out-') as tmp:
        tmp = pathlib.Path(tmp)
        with coordination.backend_url(args.backend, tmp) as backend, \
                dbfixtures.postgres_url() as store_url:
            dbfixtures.open_store(store_url).dispose()
            farm = _bmc_farm.Farm(args.nodes, args.bmc_latency_ms) \
                if args.driver == 'redfish' else None
            try:
                _report.emit(run(args, tmp, backend, store_url, farm))
            finally:
                if farm is not None:
                    farm.stop()


if __name__ == '__main__':
    main()

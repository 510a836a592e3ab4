"""Measure the simulator itself: ``python -m
decision_engine.simulator.throughput [--hosts N --instances M]``.

Starts the simulator CLI in a subprocess (its own core, as benchmarks run
it), then from one keep-alive ``http.client`` connection: per-host
``servers/detail?host=X&all_tenants=1`` for every host, per-RP Placement
inventories, and the full ``all_tenants`` listing following next links;
then per-host listings from several connections at once.  The server's
CPU time comes from /proc.  Last line: a JSON object.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time


def _server_cpu(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def main(argv=None):
    p = argparse.ArgumentParser(prog='decision_engine.simulator.throughput')
    p.add_argument('--hosts', type=int, default=1000)
    p.add_argument('--instances', type=int, default=20000)
    p.add_argument('--connections', type=int, default=4)
    args = p.parse_args(argv)
    proc = subprocess.Popen(
        [sys.executable, '-m', 'decision_engine.simulator', '--quiet',
         '--hosts', str(args.hosts), '--instances', str(args.instances)],
        stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().split()[-1]
        host, port = url[len('http://'):].rsplit(':', 1)
        result = _measure(host, int(port), url, proc.pid, args)
    finally:
        proc.terminate()
        proc.wait()
    print(json.dumps(result))


def _measure(host, port, url, pid, args):
    conn = http.client.HTTPConnection(host, port)
    auth = {'auth': {'identity': {'methods': ['password'], 'password': {
        'user': {'name': 'admin', 'password': 'secret',
                 'domain': {'name': 'Default'}}}},
        'scope': {'project': {'name': 'admin',
                              'domain': {'name': 'Default'}}}}}
    conn.request('POST', '/identity/v3/auth/tokens', json.dumps(auth),
                 {'Content-Type': 'application/json'})
    resp = conn.getresponse()
    resp.read()
    headers = {'X-Auth-Token': resp.getheader('X-Subject-Token'),
               'OpenStack-API-Version': 'compute 2.88',
               'Accept': 'application/json'}

    def get(path, c=conn):
        c.request('GET', path, headers=headers)
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError('%s -> %d' % (path, r.status))
        return body

    hypervisors = json.loads(get(
        '/compute/v2.1/os-hypervisors/detail'))['hypervisors']
    names = [h['hypervisor_hostname'] for h in hypervisors]
    per_host = ['/compute/v2.1/servers/detail?all_tenants=1&host=%s'
                '&limit=1000' % n for n in names]
    out = {'hosts': args.hosts, 'instances': args.instances}

    def timed(key, paths, parse=False):
        cpu0, t0 = _server_cpu(pid), time.perf_counter()
        for path in paths:
            body = get(path)
            if parse:
                json.loads(body)
        wall = time.perf_counter() - t0
        out[key + '_requests_per_s'] = round(len(paths) / wall)
        out[key + '_server_cpu_us_per_request'] = round(
            (_server_cpu(pid) - cpu0) / len(paths) * 1e6, 1)

    timed('per_host_servers', per_host)
    timed('inventories', ['/placement/resource_providers/%s/inventories'
                          % h['id'] for h in hypervisors])
    t0 = time.perf_counter()
    path, pages, total = '/compute/v2.1/servers/detail?all_tenants=1', 0, 0
    while path:
        doc = json.loads(get(path))
        pages += 1
        total += len(doc['servers'])
        links = doc.get('servers_links')
        path = links[0]['href'][len(url):] if links else None
    out['full_listing_s'] = round(time.perf_counter() - t0, 3)
    out['full_listing_pages'] = pages
    out['full_listing_servers'] = total

    def worker(counts):
        c = http.client.HTTPConnection(host, port)
        for p in per_host:
            get(p, c)
        counts.append(len(per_host))
        c.close()
    counts = []
    threads = [threading.Thread(target=worker, args=(counts,))
               for _ in range(args.connections)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out['parallel_connections'] = args.connections
    out['parallel_requests_per_s'] = round(
        sum(counts) / (time.perf_counter() - t0))
    conn.close()
    return out


if __name__ == '__main__':
    main()

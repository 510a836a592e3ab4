"""The simulated cloud's load as Prometheus metrics (text exposition).

One HTTP endpoint, ``GET /metrics``, serves what a real deployment's
exporters would give Prometheus, in the text exposition format (``# HELP``,
``# TYPE``, ``name{label="value",...} number`` lines):

* per host, node_exporter's ``node_cpu_seconds_total`` (a counter per
  ``cpu`` and ``mode``: ``idle`` and ``user``), ``node_memory_MemTotal_bytes``
  and ``node_memory_MemAvailable_bytes``, labelled with the Nova hostname
  in ``fqdn`` (what a scrape config's target labels give each
  node_exporter; with ``host_label='instance'`` the label is
  ``instance="<hostname>:9100"`` instead, as a target address);
* per running instance, Ceilometer's ``ceilometer_cpu`` (CPU time in
  nanoseconds, a counter) and ``ceilometer_memory_usage`` (MiB in use),
  labelled ``resource`` (the uuid) and ``project``.

The series carry their own target labels, so the scrape config sets
``honor_labels: true``. ``names`` renames metrics and labels (to exercise a
datasource's metric map) and ``hidden`` leaves chosen hosts and instances
out (missing metrics).

Counters advance at each scrape (and at :meth:`LoadExporter.advance`) by the
:class:`~decision_engine.simulator.load.LoadModel`'s exact CPU demand of
the instances on each host *at that moment* in the topology, so a migration
moves the load with the instance. A host cannot run more than its physical
cores: when demand exceeds them, every instance on it gets the same share
(contention). :meth:`LoadExporter.truth` gives the ground truth over a
window from the exporter's own samples.
"""

import bisect
import collections
import http.server
import threading
import time

from decision_engine.simulator import load as load_mod

DEFAULT_NAMES = {
    'node_cpu_seconds_total': 'node_cpu_seconds_total',
    'node_memory_MemTotal_bytes': 'node_memory_MemTotal_bytes',
    'node_memory_MemAvailable_bytes': 'node_memory_MemAvailable_bytes',
    'ceilometer_cpu': 'ceilometer_cpu',
    'ceilometer_memory_usage': 'ceilometer_memory_usage',
    'fqdn': 'fqdn', 'instance': 'instance', 'mode': 'mode',
    'resource': 'resource',
}
RUNNING = frozenset(['active'])
MIB = 1048576
#: CPU cores and RAM (MiB) each host uses for itself.
HOST_OVERHEAD_CORES = 0.25
HOST_OVERHEAD_MB = 1024
_HISTORY = 4096


class LoadExporter:
    """See the module docstring.

    :param topology: the simulator's :class:`Topology` (shared: instance
        ``host`` changes are seen at the next scrape).
    :param clock: ``time.time``-like (tests may pass a fake one).
    """

    def __init__(self, topology, model=None, names=None, host_label='fqdn',
                 clock=time.time):
        self.topology = topology
        self.model = model or load_mod.LoadModel()
        self.names = dict(DEFAULT_NAMES, **(names or {}))
        self.host_label = host_label
        self.hidden = set()
        self._clock = clock
        self._lock = threading.Lock()
        self._last = None
        self.host_busy = collections.defaultdict(float)    # core-seconds
        self.host_elapsed = collections.defaultdict(float)  # seconds
        self.inst_cpu = collections.defaultdict(float)     # core-seconds
        self.host_mem_used = {}
        self.inst_mem = {}
        self._history = collections.defaultdict(
            lambda: collections.deque(maxlen=_HISTORY))
        self.scrapes = 0

    # -- the model -----------------------------------------------------------

    def advance(self, now=None):
        """Move the counters to ``now``."""
        with self._lock:
            self._advance(self._clock() if now is None else now)

    def _advance(self, now):
        if self._last is None:
            self._last = now
            self._sample_memory(now)
            self._record(now)
            return
        t0, dt = self._last, now - self._last
        if dt <= 0:
            return
        by_host = collections.defaultdict(list)
        for inst in self.topology.instances:
            if inst.host is not None and inst.vm_state in RUNNING:
                by_host[inst.host].append(inst)
        for host in self.topology.hosts:
            insts = by_host.get(host.hostname, ())
            demand = [self.model.cpu_seconds(i.uuid, i.flavor.vcpus, t0, now)
                      for i in insts]
            wanted = sum(demand) + HOST_OVERHEAD_CORES * dt
            room = host.vcpus * dt
            scale = min(1.0, room / wanted) if wanted > 0 else 1.0
            for inst, d in zip(insts, demand):
                self.inst_cpu[inst.uuid] += d * scale
            self.host_busy[host.hostname] += wanted * scale
            self.host_elapsed[host.hostname] += dt
        self._last = now
        self._sample_memory(now, by_host)
        self._record(now)

    def _sample_memory(self, now, by_host=None):
        if by_host is None:
            by_host = collections.defaultdict(list)
            for inst in self.topology.instances:
                if inst.host is not None and inst.vm_state in RUNNING:
                    by_host[inst.host].append(inst)
        for host in self.topology.hosts:
            used = HOST_OVERHEAD_MB
            for inst in by_host.get(host.hostname, ()):
                mem = self.model.memory_mb(inst.uuid, inst.flavor.ram, now)
                self.inst_mem[inst.uuid] = mem
                used += mem
            self.host_mem_used[host.hostname] = min(used, host.memory_mb)

    def _record(self, now):
        for host in self.topology.hosts:
            name = host.hostname
            self._history[name].append(
                (now, self.host_busy[name], self.host_mem_used[name]))
        for uuid, mem in self.inst_mem.items():
            self._history[uuid].append((now, self.inst_cpu[uuid], mem))

    def truth(self, name, kind, window, end=None):
        """Ground truth of host or instance ``name`` over ``[end - window,
        end]``: ``kind`` ``'cpu'`` (hosts: percent of cores busy;
        instances: cores) or ``'ram'`` (MiB, mean of the samples); None
        with fewer than two samples in the window."""
        with self._lock:
            samples = list(self._history.get(name, ()))
        end = samples[-1][0] if end is None and samples else end
        times = [s[0] for s in samples]
        lo = bisect.bisect_left(times, end - window)
        hi = bisect.bisect_right(times, end)
        inside = samples[lo:hi]
        if len(inside) < 2:
            return None
        if kind == 'ram':
            return sum(s[2] for s in inside) / len(inside)
        (ta, ca, _), (tb, cb, _) = inside[0], inside[-1]
        cores = (cb - ca) / (tb - ta)
        host = next((h for h in self.topology.hosts if h.hostname == name),
                    None)
        return cores / host.vcpus * 100.0 if host is not None else cores

    # -- exposition ----------------------------------------------------------

    def render(self, now=None):
        """The text exposition of every visible series, after advancing."""
        with self._lock:
            self._advance(self._clock() if now is None else now)
            self.scrapes += 1
            return self._render()

    def _host_labels(self, hostname):
        if self.host_label == 'instance':
            return '%s="%s:9100"' % (self.names['instance'], hostname)
        return '%s="%s"' % (self.names['fqdn'], hostname)

    def _render(self):
        n = self.names
        out = []
        cpu, total, avail = (n['node_cpu_seconds_total'],
                             n['node_memory_MemTotal_bytes'],
                             n['node_memory_MemAvailable_bytes'])
        out += ['# HELP %s Seconds the CPUs spent in each mode.' % cpu,
                '# TYPE %s counter' % cpu]
        hosts = [h for h in self.topology.hosts if h.hostname not in
                 self.hidden]
        for host in hosts:
            labels = self._host_labels(host.hostname)
            per_cpu_busy = self.host_busy[host.hostname] / host.vcpus
            idle = self.host_elapsed[host.hostname] - per_cpu_busy
            for c in range(host.vcpus):
                for mode, value in (('idle', idle), ('user', per_cpu_busy)):
                    out.append('%s{cpu="%d",%s,%s="%s"} %.6f' % (
                        cpu, c, labels, n['mode'], mode, value))
        for metric, help_text in (
                (total, 'Memory information field MemTotal_bytes.'),
                (avail, 'Memory information field MemAvailable_bytes.')):
            out += ['# HELP %s %s' % (metric, help_text),
                    '# TYPE %s gauge' % metric]
            for host in hosts:
                value = host.memory_mb * MIB if metric == total else (
                    host.memory_mb - self.host_mem_used[host.hostname]) * MIB
                out.append('%s{%s} %.1f' % (
                    metric, self._host_labels(host.hostname), value))
        running = [i for i in self.topology.instances
                   if i.host is not None and i.vm_state in RUNNING
                   and i.uuid not in self.hidden and i.uuid in self.inst_mem]
        ceil_cpu, ceil_mem = n['ceilometer_cpu'], n['ceilometer_memory_usage']
        out += ['# HELP %s CPU time used, in nanoseconds.' % ceil_cpu,
                '# TYPE %s counter' % ceil_cpu]
        for inst in running:
            out.append('%s{%s="%s",project="%s"} %.0f' % (
                ceil_cpu, n['resource'], inst.uuid, inst.project_id,
                self.inst_cpu[inst.uuid] * 1e9))
        out += ['# HELP %s Memory used by the instance, in MiB.' % ceil_mem,
                '# TYPE %s gauge' % ceil_mem]
        for inst in running:
            out.append('%s{%s="%s",project="%s"} %.3f' % (
                ceil_mem, n['resource'], inst.uuid, inst.project_id,
                self.inst_mem[inst.uuid]))
        return '\n'.join(out) + '\n'


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        if self.path.split('?')[0] != '/metrics':
            self.send_error(404)
            return
        body = self.server.exporter.render().encode()
        self.send_response(200)
        self.send_header('Content-Type',
                         'text/plain; version=0.0.4; charset=utf-8')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ExporterServer:
    """Serve a :class:`LoadExporter` on ``host:port`` (0: any free port)."""

    def __init__(self, exporter, host='127.0.0.1', port=0):
        self.exporter = exporter
        self._httpd = http.server.ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.exporter = exporter
        self._thread = None

    @property
    def address(self):
        host, port = self._httpd.server_address[:2]
        return '%s:%d' % (host, port)

    def start(self):
        self.exporter.advance()
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        name='load-exporter', daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

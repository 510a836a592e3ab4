"""The built-in simulated cloud, run in a child process.

The engine starts it when ``[simulator] embedded = true``; the model build
benchmark starts it the same way so that the simulator has a CPU of its own.

The child runs ``python -m decision_engine.simulator`` in a new session
(``start_new_session=True``): cotyledon signals its whole process group on
SIGHUP and SIGTERM, and the simulator must outlive neither a reload nor be
killed before the engine has stopped using it. :meth:`stop` ends it.
"""

import ctypes
import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.request

LOG = logging.getLogger(__name__)

_READY_PREFIX = 'decision-engine-simulator listening on '
_EXPORTER_PREFIX = 'load exporter: '


def _die_with_parent():
    """In the child: get SIGTERM when the engine process dies, so a killed
    engine (SIGKILL, crash) leaves no simulator behind (Linux only).

    NOTE: Linux sends it when the *thread* that started the child ends. The
    engine starts it from a pool worker, and pool workers live until the
    pool shuts down, right before the collector stops the simulator anyway.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)       # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class SimulatorStartError(RuntimeError):
    """The simulator child did not start listening."""


class TopologyFileError(ValueError):
    """``[simulator] topology_file`` cannot be used; one line says why."""


def check_files(conf):
    """Check ``[simulator] topology_file`` before the engine starts: it is
    read and parsed as JSON here, its content is the simulator's to check.

    Without this, a missing file only shows as failing model builds of an
    engine that keeps running.

    :raises TopologyFileError: naming the file and what is wrong.
    """
    path = conf.simulator.topology_file
    if not (conf.simulator.embedded and path):
        return
    try:
        with open(path, encoding='utf-8') as handle:
            json.load(handle)
    except OSError as exc:
        raise TopologyFileError('[simulator] topology_file %s: cannot be '
                                'read: %s' % (path, exc.strerror or exc))
    except UnicodeDecodeError as exc:
        raise TopologyFileError('[simulator] topology_file %s: not UTF-8 '
                                'text (byte %d)' % (path, exc.start))
    except (ValueError, RecursionError) as exc:
        raise TopologyFileError('[simulator] topology_file %s: not valid '
                                'JSON: %s' % (path, ' '.join(
                                    str(exc).split()) or 'nested too '
                                    'deeply'))


class EmbeddedSimulator:
    """A ``decision-engine-simulator`` child process on a loopback port.

    :param hosts, instances, aggregates, azs, seed: generated topology.
    :param topology_file: JSON topology instead of a generated one.
    :param latency_ms: latency added to each request.
    :param neutron_latency_ms: latency of each Neutron query Nova's server
        listings would cost (``--neutron-latency-ms``).
    :param extra_args: more command-line flags (e.g. ``--fault ...``).
    :param exporter_port: also serve the load model as Prometheus metrics
        on this port (0: a free one); :attr:`exporter_address` is then
        ``host:port``.
    :param load_seed: seed of the exporter's load model.
    """

    def __init__(self, hosts=50, instances=500, aggregates=3, azs=2, seed=1,
                 topology_file=None, latency_ms=0.0, token_ttl=3600.0,
                 host='127.0.0.1', port=0, start_timeout=60.0,
                 extra_args=(), exporter_port=None, load_seed=0,
                 neutron_latency_ms=0.0):
        self.args = ['--host', host, '--port', str(port),
                     '--latency-ms', repr(float(latency_ms)),
                     '--neutron-latency-ms', repr(float(neutron_latency_ms)),
                     '--token-ttl-s', repr(float(token_ttl)), '--quiet']
        if topology_file:
            self.args += ['--topology', topology_file]
        else:
            self.args += ['--hosts', str(hosts), '--instances',
                          str(instances), '--aggregates', str(aggregates),
                          '--azs', str(azs), '--seed', str(seed)]
        if exporter_port is not None:
            self.args += ['--exporter-port', str(exporter_port),
                          '--load-seed', str(load_seed)]
        self.args += list(extra_args)
        self.exporter_port = exporter_port
        self.start_timeout = start_timeout
        self.process = None
        self.url = None
        self.exporter_address = None

    @classmethod
    def from_conf(cls, conf):
        group = conf.simulator
        return cls(hosts=group.hosts, instances=group.instances,
                   aggregates=group.aggregates, azs=group.azs,
                   seed=group.seed, topology_file=group.topology_file,
                   latency_ms=group.latency_ms, token_ttl=group.token_ttl,
                   host=group.host, port=group.port,
                   start_timeout=group.start_timeout,
                   exporter_port=group.exporter_port,
                   load_seed=group.load_seed,
                   extra_args=[
                       '--migration-s', repr(group.migration_seconds),
                       '--migration-jitter', repr(group.migration_jitter),
                       '--migration-fail-ratio',
                       repr(group.migration_fail_ratio)])

    # -- life cycle ----------------------------------------------------------

    def start(self):
        """Start the child and wait until it listens; returns self.

        :raises SimulatorStartError: naming why (exit status and stderr, or
            the timeout).
        """
        if self.process is not None:
            return self
        self.process = subprocess.Popen(
            self.command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, text=True,
            preexec_fn=_die_with_parent)
        try:
            line = self._first_line()
            exporter = (self._exporter_line()
                        if self.exporter_port is not None else None)
        except BaseException:
            self.stop()
            raise
        self.url = line[len(_READY_PREFIX):].strip()
        LOG.info('Embedded simulated cloud listening on %s (pid %d)',
                 self.url, self.process.pid)
        if exporter is not None:
            url = exporter[len(_EXPORTER_PREFIX):].strip()
            self.exporter_address = url.split('://', 1)[-1].split('/')[0]
            LOG.info('Embedded simulator load exporter on %s', url)
        return self

    def command(self):
        """The child's argv."""
        return [sys.executable, '-m', 'decision_engine.simulator'] + self.args

    def _exporter_line(self):
        # NOTE: the child prints it right after the first line, with
        # nothing in between, and may have done so already: the first
        # readline() can have buffered it, so no select() on the pipe here.
        line = self.process.stdout.readline()
        if not line.startswith(_EXPORTER_PREFIX):
            raise SimulatorStartError(
                'the simulator did not start its load exporter: %s'
                % self._why(line, time.monotonic() + self.start_timeout))
        return line

    def _first_line(self):
        deadline = time.monotonic() + self.start_timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self.process.stdout, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SimulatorStartError(
                        'the simulator did not listen within %.0f s'
                        % self.start_timeout)
                # NOTE: the child prints and flushes one whole line; a
                # readable pipe means the line (or EOF) is there.
                if sel.select(left):
                    line = self.process.stdout.readline()
                    if line.startswith(_READY_PREFIX):
                        return line
                    raise SimulatorStartError(
                        'the simulator did not start: %s'
                        % self._why(line, deadline))

    def _why(self, line, deadline):
        """The child's own words on why it did not start."""
        # NOTE: EOF on stdout comes a moment before the child can be
        # reaped: wait for its exit, or its stderr is not all there yet.
        try:
            self.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            err = ''
        else:
            err = self.process.stderr.read()
        return (' '.join((line + err).split())
                or 'exit status %s' % self.process.poll())

    def stop(self, timeout=10.0):
        """Terminate the child (SIGTERM, then SIGKILL after ``timeout``)."""
        proc, self.process = self.process, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def pid(self):
        return self.process.pid if self.process is not None else None

    # -- client side ---------------------------------------------------------

    @property
    def auth_url(self):
        return self.url + '/identity'

    def auth(self):
        """Password auth settings for keystoneauth."""
        return {'auth_url': self.auth_url, 'username': 'admin',
                'password': 'secret', 'project_name': 'admin',
                'user_domain_name': 'Default',
                'project_domain_name': 'Default'}

    def admin(self, path, method='GET', body=None):
        """Call an admin endpoint (``/_sim/...``); returns its JSON."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + '/_sim/' + path.lstrip('/'),
                                     data=data, method=method,
                                     headers={'Content-Type':
                                              'application/json'})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())

    def cpu_seconds(self):
        """CPU time (user + system) the child has used so far."""
        try:
            with open('/proc/%d/stat' % self.pid) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            return None
        ticks = os.sysconf('SC_CLK_TCK')
        return (int(fields[11]) + int(fields[12])) / ticks

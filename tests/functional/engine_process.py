"""Run the real decision-engine daemon as a subprocess, with a test
``NOTIFY_SOCKET`` standing in for systemd."""

import os
import re
import signal
import socket
import subprocess
import sys
import time

GUARD = 60


class NotifySocket:
    """A datagram socket that collects sd_notify messages."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []

    def next(self, timeout=GUARD):
        """The next message as a dict of its fields."""
        self.sock.settimeout(timeout)
        data = self.sock.recv(4096).decode()
        fields = dict(line.split('=', 1) for line in data.splitlines()
                      if '=' in line)
        self.messages.append(fields)
        return fields

    def wait_for(self, key, timeout=GUARD):
        deadline = time.monotonic() + timeout
        while True:
            fields = self.next(max(0.1, deadline - time.monotonic()))
            if key in fields:
                return fields

    def close(self):
        self.sock.close()


class EngineProcess:
    """The daemon started with a config file written by the test."""

    def __init__(self, tmp_path, backend='threading'):
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.tmp = tmp_path
        self.backend = backend
        self.config_path = tmp_path / 'decision-engine.conf'
        self.log_path = tmp_path / 'engine.log'
        self.inventory_path = tmp_path / 'inventory.yaml'
        self.notify = NotifySocket(str(tmp_path / 'notify.sock'))
        self.proc = None
        self._output = None

    def write_config(self, debug=True, sync_interval=3600, bmc_delay=0,
                     graceful=20, nodes=('compute-1',), extra=''):
        self.inventory_path.write_text(''.join(
            '- {hostname: %s, driver: fake}\n' % n for n in nodes))
        self.config_path.write_text(f"""
[DEFAULT]
debug = {debug}
log_file = {self.log_path}
concurrency_backend = {self.backend}
enabled_power_drivers = fake
state_path = {self.tmp}

[conductor]
workers_pool_size = 3
graceful_shutdown_timeout = {graceful}
stats_interval = 3600

[power]
inventory_file = {self.inventory_path}
sync_interval = {sync_interval}

[fake_power]
bmc_delay = {bmc_delay}

[collector]
enabled = false

[api]
enabled = false
{extra}
""")

    def start(self):
        env = dict(os.environ, NOTIFY_SOCKET=self.notify.path,
                   PYTHONUNBUFFERED='1')
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'decision_engine.cmd.engine',
             '--config-file', str(self.config_path)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, start_new_session=True)
        return self.proc

    def start_with_sweep_in_flight(self):
        """Start, wait for READY=1 and for the first power sweep to be on
        a pool worker (the pool never queues, so submitted is running)."""
        self.start()
        self.notify.wait_for('READY')
        self.wait_log(r"Submitting (periodic|immediate) callback "
                      r"'decision_engine.power_driver.fake.sync_power_states'")

    def log(self):
        try:
            return self.log_path.read_text()
        except FileNotFoundError:
            return ''

    def wait_log(self, pattern, count=1, timeout=GUARD):
        """Wait until ``pattern`` (a regex) is in the log ``count`` times.

        The daemon is another process: its log is the event we can see.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = re.findall(pattern, self.log())
            if len(found) >= count:
                return found
            if self.proc.poll() is not None:
                raise AssertionError('engine exited with %s while waiting '
                                     'for %r:\n%s' % (self.proc.returncode,
                                                      pattern, self.output()))
            if time.monotonic() > deadline:
                raise AssertionError('%r not logged %d times:\n%s'
                                     % (pattern, count, self.log()[-4000:]))
            time.sleep(0.05)

    def signal(self, signo):
        os.kill(self.proc.pid, signo)

    def output(self):
        """What the daemon printed, once it has exited ('' before)."""
        if self.proc.poll() is None:
            return ''
        if self._output is None:
            # communicate() reads both pipes to the end and closes them.
            out, err = self.proc.communicate()
            self._output = (out or b'').decode() + (err or b'').decode()
        return self._output

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(GUARD)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc:
            self.output()
        self.notify.close()

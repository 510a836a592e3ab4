"""The BMC farm (:mod:`decision_engine.simulator.bmc`) in a process of its
own, for the benchmarks that poll real Redfish: its CPU is not the
engines'."""

import json
import subprocess
import sys

USERNAME = 'admin'
PASSWORD = 'bench-secret'


class Farm:
    """``--systems`` simulated Redfish systems behind one loopback port,
    each answering after ``latency_ms``."""

    def __init__(self, systems, latency_ms):
        self.systems = systems
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'decision_engine.simulator.bmc',
             '--systems', str(systems), '--latency-ms', str(latency_ms),
             '--username', USERNAME, '--password', PASSWORD],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit('BMC farm did not start: %s'
                             % self.proc.stderr.read())
        self.info = json.loads(line)

    def driver_info(self, index):
        """The redfish ``driver_info`` of system number ``index``."""
        width = max(4, len(str(self.systems - 1)))
        return {'address': self.info['url'],
                'system_id': self.info['system_path'].format(
                    id='node-%0*d' % (width, index)),
                'username': USERNAME, 'password': PASSWORD,
                'auth_type': 'basic'}

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)
        self.proc.stdout.close()
        self.proc.stderr.close()

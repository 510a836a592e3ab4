"""A reload always ends with READY=1 after RELOADING=1, even when applying
it failed: with Type=notify-reload, systemctl reload waits for it.

In a subprocess: importing decision_engine.service picks oslo.service's
backend for the whole process (see decision_engine.concurrency.backend).
"""

import json
import subprocess
import sys

PROBE = '''
import json
from unittest import mock
from decision_engine.concurrency import backend
backend.select('threading')
from oslo_config import cfg
from decision_engine import service

sent = []
notifier = mock.Mock()
notifier.reloading.side_effect = lambda: sent.append('RELOADING')
notifier.ready.side_effect = lambda: sent.append('READY')
conf = cfg.ConfigOpts()
conf([], project='decision-engine-test')
engine = service.EngineService(conf, notifier, 'threading')
engine.manager = mock.Mock()
engine.reset()
engine.manager.reset.side_effect = RuntimeError('boom')
try:
    engine.reset()
except RuntimeError as exc:
    sent.append('raised %s' % exc)
print(json.dumps(sent))
'''


def test_ready_follows_reloading_even_when_the_reset_fails():
    result = subprocess.run([sys.executable, '-c', PROBE],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    sent = json.loads(result.stdout.strip().splitlines()[-1])
    assert sent == ['RELOADING', 'READY', 'RELOADING', 'READY',
                    'raised boom']

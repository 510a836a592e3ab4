"""The private parts of oslo.service and cotyledon the service relies on.

``decision_engine.service`` reaches the threading launcher's cotyledon
manager (``ServiceLauncher._manager``: oslo.service has no hook of its
own) and overrides the ``reload`` of oslo.service's cotyledon worker (so a
SIGHUP resets the worker instead of restarting it). The daemon tests show
the behaviour; these fail loudly, saying what to revisit, when either
library changes the part we use (at run time the engine only warns and
falls back to the libraries' own behaviour).
"""

import json
import subprocess
import sys

PROBE = '''
import json, sys
from decision_engine.concurrency import backend
backend.select('threading')
import cotyledon
from oslo_config import cfg
from oslo_service import service as oslo_service_mod
from oslo_service.backend._threading import service as threading_service
from decision_engine import service

class Idle(oslo_service_mod.Service):
    pass

conf = cfg.ConfigOpts()
conf([], project='decision-engine-test')
launcher = oslo_service_mod.launch(conf, Idle(), workers=1,
                                   restart_method='mutate')
manager = getattr(launcher, '_manager', None)
print(json.dumps({
    'launcher': type(launcher).__name__,
    'manager_is_cotyledon': isinstance(manager, cotyledon.ServiceManager),
    'hook_installed': service.on_new_worker(launcher, lambda w: None, 'x'),
    'wrapper_is_cotyledon_service': issubclass(
        threading_service.ServiceWrapper, cotyledon.Service),
    'reload_is_overridable': callable(
        getattr(cotyledon.Service, 'reload', None)),
}))
sys.stdout.flush()
'''


def test_the_threading_launcher_still_has_what_the_service_hooks_into():
    result = subprocess.run([sys.executable, '-c', PROBE],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {
        'launcher': 'ServiceLauncher',
        'manager_is_cotyledon': True,
        'hook_installed': True,
        'wrapper_is_cotyledon_service': True,
        'reload_is_overridable': True,
    }, ('oslo.service or cotyledon changed what decision_engine.service '
        'hooks into (ServiceLauncher._manager, ServiceWrapper.reload): '
        'SIGHUP would restart the worker and SIGUSR2 reports would be '
        'lost; revisit on_new_worker and route_sighup_to_reset')

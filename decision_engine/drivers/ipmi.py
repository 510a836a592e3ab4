"""The ``ipmi`` power driver, over pyghmi (IPMI 2.0 over LAN, UDP).

``driver_info``::

    address: 10.0.0.2      # required: BMC host name or IP address
    port: 623              # optional
    username: admin        # optional, together with password
    password: secret

Deadline: pyghmi retransmits on its own schedule (and shares one I/O thread
and one session per BMC between callers), with no timeout a caller can set.
So each call runs on a short-lived helper thread and the pool worker waits
for it at most ``[ipmi] command_timeout`` seconds: a silent BMC frees the
worker at that deadline and the poll counts as failed. The helper thread
ends by itself when pyghmi gives up (a few seconds later at most); it holds
no pool worker meanwhile.
"""

import logging
import threading

from decision_engine.drivers import base
from decision_engine.drivers import driver_info as info_checks
from decision_engine.drivers import power_state

LOG = logging.getLogger(__name__)

KNOWN_FIELDS = ('address', 'port', 'username', 'password')
_STATES = {'on': power_state.POWER_ON, 'off': power_state.POWER_OFF}
_REQUESTS = {power_state.POWER_ON: 'on', power_state.POWER_OFF: 'off'}


class IPMIPowerDriver(base.PowerDriver):
    """Power states over IPMI; see the module docstring."""

    def validate(self, driver_info):
        info_checks.check_known(driver_info, KNOWN_FIELDS, 'ipmi')
        info_checks.host(driver_info)
        info_checks.port(driver_info, 'port', 623)
        info_checks.credentials(driver_info)

    def _command(self, node):
        # NOTE: imported late: pyghmi starts its I/O thread on first use.
        from pyghmi.ipmi import command
        info = node.driver_info
        return command.Command(bmc=info_checks.host(info),
                               userid=_utf8(info.get('username')),
                               password=_utf8(info.get('password')),
                               port=info_checks.port(info, 'port', 623))

    def _call(self, node, action):
        """``action(Command)`` within ``[ipmi] command_timeout`` seconds."""
        timeout = self.conf.ipmi.command_timeout
        outcome = {}
        done = threading.Event()

        def run():
            try:
                outcome['result'] = action(self._command(node))
            except BaseException as exc:
                outcome['error'] = exc
            finally:
                done.set()

        threading.Thread(target=run, daemon=True,
                         name='ipmi-%s' % node.hostname).start()
        if not done.wait(timeout):
            raise base.PowerDriverError(
                'IPMI BMC of node %s did not answer within [ipmi] '
                'command_timeout (%s s)' % (node.hostname, timeout))
        if 'error' in outcome:
            exc = outcome['error']
            raise base.PowerDriverError(base.redact(
                'IPMI BMC of node %s: %s: %s'
                % (node.hostname, type(exc).__name__, exc), node))
        return outcome['result']

    def get_power_state(self, node):
        answer = self._call(node, lambda cmd: cmd.get_power())
        value = answer.get('powerstate') if isinstance(answer, dict) \
            else None
        state = _STATES.get(value)
        if state is None:
            raise base.PowerDriverError(
                'IPMI BMC of node %s reports power state %r'
                % (node.hostname, value))
        return state

    def set_power_state(self, node, state):
        if state not in _REQUESTS:
            raise base.InvalidDriverInfo('unknown power state %r' % (state,))
        self._call(node, lambda cmd: cmd.set_power(_REQUESTS[state]))
        LOG.info('Requested %s of node %s over IPMI', state, node.hostname)


def _utf8(value):
    # NOTE: pyghmi keys its session registry by the credentials as given
    # but forgets a session under their UTF-8 bytes: with str credentials
    # a second Command for the same BMC waits forever on a stale "logging
    # in" entry. Handing it bytes makes both keys agree.
    return value.encode('utf-8') if isinstance(value, str) else value

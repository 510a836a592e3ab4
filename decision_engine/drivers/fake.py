"""A power driver with simulated BMCs, so the engine runs with nothing else.

Each node's simulated BMC answers after ``[fake_power] bmc_delay`` seconds
(or the node's own ``driver_info.bmc_delay``). ``driver_info`` may also set
the initial ``power_state`` (``on``/``off``, default ``on``) and ``fail``
(``true`` makes every call of that BMC fail, to exercise failure handling).
"""

import threading
import time

from decision_engine.drivers import base
from decision_engine.drivers import power_state

_STATES = {'on': power_state.POWER_ON, 'off': power_state.POWER_OFF,
           power_state.POWER_ON: power_state.POWER_ON,
           power_state.POWER_OFF: power_state.POWER_OFF}
_KNOWN_FIELDS = {'power_state', 'bmc_delay', 'fail'}


class FakePowerDriver(base.PowerDriver):

    def __init__(self, conf, pool, nodes, tracker):
        super().__init__(conf, pool, nodes, tracker)
        self._lock = threading.Lock()
        # NOTE: validate() runs after construction; a bad power_state is
        # reported there, so it must not fail here.
        self._states = {node.hostname: _STATES.get(node.driver_info.get(
            'power_state', 'on'), power_state.POWER_ON)
            for node in self.nodes}

    def validate(self, driver_info):
        unknown = set(driver_info) - _KNOWN_FIELDS
        if unknown:
            raise base.InvalidDriverInfo(
                'unknown field(s) %s for the fake driver (known: %s)'
                % (', '.join(sorted(unknown)), ', '.join(sorted(
                    _KNOWN_FIELDS))))
        state = driver_info.get('power_state', 'on')
        if state not in _STATES:
            raise base.InvalidDriverInfo(
                'power_state must be "on" or "off", not %r' % (state,))
        delay = driver_info.get('bmc_delay', 0)
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) \
                or delay < 0:
            raise base.InvalidDriverInfo(
                'bmc_delay must be a number of seconds >= 0, not %r'
                % (delay,))
        if not isinstance(driver_info.get('fail', False), bool):
            raise base.InvalidDriverInfo('fail must be true or false')

    def _bmc_call(self, node):
        delay = node.driver_info.get('bmc_delay',
                                     self.conf.fake_power.bmc_delay)
        if delay:
            time.sleep(delay)
        if node.driver_info.get('fail'):
            raise base.PowerDriverError(
                'simulated BMC of %s does not answer' % node.hostname)

    def get_power_state(self, node):
        self._bmc_call(node)
        with self._lock:
            return self._states[node.hostname]

    def set_power_state(self, node, state):
        if state not in power_state.POWER_STATES:
            raise base.InvalidDriverInfo('unknown power state %r' % (state,))
        self._bmc_call(node)
        with self._lock:
            self._states[node.hostname] = state

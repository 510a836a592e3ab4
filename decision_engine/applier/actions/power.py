"""``change_node_power_state``: power a host's node on or off through the
engine's own power driver for it (redfish, ipmi, ironic or fake).

Powering off is refused (SKIPPED) while Nova still lists servers on the
host. Complete when the driver reads the target state back.
"""

from decision_engine.applier.actions import base
from decision_engine.applier.actions import nova

_TARGET = {'on': 'power on', 'off': 'power off'}


class ChangeNodePowerState(base.Action):
    schema = {
        'type': 'object',
        'properties': {
            'hostname': {'type': 'string', 'minLength': 1},
            'state': {'enum': ['on', 'off']},
        },
        'required': ['hostname', 'state'],
        'additionalProperties': False,
    }

    def __init__(self, params, context):
        super().__init__(params, context)
        self.target = _TARGET[params['state']]
        self.interval = context.conf.applier.poll_interval
        self.timeout = context.conf.applier.migration_timeout

    def _driver_node(self):
        host = self.params['hostname']
        for driver in self.context.power_drivers.values():
            for node in driver.nodes:
                if node.hostname == host:
                    return driver, node
        raise base.ActionFailed('no enabled power driver manages host %s'
                                % host)

    def _read(self):
        driver, node = self._driver_node()
        try:
            return driver.get_power_state(node)
        except Exception as exc:
            raise base.ActionFailed('reading the power state of %s: %s'
                                    % (node.hostname, exc))

    def pre_condition(self):
        self._driver_node()
        if self.params['state'] == 'off':
            response = nova.request(
                self.context.cloud, 'get', '/servers/detail?all_tenants=1'
                '&host=%s' % self.params['hostname'], nova.SERVER_READ)
            if response.status_code != 200:
                raise nova.refused('listing the servers of %s'
                                   % self.params['hostname'], response)
            servers = nova.read_json(response, 'servers',
                                     'listing the servers of %s'
                                     % self.params['hostname'])
            if servers:
                raise base.SkipAction('host %s still runs %d server(s)'
                                      % (self.params['hostname'],
                                         len(servers)))

    def execute(self):
        driver, node = self._driver_node()
        try:
            driver.set_power_state(node, self.target)
        except Exception as exc:
            raise base.ActionFailed('setting %s to %s: %s'
                                    % (node.hostname, self.target, exc))
        return self.poll()

    def poll(self):
        return None if self._read() == self.target else self.interval

    def post_condition(self):
        state = self._read()
        if state != self.target:
            raise base.ActionFailed('host %s is %s, not %s' % (
                self.params['hostname'], state, self.target))

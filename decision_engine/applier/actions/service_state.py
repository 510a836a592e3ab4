"""``change_compute_service_state``: enable or disable a host's
nova-compute service.

``PUT /os-services/{service_id} {"status": ..., "disabled_reason": ...}``
at compute microversion 2.53, the first to address a service by its uuid
(older versions only have the ``/os-services/disable`` style calls). The
service is found with ``GET /os-services?binary=nova-compute&host=H``.
"""

from decision_engine.applier.actions import base
from decision_engine.applier.actions import nova

MICROVERSION = '2.53'
DEFAULT_REASON = 'decision-engine'


class ChangeComputeServiceState(base.Action):
    schema = {
        'type': 'object',
        'properties': {
            'hostname': {'type': 'string', 'minLength': 1},
            'state': {'enum': ['enabled', 'disabled']},
            'reason': {'type': 'string', 'maxLength': 255},
        },
        'required': ['hostname', 'state'],
        'additionalProperties': False,
    }

    def _service(self):
        host = self.params['hostname']
        response = nova.request(
            self.context.cloud, 'get',
            '/os-services?binary=nova-compute&host=%s' % host,
            MICROVERSION)
        if response.status_code != 200:
            raise nova.refused('listing the services of %s' % host,
                               response)
        services = [s for s in nova.read_json(
            response, 'services', 'listing the services of %s' % host)
            if s.get('host') == host]
        return services[0] if services else None

    def pre_condition(self):
        if self._service() is None:
            raise base.SkipAction('host %s has no nova-compute service'
                                  % self.params['hostname'])

    def execute(self):
        service = self._service()
        if service is None:
            raise base.ActionFailed('host %s has no nova-compute service'
                                    % self.params['hostname'])
        state = self.params['state']
        body = {'status': state}
        if state == 'disabled':
            body['disabled_reason'] = \
                self.params.get('reason') or DEFAULT_REASON
        response = nova.request(self.context.cloud, 'put',
                                '/os-services/%s' % service['id'],
                                MICROVERSION, json=body)
        if response.status_code != 200:
            raise nova.refused('to set the compute service of %s %s' % (
                self.params['hostname'], state), response, 'put')

    def post_condition(self):
        service = self._service()
        if service is None or service['status'] != self.params['state']:
            raise base.ActionFailed(
                'the compute service of %s is %s, not %s' % (
                    self.params['hostname'],
                    service['status'] if service else 'gone',
                    self.params['state']))

"""``migrate``: move a server to a named host, live or cold.

Live: ``POST /servers/{id}/action {"os-migrateLive": {"host": dest,
"block_migration": "auto"}}`` at compute microversion 2.30: ``auto``
needs 2.25, and from 2.30 a given host is checked by the scheduler
(``force`` defaults to false) instead of being forced as before, so Nova
refuses a destination without room. Cold: ``{"migrate": {"host":
dest}}`` at 2.56 (the first version taking a host), then ``{"confirmResize":
null}`` once the server is VERIFY_RESIZE.

The action is complete when the server is ACTIVE (or SHUTOFF, for a cold
migration of a stopped server) on the destination with no task state; it
fails when the server is ERROR, when the move ends back on the source
(Nova rolled it back), or after ``[applier] migration_timeout``.
"""

from decision_engine.applier.actions import base
from decision_engine.applier.actions import nova

LIVE_MICROVERSION = '2.30'
COLD_MICROVERSION = '2.56'
_LIVE_STATUSES = ('ACTIVE', 'PAUSED')
_COLD_STATUSES = ('ACTIVE', 'SHUTOFF')
_IDLE = ('ACTIVE', 'SHUTOFF', 'PAUSED')


class Migrate(base.Action):
    schema = {
        'type': 'object',
        'properties': {
            'instance_uuid': {'type': 'string', 'minLength': 1},
            'source_node': {'type': 'string', 'minLength': 1},
            'destination_node': {'type': 'string', 'minLength': 1},
            'migration_type': {'enum': ['live', 'cold']},
        },
        'required': ['instance_uuid', 'source_node', 'destination_node',
                     'migration_type'],
        'additionalProperties': False,
    }
    is_migration = True

    def __init__(self, params, context):
        super().__init__(params, context)
        self.uuid = params['instance_uuid']
        self.source = params['source_node']
        self.dest = params['destination_node']
        self.live = params['migration_type'] == 'live'
        self.timeout = context.conf.applier.migration_timeout
        self.interval = context.conf.applier.poll_interval
        self._confirmed = False

    def _server(self):
        return nova.get_server(self.context.cloud, self.uuid)

    def pre_condition(self):
        server = self._server()
        if server is None:
            raise base.SkipAction('instance %s no longer exists'
                                  % self.uuid)
        host = nova.host_of(server)
        if host != self.source:
            raise base.SkipAction('instance %s is on %s, not on the '
                                  'source %s' % (self.uuid, host,
                                                 self.source))
        task = nova.task_of(server)
        if task is not None:
            raise base.SkipAction('instance %s is busy (task state %s)'
                                  % (self.uuid, task))
        allowed = _LIVE_STATUSES if self.live else _COLD_STATUSES
        if server['status'] not in allowed:
            raise base.SkipAction(
                'instance %s is %s; a %s migration needs %s'
                % (self.uuid, server['status'],
                   'live' if self.live else 'cold', ' or '.join(allowed)))
        if server.get('locked'):
            raise base.SkipAction('instance %s is locked' % self.uuid)

    def execute(self):
        if self.live:
            body = {'os-migrateLive': {'host': self.dest,
                                       'block_migration': 'auto'}}
            version = LIVE_MICROVERSION
        else:
            body = {'migrate': {'host': self.dest}}
            version = COLD_MICROVERSION
        response = nova.request(self.context.cloud, 'post',
                                '/servers/%s/action' % self.uuid, version,
                                json=body)
        if response.status_code != 202:
            raise nova.refused('to %s-migrate instance %s to %s' % (
                'live' if self.live else 'cold', self.uuid, self.dest),
                response, 'post')
        return self.interval

    def poll(self):
        server = self._server()
        if server is None:
            raise base.ActionFailed('instance %s disappeared while it '
                                    'migrated' % self.uuid)
        status, host, task = (server['status'], nova.host_of(server),
                              nova.task_of(server))
        if status == 'ERROR':
            fault = server.get('fault') or {}
            raise base.ActionFailed('instance %s is ERROR after its '
                                    'migration: %s' % (
                                        self.uuid, fault.get('message',
                                                             'no fault')))
        if status == 'VERIFY_RESIZE' and host == self.dest:
            self._confirm()
            return self.interval
        if task is None and status in _IDLE:
            if host == self.dest:
                return None
            if host == self.source:
                raise base.ActionFailed(
                    'the migration of instance %s ended on its source %s '
                    '(Nova rolled it back)' % (self.uuid, self.source))
            raise base.ActionFailed('instance %s ended on %s, not on %s'
                                    % (self.uuid, host, self.dest))
        return self.interval

    def _confirm(self):
        response = nova.request(self.context.cloud, 'post',
                                '/servers/%s/action' % self.uuid,
                                COLD_MICROVERSION,
                                json={'confirmResize': None})
        if response.status_code not in (202, 204):
            raise nova.refused('to confirm the resize of instance %s'
                               % self.uuid, response, 'post')
        self._confirmed = True

    def post_condition(self):
        server = self._server()
        if server is None:
            raise base.ActionFailed('instance %s no longer exists'
                                    % self.uuid)
        host, task = nova.host_of(server), nova.task_of(server)
        if host != self.dest or task is not None \
                or server['status'] not in _IDLE:
            raise base.ActionFailed(
                'instance %s is %s on %s (task state %s), not idle on %s'
                % (self.uuid, server['status'], host, task, self.dest))

    def resume(self):
        server = self._server()
        if server is None:
            return base.RERUN      # the pre-condition skips it
        host, task = nova.host_of(server), nova.task_of(server)
        if task is not None or (server['status'] == 'VERIFY_RESIZE'
                                and host == self.dest):
            return base.POLL
        if host == self.dest and server['status'] in _IDLE:
            return base.DONE
        return base.RERUN

"""The versioned notifications Watcher emits, emitted by the real daemon
(a subprocess, noauth, SQLite, the simulator as its cloud) and received
from RabbitMQ (127.0.0.1:5672, a virtual host of this test's own) by an
oslo.messaging listener in this process, as a follower of Watcher's
events would receive them.
"""

import collections
import threading

import oslo_messaging
from oslo_config import cfg
import pytest
from watcherclient.v1 import client as wc_client

from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology
from tests.fixtures import dbfixtures
from tests.fixtures import engine_process
from tests.fixtures import rabbit
from tests.fixtures.waiting import until

TOPIC = 'watcher_notifications'

#: The fields of Watcher 17.0.0's notification samples
#: (doc/notification_samples/*.json), per payload.
AUDIT_FIELDS = {'uuid', 'name', 'audit_type', 'state', 'parameters',
                'interval', 'scope', 'auto_trigger', 'next_run_time',
                'goal_uuid', 'goal', 'strategy_uuid', 'strategy',
                'status_message', 'created_at', 'updated_at', 'deleted_at'}
PLAN_FIELDS = {'uuid', 'state', 'global_efficacy', 'audit_uuid', 'audit',
               'strategy_uuid', 'strategy', 'status_message', 'created_at',
               'updated_at', 'deleted_at'}
ACTION_FIELDS = {'uuid', 'action_type', 'input_parameters', 'state',
                 'parents', 'action_plan_uuid', 'action_plan',
                 'status_message', 'created_at', 'updated_at', 'deleted_at'}


def notifying_daemon(tmp_path, sim, url, transport_url):
    """The daemon, its notifications sent to ``transport_url``."""
    return engine_process.Daemon(
        tmp_path, host='engine-n', store_url=url, auth_url=sim.auth_url,
        options=engine_process.merged(engine_process.RUNS_PLANS, {
            'oslo_messaging_notifications': {
                'driver': 'messagingv2', 'transport_url': transport_url,
                'topics': TOPIC}}))


class Received:
    """Every notification of the topic, by event type."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_type = collections.defaultdict(list)

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        with self.lock:
            self.by_type[event_type].append((publisher_id, payload))

    error = info

    def of(self, event_type, uuid=None):
        with self.lock:
            return [(p, body) for p, body in self.by_type[event_type]
                    if uuid is None or
                    body['watcher_object.data']['uuid'] == uuid]


@pytest.fixture
def listening(tmp_path):
    with rabbit.own_vhost() as vhost:
        url = rabbit.url(vhost)
        conf = cfg.ConfigOpts()
        conf([])
        transport = oslo_messaging.get_notification_transport(conf, url=url)
        received = Received()
        listener = oslo_messaging.get_notification_listener(
            transport, [oslo_messaging.Target(topic=TOPIC,
                                              exchange='watcher')],
            [received], executor='threading')
        listener.start()
        try:
            yield url, received
        finally:
            listener.stop()
            listener.wait()
            transport.cleanup()


@pytest.fixture
def daemon(tmp_path, listening):
    url, _ = listening
    sim = Simulator(Topology.generate(hosts=6, instances=24, aggregates=1,
                                      azs=1, seed=11),
                    migrations={'duration_s': 0.05, 'jitter': 0.3})
    sim.start()
    db = 'sqlite:///%s' % (tmp_path / 'engine.sqlite')
    dbfixtures.open_store(db).dispose()
    engine = notifying_daemon(tmp_path / 'engine', sim, db, url)
    try:
        engine.start()
        yield engine
    finally:
        engine.stop()
        sim.stop()


def _data(body, name):
    assert body['watcher_object.name'] == name
    assert body['watcher_object.namespace'] == 'watcher'
    return body['watcher_object.data']


def test_audit_plan_and_action_notifications(daemon, listening):
    _, received = listening
    wc = wc_client.Client(endpoint=daemon.url,
                          os_infra_optim_api_version='1.7')
    audit = wc.audit.create(goal='server_consolidation', auto_trigger=True,
                            force=True, parameters={'power_off': False})
    plan_end = until(lambda: received.of('action_plan.execution.end'),
                     'the plan to end, as notified', timeout=120)

    publisher, body = received.of('audit.create', audit.uuid)[0]
    assert publisher == 'infra-optim:engine-n'
    data = _data(body, 'AuditCreatePayload')
    assert set(data) == AUDIT_FIELDS
    assert data['state'] == 'PENDING'
    assert data['parameters']['power_off'] is False
    assert data['auto_trigger'] is True
    goal = _data(data['goal'], 'GoalPayload')
    assert goal['name'] == 'server_consolidation'
    assert data['goal_uuid'] == goal['uuid'] == audit.goal_uuid
    strategy = _data(data['strategy'], 'StrategyPayload')
    assert strategy['name'] == 'server_consolidation'
    assert strategy['uuid'] == data['strategy_uuid'] == audit.strategy_uuid

    updates = [_data(b, 'AuditUpdatePayload')
               for _, b in received.of('audit.update', audit.uuid)]
    moves = [(_data(u['state_update'], 'AuditStateUpdatePayload')
              ['old_state'], u['state']) for u in updates]
    assert moves == [('PENDING', 'ONGOING'), ('ONGOING', 'SUCCEEDED')]
    for event in ('audit.strategy.start', 'audit.strategy.end',
                  'audit.planner.start', 'audit.planner.end'):
        [(_, body)] = received.of(event, audit.uuid)
        assert _data(body, 'AuditActionPayload')['fault'] is None
    assert received.of('audit.strategy.error') == []

    [(_, body)] = received.of('action_plan.create')
    plan = _data(body, 'ActionPlanCreatePayload')
    assert set(plan) == PLAN_FIELDS
    assert plan['state'] == 'RECOMMENDED'
    assert plan['audit_uuid'] == audit.uuid
    assert _data(plan['audit'], 'TerseAuditPayload')['uuid'] == audit.uuid
    plan_moves = [
        (_data(d['state_update'], 'ActionPlanStateUpdatePayload')
         ['old_state'], d['state'])
        for d in (_data(b, 'ActionPlanUpdatePayload') for _, b in
                  received.of('action_plan.update', plan['uuid']))]
    assert plan_moves == [('RECOMMENDED', 'PENDING'), ('PENDING', 'ONGOING'),
                          ('ONGOING', 'SUCCEEDED')]
    [(_, body)] = received.of('action_plan.execution.start', plan['uuid'])
    assert _data(body, 'ActionPlanActionPayload')['state'] == 'ONGOING'
    [(_, body)] = plan_end
    assert _data(body, 'ActionPlanActionPayload')['state'] == 'SUCCEEDED'

    actions = wc.action.list(action_plan=plan['uuid'])
    assert actions
    for action in actions:
        [(_, start)] = received.of('action.execution.start', action.uuid)
        [(_, end)] = received.of('action.execution.end', action.uuid)
        start = _data(start, 'ActionExecutionPayload')
        assert set(start) == ACTION_FIELDS | {'fault'}
        assert (start['state'], _data(end, 'ActionExecutionPayload')
                ['state']) == ('ONGOING', 'SUCCEEDED')
        assert start['action_type'] == action.action_type
        assert _data(start['action_plan'], 'TerseActionPlanPayload')[
            'uuid'] == plan['uuid']
        moves = [(_data(d['state_update'], 'ActionStateUpdatePayload')
                  ['old_state'], d['state'])
                 for d in (_data(b, 'ActionUpdatePayload') for _, b in
                           received.of('action.update', action.uuid))]
        assert moves == [('PENDING', 'ONGOING'), ('ONGOING', 'SUCCEEDED')]

    wc.audit.delete(audit.uuid)
    [(_, body)] = until(lambda: received.of('audit.delete', audit.uuid),
                        'audit.delete')
    assert _data(body, 'AuditDeletePayload')['state'] == 'SUCCEEDED'


def test_a_failed_strategy_is_notified(daemon, listening):
    _, received = listening
    wc = wc_client.Client(endpoint=daemon.url,
                          os_infra_optim_api_version='1.7')
    # workload_balance needs measurements: this engine has no datasource.
    audit = wc.audit.create(strategy='workload_balance', force=True)
    [(publisher, body)] = until(
        lambda: received.of('audit.strategy.error', audit.uuid),
        'the strategy error, as notified', timeout=120)
    assert publisher == 'infra-optim:engine-n'
    data = _data(body, 'AuditActionPayload')
    fault = _data(data['fault'], 'ExceptionPayload')
    assert fault['exception_message']
    assert wc.audit.get(audit.uuid).status_message == \
        fault['exception_message']
    [(_, body)] = until(lambda: [
        (p, b) for p, b in received.of('audit.update', audit.uuid)
        if b['watcher_object.data']['state'] == 'FAILED'], 'audit FAILED')
    assert _data(body['watcher_object.data']['state_update'],
                 'AuditStateUpdatePayload')['old_state'] == 'ONGOING'
    assert received.of('audit.planner.start', audit.uuid) == []
    assert received.of('action_plan.create') == []


def test_skip_cancel_and_delete_through_the_api_are_notified(
        daemon, listening):
    _, received = listening
    wc = wc_client.Client(endpoint=daemon.url,
                          os_infra_optim_api_version='1.7')
    audit = wc.audit.create(goal='server_consolidation', force=True,
                            parameters={'power_off': False})
    [(_, body)] = until(lambda: received.of('action_plan.create'),
                        'the plan, as notified', timeout=120)
    plan_uuid = body['watcher_object.data']['uuid']
    action = wc.action.list(action_plan=plan_uuid)[0]
    wc.action.update(action.uuid, [
        {'op': 'replace', 'path': '/state', 'value': 'SKIPPED'}])
    [(_, body)] = until(lambda: received.of('action.update', action.uuid),
                        'the skip, as notified')
    data = _data(body, 'ActionUpdatePayload')
    assert _data(data['state_update'], 'ActionStateUpdatePayload') == {
        'old_state': 'PENDING', 'state': 'SKIPPED',
        'status_message': 'skipped by request'}

    wc.action_plan.cancel(plan_uuid)
    [(_, body)] = until(
        lambda: received.of('action_plan.update', plan_uuid),
        'the cancel, as notified')
    data = _data(body, 'ActionPlanUpdatePayload')
    assert (_data(data['state_update'], 'ActionPlanStateUpdatePayload')
            ['old_state'], data['state']) == ('RECOMMENDED', 'CANCELLED')
    wc.action_plan.delete(plan_uuid)
    [(_, body)] = until(
        lambda: received.of('action_plan.delete', plan_uuid),
        'the delete, as notified')
    assert _data(_data(body, 'ActionPlanDeletePayload')['audit'],
                 'TerseAuditPayload')['uuid'] == audit.uuid

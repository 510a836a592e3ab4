"""Watcher's notification payloads, built from the store's rows."""

import datetime
import threading

from decision_engine.cloud import watcher_notifications as wn
from decision_engine.strategies import identity

NOW = datetime.datetime(2026, 12, 7, 10, 0, 0)
AUDIT = {'uuid': 'a-1', 'name': 'first', 'audit_type': 'ONESHOT',
         'state': 'ONGOING', 'state_reason': None,
         'strategy': 'server_consolidation', 'parameters': {'x': 1},
         'scope': {}, 'interval': None, 'cron': None, 'next_run_at': None,
         'auto_trigger': False, 'created_at': NOW, 'updated_at': None}
PLAN = {'uuid': 'p-1', 'state': 'ONGOING', 'strategy':
        'server_consolidation', 'audit_uuid': 'a-1', 'state_reason': None,
        'created_at': NOW, 'updated_at': NOW,
        'actions': [{'uuid': 'x-1', 'position': 0, 'action_type': 'migrate',
                     'input_parameters': {'resource_id': 'vm'},
                     'state': 'FAILED', 'state_reason': 'boom'}]}


def _collect():
    sent = []
    return sent, wn.Emitter(lambda *args: sent.append(args))


def test_a_noop_emitter_builds_nothing(monkeypatch):
    def build(*args):
        raise AssertionError('built')
    monkeypatch.setattr(wn, 'audit_data', build)
    emitter = wn.Emitter()
    assert not emitter.enabled
    emitter.audit('create', AUDIT)


def test_audit_update_has_the_state_change_and_goal():
    sent, emitter = _collect()
    emitter.audit('update', AUDIT, old_state='PENDING')
    [(event_type, body, priority)] = sent
    assert (event_type, priority) == ('audit.update', 'info')
    assert body['watcher_object.name'] == 'AuditUpdatePayload'
    data = body['watcher_object.data']
    assert data['state_update']['watcher_object.data'] == {
        'old_state': 'PENDING', 'state': 'ONGOING'}
    assert data['goal_uuid'] == identity.goal_uuid('server_consolidation')
    assert data['goal']['watcher_object.data']['name'] == \
        'server_consolidation'
    assert data['created_at'] == '2026-12-07T10:00:00Z'
    assert data['scope'] == []


def test_an_action_error_carries_its_fault():
    sent, emitter = _collect()
    emitter.action_execution('error', PLAN['actions'][0], PLAN,
                             error='boom')
    [(event_type, body, priority)] = sent
    assert (event_type, priority) == ('action.execution.error', 'error')
    data = body['watcher_object.data']
    assert data['fault']['watcher_object.data']['exception_message'] == \
        'boom'
    assert data['status_message'] == 'boom'
    assert data['action_plan']['watcher_object.data']['uuid'] == 'p-1'


def test_a_failing_send_does_not_fail_the_caller():
    def send(*args):
        raise RuntimeError('bus down')
    wn.Emitter(send).action_plan('create', PLAN, AUDIT)


class _BlockedNotifier:
    def __init__(self):
        self.release = threading.Event()
        self.sent = []

    def info(self, context, event_type, payload):
        self.release.wait(30)
        self.sent.append(event_type)


def test_a_full_queue_drops_and_never_blocks_the_caller():
    notifier = _BlockedNotifier()
    sender = wn._Sender(notifier, None, size=2)
    for i in range(5):      # one being sent, two queued, two dropped
        sender('e%d' % i, {}, 'info')
    assert sender.dropped >= 2
    notifier.release.set()
    sender.stop(30)
    assert notifier.sent[0] == 'e0'
    assert len(notifier.sent) == 5 - sender.dropped

"""Watcher's audit life cycle through API v1 (real router, real audit
service, SQLite store; the runner is not started, so nothing runs and
each state is the one a request made): EVENT audits and the webhook,
start_time and end_time, SUSPENDED; each refusal is Watcher's 400 (or
404) with one line, and changes nothing."""

import datetime
import json
import types

import pytest
import webob

from decision_engine.api.v1 import router
from decision_engine.audit import service as service_mod
from decision_engine.common import states
from decision_engine.common import timeutils
from tests.fixtures import fakes
from tests.fixtures import model_helpers as h


def make_api(sqlite_store, pool, policy_file=None):
    conf = fakes.make_conf(audit={'min_continuous_interval': 1})
    if policy_file is not None:
        conf.set_override('policy_file', str(policy_file),
                          group='oslo_policy')
    service = service_mod.AuditService(
        conf, sqlite_store, pool, fakes.FakeCollector(pool, h.small_model))
    app = router.WatcherAPI(types.SimpleNamespace(
        store=sqlite_store, audits=service), conf)
    return types.SimpleNamespace(app=app, store=sqlite_store,
                                 service=service)


@pytest.fixture
def api(sqlite_store, pool):
    return make_api(sqlite_store, pool)


def call(api, method, path, body=None, version='1.7'):
    request = webob.Request.blank(path, method=method)
    request.headers['OpenStack-API-Version'] = 'infra-optim %s' % version
    if body is not None:
        request.body = json.dumps(body).encode()
        request.content_type = 'application/json'
    response = request.get_response(api.app)
    data = response.json if response.body else None
    return response.status_code, data


def fault(data):
    return json.loads(data['error_message'])['faultstring']


def iso(moment):
    return moment.replace(microsecond=0).isoformat()


def create(api, **body):
    status, data = call(api, 'POST', '/v1/audits', dict(
        {'goal': 'dummy'}, **body))
    assert status == 201, data
    return data


def patch_state(api, ident, state, version='1.7'):
    return call(api, 'PATCH', '/v1/audits/%s' % ident, [
        {'op': 'replace', 'path': '/state', 'value': state}], version)


def snapshot(api):
    return [(a['uuid'], a['state'], a['next_run_at'], a['name'])
            for a in api.store.list_audits()]


# -- EVENT audits and the webhook ---------------------------------------------

def test_event_audit_waits_for_its_webhook(api):
    audit = create(api, audit_type='EVENT')
    assert (audit['audit_type'], audit['state']) == ('EVENT', 'PENDING')
    stored = api.store.get_audit(audit['uuid'])
    assert stored['next_run_at'] is None and stored['runs'] == 0
    # Not queued: the engine does not run it before a trigger.
    assert api.service.runner.statistics().queued == 0
    # No take without a trigger, even by an engine that was asked to.
    assert api.store.take(audit['uuid'], 'engine-x',
                          due_by=timeutils.utcnow()) is None

    status, data = call(api, 'POST', '/v1/webhooks/%s' % audit['uuid'],
                        version='1.4')
    assert (status, data) == (202, None)
    stored = api.store.get_audit(audit['uuid'])
    assert stored['state'] == 'PENDING' and stored['next_run_at'] is not None
    assert stored['state_reason'] == 'triggered by a webhook'
    assert api.service.runner.statistics().queued == 1
    # By name too, as Watcher; a trigger of a queued audit is idempotent.
    assert call(api, 'POST', '/v1/webhooks/%s' % audit['name'])[0] == 202
    assert api.service.runner.statistics().queued == 1


def test_a_succeeded_event_audit_is_triggered_again(api):
    audit = create(api, audit_type='EVENT')
    api.store.transition(audit['uuid'], [states.PENDING],
                         state=states.SUCCEEDED)
    assert call(api, 'POST', '/v1/webhooks/%s' % audit['uuid'])[0] == 202
    assert api.store.get_audit(audit['uuid'])['state'] == 'PENDING'


@pytest.mark.parametrize('audit_type, state, message', [
    ('ONESHOT', 'PENDING', 'Audit type ONESHOT could not be triggered'),
    ('EVENT', 'ONGOING', 'can be triggered only when PENDING or SUCCEEDED'),
    ('EVENT', 'FAILED', 'can be triggered only when PENDING or SUCCEEDED'),
    ('EVENT', 'CANCELLED',
     'can be triggered only when PENDING or SUCCEEDED'),
])
def test_webhook_refusals_change_nothing(api, audit_type, state, message):
    audit = create(api, audit_type=audit_type)
    if state != 'PENDING':
        api.store.transition(audit['uuid'], [states.PENDING], state=state)
    before = snapshot(api)
    status, data = call(api, 'POST', '/v1/webhooks/%s' % audit['uuid'])
    assert status == 400
    assert message in fault(data) and '\n' not in fault(data)
    assert snapshot(api) == before


def test_webhook_is_version_1_4_and_unknown_audits_are_404(api):
    audit = create(api, audit_type='EVENT')
    status, _ = call(api, 'POST', '/v1/webhooks/%s' % audit['uuid'],
                     version='1.3')
    assert status == 404
    assert api.store.get_audit(audit['uuid'])['next_run_at'] is None
    status, data = call(api, 'POST', '/v1/webhooks/nope')
    assert status == 404 and fault(data) == 'Audit nope could not be found'


def test_event_audits_take_no_interval(api):
    status, data = call(api, 'POST', '/v1/audits', {
        'goal': 'dummy', 'audit_type': 'EVENT', 'interval': '60'})
    assert status == 400 and 'only for CONTINUOUS' in fault(data)
    assert api.store.list_audits() == []


# -- start_time and end_time ------------------------------------------------

def test_window_is_stored_shown_and_delays_the_first_run(api):
    now = timeutils.utcnow()
    start, end = now + datetime.timedelta(hours=1), \
        now + datetime.timedelta(hours=3)
    audit = create(api, audit_type='CONTINUOUS', interval='60',
                   start_time=iso(start), end_time=iso(end) + 'Z')
    assert audit['start_time'].startswith(iso(start))
    assert audit['end_time'].startswith(iso(end))
    stored = api.store.get_audit(audit['uuid'])
    assert stored['next_run_at'] == start.replace(microsecond=0)
    # Not due: neither queued at creation nor by the periodic task.
    assert api.service.run_due_continuous_audits() == 0
    assert api.service.runner.statistics().queued == 0
    # Hidden before 1.1, as Watcher.
    _, old = call(api, 'GET', '/v1/audits/%s' % audit['uuid'],
                  version='1.0')
    assert 'start_time' not in old and 'end_time' not in old


def test_offsets_are_converted_to_utc(api):
    later = timeutils.utcnow() + datetime.timedelta(days=2)
    audit = create(api, audit_type='CONTINUOUS', interval='60',
                   start_time=iso(later) + '+02:00')
    stored = api.store.get_audit(audit['uuid'])
    assert stored['start_time'] == later.replace(microsecond=0) - \
        datetime.timedelta(hours=2)


@pytest.mark.parametrize('body, message', [
    ({'start_time': '+2h', 'end_time': '+1h'}, 'must be after start_time'),
    ({'start_time': '+1h', 'end_time': '+1h'}, 'must be after start_time'),
    ({'end_time': '-1h'}, 'is already past'),
    ({'start_time': 'tomorrow'}, 'not an ISO 8601 date and time'),
    ({'start_time': 12}, "'start_time': 12 is not of type 'string'"),
    ({'audit_type': 'ONESHOT', 'interval': None, 'end_time': '+1h'},
     'only for CONTINUOUS audits, not ONESHOT'),
    ({'audit_type': 'EVENT', 'interval': None, 'start_time': '+1h'},
     'only for CONTINUOUS audits, not EVENT'),
])
def test_bad_windows_are_400_and_store_nothing(api, body, message):
    now = timeutils.utcnow()
    body = dict({'goal': 'dummy', 'audit_type': 'CONTINUOUS',
                 'interval': '60'}, **body)
    for name in ('start_time', 'end_time'):
        value = body.get(name)
        if isinstance(value, str) and value[0] in '+-':
            body[name] = iso(now + datetime.timedelta(
                hours=int(value[:-1])))
    body = {k: v for k, v in body.items() if v is not None}
    status, data = call(api, 'POST', '/v1/audits', body)
    assert status == 400, data
    assert message in fault(data) and '\n' not in fault(data)
    assert api.store.list_audits() == []


def test_window_needs_version_1_1(api):
    later = iso(timeutils.utcnow() + datetime.timedelta(hours=1))
    status, data = call(api, 'POST', '/v1/audits', {
        'goal': 'dummy', 'audit_type': 'CONTINUOUS', 'interval': '60',
        'start_time': later}, version='1.0')
    assert status == 400 and 'start_time' in fault(data)
    assert api.store.list_audits() == []


def test_an_audit_past_its_end_time_ends_succeeded_without_running(api):
    now = timeutils.utcnow()
    audit = api.store.create_audit({
        'strategy': 'dummy', 'audit_type': 'CONTINUOUS', 'interval': 60,
        'next_run_at': now, 'end_time': now - datetime.timedelta(seconds=1)})
    assert api.service.run_due_continuous_audits() == 0
    ended = api.store.get_audit(audit['uuid'])
    assert ended['state'] == 'SUCCEEDED' and ended['runs'] == 0
    assert ended['state_reason'].startswith('end_time ')
    assert ended['next_run_at'] is None


# -- SUSPENDED ---------------------------------------------------------------

def _waiting_continuous(api, **extra):
    later = timeutils.utcnow() + datetime.timedelta(hours=1)
    return create(api, audit_type='CONTINUOUS', interval='60',
                  start_time=iso(later), **extra)


def test_suspend_and_resume_a_continuous_audit(api):
    audit = _waiting_continuous(api)
    start = api.store.get_audit(audit['uuid'])['start_time']
    status, data = patch_state(api, audit['uuid'], 'SUSPENDED')
    assert status == 200 and data['state'] == 'SUSPENDED'
    stored = api.store.get_audit(audit['uuid'])
    assert stored['next_run_at'] is None
    # A suspended audit is not due, whatever the time.
    api.store.transition(audit['uuid'], [states.SUSPENDED],
                         next_run_at=timeutils.utcnow())
    assert api.service.run_due_continuous_audits() == 0
    # Resumed (Watcher's ONGOING): waiting for its next run, here its
    # start_time.
    status, data = patch_state(api, audit['uuid'], 'ONGOING')
    assert status == 200 and data['state'] == 'PENDING'
    assert api.store.get_audit(audit['uuid'])['next_run_at'] == start


def test_a_suspended_audit_may_be_deleted(api):
    audit = _waiting_continuous(api)
    assert patch_state(api, audit['uuid'], 'SUSPENDED')[0] == 200
    assert call(api, 'DELETE', '/v1/audits/%s' % audit['uuid'])[0] == 204
    assert api.store.list_audits() == []


def test_resume_after_end_time_ends_succeeded(api):
    now = timeutils.utcnow()
    audit = api.store.create_audit({
        'strategy': 'dummy', 'audit_type': 'CONTINUOUS', 'interval': 60,
        'state': states.SUSPENDED,
        'end_time': now - datetime.timedelta(seconds=1)})
    status, data = patch_state(api, audit['uuid'], 'ONGOING')
    assert status == 200 and data['state'] == 'SUCCEEDED'
    assert 'reached while suspended' in data['status_message']


@pytest.mark.parametrize('setup, wanted, message', [
    ('ONESHOT', 'SUSPENDED', 'only CONTINUOUS audits can be suspended'),
    ('EVENT', 'SUSPENDED', 'only CONTINUOUS audits can be suspended'),
    ('CONTINUOUS', 'ONGOING', '(PENDING -> ONGOING)'),
    ('CONTINUOUS', 'SUCCEEDED', '(PENDING -> SUCCEEDED)'),
    ('CONTINUOUS', 'PENDING', None),          # no change
    ('SUSPENDED', 'SUSPENDED', None),         # no change
    ('SUSPENDED', 'CANCELLED', '(SUSPENDED -> CANCELLED)'),
    ('SUSPENDED', 'PENDING', '(SUSPENDED -> PENDING)'),
    ('CANCELLED', 'SUSPENDED', '(CANCELLED -> SUSPENDED)'),
    ('CANCELLED', 'ONGOING', '(CANCELLED -> ONGOING)'),
])
def test_transitions_watcher_refuses_are_400_and_change_nothing(
        api, setup, wanted, message):
    if setup in ('ONESHOT', 'EVENT'):
        audit = create(api, audit_type=setup)
    else:
        audit = _waiting_continuous(api)
        if setup == 'SUSPENDED':
            assert patch_state(api, audit['uuid'], 'SUSPENDED')[0] == 200
        elif setup == 'CANCELLED':
            assert patch_state(api, audit['uuid'], 'CANCELLED')[0] == 200
    before = snapshot(api)
    status, data = patch_state(api, audit['uuid'], wanted)
    if message is None:
        assert status == 200
    else:
        assert status == 400, data
        assert message in fault(data) and '\n' not in fault(data)
    assert snapshot(api) == before


def test_a_bad_name_in_the_same_patch_changes_nothing(api):
    audit = _waiting_continuous(api)
    before = snapshot(api)
    status, data = call(api, 'PATCH', '/v1/audits/%s' % audit['uuid'], [
        {'op': 'replace', 'path': '/state', 'value': 'SUSPENDED'},
        {'op': 'replace', 'path': '/name', 'value': 'x' * 256}])
    assert status == 400 and 'name must be a string' in fault(data)
    assert snapshot(api) == before


def test_suspend_needs_the_update_rule(sqlite_store, pool, tmp_path):
    path = tmp_path / 'policy.yaml'
    path.write_text('"audit:update": "!"\n')
    api = make_api(sqlite_store, pool, policy_file=path)
    audit = _waiting_continuous(api)
    before = snapshot(api)
    status, data = patch_state(api, audit['uuid'], 'SUSPENDED')
    assert status == 403 and 'audit:update' in fault(data)
    assert snapshot(api) == before


# -- PATCH of the window ----------------------------------------------------

def patch_window(api, ident, **values):
    return call(api, 'PATCH', '/v1/audits/%s' % ident, [
        {'op': 'replace', 'path': '/%s' % k, 'value': v}
        for k, v in values.items()])


def test_window_of_a_waiting_audit_is_changed(api):
    audit = _waiting_continuous(api)
    now = timeutils.utcnow()
    start = now + datetime.timedelta(hours=2)
    end = now + datetime.timedelta(days=1)
    status, data = patch_window(api, audit['uuid'], start_time=iso(start),
                                end_time=iso(end))
    assert status == 200, data
    assert data['end_time'].startswith(iso(end))
    stored = api.store.get_audit(audit['uuid'])
    # Not run yet: its first run moves to the new start.
    assert stored['next_run_at'] == start.replace(microsecond=0)
    assert stored['state'] == 'PENDING'
    # Removing the start: due now.
    status, _ = call(api, 'PATCH', '/v1/audits/%s' % audit['uuid'], [
        {'op': 'remove', 'path': '/start_time'}])
    assert status == 200
    assert api.store.get_audit(audit['uuid'])['next_run_at'] <= \
        timeutils.utcnow()


@pytest.mark.parametrize('setup, values, message', [
    ('CONTINUOUS', {'end_time': '-1h'}, 'must be after start_time'),
    ('CONTINUOUS', {'end_time': '+1h'}, 'must be after start_time'),
    ('CONTINUOUS', {'start_time': 'soon'}, 'not an ISO 8601'),
    ('CONTINUOUS', {'end_time': '+5h', 'state': 'SUSPENDED'},
     'in two requests'),
    ('ONESHOT', {'end_time': '+5h'}, 'only for CONTINUOUS audits'),
    ('CANCELLED', {'end_time': '+5h'},
     'window of a CANCELLED audit cannot change'),
])
def test_bad_window_changes_are_400_and_change_nothing(api, setup, values,
                                                       message):
    if setup == 'ONESHOT':
        audit = create(api)
    else:
        audit = _waiting_continuous(api)     # starts in an hour
        if setup == 'CANCELLED':
            assert patch_state(api, audit['uuid'], 'CANCELLED')[0] == 200
    now = timeutils.utcnow()
    values = {k: iso(now + datetime.timedelta(hours=int(v[:-1])))
              if k.endswith('_time') and v[0] in '+-' else v
              for k, v in values.items()}
    before = [(a, api.store.get_audit(a[0])) for a in snapshot(api)]
    status, data = patch_window(api, audit['uuid'], **values)
    assert status == 400, data
    assert message in fault(data) and '\n' not in fault(data)
    assert [(a, api.store.get_audit(a[0])) for a in snapshot(api)] == before

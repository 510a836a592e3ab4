"""``openstack optimize`` (python-openstackclient with python-watcherclient's
plugin), the path the README's "Try it" shows, run as a user runs it (a
subprocess, noauth) against the real daemon (a subprocess, SQLite) whose
cloud is the simulator.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys

import pytest
import requests

from tests.fixtures.waiting import until
from tests.fixtures import watcher_daemon

OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')


@pytest.fixture(scope='module')
def daemon(tmp_path_factory):
    if not os.path.exists(OPENSTACK) and shutil.which('openstack') is None:
        pytest.fail('python-openstackclient is not installed: pip install '
                    '-c upper-constraints.txt -e ".[client]"')
    tmp = tmp_path_factory.mktemp('openstack-cli')
    with watcher_daemon.running(tmp) as daemon:
        yield daemon


def optimize(daemon, *args):
    """``openstack optimize <args> -f json`` as JSON (a one-line error if
    the command fails)."""
    command = [OPENSTACK if os.path.exists(OPENSTACK) else 'openstack',
               '--os-auth-type', 'none', '--os-endpoint', daemon.url,
               'optimize'] + list(args) + ['-f', 'json']
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    done = subprocess.run(command, capture_output=True, text=True,
                          timeout=120, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, '%s: %s' % (' '.join(command[5:]),
                                             done.stderr.strip())
    return json.loads(done.stdout)


def test_audit_create_and_actionplan_list(daemon):
    audit = optimize(daemon, 'audit', 'create', '-g',
                     'server_consolidation')
    assert audit['Goal'] == 'server_consolidation'
    assert audit['State'] in ('PENDING', 'ONGOING', 'SUCCEEDED')

    def ended():
        shown = optimize(daemon, 'audit', 'show', audit['UUID'])
        return shown if shown['State'] in ('SUCCEEDED', 'FAILED') else None
    shown = until(ended, 'the audit to end', timeout=90)
    assert shown['State'] == 'SUCCEEDED'

    plans = optimize(daemon, 'actionplan', 'list', '--audit', audit['UUID'])
    assert [p['State'] for p in plans] == ['RECOMMENDED']
    assert plans[0]['Audit'] == audit['UUID']
    goals = {g['Name'] for g in optimize(daemon, 'goal', 'list')}
    assert 'server_consolidation' in goals


def _later(seconds):
    """The CLI's time format (``YYYY-MM-DD hh:mm:ss``), UTC."""
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
        seconds=seconds)).strftime('%Y-%m-%d %H:%M:%S')


def _webhook(daemon, audit_uuid):
    return requests.post(daemon.url + '/v1/webhooks/' + audit_uuid,
                         headers={'OpenStack-API-Version':
                                  'infra-optim 1.4'}, timeout=30)


def _show_when(daemon, audit_uuid, states):
    def ended():
        shown = optimize(daemon, 'audit', 'show', audit_uuid)
        return shown if shown['State'] in states else None
    return until(ended, 'audit %s to be %s' % (audit_uuid, states),
                 timeout=90)


def test_event_audit_runs_once_per_webhook(daemon):
    audit = optimize(daemon, 'audit', 'create', '-t', 'EVENT', '-g',
                     'server_consolidation', '-p', 'power_off=false')
    assert (audit['Audit Type'], audit['State']) == ('EVENT', 'PENDING')
    # Created, not run: no plan until a webhook.
    assert optimize(daemon, 'actionplan', 'list', '--audit',
                    audit['UUID']) == []
    response = _webhook(daemon, audit['UUID'])
    assert (response.status_code, response.text) == (202, '')
    assert _show_when(daemon, audit['UUID'], ('SUCCEEDED', 'FAILED'))[
        'State'] == 'SUCCEEDED'
    plans = optimize(daemon, 'actionplan', 'list', '--audit', audit['UUID'])
    assert [p['State'] for p in plans] == ['RECOMMENDED']
    plan = optimize(daemon, 'actionplan', 'show', plans[0]['UUID'])
    efficacy = plan['Global efficacy']
    assert [g['name'] for g in efficacy] == ['released_nodes_ratio']
    assert efficacy[0]['unit'] == '%' and 0 < efficacy[0]['value'] <= 100
    actions = optimize(daemon, 'action', 'list', '--action-plan',
                       plans[0]['UUID'])
    uuids = {a['UUID'] for a in actions}
    parents = [p for a in actions for p in a['Parents']]
    assert parents and set(parents) <= uuids
    # Once more: a second run, the first plan superseded.
    assert _webhook(daemon, audit['UUID']).status_code == 202
    until(lambda: len(optimize(daemon, 'actionplan', 'list', '--audit',
                               audit['UUID'])) == 2 or None,
          'the second plan', timeout=90)
    assert sorted(p['State'] for p in optimize(
        daemon, 'actionplan', 'list', '--audit', audit['UUID'])) == [
            'RECOMMENDED', 'SUPERSEDED']
    # Another type of audit: 400, as Watcher.
    oneshot = optimize(daemon, 'audit', 'create', '-g', 'dummy')
    refused = _webhook(daemon, oneshot['UUID'])
    assert refused.status_code == 400
    assert 'only EVENT audits' in refused.json()['error_message']


def test_suspend_and_resume_a_continuous_audit(daemon):
    start = _later(3600)
    audit = optimize(daemon, 'audit', 'create', '-t', 'CONTINUOUS', '-i',
                     '60', '-g', 'dummy', '--start-time', start)
    assert audit['Start Time'].startswith(start.replace(' ', 'T'))
    suspended = optimize(daemon, 'audit', 'update', audit['UUID'],
                         'replace', 'state=SUSPENDED')
    assert suspended['State'] == 'SUSPENDED'
    resumed = optimize(daemon, 'audit', 'update', audit['UUID'], 'replace',
                       'state=ONGOING')
    # Waiting for its next run (its start time): PENDING on the engine.
    assert resumed['State'] == 'PENDING'
    assert resumed['Next Run Time'].startswith(start.replace(' ', 'T'))
    command = [OPENSTACK if os.path.exists(OPENSTACK) else 'openstack',
               '--os-auth-type', 'none', '--os-endpoint', daemon.url,
               'optimize', 'audit', 'update', audit['UUID'], 'replace',
               'state=SUCCEEDED']
    refused = subprocess.run(command, capture_output=True, text=True,
                             timeout=120, stdin=subprocess.DEVNULL,
                             env={k: v for k, v in os.environ.items()
                                  if not k.startswith('OS_')})
    assert refused.returncode != 0
    assert 'State transition not allowed: (PENDING -> SUCCEEDED)' in \
        refused.stderr
    assert optimize(daemon, 'audit', 'show', audit['UUID'])['State'] == \
        'PENDING'
    optimize(daemon, 'audit', 'update', audit['UUID'], 'replace',
             'state=CANCELLED')


def test_a_continuous_audit_stops_at_its_end_time(daemon):
    # NOTE: created over HTTP (milliseconds), not by the CLI (seconds to
    # start on a loaded machine), so the end time is still ahead.
    created = requests.post(daemon.url + '/v1/audits', json={
        'goal': 'dummy', 'audit_type': 'CONTINUOUS', 'interval': '1',
        'parameters': {'sleep': 0}, 'end_time': _later(10)},
        headers={'OpenStack-API-Version': 'infra-optim 1.7'}, timeout=30)
    assert created.status_code == 201, created.text
    uuid = created.json()['uuid']
    ended = _show_when(daemon, uuid, ('SUCCEEDED', 'FAILED', 'CANCELLED'))
    assert ended['State'] == 'SUCCEEDED'
    assert 'end_time' in ended['Status Message']
    assert len(optimize(daemon, 'actionplan', 'list', '--audit',
                        uuid)) >= 1

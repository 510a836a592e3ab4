"""``openstack optimize`` (python-openstackclient with python-watcherclient's
plugin), the path the README's "Try it" shows, run as a user runs it (a
subprocess, noauth) against the real daemon (a subprocess, SQLite) whose
cloud is the simulator.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

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

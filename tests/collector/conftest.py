"""Fixtures: a simulator (real HTTP on loopback, in this process) and a
builder harness against it; Nova versioned notifications built from copies
of the shapes of Nova's own samples (``doc/notification_samples``, kept in
``data/``), and a RabbitMQ virtual host of the test's own."""

import copy
import datetime
import itertools
import json
import os
import pathlib
import subprocess
import uuid as uuid_mod

import pytest

from decision_engine.conf import CONF
from decision_engine.simulator import Topology
from tests.fixtures import truth


@pytest.fixture(scope='session', autouse=True)
def parsed_conf():
    CONF([], project='decision-engine')
    yield CONF


@pytest.fixture
def topology():
    # 23 hosts: compute-1 is a prefix of compute-10..19; some hosts empty.
    return Topology.generate(hosts=23, instances=300, aggregates=3, azs=2,
                             seed=7)


@pytest.fixture
def harnesses():
    made = []

    def make(sim, **kwargs):
        harness = truth.Harness(sim, **kwargs)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()


DATA = pathlib.Path(__file__).parent / 'data'


def _load(name):
    return json.loads((DATA / name).read_text())


class Nova:
    """Makes ``(event_type, payload, metadata)`` triples as Nova sends
    them; each gets a later timestamp than the one before."""

    def __init__(self, start=datetime.datetime(2026, 12, 1, 12, 0, 0)):
        self._instance = _load('instance_action_payload.json')
        self._update_extra = _load('instance_update_extra.json')
        self._service = _load('service_status_payload.json')
        self._aggregate = _load('aggregate_payload.json')
        self._clock = start
        self._ids = itertools.count()

    def _tick(self):
        self._clock += datetime.timedelta(milliseconds=10)
        return self._clock

    def _metadata(self, moment):
        # oslo.messaging's format: str(timeutils.utcnow()).
        return {'message_id': str(uuid_mod.UUID(int=next(self._ids))),
                'timestamp': moment.strftime('%Y-%m-%d %H:%M:%S.%f')}

    def instance(self, event_type, uuid, host='compute', state='active',
                 flavor=None, name='some-server', locked=False,
                 task_state=None, tenant='6f70656e737461636b20342065766572',
                 metadata=None):
        moment = self._tick()
        payload = copy.deepcopy(self._instance)
        data = payload['nova_object.data']
        data.update(uuid=uuid, host=host, node=host, state=state,
                    display_name=name, locked=locked, tenant_id=tenant,
                    task_state=task_state, metadata=metadata or {},
                    updated_at=moment.strftime('%Y-%m-%dT%H:%M:%SZ'))
        if flavor:
            data['flavor']['nova_object.data'].update(flavor)
        if event_type == 'instance.update':
            payload['nova_object.name'] = 'InstanceUpdatePayload'
            data.update(copy.deepcopy(self._update_extra))
            data['state_update']['nova_object.data']['state'] = state
        if event_type == 'instance.create.end':
            payload['nova_object.name'] = 'InstanceCreatePayload'
            data.update(keypairs=[], tags=[], trusted_image_certificates=None,
                        instance_name='instance-00000001')
        return event_type, payload, self._metadata(moment)

    def service(self, event_type, host, disabled=False, reason=None,
                forced_down=False, binary='nova-compute'):
        moment = self._tick()
        payload = copy.deepcopy(self._service)
        payload['nova_object.data'].update(
            host=host, disabled=disabled, disabled_reason=reason,
            forced_down=forced_down, binary=binary,
            last_seen_up=moment.strftime('%Y-%m-%dT%H:%M:%SZ'))
        return event_type, payload, self._metadata(moment)

    def aggregate(self, event_type, name, hosts=(), zone=None):
        moment = self._tick()
        payload = copy.deepcopy(self._aggregate)
        payload['nova_object.data'].update(
            name=name, hosts=list(hosts),
            metadata={'availability_zone': zone} if zone else {})
        return event_type, payload, self._metadata(moment)


@pytest.fixture
def nova():
    return Nova()


def _rabbitmqctl(*args):
    return subprocess.run(('rabbitmqctl',) + args, check=True,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def vhost():
    """A RabbitMQ virtual host of this test only (127.0.0.1:5672,
    guest/guest): parallel runs never see each other's events."""
    name = 'de-test-%d-%s' % (os.getpid(), uuid_mod.uuid4().hex[:8])
    _rabbitmqctl('add_vhost', name)
    _rabbitmqctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*')
    yield name
    _rabbitmqctl('delete_vhost', name)


def _close_connections(vhost, name_contains=''):
    """Close every client connection to ``vhost`` (rabbitmqctl
    close_connection); returns how many."""
    out = _rabbitmqctl('list_connections', '-q', '--no-table-headers',
                       'pid', 'vhost', 'client_properties').stdout
    closed = 0
    for line in out.splitlines():
        parts = line.split('\t')
        if len(parts) >= 2 and parts[1] == vhost and \
                name_contains in line:
            _rabbitmqctl('close_connection', parts[0], 'test gap')
            closed += 1
    return closed


@pytest.fixture
def close_connections():
    """``close(vhost) -> count``: drop the broker's connections."""
    return _close_connections

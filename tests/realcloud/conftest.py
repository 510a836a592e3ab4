"""The real-cloud layer: the engine against a real Keystone, Placement and
Nova (tests/fixtures/openstack), started once for the whole run.

``DECISION_ENGINE_TESTBED=<run>/testbed.json`` attaches to a control plane
already started by ``tools/openstack-testbed.sh up`` (left running at the
end); otherwise one is started (about two minutes from empty databases,
plus a minute for its venv the first time) and stopped at the end. It never
skips: a control plane that cannot start fails the tests with the failing
service's log tail.
"""

import os
import time

import pytest

from tests.fixtures import figures
from tests.fixtures.openstack import client as client_mod
from tests.fixtures.openstack import controlplane


@pytest.fixture(scope='session')
def testbed():
    path = os.environ.get('DECISION_ENGINE_TESTBED')
    if path:
        yield controlplane.attach(path)
        return
    started = time.monotonic()
    bed = controlplane.up()
    times = bed.state['times']
    figures.record('realcloud/control-plane',
                   start_s=round(time.monotonic() - started, 1),
                   rss_mb=round(bed.rss_mb()),
                   keystone_bootstrapped_s=times['keystone bootstrapped'],
                   databases_synced_s=times['nova databases synced'],
                   ready_s=times['ready'])
    try:
        yield bed
    finally:
        bed.down()


@pytest.fixture(scope='session')
def cloud(testbed):
    """The admin's view of the control plane (tests/fixtures/openstack/
    client.py)."""
    return client_mod.Cloud(testbed)

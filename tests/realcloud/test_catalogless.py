"""The documented catalog-less set-up works with the real services (issue
23, D4).

doc/source/admin/model.rst gives an example for endpoints given directly
(``endpoint_override``): ``[nova]`` on Keystone password auth (Nova 34 has
no ``noauth2``), ``[placement]`` on a Placement running ``[api]
auth_strategy = noauth2`` through keystoneauth's ``admin_token`` plugin
with the token ``admin``. The test reads that example from the docs,
changes only the host names and the credentials to the test bed's, starts
one more (real) Placement with ``noauth2`` on the test bed's database, and
checks that the daemon configured so models the cloud as Nova and
Placement give it (``GET /v1/model``), with Placement's usages. That the
engine reached Placement through that Placement, and not through the
catalog, is read in the noauth Placement's access log.
"""

import configparser
import pathlib
import urllib.parse

import pytest
import requests

from tests.fixtures.openstack import engine as engine_mod

DOC = pathlib.Path(__file__).parents[2] / 'doc' / 'source' / 'admin' / \
    'model.rst'
#: (vcpus, ram MB, disk GB)
FLAVOR = ('rc-catalogless', 2, 768, 3)


def documented_example():
    """The catalog-less example of the docs, as a ConfigParser."""
    lines = DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines)
                 if 'Without a service catalog' in line)
    start = next(i for i in range(start, len(lines))
                 if lines[i].strip() == 'For example::')
    block = []
    for line in lines[start + 1:]:
        if line.strip() and not line.startswith(' ' * 8):
            break
        block.append(line.strip())
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string('\n'.join(block))
    return parser


def adapted(parser, testbed, placement_url):
    """The example's text with the test bed's hosts and credentials; only
    values the docs leave to the operator change."""
    cred = testbed.credentials('admin')
    nova_url = testbed.state['urls']['nova']
    nova = parser['nova']
    for name in ('auth_url', 'username', 'password', 'project_name'):
        nova[name] = cred[name]
    # The path is the documented one; the host is the test bed's.
    path = urllib.parse.urlsplit(nova['endpoint_override']).path
    nova['endpoint_override'] = nova_url + path
    parser['placement']['endpoint_override'] = placement_url
    # NOTE: the ironic power driver is not enabled: its group is not used.
    parser.remove_section('ironic')
    return '\n'.join('[%s]\n%s\n' % (section, '\n'.join(
        '%s = %s' % item for item in parser[section].items()))
        for section in parser.sections())


def test_the_docs_example_is_the_set_up_tested():
    parser = documented_example()
    assert parser['nova']['auth_type'] == 'password'
    assert parser['placement']['auth_type'] == 'admin_token'
    assert parser['placement']['token'] == 'admin'
    assert {'endpoint_override'} <= set(parser['nova']) & set(
        parser['placement'])


@pytest.fixture(scope='module')
def noauth_placement(testbed):
    url, stop = testbed.noauth_placement()
    yield url
    stop()


@pytest.fixture(scope='module')
def server(cloud):
    flavor = cloud.flavor(*FLAVOR)
    ids = cloud.boot_rounds([{'compute-2': flavor}], prefix='catalogless')
    yield ids
    cloud.delete_all_servers()


def test_documented_catalogless_set_up_models_the_real_cloud(
        tmp_path, testbed, cloud, noauth_placement, server):
    # The set-up is what the test means: this Placement refuses the
    # token keystoneauth's ``none`` plugin sends, as the docs say.
    refused = requests.get(noauth_placement + '/resource_providers',
                           headers={'X-Auth-Token': 'notused'}, timeout=30)
    assert refused.status_code == 403, refused.text
    expected = cloud.totals()
    access_log = testbed.access_log('placement-noauth')
    before = access_log.read_text() if access_log.exists() else ''
    engine = engine_mod.RealEngine(
        tmp_path, testbed, usage_source='placement',
        cloud=adapted(documented_example(), testbed, noauth_placement))
    engine.start()
    try:
        audit = engine.run_audit({'strategy': 'dummy'})
        assert audit['state'] == 'SUCCEEDED', audit['state_reason']
        model = engine.get('/v1/model')
    finally:
        engine.stop()
    summary = model['summary']
    assert summary['usage_source'] == 'placement'
    assert summary['excluded_nodes'] == 0, summary['excluded']
    got = {key: summary[key] for key in expected}
    assert got == pytest.approx(expected), (got, expected)
    assert summary['vcpus_used'] == FLAVOR[1]
    # Placement was asked through the documented endpoint, with the
    # documented token, and answered.
    served = [line for line in access_log.read_text()[len(before):]
              .splitlines() if line.endswith('"decision-engine"')]
    assert served and all('" 200 ' in line for line in served), served

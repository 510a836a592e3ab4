"""The churn changes what the simulator serves, seeded, and publishes
Nova-shaped notifications of each change."""

from decision_engine.simulator import churn as churn_mod
from decision_engine.simulator import Simulator
from decision_engine.simulator import Topology


class _Recorder:
    def __init__(self):
        self.sent = []
        self.request_ids = []

    def send(self, publisher, event_type, payload, request_id=None):
        self.sent.append((publisher, event_type, payload))
        self.request_ids.append(request_id)
        return request_id


def _run(seed):
    topo = Topology.generate(hosts=5, instances=40, aggregates=2, seed=1)
    sim = Simulator(topo)
    recorder = _Recorder()
    churn = churn_mod.Churn(sim, recorder, rate_per_s=100, seed=seed)
    churn.step(60)
    return sim, churn, recorder


def test_churn_is_seeded_and_served():
    sim, churn, recorder = _run(3)
    with sim:
        conn = sim.connection()
        served = {s.id: s.compute_host
                  for s in conn.compute.servers(all_projects=True)}
    truth = {i.uuid: i.host for i in sim.topology.instances}
    assert served == truth
    assert churn.stats.changes > 40
    again = _run(3)[2]
    assert [e for _, e, _ in again.sent] == [e for _, e, _ in recorder.sent]


def test_notifications_have_nova_envelopes():
    _, _, recorder = _run(4)
    kinds = {e for _, e, _ in recorder.sent}
    assert 'instance.create.end' in kinds
    assert 'instance.live_migration_post_dest.end' in kinds
    for publisher, event_type, payload in recorder.sent:
        assert publisher.startswith(('nova-compute:', 'nova-api:'))
        assert set(payload) == {'nova_object.name', 'nova_object.namespace',
                                'nova_object.version', 'nova_object.data'}
        data = payload['nova_object.data']
        if event_type.startswith('instance.'):
            assert data['flavor']['nova_object.name'] == 'FlavorPayload'
            assert isinstance(data['uuid'], str) and data['tenant_id']


def test_the_notifications_of_one_change_share_a_request_id():
    _, churn, recorder = _run(5)
    ids = recorder.request_ids
    assert all(i.startswith('req-') for i in ids)
    # A live migration's two events come from one request; another
    # change has another request id.
    pairs = [n for n, (_, e, _) in enumerate(recorder.sent)
             if e == 'instance.live_migration_post_dest.end']
    assert pairs
    for n in pairs:
        assert recorder.sent[n + 1][1] == 'instance.live_migration_post.end'
        assert ids[n] == ids[n + 1]
    assert len(set(ids)) == churn.stats.changes

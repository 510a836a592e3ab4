"""Nova's versioned notifications keep the engine's model as Nova's API
then shows it, without another build: a boot and a delete on the real
cloud, the events carried by the run's RabbitMQ vhost."""

from tests.fixtures.openstack import engine as engine_mod
from tests.fixtures.waiting import until

KEYS = ('instances', 'vcpus_used', 'memory_mb_used', 'disk_gb_used',
        'nodes', 'nodes_up', 'nodes_enabled', 'vcpu_capacity',
        'memory_mb_capacity')


def test_boot_and_delete_change_the_model(tmp_path, testbed, cloud):
    cloud.delete_all_servers()
    flavor = cloud.flavor('rc-events', 2, 768, 3)
    engine = engine_mod.RealEngine(tmp_path, testbed, notifications=True)
    engine.start()
    try:
        audit = engine.run_audit({'strategy': 'dummy'})
        assert audit['state'] == 'SUCCEEDED', audit['state_reason']

        def model():
            return engine.get('/v1/model')

        def matches(expected):
            def check():
                body = model()
                summary = body.get('summary', {})
                got = {key: summary.get(key) for key in KEYS}
                return body if got == expected else None
            return check

        before = model()
        builds = before['collector']['builds']
        empty = {key: cloud.totals()[key] for key in KEYS}
        assert {k: before['summary'][k] for k in KEYS} == empty

        server = cloud.boot('events-1', flavor, 'compute-2')
        cloud.wait_status(server)
        booted = {key: cloud.totals()[key] for key in KEYS}
        assert booted['instances'] == 1 and booted['vcpus_used'] == 2
        after_boot = until(matches(booted), 'the boot in the model',
                           timeout=60)
        assert after_boot['event_fed'] is True

        cloud.compute('DELETE', '/servers/%s' % server)
        until(lambda: not cloud.compute(
            'GET', '/servers?all_tenants=1')['servers'],
            'the server deleted in Nova', timeout=120, interval=0.5)
        after_delete = until(matches(empty), 'the delete in the model',
                             timeout=60)
        # Both changes came from events: no build since the first.
        assert after_delete['collector']['builds'] == builds
    finally:
        engine.stop()

"""A restarted engine in the listener pool of the engine before it (one
``[DEFAULT] host``): the pool's queue kept what Nova sent while no engine
listened (a service disabled and enabled again, a zone aggregate made,
given a host, emptied and deleted), and the new engine receives it during
or after its first full build. Every one of those events is older than
that build, which reflects them: none is applied over it (all counted
stale), and the model equals what Nova shows, event-fed, with no gap.
"""

import uuid

from tests.fixtures import realcloud_live as live
from tests.fixtures.waiting import until

HOST = 'compute-3'
#: the handled events the changes below send (Nova's .start ones are
#: ignored): service.update x 2, aggregate create, add_host, remove_host,
#: delete .end.
QUEUED = 6


def test_events_queued_while_down_are_not_replayed_over_the_build(
        tmp_path, testbed, cloud):
    cloud.delete_all_servers()
    live.restore_services(cloud)
    pool_host = 'replay-%s' % uuid.uuid4().hex[:12]
    first = live.LiveEngine(tmp_path / 'first', testbed, host=pool_host)
    first.start()
    assert first.stop(keep_queue=True) == []
    aggregates = live.Aggregates(cloud)
    try:
        live.put_service(cloud, HOST, {'status': 'disabled',
                                       'disabled_reason': 'replay'})
        live.put_service(cloud, HOST, {'status': 'enabled'})
        agg = aggregates.new('rc-replay-zone', zone='rc-replay')
        aggregates.action(agg, 'add_host', HOST)
        aggregates.action(agg, 'remove_host', HOST)
        aggregates.delete(agg)
        # NOTE: Nova's clocks are this machine's: no skew to allow for.
        second = live.LiveEngine(
            tmp_path / 'second', testbed, host=pool_host,
            options='[notifications]\nclock_skew = 0\n')
        second.start()
        try:
            until(lambda: second.status().stale >= QUEUED,
                  'the queued events delivered', timeout=60,
                  interval=0.1)
            view = live.settled(second, cloud, 'the model equals Nova')
            assert view['hosts'][HOST]['zone'] == 'nova'
            assert 'rc-replay-zone' not in view['aggregates']
            status = second.status()
            for event_type in ('service.update', 'aggregate.create.end',
                               'aggregate.add_host.end',
                               'aggregate.remove_host.end',
                               'aggregate.delete.end'):
                assert 'applied' not in status.by_type.get(event_type, {}), \
                    (event_type, status.by_type)
            assert (status.mode, status.failed, status.gaps) == (
                'event-fed', 0, 0), status
        finally:
            assert second.stop() == []
    finally:
        aggregates.cleanup()
        live.restore_services(cloud)

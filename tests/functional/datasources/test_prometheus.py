"""The Prometheus datasource against a real Prometheus scraping the
simulator: values equal the simulator's ground truth, with the default
names and with a metric map; chunked queries; Prometheus answering errors.
"""

import json
import math

import pytest

from decision_engine.common import measurements as m
from decision_engine.datasources import base
from decision_engine.datasources import gather
from decision_engine.datasources import loader
from tests import fresh_conf
from tests.fixtures import load_env
from tests.fixtures.load_env import make_gatherer
from tests.fixtures.load_env import wanted

ALL = (m.HOST_CPU, m.HOST_RAM, m.INSTANCE_CPU, m.INSTANCE_RAM)
ABS_TOLERANCE = {m.HOST_CPU: 0.25, m.HOST_RAM: 0.02, m.INSTANCE_CPU: 0.02,
                 m.INSTANCE_RAM: 0.02}
KIND = {m.HOST_CPU: 'cpu', m.HOST_RAM: 'ram', m.INSTANCE_CPU: 'cpu',
        m.INSTANCE_RAM: 'ram'}


def assert_truth(env, measurements, names_of):
    """Every gathered value equals the exporter's ground truth over the
    same window, within what sampling at 1 s in a 10 s window allows."""
    checked = 0
    for metric in ALL:
        for name in names_of[metric]:
            got = measurements.get(metric, name)
            truth = env.exporter.truth(name, KIND[metric], load_env.WINDOW,
                                       end=measurements.at)
            assert got is not None, (metric, name)
            # NOTE: Prometheus extrapolates rate() to the window's edges
            # and picks its own samples, and a scrape delayed on a loaded
            # machine moves a sample across the window's edge: 5 %, or in
            # absolute terms a quarter of a percentage point of a host's
            # cores (near-idle hosts) and a hair elsewhere, covers that; a
            # wrong unit or label does not.
            assert got == pytest.approx(truth, rel=0.05,
                                        abs=ABS_TOLERANCE[metric]), (
                metric, name)
            checked += 1
    return checked


def test_default_names_match_ground_truth(env, pool):
    g = make_gatherer(pool, env.prometheus.url, query_chunk_size=4)
    shown = [h for h in env.hostnames if h not in load_env.HIDDEN]
    running = [u for u in env.running if u not in load_env.HIDDEN]
    ms = g.gather(wanted(env, shown, running))
    assert assert_truth(env, ms, wanted(env, shown, running)) == \
        2 * len(shown) + 2 * len(running)
    stats = g.statistics()
    # One query per metric and chunk of 4 names, none retried; the host
    # CPU query (a series per CPU) names 16 times fewer: one host each.
    per_metric = [len(shown), math.ceil(len(shown) / 4)] + \
        [math.ceil(len(running) / 4)] * 2
    assert stats.queries == sum(per_metric) and stats.retries == 0
    # Any CPU is busy at all: values are measured, not defaulted to 0.
    assert all(ms.get(m.INSTANCE_CPU, u) > 0 for u in running)


def test_granularity_subqueries_match_ground_truth(pool):
    # Steps of 4 s over the 10 s window (scrapes every second): the mean
    # of 4-second rates and of the gauges at each step. The steps sit on
    # multiples of 4 s, not on the window's edges, so the load is steady
    # here: any part of the window has the same truth.
    env = load_env.Env(only='steady').start()
    try:
        g = make_gatherer(pool, env.prometheus.url, granularity=4)
        ms = g.gather(wanted(env))
    finally:
        env.stop()
    # NOTE: a 4 s rate() carries the scrapes' timing jitter (the counters
    # are read when the exporter renders, stamped when the scrape began)
    # 2.5 times more than the 10 s one; host CPU is 100 * (1 - idle rate),
    # which turns a few percent of idle into points of use.
    tolerance = {m.HOST_CPU: dict(abs=10.0), m.HOST_RAM: dict(rel=0.05),
                 m.INSTANCE_CPU: dict(rel=0.25, abs=0.02),
                 m.INSTANCE_RAM: dict(rel=0.05)}
    names_of = wanted(env)
    for metric in ALL:
        for name in names_of[metric]:
            truth = env.exporter.truth(name, KIND[metric], load_env.WINDOW,
                                       end=ms.at)
            assert ms.get(metric, name) == pytest.approx(
                truth, **tolerance[metric]), (metric, name)
    assert 'avg_over_time(rate(' in g.datasource.query(
        m.HOST_CPU, ['compute-1'], 10, granularity=4).text


def test_metric_map_and_instance_label_fallback(renamed_env, pool,
                                                tmp_path):
    path = tmp_path / 'map.yaml'
    path.write_text(json.dumps({
        'metrics': {k: v for k, v in load_env.RENAMED.items()
                    if k not in ('resource', 'mode')},
        'labels': {'resource': 'vm_uuid', 'mode': 'cpu_mode'}}))
    g = make_gatherer(pool, renamed_env.prometheus.url,
                      metric_map_file=str(path))
    ms = g.gather(wanted(renamed_env))
    assert assert_truth(renamed_env, ms, wanted(renamed_env)) > 0
    # The fqdn label exists nowhere here: every host came from the
    # fallback query by instance="<host>:9100", a second wave.
    assert g.statistics().queries == 2 * 2 + 2


def test_cache_serves_the_same_scope_again(env, pool):
    g = make_gatherer(pool, env.prometheus.url, cache_ttl=600)
    scope = wanted(env, ['compute-1'], env.running[2:5])
    first = g.gather(scope)
    queries = g.statistics().queries
    second = g.gather(scope)
    assert g.statistics().queries == queries
    assert g.statistics().cache_hits == 4
    assert second.values == first.values


def test_missing_series_are_absent_never_zero(env, pool):
    g = make_gatherer(pool, env.prometheus.url)
    report = g.check(wanted(env))
    hidden_instances = sorted(load_env.HIDDEN - {'compute-6'})
    assert report[m.HOST_CPU]['missing'] == ['compute-6']
    assert report[m.INSTANCE_RAM]['missing'] == hidden_instances
    assert report[m.HOST_RAM]['present'] == len(env.hostnames) - 1


def test_unknown_metric_name_is_one_error_without_retry(env, pool,
                                                        tmp_path):
    # A metric name Prometheus cannot parse: a real 400 bad_data.
    path = tmp_path / 'map.yaml'
    path.write_text('metrics:\n  ceilometer_cpu: "bad name"\n')
    g = make_gatherer(pool, env.prometheus.url, metric_map_file=str(path),
                      max_retries=3)
    with pytest.raises(gather.GatheringError) as err:
        g.gather({m.INSTANCE_CPU: env.running})
    message = str(err.value)
    assert message.startswith('metrics query sum by (resource) (rate(bad '
                              'name{')
    assert 'HTTP 400' in message and 'bad_data' in message
    assert g.statistics().retries == 0


def test_prometheus_down_is_one_error_naming_the_query(pool):
    from tests.fixtures import prometheus as prometheus_fixture
    port = prometheus_fixture.free_port()
    g = make_gatherer(pool, 'http://127.0.0.1:%d' % port, max_retries=2)
    with pytest.raises(gather.GatheringError) as err:
        g.gather({m.HOST_CPU: ['compute-1', 'compute-2']})
    message = str(err.value)
    assert 'node_cpu_seconds_total{mode="idle",fqdn=~"compute-1|' \
        'compute-2"}' in message
    assert 'no answer from http://127.0.0.1:%d' % port in message
    assert '(after 3 attempts)' in message


def test_bad_metric_map_is_refused_at_load(pool, tmp_path):
    path = tmp_path / 'map.yaml'
    path.write_text('metrics:\n  node_cpu: x\n')
    with pytest.raises(base.DatasourceError, match='unknown metrics '
                       'node_cpu; known: ceilometer_cpu'):
        make_gatherer(pool, 'http://127.0.0.1:1', metric_map_file=str(path))


def test_no_url_no_datasource(pool):
    assert loader.load(fresh_conf(), pool) is None

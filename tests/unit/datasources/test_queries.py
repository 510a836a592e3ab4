"""The PromQL the Prometheus datasource sends (the real answers are in
test_prometheus.py)."""

import pytest

from decision_engine.common import measurements as m
from decision_engine.datasources import gather
from decision_engine.datasources import prometheus
from tests import fresh_conf


def datasource(**options):
    conf = fresh_conf()
    conf.set_override('prometheus_url', 'http://prom:9090/',
                      group='datasource')
    for name, value in options.items():
        conf.set_override(name, value, group='datasource')
    return prometheus.PrometheusDatasource(conf)


def test_host_label_map_and_escaping():
    ds = datasource(host_label_map={'cmp1': 'cmp1.example.org'})
    q = ds.query(m.HOST_CPU, ['cmp1', 'a"b'], 300)
    assert q.text == (
        '100 * (1 - avg by (fqdn) (rate(node_cpu_seconds_total{'
        'mode="idle",fqdn=~"cmp1\\\\.example\\\\.org|a\\"b"}[300s])))')
    # Answers name the label value; the query maps it back.
    assert q.label_values == {'cmp1.example.org': 'cmp1', 'a"b': 'a"b'}
    assert ds.url == 'http://prom:9090/api/v1/query'


def test_fallback_only_for_hosts_and_only_when_it_differs():
    ds = datasource()
    assert ds.query(m.INSTANCE_RAM, ['u'], 60, fallback=True) is None
    q = ds.query(m.HOST_RAM, ['h1'], 60, fallback=True)
    assert 'instance=~"(h1)(:[0-9]+)?"' in q.text and q.strip_port
    assert datasource(host_label='instance').query(
        m.HOST_RAM, ['h1'], 60, fallback=True) is None


def test_chunks():
    assert gather.chunks('abcde', 2) == [('a', 'b'), ('c', 'd'), ('e',)]
    assert gather.chunks([], 3) == []


def test_only_regex_metacharacters_are_escaped():
    # "-" stays as it is (re.escape would write "\-"): a plain alternation
    # of literals.
    q = datasource().query(m.INSTANCE_RAM, ['1b4e-9a', 'x(y)'], 60)
    assert 'resource=~"1b4e-9a|x\\\\(y\\\\)"' in q.text


def test_granularity_makes_subqueries_at_its_step():
    ds = datasource()
    raw = ds.query(m.INSTANCE_CPU, ['u'], 600)
    assert 'rate(ceilometer_cpu{resource=~"u"}[600s])' in raw.text
    q = ds.query(m.INSTANCE_CPU, ['u'], 600, granularity=60)
    assert q.text == ('sum by (resource) (avg_over_time(rate(ceilometer_cpu'
                      '{resource=~"u"}[60s])[600s:60s])) / 1e9')
    q = ds.query(m.HOST_RAM, ['h'], 600, granularity=60)
    assert q.text.count('[600s:60s]') == 2 and 'rate' not in q.text
    q = ds.query(m.HOST_CPU, ['h'], 600, granularity=30)
    assert 'avg_over_time(rate(node_cpu_seconds_total{' in q.text
    assert q.text.endswith('[30s])[600s:30s])))')


def test_granularity_past_half_the_window_is_refused():
    conf = fresh_conf()
    conf.set_override('window', 60, group='datasource')
    conf.set_override('granularity', 31, group='datasource')
    with pytest.raises(gather.GatheringError,
                       match=r'granularity \(31 s\) must be at most half '
                             r'of \[datasource\] window \(60 s\)'):
        gather.Settings.from_conf(conf)
    conf.set_override('granularity', 30, group='datasource')
    assert gather.Settings.from_conf(conf).granularity == 30

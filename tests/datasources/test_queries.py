"""The PromQL the Prometheus datasource sends (the real answers are in
test_prometheus.py)."""

from decision_engine.datasources import gather
from decision_engine.datasources import prometheus
from decision_engine.strategies import metrics as m
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

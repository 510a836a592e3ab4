"""etc/grafana/decision-engine.json: valid JSON, and every panel queries
metrics the engine exports (the /metrics contract), each one at least
once."""

import json
import pathlib
import re

from tests.fixtures.metrics import METRICS

REPO = pathlib.Path(__file__).resolve().parents[3]
DASHBOARD = REPO / 'etc' / 'grafana' / 'decision-engine.json'

LABELS = {'decision_engine_audits': 'state',
          'decision_engine_api_requests_total': 'status'}
# A histogram or summary family is queried through these series.
SUFFIXES = ('_bucket', '_sum', '_count')
METRIC_NAME = re.compile(r'\bdecision_engine_[a-z_]+')


def _panels(panels):
    for panel in panels:
        yield panel
        yield from _panels(panel.get('panels', []))


def _dashboard():
    return json.loads(DASHBOARD.read_text())


def _family(name):
    if name in METRICS:
        return name
    for suffix in SUFFIXES:
        if name.endswith(suffix) and name[:-len(suffix)] in METRICS:
            return name[:-len(suffix)]
    return None


def test_every_panel_queries_known_metrics():
    seen = set()
    graphs = [p for p in _panels(_dashboard()['panels'])
              if p['type'] != 'row']
    assert graphs
    for panel in graphs:
        assert panel.get('targets'), panel['title']
        for target in panel['targets']:
            names = METRIC_NAME.findall(target['expr'])
            assert names, (panel['title'], target['expr'])
            for name in names:
                family = _family(name)
                assert family, 'panel %r queries %s, not a metric the ' \
                    'engine exports' % (panel['title'], name)
                seen.add(family)
    assert seen == METRICS, 'no panel for %s' % sorted(METRICS - seen)


def test_labelled_metrics_are_split_by_their_label():
    exprs = [t['expr'] for p in _panels(_dashboard()['panels'])
             for t in p.get('targets', [])]
    for metric, label in LABELS.items():
        assert any(metric in e and 'by (%s)' % label in e for e in exprs), \
            metric


def test_layout_and_datasource():
    dashboard = _dashboard()
    ids = [p['id'] for p in _panels(dashboard['panels'])]
    assert len(ids) == len(set(ids))
    for panel in _panels(dashboard['panels']):
        grid = panel['gridPos']
        assert 0 <= grid['x'] and grid['x'] + grid['w'] <= 24
        if panel['type'] != 'row':
            assert panel['datasource']['uid'] == '${datasource}'
    variables = {v['name']: v for v in dashboard['templating']['list']}
    assert set(variables) == {'datasource', 'instance'}
    assert _family(METRIC_NAME.findall(
        variables['instance']['definition'])[0])

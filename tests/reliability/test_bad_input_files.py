"""Bad input, files: the power inventory, the metric map and the simulated
cloud's topology, each fuzzed (malformed YAML and JSON, wrong types, keys
given twice, nesting too deep for the parser, huge), are refused with one
line naming the file, never a traceback; a seeded mutation of a valid
topology (every field given a value of a wrong type, or removed) too.
"""

import copy
import json
import random
import time

import pytest

from decision_engine.datasources import metric_map
from decision_engine.drivers import inventory
from decision_engine.simulator import Topology
from decision_engine.simulator import TopologyError
from tests.fixtures import figures

NESTED = b'[' * 50000 + b']' * 50000

#: name -> bytes of a file that no loader may accept.
BROKEN = {
    'not-utf8': b'\xff\xfe\x00garbage\x80',
    'tab-indented': b'- {hostname: a,\tdriver: fake}\n\t- x',
    'unclosed': b'- {hostname: a, driver: fake\n',
    'scalar': b'42\n',
    'ints': b'[1, 2, 3]\n',
    'json-syntax': b'{"hosts": [}',
    'json-types': b'{"hosts": "x", "metrics": 1, "nodes": 2}',
    'nested-too-deep': NESTED,
    'yaml-nested-too-deep': b'a:\n' + b'- ' * 20000 + b'x\n',
    'directory': None,
}

#: name -> (bytes, which loaders must refuse it): valid YAML or JSON whose
#: content is wrong for that loader.
WRONG_CONTENT = {
    'duplicate-key': (b'- {hostname: a, hostname: b, driver: fake}\n',
                      ('inventory',)),
    'duplicate-top-key': (b'metrics: {}\nmetrics: {ceilometer_cpu: x}\n',
                          ('metric map',)),
    'duplicate-json-key': (b'{"version": 1, "hosts": [], "hosts": []}',
                           ('topology',)),
    'int-keys': (b'metrics: {1: x, a: y}\nlabels: {2: z}\n',
                 ('metric map',)),
    'null-name': (b'metrics: {ceilometer_cpu: null}\n', ('metric map',)),
    'duplicate-host': (b'- {hostname: a, driver: fake}\n'
                       b'- {hostname: a, driver: fake}\n', ('inventory',)),
    'nan': (b'{"version": NaN, "hosts": []}', ('topology',)),
    'wrong-types': (b'- {hostname: 1, driver: [x]}\n', ('inventory',)),
}

LOADERS = {
    'inventory': (inventory.load, inventory.InventoryError),
    'metric map': (metric_map.MetricMap.load, metric_map.InvalidMetricMap),
    'topology': (Topology.load, TopologyError),
}


def _refused(loader, path):
    load, error = LOADERS[loader]
    with pytest.raises(error) as caught:
        load(str(path))
    message = str(caught.value)
    assert '\n' not in message and len(message) < 400, message
    assert str(path) in message or loader == 'topology', message
    return message


def test_broken_and_wrong_files_are_one_line_errors(tmp_path):
    refused = 0
    for name, data in BROKEN.items():
        path = tmp_path / name
        if data is None:
            path.mkdir()
        else:
            path.write_bytes(data)
        for loader in LOADERS:
            _refused(loader, path)
            refused += 1
    for name, (data, loaders) in WRONG_CONTENT.items():
        path = tmp_path / name
        path.write_bytes(data)
        for loader in loaders:
            _refused(loader, path)
            refused += 1
    assert 'appears twice' in _refused('inventory',
                                       tmp_path / 'duplicate-key')
    assert 'nest' in _refused('metric map', tmp_path / 'nested-too-deep')
    huge = tmp_path / 'huge.yaml'
    huge.write_text(''.join('- {hostname: compute-%d, driver: fake}\n' % i
                            for i in range(20000)))
    started = time.monotonic()
    assert len(inventory.load(str(huge))) == 20000
    huge_s = time.monotonic() - started
    figures.record('bad-input/files', cases=len(BROKEN) + len(
        WRONG_CONTENT), refused_one_line=refused, tracebacks=0,
        huge_inventory_nodes=20000, huge_inventory_s=huge_s)


WRONG_VALUES = [None, 'x', '', -1, 2 ** 70, 1.5, True, [], {}, [1],
                {'a': 1}, 1e308]


def _paths(doc, prefix=()):
    items = doc.items() if isinstance(doc, dict) else (
        enumerate(doc) if isinstance(doc, list) else ())
    for key, value in items:
        yield prefix + (key,)
        yield from _paths(value, prefix + (key,))


def test_mutated_topologies_are_refused_by_field(tmp_path):
    base = Topology.generate(hosts=3, instances=6, aggregates=1, azs=1,
                             seed=1).to_dict()
    paths = list(_paths(base))
    rng = random.Random(15)
    tried = refused = 0
    for _ in range(600):
        doc = copy.deepcopy(base)
        path = rng.choice(paths)
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and rng.random() < 0.15:
            del parent[path[-1]]
        else:
            parent[path[-1]] = rng.choice(WRONG_VALUES)
        tried += 1
        try:
            Topology.from_json(json.dumps(doc))
        except TopologyError as exc:
            assert '\n' not in str(exc)
            refused += 1
    figures.record('bad-input/topology-mutations', tried=tried,
                   refused=refused, accepted=tried - refused, crashes=0)
    assert refused > tried / 2

"""The inventory file: its two shapes and its one-line errors."""

import pytest

from decision_engine.drivers import inventory
from tests.fixtures.inventory_files import write_inventory


def test_inventory_parses_list_and_mapping(tmp_path):
    path = write_inventory(tmp_path, """
        nodes:
          - hostname: compute-1
            driver: fake
            driver_info: {password: s3cret, power_state: "off"}
          - {hostname: compute-10, driver: fake}
        """)
    nodes = inventory.load(path)
    assert [n.hostname for n in nodes] == ['compute-1', 'compute-10']
    assert nodes[0].driver_info['password'] == 's3cret'
    assert 's3cret' not in repr(nodes[0])


@pytest.mark.parametrize('text, message', [
    ('- {driver: fake}', 'node 1: "hostname" must be a non-empty string'),
    ('- {hostname: a, driver: fake}\n- {hostname: a, driver: fake}',
     'node a: hostname appears twice'),
    ('- {hostname: a, driver: fake, bmc: x}', 'node 1: unknown field(s) bmc'),
    ('- {hostname: a, driver: fake, driver_info: [1]}',
     'node a: "driver_info" must be a mapping'),
    ('hosts: []', 'unknown top-level key(s) hosts'),
    ('42', 'expected a list of nodes, got int'),
    ('- [unclosed', 'not valid YAML at line'),
])
def test_inventory_errors_are_one_line(tmp_path, text, message):
    path = write_inventory(tmp_path, text)
    with pytest.raises(inventory.InventoryError) as info:
        inventory.load(path)
    assert message in str(info.value)
    assert path in str(info.value)
    assert '\n' not in str(info.value)


def test_missing_inventory_file(tmp_path):
    with pytest.raises(inventory.InventoryError, match='cannot be read'):
        inventory.load(str(tmp_path / 'absent.yaml'))

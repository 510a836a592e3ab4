"""The node inventory: which hosts exist and how to reach their BMCs.

The inventory file (``[power] inventory_file``) is YAML: either a list of
nodes or a mapping with a ``nodes`` list. Each node has::

    hostname: compute-1        # the compute host name, unique
    driver: redfish            # an enabled power driver
    driver_info:               # what that driver needs (may hold secrets)
      address: https://10.0.0.1
      username: admin
      password: secret

Errors name the file, the node and the field, in one line.
"""

from oslo_utils import strutils

from decision_engine.common import yaml_files


class InventoryError(ValueError):
    """The inventory file cannot be used as it is."""


class Node:
    """One host of the inventory. Its repr never shows secrets."""

    __slots__ = ('hostname', 'driver', 'driver_info')

    def __init__(self, hostname, driver, driver_info=None):
        self.hostname = hostname
        self.driver = driver
        self.driver_info = dict(driver_info or {})

    def safe_driver_info(self):
        """``driver_info`` with passwords, keys and tokens masked."""
        return strutils.mask_dict_password(self.driver_info)

    def __repr__(self):
        return 'Node(hostname=%r, driver=%r, driver_info=%r)' % (
            self.hostname, self.driver, self.safe_driver_info())

    def __eq__(self, other):
        return isinstance(other, Node) and (
            (self.hostname, self.driver, self.driver_info)
            == (other.hostname, other.driver, other.driver_info))

    __hash__ = None  # type: ignore[assignment]  # mutable: unhashable


def load(path):
    """Read and validate the inventory file at ``path``.

    :returns: a list of :class:`Node`, in file order.
    :raises InventoryError: with one line naming what is wrong.
    """
    try:
        data = yaml_files.load(path)
    except yaml_files.DocumentError as exc:
        raise InventoryError('inventory %s: %s' % (path, exc))
    return parse(data, path)


def parse(data, source='<inventory>'):
    """Validate already-loaded inventory data; see :func:`load`."""
    if data is None:
        return []
    if isinstance(data, dict):
        unknown = set(data) - {'nodes'}
        if unknown:
            raise InventoryError('inventory %s: unknown top-level key(s) %s; '
                                 'expected "nodes"'
                                 % (source, ', '.join(sorted(map(str,
                                                                 unknown)))))
        data = data.get('nodes') or []
    if not isinstance(data, list):
        raise InventoryError('inventory %s: expected a list of nodes, got %s'
                             % (source, type(data).__name__))
    nodes = []
    seen = set()
    for position, entry in enumerate(data, 1):
        where = 'inventory %s: node %d' % (source, position)
        if not isinstance(entry, dict):
            raise InventoryError('%s: expected a mapping, got %s'
                                 % (where, type(entry).__name__))
        unknown = set(entry) - {'hostname', 'driver', 'driver_info'}
        if unknown:
            raise InventoryError('%s: unknown field(s) %s'
                                 % (where, ', '.join(sorted(map(str,
                                                                unknown)))))
        for field in ('hostname', 'driver'):
            value = entry.get(field)
            if not isinstance(value, str) or not value.strip():
                raise InventoryError('%s: "%s" must be a non-empty string'
                                     % (where, field))
        hostname = entry['hostname'].strip()
        where = 'inventory %s: node %s' % (source, hostname)
        if hostname in seen:
            raise InventoryError('%s: hostname appears twice' % where)
        seen.add(hostname)
        info = entry.get('driver_info') or {}
        if not isinstance(info, dict):
            raise InventoryError('%s: "driver_info" must be a mapping'
                                 % where)
        nodes.append(Node(hostname, entry['driver'].strip(), info))
    return nodes

"""Loading the enabled power drivers through stevedore."""

import logging

from stevedore import driver as stevedore_driver
from stevedore import exception as stevedore_exc

from decision_engine.drivers import base
from decision_engine.drivers import inventory

LOG = logging.getLogger(__name__)

NAMESPACE = 'decision_engine.power_drivers'


class DriverLoadError(RuntimeError):
    """An enabled driver or the inventory cannot be loaded."""


def load_nodes(conf):
    """The inventory's nodes, or [] when no inventory file is configured."""
    path = conf.power.inventory_file
    if not path:
        return []
    try:
        return inventory.load(path)
    except inventory.InventoryError as exc:
        raise DriverLoadError(str(exc))


def load_drivers(conf, pool, tracker, nodes, cloud=None):
    """Instantiate every enabled driver with its share of ``nodes``.

    :param cloud: the engine's shared openstacksdk cloud, handed to the
        drivers whose class sets ``accepts_cloud`` (``ironic``); they build
        one from the config on first use when it is None.

    :returns: ``{name: driver}`` in the order of ``enabled_power_drivers``.
    :raises DriverLoadError: for an unknown driver, a node whose driver is
        not enabled, or a node whose ``driver_info`` is invalid.
    """
    enabled = list(dict.fromkeys(conf.enabled_power_drivers))
    for node in nodes:
        if node.driver not in enabled:
            raise DriverLoadError(
                'inventory %s: node %s uses power driver %r, which is not '
                'in [DEFAULT] enabled_power_drivers (%s)'
                % (conf.power.inventory_file, node.hostname, node.driver,
                   ', '.join(enabled) or 'empty'))
    drivers = {}
    for name in enabled:
        try:
            manager = stevedore_driver.DriverManager(
                NAMESPACE, name, invoke_on_load=False)
        except stevedore_exc.NoMatches:
            raise DriverLoadError(
                'power driver %r from [DEFAULT] enabled_power_drivers is not '
                'installed (no entry point %r in namespace %s)'
                % (name, name, NAMESPACE))
        own = [node for node in nodes if node.driver == name]
        extra = {}
        if cloud is not None and getattr(manager.driver, 'accepts_cloud',
                                         False):
            extra['cloud'] = cloud
        driver = manager.driver(conf=conf, pool=pool, nodes=own,
                                tracker=tracker, **extra)
        driver.name = name
        for node in own:
            try:
                driver.validate(node.driver_info)
            except base.InvalidDriverInfo as exc:
                raise DriverLoadError(
                    'inventory %s: node %s: invalid driver_info for driver '
                    '%s: %s' % (conf.power.inventory_file, node.hostname,
                                name, exc))
        LOG.info('Loaded power driver %s with %d node(s)', name, len(own))
        drivers[name] = driver
    return drivers

"""The typed seams between the layers: every part handed across one, the
real one and its null object alike, has the whole surface its callers use
(a method dropped from SoleCluster or DisabledCollector fails here, not in
an engine running without coordination or without a collector)."""

import inspect
import typing

import pytest
import sqlalchemy as sa

from decision_engine.api import engine_api
from decision_engine.applier import applier as applier_mod
from decision_engine.applier import cluster_plans
from decision_engine.audit import service as audit_service_mod
from decision_engine.collector import collector as collector_mod
from decision_engine.collector import protocols as collector_protocols
from decision_engine.coordination import cluster as cluster_mod
from decision_engine.concurrency import pool as pool_mod
from decision_engine.coordination import protocols as cluster_protocols
from decision_engine.db import api as db_api
from decision_engine.db import protocols as db_protocols
from tests import fresh_conf


@pytest.fixture
def conf():
    return fresh_conf(host='engine-1')


def test_both_clusters_are_clusters(conf):
    assert isinstance(cluster_mod.SoleCluster(conf),
                      cluster_protocols.Cluster)
    # NOTE: constructed only: start() would join the service.
    assert isinstance(cluster_mod.Cluster(conf, {}, version='test'),
                      cluster_protocols.Cluster)


def test_both_collectors_are_collectors(conf):
    assert isinstance(collector_mod.DisabledCollector(),
                      collector_protocols.Collector)
    # NOTE: a factory of its own, never called: no build runs here.
    assert isinstance(collector_mod.ModelCollector(
        conf, pool=None, connection_factory=object()),
        collector_protocols.Collector)


def test_the_store_has_every_shared_surface():
    store = db_api.Store(sa.create_engine('sqlite://'))
    try:
        for surface in (db_protocols.AuditStore, db_protocols.PlanStore,
                        db_protocols.SharedStore):
            assert isinstance(store, surface), surface.__name__
    finally:
        store.dispose()


def _members(protocol):
    """The names a protocol asks for: its methods and attributes."""
    return sorted({name for name in vars(protocol)
                   if not name.startswith('_')} |
                  set(vars(protocol).get('__annotations__', {})))


def _without(cls, name):
    """An instance of a copy of ``cls`` (flattened) lacking ``name``."""
    namespace = {}
    for klass in reversed(cls.__mro__[:-1]):
        namespace.update(vars(klass))
    namespace.pop(name)
    namespace.pop('__dict__', None)
    namespace.pop('__weakref__', None)
    return object.__new__(type('Lacking_' + name, (), namespace))


@pytest.mark.parametrize('null, protocol', [
    (cluster_mod.SoleCluster, cluster_protocols.Cluster),
    (collector_mod.DisabledCollector, collector_protocols.Collector),
], ids=['SoleCluster', 'DisabledCollector'])
def test_a_null_object_missing_any_member_fails(null, protocol):
    members = _members(protocol)
    assert 'stop' in members and 'enabled' in members
    for name in members:
        assert not isinstance(_without(null, name), protocol), name


#: the classes at the seams, whose annotations are strings (``from
#: __future__ import annotations``) that nothing evaluates at run time.
ANNOTATED = [
    audit_service_mod.AuditService, applier_mod.Applier,
    cluster_plans.PlanClaims, engine_api.EngineAPI,
    collector_mod.ModelCollector, collector_mod.DisabledCollector,
    cluster_mod.Cluster, cluster_mod.SoleCluster, pool_mod.WorkerPool,
    db_api.Store, cluster_protocols.Cluster, collector_protocols.Collector,
    db_protocols.AuditStore, db_protocols.PlanStore,
    db_protocols.SharedStore]


@pytest.mark.parametrize('cls', ANNOTATED, ids=lambda cls: cls.__name__)
def test_the_annotations_name_what_exists(cls):
    """Every annotation of the constructor and the public methods resolves
    (a misspelt or moved name fails here, with no type checker run)."""
    typing.get_type_hints(cls)
    for name, method in inspect.getmembers(cls, inspect.isfunction):
        if name == '__init__' or not name.startswith('_'):
            typing.get_type_hints(method)

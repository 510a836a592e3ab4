"""Plugging audits, the store and the HTTP API into the manager.

The conductor manager makes one :class:`AuditEngine` after its pool and
collector exist, adds :meth:`AuditEngine.periodic_tasks` to its periodic
worker, calls :meth:`AuditEngine.start` once it is started and
:meth:`AuditEngine.stop` before it drains the pool::

    self.audit_engine = wiring.AuditEngine(conf, self)
    self.periodic_tasks += self.audit_engine.periodic_tasks()
    ...
    self.audit_engine.start()
    ...
    self.audit_engine.stop()        # in stop(), before pool.shutdown()
    self.audit_engine.close()       # after pool.shutdown()

The store is opened at construction: the embedded SQLite store is created
or upgraded on the spot; a server database (``[database] connection``)
must already be at the current schema (``decision-engine-manage db sync``),
or the engine refuses to start with one line saying so.
"""

import logging
import os

from decision_engine.audit import service as service_mod
from decision_engine.conductor import periodics
from decision_engine.db import api as db_api
from decision_engine.db import session as session_mod

LOG = logging.getLogger(__name__)


class _NoCollector:
    def get_model(self, max_age=None, scope=None):
        raise RuntimeError('the model collector is disabled ([collector] '
                           'enabled = false)')

    def status(self):
        return {'enabled': False}


class AuditEngine:
    """The store, the audit service and the API server of one engine."""

    def __init__(self, conf, manager):
        self.conf = conf
        self.manager = manager
        # Refuse a bad API setup before anything starts.
        from decision_engine.api import auth
        auth.check_bind(conf)
        url = session_mod.url_from_conf(conf)
        embedded = not conf.database.connection
        if embedded:
            os.makedirs(conf.state_path, exist_ok=True)
        self.store = db_api.Store.from_conf(conf)
        if embedded:
            self.store.upgrade()
        else:
            self.store.check_schema()
        LOG.info('Store: %s', url.split(':', 1)[0] if not embedded else url)
        self.collector = manager.collector or _NoCollector()
        self.service = service_mod.AuditService(conf, self.store,
                                                manager.pool, self.collector)
        self.api_server = None

    def periodic_tasks(self):
        return periodics.collect(self.service, prefix='audit')

    def start(self):
        from decision_engine.api import engine_api
        from decision_engine.api import server

        self.service.start()
        if self.conf.api.enabled:
            self.api_server = server.start(self.conf, engine_api.EngineAPI(
                self.service, self.store, self.manager.collector,
                status=self.manager.status,
                applier=getattr(self.manager, 'applier', None)))

    def stop(self, timeout=None):
        """Stop serving and dispatching; running audits finish on the pool
        (or are settled as interrupted at the next start)."""
        if self.api_server is not None:
            self.api_server.stop()
            self.api_server = None
        self.service.stop(timeout)

    def close(self):
        self.store.dispose()

"""The store's interface for the power-state failures of nodes (mixed
into :class:`decision_engine.db.api.Store`).

In a cluster a node moves between engines when the membership changes;
its failure count and ``power_failure`` flag live here, not only in the
memory of the engine that polled it, so the next owner goes on counting
from where the last one stopped. Only the node's owner on the ring polls
it, so each row has one writer at a time.
"""

import sqlalchemy as sa

from decision_engine.common import timeutils
from decision_engine.db import models
from decision_engine.db import store_core

# NOTE: below PostgreSQL's and SQLite's limits on bound parameters.
_CHUNK = 500


class PowerFailureStoreMixin(store_core.StoreCore):

    def load_power_failures(self, hostnames):
        """``{hostname: {'failures', 'power_failure', 'last_error'}}`` of
        those of ``hostnames`` whose last polls failed."""
        hostnames = sorted(set(hostnames))
        found = {}
        with self._wrap(), self._session() as session:
            for i in range(0, len(hostnames), _CHUNK):
                for row in session.scalars(
                        sa.select(models.NodePowerFailure).where(
                            models.NodePowerFailure.hostname.in_(
                                hostnames[i:i + _CHUNK]))):
                    found[row.hostname] = {
                        'failures': row.failures,
                        'power_failure': row.power_failure,
                        'last_error': row.last_error}
        return found

    def save_power_failure(self, hostname, failures, power_failure,
                           last_error, engine):
        """Insert or replace the failures of ``hostname``."""
        values = dict(failures=failures, power_failure=power_failure,
                      last_error=last_error, engine=engine,
                      updated_at=timeutils.utcnow())
        with self._wrap(), self._session() as session:
            updated = session.execute(
                sa.update(models.NodePowerFailure)
                .where(models.NodePowerFailure.hostname == hostname)
                .values(**values)).rowcount
            if not updated:
                session.add(models.NodePowerFailure(hostname=hostname,
                                                    **values))

    def clear_power_failure(self, hostname):
        """The node's poll succeeded: forget its failures."""
        with self._wrap(), self._session() as session:
            session.execute(sa.delete(models.NodePowerFailure).where(
                models.NodePowerFailure.hostname == hostname))

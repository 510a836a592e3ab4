"""What the store's mixins (plans, listings, power failures) use of
:class:`decision_engine.db.api.Store`, which defines it: typed here so
that each mixin is checked on its own."""

from __future__ import annotations

from typing import ContextManager

from sqlalchemy import orm


class StoreCore:

    def _session(self) -> ContextManager[orm.Session]:
        """A transaction: a session, committed when the block ends."""
        raise NotImplementedError

    def _wrap(self) -> ContextManager[object]:
        """Database errors turned into the store's own (StoreError,
        StoreUnavailable)."""
        raise NotImplementedError

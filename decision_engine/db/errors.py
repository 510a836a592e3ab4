"""What the store raises when a row it was asked for does not exist.

Its own module so that :mod:`decision_engine.db.api` and the mixins it is
made of (:mod:`decision_engine.db.plan_store`) both import it without
importing each other.
"""


class NotFound(LookupError):
    """No audit or action plan with the uuid asked for."""

"""Time as the store keeps it."""

import datetime


def utcnow():
    """Now, in UTC, as a naive datetime: the store's timestamp columns
    hold UTC without a zone (SQLite has no zone-aware type)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)

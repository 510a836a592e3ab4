"""The ``Retry-After`` answer header (RFC 9110, section 10.2.3).

A server that answers 429 or 503 may say how long to wait before the next
try, as a number of seconds or as an HTTP date. Every client of the engine
that retries (the model build's GETs, the datasource's queries) waits that
long instead of its own backoff.
"""

import datetime
import email.utils


def seconds(headers, now=None):
    """Seconds to wait that ``headers`` ask for, or None.

    :param headers: a mapping of answer headers (case-insensitive ones, as
        requests and http.client give), or None.
    :param now: the current time (an aware UTC datetime) to count an HTTP
        date from; the clock by default.
    :returns: a float >= 0, or None when the header is absent or is
        neither a number nor a date (the caller's own backoff applies).
    """
    value = headers.get('Retry-After') if headers is not None else None
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return max(0.0, (when - now).total_seconds())

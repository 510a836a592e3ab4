import datetime

import pytest

from decision_engine.common import retry_after

NOW = datetime.datetime(2026, 12, 2, 12, 0, 0, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize('value, seconds', [
    ('7', 7.0),
    (' 0 ', 0.0),
    ('Wed, 02 Dec 2026 12:00:30 GMT', 30.0),
    # A date already past: come back now.
    ('Wed, 02 Dec 2026 11:59:00 GMT', 0.0),
])
def test_seconds_and_http_dates(value, seconds):
    assert retry_after.seconds({'Retry-After': value}, now=NOW) == seconds


@pytest.mark.parametrize('headers', [
    None, {}, {'Retry-After': ''}, {'Retry-After': 'soon'},
    {'Retry-After': '-5'}, {'Retry-After': '1.5'}])
def test_absent_or_unreadable_is_none(headers):
    # NOTE: RFC 9110 delay-seconds is digits only; anything else leaves
    # the caller's own backoff in charge.
    assert retry_after.seconds(headers, now=NOW) is None

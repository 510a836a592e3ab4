"""When a CONTINUOUS audit runs next: every N seconds, or a cron
expression (croniter, evaluated in UTC)."""

import datetime

import croniter


# NOTE: a bound keeps next_run_at computable and the value inside the
# store's 32-bit integer column (PostgreSQL): a year is plenty.
MAX_INTERVAL = 366 * 86400


class InvalidSchedule(ValueError):
    pass


def validate(interval, cron, min_interval):
    """Check a continuous audit's schedule; exactly one of the two.

    :raises InvalidSchedule: one line saying what is wrong.
    """
    if (interval is None) == (cron is None):
        raise InvalidSchedule('a CONTINUOUS audit needs exactly one of '
                              '"interval" (seconds) or "cron"')
    if interval is not None:
        if isinstance(interval, bool) or not isinstance(interval, int) \
                or not min_interval <= interval <= MAX_INTERVAL:
            raise InvalidSchedule(
                'interval must be a whole number of seconds from %d '
                '([audit] min_continuous_interval) to %d, not %r'
                % (min_interval, MAX_INTERVAL, interval))
        return
    if not isinstance(cron, str) or not croniter.croniter.is_valid(cron):
        raise InvalidSchedule('cron %r is not a valid cron expression '
                              '(5 fields: minute hour day month weekday)'
                              % (cron,))
    it = croniter.croniter(cron, datetime.datetime(2025, 1, 1))
    try:
        first = it.get_next(datetime.datetime)
        second = it.get_next(datetime.datetime)
    except croniter.CroniterError:
        # e.g. "0 0 31 2 *": valid fields, but no such date.
        raise InvalidSchedule('cron %r never runs (no date matches it)'
                              % (cron,))
    if (second - first).total_seconds() < min_interval:
        raise InvalidSchedule(
            'cron %r runs every %d s, more often than [audit] '
            'min_continuous_interval (%d s)'
            % (cron, (second - first).total_seconds(), min_interval))


def next_run(interval, cron, after):
    """The first run time strictly after ``after`` (naive UTC)."""
    if interval is not None:
        return after + datetime.timedelta(seconds=interval)
    return croniter.croniter(cron, after).get_next(datetime.datetime)


def parse_time(name, value):
    """A ``start_time`` or ``end_time`` as naive UTC.

    :param value: ISO 8601 text (``2026-12-24 18:00:00``, ``...T18:00Z``,
        ``...+01:00``); without an offset it is taken as UTC (the
        engine's clock), not as the API host's local time.
    :raises InvalidSchedule: one line naming the field.
    """
    if not isinstance(value, str):
        raise InvalidSchedule('%s must be an ISO 8601 date and time, not %r'
                              % (name, value))
    try:
        parsed = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidSchedule('%s %r is not an ISO 8601 date and time '
                              '(e.g. 2026-12-24T18:00:00Z)' % (name, value))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.timezone.utc).replace(
            tzinfo=None)
    return parsed


def check_window(start_time, end_time, now):
    """A CONTINUOUS audit's window: ``end_time`` after ``start_time`` and
    not already past (naive UTC datetimes, either may be None).

    :raises InvalidSchedule: one line saying what is wrong.
    """
    if start_time is not None and end_time is not None and \
            end_time <= start_time:
        raise InvalidSchedule('end_time (%s) must be after start_time (%s)'
                              % (end_time.isoformat(),
                                 start_time.isoformat()))
    if end_time is not None and end_time <= now:
        raise InvalidSchedule('end_time (%s) is already past (now: %s UTC)'
                              % (end_time.isoformat(),
                                 now.replace(microsecond=0).isoformat()))


def first_run(start_time, now):
    """When a CONTINUOUS audit (or one resumed) runs first: now, or at its
    ``start_time`` if that is later."""
    if start_time is not None and start_time > now:
        return start_time
    return now


def past_window(end_time, when):
    """Whether a run at ``when`` would be after the audit's window."""
    return end_time is not None and when is not None and when > end_time

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

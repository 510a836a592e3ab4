"""Store operations made again after the database connection was lost.

A connection can die under a transaction: the database restarted, an
operator or a pooler terminated it (``pg_terminate_backend``), a network
path dropped it. Connections that died while idle in the pool are
replaced at checkout (``pool_pre_ping``); an operation whose connection
died while it ran fails with a disconnect, and is made again here on a
new connection, a few times, before its error reaches the caller.

That is safe because every write of the store is one transaction and a
compare-and-set: a transaction cut short left nothing, and in the rare
case where the connection died after the COMMIT was applied but before
it was acknowledged, the second attempt finds the state already changed
and reports the compare-and-set as lost (nothing is written twice).
Inserts take their key (a uuid) before the first attempt for the same
reason.
"""

import functools
import logging

from sqlalchemy import exc as sa_exc

from decision_engine.common import retry_policy

LOG = logging.getLogger(__name__)

#: attempts of one operation whose connection is lost each time.
ATTEMPTS = 5
#: seconds before attempt n is ``DELAY * (n - 1)``: a database that is
#: restarting gets a moment more each time (the loop is
#: :mod:`decision_engine.common.retry_policy`'s, with its linear backoff).
DELAY = 0.1


def is_disconnect(exc):
    """Whether ``exc`` (or what caused it) is a lost connection."""
    while exc is not None:
        if isinstance(exc, sa_exc.DBAPIError) and \
                exc.connection_invalidated:
            return True
        exc = exc.__cause__
    return False


def retrying(method):
    policy = retry_policy.Policy(ATTEMPTS, retry_policy.linear(DELAY))

    def on_retry(exc, attempt, delay):
        LOG.warning('The store lost its database connection during %s '
                    '(attempt %d of %d); trying again on a new connection',
                    method.__name__, attempt, ATTEMPTS)

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return policy.call(lambda: method(self, *args, **kwargs),
                               retryable=is_disconnect, on_retry=on_retry)
        except retry_policy.AttemptsExhausted as gave_up:
            last = gave_up.last
        # NOTE: raised outside the except block, so the caller sees the
        # database's error as it was, not chained to the policy's.
        raise last
    wrapper.reconnecting = True
    return wrapper


def reconnecting(cls):
    """Class decorator: every public method of ``cls`` (and its bases)
    but ``cls.NOT_RETRIED`` is made again after a lost connection."""
    for name in dir(cls):
        if name.startswith('_') or name in cls.NOT_RETRIED:
            continue
        method = getattr(cls, name)
        if callable(method) and not isinstance(method, type) and \
                not getattr(method, 'reconnecting', False) and \
                not isinstance(cls.__dict__.get(name), classmethod):
            setattr(cls, name, retrying(method))
    return cls


def saved_by(audit, audit_values, plan_uuid, owner):
    """Whether ``audit`` (a row) already holds the run ``save_run`` was
    given: its own write, applied by an attempt whose answer was lost."""
    if owner is not None and audit.owner != owner:
        return False
    if plan_uuid is not None:
        return audit.last_action_plan_uuid == plan_uuid
    finished = audit_values.get('finished_at')
    return finished is not None and audit.finished_at == finished \
        and audit.state == audit_values.get('state')

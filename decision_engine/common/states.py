"""Audit types and states.

A ONESHOT audit goes PENDING -> ONGOING -> SUCCEEDED, FAILED or CANCELLED
(with a reason). A CONTINUOUS audit goes PENDING -> ONGOING -> PENDING for
each run (the outcome of the last run is in its reason and its latest action
plan) until it is cancelled, or fails for a reason no later run can fix
(e.g. its strategy is no longer installed), is SUSPENDED by request
(and resumed: PENDING again), or reaches its ``end_time`` (SUCCEEDED).
An EVENT audit waits PENDING for a trigger (Watcher's webhook), then
runs as a ONESHOT does; a SUCCEEDED one may be triggered again.
"""

ONESHOT = 'ONESHOT'
CONTINUOUS = 'CONTINUOUS'
EVENT = 'EVENT'
AUDIT_TYPES = (ONESHOT, CONTINUOUS, EVENT)

PENDING = 'PENDING'
ONGOING = 'ONGOING'
SUCCEEDED = 'SUCCEEDED'
FAILED = 'FAILED'
CANCELLED = 'CANCELLED'
SUSPENDED = 'SUSPENDED'
STATES = (PENDING, ONGOING, SUCCEEDED, FAILED, CANCELLED, SUSPENDED)

# Action plan states.
RECOMMENDED = 'RECOMMENDED'
SUPERSEDED = 'SUPERSEDED'

# Action states.
ACTION_PENDING = 'PENDING'

INTERRUPTED = 'interrupted'

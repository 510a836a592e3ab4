"""Audit types and states.

A ONESHOT audit goes PENDING -> ONGOING -> SUCCEEDED, FAILED or CANCELLED
(with a reason). A CONTINUOUS audit goes PENDING -> ONGOING -> PENDING for
each run (the outcome of the last run is in its reason and its latest action
plan) until it is cancelled, or fails for a reason no later run can fix
(e.g. its strategy is no longer installed).
"""

ONESHOT = 'ONESHOT'
CONTINUOUS = 'CONTINUOUS'
AUDIT_TYPES = (ONESHOT, CONTINUOUS)

PENDING = 'PENDING'
ONGOING = 'ONGOING'
SUCCEEDED = 'SUCCEEDED'
FAILED = 'FAILED'
CANCELLED = 'CANCELLED'
STATES = (PENDING, ONGOING, SUCCEEDED, FAILED, CANCELLED)

# Action plan states.
RECOMMENDED = 'RECOMMENDED'
SUPERSEDED = 'SUPERSEDED'

# Action states.
ACTION_PENDING = 'PENDING'

INTERRUPTED = 'interrupted'

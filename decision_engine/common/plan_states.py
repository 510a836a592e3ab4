"""States of action plans and of their actions.

A plan goes RECOMMENDED -> PENDING (start requested, accepted) -> ONGOING
-> SUCCEEDED, FAILED (an action failed) or CANCELLED; CANCELLING while the
actions running at the cancel finish. A RECOMMENDED plan replaced by a
newer run of its audit is SUPERSEDED.

An action goes PENDING -> ONGOING -> SUCCEEDED or FAILED; it may also end
SKIPPED (its pre-condition no longer holds, or it depends on an action that
failed; the reason says which) or CANCELLED (the plan was cancelled before
it started).
"""

RECOMMENDED = 'RECOMMENDED'
SUPERSEDED = 'SUPERSEDED'
PENDING = 'PENDING'
ONGOING = 'ONGOING'
CANCELLING = 'CANCELLING'
SUCCEEDED = 'SUCCEEDED'
FAILED = 'FAILED'
CANCELLED = 'CANCELLED'
SKIPPED = 'SKIPPED'

PLAN_STATES = (RECOMMENDED, PENDING, ONGOING, CANCELLING, SUCCEEDED,
               FAILED, CANCELLED, SUPERSEDED)
# A plan in one of these holds its hosts: another plan touching them may
# not start.
PLAN_RUNNING = (PENDING, ONGOING, CANCELLING)
PLAN_FINAL = frozenset([SUCCEEDED, FAILED, CANCELLED, SUPERSEDED])

ACTION_STATES = (PENDING, ONGOING, SUCCEEDED, FAILED, SKIPPED, CANCELLED)
ACTION_FINAL = frozenset([SUCCEEDED, FAILED, SKIPPED, CANCELLED])

"""The in-memory state of one plan being applied (no I/O here).

:class:`PlanRun` knows which actions are ready (every parent SUCCEEDED),
which are ONGOING, and which end SKIPPED because an action they depend on
failed. The :class:`~decision_engine.applier.applier.Applier` holds its
lock around every call and writes each change to the store.
"""

import heapq
import time

from decision_engine.common import action_graph
from decision_engine.common import action_hosts
from decision_engine.common import plan_states as st


# NOTE: an action SKIPPED by its own pre-condition (the instance is gone,
# or already elsewhere) releases its dependents like a success: their own
# pre-conditions check the cloud again, and Nova (microversion >= 2.30)
# refuses a destination without room. Only a FAILED action skips them.
_RELEASING = (st.SUCCEEDED, st.SKIPPED)


def plan_fields(plan):
    """A stored plan without its actions."""
    return {k: v for k, v in plan.items() if k != 'actions'}


class PlanRun:

    def __init__(self, plan, per_host, is_migration):
        """:param plan: the stored plan (with its actions).
        :param per_host: ``[applier] max_migrations_per_host`` at start.
        :param is_migration: ``f(action_type) -> bool``.
        """
        self.uuid = plan['uuid']
        #: the plan's own fields (not its actions) as this engine last
        #: wrote them: the plan of the action notifications.
        self.plan = plan_fields(plan)
        self.actions = {a['position']: a for a in plan['actions']}
        order = [self.actions[p] for p in sorted(self.actions)]
        self.parents = action_graph.parents_of(order, per_host)
        self.children = action_graph.children_of(self.parents)
        self.state = {p: a['state'] for p, a in self.actions.items()}
        self.migration_hosts = {
            p: sorted(action_hosts.hosts_of(a['input_parameters']))
            for p, a in self.actions.items()
            if is_migration(a['action_type'])}
        self.objects = {}           # position -> Action instance
        self.deadlines = {}         # position -> monotonic deadline
        self.unanswered = {}        # position -> the write with no answer
        self.dispatched = set()     # submitted, not finished
        # ends decided in memory whose store writes (the skips of their
        # dependents, a cancel) are not done yet: the plan cannot end.
        self.unsettled = 0
        self.resuming = set()       # ONGOING when loaded: resume, not run
        self.cancelling = plan['state'] == st.CANCELLING
        self.stopped_by = None      # position of the failure that stopped
        self.started = time.monotonic()
        self.ready = []
        self._waiting = {}
        # NOTE: an engine may have stopped between an action's failure and
        # the skipping of its dependents: skip them now.
        self.initial_skips = {}
        for position in sorted(self.actions):
            if self.state[position] == st.FAILED:
                self.initial_skips.update(self._skip_dependents(position))
        for position in sorted(self.actions):
            state = self.state[position]
            if state == st.ONGOING:
                self.resuming.add(position)
            elif state == st.PENDING:
                self._waiting[position] = sum(
                    1 for p in self.parents[position]
                    if self.state[p] not in _RELEASING)
                if self._waiting[position] == 0:
                    heapq.heappush(self.ready, position)

    # -- questions ---------------------------------------------------------

    def unfinished(self):
        return [p for p, s in self.state.items()
                if s not in st.ACTION_FINAL]

    def finished(self):
        return not self.unfinished() and not self.dispatched \
            and not self.unsettled

    def counts(self):
        result = {}
        for state in self.state.values():
            result[state] = result.get(state, 0) + 1
        return result

    def final_state(self):
        # NOTE: an action CANCELLED without this run's cancel was cancelled
        # in the store by another engine's API: the plan was cancelled.
        if self.cancelling or st.CANCELLED in self.state.values():
            return st.CANCELLED
        if any(s == st.FAILED for s in self.state.values()):
            return st.FAILED
        return st.SUCCEEDED

    def summary(self):
        counts = self.counts()
        return ', '.join('%d %s' % (counts[s], s.lower())
                         for s in st.ACTION_STATES if counts.get(s))

    # -- changes -----------------------------------------------------------

    def take_ready(self, admit):
        """Pop the ready positions ``admit(position)`` accepts, lowest
        first, until it returns None (stop) ; False keeps a position for
        later."""
        taken, kept = [], []
        while self.ready:
            position = heapq.heappop(self.ready)
            verdict = admit(position)
            if verdict is None:
                kept.append(position)
                break
            if verdict:
                taken.append(position)
                self.dispatched.add(position)
            else:
                kept.append(position)
        for position in kept:
            heapq.heappush(self.ready, position)
        return taken

    def finish(self, position, state):
        """Record an action's end.

        :returns: ``{position: reason}`` of the PENDING actions now
            SKIPPED because they depend on it (directly or not), when it
            did not succeed.
        """
        self.state[position] = state
        self.dispatched.discard(position)
        self.resuming.discard(position)
        self.objects.pop(position, None)
        self.deadlines.pop(position, None)
        self.unanswered.pop(position, None)
        skipped = {}
        if state in _RELEASING:
            for child in self.children[position]:
                if child in self._waiting:
                    self._waiting[child] -= 1
                    if self._waiting[child] == 0 \
                            and self.state[child] == st.PENDING:
                        heapq.heappush(self.ready, child)
        elif state == st.FAILED:
            skipped = self._skip_dependents(position)
        return skipped

    def _skip_dependents(self, position):
        reason = 'depends on failed action %d' % position
        skipped = {}
        stack = list(self.children[position])
        while stack:
            child = stack.pop()
            if self.state[child] == st.PENDING \
                    and child not in self.dispatched:
                self.state[child] = st.SKIPPED
                skipped[child] = reason
                stack.extend(self.children[child])
        if skipped:
            self.ready = [p for p in self.ready if p not in skipped]
            heapq.heapify(self.ready)
        return skipped

    def drop_pending(self, state):
        """Every PENDING action not yet dispatched becomes ``state``
        (cancel, or stop after a failure). :returns: their positions."""
        dropped = [p for p, s in self.state.items()
                   if s == st.PENDING and p not in self.dispatched]
        for position in dropped:
            self.state[position] = state
        self.ready = []
        return dropped

"""The steps of an action, each one a pool task: start (the
pre-condition), execute, poll, the post-condition; resume (an action found
ONGOING at start) and verify (after a write that got no answer).

A mixin of :class:`~decision_engine.applier.applier.Applier`, which
provides ``conf``, ``store``, ``loader``, ``_dispatcher``, ``_running``,
``_task`` and ``_finish``. A read the cloud could not answer
(:class:`~.actions.base.CloudUnreadable`) is asked again at the next
poll; a write with no answer (:class:`~.actions.base.NoAnswer`) is judged
by what the cloud shows, never retried blindly; these waits end at the
action's deadline: its own timeout or, from the first unanswered request
of an action without one, ``[applier] migration_timeout``.
"""

import logging
import time

from decision_engine.applier.actions import base
from decision_engine.common import plan_states as st
from decision_engine.common import timeutils

LOG = logging.getLogger(__name__)


class ActionSteps:

    def _make(self, run, position):
        action = run.objects.get(position)
        if action is None:
            stored = run.actions[position]
            cls = self.loader.get(stored['action_type'])
            action = cls(stored['input_parameters'] or {}, self.context)
            run.objects[position] = action
        return action

    def _step_start(self, run, position):
        now = timeutils.utcnow()
        if not self.store.transition_action(
                run.uuid, position, [st.PENDING], owner=self.owner,
                state=st.ONGOING, started_at=now):
            # NOTE: the plan was cancelled after this step was handed to
            # the pool (the store already says CANCELLED), or another
            # engine took the plan over (it runs the action).
            self._finish(run, position, st.CANCELLED, None, stored=True)
            return
        self._notify_action(run, position, 'start', st.PENDING,
                            dict(state=st.ONGOING, started_at=now))
        self._step_check(run, position)

    def _step_check(self, run, position):
        """The pre-condition, then execute (nothing asked of the cloud
        yet but reads: an unreadable cloud is asked again)."""
        try:
            action = self._make(run, position)
            if self._past_deadline(run, position, action):
                return
            action.pre_condition()
        except base.CloudUnreadable as exc:
            LOG.info('Action %d of plan %s: %s; checking again', position,
                     run.uuid, exc)
            return self._later(self._step_check, run, position)
        except base.SkipAction as exc:
            return self._finish(run, position, st.SKIPPED, str(exc))
        except (base.ActionFailed, base.InvalidAction, LookupError) as exc:
            return self._finish(run, position, st.FAILED, _reason(exc))
        self._execute(run, position, action)

    def _execute(self, run, position, action):
        if action.timeout is not None:
            run.deadlines[position] = time.monotonic() + action.timeout
        try:
            delay = action.execute()
        except base.NoAnswer as exc:
            # The write may have been carried out: what the cloud shows
            # decides, never the lost answer.
            run.unanswered[position] = str(exc)
            self._bound(run, position)
            return self._step_verify(run, position)
        except base.ActionFailed as exc:
            return self._finish(run, position, st.FAILED, str(exc))
        self._after(run, position, action, delay)

    def _past_deadline(self, run, position, action):
        deadline = run.deadlines.get(position)
        if deadline is None or time.monotonic() <= deadline:
            return False
        self._finish(
            run, position, st.FAILED,
            'did not end within %d s ([applier] migration_timeout); '
            'the cloud may still be carrying it out'
            % (action.timeout or self.conf.applier.migration_timeout))
        return True

    def _bound(self, run, position):
        # NOTE: an action without a timeout of its own gets one when the
        # cloud first fails to answer it, so a cloud that stays
        # unreadable ends it.
        run.deadlines.setdefault(position, time.monotonic()
                                 + self.conf.applier.migration_timeout)

    def _later(self, step, run, position):
        """``step`` again after a poll interval (the cloud did not
        answer), within the action's deadline."""
        self._bound(run, position)
        if self._running:   # else: stays ONGOING, resumed at the start
            self._dispatcher.call_later(
                self.conf.applier.poll_interval,
                self._task(step, run, position))

    def _step_poll(self, run, position):
        action = self._make(run, position)
        if self._past_deadline(run, position, action):
            return
        try:
            delay = action.poll()
        except (base.CloudUnreadable, base.NoAnswer) as exc:
            LOG.info('Action %d of plan %s: %s; polling again', position,
                     run.uuid, exc)
            return self._later(self._step_poll, run, position)
        except base.ActionFailed as exc:
            return self._finish(run, position, st.FAILED, str(exc))
        self._after(run, position, action, delay)

    def _step_verify(self, run, position):
        """After a write that got no answer: the cloud's word decides."""
        action = self._make(run, position)
        if self._past_deadline(run, position, action):
            return
        try:
            verdict = action.resume()
        except base.CloudUnreadable:
            return self._later(self._step_verify, run, position)
        except base.ActionFailed as exc:
            return self._finish(run, position, st.FAILED, str(exc))
        if verdict == base.DONE:
            return self._after(run, position, action, None)
        if verdict == base.POLL:
            return self._after(run, position, action,
                               self.conf.applier.poll_interval)
        self._finish(run, position, st.FAILED,
                     '%s; the cloud shows it was not carried out'
                     % run.unanswered.get(position, 'no answer'))

    def _step_resume(self, run, position):
        try:
            action = self._make(run, position)
            if self._past_deadline(run, position, action):
                return
            verdict = action.resume()
        except base.CloudUnreadable:
            return self._later(self._step_resume, run, position)
        except (base.ActionFailed, base.InvalidAction, LookupError) as exc:
            return self._finish(run, position, st.FAILED, _reason(exc))
        LOG.info('Resumed action %d of plan %s: %s', position, run.uuid,
                 verdict)
        if verdict == base.DONE:
            return self._finish(run, position, st.SUCCEEDED,
                                'found done when the engine resumed')
        if verdict == base.POLL:
            if action.timeout is not None:
                run.deadlines[position] = time.monotonic() + action.timeout
            return self._after(run, position, action,
                               self.conf.applier.poll_interval)
        try:
            action.pre_condition()
        except base.SkipAction as exc:
            return self._finish(run, position, st.SKIPPED, str(exc))
        except base.ActionFailed as exc:
            return self._finish(run, position, st.FAILED, str(exc))
        self._execute(run, position, action)

    def _after(self, run, position, action, delay):
        if delay is not None:
            if not self._running:
                return      # stays ONGOING in the store; resumed later
            self._dispatcher.call_later(
                delay, self._task(self._step_poll, run, position))
            return
        try:
            action.post_condition()
        except base.CloudUnreadable:
            # Not a verdict: poll (and check) again, within the deadline.
            return self._later(self._step_poll, run, position)
        except base.ActionFailed as exc:
            return self._finish(run, position, st.FAILED, str(exc))
        self._finish(run, position, st.SUCCEEDED, None)


def _reason(exc):
    return exc.args[0] if exc.args else str(exc)

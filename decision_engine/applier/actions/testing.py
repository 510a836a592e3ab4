"""``nop`` and ``sleep``: actions that change nothing, for the dummy
strategy and for tests. ``fail_pre``, ``fail_execute`` and ``fail_post``
make the pre-condition skip, or execute or the post-condition fail."""

import time

from decision_engine.applier.actions import base

_SWITCHES = {'fail_pre': {'type': 'boolean'},
             'fail_execute': {'type': 'boolean'},
             'fail_post': {'type': 'boolean'}}


class _Testing(base.Action):

    def pre_condition(self):
        if self.params.get('fail_pre'):
            raise base.SkipAction('fail_pre is set')

    def post_condition(self):
        if self.params.get('fail_post'):
            raise base.ActionFailed('fail_post is set')

    def _maybe_fail(self):
        if self.params.get('fail_execute'):
            raise base.ActionFailed('fail_execute is set')


class Nop(_Testing):
    schema = {
        'type': 'object',
        'properties': dict(_SWITCHES, message={'type': 'string'}),
        'additionalProperties': False,
    }

    def execute(self):
        self._maybe_fail()


class Sleep(_Testing):
    """Waits ``duration`` seconds as a delayed poll: no worker sleeps."""
    schema = {
        'type': 'object',
        'properties': dict(_SWITCHES, duration={
            'type': 'number', 'minimum': 0, 'maximum': 86400}),
        'required': ['duration'],
        'additionalProperties': False,
    }

    def execute(self):
        self._maybe_fail()
        self._end = time.monotonic() + self.params['duration']
        return self.params['duration'] or None

    def poll(self):
        left = self._end - time.monotonic()
        return left if left > 0 else None

    def resume(self):
        # NOTE: nothing to observe: a sleep interrupted is slept again.
        return base.RERUN

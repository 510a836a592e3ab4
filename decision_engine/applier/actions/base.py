"""The interface of an action plugin.

An action is built from its plan entry's ``input_parameters`` (checked
against its class's JSON ``schema``) and an :class:`ActionContext`. The
applier calls, each call in a pool task of its own:

1. :meth:`Action.pre_condition` -- raises :class:`SkipAction` when the
   cloud no longer is as the plan assumed (the action ends SKIPPED with the
   reason), :class:`ActionFailed` when it cannot be carried out;
2. :meth:`Action.execute` -- asks the cloud; returns None when the change
   is complete, or the seconds after which to :meth:`Action.poll`;
3. :meth:`Action.poll` -- None when the change is complete, else the
   seconds to the next poll (the wait holds no worker);
4. :meth:`Action.post_condition` -- raises :class:`ActionFailed` unless
   the cloud now shows the action's effect.

A read raising :class:`CloudUnreadable` is asked again at the next poll;
a write raising :class:`NoAnswer` is followed by :meth:`Action.resume`, as
for an action found ONGOING when an engine starts.

For an action found ONGOING when an engine starts, :meth:`Action.resume`
says what the cloud shows: ``DONE`` (the post-condition holds), ``RERUN``
(nothing happened, execute again) or ``POLL`` (still in progress).
"""

import threading
from typing import Any, ClassVar

from decision_engine.common import schema as schema_mod

DONE = 'done'
RERUN = 'rerun'
POLL = 'poll'


class SkipAction(Exception):
    """The pre-condition does not hold; the message is the reason."""


class ActionFailed(Exception):
    """The action failed; the message is the reason."""


class CloudUnreadable(ActionFailed):
    """A read of the cloud got no usable answer (no answer, HTTP 5xx or
    429, a body that is not the JSON asked for): nothing is known yet. The
    applier reads again at the next poll (within the action's deadline)
    instead of ending the action on it."""


class NoAnswer(ActionFailed):
    """A write got no usable answer (no answer, HTTP 5xx or 429): the cloud
    may or may not have carried it out. The applier asks the action's
    :meth:`Action.resume` what the cloud shows before it ends the
    action."""


class InvalidAction(ValueError):
    """The input parameters do not match the action's schema."""


class ActionContext:
    """What actions may use: the configuration, the cloud (connected at
    the first use, shared by every action), the power drivers.

    :param connect: ``connect() -> cloud`` (the manager's ``SharedCloud``).
    :param owns_cloud: whether :meth:`close` closes the cloud (not when the
        manager shares it with other parts).
    """

    def __init__(self, conf, connect=None, power_drivers=None,
                 owns_cloud=True):
        self.conf = conf
        self._connect = connect
        self._owns_cloud = owns_cloud
        self._cloud = None
        self._lock = threading.Lock()
        self.power_drivers = power_drivers or {}

    @property
    def cloud(self):
        with self._lock:
            if self._cloud is None:
                if self._connect is None:
                    raise ActionFailed('no cloud is configured')
                try:
                    self._cloud = self._connect()
                except Exception as exc:
                    raise ActionFailed('cannot connect to the cloud: %s'
                                       % exc)
            return self._cloud

    def close(self):
        with self._lock:
            cloud, self._cloud = self._cloud, None
        if self._owns_cloud and cloud is not None \
                and hasattr(cloud, 'close'):
            cloud.close()


class Action:
    """Base class; see the module docstring."""

    #: JSON schema of ``input_parameters``.
    schema: ClassVar[dict[str, Any]] = {'type': 'object'}
    #: whether the action moves a server (``[applier]
    #: max_migrations_per_host`` counts it).
    is_migration = False
    #: seconds the action may take from its start (None: no limit).
    timeout = None

    def __init__(self, params, context):
        error = schema_mod.first_error(self.schema, params)
        if error is not None:
            where, message = error
            raise InvalidAction('invalid input parameters%s: %s' % (
                ' (%s)' % where if where else '', message))
        self.params = params
        self.context = context

    def pre_condition(self):
        pass

    def execute(self):
        return None

    def poll(self):
        return None

    def post_condition(self):
        pass

    def resume(self):
        """See the module docstring. The default runs the action again
        unless its post-condition already holds."""
        try:
            self.post_condition()
        except CloudUnreadable:
            raise
        except ActionFailed:
            return RERUN
        return DONE

"""The versioned notifications Watcher emits, emitted by the engine.

Anything that follows Watcher's events (its event types, its publisher
``infra-optim:<host>``, its payloads as ``watcher_object`` envelopes, as
Watcher 17.0.0 documents them in ``doc/notification_samples``) follows the
engine's:

- ``audit.create|update|delete``, ``audit.strategy.start|end|error``,
  ``audit.planner.start|end|error``;
- ``action_plan.create|update|delete``,
  ``action_plan.execution.start|end|error``;
- ``action.update``, ``action.execution.start|end|error``.

They go out with oslo.messaging on ``[oslo_messaging_notifications]``
(``driver``, ``topics``, ``transport_url``), on the exchange
``watcher`` (Watcher's; ``[DEFAULT] control_exchange`` changes it); with
the default driver (none, i.e. ``noop``) nothing is built or sent.

One :class:`Emitter` per process, made by the manager
(:func:`configure`); the parts that have the moments (the API, the audit
runner, the applier) reach it with :func:`get`. Until it is configured,
and after :func:`reset`, :func:`get` gives one that sends nothing.

Sending never fails nor delays the caller: notifications are queued
(bounded) and sent in order by a thread of their own; one that cannot be
sent is logged and dropped.
"""

import datetime
import logging
import queue
import threading

from decision_engine.strategies import identity
from decision_engine.strategies import loader

LOG = logging.getLogger(__name__)

PUBLISHER = 'infra-optim'

#: notifications waiting to be sent, at most; more are dropped (logged).
QUEUE_SIZE = 10000

#: seconds a stopping engine gives the queued notifications.
STOP_TIMEOUT = 5

#: Watcher's ``control_exchange``: the default exchange of the engine's
#: notifications (``[DEFAULT] control_exchange`` overrides it).
EXCHANGE = 'watcher'

_NAMESPACE = 'watcher'


def _envelope(name, version, data):
    return {'watcher_object.name': name,
            'watcher_object.namespace': _NAMESPACE,
            'watcher_object.version': version,
            'watcher_object.data': data}


def _time(value):
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(
                tzinfo=None)
        return value.strftime('%Y-%m-%dT%H:%M:%SZ')
    return str(value)


def _strategy_class(name):
    try:
        return loader.available().get(name)
    except Exception:       # a plugin that cannot load: names only
        return None


def strategy_payload(name):
    cls = _strategy_class(name)
    return _envelope('StrategyPayload', '1.0', {
        'uuid': identity.strategy_uuid(name), 'name': name,
        'display_name': (identity.strategy_display(cls, name) if cls
                         else identity.display(name)),
        'parameters_spec': getattr(cls, 'parameters_schema', None) or {},
        'created_at': None, 'updated_at': None, 'deleted_at': None})


def _goal_name(strategy):
    cls = _strategy_class(strategy)
    return getattr(cls, 'goal', None) or 'unclassified'


def goal_payload(goal):
    cls_specs = []
    known = set()
    try:
        classes = loader.available().values()
    except Exception:
        classes = ()
    for cls in classes:
        if getattr(cls, 'goal', None) != goal:
            continue
        for name, unit, description in getattr(cls, 'indicators', ()):
            if name not in known:
                known.add(name)
                cls_specs.append({'name': name, 'description': description,
                                  'unit': unit or None, 'schema': 'number'})
    return _envelope('GoalPayload', '1.0', {
        'uuid': identity.goal_uuid(goal), 'name': goal,
        'display_name': identity.goal_display(goal),
        'efficacy_specification': cls_specs,
        'created_at': None, 'updated_at': None, 'deleted_at': None})


def _scope(scope):
    if isinstance(scope, list):
        return scope
    return [scope] if scope else []


def _terse_audit_data(audit):
    goal = _goal_name(audit['strategy'])
    return {
        'uuid': audit['uuid'], 'name': audit.get('name'),
        'audit_type': audit['audit_type'], 'state': audit['state'],
        'parameters': audit.get('parameters') or {},
        'interval': (str(audit['interval'])
                     if audit.get('interval') is not None
                     else audit.get('cron')),
        'scope': _scope(audit.get('scope')),
        'auto_trigger': bool(audit.get('auto_trigger')),
        'next_run_time': _time(audit.get('next_run_at')),
        'goal_uuid': identity.goal_uuid(goal),
        'strategy_uuid': identity.strategy_uuid(audit['strategy']),
        'status_message': audit.get('state_reason'),
        'created_at': _time(audit.get('created_at')),
        'updated_at': _time(audit.get('updated_at')),
        'deleted_at': None}


def audit_data(audit):
    data = _terse_audit_data(audit)
    data['goal'] = goal_payload(_goal_name(audit['strategy']))
    data['strategy'] = strategy_payload(audit['strategy'])
    return data


def _terse_plan_data(plan):
    return {
        'uuid': plan['uuid'], 'state': plan['state'],
        'global_efficacy': [],
        'audit_uuid': plan.get('audit_uuid'),
        'strategy_uuid': identity.strategy_uuid(plan['strategy']),
        'status_message': plan.get('state_reason'),
        'created_at': _time(plan.get('created_at')),
        'updated_at': _time(plan.get('updated_at')),
        'deleted_at': None}


def plan_data(plan, audit):
    data = _terse_plan_data(plan)
    data['audit'] = _envelope('TerseAuditPayload', '1.3',
                              _terse_audit_data(audit))
    data['strategy'] = strategy_payload(plan['strategy'])
    return data


def action_data(action, plan):
    return {
        'uuid': action['uuid'], 'action_type': action['action_type'],
        'input_parameters': action.get('input_parameters') or {},
        'state': action['state'], 'parents': [],
        'action_plan_uuid': plan['uuid'],
        'action_plan': _envelope('TerseActionPlanPayload', '1.2',
                                 _terse_plan_data(plan)),
        'status_message': action.get('state_reason'),
        'created_at': _time(plan.get('created_at')),
        'updated_at': _time(action.get('updated_at')),
        'deleted_at': None}


def fault(exc_or_message):
    """Watcher's ExceptionPayload of an exception or a message."""
    if isinstance(exc_or_message, BaseException):
        name, message = type(exc_or_message).__name__, str(exc_or_message)
    else:
        name, message = 'Error', str(exc_or_message)
    return _envelope('ExceptionPayload', '1.0', {
        'module_name': 'decision_engine', 'function_name': '',
        'exception': name, 'exception_message': message})


class Emitter:
    """Builds Watcher's payloads and hands them to ``send(event_type,
    payload, priority)``; with ``send`` None nothing is built."""

    def __init__(self, send=None):
        self._send = send

    @property
    def enabled(self):
        return self._send is not None

    def _emit(self, event_type, build, priority='info'):
        if self._send is None:
            return
        try:
            payload = build()
            self._send(event_type, payload, priority)
        except Exception as exc:
            LOG.warning('Notification %s not sent: %s', event_type,
                        ' '.join(str(exc).split()) or type(exc).__name__)

    # -- audits ----------------------------------------------------------

    def audit(self, action, audit, old_state=None):
        """``audit.create``, ``audit.update`` (with ``old_state``) or
        ``audit.delete``."""
        name = {'create': 'AuditCreatePayload',
                'update': 'AuditUpdatePayload',
                'delete': 'AuditDeletePayload'}[action]

        def build():
            data = audit_data(audit)
            if action == 'update':
                data['state_update'] = _envelope(
                    'AuditStateUpdatePayload', '1.1',
                    {'old_state': old_state, 'state': audit['state']})
            return _envelope(name, '1.2', data)
        self._emit('audit.%s' % action, build)

    def audit_phase(self, what, phase, audit, error=None):
        """``audit.strategy.<phase>`` or ``audit.planner.<phase>``;
        ``phase``: start, end or error (with ``error``)."""
        def build():
            data = audit_data(audit)
            data['fault'] = fault(error) if error is not None else None
            return _envelope('AuditActionPayload', '1.2', data)
        self._emit('audit.%s.%s' % (what, phase), build,
                   'error' if phase == 'error' else 'info')

    # -- action plans ----------------------------------------------------

    def action_plan(self, action, plan, audit, old_state=None):
        """``action_plan.create|update|delete``."""
        name = {'create': 'ActionPlanCreatePayload',
                'update': 'ActionPlanUpdatePayload',
                'delete': 'ActionPlanDeletePayload'}[action]

        def build():
            data = plan_data(plan, audit)
            if action == 'update':
                data['state_update'] = _envelope(
                    'ActionPlanStateUpdatePayload', '1.1',
                    {'old_state': old_state, 'state': plan['state']})
            return _envelope(name, '1.2', data)
        self._emit('action_plan.%s' % action, build)

    def action_plan_execution(self, phase, plan, audit, error=None):
        def build():
            data = plan_data(plan, audit)
            data['fault'] = fault(error) if error is not None else None
            return _envelope('ActionPlanActionPayload', '1.2', data)
        self._emit('action_plan.execution.%s' % phase, build,
                   'error' if phase == 'error' else 'info')

    # -- actions ---------------------------------------------------------

    def action(self, action, row, plan, old_state=None):
        """``action.create|update|delete``."""
        name = {'create': 'ActionCreatePayload',
                'update': 'ActionUpdatePayload',
                'delete': 'ActionDeletePayload'}[action]

        def build():
            data = action_data(row, plan)
            if action == 'update':
                data['state_update'] = _envelope(
                    'ActionStateUpdatePayload', '1.1',
                    {'old_state': old_state, 'state': row['state'],
                     'status_message': row.get('state_reason')})
            return _envelope(name, '1.1', data)
        self._emit('action.%s' % action, build)

    def action_execution(self, phase, row, plan, error=None):
        def build():
            data = action_data(row, plan)
            data['fault'] = fault(error) if error is not None else None
            return _envelope('ActionExecutionPayload', '1.1', data)
        self._emit('action.execution.%s' % phase, build,
                   'error' if phase == 'error' else 'info')


_NOOP = Emitter()
_current = _NOOP
_lock = threading.Lock()
_transport = None


def get():
    """The process's emitter (one that sends nothing until
    :func:`configure`)."""
    return _current


def enabled_in(conf):
    """Whether ``[oslo_messaging_notifications] driver`` sends anything."""
    import oslo_messaging
    # NOTE: Watcher's exchange (its control_exchange default), so a
    # follower of Watcher's notifications finds the engine's.
    oslo_messaging.set_transport_defaults(EXCHANGE)
    from oslo_messaging import opts
    for group, group_opts in opts.list_opts():
        if group == 'oslo_messaging_notifications':
            conf.register_opts(group_opts, group=group)
    drivers = [d for d in conf.oslo_messaging_notifications.driver
               if d and d != 'noop']
    return bool(drivers)


class _Sender:
    """Sends on a thread of its own, in order, so a slow or unreachable bus
    (oslo.messaging retries for ever by default) never delays an audit, a
    plan or a request: the queue is bounded, and a notification that
    finds it full is dropped with a warning."""

    def __init__(self, notifier, context, size=QUEUE_SIZE):
        self._notifier = notifier
        self._context = context
        self._queue = queue.Queue(maxsize=size)
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='watcher-notifications')
        self._thread.start()

    def __call__(self, event_type, payload, priority):
        try:
            self._queue.put_nowait((event_type, payload, priority))
        except queue.Full:
            self.dropped += 1
            LOG.warning('Notification %s dropped: %d wait to be sent (the '
                        'message bus is slow or unreachable)', event_type,
                        self._queue.qsize())

    def _run(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            event_type, payload, priority = item
            try:
                getattr(self._notifier, priority)(self._context, event_type,
                                                  payload)
            except Exception as exc:
                LOG.warning('Notification %s not sent: %s', event_type,
                            ' '.join(str(exc).split()) or
                            type(exc).__name__)

    def stop(self, timeout):
        """Send what is queued (for at most ``timeout`` s), then end."""
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)


def configure(conf, host):
    """Make the process's emitter from ``[oslo_messaging_notifications]``;
    a no-op one when its driver is noop (the default)."""
    global _current, _transport
    if not enabled_in(conf):
        reset()
        return _current
    import oslo_context.context
    import oslo_messaging
    with _lock:
        transport = oslo_messaging.get_notification_transport(conf)
        notifier = oslo_messaging.Notifier(
            transport, publisher_id='%s:%s' % (PUBLISHER, host))
        sender = _Sender(notifier, oslo_context.context.RequestContext())
        _transport, _current = transport, Emitter(sender)
    LOG.info('Watcher notifications: sent by %s to topics %s',
             ', '.join(conf.oslo_messaging_notifications.driver),
             ', '.join(conf.oslo_messaging_notifications.topics))
    return _current


def reset(timeout=STOP_TIMEOUT):
    """Back to the emitter that sends nothing; what is queued is sent (for
    at most ``timeout`` s) and the transport is closed."""
    global _current, _transport
    with _lock:
        transport, _transport = _transport, None
        emitter, _current = _current, _NOOP
    if isinstance(emitter._send, _Sender):
        emitter._send.stop(timeout)
    if transport is not None:
        transport.cleanup()

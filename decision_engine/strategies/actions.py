"""The actions a plan is made of, as plain JSON-able dicts.

Every action is ``{'action_type': ..., 'input_parameters': {...},
'description': ...}``. The types:

``migrate``
    ``instance_uuid``, ``source_node``, ``destination_node`` (hostnames) and
    ``migration_type`` (``live`` or ``cold``).
``change_compute_service_state``
    ``hostname``, ``state`` (``enabled``/``disabled``), ``reason``.
``change_node_power_state``
    ``hostname``, ``state`` (``on``/``off``).
``nop``
    ``message``; does nothing (the dummy strategy).
``sleep``
    ``duration`` seconds (the dummy strategy).
"""

MIGRATE = 'migrate'
CHANGE_SERVICE = 'change_compute_service_state'
CHANGE_POWER = 'change_node_power_state'
NOP = 'nop'
SLEEP = 'sleep'

TYPES = (MIGRATE, CHANGE_SERVICE, CHANGE_POWER, NOP, SLEEP)

# Recorded as the compute service's disabled reason so a later strategy
# knows which disabled hosts the engine itself took out of service.
DISABLED_REASON_PREFIX = 'decision-engine'


def migrate(inst, source, dest, kind):
    return {
        'action_type': MIGRATE,
        'input_parameters': {'instance_uuid': inst.uuid,
                             'source_node': source,
                             'destination_node': dest,
                             'migration_type': kind},
        'description': '%s-migrate instance %s (%s) from %s to %s'
                       % (kind, inst.uuid, inst.name, source, dest),
    }


def change_service(hostname, state, reason=''):
    return {
        'action_type': CHANGE_SERVICE,
        'input_parameters': {'hostname': hostname, 'state': state,
                             'reason': reason},
        'description': '%s the compute service of %s'
                       % ('Disable' if state == 'disabled' else 'Enable',
                          hostname),
    }


def change_power(hostname, state):
    return {
        'action_type': CHANGE_POWER,
        'input_parameters': {'hostname': hostname, 'state': state},
        'description': 'Power %s %s' % (state, hostname),
    }


def nop(message):
    return {'action_type': NOP, 'input_parameters': {'message': message},
            'description': 'Do nothing: %s' % message}


def sleep(duration):
    return {'action_type': SLEEP, 'input_parameters': {'duration': duration},
            'description': 'Wait %s s' % duration}

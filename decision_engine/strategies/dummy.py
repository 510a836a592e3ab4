"""``dummy``: a strategy that decides nothing useful, for tests and demos."""

from decision_engine.strategies import actions
from decision_engine.strategies import base


class DummyStrategy(base.Strategy):
    name = 'dummy'
    goal = 'dummy'
    description = ('Produces a fixed plan of a no-op and a sleep; the model '
                   'is read but not changed.')
    parameters_schema = {
        'type': 'object',
        'properties': {
            'message': {'type': 'string', 'maxLength': 255,
                        'default': 'hello',
                        'description': 'Message of the no-op action.'},
            'sleep': {'type': 'number', 'minimum': 0, 'maximum': 3600,
                      'default': 1,
                      'description': 'Duration of the sleep action.'},
        },
        'additionalProperties': False,
    }
    indicators = (
        ('hosts_seen', 'hosts', 'Compute nodes in the audit scope.'),
        ('instances_seen', 'instances', 'Instances on those nodes.'),
    )

    def execute(self, context, params):
        return base.Solution(
            actions=[actions.nop(params['message']),
                     actions.sleep(params['sleep'])],
            indicators={'hosts_seen': len(context.nodes),
                        'instances_seen': len(context.instances)})

"""The strategy interface and what a strategy returns.

A strategy class declares its ``name``, ``goal``, a JSON schema for its
parameters (``parameters_schema``) and the efficacy indicators it reports
(``indicators``), and, when it decides from measured load, the metrics it
needs (:meth:`Strategy.required_metrics`, keys of
:mod:`~decision_engine.common.measurements`; the audit gathers them into
``context.metrics`` before :meth:`Strategy.execute` runs, and applies the
``missing_metrics`` parameter). :meth:`Strategy.execute` gets a
:class:`~decision_engine.strategies.context.StrategyContext` (the audit's
scope applied to a private model snapshot) and the validated parameters,
and returns a :class:`Solution`. It must not touch the cloud, the store or
the pool: it only decides.
"""

import copy
from typing import Any, ClassVar

from decision_engine.common import schema


class StrategyError(Exception):
    """The strategy cannot produce a plan; the message says why."""


class InvalidParameters(ValueError):
    """Audit parameters do not match the strategy's schema."""


class Solution:
    """A strategy's result: ordered actions and efficacy indicators."""

    def __init__(self, actions=None, indicators=None, message=None):
        self.actions = list(actions or [])
        self.indicators = dict(indicators or {})
        self.message = message

    def to_dict(self):
        return {'actions': self.actions, 'indicators': self.indicators,
                'message': self.message}


class Strategy:
    """Base class of every strategy."""

    #: the plugin's name (its entry point), set by each strategy.
    name: ClassVar[str | None] = None
    goal: ClassVar[str | None] = None
    description: ClassVar[str] = ''
    parameters_schema: ClassVar[dict[str, Any]] = {
        'type': 'object', 'properties': {}, 'additionalProperties': False}
    # (name, unit, description) of each efficacy indicator.
    indicators: ClassVar[tuple[tuple[str, str, str], ...]] = ()

    @classmethod
    def validate_parameters(cls, params):
        """Check ``params`` against the schema and fill in the defaults.

        :returns: a new dict with every defaulted parameter present.
        :raises InvalidParameters: one line naming the bad parameter.
        """
        params = copy.deepcopy(params or {})
        if not isinstance(params, dict):
            raise InvalidParameters('parameters must be a JSON object')
        error = schema.first_error(cls.parameters_schema, params)
        if error is not None:
            where, message = error
            raise InvalidParameters(
                'invalid parameter%s for strategy %s: %s'
                % (' %r' % where if where else 's', cls.name, message))
        for key, prop in cls.parameters_schema.get('properties',
                                                   {}).items():
            if key not in params and 'default' in prop:
                params[key] = copy.deepcopy(prop['default'])
        return params

    @classmethod
    def required_metrics(cls, params):
        """The metrics :meth:`execute` reads with these (validated)
        parameters; empty for strategies deciding from allocations only."""
        return ()

    @classmethod
    def describe(cls):
        """A JSON-able description (for the API and the CLI)."""
        return {
            'name': cls.name,
            'goal': cls.goal,
            'description': cls.description,
            'parameters_schema': cls.parameters_schema,
            'indicators': [{'name': n, 'unit': u, 'description': d}
                           for n, u, d in cls.indicators],
            'metrics': list(cls.required_metrics(cls.default_parameters())),
        }

    @classmethod
    def default_parameters(cls):
        """The defaulted parameters (unvalidated: some may be required)."""
        return {k: copy.deepcopy(p['default']) for k, p in
                cls.parameters_schema.get('properties', {}).items()
                if 'default' in p}

    def execute(self, context, params):
        """Decide; :returns: a :class:`Solution`.

        :raises StrategyError: when no valid plan exists, saying why.
        """
        raise NotImplementedError

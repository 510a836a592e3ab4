"""Optimization strategies: each turns a model of the cloud into a plan.

A strategy is a :class:`~decision_engine.strategies.base.Strategy` subclass
registered in the stevedore namespace ``decision_engine.strategies``; see
:mod:`decision_engine.strategies.loader`.
"""

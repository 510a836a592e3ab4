"""The datasource interface.

A datasource knows how to ask its metrics store for one metric over a
chunk of the scope (host names or instance uuids) in *one* query; the
gatherer (:mod:`decision_engine.datasources.gather`) chunks the scope,
runs the queries in parallel, retries them and caches their answers.

To add one (e.g. ``gnocchi``): subclass :class:`Datasource`, implement
:meth:`Datasource.query` and :meth:`Datasource.run`, and register the class
under ``decision_engine.datasources`` in ``setup.cfg``.
"""

import dataclasses
from typing import ClassVar


class DatasourceError(Exception):
    """A query failed; the message names the query and the reason."""


class RetryableError(DatasourceError):
    """A failure worth retrying: no answer, a timeout, a 5xx or 429, a
    malformed body.

    :param retry_after: seconds the server asked to wait before the next
        try (its ``Retry-After``), None when it did not say.
    """

    def __init__(self, message, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclasses.dataclass(frozen=True)
class Query:
    """One query of one metric over a chunk of names.

    :param text: what is sent (PromQL for Prometheus), also used in errors.
    :param names: the host names or instance uuids the query is about.
    :param label_values: ``{value in answers: name}`` mapping what the
        datasource answers back to the names asked for.
    :param label: the label whose value names the element in answers.
    :param strip_port: drop a ``:port`` suffix from that value first.
    """

    metric: str
    text: str
    names: tuple
    label_values: dict = dataclasses.field(default_factory=dict,
                                           compare=False, hash=False)
    label: str = ''
    strip_port: bool = False


class Datasource:
    """Base class of datasource plugins.

    :param conf: the engine's configuration (``[datasource]``).
    """

    name: ClassVar[str | None] = None
    #: the metric keys (:mod:`decision_engine.common.measurements`) served.
    metrics: ClassVar[tuple[str, ...]] = ()

    def __init__(self, conf):
        self.conf = conf

    def describe(self):
        """Where the datasource reads from, for messages."""
        return self.name

    def weight(self, metric):
        """How much one name weighs in a query of ``metric``, relative to
        the lightest metric: a chunk names ``query_chunk_size / weight``
        of them, so that the queries of one gathering cost about the same
        (and run in even waves)."""
        return 1

    def query(self, metric, names, window, fallback=False, granularity=0):
        """The :class:`Query` of ``metric`` for ``names`` over ``window``
        seconds, aggregated at ``granularity`` seconds (0: from the raw
        samples); with ``fallback``, the query by a second way of matching
        names (None when there is none)."""
        raise NotImplementedError

    def run(self, query, timeout, at=None):
        """Send ``query`` once (no retry).

        :param at: evaluation time (UNIX seconds), the same for every query
            of one gathering.
        :returns: ``{name: float}`` for the names with a value.
        :raises RetryableError: when trying again may help.
        :raises DatasourceError: otherwise.
        """
        raise NotImplementedError

    def close(self):
        pass

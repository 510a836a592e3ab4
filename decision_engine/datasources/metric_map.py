"""The metric map: renaming the metrics and labels the datasource reads.

A deployment whose exporters use other names gives ``[datasource]
metric_map_file``, a YAML (or JSON, a subset of YAML) document::

    metrics:
      node_cpu_seconds_total: my_node_cpu_seconds_total
    labels:
      fqdn: hostname
      resource: instance_uuid

Anything not named keeps its default name. Unknown keys are refused, so a
typo does not silently fall back to a default.
"""

from decision_engine.common import yaml_files

DEFAULT_METRICS = {
    'node_cpu_seconds_total': 'node_cpu_seconds_total',
    'node_memory_MemTotal_bytes': 'node_memory_MemTotal_bytes',
    'node_memory_MemAvailable_bytes': 'node_memory_MemAvailable_bytes',
    'ceilometer_cpu': 'ceilometer_cpu',
    'ceilometer_memory_usage': 'ceilometer_memory_usage',
}
DEFAULT_LABELS = {
    'fqdn': 'fqdn',
    'instance': 'instance',
    'mode': 'mode',
    'resource': 'resource',
}


class InvalidMetricMap(ValueError):
    """The metric map file cannot be used; the message says why."""


class MetricMap:
    """Names of metrics and labels, defaults overridden by the map."""

    def __init__(self, metrics=None, labels=None):
        self.metrics = dict(DEFAULT_METRICS, **(metrics or {}))
        self.labels = dict(DEFAULT_LABELS, **(labels or {}))

    def metric(self, default_name):
        return self.metrics[default_name]

    def label(self, default_name):
        return self.labels[default_name]

    @classmethod
    def load(cls, path):
        """:raises InvalidMetricMap: naming the file and what is wrong."""
        if not path:
            return cls()
        try:
            doc = yaml_files.load(path)
        except yaml_files.DocumentError as exc:
            raise InvalidMetricMap('[datasource] metric_map_file %s: %s'
                                   % (path, exc))
        doc = doc or {}
        if not isinstance(doc, dict) or set(doc) - {'metrics', 'labels'}:
            raise InvalidMetricMap(
                '[datasource] metric_map_file %s: expected a mapping with '
                '"metrics" and/or "labels"' % path)
        parts = {}
        for key, defaults in (('metrics', DEFAULT_METRICS),
                              ('labels', DEFAULT_LABELS)):
            part = doc.get(key) or {}
            if not isinstance(part, dict):
                raise InvalidMetricMap('[datasource] metric_map_file %s: '
                                       '"%s" must be a mapping' % (path, key))
            # NOTE: sorted by repr: YAML keys may be numbers as well as names.
            unknown = sorted(set(part) - set(defaults), key=repr)
            if unknown:
                raise InvalidMetricMap(
                    '[datasource] metric_map_file %s: unknown %s %s; known: '
                    '%s' % (path, key, ', '.join(map(str, unknown)),
                            ', '.join(sorted(defaults))))
            bad = [k for k, v in part.items()
                   if not isinstance(v, str) or not v]
            if bad:
                raise InvalidMetricMap(
                    '[datasource] metric_map_file %s: %s %s must map to a '
                    'non-empty name' % (path, key, ', '.join(map(str, bad))))
            parts[key] = part
        return cls(parts['metrics'], parts['labels'])

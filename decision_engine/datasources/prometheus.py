"""The Prometheus datasource: batched PromQL over the Prometheus HTTP API.

One instant query (``POST /api/v1/query``, form-encoded, so long regex
matchers do not meet URL length limits) per metric and chunk of names::

    host_cpu_usage      100 * (1 - avg by (fqdn) (rate(
                            node_cpu_seconds_total{mode="idle",
                            fqdn=~"h1|h2"}[600s])))
    host_ram_usage      (avg by (fqdn) (avg_over_time(
                            node_memory_MemTotal_bytes{fqdn=~"h1|h2"}[600s]))
                         - avg by (fqdn) (avg_over_time(
                            node_memory_MemAvailable_bytes{...}[600s])))
                        / 1048576
    instance_cpu_usage  sum by (resource) (rate(
                            ceilometer_cpu{resource=~"u1|u2"}[600s])) / 1e9
    instance_ram_usage  avg by (resource) (avg_over_time(
                            ceilometer_memory_usage{resource=~"..."}[600s]))

With ``[datasource] granularity`` G > 0 the range aggregations become
subqueries at a G-second step: ``avg_over_time(rate(X[Gs])[600s:Gs])`` for
the counters, ``avg_over_time(X[600s:Gs])`` for the gauges.

These are the series node_exporter and Ceilometer's Prometheus publisher
expose (``node_cpu_seconds_total`` per CPU and ``mode`` in seconds,
``node_memory_*_bytes`` gauges; ``ceilometer_cpu`` the instance's CPU time
in nanoseconds, ``ceilometer_memory_usage`` in MiB), the same Watcher's
Prometheus datasource reads. Hosts are matched by ``[datasource]
host_label`` (after ``host_label_map``); hosts with no series under it are
asked again by the ``instance`` label, whose value is ``host:port``.

A NaN answer is no value (never 0). Answers follow the documented envelope
``{"status": "success"|"error", "data": {"resultType": "vector", "result":
[{"metric": {...}, "value": [ts, "1.5"]}]}, "errorType", "error"}``; 400 and
422 are not retried, 503 (the query timed out in Prometheus), other 5xx and
429 are.
"""

import math
import re
import threading

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
import requests

from decision_engine.common import measurements as m
from decision_engine.common import retry_after
from decision_engine.common import urls
from decision_engine.datasources import base
from decision_engine.datasources import metric_map as metric_map_mod

_PORT_SUFFIX = '(:[0-9]+)?'
#: see :meth:`PrometheusDatasource.weight`.
HOST_CPU_WEIGHT = 16


def _string(text):
    """A PromQL double-quoted string literal of ``text``."""
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')


# NOTE: only RE2's metacharacters are escaped, not re.escape's wider set
# (it escapes "-", which every uuid and most hostnames hold): the matchers
# stay plain alternations of the names, shorter and readable in errors.
# Prometheus 2.42 answered them in time proportional to the names either
# way (4 ms for 100 uuids, 34 ms for 1,000, measured).
_METACHARACTERS = re.compile(r'([\\.+*?()|\[\]{}^$])')


def _literal(value):
    """``value`` as an RE2 literal."""
    return _METACHARACTERS.sub(r'\\\1', value)


def _alternation(values):
    return '|'.join(_literal(v) for v in values)


class _Range:
    """The range aggregations over ``window`` seconds, from the raw samples
    or, with a ``granularity``, as subqueries at that step."""

    def __init__(self, window, granularity):
        self.window, self.step = int(window), int(granularity or 0)

    def rate(self, selector):
        """Per-second rate of a counter, averaged over the window."""
        if not self.step:
            return 'rate(%s[%ds])' % (selector, self.window)
        return 'avg_over_time(rate(%s[%ds])[%ds:%ds])' % (
            selector, self.step, self.window, self.step)

    def mean(self, selector):
        """Mean of a gauge over the window."""
        if not self.step:
            return 'avg_over_time(%s[%ds])' % (selector, self.window)
        return 'avg_over_time(%s[%ds:%ds])' % (selector, self.window,
                                               self.step)


class PrometheusDatasource(base.Datasource):
    name = 'prometheus'
    metrics = tuple(m.ALL_METRICS)

    def __init__(self, conf, session_factory=requests.Session):
        super().__init__(conf)
        group = conf.datasource
        if not group.prometheus_url:
            raise base.DatasourceError(
                'no datasource: [datasource] prometheus_url is not set')
        self.url = group.prometheus_url.rstrip('/') + '/api/v1/query'
        # NOTE: the URL may carry basic-auth credentials (requests sends
        # them); messages, the API and the logs get it without them.
        self.shown_url = urls.without_password(self.url)
        self.names = metric_map_mod.MetricMap.load(group.metric_map_file)
        mapped = self.names.labels
        self.host_label = (mapped['fqdn'] if mapped['fqdn'] != 'fqdn'
                           else group.host_label)
        self.instance_label = (mapped['resource']
                               if mapped['resource'] != 'resource'
                               else group.instance_label)
        self.port_label = mapped['instance']
        self.host_label_map = dict(group.host_label_map or {})
        self._session_factory = session_factory
        self._local = threading.local()
        self._sessions = []
        self._lock = threading.Lock()
        # NOTE: Aetos (Keystone-protected Prometheus API): one keystoneauth
        # session, shared by the workers (it is thread-safe and caches the
        # token), when [datasource] auth_type is set.
        self._keystone = None
        if group.auth_type:
            try:
                auth = ks_loading.load_auth_from_conf_options(
                    conf, 'datasource')
                self._keystone = ks_loading.load_session_from_conf_options(
                    conf, 'datasource', auth=auth)
            except ks_exc.ClientException as exc:
                raise base.DatasourceError(
                    '[datasource] auth_type %s: %s' % (group.auth_type, exc))

    def describe(self):
        return 'prometheus at %s' % self.shown_url

    def weight(self, metric):
        # NOTE: node_exporter has one idle series per CPU, dozens per
        # compute host, against one or two series per name for the other
        # metrics: measured at 1,000 hosts of 32-96 CPUs, a query of N
        # hosts' CPU costs Prometheus about as much as one of 16 N
        # instances' (benchmarks/metrics.py).
        return HOST_CPU_WEIGHT if metric == m.HOST_CPU else 1

    # -- building queries ----------------------------------------------------

    def query(self, metric, names, window, fallback=False, granularity=0):
        names = tuple(names)
        if metric in m.HOST_METRICS:
            if fallback:
                if self.port_label == self.host_label:
                    return None
                label = self.port_label
                values = {n: n for n in names}
                matcher = '%s=~%s' % (label, _string(
                    '(%s)%s' % (_alternation(values), _PORT_SUFFIX)))
            else:
                label = self.host_label
                values = {self.host_label_map.get(n, n): n for n in names}
                matcher = '%s=~%s' % (label, _string(_alternation(values)))
            text = self._host_query(metric, label, matcher,
                                    _Range(window, granularity))
        elif metric in m.INSTANCE_METRICS:
            if fallback:
                return None
            label = self.instance_label
            values = {n: n for n in names}
            matcher = '%s=~%s' % (label, _string(_alternation(values)))
            text = self._instance_query(metric, label, matcher,
                                        _Range(window, granularity))
        else:
            raise base.DatasourceError('prometheus: unknown metric %r'
                                       % metric)
        return base.Query(metric, text, names, values, label,
                          strip_port=fallback)

    def _host_query(self, metric, label, matcher, r):
        if metric == m.HOST_CPU:
            sel = '%s{%s=%s,%s}' % (
                self.names.metric('node_cpu_seconds_total'),
                self.names.label('mode'), _string('idle'), matcher)
            return '100 * (1 - avg by (%s) (%s))' % (label, r.rate(sel))
        total = '%s{%s}' % (self.names.metric('node_memory_MemTotal_bytes'),
                            matcher)
        avail = '%s{%s}' % (
            self.names.metric('node_memory_MemAvailable_bytes'), matcher)
        return ('(avg by (%s) (%s) - avg by (%s) (%s)) / 1048576'
                % (label, r.mean(total), label, r.mean(avail)))

    def _instance_query(self, metric, label, matcher, r):
        if metric == m.INSTANCE_CPU:
            return 'sum by (%s) (%s) / 1e9' % (label, r.rate(
                '%s{%s}' % (self.names.metric('ceilometer_cpu'), matcher)))
        return 'avg by (%s) (%s)' % (label, r.mean('%s{%s}' % (
            self.names.metric('ceilometer_memory_usage'), matcher)))

    # -- running them --------------------------------------------------------

    def _session(self):
        session = getattr(self._local, 'session', None)
        if session is None:
            session = self._local.session = self._session_factory()
            with self._lock:
                self._sessions.append(session)
        return session

    def run(self, query, timeout, at=None):
        form = {'query': query.text,
                'timeout': '%dms' % max(1, int(timeout * 1000))}
        if at is not None:
            form['time'] = '%.3f' % at
        try:
            if self._keystone is not None:
                resp = self._keystone.post(self.url, data=form,
                                           timeout=timeout, raise_exc=False)
            else:
                resp = self._session().post(self.url, data=form,
                                            timeout=timeout)
        except (requests.RequestException, ks_exc.ConnectionError,
                ks_exc.RequestTimeout) as exc:
            raise base.RetryableError('no answer from %s: %s: %s' % (
                self.shown_url, type(exc).__name__, exc))
        except ks_exc.ClientException as exc:
            # NOTE: keystoneauth could not get a token (bad credentials,
            # Keystone down): named, not retried here.
            raise base.DatasourceError('no token for %s: %s: %s' % (
                self.shown_url, type(exc).__name__, exc))
        if resp.status_code == 401 and self._keystone is not None:
            # The token expired or was revoked: the next attempt gets a
            # new one.
            self._keystone.invalidate()
            raise base.RetryableError('HTTP 401 from %s: token refused'
                                      % self.shown_url)
        try:
            doc = resp.json()
        except ValueError:
            doc = None
        if resp.status_code != 200 or not isinstance(doc, dict) or \
                doc.get('status') != 'success':
            detail = (': '.join(str(doc[k]) for k in ('errorType', 'error')
                                if doc.get(k))
                      if isinstance(doc, dict) and doc.get('error')
                      else (resp.text or '')[:200].strip())
            error = base.RetryableError if (
                resp.status_code >= 500 or resp.status_code == 429
                or (resp.status_code == 200 and not isinstance(doc, dict))
            ) else base.DatasourceError
            message = 'HTTP %d from %s%s' % (
                resp.status_code, self.shown_url,
                ': %s' % detail if detail else '')
            if error is base.RetryableError:
                raise error(message, retry_after=retry_after.seconds(
                    resp.headers) if resp.status_code in (429, 503)
                    else None)
            raise error(message)
        return self._values(query, doc)

    def _values(self, query, doc):
        data = doc.get('data')
        if not isinstance(data, dict) or data.get('resultType') != 'vector' \
                or not isinstance(data.get('result'), list):
            raise base.RetryableError('unexpected answer from %s: not an '
                                      'instant vector' % self.shown_url)
        label, strip = query.label, query.strip_port
        result = {}
        for sample in data['result']:
            try:
                value = sample['metric'].get(label)
                number = float(sample['value'][1])
            except (KeyError, TypeError, ValueError, IndexError,
                    AttributeError):
                raise base.RetryableError('unexpected sample from %s: %r'
                                          % (self.shown_url, sample)[:300])
            if value is None or math.isnan(number) or math.isinf(number):
                continue
            if strip:
                value = re.sub(_PORT_SUFFIX + '$', '', value)
            name = query.label_values.get(value)
            if name is not None:
                result[name] = number
        return result

    def close(self):
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

"""Options of the ``[datasource]`` group: where measured load comes from.

Where to read and what names to read (``name``, ``prometheus_url``, the
labels and the metric map) take effect on restart; how to gather (timeouts,
retries, chunk size, parallelism, window, cache) is re-read at every
gathering, so a SIGHUP applies to the next audit.

For a Keystone-protected Prometheus API (Aetos), the group also carries
keystoneauth's session options (TLS, ...) and auth options: when
``auth_type`` is set, every query goes through a keystoneauth session that
adds the token (and gets a new one after a 401).
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

GROUP = 'datasource'

opts = [
    cfg.StrOpt(
        'name',
        default='prometheus',
        help='The datasource plugin (stevedore namespace '
             'decision_engine.datasources) that strategies needing measured '
             'load get their metrics from.'),
    cfg.URIOpt(
        'prometheus_url',
        schemes=['http', 'https'],
        secret=True,
        help='Base URL of the Prometheus HTTP API (the part before '
             '/api/v1), e.g. http://prometheus.example.org:9090, or of an '
             'Aetos proxy (then set auth_type and its options here). '
             'Secret: it may hold basic-auth credentials '
             '(http://user:password@host:9090), which are sent and never '
             'shown. Unset: no datasource, and audits of strategies that '
             'need metrics fail saying so.'),
    cfg.FloatOpt(
        'query_timeout',
        default=30.0, min=0.1, max=600.0, mutable=True,
        help='Connect and read timeout in seconds of one query (also sent '
             'to Prometheus as its own query timeout).'),
    cfg.FloatOpt(
        'gather_timeout',
        default=120.0, min=1.0, max=3600.0, mutable=True,
        help='Overall deadline in seconds of gathering one audit\'s metrics, '
             'retries included; past it the gathering fails as a whole.'),
    cfg.IntOpt(
        'max_retries',
        default=3, min=0, max=20, mutable=True,
        help='Retries of one query after a connection error, a timeout, a '
             '5xx or 429 answer or a malformed body, before the gathering '
             'fails.'),
    cfg.FloatOpt(
        'retry_delay',
        default=0.5, min=0.0, max=60.0, mutable=True,
        help='Base delay in seconds of the exponential backoff between '
             'retries (doubled each attempt, full jitter).'),
    cfg.IntOpt(
        'query_chunk_size',
        default=1000, min=1, max=10000, mutable=True,
        help='Most hosts or instances named in one PromQL query (a regex '
             'matcher over their names, which Prometheus looks up as a set '
             'of values): a scope of N elements takes ceil(N / '
             'query_chunk_size) queries per metric, and ceil(16 N / '
             'query_chunk_size) for host CPU, whose node_exporter series '
             'are per CPU.'),
    cfg.IntOpt(
        'parallelism',
        default=8, min=1, max=256, mutable=True,
        help='Most queries in flight at once for one gathering, on workers '
             'of the shared pool (never more than the pool has).'),
    cfg.StrOpt(
        'host_label',
        default='fqdn',
        help='Label of node_exporter series that holds the compute host\'s '
             'hostname (as Nova reports it). Hosts without such series are '
             'looked up by the "instance" label (its value without the '
             ':port).'),
    cfg.DictOpt(
        'host_label_map',
        default={},
        help='hostname:label-value pairs for hosts whose host_label value '
             'is not their Nova hostname, e.g. cmp1:cmp1.example.org.'),
    cfg.StrOpt(
        'instance_label',
        default='resource',
        help='Label of Ceilometer series that holds the instance uuid.'),
    cfg.StrOpt(
        'metric_map_file',
        help='A YAML or JSON file renaming metrics and labels, for '
             'deployments whose names differ: {"metrics": {"<default '
             'name>": "<name here>"}, "labels": {"<default label>": '
             '"<label here>"}}. Default names: node_cpu_seconds_total, '
             'node_memory_MemTotal_bytes, node_memory_MemAvailable_bytes, '
             'ceilometer_cpu, ceilometer_memory_usage; labels fqdn, '
             'instance, mode, resource.'),
    cfg.IntOpt(
        'window',
        default=600, min=10, max=86400, mutable=True,
        help='Averaging window in seconds: rate() of the CPU counters and '
             'avg_over_time() of the memory gauges over this period.'),
    cfg.IntOpt(
        'granularity',
        default=0, min=0, max=3600, mutable=True,
        help='Resolution in seconds of the aggregation over the window. 0: '
             'every raw sample (rate() of the CPU counters and '
             'avg_over_time() of the memory gauges over the whole '
             'window). N > 0: PromQL subqueries at an N-second step, the '
             'mean of the memory gauge at each step and of the CPU rate '
             'over each N seconds, which is what Gnocchi calls the '
             'granularity. N must be at most half of window and, for the '
             'CPU rates to have two samples, at least twice the scrape '
             'interval.'),
    cfg.IntOpt(
        'cache_ttl',
        default=60, min=0, max=3600, mutable=True,
        help='Seconds during which audits asking for the same metric, scope '
             'and window reuse the values already gathered (0: never).'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)
    ks_loading.register_session_conf_options(conf, GROUP)
    ks_loading.register_auth_conf_options(conf, GROUP)


def list_opts():
    """Ours, keystoneauth's session options and the common and
    ``password`` auth options (for the sample config)."""
    unique = {opt.dest: opt for opt in (
        ks_loading.get_session_conf_options()
        + ks_loading.get_auth_common_conf_options()
        + ks_loading.get_auth_plugin_conf_options('password'))}
    return opts + [o for d, o in unique.items()
                   if d not in {x.dest for x in opts}]

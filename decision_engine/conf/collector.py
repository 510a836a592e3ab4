"""Options of the ``[collector]`` group: building and refreshing the
compute model."""

from oslo_config import cfg

GROUP = 'collector'

opts = [
    cfg.BoolOpt(
        'enabled',
        default=True,
        help='Keep a live compute model of the cloud: build it on demand '
             'and refresh it periodically. Takes effect on restart.'),
    cfg.IntOpt(
        'period',
        default=600, min=10, max=86400, mutable=True,
        help='Seconds between two periodic rebuilds of the whole-cloud '
             'compute model.'),
    cfg.IntOpt(
        'max_age',
        default=300, min=0, max=86400, mutable=True,
        help='Default age in seconds beyond which a cached model is too old '
             'for a caller that does not say how fresh it needs the model; '
             'such a call triggers a rebuild (shared with any build of the '
             'same scope already running).'),
    cfg.IntOpt(
        'build_timeout',
        default=300, min=1, max=86400, mutable=True,
        help='Overall deadline in seconds of one model build, retries '
             'included. A build that has not finished by then fails; the '
             'previous model stays current and is reported stale.'),
    cfg.IntOpt(
        'build_workers',
        default=64, min=1, max=1000, mutable=True,
        help='Most requests one model build runs at the same time, drawn '
             'from the shared worker pool (and never more than the pool '
             'has).'),
    cfg.IntOpt(
        'max_retries',
        default=4, min=0, max=20, mutable=True,
        help='Retries of one request after a connection error, a 5xx, a '
             '429 or a malformed body, before the build fails.'),
    cfg.FloatOpt(
        'retry_delay',
        default=0.5, min=0.0, max=60.0, mutable=True,
        help='Base delay in seconds of the exponential backoff between '
             'retries (doubled each attempt, with full jitter). A '
             'Retry-After header, when the server sends one, is honoured '
             'instead, up to max_retry_delay.'),
    cfg.FloatOpt(
        'max_retry_delay',
        default=30.0, min=0.0, max=600.0, mutable=True,
        help='Longest single wait between two retries, in seconds.'),
    cfg.FloatOpt(
        'request_timeout',
        default=60.0, min=0.1, max=3600.0, mutable=True,
        help='Connect and read timeout of one request in seconds (also '
             'capped by what is left of build_timeout).'),
    cfg.IntOpt(
        'hypervisors_page_size',
        default=1000, min=1, max=100000, mutable=True,
        help='Page size of the hypervisor listing. Nova caps pages at its '
             '[api] max_limit (1000 by default).'),
    cfg.IntOpt(
        'servers_page_size',
        default=1000, min=1, max=100000, mutable=True,
        help='Page size of the server listings (per host, or over all '
             'servers with servers_listing = all_servers): large enough '
             'that a normal host needs a single request. Nova caps pages '
             'at its [api] max_limit (1000 by default).'),
    cfg.StrOpt(
        'http_transport',
        default='direct', choices=[
            ('direct', 'kept-open connections (urllib3), as many per '
                       'endpoint as requests run at once; token, '
                       'endpoints and microversions from the openstacksdk '
                       'connection (about a third of the CPU per request)'),
            ('sdk', 'every request through the openstacksdk proxies '
                    '(keystoneauth and requests)')],
        mutable=True,
        help='How the model builder sends its GET requests. "direct" falls '
             'back to "sdk" when an HTTP proxy is set in the environment.'),
    cfg.StrOpt(
        'usage_source',
        default='flavors', choices=[
            ('flavors', 'derive each instance\'s usage from its embedded '
                        'flavor by Nova\'s rules (no root disk for a '
                        'volume-backed instance, swap rounded up to GiB, '
                        'PCPU for hw:cpu_policy=dedicated); no extra '
                        'request. Misses what Placement holds for '
                        'migrations in progress.'),
            ('placement', 'read what Placement holds: one GET '
                          '/resource_providers/{uuid}/allocations per '
                          'host (one more request per host, sent in '
                          'parallel with its server listing); exact for '
                          'migrations, resize reservations, PCPU and '
                          'custom resource classes')],
        mutable=True,
        help='Where the model takes the resources each instance uses on '
             'its host. Applies from the next build.'),
    cfg.StrOpt(
        'servers_listing',
        default='per_host', choices=[
            ('per_host', 'one servers/detail listing per host, sent as '
                         'soon as the host\'s inventories are in, in '
                         'parallel (the three steps): about one request '
                         'per host, and each one makes Nova query Neutron '
                         'at least once more (ports, security groups), so '
                         'a build costs Neutron about 2 queries per host'),
            ('all_servers', 'servers/detail?all_tenants=1 page after page '
                            '(servers_page_size a page) from the start of '
                            'the build, grouped by host in the engine: '
                            'about instances / servers_page_size requests '
                            'and 8 Neutron queries per 1,000 servers, but '
                            'the pages follow one another, so at a high '
                            'latency the build can take longer')],
        mutable=True,
        help='How a model build lists the instances. Every servers/detail '
             'page costs the cloud Neutron queries that nova-api sends '
             'before answering; per_host pays them once per host, '
             'all_servers once per page. Applies from the next build.'),
    cfg.StrOpt(
        'default_availability_zone',
        default='nova', regex=r'^[^:]{1,255}$', mutable=True,
        help='The zone Nova gives a compute host that is in no aggregate '
             'with an availability_zone: set it as Nova\'s [DEFAULT] '
             'default_availability_zone. Full builds read every host\'s '
             'zone from Nova (and warn when it disagrees with this '
             'option); between builds, the notification-fed model gives '
             'this zone to a host leaving its last zone aggregate or whose '
             'aggregate loses its zone. Applies from the next build.'),
    cfg.IntOpt(
        'max_scopes',
        default=64, min=1, max=10000, mutable=True,
        help='Most scoped models kept (the whole-cloud model is always '
             'kept besides them). When a new scope is built beyond this '
             'number, the scope used least recently is forgotten, model '
             'and status; its next request builds it again. A scope whose '
             'build is in flight is never forgotten.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return opts

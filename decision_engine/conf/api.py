"""Options of the ``[api]`` group: the HTTP API served inside the daemon."""

from oslo_config import cfg

GROUP = 'api'

opts = [
    cfg.BoolOpt(
        'enabled',
        default=True,
        help='Serve the HTTP API from the engine process.'),
    cfg.HostAddressOpt(
        'host',
        default='127.0.0.1',
        help='Address the API listens on. With ``auth_strategy = noauth`` '
             'only a loopback address is accepted.'),
    cfg.PortOpt(
        'port',
        default=9322,
        help='TCP port the API listens on (0 picks a free port, for tests).'),
    cfg.IntOpt(
        'threads',
        default=8, min=1, max=256,
        help='Threads of the HTTP server that serve requests. They are '
             'separate from the engine worker pool: API requests only read '
             'the store or hand work to the manager.'),
    cfg.StrOpt(
        'auth_strategy',
        default='noauth',
        choices=[
            ('noauth', 'No authentication; refused unless [api] host is a '
                       'loopback address.'),
            ('http_basic', 'HTTP basic authentication against the bcrypt '
                           'entries of [api] http_basic_auth_user_file.'),
            ('keystone', 'Keystone tokens, checked by keystonemiddleware '
                         '(configure [keystone_authtoken]).'),
        ],
        help='How API requests are authenticated. Takes effect on restart.'),
    cfg.ListOpt(
        'admin_roles',
        default=['admin'],
        item_type=cfg.types.String(max_length=255),
        mutable=True,
        help='With ``auth_strategy = keystone``: the Keystone roles that '
             'may use the API, any one of them is enough (compared '
             'without regard to case, as oslo.policy does). A valid token '
             'carrying none of them gets 403; a missing or invalid token '
             'still gets 401. Every route but ``GET /`` and '
             '``/healthcheck`` needs one of them, reading included: the '
             'model and the plans describe the whole cloud, and a plan '
             'runs with the engine\'s own admin credentials. An empty '
             'list is refused at start. Read on each request, so a SIGHUP '
             'applies a change at once.'),
    cfg.StrOpt(
        'http_basic_auth_user_file',
        default='/etc/decision-engine/htpasswd',
        help='htpasswd file of ``user:bcrypt-hash`` lines (``htpasswd '
             '-nbB``), used when auth_strategy is http_basic.'),
    cfg.IntOpt(
        'max_request_body_size',
        default=65536, min=1024, max=16 * 1024 * 1024,
        help='Largest request body, in bytes, the API accepts; larger '
             'bodies get 413.'),
    cfg.IntOpt(
        'max_request_header_size',
        default=16384, min=1024, max=1024 * 1024,
        help='Largest request line plus headers, in bytes, the API reads; '
             'a longer request line gets 414, larger headers 413, and the '
             'connection is closed. Takes effect on restart.'),
    cfg.FloatOpt(
        'header_timeout',
        default=10.0, min=1.0, max=600.0,
        help='Seconds a client has to send its request line and headers '
             'once it has started; a slower one is disconnected, so clients '
             'trickling headers cannot hold the API\'s threads. Takes '
             'effect on restart.'),
    cfg.IntOpt(
        'max_connections',
        default=256, min=1, max=65536,
        help='Most client connections the API keeps open at once (idle '
             'keep-alive ones included). A connection beyond it is answered '
             '503 and closed at once, so a flood of connections cannot '
             'exhaust the engine\'s file descriptors; the server serves new '
             'connections again as soon as others close. Takes effect on '
             'restart.'),
    cfg.IntOpt(
        'max_limit',
        default=1000, min=1, max=100000, mutable=True,
        help='Most items a list request returns.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return opts

"""The API client and output of ``decision-engine-manage``.

:class:`Client` talks to the engine's HTTP API; :func:`client` builds it
from the command line, the environment or ``--config-file``;
:func:`emit` prints a table, JSON or bare values. Every failure is a
:class:`CommandError` with one line and the exit status.
"""

import json
import os

from decision_engine.common import urls

PROG = 'decision-engine-manage'
DEFAULT_URL = 'http://127.0.0.1:9322'


class CommandError(Exception):
    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


# -- configuration -----------------------------------------------------------

def load_conf(args):
    # NOTE: imported here, as the store below: most commands only talk to
    # the engine's API over HTTP and should start fast (oslo.config and
    # SQLAlchemy are only needed by the commands that read the config).
    from oslo_config import cfg

    from decision_engine import conf as conf_mod
    from decision_engine.conf import validation

    conf = cfg.ConfigOpts()
    conf_mod.register_opts(conf)
    argv = []
    for path in args.config_file or []:
        argv += ['--config-file', path]
    try:
        conf(argv, project='decision-engine', prog=PROG,
             default_config_files=[] if args.config_file else None)
        validation.check_all(conf)
    except (cfg.Error, validation.InvalidOption) as exc:
        raise CommandError(validation.describe(exc), status=2)
    return conf


# -- the API client ----------------------------------------------------------

def _check_url(url):
    """:raises CommandError: (bad usage) unless ``url`` is http(s)://host."""
    import urllib.parse
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # NOTE: raises ValueError for a bad port
    except ValueError as exc:
        raise CommandError('invalid --url %r: %s' % (
            urls.without_password(url), exc), status=2)
    if parts.scheme not in ('http', 'https') or not parts.hostname:
        raise CommandError('invalid --url %r: expected http://HOST:PORT '
                           'or https://HOST:PORT'
                           % urls.without_password(url), status=2)


class Client:
    def __init__(self, url, auth=None, token=None, timeout=30):
        import requests
        _check_url(url)
        self.url = url.rstrip('/')
        # NOTE: --url may carry user:password (requests sends them as
        # basic credentials); messages show it without the password.
        self.shown_url = urls.without_password(self.url)
        self.session = requests.Session()
        self.session.auth = auth
        if token:
            self.session.headers['X-Auth-Token'] = token
        self.timeout = timeout
        self._requests = requests

    def call(self, method, path, body=None):
        url = self.url + path
        try:
            response = self.session.request(method, url, json=body,
                                            timeout=self.timeout)
        except self._requests.ConnectionError:
            raise CommandError('cannot reach the decision-engine API at %s '
                               '(is the engine running? see --url)'
                               % self.shown_url, status=3)
        except self._requests.Timeout:
            raise CommandError('the decision-engine API at %s did not '
                               'answer within %d s' % (self.shown_url,
                                                       self.timeout),
                               status=3)
        except self._requests.RequestException as exc:
            raise CommandError('request to the decision-engine API at %s '
                               'failed: %s' % (self.shown_url, exc), status=3)
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400:
            message = None
            if isinstance(data, dict) and isinstance(data.get('error'),
                                                     dict):
                message = data['error'].get('message')
            raise CommandError('the API refused %s %s: HTTP %d: %s' % (
                method, path, response.status_code,
                message or response.text.strip()[:200] or response.reason))
        if data is None:
            raise CommandError('%s %s at %s answered HTTP %d without a JSON '
                               'body: is --url the decision-engine API?'
                               % (method, path, self.shown_url,
                                  response.status_code))
        return data


def client(args):
    url = args.url or os.environ.get('DECISION_ENGINE_URL')
    if not url and args.config_file:
        conf = load_conf(args)
        host = conf.api.host
        url = 'http://%s:%d' % ('[%s]' % host if ':' in host else host,
                                conf.api.port)
    auth = None
    user = args.user or os.environ.get('DECISION_ENGINE_USER')
    if user:
        password = args.password or os.environ.get(
            'DECISION_ENGINE_PASSWORD')
        if password is None:
            raise CommandError('--user needs --password (or '
                               'DECISION_ENGINE_PASSWORD)', status=2)
        auth = (user, password)
    return Client(url or DEFAULT_URL, auth=auth,
                  token=args.token or os.environ.get('OS_TOKEN'))


# -- output ------------------------------------------------------------------

def _cell(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return '' if value is None else value


def emit(args, data, columns=None, rows=None):
    if args.format == 'json':
        print(json.dumps(data, indent=2, sort_keys=True))
        return
    picked = getattr(args, 'column', None)
    if picked:
        known = columns or sorted(data)
        unknown = [c for c in picked if c not in known]
        if unknown:
            raise CommandError('unknown -c column %s (known: %s)' % (
                ', '.join(unknown), ', '.join(known)), status=2)
        columns = picked
    if args.format == 'value':
        # One line per object (row), its fields separated by spaces.
        for row in rows if rows is not None else [data]:
            print(' '.join(str(_cell(row.get(c)))
                           for c in columns or sorted(row)))
        return
    import prettytable
    table = prettytable.PrettyTable()
    if rows is None:
        table.field_names = ['Field', 'Value']
        table.align = 'l'
        for key in columns or sorted(data):
            table.add_row([key, _cell(data.get(key))])
    else:
        table.field_names = columns
        table.align = 'l'
        for row in rows:
            table.add_row([_cell(row.get(c)) for c in columns])
    print(table)

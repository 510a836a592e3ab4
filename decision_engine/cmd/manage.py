"""``decision-engine-manage``: database and audit administration.

``db sync`` works on the database directly (``--config-file`` gives
``[database] connection``). Every other command talks to the engine's HTTP
API (``--url``, else ``[api] host``/``port`` of ``--config-file``, else
``http://127.0.0.1:9322``), with ``--user``/``--password`` for http_basic or
``--token`` for keystone. Output is a table, JSON with ``-f json``, or bare
values with ``-f value`` (``-c FIELD`` picks fields, as in the openstack
client: ``PLAN=$(... -f value -c last_action_plan_uuid)``). Any
error is one line on stderr and a non-zero exit status: 1 for a refused or
failed request, 2 for bad usage, 3 when the API cannot be reached.
"""

import argparse
import json
import os
import sys
import time

PROG = 'decision-engine-manage'
DEFAULT_URL = 'http://127.0.0.1:9322'
FINAL = ('SUCCEEDED', 'FAILED', 'CANCELLED')


class CommandError(Exception):
    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


# -- configuration -----------------------------------------------------------

def _load_conf(args):
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


def db_sync(args):
    # NOTE: imported here: see _load_conf.
    from decision_engine.db import api as db_api
    from decision_engine.db import migration
    from decision_engine.db import session as session_mod

    conf = _load_conf(args)
    url = session_mod.url_from_conf(conf)
    try:
        store = db_api.Store.from_conf(conf)
        before = migration.current(store.engine)
        store.upgrade()
        after = migration.current(store.engine)
    except (ValueError, db_api.StoreError) as exc:
        raise CommandError(str(exc))
    except Exception as exc:
        # NOTE: the URL may hold a password: name the backend only.
        raise CommandError('db sync failed on the %s database: %s' % (
            url.split(':', 1)[0], str(getattr(exc, 'orig', exc)).strip()
            .splitlines()[0]))
    print('Database schema at revision %s (was %s)'
          % (after, before or 'empty'))


# -- the API client ----------------------------------------------------------

def _check_url(url):
    """:raises CommandError: (bad usage) unless ``url`` is http(s)://host."""
    import urllib.parse
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # NOTE: raises ValueError for a bad port
    except ValueError as exc:
        raise CommandError('invalid --url %r: %s' % (url, exc), status=2)
    if parts.scheme not in ('http', 'https') or not parts.hostname:
        raise CommandError('invalid --url %r: expected http://HOST:PORT '
                           'or https://HOST:PORT' % url, status=2)


class Client:
    def __init__(self, url, auth=None, token=None, timeout=30):
        import requests
        _check_url(url)
        self.url = url.rstrip('/')
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
                               % self.url, status=3)
        except self._requests.Timeout:
            raise CommandError('the decision-engine API at %s did not '
                               'answer within %d s' % (self.url,
                                                       self.timeout),
                               status=3)
        except self._requests.RequestException as exc:
            raise CommandError('request to the decision-engine API at %s '
                               'failed: %s' % (self.url, exc), status=3)
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
                               % (method, path, self.url,
                                  response.status_code))
        return data


def _client(args):
    url = args.url or os.environ.get('DECISION_ENGINE_URL')
    if not url and args.config_file:
        conf = _load_conf(args)
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


def _emit(args, data, columns=None, rows=None):
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


AUDIT_COLUMNS = ['uuid', 'name', 'audit_type', 'state', 'strategy',
                 'created_at', 'last_action_plan_uuid']
AUDIT_FIELDS = ['uuid', 'name', 'audit_type', 'state', 'state_reason',
                'strategy', 'parameters', 'scope', 'interval', 'cron',
                'next_run_at', 'created_at', 'started_at', 'finished_at',
                'runs', 'model_age', 'build_seconds', 'strategy_seconds',
                'last_action_plan_uuid', 'owner']


def _json_arg(text, what):
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CommandError('%s is not valid JSON: %s' % (what, exc),
                           status=2)
    if not isinstance(value, dict):
        raise CommandError('%s must be a JSON object' % what, status=2)
    return value


def _params(args):
    """``--parameters`` JSON updated by every ``--param KEY=VALUE``."""
    params = _json_arg(args.parameters, '--parameters') \
        if args.parameters else {}
    for item in args.param or []:
        key, sep, value = item.partition('=')
        if not sep or not key:
            raise CommandError('--param must be KEY=VALUE, not %r' % item,
                               status=2)
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def audit_create(args):
    body = {'strategy': args.strategy, 'audit_type': args.audit_type}
    if args.name:
        body['name'] = args.name
    params = _params(args)
    if params:
        body['parameters'] = params
    if args.scope:
        body['scope'] = _json_arg(args.scope, '--scope')
    if args.interval is not None:
        body['interval'] = args.interval
    if args.cron:
        body['cron'] = args.cron
    client = _client(args)
    audit = client.call('POST', '/v1/audits', body)
    if args.wait:
        audit = _wait(client, audit, args.timeout)
    _emit(args, audit, AUDIT_FIELDS)
    if args.wait and audit['state'] in ('FAILED', 'CANCELLED'):
        return 1
    return 0


def _wait(client, audit, timeout):
    """Poll until the audit ends (a CONTINUOUS one: until its first run
    ends), printing each state change on stderr."""
    start = time.monotonic()
    last = None
    runs = audit.get('runs') or 0
    while True:
        state = audit['state']
        if state != last:
            sys.stderr.write('[%6.1fs] audit %s %s%s\n' % (
                time.monotonic() - start, audit['uuid'], state,
                ': %s' % audit['state_reason']
                if audit.get('state_reason') else ''))
            last = state
        if state in FINAL or (audit['audit_type'] == 'CONTINUOUS'
                              and (audit.get('runs') or 0) > runs):
            return audit
        if timeout and time.monotonic() - start > timeout:
            raise CommandError('audit %s still %s after --timeout %d s'
                               % (audit['uuid'], state, timeout))
        time.sleep(0.5)
        audit = client.call('GET', '/v1/audits/%s' % audit['uuid'])


def audit_list(args):
    """Every audit (all pages), oldest first."""
    import urllib.parse
    client = _client(args)
    query = {'state': args.state} if args.state else {}
    audits = []
    while True:
        page = client.call('GET', '/v1/audits' + (
            '?' + urllib.parse.urlencode(query) if query else ''))
        audits += page['audits']
        if not page.get('next_marker') or not page['audits']:
            break
        query['marker'] = page['next_marker']
    _emit(args, audits, AUDIT_COLUMNS, rows=audits)


def audit_show(args):
    client = _client(args)
    audit = client.call('GET', '/v1/audits/%s' % args.uuid)
    if args.wait:
        audit = _wait(client, audit, args.timeout)
    _emit(args, audit, AUDIT_FIELDS + ['action_plans'])


def audit_cancel(args):
    _emit(args, _client(args).call('DELETE', '/v1/audits/%s' % args.uuid),
          AUDIT_FIELDS)


def strategy_show(args):
    """A strategy and whether the metrics it needs exist for ``--scope``;
    exit status 1 when they do not."""
    import urllib.parse
    query = {}
    if args.scope:
        query['scope'] = json.dumps(_json_arg(args.scope, '--scope'))
    params = _params(args)
    if params:
        query['parameters'] = json.dumps(params)
    strategy = _client(args).call(
        'GET', '/v1/strategies/%s' % urllib.parse.quote(args.name, safe='')
        + ('?' + urllib.parse.urlencode(query) if query else ''))
    check = strategy['metrics_check']
    if args.format == 'json':
        _emit(args, strategy)
    else:
        _emit(args, dict(strategy, metrics_available=check['available'],
                         datasource=check['datasource'],
                         metrics_error=check['error']),
              ['name', 'goal', 'description', 'metrics', 'datasource',
               'metrics_available', 'metrics_error'])
        if check['metrics']:
            _emit(args, None, ['metric', 'needed', 'present', 'missing'],
                  rows=[{'metric': metric, 'needed': e['needed'],
                         'present': e['present'],
                         'missing': ', '.join(e['missing'][:10]) + (
                             ' and %d more' % (e['missing_count'] - 10)
                             if e['missing_count'] > 10 else '')}
                        for metric, e in sorted(check['metrics'].items())])
    return 0 if check['available'] else 1


def plan_show(args):
    plan = _client(args).call('GET', '/v1/action_plans/%s' % args.uuid)
    if args.format == 'json':
        return _emit(args, plan)
    if args.column:
        return _emit(args, plan, sorted(plan))
    _emit(args, plan, ['uuid', 'audit_uuid', 'state', 'strategy', 'message',
                       'indicators', 'model_age', 'build_seconds',
                       'strategy_seconds', 'created_at'])
    _emit(args, None, ['position', 'action_type', 'description'],
          rows=plan['actions'])


def plan_export(args):
    plan = _client(args).call('GET', '/v1/action_plans/%s' % args.uuid)
    text = json.dumps(plan, indent=2, sort_keys=True) + '\n'
    if args.output in (None, '-'):
        sys.stdout.write(text)
    else:
        try:
            with open(args.output, 'w', encoding='utf-8') as handle:
                handle.write(text)
        except OSError as exc:
            raise CommandError('cannot write %s: %s'
                               % (args.output, exc.strerror))
        sys.stderr.write('action plan %s written to %s\n'
                         % (args.uuid, args.output))


def cluster_status(args):
    """The cluster as the engine behind --url sees it (GET /v1/status)."""
    status = _client(args).call('GET', '/v1/status')
    cluster = status.get('cluster') or {}
    shares = status.get('node_share') or {}
    sweeps = status.get('power_sweeps') or {}
    audits = status.get('audits') or {}
    summary = {
        'member': cluster.get('member'),
        'coordination': 'on' if cluster.get('enabled') else
        'off (this engine works alone)',
        'members': ', '.join(sorted(cluster.get('members') or {})),
        'leader': cluster.get('leader'),
        'leader_by': cluster.get('leader_by'),
        'last_membership_change': cluster.get('last_change'),
        'ring_changes': cluster.get('ring_changes'),
        'takeovers': cluster.get('takeovers'),
        'node_share': ', '.join(
            '%s: %s of %s' % (name, shares[name],
                              (sweeps.get(name) or {}).get('nodes'))
            for name in sorted(shares)),
        'audits_running_here': audits.get('running'),
        'audit_runs_here': audits.get('runs'),
    }
    if args.format == 'json':
        return _emit(args, dict(summary, members=cluster.get('members'),
                                node_share=shares))
    _emit(args, summary, list(summary))
    members = cluster.get('members') or {}
    _emit(args, None, ['member', 'host', 'api_url', 'version', 'leader'],
          rows=[dict(caps, member=name, leader='yes' if name == cluster.get(
              'leader') else '') for name, caps in sorted(members.items())])


# -- parser ------------------------------------------------------------------

def _common(top):
    """Global options, accepted before or after the command.

    NOTE: a sub-command's copy must not reset what was given before the
    command, hence SUPPRESS as its defaults.
    """
    common = argparse.ArgumentParser(add_help=False)

    def default(value):
        return value if top else argparse.SUPPRESS
    common.add_argument('--config-file', action='append',
                        default=default(None),
                        help='engine config file (repeatable)')
    common.add_argument('--url', default=default(None),
                        help='API endpoint (default: [api] host and port '
                        'of --config-file, else %s)' % DEFAULT_URL)
    common.add_argument('--user', default=default(None),
                        help='http_basic user')
    common.add_argument('--password', default=default(None),
                        help='http_basic password')
    common.add_argument('--token', default=default(None),
                        help='keystone token (or OS_TOKEN)')
    common.add_argument('-f', '--format',
                        choices=['table', 'json', 'value'],
                        default=default('table'),
                        help='table, JSON, or bare values (with -c)')
    common.add_argument('-c', '--column', action='append',
                        default=default(None), metavar='FIELD',
                        help='show only this field (repeatable; table and '
                        'value formats)')
    return common


def build_parser():
    common = _common(top=False)
    parser = argparse.ArgumentParser(prog=PROG, parents=[_common(top=True)],
                                     description=__doc__.split('\n')[0])
    top = parser.add_subparsers(dest='group', required=True)

    db = top.add_parser('db', help='database schema').add_subparsers(
        dest='command', required=True)
    db.add_parser('sync', parents=[common],
                  help='create or upgrade the schema').set_defaults(
                      func=db_sync)

    audit = top.add_parser('audit', help='audits').add_subparsers(
        dest='command', required=True)
    create = audit.add_parser('create', parents=[common])
    create.add_argument('--strategy', required=True)
    create.add_argument('--name')
    create.add_argument('--type', dest='audit_type', default='ONESHOT',
                        choices=['ONESHOT', 'CONTINUOUS'])
    create.add_argument('--interval', type=int,
                        help='seconds between runs (CONTINUOUS)')
    create.add_argument('--cron', help='cron expression (CONTINUOUS)')
    create.add_argument('--param', action='append', metavar='KEY=VALUE',
                        help='strategy parameter; VALUE is JSON or text')
    create.add_argument('--parameters', help='all parameters as JSON')
    create.add_argument('--scope', help='scope as JSON, e.g. '
                        '\'{"include_aggregates": ["rack1"]}\'')
    create.add_argument('--wait', action='store_true',
                        help='show progress until the audit ends')
    create.add_argument('--timeout', type=int, default=0,
                        help='give up waiting after this many seconds')
    create.set_defaults(func=audit_create)
    listing = audit.add_parser('list', parents=[common])
    listing.add_argument('--state')
    listing.set_defaults(func=audit_list)
    show = audit.add_parser('show', parents=[common])
    show.add_argument('uuid')
    show.add_argument('--wait', action='store_true')
    show.add_argument('--timeout', type=int, default=0)
    show.set_defaults(func=audit_show)
    cancel = audit.add_parser('cancel', parents=[common])
    cancel.add_argument('uuid')
    cancel.set_defaults(func=audit_cancel)

    strategy = top.add_parser('strategy', help='strategies').add_subparsers(
        dest='command', required=True)
    sshow = strategy.add_parser(
        'show', parents=[common], help='a strategy, and whether the metrics '
        'it needs exist for a scope (exit status 1 when they do not)')
    sshow.add_argument('name')
    sshow.add_argument('--scope', help='audit scope as JSON')
    sshow.add_argument('--param', action='append', metavar='KEY=VALUE',
                       help='strategy parameter; VALUE is JSON or text')
    sshow.add_argument('--parameters', help='all parameters as JSON')
    sshow.set_defaults(func=strategy_show)

    plan = top.add_parser('action-plan', help='action plans').add_subparsers(
        dest='command', required=True)
    pshow = plan.add_parser('show', parents=[common])
    pshow.add_argument('uuid')
    pshow.set_defaults(func=plan_show)
    export = plan.add_parser('export', parents=[common])
    export.add_argument('uuid')
    export.add_argument('-o', '--output', help='file (default: stdout)')
    export.set_defaults(func=plan_export)

    cluster = top.add_parser('cluster', help='several engines as one'
                             ).add_subparsers(dest='command', required=True)
    cluster.add_parser('status', parents=[common],
                       help='members, leader, this engine\'s share'
                       ).set_defaults(func=cluster_status)
    return parser


def main(argv=None):
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return args.func(args) or 0
    except CommandError as exc:
        sys.stderr.write('%s: error: %s\n' % (PROG, exc))
        return exc.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # ``... | head``: the reader left; say nothing more (not even the
        # flush at exit) and end as a shell would after SIGPIPE.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == '__main__':
    sys.exit(main())

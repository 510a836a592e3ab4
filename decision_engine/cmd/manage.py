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

from decision_engine.cmd import manage_client as mc

PROG = mc.PROG
FINAL = ('SUCCEEDED', 'FAILED', 'CANCELLED')


def db_sync(args):
    # NOTE: imported here: see _load_conf.
    from decision_engine.db import api as db_api
    from decision_engine.db import migration
    from decision_engine.db import session as session_mod

    conf = mc.load_conf(args)
    url = session_mod.url_from_conf(conf)
    try:
        store = db_api.Store.from_conf(conf)
        before = migration.current(store.engine)
        store.upgrade()
        after = migration.current(store.engine)
    except (ValueError, db_api.StoreError) as exc:
        raise mc.CommandError(str(exc))
    except Exception as exc:
        # NOTE: the URL may hold a password: name the backend only.
        raise mc.CommandError('db sync failed on the %s database: %s' % (
            url.split(':', 1)[0], str(getattr(exc, 'orig', exc)).strip()
            .splitlines()[0]))
    print('Database schema at revision %s (was %s)'
          % (after, before or 'empty'))


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
        raise mc.CommandError('%s is not valid JSON: %s' % (what, exc),
                              status=2)
    if not isinstance(value, dict):
        raise mc.CommandError('%s must be a JSON object' % what, status=2)
    return value


def _params(args):
    """``--parameters`` JSON updated by every ``--param KEY=VALUE``."""
    params = _json_arg(args.parameters, '--parameters') \
        if args.parameters else {}
    for item in args.param or []:
        key, sep, value = item.partition('=')
        if not sep or not key:
            raise mc.CommandError('--param must be KEY=VALUE, not %r' % item,
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
    if args.force:
        body['force'] = True
    client = mc.client(args)
    audit = client.call('POST', '/v1/audits', body)
    if args.wait or args.auto_trigger:
        audit = _wait(client, audit, args.timeout)
    mc.emit(args, audit, AUDIT_FIELDS)
    if (args.wait or args.auto_trigger) and \
            audit['state'] in ('FAILED', 'CANCELLED'):
        return 1
    if args.auto_trigger:
        plan_uuid = audit.get('last_action_plan_uuid')
        if not plan_uuid:
            raise mc.CommandError('audit %s stored no action plan to apply'
                                  % audit['uuid'])
        plan = client.call('POST', '/v1/action_plans/%s/start' % plan_uuid)
        sys.stderr.write('action plan %s started (--auto-trigger)\n'
                         % plan_uuid)
        if args.wait:
            plan = _wait_plan(client, plan, args.timeout)
            _emit_plan(args, plan)
            return 0 if plan['state'] == 'SUCCEEDED' else 1
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
            raise mc.CommandError('audit %s still %s after --timeout %d s'
                                  % (audit['uuid'], state, timeout))
        time.sleep(0.5)
        audit = client.call('GET', '/v1/audits/%s' % audit['uuid'])


def audit_list(args):
    """Every audit (all pages), oldest first."""
    import urllib.parse
    client = mc.client(args)
    query = {'state': args.state} if args.state else {}
    audits = []
    while True:
        page = client.call('GET', '/v1/audits' + (
            '?' + urllib.parse.urlencode(query) if query else ''))
        audits += page['audits']
        if not page.get('next_marker') or not page['audits']:
            break
        query['marker'] = page['next_marker']
    mc.emit(args, audits, AUDIT_COLUMNS, rows=audits)


def audit_show(args):
    client = mc.client(args)
    audit = client.call('GET', '/v1/audits/%s' % args.uuid)
    if args.wait:
        audit = _wait(client, audit, args.timeout)
    mc.emit(args, audit, AUDIT_FIELDS + ['action_plans'])


def audit_cancel(args):
    mc.emit(args, mc.client(args).call('DELETE', '/v1/audits/%s' % args.uuid),
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
    strategy = mc.client(args).call(
        'GET', '/v1/strategies/%s' % urllib.parse.quote(args.name, safe='')
        + ('?' + urllib.parse.urlencode(query) if query else ''))
    check = strategy['metrics_check']
    if args.format == 'json':
        mc.emit(args, strategy)
    else:
        mc.emit(args, dict(strategy, metrics_available=check['available'],
                           datasource=check['datasource'],
                           metrics_error=check['error']),
                ['name', 'goal', 'description', 'metrics', 'datasource',
                 'metrics_available', 'metrics_error'])
        if check['metrics']:
            mc.emit(args, None, ['metric', 'needed', 'present', 'missing'],
                    rows=[{'metric': metric, 'needed': e['needed'],
                           'present': e['present'],
                           'missing': ', '.join(e['missing'][:10]) + (
                            ' and %d more' % (e['missing_count'] - 10)
                            if e['missing_count'] > 10 else '')}
                          for metric, e in sorted(check['metrics'].items())])
    return 0 if check['available'] else 1


PLAN_FIELDS = ['uuid', 'audit_uuid', 'state', 'state_reason', 'strategy',
               'message', 'indicators', 'model_age', 'build_seconds',
               'strategy_seconds', 'created_at', 'owner', 'started_at',
               'finished_at', 'duration_seconds']
ACTION_COLUMNS = ['position', 'action_type', 'state', 'duration_seconds',
                  'state_reason', 'description']
PLAN_FINAL = ('SUCCEEDED', 'FAILED', 'CANCELLED', 'SUPERSEDED')


def _emit_plan(args, plan):
    if args.format == 'json':
        return mc.emit(args, plan)
    if getattr(args, 'column', None):
        return mc.emit(args, plan, sorted(plan))
    mc.emit(args, plan, PLAN_FIELDS)
    mc.emit(args, None, ACTION_COLUMNS, rows=plan['actions'])


def _wait_plan(client, plan, timeout):
    """Poll until the plan ends, printing each change of the count of
    actions by state on stderr."""
    start = time.monotonic()
    last = None
    while True:
        counts = {}
        for action in plan.get('actions', []):
            counts[action['state']] = counts.get(action['state'], 0) + 1
        line = '%s %s' % (plan['state'], ', '.join(
            '%d %s' % (n, state.lower())
            for state, n in sorted(counts.items())))
        if line != last:
            sys.stderr.write('[%6.1fs] action plan %s %s\n' % (
                time.monotonic() - start, plan['uuid'], line))
            last = line
        if plan['state'] in PLAN_FINAL:
            return plan
        if timeout and time.monotonic() - start > timeout:
            raise mc.CommandError('action plan %s still %s after --timeout %d '
                                  's' % (plan['uuid'], plan['state'], timeout))
        time.sleep(0.5)
        plan = client.call('GET', '/v1/action_plans/%s' % plan['uuid'])


def _plan_command(args, method, path):
    """Call ``path`` (formatted with the plan's UUID), wait for the plan to
    end when --wait says so, print it; the plan."""
    client = mc.client(args)
    plan = client.call(method, path % args.uuid)
    if args.wait:
        plan = _wait_plan(client, plan, args.timeout)
    _emit_plan(args, plan)
    return plan


def plan_show(args):
    _plan_command(args, 'GET', '/v1/action_plans/%s')


def plan_start(args):
    plan = _plan_command(args, 'POST', '/v1/action_plans/%s/start')
    return 1 if args.wait and plan['state'] != 'SUCCEEDED' else 0


def plan_cancel(args):
    _plan_command(args, 'POST', '/v1/action_plans/%s/cancel')


def plan_export(args):
    plan = mc.client(args).call('GET', '/v1/action_plans/%s' % args.uuid)
    text = json.dumps(plan, indent=2, sort_keys=True) + '\n'
    if args.output in (None, '-'):
        sys.stdout.write(text)
    else:
        try:
            with open(args.output, 'w', encoding='utf-8') as handle:
                handle.write(text)
        except OSError as exc:
            raise mc.CommandError('cannot write %s: %s'
                                  % (args.output, exc.strerror))
        sys.stderr.write('action plan %s written to %s\n'
                         % (args.uuid, args.output))


def cluster_status(args):
    """The cluster as the engine behind --url sees it (GET /v1/status)."""
    status = mc.client(args).call('GET', '/v1/status')
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
        return mc.emit(args, dict(summary, members=cluster.get('members'),
                                  node_share=shares))
    mc.emit(args, summary, list(summary))
    members = cluster.get('members') or {}
    mc.emit(args, None, ['member', 'host', 'api_url', 'version', 'leader'],
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
                        'of --config-file, else %s)' % mc.DEFAULT_URL)
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
    create.add_argument('--force', action='store_true',
                        help='create it even when its scope covers hosts '
                        'of a running action plan')
    create.add_argument('--auto-trigger', action='store_true',
                        help='when the audit has stored its plan, start '
                        'it (waits for the audit; with --wait, for the '
                        'plan too)')
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
    for name, func, text in (
            ('show', plan_show, 'a plan and the state, duration and '
                                'reason of each action'),
            ('start', plan_start, 'apply a RECOMMENDED plan'),
            ('cancel', plan_cancel, 'cancel a plan: PENDING actions are '
                                    'CANCELLED, ONGOING ones finish')):
        command = plan.add_parser(name, parents=[common], help=text)
        command.add_argument('uuid')
        command.add_argument('--wait', action='store_true',
                             help='show progress until the plan ends')
        command.add_argument('--timeout', type=int, default=0,
                             help='give up waiting after this many '
                             'seconds')
        command.set_defaults(func=func)
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
    except mc.CommandError as exc:
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

"""Who may do what: oslo.policy rules in code, with Watcher's names.

Defaults: every write is for admins only (Watcher's ``role:admin or
role:administrator``), every read for admins and the ``reader`` role, the
webhook trigger for admins and the ``service`` role. A policy file
(``[oslo_policy] policy_file``) overrides any rule; ``oslopolicy-sample-
generator --namespace decision-engine`` writes the defaults.

The credentials are the ones keystonemiddleware puts in the request
(``X-Roles``, ``X-Project-Id``, ``X-User-Id``) with ``[api] auth_strategy
= keystone``. With ``noauth`` and ``http_basic`` every caller is an admin
(the roles of the headers are ignored: a client could set them), so the
defaults let them do everything they could before.
"""

from oslo_config import cfg
from oslo_policy import policy

ADMIN = 'role:admin or role:administrator'
RULE_ADMIN = 'rule:admin_api'
RULE_READER = 'rule:reader_api'
RULE_ADMIN_OR_SERVICE = 'rule:admin_or_service_api'

BASE_RULES = [
    policy.RuleDefault(
        name='admin_api', check_str=ADMIN,
        description='Administrators: every operation.'),
    policy.RuleDefault(
        name='reader_api', check_str='rule:admin_api or role:reader',
        description='Readers: every read.'),
    policy.RuleDefault(
        name='admin_or_service_api',
        check_str='rule:admin_api or role:service',
        description='Administrators or services (the webhook trigger).'),
]


def _rule(name, check, description, *operations):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'path': path, 'method': method}
                    for method, path in operations])


def _reads(resource, plural, path, show_path):
    return [
        _rule('%s:get_all' % resource, RULE_READER,
              'List %s.' % plural, ('GET', path)),
        _rule('%s:detail' % resource, RULE_READER,
              'List %s with their details.' % plural,
              ('GET', path + '/detail')),
        _rule('%s:get' % resource, RULE_READER,
              'Show one of the %s.' % plural, ('GET', show_path)),
    ]


RULES = (
    _reads('goal', 'goals', '/v1/goals', '/v1/goals/{goal}')
    + _reads('strategy', 'strategies', '/v1/strategies',
             '/v1/strategies/{strategy}')
    + [_rule('strategy:state', RULE_READER,
             'Show whether what a strategy needs is available.',
             ('GET', '/v1/strategies/{strategy}/state'))]
    + _reads('scoring_engine', 'scoring engines', '/v1/scoring_engines',
             '/v1/scoring_engines/{scoring_engine}')
    + _reads('service', 'services', '/v1/services',
             '/v1/services/{service}')
    + _reads('audit_template', 'audit templates', '/v1/audit_templates',
             '/v1/audit_templates/{audit_template}')
    + [_rule('audit_template:create', RULE_ADMIN,
             'Create an audit template.', ('POST', '/v1/audit_templates')),
       _rule('audit_template:update', RULE_ADMIN,
             'Update an audit template.',
             ('PATCH', '/v1/audit_templates/{audit_template}')),
       _rule('audit_template:delete', RULE_ADMIN,
             'Delete an audit template.',
             ('DELETE', '/v1/audit_templates/{audit_template}'))]
    + _reads('audit', 'audits', '/v1/audits', '/v1/audits/{audit}')
    + [_rule('audit:create', RULE_ADMIN, 'Create an audit.',
             ('POST', '/v1/audits')),
       _rule('audit:update', RULE_ADMIN, 'Update an audit.',
             ('PATCH', '/v1/audits/{audit}')),
       _rule('audit:delete', RULE_ADMIN, 'Delete an audit.',
             ('DELETE', '/v1/audits/{audit}'))]
    + _reads('action_plan', 'action plans', '/v1/action_plans',
             '/v1/action_plans/{action_plan}')
    + [_rule('action_plan:start', RULE_ADMIN, 'Start an action plan.',
             ('POST', '/v1/action_plans/{action_plan}/start')),
       _rule('action_plan:update', RULE_ADMIN,
             'Update an action plan (start or cancel it).',
             ('PATCH', '/v1/action_plans/{action_plan}')),
       _rule('action_plan:delete', RULE_ADMIN, 'Delete an action plan.',
             ('DELETE', '/v1/action_plans/{action_plan}'))]
    + _reads('action', 'actions', '/v1/actions', '/v1/actions/{action}')
    + [_rule('action:update', RULE_ADMIN, 'Update an action (skip it).',
             ('PATCH', '/v1/actions/{action}')),
       _rule('data_model:get_all', RULE_READER,
             'List the data model.', ('GET', '/v1/data_model')),
       _rule('webhook:trigger', RULE_ADMIN_OR_SERVICE,
             'Trigger an EVENT audit.', ('POST', '/v1/webhooks/{audit}'))]
)


def list_rules():
    """Every default (the ``oslo.policy.policies`` entry point)."""
    return BASE_RULES + RULES


class Forbidden(Exception):
    """The policy refuses the operation; the message names the rule."""


def make_enforcer(conf):
    """An Enforcer with the defaults registered, reading ``[oslo_policy]``
    of ``conf``."""
    enforcer = policy.Enforcer(conf)
    enforcer.register_defaults(list_rules())
    return enforcer


def get_enforcer():
    """The ``oslo.policy.enforcer`` entry point (for
    ``oslopolicy-policy-generator`` and ``oslopolicy-checker``)."""
    conf = cfg.ConfigOpts()
    conf([], project='decision-engine')
    return make_enforcer(conf)


def credentials(environ, auth_strategy):
    """The policy credentials of a request (see the module docstring)."""
    if auth_strategy != 'keystone':
        return {'roles': ['admin'], 'project_id': None,
                'user_id': environ.get('REMOTE_USER'), 'is_admin': True}
    roles = [r.strip().lower() for r in
             environ.get('HTTP_X_ROLES', '').split(',') if r.strip()]
    return {'roles': roles,
            'project_id': environ.get('HTTP_X_PROJECT_ID'),
            'user_id': environ.get('HTTP_X_USER_ID'),
            'system_scope': environ.get('HTTP_OPENSTACK_SYSTEM_SCOPE')}


def authorize(enforcer, rule, creds):
    """:raises Forbidden: when ``rule`` refuses ``creds``."""
    if not enforcer.authorize(rule, {}, creds):
        raise Forbidden("Policy doesn't allow %s to be performed." % rule)

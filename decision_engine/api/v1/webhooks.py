"""``POST /v1/webhooks/{audit}`` (1.4): trigger an EVENT audit.

The engine has no EVENT audits yet, so this answers as Watcher does for
any other audit: 404 for an unknown one, 400 naming its type. The policy
(``webhook:trigger``, admins or the service role) is checked first.
"""

from decision_engine.api.v1 import common
from decision_engine.api.v1 import microversion


def trigger(ctx, ident):
    if not ctx.at_least(microversion.WEBHOOK):
        raise common.not_found('The resource could not be found: %s'
                               % ctx.request.path_info)
    ctx.authorize('webhook:trigger')
    audit = ctx.store.find_audit(ident)
    raise common.bad_request('Audit type %s could not be triggered by a '
                             'webhook: only EVENT audits can, and this '
                             'engine has none yet' % audit['audit_type'])

"""``POST /v1/webhooks/{audit}`` (1.4): trigger one run of an EVENT audit.

As Watcher: the policy (``webhook:trigger``, admins or the ``service``
role) is checked first; an unknown audit is 404; an audit of another type,
or one that is running, FAILED or CANCELLED, is 400 and nothing changes;
otherwise 202 with no body, and the audit runs on this engine's runner
(or its owner's, in a cluster). A request body, if any, is ignored, as
Watcher ignores it.
"""

from decision_engine.api.v1 import common
from decision_engine.api.v1 import microversion
from decision_engine.audit import service as audit_service


def trigger(ctx, ident):
    if not ctx.at_least(microversion.WEBHOOK):
        raise common.not_found('The resource could not be found: %s'
                               % ctx.request.path_info)
    ctx.authorize('webhook:trigger')
    audit = ctx.store.find_audit(ident)
    try:
        ctx.engine.audits.trigger(audit['uuid'])
    except audit_service.InvalidTransition as exc:
        raise common.bad_request(str(exc))
    return common.empty_response(202)

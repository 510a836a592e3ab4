"""``GET /v1/data_model`` (1.3): the engine's current compute model, one
row per server with its node (and one per node without servers), in
Watcher's fields; from 1.6 also ``server_pinned_az`` (the node's zone)
and ``server_flavor_extra_specs`` (empty: the model does not keep them).
``audit_uuid`` limits it to that audit's scope; only ``compute`` is a
``data_model_type``."""

from decision_engine.api.v1 import common
from decision_engine.api.v1 import microversion
from decision_engine.audit import scope as scope_mod
from decision_engine.model import errors as model_errors


def _node_fields(node):
    return {
        'node_uuid': node.uuid, 'node_hostname': node.hostname,
        'node_status': node.status, 'node_state': node.state,
        'node_disabled_reason': node.disabled_reason,
        'node_vcpus': str(node.vcpus),
        'node_vcpu_reserved': str(node.vcpus_reserved),
        'node_vcpu_ratio': str(float(node.vcpu_allocation_ratio)),
        'node_memory': str(node.memory_mb),
        'node_memory_mb_reserved': str(node.memory_mb_reserved),
        'node_memory_ratio': str(float(node.memory_allocation_ratio)),
        'node_disk': str(node.disk_gb),
        'node_disk_gb_reserved': str(node.disk_gb_reserved),
        'node_disk_ratio': str(float(node.disk_allocation_ratio)),
    }


def _server_fields(ctx, instance, node, excluded):
    data = {
        'server_uuid': instance.uuid, 'server_name': instance.name,
        'server_state': instance.state,
        'server_project_id': instance.project_id,
        'server_vcpus': str(instance.vcpus),
        'server_memory': str(instance.memory_mb),
        'server_disk': str(instance.disk_gb),
        'server_metadata': dict(instance.metadata),
        'server_locked': bool(instance.locked),
        'server_watcher_exclude': excluded,
    }
    if ctx.at_least(microversion.EXTENDED_MODEL):
        data['server_pinned_az'] = node.availability_zone
        data['server_flavor_extra_specs'] = {}
    return data


def _model(ctx):
    collector = ctx.engine.collector
    if not collector.enabled:
        raise common.bad_request('the engine has no model: its collector '
                                 'is disabled ([collector] enabled)')
    model = collector.current_model()
    if model is None:
        try:
            model = collector.get_model(
                max_age=ctx.conf.audit.max_model_age)
        except model_errors.ModelBuildError as exc:
            raise common.APIError(503, 'no model of the cloud: %s' % exc)
    return model


def list_model(ctx):
    if not ctx.at_least(microversion.DATA_MODEL):
        raise common.APIError(406, 'the data model needs API version 1.3 '
                                   'or later')
    ctx.authorize('data_model:get_all')
    params = ctx.request.GET
    kind = params.get('data_model_type') or 'compute'
    if kind != 'compute':
        raise common.bad_request('data_model_type %r is not supported; the '
                                 'engine has a compute model only' % kind)
    scope = {}
    if params.get('audit_uuid'):
        scope = ctx.store.find_audit(params['audit_uuid'])['scope']
    context = scope_mod.resolve(_model(ctx), scope)
    excluded = set(scope.get('exclude_instances', ()))
    rows = []
    for hostname in sorted(context.nodes):
        node = context.nodes[hostname]
        node_fields = _node_fields(node)
        instances = sorted(context.instances_by_host.get(hostname, ()),
                           key=lambda inst: inst.uuid)
        if not instances:
            rows.append(node_fields)
        for instance in instances:
            row = _server_fields(ctx, instance, node,
                                 instance.uuid in excluded)
            row.update(node_fields)
            rows.append(row)
    return common.json_response({'context': rows})

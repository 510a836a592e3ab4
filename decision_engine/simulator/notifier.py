"""Nova's versioned notifications, as the simulated cloud's Nova sends them.

:class:`NovaNotifier` publishes through oslo.messaging (driver
``messagingv2``, topic ``versioned_notifications``, exchange ``nova`` by
default) the payloads Nova documents (``doc/notification_samples``): the
``nova_object`` envelope of ``InstanceActionPayload`` (with its
``FlavorPayload``), ``InstanceUpdatePayload``, ``ServiceStatusPayload`` and
``AggregatePayload``, and the ``nova-compute:<host>`` / ``nova-api:<host>``
publisher ids, each in a request context with its ``request_id``, as Nova
sends them (one request id for the notifications of one change). Only the
fields a consumer reads to follow the cloud's state are filled with the
simulator's truth; the others have Nova's types and plausible values.
"""

import datetime
import threading


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def _envelope(name, version, data):
    return {'nova_object.name': name, 'nova_object.namespace': 'nova',
            'nova_object.version': version, 'nova_object.data': data}


def flavor_payload(flavor):
    return _envelope('FlavorPayload', '1.4', {
        'flavorid': flavor.id or flavor.name, 'name': flavor.name,
        'root_gb': flavor.disk, 'vcpus': flavor.vcpus,
        'ephemeral_gb': flavor.ephemeral, 'memory_mb': flavor.ram,
        'disabled': False, 'rxtx_factor': 1.0,
        'extra_specs': dict(flavor.extra_specs), 'projects': None,
        'swap': flavor.swap, 'is_public': True, 'vcpu_weight': 0,
        'description': None})


_POWER = {'active': 'running', 'stopped': 'shutdown', 'paused': 'paused',
          'suspended': 'suspended', 'shelved': 'shutdown'}


def instance_payload(inst, host, updated, availability_zone=None,
                     task_state=None, update=None):
    """An ``InstanceActionPayload`` (``InstanceUpdatePayload`` with
    ``update=(old_state, new_state)``); ``host`` is the host the sending
    service believes the instance is on."""
    data = {
        'uuid': inst.uuid, 'display_name': inst.name,
        'display_description': inst.name, 'host_name': inst.name,
        'host': host, 'node': host, 'state': inst.vm_state,
        'task_state': task_state,
        'power_state': _POWER.get(inst.vm_state, 'nostate'),
        'tenant_id': inst.project_id, 'user_id': inst.user_id,
        'created_at': inst.created, 'launched_at': inst.created,
        'updated_at': iso(updated), 'deleted_at': None,
        'terminated_at': None, 'metadata': dict(inst.metadata),
        'locked': inst.locked, 'locked_reason': None,
        'availability_zone': availability_zone, 'architecture': 'x86_64',
        'os_type': None, 'kernel_id': '', 'ramdisk_id': '',
        # NOTE: Nova sends the instance's image_ref: '' for a server that
        # boots from a volume.
        'image_uuid': inst.image_id,
        'key_name': None, 'progress': 0, 'auto_disk_config': 'MANUAL',
        'reservation_id': 'r-%s' % inst.uuid[:8], 'ip_addresses': [],
        'block_devices': [], 'flavor': flavor_payload(inst.flavor),
        'request_id': 'req-%s' % inst.uuid, 'action_initiator_user': 'admin',
        'action_initiator_project': inst.project_id, 'fault': None,
        'shares': []}
    if update is None:
        return _envelope('InstanceActionPayload', '1.8', data)
    data.update(
        audit_period=_envelope('AuditPeriodPayload', '1.0', {
            'audit_period_beginning': iso(updated.replace(day=1)),
            'audit_period_ending': iso(updated)}),
        bandwidth=[], old_display_name=None, tags=[],
        state_update=_envelope('InstanceStateUpdatePayload', '1.0', {
            'old_state': update[0], 'state': update[1],
            'old_task_state': None, 'new_task_state': task_state}))
    return _envelope('InstanceUpdatePayload', '2.0', data)


def service_payload(host, updated):
    return _envelope('ServiceStatusPayload', '1.1', {
        'host': host.hostname, 'binary': 'nova-compute', 'topic': 'compute',
        'disabled': host.status == 'disabled',
        'disabled_reason': host.disabled_reason,
        'forced_down': host.state == 'down', 'version': 66,
        'availability_zone': host.availability_zone,
        'uuid': host.service_uuid, 'last_seen_up': iso(updated),
        'report_count': 1})


def aggregate_payload(aggregate):
    metadata = dict(aggregate.metadata)
    if aggregate.availability_zone:
        metadata['availability_zone'] = aggregate.availability_zone
    return _envelope('AggregatePayload', '1.1', {
        'name': aggregate.name, 'hosts': list(aggregate.hosts),
        'metadata': metadata, 'id': aggregate.id, 'uuid': aggregate.uuid})


class NovaNotifier:
    """Publishes to ``url`` (an oslo.messaging transport URL).

    :param exchange: Nova's ``control_exchange``.
    """

    def __init__(self, url, exchange='nova',
                 topics=('versioned_notifications',)):
        import oslo_messaging
        from oslo_config import cfg
        from oslo_context import context as context_mod

        self._messaging = oslo_messaging
        self._context = context_mod
        conf = cfg.ConfigOpts()
        conf([], project='decision-engine-simulator',
             default_config_files=[])
        # NOTE: control_exchange is registered by the first transport and
        # read when its driver is made: make the transport again with it.
        oslo_messaging.get_notification_transport(conf, url=url).cleanup()
        conf.set_override('control_exchange', exchange)
        self.transport = oslo_messaging.get_notification_transport(
            conf, url=url)
        self.topics = list(topics)
        self._notifiers = {}
        self._lock = threading.Lock()
        self.sent = 0

    def send(self, publisher, event_type, payload, request_id=None):
        """Publish one notification.

        :param request_id: the ``request_id`` of its context
            (``req-<uuid>``); a new one when None.
        :returns: the request id it was sent with.
        """
        context = self._context.RequestContext(request_id=request_id,
                                               overwrite=False)
        with self._lock:
            notifier = self._notifiers.get(publisher)
            if notifier is None:
                notifier = self._notifiers[publisher] = \
                    self._messaging.Notifier(
                        self.transport, publisher_id=publisher,
                        driver='messagingv2', topics=self.topics)
        # NOTE: a context object, not a dict: oslo.messaging's Notifier
        # sends a dict context as an empty one.
        notifier.info(context, event_type, payload)
        self.sent += 1
        return context.request_id

    def close(self):
        self.transport.cleanup()

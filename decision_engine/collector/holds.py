"""What moves hold in Placement, kept from the events that open and close
them (``[collector] usage_source = placement`` only).

Nova (34) holds, for a move (the names are those of its versioned
notifications, ``nova/compute/manager.py``):

* resize and cold migration: from scheduling on, the instance's *old*
  allocation stays on the source under the *migration's* consumer and the
  new one is claimed on the destination under the instance;
  ``instance.resize_prep.end`` (sent by the destination compute, with
  ``new_flavor``) is the first event after both; the instance reaches the
  destination with ``instance.resize_finish.end``; ``resize_confirm.end``
  (sent by the source) is followed at once by the deletion of the
  migration's allocation; ``resize_revert.end`` (source) comes after the
  migration's allocation went back to the instance and the destination's
  was dropped;
* live migration: the same two allocations, from before
  ``instance.live_migration_pre.end`` (destination) to
  ``live_migration_post.end`` (source; the migration's allocation is
  deleted right after it), the instance reaching the destination with
  ``live_migration_post_dest.end``; ``live_migration_rollback.end``
  (source) comes after the allocations went back;
* evacuation (``instance.evacuate`` is sent by the API before it
  starts, the instance still on its source; ``instance.rebuild.end`` from
  the destination puts it there): the instance's allocation stays on the
  failed source under the instance itself until that compute restarts (no
  notification says so: the next full build sees it go).

Each event carries the whole instance but no migration uuid, so the
event-fed model keeps, per host, what makes up its ``held``
(:attr:`~decision_engine.model.elements.ComputeModel.held_by`): a
destination claim under the instance's uuid (as Placement names it), and
a source allocation the model moved out under ``migration:<instance>``. A
full build reads Placement's consumers instead; a migration it saw has the
migration's uuid, which an event cannot name: a close then drops the
unnamed consumer on the source that holds what the instance held (the
only one, or one of equal amounts: the same sums).

No request is made: amounts are those the model already had for the
instance (read from Placement), or its flavor's by Nova's rules for a
destination claim.
"""

from decision_engine.model import allocation

RESIZE_PREP = 'instance.resize_prep.end'
LIVE_PRE = 'instance.live_migration_pre.end'
#: the destination claims a move from then on (sent by the destination).
OPEN_DEST = frozenset((RESIZE_PREP, LIVE_PRE))
#: the instance reaches its destination; its source keeps the allocation
#: the migration took over.
FINISH = frozenset(('instance.resize_finish.end',
                    'instance.live_migration_post_dest.end'))
#: the migration's allocation on the source is deleted (sent by the
#: source, just before Nova deletes it).
CLOSE_SOURCE = frozenset(('instance.resize_confirm.end',
                          'instance.live_migration_post.end'))
#: every allocation goes back to the instance on its source.
BACK = frozenset(('instance.resize_revert.end',
                  'instance.live_migration_rollback.end'))
ROLLBACK_DEST = 'instance.live_migration_rollback_dest.end'
#: with a new host: an evacuation's end on its destination.
REBUILD = 'instance.rebuild.end'

#: every event with an effect here.
TYPES = OPEN_DEST | FINISH | CLOSE_SOURCE | BACK | frozenset((
    'instance.live_migration_rollback_dest.end', REBUILD))

#: the events of this module, not otherwise handled (state only).
EXTRA_TYPES = frozenset((RESIZE_PREP, LIVE_PRE,
                         'instance.live_migration_post.end'))

MIGRATION = 'migration:'


def migration_key(uuid):
    return MIGRATION + uuid


def flavor_resources(envelope, volume_backed):
    """``{class: amount}`` Nova claims for a flavor payload (None when it
    is not one)."""
    if not isinstance(envelope, dict):
        return None
    flavor = envelope.get('nova_object.data')
    if not isinstance(flavor, dict):
        return None
    try:
        return allocation.flavor_resources(
            int(flavor['vcpus']), int(flavor['memory_mb']),
            int(flavor['root_gb']), int(flavor.get('ephemeral_gb') or 0),
            int(flavor.get('swap') or 0),
            dict(flavor.get('extra_specs') or {}), volume_backed)
    except (KeyError, TypeError, ValueError):
        return None


def _set(model, hostname, consumers):
    node = model.get_node_by_hostname(hostname)
    if node is None:
        return
    # NOTE: the model's own outer dict (a snapshot copies it); the inner
    # ones may be shared, so they are replaced, never changed.
    if consumers:
        model.held_by[hostname] = consumers
    else:
        model.held_by.pop(hostname, None)
    total = {}
    for resources in consumers.values():
        for rc, amount in resources.items():
            total[rc] = total.get(rc, 0) + amount
    node = node.copy()
    node.held = total
    model.add_node(node)


def claim(model, hostname, key, resources):
    """``key`` holds ``resources`` on ``hostname`` (set, not added: a
    duplicate event changes nothing)."""
    if not resources or model.get_node_by_hostname(hostname) is None:
        return
    consumers = model.held_by.get(hostname, {})
    if consumers.get(key) == resources:
        return
    consumers = dict(consumers)
    consumers[key] = dict(resources)
    _set(model, hostname, consumers)


def release(model, hostname, key):
    """Drop ``key`` on ``hostname``; what it held, or None."""
    consumers = model.held_by.get(hostname)
    if not consumers or key not in consumers:
        return None
    consumers = dict(consumers)
    resources = consumers.pop(key)
    _set(model, hostname, consumers)
    return resources


def release_everywhere(model, key, but=None):
    """Drop ``key`` on every host (except ``but``); how many."""
    count = 0
    for hostname in [h for h, c in model.held_by.items()
                     if key in c and h != but]:
        release(model, hostname, key)
        count += 1
    return count


def release_unnamed(model, hostname, resources, only=True):
    """Drop the consumer a full build saw on ``hostname`` that is no
    instance of the model (a migration's uuid) and holds ``resources``;
    failing that, with ``only``, the only such consumer. True when one was
    dropped."""
    consumers = model.held_by.get(hostname) or {}
    unnamed = [k for k in consumers
               if not k.startswith(MIGRATION) and
               model.get_instance(k) is None]
    match = [k for k in unnamed if consumers[k] == resources]
    if not match and only and len(unnamed) == 1:
        match = unnamed
    if not match:
        return False
    release(model, hostname, sorted(match)[0])
    return True


def land(model, instance):
    """An instance just put on its host: a claim the host held for it
    (a destination claim) is now the instance's own allocation; True when
    there was one."""
    resources = release(model, instance.host, instance.uuid)
    if resources:
        instance.resources = resources
        return True
    return False


def _resized_to(instance, envelope):
    """Whether ``instance`` already has the flavor of ``envelope``."""
    flavor = (envelope or {}).get('nova_object.data') \
        if isinstance(envelope, dict) else None
    if not isinstance(flavor, dict):
        return False
    return (instance.vcpus, instance.memory_mb, instance.disk_gb,
            instance.ephemeral_gb, instance.swap_mb) == (
        flavor.get('vcpus'), flavor.get('memory_mb'), flavor.get('root_gb'),
        flavor.get('ephemeral_gb') or 0, flavor.get('swap') or 0)


def apply(model, event, before, after, newer):
    """The holds ``event`` opens or closes.

    :param before: the instance as the model had it before the event (None
        when it did not).
    :param after: the instance the event put in the model (None when it
        left it or the event was stale); not yet added, may be changed.
    :param newer: whether the event is newer than the last one that
        changed holds of this instance (opening only follows newer
        events; closing always does).
    """
    kind = event.event_type
    uuid = event.key[1]
    if kind in OPEN_DEST:
        dest = event.publisher
        current = before or after
        if not newer or dest is None or current is None:
            return
        volume_backed = current.volume_backed
        if dest == current.host and (
                kind == LIVE_PRE or
                _resized_to(current, event.data.get('new_flavor'))):
            # NOTE: already there (a copy replayed onto a full build that
            # saw the move end); a resize on its own host changes flavor.
            return
        if kind == RESIZE_PREP:
            resources = flavor_resources(event.data.get('new_flavor'),
                                         volume_backed)
        else:
            resources = before.resources if before is not None and \
                before.resources else flavor_resources(
                    event.data.get('flavor'), volume_backed)
        # NOTE: a move rescheduled to another destination: Nova dropped
        # the claim of the one that failed.
        release_everywhere(model, uuid, but=dest)
        claim(model, dest, uuid, resources)
    elif kind in FINISH or kind == REBUILD:
        if after is None:
            return
        # NOTE: a resize on its own host lands on the claim its prep made;
        # on its own host without one, the move already ended in the model
        # (a full build saw it).
        landed = land(model, after)
        if kind != REBUILD:
            release_everywhere(model, uuid, but=after.host)
        if before is None or not before.resources or not newer or \
                (before.host == after.host and not landed):
            return
        if kind == REBUILD:
            claim(model, before.host, uuid, before.resources)
        else:
            claim(model, before.host, migration_key(uuid), before.resources)
    elif kind in CLOSE_SOURCE:
        if release_everywhere(model, migration_key(uuid)):
            return
        source = event.publisher
        current = after or before
        if source is not None and current is not None:
            release_unnamed(model, source, flavor_resources(
                event.data.get('flavor'), current.volume_backed))
    elif kind in BACK:
        released = release_everywhere(model, migration_key(uuid))
        current = after or before
        home = current.host if current is not None else None
        release_everywhere(model, uuid, but=home)
        if after is not None:
            land(model, after)
            if not released and (before is None or
                                 before.host != after.host or
                                 not before.resources):
                # A migration a full build saw (its uuid).
                release_unnamed(model, home, after.resources, only=False)
    elif kind == ROLLBACK_DEST:
        if event.publisher is not None:
            current = after or before
            if current is None or current.host != event.publisher:
                release(model, event.publisher, uuid)


def deleted(model, uuid):
    """The instance is gone: so are its claims and its migrations'."""
    release_everywhere(model, uuid)
    release_everywhere(model, migration_key(uuid))

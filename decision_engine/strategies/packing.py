"""Finding room elsewhere for the instances of one host.

:func:`evacuate` is shared by ``server_consolidation`` (empty a host to
release it) and ``host_maintenance`` (empty the host under maintenance).
It tries first-fit-decreasing onto the fullest destinations first (so few
hosts get woken up and the big instances get the big holes), and, for small
problems where that fails, an exhaustive backtracking search, so a feasible
evacuation of a small host is never missed.

Destinations are those :meth:`Placement.fits` allows: room, and no hard
rule of Nova's scheduler against the move
(:mod:`decision_engine.strategies.constraints`). The first-fit pass also
follows the soft rules (soft-affinity, soft-anti-affinity): a destination
they advise against is taken only when no other fits.
:func:`blocked_by_rules` says which instances a hard rule keeps in place.
"""

from decision_engine.strategies import placement as placement_mod

# NOTE: the exhaustive search is exponential; it only runs when both the
# instances to place and the candidate destinations are this few, and gives
# up after _SEARCH_STEPS placements tried.
_SEARCH_MAX_INSTANCES = 10
_SEARCH_MAX_DESTINATIONS = 16
_SEARCH_STEPS = 20000


def _size_key(inst):
    vcpus, ram, disk = placement_mod.demand(inst)
    return (vcpus, ram, disk, inst.uuid)


def evacuate(placement, instances, destinations, prefer=()):
    """Move ``instances`` onto ``destinations``, all of them or none.

    :param placement: the current :class:`Placement`. On success it holds
        the moves; on failure it is left exactly as it was.
    :param destinations: hostnames that may receive instances.
    :param prefer: hostnames tried before any other destination.
    :returns: ``[(inst, source, dest), ...]`` in a valid order, or None
        when no way was found.
    """
    ordered = sorted(instances, key=_size_key, reverse=True)
    if not ordered:
        return []
    # NOTE: a destination without room for the smallest instance in any
    # resource can take none of them; dropping it early keeps large clouds
    # (mostly full hosts) fast.
    smallest = [min(placement_mod.demand(i)[k] for i in ordered)
                for k in range(3)]

    def has_room(d):
        used, limit = placement.used[d], placement.limit[d]
        return all(used[k] + smallest[k] <= limit[k] for k in range(3))
    prefer = [d for d in prefer if d in destinations and has_room(d)]
    preferred = set(prefer)
    dests = prefer + sorted(
        (d for d in destinations if d not in preferred and has_room(d)),
        key=lambda d: (-placement.load(d), d))
    moves = []
    soft = placement.constraints.active
    for inst in ordered:
        dest = _first_fit(placement, inst, dests, soft)
        if dest is None:
            break
        moves.append((inst, placement.move(inst, dest), dest))
    else:
        return moves
    undo(placement, moves)
    if len(ordered) <= _SEARCH_MAX_INSTANCES \
            and len(dests) <= _SEARCH_MAX_DESTINATIONS:
        return _search(placement, ordered, dests)
    return None


def _first_fit(placement, inst, dests, soft):
    """The first destination that fits, preferring one no soft rule
    advises against."""
    fallback = None
    for d in dests:
        if placement.fits(inst, d):
            if not soft or placement.soft_violation(inst, d) is None:
                return d
            if fallback is None:
                fallback = d
    return fallback


def blocked_by_rules(placement, instances, destinations):
    """``[(inst, explanation)]`` of the instances that have room on some
    destination but that a hard rule keeps off every one of them (empty
    when the context has no rule)."""
    if not placement.constraints.active:
        return []
    result = []
    for inst in instances:
        why = placement.constraints.explain(inst, destinations, placement)
        if why is not None:
            result.append((inst, why))
    return result


def undo(placement, moves):
    for inst, source, _ in reversed(moves):
        placement.move_back(inst, source)


def _search(placement, ordered, dests):
    trial = placement
    moves = []
    steps = [0]

    def place(i):
        if i == len(ordered):
            return True
        inst = ordered[i]
        tried_free = set()
        for dest in dests:
            if steps[0] >= _SEARCH_STEPS:
                return False
            # Two destinations with the same capacity and free room are
            # interchangeable: trying the second one cannot help.
            free = (trial.free(dest), trial.capacity[dest])
            if free in tried_free or not trial.fits(inst, dest):
                continue
            tried_free.add(free)
            steps[0] += 1
            source = trial.move(inst, dest)
            moves.append((inst, source, dest))
            if place(i + 1):
                return True
            moves.pop()
            trial.move_back(inst, source)
        return False

    if place(0):
        return moves
    undo(placement, moves)
    return None

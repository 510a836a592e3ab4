"""Finding room elsewhere for the instances of one host.

:func:`evacuate` is shared by ``server_consolidation`` (empty a host to
release it) and ``host_maintenance`` (empty the host under maintenance).
It tries first-fit-decreasing onto the fullest destinations first (so few
hosts get woken up and the big instances get the big holes), and, for small
problems where that fails, an exhaustive backtracking search, so a feasible
evacuation of a small host is never missed.
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


def evacuate(placement, instances, destinations, fits=None, prefer=()):
    """Plan moves of ``instances`` onto ``destinations``.

    :param placement: the current :class:`Placement`; it is not modified.
    :param destinations: hostnames that may receive instances.
    :param fits: ``fits(placement, inst, host)``, default
        :meth:`Placement.fits`; lets a caller keep headroom.
    :param prefer: hostnames tried before any other destination.
    :returns: ``(new_placement, [(inst, source, dest), ...])`` with the
        moves in a valid order, or ``(None, None)`` when no way was found.
    """
    fits = fits or (lambda p, inst, host: p.fits(inst, host))
    ordered = sorted(instances, key=_size_key, reverse=True)
    dests = [d for d in prefer if d in destinations] + sorted(
        (d for d in destinations if d not in prefer),
        key=lambda d: (-placement.load(d), d))
    trial = placement.copy()
    moves = []
    for inst in ordered:
        dest = next((d for d in dests if fits(trial, inst, d)), None)
        if dest is None:
            break
        moves.append((inst, trial.move(inst, dest), dest))
    else:
        return trial, moves
    if len(ordered) <= _SEARCH_MAX_INSTANCES \
            and len(dests) <= _SEARCH_MAX_DESTINATIONS:
        return _search(placement, ordered, dests, fits)
    return None, None


def _search(placement, ordered, dests, fits):
    trial = placement.copy()
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
            if free in tried_free or not fits(trial, inst, dest):
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
        return trial, moves
    return None, None

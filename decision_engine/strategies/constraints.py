"""The rules Nova's scheduler applies to a move, checked before we plan it.

The applier asks Nova for a live migration to a named host without forcing
it (microversion 2.30 on), so Nova's scheduler runs its filters on that one
host and refuses the move if one fails: after an operator approved the
plan. :class:`Checker` answers the same question while the plan is made:
may instance I move to host H, given where every instance is at that step
of the plan (the :class:`~decision_engine.strategies.placement.Placement`
the strategy or the verifier is changing)? It answers with a
:class:`Violation` naming the rule, whether Nova enforces it (hard) or only
prefers it (soft), and the scheduler filter or weigher it mirrors.

Rules (see :data:`RULES`):

``anti-affinity`` (hard, ``ServerGroupAntiAffinityFilter``)
    a member of an anti-affinity group never lands on a host that already
    runs ``max_server_per_host`` members of its group (the group's rule,
    1 when unset): with the default, members never meet.
``affinity`` (hard, ``ServerGroupAffinityFilter``)
    a member of an affinity group lands only on a host where a member of
    its group runs. Nova counts the moving instance itself, on its source,
    among those hosts: while the group holds together no scheduled move
    of one member can leave it (only a forced one), so a plan never splits
    an affinity group.
``soft-anti-affinity`` / ``soft-affinity`` (soft, as Nova's weighers
    ``ServerGroupSoftAntiAffinityWeigher``, ``ServerGroupSoftAffinityWeigher``)
    a destination without another member (anti) or with one (affinity) is
    preferred; a move against the preference is allowed.
``availability-zone`` (hard, ``AvailabilityZoneFilter``)
    an instance pinned to a zone (``Instance.availability_zone``) never
    lands on a host of another zone, or of an unknown one.
``traits`` (hard, the Placement query of Nova's scheduler: its
    ``required`` and forbidden ``!`` traits)
    an instance whose flavor asks for traits (``Instance.required_traits``,
    ``Instance.forbidden_traits``) lands only on a host whose resource
    provider (``ComputeNode.traits``) has every required one and no
    forbidden one; a host whose traits are not known takes none of them.
``opt-out`` (the operator's, enforced by the engine alone)
    an instance whose metadata carries the opt-out key with a false value
    (``optimize=false`` by default, see :func:`opted_out`) is never moved:
    :meth:`StrategyContext.can_move` says no, and :meth:`Checker.hard`
    refuses every destination, so the verifier refuses a plan moving it.

Strategies never call this module themselves for hard rules:
:meth:`Placement.fits` and :meth:`Placement.move` do, so every strategy
and the plan verifier (:mod:`decision_engine.strategies.verify`) apply
them. :func:`decision_engine.strategies.packing.evacuate` follows the soft
ones when it can.

The strategy context gives the server groups (``context.server_groups``:
objects with ``uuid``, ``name``, ``policy``, ``rules`` and ``members``),
every instance's ``availability_zone`` and traits, every node's traits,
and the opt-out key (``context.opt_out_key``); a context without them
(hand made in a test) has no rule to apply.
"""

import collections

HARD = 'hard'
SOFT = 'soft'

ANTI_AFFINITY = 'anti-affinity'
AFFINITY = 'affinity'
SOFT_ANTI_AFFINITY = 'soft-anti-affinity'
SOFT_AFFINITY = 'soft-affinity'
AVAILABILITY_ZONE = 'availability-zone'
TRAITS = 'traits'
OPT_OUT = 'opt-out'
#: who enforces the opt-out: no part of Nova
ENGINE = 'engine only'

#: the metadata key of the opt-out when the configuration names none
DEFAULT_OPT_OUT_KEY = 'optimize'
#: values of that key that opt an instance out (case-insensitive)
OPT_OUT_VALUES = frozenset(['false', 'no', 'off', '0'])

#: A rule: its name, ``HARD`` or ``SOFT``, and what of Nova it mirrors.
Rule = collections.namedtuple('Rule', 'name kind mirrors')

RULES = {
    ANTI_AFFINITY: Rule(ANTI_AFFINITY, HARD,
                        'ServerGroupAntiAffinityFilter'),
    AFFINITY: Rule(AFFINITY, HARD, 'ServerGroupAffinityFilter'),
    SOFT_ANTI_AFFINITY: Rule(SOFT_ANTI_AFFINITY, SOFT,
                             'ServerGroupSoftAntiAffinityWeigher'),
    SOFT_AFFINITY: Rule(SOFT_AFFINITY, SOFT,
                        'ServerGroupSoftAffinityWeigher'),
    AVAILABILITY_ZONE: Rule(AVAILABILITY_ZONE, HARD,
                            'AvailabilityZoneFilter'),
    TRAITS: Rule(TRAITS, HARD,
                 "scheduler's Placement query (required and forbidden "
                 'traits)'),
    # NOTE: hard for the engine (never broken), though Nova knows nothing
    # of it: Rule.mirrors says so.
    OPT_OUT: Rule(OPT_OUT, HARD, 'no Nova filter (%s)' % ENGINE),
}


def opted_out(inst, key=DEFAULT_OPT_OUT_KEY):
    """Whether the instance's metadata opts it out of every move:
    ``key`` set to ``false``, ``no``, ``off`` or ``0`` (any case)."""
    if not key:
        return False
    value = (getattr(inst, 'metadata', None) or {}).get(key)
    return value is not None and str(value).strip().lower() in OPT_OUT_VALUES


class Violation(collections.namedtuple('Violation', 'rule reason')):
    """A move a rule refuses (hard) or advises against (soft).

    :attr rule: the :class:`Rule`
    :attr reason: one line naming the instance, host and group or zone
    """

    @property
    def hard(self):
        return self.rule.kind == HARD

    def __str__(self):
        return '%s (%s rule %s, as Nova\'s %s)' % (
            self.reason, self.rule.kind, self.rule.name, self.rule.mirrors)


def _name(group):
    return '%s (%s)' % (group.uuid, group.name) if group.name \
        else group.uuid


class Checker:
    """The rules of one strategy context.

    :param context: a :class:`~decision_engine.strategies.context.
        StrategyContext` (its ``nodes``, ``instances`` and
        ``server_groups``).
    """

    def __init__(self, context):
        self.nodes = context.nodes
        self.group_of = {}
        for group in (getattr(context, 'server_groups', None) or {}).values():
            members = [m for m in group.members if m in context.instances]
            if members:
                for member in members:
                    self.group_of[member] = group
        pinned = any(getattr(i, 'availability_zone', None)
                     for i in context.instances.values())
        #: the metadata key of the operator's opt-out
        self.opt_out_key = getattr(context, 'opt_out_key',
                                   DEFAULT_OPT_OUT_KEY)
        self.opted_out = frozenset(
            u for u, i in context.instances.items()
            if opted_out(i, self.opt_out_key))
        with_traits = any(getattr(i, 'required_traits', None)
                          or getattr(i, 'forbidden_traits', None)
                          for i in context.instances.values())
        #: False when no instance of the context has a rule: the checks
        #: cost nothing then.
        self.active = bool(self.group_of) or pinned or with_traits \
            or bool(self.opted_out)

    def without_opt_out(self):
        """A copy of this checker that lets opted-out instances move
        (a what-if: which hosts the opt-out keeps in use)."""
        other = object.__new__(Checker)
        other.__dict__.update(self.__dict__)
        other.opted_out = frozenset()
        return other

    def opt_out(self, inst):
        """The :class:`Violation` of moving an opted-out instance
        anywhere, or None."""
        if inst.uuid not in self.opted_out:
            return None
        return Violation(RULES[OPT_OUT], (
            'instance %s (%s) is opted out of optimization by its metadata '
            '%s=%s' % (inst.uuid, inst.name, self.opt_out_key,
                       inst.metadata.get(self.opt_out_key))))

    def hard(self, inst, dest, placement):
        """The first hard :class:`Violation` of moving ``inst`` to
        ``dest`` at the placement's state, or None."""
        if inst.uuid in self.opted_out:
            return self.opt_out(inst)
        required = getattr(inst, 'required_traits', None)
        forbidden = getattr(inst, 'forbidden_traits', None)
        if required or forbidden:
            why = _traits_problem(
                required or frozenset(), forbidden or frozenset(),
                getattr(self.nodes[dest], 'traits', None))
            if why is not None:
                return Violation(RULES[TRAITS], (
                    'instance %s needs %s: host %s cannot take it, %s'
                    % (inst.uuid, _trait_request(required, forbidden),
                       dest, why)))
        zone = getattr(inst, 'availability_zone', None)
        if zone:
            host_zone = self.nodes[dest].availability_zone
            if host_zone != zone:
                return Violation(RULES[AVAILABILITY_ZONE], (
                    'instance %s is pinned to availability zone %s, host '
                    '%s is in %s' % (inst.uuid, zone, dest,
                                     host_zone or 'no known zone')))
        group = self.group_of.get(inst.uuid)
        if group is None:
            return None
        if group.policy == ANTI_AFFINITY:
            limit = _max_per_host(group)
            there = self._members_on(group, dest, placement, inst.uuid)
            if len(there) >= limit:
                return Violation(RULES[ANTI_AFFINITY], (
                    'host %s already runs %d member(s) of anti-affinity '
                    'group %s (max_server_per_host %d): %s'
                    % (dest, len(there), _name(group), limit,
                       ', '.join(sorted(there)))))
        elif group.policy == AFFINITY:
            hosts = self._group_hosts(group, placement)
            if dest not in hosts:
                return Violation(RULES[AFFINITY], (
                    'instance %s is a member of affinity group %s, whose '
                    'members run on %s only, not on %s'
                    % (inst.uuid, _name(group),
                       ', '.join(sorted(hosts)), dest)))
        return None

    def soft(self, inst, dest, placement):
        """The soft :class:`Violation` of the move, or None."""
        group = self.group_of.get(inst.uuid)
        if group is None:
            return None
        if group.policy == SOFT_ANTI_AFFINITY:
            there = self._members_on(group, dest, placement, inst.uuid)
            if there:
                return Violation(RULES[SOFT_ANTI_AFFINITY], (
                    'host %s already runs %d member(s) of soft-anti-'
                    'affinity group %s' % (dest, len(there), _name(group))))
        elif group.policy == SOFT_AFFINITY:
            others = self._group_hosts(group, placement, inst.uuid)
            if others and dest not in others:
                return Violation(RULES[SOFT_AFFINITY], (
                    'members of soft-affinity group %s run on %s, not on %s'
                    % (_name(group), ', '.join(sorted(others)), dest)))
        return None

    def check(self, inst, dest, placement):
        """Every :class:`Violation` of the move (hard ones first)."""
        found = [self.hard(inst, dest, placement),
                 self.soft(inst, dest, placement)]
        return [v for v in found if v is not None]

    def explain(self, inst, dests, placement):
        """Why ``inst`` has no destination among ``dests`` though some
        have room for it: ``'rule on N host(s): example'`` per hard rule
        that refused one, or None when no rule is why (no destination
        has room, or one is allowed)."""
        refused = collections.OrderedDict()
        for dest in dests:
            if dest == placement.host_of.get(inst.uuid) or \
                    not placement.has_room(inst, dest):
                continue
            violation = self.hard(inst, dest, placement)
            if violation is None:
                return None
            refused.setdefault(violation.rule, []).append(violation)
        if not refused:
            return None
        return '; '.join(
            '%s on %d host(s), e.g. %s' % (rule.name, len(found), found[0])
            for rule, found in refused.items())

    def rules_of(self, inst):
        """The names of the rules that apply to ``inst``."""
        names = []
        if inst.uuid in self.opted_out:
            names.append(OPT_OUT)
        if getattr(inst, 'required_traits', None) or \
                getattr(inst, 'forbidden_traits', None):
            names.append(TRAITS)
        if getattr(inst, 'availability_zone', None):
            names.append(AVAILABILITY_ZONE)
        group = self.group_of.get(inst.uuid)
        if group is not None:
            names.append(group.policy)
        return names

    @staticmethod
    def _members_on(group, host, placement, exclude):
        host_of = placement.host_of
        return [m for m in group.members
                if m != exclude and host_of.get(m) == host]

    @staticmethod
    def _group_hosts(group, placement, exclude=None):
        """Hosts running members of ``group`` (Nova counts the moving
        instance's own source; ``exclude`` leaves one member out)."""
        host_of = placement.host_of
        return {host_of[m] for m in group.members
                if m != exclude and m in host_of}


def _traits_problem(required, forbidden, host_traits):
    """Why a provider with ``host_traits`` (None: not known) cannot take
    an instance asking for ``required`` and ``forbidden``, or None."""
    if host_traits is None:
        return 'its resource provider\'s traits are not known'
    missing = required - host_traits
    if missing:
        return 'it lacks required trait(s) %s' % ', '.join(sorted(missing))
    present = forbidden & host_traits
    if present:
        return 'it has forbidden trait(s) %s' % ', '.join(sorted(present))
    return None


def _trait_request(required, forbidden):
    """``'trait(s) A, !B'``: the traits as Placement's ``required``
    parameter writes them."""
    names = sorted(required or ()) + ['!' + t for t in sorted(forbidden
                                                              or ())]
    return 'trait(s) %s' % ', '.join(names)


def _max_per_host(group):
    value = (group.rules or {}).get('max_server_per_host')
    return 1 if value is None else int(value)


def describe():
    """``[{'name', 'kind', 'mirrors'}]`` of every rule (docs, API)."""
    return [{'name': r.name, 'kind': r.kind, 'mirrors': r.mirrors}
            for r in RULES.values()]

"""Required and forbidden traits, as a flavor's extra specs ask for them.

Nova turns a flavor's ``trait:<NAME>=required`` and
``trait:<NAME>=forbidden`` extra specs into the unnumbered request group of
its Placement query (``required=NAME,!OTHER``): the scheduler only
considers a compute node whose resource provider has every required trait
and none of the forbidden ones. Numbered groups (``trait1:<NAME>``) ask
for traits of a provider of that group, usually a nested one (a NIC's
physical function), which the model does not read: they are not kept.
"""

REQUIRED = 'required'
FORBIDDEN = 'forbidden'
_PREFIX = 'trait:'

#: the traits of an instance whose flavor asks for none (one shared value)
NONE: frozenset[str] = frozenset()


def flavor_traits(extra_specs):
    """``(required, forbidden)`` frozensets of trait names from a flavor's
    extra specs (other values of ``trait:`` keys are ignored, as Nova
    ignores them)."""
    required = []
    forbidden = []
    for key, value in (extra_specs or {}).items():
        if not key.startswith(_PREFIX):
            continue
        name = key[len(_PREFIX):]
        value = str(value).strip().lower()
        if not name:
            continue
        if value == REQUIRED:
            required.append(name)
        elif value == FORBIDDEN:
            forbidden.append(name)
    return (frozenset(required) if required else NONE,
            frozenset(forbidden) if forbidden else NONE)


#: the trait Nova's compute manager puts on its provider while the
#: compute service is disabled (and every scheduling request forbids):
#: the node's ``status`` already says it, and a service event changes the
#: status without a word about the trait, so the model leaves it out.
STATUS_DISABLED = 'COMPUTE_STATUS_DISABLED'


def provider_traits(doc):
    """The frozenset of trait names of ``GET /resource_providers/{uuid}/
    traits`` (but :data:`STATUS_DISABLED`).

    :raises ValueError: when the body has no list of strings ``traits``.
    """
    traits = doc.get('traits') if isinstance(doc, dict) else None
    if not isinstance(traits, list) or not all(
            isinstance(t, str) for t in traits):
        raise ValueError("'traits' is not a list of trait names")
    return frozenset(t for t in traits if t != STATUS_DISABLED)

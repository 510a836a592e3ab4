"""Who owns what: a consistent hash ring over the live engines."""

from tooz import hashring


class Ring:
    """An immutable view of the ring built from one membership.

    Every engine that sees the same members builds the same ring (tooz's
    consistent hash over the member ids), so they agree on owners without
    talking to each other.
    """

    def __init__(self, members, replicas):
        self.members = frozenset(members)
        self._ring = (hashring.HashRing(sorted(self.members),
                                        partitions=replicas)
                      if self.members else None)

    def owner(self, key):
        """The member id owning ``key`` (str), or None with no member."""
        if self._ring is None:
            return None
        (owner,) = self._ring.get_nodes(key.encode('utf-8'))
        return owner


class SoleRing:
    """The ring of an engine working alone: it owns everything."""

    def __init__(self, member):
        self.members = frozenset([member])
        self._member = member

    def owner(self, key):
        return self._member

"""Several engines as one: tooz membership, a hash ring, a leader.

See :mod:`decision_engine.coordination.cluster`.
"""

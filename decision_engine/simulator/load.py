"""A seeded load model: how busy each simulated instance is, over time.

Every instance gets a profile, drawn from the seed and its uuid only (the
same seed gives the same load whatever else changes):

``steady``
    a constant share of its vCPUs;
``diurnal``
    a base share plus a sine of period ``day_s`` (a compressed day);
``bursty``
    a low base with bursts: each ``burst_s`` slot is busy with probability
    ``p``, a pure function of (seed, uuid, slot).

:meth:`LoadModel.cpu_seconds` is the exact integral of an instance's CPU
demand (in core-seconds) between two times, so counters built from it are
what a hypervisor would count. Memory in use is a share of the flavor's
RAM that follows the same profile more gently. The model knows nothing of
hosts: :mod:`decision_engine.simulator.exporter` puts instances on hosts
(where the topology says they are at each scrape, so a migration moves the
load with the instance) and caps a host at its physical cores.
"""

import dataclasses
import hashlib
import math
import random

PROFILES = ('steady', 'diurnal', 'bursty')


@dataclasses.dataclass(frozen=True)
class Profile:
    kind: str
    base: float         # share of the vCPUs busy (0-1)
    amplitude: float    # diurnal: +- share; bursty: share added in a burst
    phase: float        # diurnal: radians
    burst_p: float      # bursty: probability a slot is a burst
    memory: float       # share of the flavor's RAM in use


def _rng(seed, *parts):
    digest = hashlib.sha256(('%s|' % seed + '|'.join(
        map(str, parts))).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], 'big'))


class LoadModel:
    """See the module docstring.

    :param weights: relative frequency of each profile, in
        :data:`PROFILES` order.
    :param only: force every instance to this profile (tests).
    """

    def __init__(self, seed=0, day_s=3600.0, burst_s=60.0,
                 weights=(0.5, 0.3, 0.2), only=None):
        self.seed = seed
        self.day_s = float(day_s)
        self.burst_s = float(burst_s)
        self.weights = tuple(weights)
        self.only = only
        self._profiles = {}

    def profile(self, uuid):
        p = self._profiles.get(uuid)
        if p is None:
            rng = _rng(self.seed, 'profile', uuid)
            kind = self.only or rng.choices(PROFILES, self.weights)[0]
            if kind == 'steady':
                p = Profile(kind, rng.uniform(0.05, 0.6), 0.0, 0.0, 0.0,
                            rng.uniform(0.3, 0.8))
            elif kind == 'diurnal':
                base = rng.uniform(0.2, 0.5)
                p = Profile(kind, base, rng.uniform(0.05, base),
                            rng.uniform(0, 2 * math.pi), 0.0,
                            rng.uniform(0.3, 0.8))
            else:
                p = Profile(kind, rng.uniform(0.02, 0.1),
                            rng.uniform(0.4, 0.8), 0.0,
                            rng.uniform(0.1, 0.4), rng.uniform(0.2, 0.6))
            self._profiles[uuid] = p
        return p

    def cpu_share(self, uuid, t):
        """Share of the instance's vCPUs busy at time ``t``."""
        p = self.profile(uuid)
        if p.kind == 'steady':
            return p.base
        if p.kind == 'diurnal':
            return p.base + p.amplitude * math.sin(
                2 * math.pi * t / self.day_s + p.phase)
        return p.base + (p.amplitude if self._burst(uuid, t) else 0.0)

    def _burst(self, uuid, t):
        slot = int(math.floor(t / self.burst_s))
        return _rng(self.seed, 'burst', uuid, slot).random() < \
            self.profile(uuid).burst_p

    def cpu_seconds(self, uuid, vcpus, t0, t1):
        """Core-seconds of CPU the instance demands in ``[t0, t1]``."""
        if t1 <= t0:
            return 0.0
        p = self.profile(uuid)
        if p.kind == 'steady':
            return vcpus * p.base * (t1 - t0)
        if p.kind == 'diurnal':
            w = 2 * math.pi / self.day_s
            integral = p.base * (t1 - t0) - p.amplitude / w * (
                math.cos(w * t1 + p.phase) - math.cos(w * t0 + p.phase))
            return vcpus * integral
        total = 0.0
        t = t0
        while t < t1:
            end = min(t1, (math.floor(t / self.burst_s) + 1) * self.burst_s)
            total += (end - t) * self.cpu_share(uuid, t)
            t = end
        return vcpus * total

    def memory_mb(self, uuid, ram_mb, t):
        """RAM in use (MiB) at time ``t``: the profile's share, a little
        higher when the CPU is busier."""
        p = self.profile(uuid)
        share = min(1.0, p.memory * (0.9 + 0.2 * self.cpu_share(uuid, t)))
        return ram_mb * share

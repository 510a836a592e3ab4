"""Latency and fault injection plans.

Both are consulted by the server once per request (never for the ``/_sim/``
admin endpoints) and can be replaced at runtime from any thread.

Latency: a default number of milliseconds plus optional per-service values
(``identity``, ``compute``, ``placement``, ``baremetal``), parsed from
``"20"`` or ``"compute=50,placement=20"`` or ``"10,compute=50"``.

Faults: an ordered list of :class:`FaultRule`.  For each request the first
rule that matches (service, method, path regex searched in the request
path, query excluded) and whose seeded random roll is below its ``rate``
fires; a rule with ``count`` set fires that many times and is then
dropped.  Kinds:

``error``      answer ``status`` (500/502/503/429...) with the service's error
               body; 429 and 503 carry ``Retry-After: retry_after``.
``reset``      close the TCP connection without any response (RST).
``stall``      hold the request ``stall_s`` seconds (None: until released or
               the simulator stops), then answer normally; a request whose
               client hung up meanwhile is dropped, not carried out.
``malformed``  answer 200 with a truncated, unparseable JSON body.
``truncated``  carry the request out, then send its answer's headers (the
               full ``Content-Length``) and half its body, and close the
               connection: the client cannot tell whether a write happened.
``expire``     revoke every issued token, then serve the request (which
               its now stale token makes a 401): token expiry at a seeded
               point of a build.
"""

import dataclasses
import random
import re
import threading

SERVICES = ('identity', 'compute', 'placement', 'baremetal')
KINDS = ('error', 'reset', 'stall', 'malformed', 'truncated', 'expire')


class ConfigError(ValueError):
    """A latency or fault specification is invalid (one-line message)."""


@dataclasses.dataclass
class FaultRule:
    kind: str = 'error'
    rate: float = 1.0
    status: int = 503
    retry_after: int | None = 1
    stall_s: float | None = None
    service: str | None = None
    method: str | None = None
    path: str | None = None          # regex, re.search on the raw path
    count: int | None = None         # fire this many times, then drop

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ConfigError('fault kind must be one of %s, got %r'
                              % ('/'.join(KINDS), self.kind))
        if isinstance(self.rate, bool) or not isinstance(
                self.rate, (int, float)) or not 0 <= self.rate <= 1:
            raise ConfigError('fault rate must be in 0..1, got %r'
                              % (self.rate,))
        if not isinstance(self.status, int) or not 400 <= self.status <= 599:
            raise ConfigError('fault status must be 400..599, got %r'
                              % (self.status,))
        if self.service is not None and self.service not in SERVICES:
            raise ConfigError('fault service must be one of %s, got %r'
                              % ('/'.join(SERVICES), self.service))
        if self.count is not None and (not isinstance(self.count, int)
                                       or self.count < 1):
            raise ConfigError('fault count must be an integer >= 1, got %r'
                              % (self.count,))
        if self.stall_s is not None and (
                not isinstance(self.stall_s, (int, float))
                or self.stall_s < 0):
            raise ConfigError('fault stall_s must be >= 0, got %r'
                              % (self.stall_s,))
        if self.method is not None:
            self.method = self.method.upper()
        try:
            self._regex = re.compile(self.path) if self.path else None
        except re.error as exc:
            raise ConfigError('fault path is not a valid regex: %s' % exc)

    def matches(self, service, method, path):
        return ((self.service is None or self.service == service)
                and (self.method is None or self.method == method)
                and (self._regex is None or self._regex.search(path)))

    def to_dict(self):
        return {f.name: getattr(self, f.name)
                for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d):
        if not isinstance(d, dict):
            raise ConfigError('a fault rule must be an object, got %r'
                              % (d,))
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError('unknown fault field %r' % unknown[0])
        return cls(**d)

    @classmethod
    def parse(cls, text):
        """Parse the CLI form ``kind[:key=value,...]``.

        e.g. ``error:rate=0.1,status=503``, ``reset:count=3,path=inventories``
        """
        kind, _, rest = text.partition(':')
        fields = {'kind': kind.strip()}
        types = {'rate': float, 'status': int, 'retry_after': int,
                 'stall_s': float, 'count': int}
        for item in filter(None, rest.split(',')):
            key, sep, value = item.partition('=')
            key = key.strip()
            if not sep:
                raise ConfigError('fault option %r needs key=value' % item)
            if key not in {f.name for f in dataclasses.fields(cls)} \
                    or key == 'kind':
                raise ConfigError('unknown fault option %r' % key)
            try:
                fields[key] = types.get(key, str)(value)
            except ValueError:
                raise ConfigError('fault option %s: bad value %r'
                                  % (key, value))
        return cls(**fields)


class FaultPlan:
    """Thread-safe ordered rules with a seeded RNG."""

    def __init__(self, rules=(), seed=0):
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._rules = list(rules)
        self._fired = {}

    def fired(self):
        """``{kind: times}`` the rules fired since they were last set
        (counted when picked: a stalled request counts before it ends)."""
        with self._lock:
            return dict(self._fired)

    def set(self, rules, seed=None):
        rules = [r if isinstance(r, FaultRule) else FaultRule.from_dict(r)
                 for r in rules]
        with self._lock:
            self._rules = rules
            self._fired = {}
            if seed is not None:
                self._rng = random.Random(seed)

    def add(self, rule):
        with self._lock:
            self._rules.append(rule)

    def rules(self):
        with self._lock:
            return list(self._rules)

    def pick(self, service, method, path):
        """The rule that fires for this request, or None."""
        if not self._rules:     # fast path: no lock when nothing is set
            return None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(service, method, path):
                    continue
                if rule.rate < 1 and self._rng.random() >= rule.rate:
                    continue
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                self._fired[rule.kind] = self._fired.get(rule.kind, 0) + 1
                return rule
        return None


class LatencyPlan:
    """Per-request delay in seconds, by service."""

    def __init__(self, default_ms=0.0, per_service=None):
        self.set(default_ms, per_service)

    def set(self, default_ms=0.0, per_service=None):
        per_service = dict(per_service or {})
        for name, ms in [('default', default_ms)] + list(
                per_service.items()):
            if name != 'default' and name not in SERVICES:
                raise ConfigError('latency: unknown service %r (one of %s)'
                                  % (name, '/'.join(SERVICES)))
            if isinstance(ms, bool) or not isinstance(ms, (int, float)) \
                    or ms < 0:
                raise ConfigError('latency for %s must be a number >= 0, '
                                  'got %r' % (name, ms))
        # Replace the whole table at once so readers never see half of it.
        self._table = ({s: per_service.get(s, default_ms) / 1000.0
                        for s in SERVICES}, float(default_ms),
                       per_service)

    def seconds(self, service):
        return self._table[0].get(service, self._table[1] / 1000.0)

    def to_dict(self):
        return {'default': self._table[1], **self._table[2]}

    @staticmethod
    def parse(text):
        """``"20"`` / ``"compute=50,placement=20"`` -> (default, dict)."""
        default, per = 0.0, {}
        for item in filter(None, (p.strip() for p in str(text).split(','))):
            key, sep, value = item.rpartition('=')
            try:
                ms = float(value)
            except ValueError:
                raise ConfigError('latency: bad milliseconds %r' % value)
            if ms < 0:
                raise ConfigError('latency: must be >= 0, got %r' % value)
            if sep:
                if key not in SERVICES:
                    raise ConfigError('latency: unknown service %r (one of '
                                      '%s)' % (key, '/'.join(SERVICES)))
                per[key] = ms
            else:
                default = ms
        return default, per

"""Admin HTTP endpoints under ``/_sim/`` (no auth, no latency, no faults,
not counted in stats), mirroring the Python API of the simulator:

=======  ======================  ==========================================
GET      /_sim/health            ``{"status": "ok", "url", "auth_url"}``
GET      /_sim/stats[?log=1]     stats snapshot (see ``stats`` module)
POST     /_sim/reset             zero the counters and the request log
GET      /_sim/faults            ``{"rules": [rule, ...]}``
PUT      /_sim/faults            replace: ``{"rules": [...], "seed": n}``
POST     /_sim/faults            append one rule object
DELETE   /_sim/faults            remove all rules
GET      /_sim/latency           ``{"default": ms, "<service>": ms}``
PUT      /_sim/latency           same shape; replaces the table
GET|PUT  /_sim/neutron           ``{"latency_ms": ms}``: the latency of
                                 each Neutron query Nova's server
                                 listings cost (counted in the stats'
                                 ``downstream``)
POST     /_sim/tokens/expire     revoke every issued token
POST     /_sim/stalls/release    let stalled requests continue
GET      /_sim/topology          the ground truth (``Topology.to_dict``)
GET      /_sim/compute/requests  every write: method, path, microversion,
                                 body, time
GET      /_sim/compute/migrations  every migration and its outcome
GET|PUT  /_sim/compute/settings  migration duration, jitter, faults
POST     /_sim/compute/reset     empty the request log
=======  ======================  ==========================================

A rule object has the fields of ``faults.FaultRule``.  Bad input -> 400
``{"error": "<one line>"}``.
"""

import json

from decision_engine.simulator import faults
from decision_engine.simulator import routing


def _error(status, message):
    return routing.json_response({'error': message}, status)


class AdminAPI:
    def __init__(self, sim):
        self.sim = sim

    def handle(self, method, path, raw_query, body):
        action = path.rstrip('/')[len('/_sim'):] or '/'
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            return _error(400, 'request body is not JSON')
        key = (method, action)
        sim = self.sim
        try:
            if key == ('GET', '/health'):
                return routing.json_response({
                    'status': 'ok', 'url': sim.url,
                    'auth_url': sim.auth_url})
            if key == ('GET', '/stats'):
                want_log = 'log=1' in raw_query or 'log=true' in raw_query
                return routing.json_response(sim.stats(log=want_log))
            if key == ('POST', '/reset'):
                sim.reset_stats()
                return routing.json_response({'reset': True})
            if key == ('GET', '/faults'):
                return self._rules()
            if key == ('PUT', '/faults'):
                if not isinstance(payload, dict) or not isinstance(
                        payload.get('rules', []), list):
                    return _error(400, 'expected {"rules": [...]}')
                sim.set_faults(payload.get('rules', []),
                               payload.get('seed'))
                return self._rules()
            if key == ('POST', '/faults'):
                sim.faults.add(faults.FaultRule.from_dict(payload))
                return self._rules()
            if key == ('DELETE', '/faults'):
                sim.clear_faults()
                return self._rules()
            if key == ('GET', '/latency'):
                return routing.json_response(sim.latency.to_dict())
            if key == ('PUT', '/latency'):
                if not isinstance(payload, dict):
                    return _error(400, 'expected {"default": ms, ...}')
                sim.set_latency(payload)
                return routing.json_response(sim.latency.to_dict())
            if key == ('GET', '/neutron'):
                return routing.json_response(
                    {'latency_ms': sim.neutron.latency_ms})
            if key == ('PUT', '/neutron'):
                if not isinstance(payload, dict) or \
                        'latency_ms' not in payload:
                    return _error(400, 'expected {"latency_ms": ms}')
                sim.set_neutron_latency(payload['latency_ms'])
                return routing.json_response(
                    {'latency_ms': sim.neutron.latency_ms})
            if key == ('POST', '/tokens/expire'):
                sim.expire_tokens()
                return routing.json_response({'expired': True})
            if key == ('POST', '/stalls/release'):
                sim.release_stalls()
                return routing.json_response({'released': True})
            if key == ('GET', '/topology'):
                return routing.json_response(sim.topology.to_dict())
            if action.startswith('/compute/'):
                resp = sim.writes.admin(method, action, payload)
                if resp is not None:
                    return resp
        except (faults.ConfigError, TypeError) as exc:
            return _error(400, str(exc))
        return _error(404, 'no admin endpoint %s %s' % (method, path))

    def _rules(self):
        return routing.json_response(
            {'rules': [r.to_dict() for r in self.sim.faults.rules()]})

"""A simulated OpenStack cloud (Keystone v3, Nova v2.1, Placement, Ironic
v1) on one loopback port, for tests, benchmarks and demos.

Public API::

    from decision_engine.simulator import Simulator, Topology, FaultRule
    topo = Topology.generate(hosts=50, instances=500, aggregates=3, azs=2,
                             seed=1)
    sim = Simulator(topo, latency_ms=0, token_ttl_s=3600).start()
    conn = sim.connection()     # openstack.connection.Connection
    sim.stats(); sim.reset_stats(); sim.add_fault('error', status=503)
    sim.stop()

Modules: ``topology`` (ground truth, made of ``records``, read by
``topology_document``, seeded by ``generator``), ``faults`` (latency and
fault plans), ``stats`` (counters), ``routing`` (request/response/routes),
``identity``/``compute``/``placement``/``baremetal`` (one per emulated
service; ``compute_servers`` and ``compute_hypervisors`` hold parts of
Nova), ``admin`` (``/_sim/`` endpoints), ``server`` (the HTTP server and
:class:`Simulator`), ``cmd`` (the ``decision-engine-simulator`` CLI),
``bmc`` (a farm of Redfish BMCs, served by ``bmc_http``) and
``silent_bmc`` (a peer that never answers).
"""

from decision_engine.simulator.faults import ConfigError  # noqa: F401
from decision_engine.simulator.faults import FaultRule  # noqa: F401
from decision_engine.simulator.records import Aggregate  # noqa: F401
from decision_engine.simulator.records import Flavor  # noqa: F401
from decision_engine.simulator.records import Host  # noqa: F401
from decision_engine.simulator.records import Instance  # noqa: F401
from decision_engine.simulator.records import TopologyError  # noqa: F401
from decision_engine.simulator.server import Simulator  # noqa: F401
from decision_engine.simulator.topology import Topology  # noqa: F401

__all__ = ['Aggregate', 'ConfigError', 'FaultRule', 'Flavor', 'Host',
           'Instance', 'Simulator', 'Topology', 'TopologyError']

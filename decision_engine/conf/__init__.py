"""Configuration options of decision-engine, one module per group.

Importing this package registers every option on the global ``CONF``.
"""

from oslo_config import cfg
from oslo_policy import opts as policy_opts

from decision_engine.conf import api
from decision_engine.conf import applier
from decision_engine.conf import audit
from decision_engine.conf import cloud
from decision_engine.conf import collector
from decision_engine.conf import conductor
from decision_engine.conf import coordination
from decision_engine.conf import database
from decision_engine.conf import datasource
from decision_engine.conf import default
from decision_engine.conf import fake_power
from decision_engine.conf import ipmi
from decision_engine.conf import ironic
from decision_engine.conf import ironic_power
from decision_engine.conf import notifications
from decision_engine.conf import nova
from decision_engine.conf import placement
from decision_engine.conf import power
from decision_engine.conf import redfish
from decision_engine.conf import reports
from decision_engine.conf import simulator

CONF = cfg.CONF

# NOTE: the order of this tuple is the order of the groups in the generated
# sample config file.
MODULES = (default, conductor, power, fake_power, redfish, ipmi,
           ironic_power, audit, applier, database, coordination, api,
           collector, notifications, datasource, cloud, nova, placement,
           ironic, simulator, reports)


def register_opts(conf):
    """Register every option of every group on ``conf`` (a fresh
    ``ConfigOpts`` of a tool or test, or the global ``CONF``)."""
    for module in MODULES:
        module.register_opts(conf)
    # NOTE: [oslo_policy], oslo.policy's own options: where the rules of
    # the API (decision_engine/api/v1/policy.py) may be overridden.
    policy_opts.set_defaults(conf)


register_opts(CONF)

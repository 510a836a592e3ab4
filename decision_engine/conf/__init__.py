"""Configuration options of decision-engine, one module per group.

Importing this package registers every option on the global ``CONF``.
"""

from oslo_config import cfg

from decision_engine.conf import api
from decision_engine.conf import audit
from decision_engine.conf import conductor
from decision_engine.conf import database
from decision_engine.conf import default
from decision_engine.conf import fake_power
from decision_engine.conf import power

CONF = cfg.CONF

# NOTE: the order of this tuple is the order of the groups in the generated
# sample config file.
MODULES = (default, conductor, power, fake_power, audit, database, api)

for _module in MODULES:
    _module.register_opts(CONF)

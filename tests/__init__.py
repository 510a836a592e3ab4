import os

#: the concurrency backend the tests run on; see tests/conftest.py.
BACKEND = os.environ.get('DECISION_ENGINE_TEST_BACKEND', 'threading')


def fresh_conf(**overrides):
    """A parsed ConfigOpts with every decision-engine option registered,
    isolated from the global CONF; ``overrides`` set DEFAULT options."""
    from oslo_config import cfg

    from decision_engine import conf as conf_mod

    conf = cfg.ConfigOpts()
    conf_mod.register_opts(conf)
    conf([], project='decision-engine', default_config_files=[])
    for name, value in overrides.items():
        conf.set_override(name, value)
    return conf

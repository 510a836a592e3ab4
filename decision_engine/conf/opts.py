"""Entry point for oslo-config-generator and the sphinx config extension."""

from decision_engine import conf


def list_opts():
    """Return a list of ``(group, [options])`` for every option we own."""
    return [(module.GROUP, module.list_opts()) for module in conf.MODULES]

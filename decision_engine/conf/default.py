"""Options of the ``[DEFAULT]`` group."""

from oslo_config import cfg

GROUP = None

opts = [
    cfg.ListOpt(
        'enabled_power_drivers',
        default=['fake'],
        help='Power drivers to load, by the name of their entry point in '
             'the ``decision_engine.power_drivers`` namespace. Every node '
             'of the inventory must use one of them. Changing this list '
             'needs a restart.'),
    cfg.StrOpt(
        'concurrency_backend',
        default='threading',
        choices=[
            ('threading', 'Native threads; oslo.service runs the engine '
                          'under cotyledon (a supervising parent process '
                          'and one worker process).'),
            ('eventlet', 'Eventlet green threads (deprecated upstream); '
                         'the engine runs in a single process.'),
        ],
        help='Concurrency model of the engine process. It is chosen once, '
             'before any eventlet-sensitive module is imported, so it '
             'cannot change on SIGHUP.'),
    cfg.StrOpt(
        'state_path',
        default='/var/lib/decision-engine',
        help='Directory where the engine keeps its state.'),
]


def register_opts(conf):
    conf.register_opts(opts)


def list_opts():
    return opts

"""Options of the ``[DEFAULT]`` group."""

import socket

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
    cfg.StrOpt(
        'host',
        default=socket.gethostname(),
        sample_default='<server-hostname.example.com>',
        # NOTE: stored as the audits' owner (a 255-character column).
        regex=r'^[^\s\x00](.*[^\s\x00])?$',
        max_length=255,
        help='Name of this engine, by default the host name of the '
             'machine: recorded as the owner of each audit it runs. At '
             'start the engine settles only the ONGOING audits it owns (a '
             'previous process of the same engine left them), so engines '
             'sharing one ``[database] connection`` must each have a '
             'different ``host`` (set it when two run on one machine), and '
             'an engine must keep its ``host`` across restarts. Not a '
             'network address; at most 255 characters, no leading or '
             'trailing spaces; changing it needs a restart.'),
]


def register_opts(conf):
    conf.register_opts(opts)


def list_opts():
    return opts

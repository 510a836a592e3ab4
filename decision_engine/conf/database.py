"""Options of the ``[database]`` group: the store of audits and plans."""

from oslo_config import cfg

GROUP = 'database'

opts = [
    cfg.StrOpt(
        'connection',
        secret=True,
        help='SQLAlchemy URL of the store, e.g. '
             '``postgresql+psycopg2://user:pass@host/decision_engine`` for '
             'a shared deployment. Unset: an embedded SQLite database, '
             '``decision-engine.sqlite`` under ``[DEFAULT] state_path``. '
             'Run ``decision-engine-manage db sync`` after changing it.'),
    cfg.IntOpt(
        'connection_timeout',
        default=10, min=1, max=600,
        help='Seconds to wait when connecting to the database (and, for '
             'SQLite, for a lock held by another writer).'),
    cfg.IntOpt(
        'max_pool_size',
        default=10, min=1, max=1000,
        help='Connections kept open to a server database (not SQLite).'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return opts

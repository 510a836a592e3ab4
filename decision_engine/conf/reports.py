"""Options of the ``[oslo_reports]`` group: Guru Meditation Reports.

The options are oslo.reports' own (``log_dir``, ``file_event_handler``,
``file_event_handler_interval``); registering them with the engine's puts
them in the sample file and the configuration reference, and lets start-up
validation check them. See :mod:`decision_engine.reports`.
"""

from oslo_reports import opts as gmr_opts

GROUP = 'oslo_reports'


def register_opts(conf):
    gmr_opts.set_defaults(conf)


def list_opts():
    return gmr_opts.list_opts()[0][1]

"""``decision-engine``: the engine daemon."""

import contextlib
import logging
import sys

from oslo_config import cfg
from oslo_log import log

from decision_engine.common import files
from decision_engine.concurrency import backend
from decision_engine import conf as conf_mod
from decision_engine.conf import validation
from decision_engine.common import systemd

PROG = 'decision-engine'

# NOTE: oslo.service's launcher hard-kills the process this many seconds
# after the engine's own drain deadline, so the drain always gets to finish
# (or to log what it abandons) first.
_LAUNCHER_KILL_MARGIN = 15


def parse_config(argv, conf=None):
    """Parse the command line and config files, and validate every option.

    :raises SystemExit: with status 2 and one line on stderr when anything
        is wrong (unknown file, bad value, out of range, unknown choice).
    """
    conf = conf or conf_mod.CONF
    log.register_options(conf)
    try:
        conf(argv, project='decision-engine', prog=PROG)
        validation.check_all(conf)
        validation.guard_reloads(conf, _register_all)
    except (cfg.Error, validation.InvalidOption) as exc:
        sys.stderr.write('%s: error: %s\n' % (PROG, validation.describe(exc)))
        raise SystemExit(2)
    return conf


def _register_all(conf):
    conf_mod.register_opts(conf)
    log.register_options(conf)


def preflight(conf):
    """Check what can be checked before forking: the inventory and the
    drivers, the API's address and authentication, the datasource, the
    embedded simulator's files, the notification transport and the store.

    A mistake found here exits with status 2 and one line, instead of a
    worker process that fails to start (and would be restarted).
    """
    # NOTE: imported here, after main() selected the concurrency backend:
    # these import futurist and SQLAlchemy, which create locks at import
    # time that eventlet must have patched first.
    from decision_engine.api import auth
    from decision_engine.api import server
    from decision_engine.cloud import embedded
    from decision_engine.collector import notifications
    from decision_engine.coordination import preflight as cluster_preflight
    from decision_engine.datasources import base as datasource_base
    from decision_engine.datasources import loader as datasource_loader
    from decision_engine.db import api as db_api
    from decision_engine.drivers import loader
    from decision_engine.drivers import power_state
    try:
        with _library_logs_unshown():
            cluster_preflight.check_store(conf)
            nodes = loader.load_nodes(conf)
            # NOTE: drivers are built without a pool here, so their
            # constructors must not do I/O (see PowerDriver).
            loader.load_drivers(conf, None,
                                power_state.PowerStateTracker(1), nodes)
            if conf.api.enabled:
                auth.check_bind(conf)
                auth.check_files(conf)
                auth.check_keystone(conf)
                server.check_listen(conf)
            # NOTE: the datasource and its metric map as the manager loads
            # them (no I/O but reading the map), and the simulator's
            # topology file.
            datasource_loader.load(conf, None)
            embedded.check_files(conf)
            notifications.check_transport_url(conf)
            # NOTE: the embedded SQLite store is created or migrated here,
            # as the engine would do at start; a server database is only
            # read.
            db_api.Store.open_for_engine(conf).dispose()
    except (loader.DriverLoadError, auth.AuthConfigError,
            server.CannotListen, db_api.StoreUnavailable,
            cluster_preflight.ClusterMisconfigured,
            datasource_base.DatasourceError,
            embedded.TopologyFileError,
            notifications.BadTransportURL) as exc:
        sys.stderr.write('%s: error: %s\n' % (PROG, exc))
        raise SystemExit(2)


@contextlib.contextmanager
def _library_logs_unshown():
    """Keep what libraries log during the pre-flight off stderr.

    NOTE: logging is not set up yet: oslo.log's register_options gave the
    root logger a stderr handler meanwhile, so a record (stevedore's
    "Could not load nope", keystonemiddleware's warnings) would land
    beside our one line. The worker does the same work again and logs it
    where the operator reads the log.
    """
    root = logging.getLogger()
    handlers = root.handlers[:]
    for handler in handlers:
        root.removeHandler(handler)
    null = logging.NullHandler()
    root.addHandler(null)
    try:
        yield
    finally:
        root.removeHandler(null)
        for handler in handlers:
            root.addHandler(handler)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    # NOTE: before anything is created: the store, the log file and the
    # Guru Meditation Reports are the engine user's only
    # (doc/source/admin/security.rst).
    files.restrict_umask()
    conf = parse_config(argv)
    # Must come before anything imports oslo_service.service or futurist's
    # executors: see decision_engine.concurrency.backend.
    backend.select(conf.concurrency_backend)
    preflight(conf)
    log.setup(conf, 'decision-engine')
    backend.log_choice()
    notifier = systemd.take_notify_socket()

    # NOTE: imported once the backend is selected (see preflight).
    from oslo_service import opts as oslo_service_opts

    from decision_engine import reports
    from decision_engine import service

    # The launchers read their hard-kill deadline when they are built.
    oslo_service_opts.register_service_opts(conf)
    conf.set_override(
        'graceful_shutdown_timeout',
        conf.conductor.graceful_shutdown_timeout + _LAUNCHER_KILL_MARGIN)
    engine = service.EngineService(conf, notifier, conf.concurrency_backend)
    launcher = service.launch(conf, engine)
    reports.install(launcher, conf, engine, conf.concurrency_backend)
    status = launcher.wait()
    if engine.start_failed():
        return 1
    return status or 0


if __name__ == '__main__':
    sys.exit(main())

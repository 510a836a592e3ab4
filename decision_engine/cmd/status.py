"""``decision-engine-status upgrade check``: is this deployment ready?

Run it with the engine's configuration before starting a new version (and
after ``decision-engine-manage db sync``). Each check gives Success, Warning
or Failure with one line of details; the exit status is the worst of them
(0, 1 or 2, as oslo.upgradecheck defines), 255 when a check crashed.

The checks read the configuration and the store only; they change nothing
(an absent SQLite store is reported, not created).
"""

import configparser
import glob
import os
import re
import sys

from oslo_config import cfg
from oslo_upgradecheck import upgradecheck
import sqlalchemy as sa
from stevedore import extension

from decision_engine import conf as conf_mod
from decision_engine.conf import validation

PROJECT = 'decision-engine'
POWER_DRIVERS_NAMESPACE = 'decision_engine.power_drivers'
# NOTE: the same margin decision_engine.cmd.engine adds before the launcher
# kills its worker; kept literal so this tool never imports the daemon's
# start-up code (which selects a concurrency backend).
LAUNCHER_KILL_MARGIN = 15
UNIT_NAME = 'decision-engine.service'
UNIT_DIRS = ('/etc/systemd/system', '/run/systemd/system',
             '/usr/local/lib/systemd/system', '/usr/lib/systemd/system',
             '/lib/systemd/system')

Code = upgradecheck.Code
Result = upgradecheck.Result


class Checks(upgradecheck.UpgradeCommands):
    """The checks, in the order they are shown."""

    def __init__(self, conf, unit_dirs=None):
        self.conf = conf
        self.unit_dirs = UNIT_DIRS if unit_dirs is None else unit_dirs

    # -- configuration -----------------------------------------------------

    def _check_options(self):
        try:
            validation.check_all(self.conf)
        except validation.InvalidOption as exc:
            return Result(Code.FAILURE, str(exc))
        return Result(Code.SUCCESS, 'every option has a valid value')

    def _check_api(self):
        api = self.conf.api
        if not api.enabled:
            return Result(Code.SUCCESS, 'the API is disabled ([api] '
                                        'enabled = false)')
        # NOTE: imported here: the API package pulls in WebOb and
        # keystonemiddleware, needed only when the API is enabled.
        from decision_engine.api import auth
        try:
            auth.check_bind(self.conf)
        except auth.AuthConfigError as exc:
            return Result(Code.FAILURE, str(exc))
        if api.auth_strategy == 'http_basic' and not os.access(
                api.http_basic_auth_user_file, os.R_OK):
            return Result(Code.FAILURE,
                          'cannot read [api] http_basic_auth_user_file %s'
                          % api.http_basic_auth_user_file)
        return Result(Code.SUCCESS, 'API on %s:%s with %s' % (
            api.host, api.port, api.auth_strategy))

    def _check_backend(self):
        if self.conf.concurrency_backend == 'eventlet':
            return Result(Code.WARNING,
                          '[DEFAULT] concurrency_backend = eventlet: eventlet '
                          'is deprecated upstream; plan a move to threading')
        return Result(Code.SUCCESS, 'concurrency backend: %s'
                      % self.conf.concurrency_backend)

    def _check_power_drivers(self):
        installed = set(extension.ExtensionManager(
            POWER_DRIVERS_NAMESPACE, invoke_on_load=False).names())
        missing = [name for name in self.conf.enabled_power_drivers
                   if name not in installed]
        if missing:
            return Result(Code.FAILURE,
                          'power driver(s) %s from [DEFAULT] '
                          'enabled_power_drivers not installed (installed: '
                          '%s)' % (', '.join(missing),
                                   ', '.join(sorted(installed)) or 'none'))
        path = self.conf.power.inventory_file
        if path:
            # NOTE: imported only when there is an inventory to check: the
            # drivers pull in futurist, sushy and pyghmi.
            from decision_engine.drivers import loader
            try:
                nodes = loader.load_nodes(self.conf)
            except loader.DriverLoadError as exc:
                return Result(Code.FAILURE, str(exc))
            unknown = sorted({n.driver for n in nodes}
                             - set(self.conf.enabled_power_drivers))
            if unknown:
                return Result(Code.FAILURE,
                              'inventory %s uses power driver(s) %s, not in '
                              '[DEFAULT] enabled_power_drivers'
                              % (path, ', '.join(unknown)))
            invalid = _invalid_driver_info(self.conf, nodes)
            if invalid:
                return Result(Code.FAILURE, invalid)
            return Result(Code.SUCCESS, '%d node(s) in %s for %s' % (
                len(nodes), path,
                ', '.join(self.conf.enabled_power_drivers)))
        return Result(Code.SUCCESS, 'enabled: %s; no inventory file' % (
            ', '.join(self.conf.enabled_power_drivers) or 'none'))

    def _check_state_path(self):
        path = self.conf.state_path
        if not os.path.isdir(path):
            return Result(Code.WARNING,
                          '[DEFAULT] state_path %s does not exist (the '
                          'systemd unit creates it; otherwise create it, '
                          'owned by the engine user)' % path)
        if not os.access(path, os.W_OK | os.X_OK):
            return Result(Code.WARNING,
                          '[DEFAULT] state_path %s is not writable by this '
                          'user; run the check as the engine user' % path)
        return Result(Code.SUCCESS, '%s is usable' % path)

    def _check_stop_timeout(self):
        needed = (self.conf.conductor.graceful_shutdown_timeout
                  + LAUNCHER_KILL_MARGIN)
        unit, value = _installed_stop_timeout(self.unit_dirs)
        if unit is None:
            return Result(Code.SUCCESS,
                          'no %s installed; under systemd keep '
                          'TimeoutStopSec above %d s' % (UNIT_NAME, needed))
        if value is None:
            return Result(Code.WARNING,
                          '%s: TimeoutStopSec not set or not understood; '
                          'keep it above %d s' % (unit, needed))
        if value <= needed:
            return Result(Code.WARNING,
                          '%s: TimeoutStopSec=%ss is not above [conductor] '
                          'graceful_shutdown_timeout + %d s = %d s: systemd '
                          'would kill the engine while it drains'
                          % (unit, _fmt(value), LAUNCHER_KILL_MARGIN, needed))
        return Result(Code.SUCCESS, '%s: TimeoutStopSec=%ss covers the '
                      'drain (%d s)' % (unit, _fmt(value), needed))

    # -- store ---------------------------------------------------------------

    def _check_store_schema(self):
        # NOTE: imported when the check runs: SQLAlchemy and alembic are
        # the slowest imports of this tool.
        from decision_engine.db import api as db_api
        from decision_engine.db import migration
        from decision_engine.db import session

        url = session.url_from_conf(self.conf)
        shown = sa.engine.make_url(url).render_as_string(hide_password=True)
        parsed = sa.engine.make_url(url)
        if parsed.get_backend_name() == 'sqlite' and parsed.database \
                and parsed.database != ':memory:' \
                and not os.path.exists(parsed.database):
            return Result(Code.FAILURE,
                          'the SQLite store %s does not exist: run '
                          '"decision-engine-manage db sync"'
                          % parsed.database)
        try:
            engine = session.create_engine(
                url, timeout=self.conf.database.connection_timeout)
            try:
                at = migration.current(engine)
            finally:
                engine.dispose()
        except Exception as exc:
            return Result(Code.FAILURE, 'cannot read the store %s: %s'
                          % (shown, db_api.one_line(exc)))
        want = migration.head()
        if at is None:
            return Result(Code.FAILURE,
                          'the store %s has no schema: run '
                          '"decision-engine-manage db sync"' % shown)
        if at != want:
            return Result(Code.FAILURE,
                          'the store %s is at schema revision %s, this '
                          'release needs %s: run "decision-engine-manage db '
                          'sync"' % (shown, at, want))
        return Result(Code.SUCCESS, 'the store %s is at revision %s'
                      % (shown, at))

    _upgrade_checks = (
        ('Configuration values', _check_options),
        ('API exposure', _check_api),
        ('Concurrency backend', _check_backend),
        ('Power drivers and inventory', _check_power_drivers),
        ('State path', _check_state_path),
        ('systemd stop timeout', _check_stop_timeout),
        ('Store schema', _check_store_schema),
    )


def _fmt(value):
    return ('%d' % value) if value == int(value) else ('%g' % value)


_DURATION = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|ms)?\s*$')
_UNIT_SECONDS = {None: 1, 's': 1, 'sec': 1, 'm': 60, 'min': 60,
                 'h': 3600, 'hr': 3600, 'ms': 0.001}


def parse_timespan(text):
    """Seconds of a simple systemd time span (``90``, ``90s``, ``2min``,
    ``infinity``); None when it is not one of those forms."""
    text = text.strip()
    if text == 'infinity':
        return float('inf')
    total = 0.0
    parts = text.split()
    if not parts:
        return None
    for part in parts:
        match = _DURATION.match(part)
        if not match:
            return None
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return total


def _installed_stop_timeout(unit_dirs):
    """``(unit path, TimeoutStopSec in seconds or None)`` of the first
    installed unit, drop-ins applied; ``(None, None)`` when none is."""
    for directory in unit_dirs:
        path = os.path.join(directory, UNIT_NAME)
        if os.path.exists(path):
            break
    else:
        return None, None
    value = None
    files = [path] + sorted(
        f for d in unit_dirs
        for f in glob.glob(os.path.join(d, UNIT_NAME + '.d', '*.conf')))
    for name in files:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str
        try:
            parser.read(name)
        except configparser.Error:
            continue
        if parser.has_option('Service', 'TimeoutStopSec'):
            value = parse_timespan(parser.get('Service', 'TimeoutStopSec'))
        elif parser.has_option('Service', 'TimeoutSec'):
            value = parse_timespan(parser.get('Service', 'TimeoutSec'))
    return path, value


def _invalid_driver_info(conf, nodes):
    """The loader's one-line error for the nodes' ``driver_info``, as the
    daemon's pre-flight check would report it, or None when all is valid.
    """
    # NOTE: imported here: see _check_power_drivers.
    from decision_engine.drivers import loader
    from decision_engine.drivers import power_state
    try:
        # NOTE: no pool, as in the daemon's pre-flight: the drivers'
        # constructors and validate() do no I/O.
        drivers = loader.load_drivers(conf, None,
                                      power_state.PowerStateTracker(1), nodes)
    except loader.DriverLoadError as exc:
        return str(exc)
    for driver in drivers.values():
        driver.close()
    return None


def main(argv=None, conf=None):
    """Entry point of ``decision-engine-status``."""
    argv = sys.argv[1:] if argv is None else argv
    conf = conf or conf_mod.CONF
    try:
        # NOTE: main(), not run(): --json is read from the configuration
        # that main() records, and nothing else sets it publicly.
        return upgradecheck.main(conf, PROJECT, Checks(conf), argv)
    except cfg.Error as exc:
        sys.stderr.write('decision-engine-status: error: %s\n'
                         % validation.describe(exc))
        return 2


if __name__ == '__main__':
    sys.exit(main())

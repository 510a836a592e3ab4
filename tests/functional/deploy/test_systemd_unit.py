"""etc/systemd/decision-engine.service: verified by systemd-analyze and
checked against the engine's own shutdown budget; its drop-in for systemd
before 253 (no Type=notify-reload) makes it Type=notify with ExecReload.
"""

import configparser
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

from decision_engine.cmd import engine as engine_cmd
from decision_engine.conf import conductor

REPO = pathlib.Path(__file__).resolve().parents[3]
UNIT = REPO / 'etc' / 'systemd' / 'decision-engine.service'
DROP_IN = (REPO / 'etc' / 'systemd' / 'decision-engine.service.d'
           / 'before-systemd-253.conf')
INSTALLED_BINARY = '/usr/bin/decision-engine'
#: the first systemd with Type=notify-reload.
NOTIFY_RELOAD = 253
#: what systemd before 253 says of the unit, which the drop-in answers.
OLD_SYSTEMD_WARNING = 'Failed to parse service type, ignoring: notify-reload'


def _unit(path=UNIT):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string(path.read_text())
    return parser


def _systemd_version():
    analyze = shutil.which('systemd-analyze')
    assert analyze, ('systemd-analyze is missing: run '
                     'tools/install-system-deps.sh')
    out = subprocess.run([analyze, '--version'], capture_output=True,
                         text=True).stdout
    return int(re.match(r'systemd (\d+)', out).group(1))


def _venv_binary():
    path = pathlib.Path(sys.executable).parent / 'decision-engine'
    assert path.exists(), ('%s is missing: pip install -e . in the venv'
                           % path)
    return path


@pytest.fixture
def venv_unit(tmp_path):
    """A copy of the unit whose ExecStart is this venv's console script
    (systemd-analyze checks that the binary exists); before systemd 253,
    with the drop-in beside it, as an operator installs it there."""
    text = UNIT.read_text()
    assert INSTALLED_BINARY in text
    path = tmp_path / 'decision-engine.service'
    path.write_text(text.replace(INSTALLED_BINARY, str(_venv_binary())))
    if _systemd_version() < NOTIFY_RELOAD:
        drop_ins = tmp_path / 'decision-engine.service.d'
        drop_ins.mkdir()
        shutil.copy(DROP_IN, drop_ins)
    return path


def _verify(path):
    analyze = shutil.which('systemd-analyze')
    assert analyze, ('systemd-analyze is missing: run '
                     'tools/install-system-deps.sh')
    proc = subprocess.run([analyze, 'verify', str(path)],
                          capture_output=True, text=True)
    # NOTE: unknown keys and unparsable values are only warnings for
    # systemd (exit status 0), so any line naming the unit fails too.
    problems = [line for line in (proc.stdout + proc.stderr).splitlines()
                if path.name in line]
    return proc.returncode, problems


def test_systemd_analyze_verify(venv_unit):
    returncode, problems = _verify(venv_unit)
    if _systemd_version() < NOTIFY_RELOAD:
        # NOTE: the one line an older systemd logs for the unit; the
        # drop-in, verified with it, sets the type it then uses.
        problems = [line for line in problems
                    if OLD_SYSTEMD_WARNING not in line]
    assert returncode == 0 and not problems, problems


def test_verify_catches_a_broken_drop_in(venv_unit):
    """The drop-in is verified too (it is read beside the unit)."""
    drop_ins = venv_unit.parent / 'decision-engine.service.d'
    drop_ins.mkdir(exist_ok=True)
    (drop_ins / 'broken.conf').write_text('[Service]\nTypoo=notify\n')
    returncode, problems = _verify(venv_unit)
    assert any('broken.conf' in line for line in problems), problems


def test_verify_catches_a_broken_unit(venv_unit):
    """The check above can fail: a typo in a value is reported."""
    venv_unit.write_text(venv_unit.read_text().replace(
        'Type=notify-reload', 'Type=notifyy'))
    returncode, problems = _verify(venv_unit)
    assert problems


def test_notify_type_and_reload():
    service = _unit()['Service']
    # NOTE: systemctl reload sends SIGHUP (the default ReloadSignal=) and
    # waits for RELOADING=1 then READY=1; no ExecReload= sends another.
    assert service['Type'] == 'notify-reload'
    assert 'ExecReload' not in service
    assert service.get('ReloadSignal', 'SIGHUP') == 'SIGHUP'
    # READY=1 comes from the worker process, not the main one.
    assert service['NotifyAccess'] == 'all'
    assert service['ExecStart'].startswith(INSTALLED_BINARY + ' ')


def test_drop_in_for_systemd_before_253():
    service = _unit(DROP_IN)['Service']
    assert dict(service) == {'Type': 'notify',
                             'ExecReload': '/bin/kill -HUP $MAINPID'}


def test_stop_timeout_exceeds_the_engine_drain():
    service = _unit()['Service']
    default = {o.name: o.default for o in conductor.opts}
    budget = (default['graceful_shutdown_timeout']
              + engine_cmd._LAUNCHER_KILL_MARGIN)
    assert int(service['TimeoutStopSec']) > budget


def test_dedicated_user_and_hardening():
    service = _unit()['Service']
    assert service['User'] not in ('', 'root', '0')
    assert service['NoNewPrivileges'] == 'yes'
    assert service['ProtectSystem'] == 'strict'
    assert service['PrivateTmp'] == 'yes'
    writable = service['ReadWritePaths'].split()
    assert '/var/lib/%s' % service['StateDirectory'] in writable
    assert '/var/log/%s' % service['LogsDirectory'] in writable

"""etc/systemd/decision-engine.service: verified by systemd-analyze and
checked against the engine's own shutdown budget."""

import configparser
import pathlib
import shutil
import subprocess
import sys

import pytest

from decision_engine.cmd import engine as engine_cmd
from decision_engine.conf import conductor

REPO = pathlib.Path(__file__).resolve().parents[3]
UNIT = REPO / 'etc' / 'systemd' / 'decision-engine.service'
INSTALLED_BINARY = '/usr/bin/decision-engine'


def _unit():
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string(UNIT.read_text())
    return parser


def _venv_binary():
    path = pathlib.Path(sys.executable).parent / 'decision-engine'
    assert path.exists(), ('%s is missing: pip install -e . in the venv'
                           % path)
    return path


@pytest.fixture
def venv_unit(tmp_path):
    """A copy of the unit whose ExecStart is this venv's console script
    (systemd-analyze checks that the binary exists)."""
    text = UNIT.read_text()
    assert INSTALLED_BINARY in text
    path = tmp_path / 'decision-engine.service'
    path.write_text(text.replace(INSTALLED_BINARY, str(_venv_binary())))
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
    assert returncode == 0 and not problems, problems


def test_verify_catches_a_broken_unit(venv_unit):
    """The check above can fail: a typo in a value is reported."""
    venv_unit.write_text(venv_unit.read_text().replace(
        'Type=notify', 'Type=notifyy'))
    returncode, problems = _verify(venv_unit)
    assert problems


def test_notify_type_and_reload():
    service = _unit()['Service']
    assert service['Type'] == 'notify'
    # READY=1 comes from the worker process, not the main one.
    assert service['NotifyAccess'] == 'all'
    assert service['ExecReload'] == '/bin/kill -HUP $MAINPID'
    assert service['ExecStart'].startswith(INSTALLED_BINARY + ' ')


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

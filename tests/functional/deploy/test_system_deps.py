"""tools/install-system-deps.sh: quiet and a no-op when the tools exist
(CI calls it on every run)."""

import os
import pathlib
import shutil
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[3]
SCRIPT = REPO / 'tools' / 'install-system-deps.sh'


def test_tools_present_after_install():
    proc = subprocess.run(['bash', str(SCRIPT)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    for tool in ('shellcheck', 'systemd-analyze', 'unshare', 'nsenter',
                 'ip', 'curl'):
        assert shutil.which(tool, path=os.environ['PATH']
                            + ':/usr/sbin:/sbin'), tool


def test_second_run_is_silent_and_skips_apt(tmp_path):
    # With every tool present the script must not reach apt: a PATH whose
    # apt-get and sudo fail proves it.
    for name in ('apt-get', 'sudo'):
        fake = tmp_path / name
        fake.write_text('#!/bin/sh\necho "%s called" >&2\nexit 97\n' % name)
        fake.chmod(0o755)
    env = {'PATH': '%s:/usr/local/bin:/usr/bin:/bin' % tmp_path}
    proc = subprocess.run(['bash', str(SCRIPT)], capture_output=True,
                          text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == '' and proc.stderr == ''

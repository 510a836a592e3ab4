"""Each console script's error path, run as a user runs it: the whole of
stderr is the one line naming what was wrong, with no warning of a library
on top of it (cryptography's DSA deprecation, eight lines through dnspython,
once reached every command), and the exit status is not zero.

The commands get the environment a user's shell gives, not the test
process's: ``EVENTLET_NO_GREENDNS``, which decision_engine sets for its own
process when it is imported, is removed, so the command must set it
itself.
"""

import os
import pathlib
import subprocess
import sys

import pytest

BIN = pathlib.Path(sys.executable).parent
COORDINATION_ON_SQLITE = ('[coordination]\n'
                          'backend_url = redis://127.0.0.1:6379\n')


def _run(argv, cwd):
    env = dict(os.environ)
    env.pop('EVENTLET_NO_GREENDNS', None)
    return subprocess.run([str(BIN / argv[0])] + argv[1:], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize('argv, status, words', [
    # decision-engine: the pre-flight refuses the config after importing
    # oslo.service, futurist and tooz (eventlet with them).
    (['decision-engine', '--config-file', '{conf}'], 2,
     'several engines need one shared PostgreSQL store'),
    (['decision-engine', '--config-file', '{missing}'], 2,
     'Failed to find some config files'),
    (['decision-engine-manage', '--url', 'http://127.0.0.1:1', 'audit',
      'list'], 3, 'cannot reach the decision-engine API'),
    (['decision-engine-manage', '--config-file', '{conf}', 'db', 'sync'], 1,
     'state_path'),
    (['decision-engine-simulator', '--topology', '{topology}'], 2,
     'hosts[0].uuid: is required'),
    (['decision-engine-status', '--config-file', '{missing}', 'upgrade',
      'check'], 2, 'Failed to find some config files'),
])
def test_error_is_one_line(tmp_path, argv, status, words):
    conf = tmp_path / 'engine.conf'
    conf.write_text('[DEFAULT]\nstate_path = %s\n' % (tmp_path / 'absent')
                    + COORDINATION_ON_SQLITE)
    topology = tmp_path / 'topology.json'
    topology.write_text('{"hosts": [{"hostname": "h"}]}')
    argv = [a.format(conf=conf, missing=tmp_path / 'missing.conf',
                     topology=topology) for a in argv]
    result = _run(argv, tmp_path)
    assert result.returncode == status, result.stderr
    assert result.stderr.count('\n') == 1, result.stderr
    line = result.stderr.strip()
    assert line.startswith('%s: error: ' % argv[0]), line
    assert words in line, line


def test_upgrade_check_writes_nothing_on_stderr(tmp_path):
    # Its findings are the table on stdout; the store check fails (no
    # store yet) after every library is imported.
    conf = tmp_path / 'engine.conf'
    conf.write_text('[DEFAULT]\nstate_path = %s\n' % tmp_path
                    + COORDINATION_ON_SQLITE)
    result = _run(['decision-engine-status', '--config-file', str(conf),
                   'upgrade', 'check'], tmp_path)
    assert result.returncode == 2, result.stdout
    assert 'Store schema' in result.stdout
    assert result.stderr == ''

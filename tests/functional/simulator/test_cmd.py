"""The decision-engine-simulator command line."""

import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from decision_engine.simulator import cmd


@pytest.mark.parametrize('argv', [
    ['--bogus'], ['--hosts', 'x'], ['--hosts', '-3'], ['--port', '70000'],
    ['--latency-ms', 'nova=3'], ['--latency-ms', 'abc'],
    ['--fault', 'explode'], ['--token-ttl-s', '0'], ['extra'],
    ['--max-limit', '0'],
])
def test_bad_flags_exit_2_with_one_line(argv, capsys):
    assert cmd.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ''
    assert err.count('\n') == 1
    assert err.startswith('decision-engine-simulator: error: ')


def test_bad_topology_file(tmp_path, capsys):
    path = tmp_path / 'topo.json'
    path.write_text(json.dumps({'hosts': [{'hostname': 'h'}]}))
    assert cmd.main(['--topology', str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'hosts[0].uuid' in err


def _run(args, tmp_path):
    ready = tmp_path / 'ready.json'
    proc = subprocess.Popen(
        [sys.executable, '-m', 'decision_engine.simulator',
         '--ready-file', str(ready)] + args,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))))
    return proc, ready


def test_runs_until_sigterm(tmp_path):
    proc, ready = _run(['--hosts', '5', '--instances', '20',
                        '--latency-ms', 'compute=1'], tmp_path)
    try:
        first = proc.stdout.readline()
        assert first.startswith('decision-engine-simulator listening on '
                                'http://127.0.0.1:')
        url = first.split()[-1]
        rest = []
        for line in proc.stdout:     # the snippet ends with interface:
            rest.append(line)
            if 'interface:' in line:
                break
        text = ''.join(rest)
        assert 'auth_url: %s/identity' % url in text
        assert 'clouds:' in text and 'password: secret' in text
        info = json.loads(ready.read_text())
        assert info['url'] == url and info['pid'] == proc.pid
        with urllib.request.urlopen(url + '/_sim/health') as resp:
            assert json.load(resp)['status'] == 'ok'
        with urllib.request.urlopen(url + '/_sim/topology') as resp:
            assert len(json.load(resp)['hosts']) == 5
        with urllib.request.urlopen(url + '/_sim/latency') as resp:
            assert json.load(resp) == {'default': 0.0, 'compute': 1.0}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        proc.stdout.close()
        proc.stderr.close()


def test_sigint_exits_0(tmp_path):
    proc, ready = _run(['--quiet', '--hosts', '1', '--instances', '0'],
                       tmp_path)
    try:
        assert proc.stdout.readline().startswith(
            'decision-engine-simulator listening on')
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        assert proc.stdout.read() == ''
        proc.stdout.close()
        proc.stderr.close()

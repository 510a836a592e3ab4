"""README.md "Try it": every ``$`` command of the section, run as written
against a really started demo engine, exits 0 and prints its sample's words.

The engine is what ``tools/run-demo.sh`` starts (the daemon with
``etc/decision-engine/decision-engine-demo.conf``, its API on the default
127.0.0.1:9322). It and the commands run inside a network namespace of
their own (``unshare``), so that port is free whatever else runs on this
machine, and in a directory laid out like a checkout (``etc/`` and
``.venv/bin`` of this test run), so the README's relative paths hold.
The commands run one after the other in one bash, as pasted in a terminal:
a variable set by one is there for the next.

"Its sample's words": the words (letters and underscores, three or more,
not part of a hyphenated name, a uuid or a number) of the lines the README
shows under a command must all be in what the command printed. Values
that change from run to run (uuids, times, counts, true/false/null) are not
words by that rule, so the samples can stay real output.
"""

import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
README = REPO / 'README.md'
DEMO_CONF = 'etc/decision-engine/decision-engine-demo.conf'
API = 'http://127.0.0.1:9322'
GUARD = 120
JSON_LITERALS = {'true', 'false', 'null'}


def try_it_section():
    text = README.read_text()
    start = text.index('\n## Try it\n')
    end = text.find('\n## ', start + 1)
    return text[start:end if end != -1 else None]


def session(section):
    """``[(command, sample lines)]`` of the section's ``console`` blocks."""
    commands = []
    for block in re.findall(r'```console\n(.*?)```', section, re.S):
        for line in block.splitlines():
            if line.startswith('$ '):
                commands.append((line[2:], []))
            else:
                assert commands, 'output before any command: %r' % line
                commands[-1][1].append(line)
    return commands


def words(lines):
    found = set()
    for line in lines:
        for token in re.split(r'[^A-Za-z0-9_-]+', line):
            if re.fullmatch(r'[A-Za-z_]{3,}', token) \
                    and token not in JSON_LITERALS:
                found.add(token)
    return found


def test_the_section_walks_the_loop():
    commands = session(try_it_section())
    text = '\n'.join(c for c, _ in commands)
    for needle in ('openstack optimize audit create',
                   'openstack optimize actionplan show',
                   'openstack optimize actionplan start',
                   API + '/v1/model', API + '/v1/status', API + '/metrics'):
        assert needle in text, needle
    # A command shown without output is one that prints nothing (it sets
    # a variable or the environment, or waits): test_every_command_runs_
    # as_written checks it does; every other one shows what it prints.
    assert any(words(sample) for _, sample in commands)
    # The engine the test starts is the one the README tells to start.
    assert '--config-file %s' % DEMO_CONF in (
        REPO / 'tools' / 'run-demo.sh').read_text()


class Namespace:
    """A user and network namespace with only its own loopback, held open
    by a sleeping process; ``run`` puts a command inside it."""

    def __init__(self):
        found = {}
        for tool in ('unshare', 'nsenter', 'ip', 'curl'):
            found[tool] = shutil.which(tool, path=os.environ.get(
                'PATH', '') + ':/usr/sbin:/sbin')
            assert found[tool], (
                '%s is needed (tools/install-system-deps.sh)' % tool)
        self.holder = subprocess.Popen(
            ['unshare', '--user', '--map-root-user', '--net', '--', 'sh',
             '-c', '%s link set lo up && echo up && exec sleep 3600'
             % found['ip']],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.holder.stdout.readline()
        if line != 'up\n':
            self.holder.kill()
            raise AssertionError('cannot make a network namespace: %s'
                                 % self.holder.stderr.read().strip())

    def argv(self, argv):
        return ['nsenter', '--preserve-credentials', '--user', '--net',
                '--target', str(self.holder.pid), '--'] + list(argv)

    def close(self):
        self.holder.kill()
        self.holder.wait()
        self.holder.stdout.close()
        self.holder.stderr.close()


@pytest.fixture
def checkout(tmp_path):
    """A directory where the README's relative paths resolve to this
    checkout's ``etc/`` and this test run's console scripts."""
    bindir = pathlib.Path(sys.executable).parent
    assert (bindir / 'decision-engine-manage').exists(), (
        'decision-engine-manage is not installed beside %s (pip install '
        '-e .)' % sys.executable)
    root = tmp_path / 'checkout'
    (root / '.venv').mkdir(parents=True)
    (root / '.venv' / 'bin').symlink_to(bindir)
    (root / 'etc').symlink_to(REPO / 'etc')
    return root


@pytest.fixture
def demo(tmp_path, checkout):
    """The demo engine, started as tools/run-demo.sh does, inside a
    namespace; yields the namespace once the engine is ready."""
    netns = Namespace()
    notify_path = str(tmp_path / 'notify.sock')
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    log_path = tmp_path / 'engine.log'
    env = _clean_env()
    env.update(NOTIFY_SOCKET=notify_path, PYTHONUNBUFFERED='1')
    engine = subprocess.Popen(
        netns.argv(['.venv/bin/decision-engine', '--config-file', DEMO_CONF,
                    '--log-file', str(log_path)]),
        cwd=checkout, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        _wait_ready(notify, engine)
        log = log_path.read_text()
        # What the README tells the reader to wait for.
        assert 'API listening on %s (auth: noauth)' % API in log, log
        yield netns
    finally:
        notify.close()
        if engine.poll() is None:
            os.killpg(engine.pid, signal.SIGTERM)
            try:
                engine.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(engine.pid, signal.SIGKILL)
                engine.wait()
        engine.stdout.close()
        netns.close()


def _clean_env():
    # NOTE: the reader's shell has none of these; the commands must work
    # with the defaults.
    return {k: v for k, v in os.environ.items()
            if not k.startswith(('DECISION_ENGINE_', 'OS_'))}


def _wait_ready(notify, engine):
    """READY=1 from the engine (sent once its manager and API started)."""
    deadline = time.monotonic() + GUARD
    while True:
        notify.settimeout(max(0.1, min(1.0, deadline - time.monotonic())))
        try:
            data = notify.recv(4096).decode()
        except socket.timeout:
            data = ''
        if 'READY=1' in data.splitlines():
            return
        if engine.poll() is not None:
            raise AssertionError('the demo engine exited with %s:\n%s' % (
                engine.returncode, engine.stdout.read().decode()[-4000:]))
        if time.monotonic() > deadline:
            raise AssertionError('the demo engine not ready in %d s' % GUARD)


def test_every_command_runs_as_written(demo, checkout, tmp_path):
    commands = session(try_it_section())
    out = tmp_path / 'out'
    out.mkdir()
    script = []
    for n, (command, _) in enumerate(commands):
        # A brace group, not a subshell: variables stay for the next one.
        script.append('{ %s\n} >%s/%d.out 2>%s/%d.err\necho $? >%s/%d.rc'
                      % (command, out, n, out, n, out, n))
    proc = subprocess.run(demo.argv(['bash', '-c', '\n'.join(script)]),
                          cwd=checkout, env=_clean_env(),
                          stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=GUARD * 2)
    assert proc.returncode == 0, proc.stderr
    for n, (command, sample) in enumerate(commands):
        printed = ((out / ('%d.out' % n)).read_text()
                   + (out / ('%d.err' % n)).read_text())
        status = int((out / ('%d.rc' % n)).read_text())
        assert status == 0, '$ %s\nexit %d:\n%s' % (command, status,
                                                    printed[-2000:])
        if not sample:
            assert not printed.strip(), (
                '$ %s\nshown without output, printed:\n%s'
                % (command, printed[:3000]))
        missing = words(sample) - words(printed.splitlines())
        assert not missing, '$ %s\nprinted none of %s:\n%s' % (
            command, sorted(missing), printed[:3000])

"""Bad input, options: every option of ``decision_engine.conf.opts``'
``list_opts()`` (the sample config's list, keystoneauth's options of each
group included) given each kind of wrong value its type allows (a wrong
type, below the minimum, above the maximum, not one of the choices) stops
the daemon's own config check (``decision_engine.cmd.engine.
parse_config``, what ``decision-engine --config-file`` runs before
anything else) with status 2 and one line naming the option; the real
command, for a representative subset and for the options that name files
or plugins (checked by its pre-flight), exits non-zero with one line too
(a bad inventory or store: tests/functional/cmd/test_engine_daemon.py).
"""

import contextlib
import io
import subprocess
import sys

from oslo_config import cfg
from oslo_config import types
import pytest

from decision_engine.cmd import engine
from decision_engine import conf as conf_mod
from decision_engine.conf import opts as opts_mod
from tests.fixtures import figures


def _wrong_values(opt):
    """``[(kind, value as written in a config file)]`` for ``opt``."""
    kind = opt.type
    if isinstance(kind, types.List) and isinstance(
            kind.item_type, (types.Integer, types.Float)):
        return [('type', '1,not-a-number')]
    if isinstance(kind, types.Boolean):
        return [('type', 'maybe')]
    if isinstance(kind, (types.Integer, types.Float)):
        wrong = [('type', 'not-a-number')]
        if kind.min is not None:
            wrong.append(('range', str(kind.min - 1)))
        if kind.max is not None:
            wrong.append(('range', str(kind.max + 1)))
        return wrong
    if isinstance(kind, types.String) and kind.choices:
        return [('choice', 'no-such-choice')]
    if isinstance(kind, types.Dict):
        return [('type', 'no-colon-here')]
    if isinstance(kind, types.HostAddress):
        return [('type', 'not a host!')]
    if isinstance(kind, types.URI):
        return [('type', 'not a uri')]
    return []


def _check(tmp_path, group, opt, value):
    """(exit status, stderr lines) of the daemon's config check."""
    path = tmp_path / 'bad.conf'
    path.write_text('[%s]\n%s = %s\n' % (group or 'DEFAULT', opt.dest,
                                         value))
    conf = cfg.ConfigOpts()
    conf_mod.register_opts(conf)
    err = io.StringIO()
    status = None
    with contextlib.redirect_stderr(err):
        try:
            engine.parse_config(['--config-file', str(path)], conf=conf)
        except SystemExit as exc:
            status = exc.code
    return status, err.getvalue().splitlines()


def test_every_option_with_a_wrong_value_is_one_line_naming_it(tmp_path):
    options = tried = refused = 0
    kinds = {}
    for group, group_opts in opts_mod.list_opts():
        for opt in group_opts:
            options += 1
            for kind, value in _wrong_values(opt):
                tried += 1
                kinds[kind] = kinds.get(kind, 0) + 1
                status, lines = _check(tmp_path, group, opt, value)
                assert status == 2, (group, opt.dest, value, lines)
                assert len(lines) == 1, lines
                assert opt.dest in lines[0], lines
                assert group is None or '[%s]' % group in lines[0], lines
                assert lines[0].startswith('decision-engine: error: ')
                refused += 1
    figures.record('bad-input/options', options=options, wrong_values=tried,
                   refused_one_line=refused, **kinds)
    # Every numeric, boolean and choice option of ours is among them.
    assert tried > 150 and refused == tried


_BASE = """
[DEFAULT]
enabled_power_drivers = fake
state_path = {state}

[power]
inventory_file = {inventory}

[collector]
enabled = false

[api]
enabled = false
"""

#: name -> (config lines added, a word the error line must hold).
COMMAND_CASES = {
    'type': ('[conductor]\nworkers_pool_size = many\n', 'workers_pool_size'),
    'choice': ('[DEFAULT]\nconcurrency_backend = fibers\n',
               'concurrency_backend'),
    'missing-metric-map': ('[datasource]\nprometheus_url = '
                           'http://127.0.0.1:1\nmetric_map_file = '
                           '{tmp}/none.yaml\n', 'metric_map_file'),
    'missing-topology': ('[simulator]\nembedded = true\ntopology_file = '
                         '{tmp}/none.json\n', 'topology_file'),
    'missing-htpasswd': ('[api]\nenabled = true\nport = 0\nauth_strategy = '
                         'http_basic\nhttp_basic_auth_user_file = '
                         '{tmp}/none\n', 'http_basic_auth_user_file'),
    'unknown-transport': ('[collector]\nenabled = true\n[notifications]\n'
                          'transport_url = nope://guest:pw@127.0.0.1/\n',
                          'transport_url'),
}


@pytest.fixture
def command_results(tmp_path):
    """Every case of COMMAND_CASES run at once by the real command."""
    inventory = tmp_path / 'inventory.yaml'
    inventory.write_text('- {hostname: compute-1, driver: fake}\n')
    running = {}
    for name, (extra, _) in COMMAND_CASES.items():
        case = tmp_path / name
        case.mkdir()
        config = case / 'decision-engine.conf'
        config.write_text(_BASE.format(state=case, inventory=inventory)
                          + extra.format(tmp=case))
        running[name] = subprocess.Popen(
            [sys.executable, '-m', 'decision_engine.cmd.engine',
             '--config-file', str(config)], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    results = {}
    try:
        for name, proc in running.items():
            out, err = proc.communicate(timeout=120)
            results[name] = (proc.returncode, out, err)
    finally:
        for proc in running.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return results


def test_the_command_exits_nonzero_with_one_line(command_results):
    for name, (status, out, err) in command_results.items():
        word = COMMAND_CASES[name][1]
        lines = err.splitlines()
        assert status == 2, (name, status, err, out[-2000:])
        assert len(lines) == 1 and word in lines[0], (name, lines)
        assert 'Traceback' not in out + err
        # The password of a transport URL is never repeated.
        assert 'pw@' not in out + err
    figures.record('bad-input/command', cases=len(command_results),
                   exit_2_one_line=len(command_results))

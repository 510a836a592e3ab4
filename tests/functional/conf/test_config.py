"""Option validation at start-up and the committed sample config."""

import os
import subprocess
import sys

import pytest

from oslo_config import cfg

from decision_engine.cmd import engine
from decision_engine import conf as conf_mod

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def _conf():
    c = cfg.ConfigOpts()
    conf_mod.register_opts(c)
    return c


@pytest.mark.parametrize('text, expected', [
    ('[conductor]\nworkers_pool_size = 2\n',
     "invalid value '2' for option [conductor] workers_pool_size: "
     "Should be greater than or equal to 3"),
    ('[power]\nsync_interval = often\n',
     "invalid value 'often' for option [power] sync_interval"),
    ('[DEFAULT]\nconcurrency_backend = gevent\n',
     "concurrency_backend in %(path)s: Valid values are [threading, "
     "eventlet], but found 'gevent'"),
    ('[fake_power]\nbmc_delay = -1\n',
     "invalid value '-1' for option [fake_power] bmc_delay"),
])
def test_bad_value_exits_2_with_one_line(tmp_path, capsys, text, expected):
    path = tmp_path / 'bad.conf'
    path.write_text(text)
    with pytest.raises(SystemExit) as info:
        engine.parse_config(['--config-file', str(path)], conf=_conf())
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1, err
    assert err.startswith('decision-engine: error: ')
    assert expected % {'path': path} in err
    assert 'Traceback' not in err


@pytest.mark.parametrize('text', [
    '[datasource]\nprometheus_url = ftp://u:cnrypw@h:9/\n',
    '[DEFAULT]\nbad = 1\n[datasource]\nprometheus_url = cnrypw\n',
])
def test_a_secret_option_s_bad_value_is_not_shown(tmp_path, capsys, text):
    path = tmp_path / 'bad.conf'
    path.write_text(text)
    with pytest.raises(SystemExit):
        engine.parse_config(['--config-file', str(path)], conf=_conf())
    err = capsys.readouterr().err
    assert 'invalid value (secret, not shown) for option [datasource] ' \
        'prometheus_url' in err
    assert 'cnrypw' not in err


def test_missing_config_file(tmp_path, capsys):
    with pytest.raises(SystemExit):
        engine.parse_config(['--config-file', str(tmp_path / 'x.conf')],
                            conf=_conf())
    assert 'Failed to find some config files' in capsys.readouterr().err


def test_good_config_parses(tmp_path):
    path = tmp_path / 'ok.conf'
    path.write_text('[conductor]\nworkers_pool_size = 3\n')
    conf = engine.parse_config(['--config-file', str(path)], conf=_conf())
    assert conf.conductor.workers_pool_size == 3


def test_every_option_has_help_and_bounds():
    # Our own options; keystoneauth's, listed for the sample, are theirs.
    for module in conf_mod.MODULES:
        for opt in getattr(module, 'opts', []):
            where = '[%s] %s' % (module.GROUP or 'DEFAULT', opt.name)
            assert opt.help and len(opt.help) > 20, where
            if isinstance(opt.type, (cfg.types.Integer, cfg.types.Float)):
                assert opt.type.min is not None, where + ' has no min'
                assert opt.type.max is not None, where + ' has no max'


def test_sample_config_is_current(tmp_path):
    out = tmp_path / 'sample.conf'
    subprocess.run(
        [sys.executable, '-m', 'oslo_config.generator', '--config-file',
         os.path.join(ROOT, 'etc/decision-engine/'
                            'decision-engine-config-generator.conf'),
         '--output-file', str(out)], check=True, cwd=ROOT)
    committed = os.path.join(ROOT, 'etc/decision-engine/'
                                   'decision-engine.conf.sample')
    with open(committed) as f:
        assert out.read_text() == f.read(), (
            'etc/decision-engine/decision-engine.conf.sample is stale: run '
            'tox -e genconfig and commit the result')


def test_telling_a_secret_option_imports_no_other_library():
    # NOTE: it once loaded every library's published option list, which
    # imported oslo.service's and made its backend eventlet for the whole
    # process (a later in-process test then hung in eventlet's hub).
    code = ('import sys\n'
            'from decision_engine.conf import validation\n'
            'before = set(sys.modules)\n'
            'assert validation._is_secret("no_such_group", "x")\n'
            'assert validation._is_secret("nova", "password")\n'
            'assert not validation._is_secret("api", "port")\n'
            'print(sorted(m for m in set(sys.modules) - before\n'
            '             if m.split(".")[0] in ("oslo_service",\n'
            '                 "oslo_messaging", "keystonemiddleware")))\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '[]'

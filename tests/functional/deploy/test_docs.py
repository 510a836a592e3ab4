"""The documentation builds with warnings as errors (what ``tox -e docs``
runs), and the configuration reference covers every option group."""

import pathlib
import subprocess
import sys

import pytest

from decision_engine import conf as conf_mod


REPO = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope='module')
def html(tmp_path_factory):
    out = tmp_path_factory.mktemp('html')
    proc = subprocess.run(
        [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q',
         '-b', 'html', '-d', str(out / '.doctrees'),
         str(REPO / 'doc' / 'source'), str(out)],
        capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_docs_build_without_warnings(html):
    for page in ('index', 'install/pip', 'install/devstack',
                 'install/systemd', 'configuration/reference',
                 'configuration/sample', 'admin/operations',
                 'admin/model', 'admin/audits', 'admin/power', 'user/api',
                 'contributor/index', 'contributor/concurrency',
                 'contributor/plugins', 'contributor/warnings'):
        assert (html / (page + '.html')).exists(), page


def test_configuration_reference_has_every_group(html):
    text = (html / 'configuration' / 'reference.html').read_text()
    for module in conf_mod.MODULES:
        group = module.GROUP or 'DEFAULT'
        assert '>%s<' % group in text or '[%s]' % group in text, group
        for opt in module.list_opts():
            assert opt.dest in text, '%s.%s' % (group, opt.dest)


def test_sample_is_included(html):
    text = (html / 'configuration' / 'sample.html').read_text()
    assert 'workers_pool_size' in text

"""The layout of tests/ itself: two layers, tests/unit/ (in-process, no
service: tests/unit/conftest.py enforces it) and tests/functional/ (real
services, daemons, several processes), each mirroring decision_engine/
package by package (a top-level module such as service.py may have a
folder too); beside them the reliability suite, the real-cloud layer and
the shared fixtures.
A test module imports no other test module or conftest, only the shared
helpers in tests/fixtures/ (and the ``tests`` package's constants, BACKEND
and fresh_conf).

Why: a newcomer looking for the tests of decision_engine/<package>/ finds
them in tests/unit/<package>/ and tests/functional/<package>/, and moving
or deleting one test module cannot break another one.
"""

import ast
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[3]

#: the layers, whose folders mirror decision_engine/'s packages.
LAYERS = ('unit', 'functional')
#: tests/ folders that are no decision_engine package, and why.
EXCEPTIONS = {
    'fixtures': 'helpers shared by test modules; the only tests.* modules '
                'a test module may import',
    'functional/deploy': 'what ships beside the code and is no Python '
                         'package: packaging, devstack plugin, systemd '
                         'unit, Grafana dashboard, docs and their examples, '
                         'release notes, GMR reports, this layout check',
    'reliability': 'the reliability and security suite: faults, load, '
                   'signals and hostile input across every package, each '
                   'part printing a figures line (tests/fixtures/figures.py)',
    'realcloud': 'the real-cloud layer: the engine end to end against a '
                 'real Keystone, Placement and Nova (tests/fixtures/'
                 'openstack/), across every package',
}
#: what a module may import from the ``tests`` package itself.
PACKAGE_NAMES = {'BACKEND', 'fresh_conf', 'fixtures'}


def _modules(tests_dir):
    return sorted(p for p in tests_dir.rglob('*.py')
                  if '__pycache__' not in p.parts)


def _imported(path):
    """(line, dotted name) of every tests.* module or name ``path``
    imports, relative imports included (as '.<name>')."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names
                      if a.name == 'tests' or a.name.startswith('tests.')]
        elif isinstance(node, ast.ImportFrom):
            base = '.' * node.level + (node.module or '')
            if node.level or base == 'tests' or base.startswith('tests.'):
                sep = '' if base.endswith('.') else '.'
                found += [(node.lineno, base + sep + a.name)
                          for a in node.names]
    return found


def _allowed(name):
    if name.startswith('tests.fixtures.') or name == 'tests.fixtures':
        return True
    parts = name.split('.')
    return len(parts) == 2 and parts[0] == 'tests' \
        and parts[1] in PACKAGE_NAMES


def import_violations(tests_dir):
    bad = []
    for path in _modules(tests_dir):
        for line, name in _imported(path):
            if not _allowed(name):
                bad.append('%s:%d imports %s' % (
                    path.relative_to(tests_dir.parent), line, name))
    return bad


def _excepted(rel, exceptions):
    return any(rel.as_posix() == e or rel.as_posix().startswith(e + '/')
               for e in exceptions)


def folder_violations(tests_dir, package_dir, exceptions=EXCEPTIONS):
    bad = []
    folders = {p.parent for p in _modules(tests_dir)} - {tests_dir}
    for folder in sorted(folders):
        rel = folder.relative_to(tests_dir)
        if _excepted(rel, exceptions):
            continue
        if rel.parts[0] not in LAYERS:
            bad.append('tests/%s is in no layer (%s)'
                       % (rel.as_posix(), ', '.join(LAYERS)))
            continue
        package = pathlib.Path(*rel.parts[1:])
        if not package.parts:
            continue
        # NOTE: a module of its own (decision_engine/service.py) may have a
        # folder too, as tests/functional/service/ has.
        if not ((package_dir / package / '__init__.py').is_file()
                or (package_dir / package).with_suffix('.py').is_file()):
            bad.append('tests/%s has no package decision_engine/%s'
                       % (rel.as_posix(), package.as_posix()))
    return bad


def test_test_modules_import_only_fixtures():
    assert import_violations(REPO / 'tests') == []


def test_every_tests_folder_mirrors_a_package():
    assert folder_violations(REPO / 'tests', REPO / 'decision_engine') == []


def test_the_checks_catch_a_bad_layout(tmp_path):
    tests_dir = tmp_path / 'tests'
    package_dir = tmp_path / 'decision_engine'
    (package_dir / 'model').mkdir(parents=True)
    (package_dir / 'model' / '__init__.py').write_text('')
    (package_dir / 'service.py').write_text('')
    for folder in ('unit/model', 'functional/service', 'unit/mdoel',
                   'model', 'fixtures', 'functional/deploy'):
        (tests_dir / folder).mkdir(parents=True)
        (tests_dir / folder / '__init__.py').write_text('')
    (tests_dir / 'fixtures' / 'truth.py').write_text('X = 1\n')
    (tests_dir / 'unit' / 'model' / 'test_a.py').write_text(
        'from tests import BACKEND\n'
        'from tests.fixtures import truth\n'
        'from tests.unit.model import test_b\n'
        'import tests.unit.model.conftest\n'
        'from . import test_c\n')
    assert import_violations(tests_dir) == [
        'tests/unit/model/test_a.py:3 imports tests.unit.model.test_b',
        'tests/unit/model/test_a.py:4 imports tests.unit.model.conftest',
        'tests/unit/model/test_a.py:5 imports .test_c',
    ]
    assert folder_violations(tests_dir, package_dir) == [
        'tests/model is in no layer (unit, functional)',
        'tests/unit/mdoel has no package decision_engine/mdoel']

"""Release notes: reno lint passes and ``tox -e releasenotes`` (sphinx with
warnings as errors) builds, with every committed note in the page."""

import pathlib
import subprocess
import sys

import yaml

REPO = pathlib.Path(__file__).resolve().parents[3]
NOTES = REPO / 'releasenotes' / 'notes'
SECTIONS = {'prelude', 'features', 'issues', 'upgrade', 'deprecations',
            'critical', 'security', 'fixes', 'other'}


def test_notes_are_valid_yaml_with_known_sections():
    notes = sorted(NOTES.glob('*.yaml'))
    assert any(n.name.startswith('deployment-') for n in notes)
    for note in notes:
        data = yaml.safe_load(note.read_text())
        assert isinstance(data, dict) and data, note.name
        assert set(data) <= SECTIONS, (note.name, set(data) - SECTIONS)


def test_reno_lint():
    proc = subprocess.run(
        [sys.executable, '-c',
         'import sys; from reno import main; sys.exit(main.main(["lint"]))'],
        capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_releasenotes_build(tmp_path):
    proc = subprocess.run(
        [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q',
         '-b', 'html', str(REPO / 'releasenotes' / 'source'),
         str(tmp_path)],
        capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = (tmp_path / 'unreleased.html').read_text()
    assert 'Current series release notes' in page
    # reno reads committed notes from git history.
    assert 'Guru Meditation Report' in page

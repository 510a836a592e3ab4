"""The control plane fails loudly: what cannot start says what and why,
in one error, and leaves nothing behind; never a skip."""

import pytest

from tests.fixtures import engine_process
from tests.fixtures.openstack import controlplane


def test_a_missing_state_file_is_named(tmp_path):
    path = tmp_path / 'testbed.json'
    with pytest.raises(controlplane.StartError) as error:
        controlplane.attach(path)
    assert str(error.value).startswith(
        'DECISION_ENGINE_TESTBED=%s: not a testbed state file' % path)


def test_a_stopped_control_plane_is_named(tmp_path, testbed):
    state = dict(testbed.state, auth_url='http://127.0.0.1:%d'
                 % engine_process.free_port())
    path = tmp_path / 'testbed.json'
    path.write_text(controlplane.json.dumps(state))
    with pytest.raises(controlplane.StartError) as error:
        controlplane.attach(path)
    assert str(error.value) == (
        'DECISION_ENGINE_TESTBED=%s: Keystone at %s does not answer '
        '(stopped?)' % (path, state['auth_url']))


def test_no_database_server_fails_the_start_and_cleans_up(
        tmp_path, testbed, monkeypatch):
    """MariaDB not where it is expected: StartError naming it, before any
    service was started; the run's folder is kept for its logs."""
    closed = engine_process.free_port()
    monkeypatch.setattr(controlplane, 'DB_PORT', closed)
    with pytest.raises(controlplane.StartError) as error:
        controlplane.up(run_dir=tmp_path, venv=testbed.venv,
                        log=lambda line: None)
    message = str(error.value)
    assert message.startswith(
        'MariaDB at 127.0.0.1:%d (root, no password) refused CREATE '
        'DATABASE de_' % closed), message
    assert "Can't connect to MySQL server" in message
    # Nothing was started, and the run's folder is left for its logs.
    [run] = tmp_path.glob('run-*')
    assert not list(run.glob('*.log'))

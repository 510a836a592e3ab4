import os
import stat

from decision_engine.common import files


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_private_directory_and_file_under_a_permissive_umask(tmp_path):
    old = os.umask(0o022)
    try:
        files.make_private_directory(tmp_path / 'a' / 'state')
        files.touch_private_file(tmp_path / 'a' / 'state' / 'store')
    finally:
        os.umask(old)
    assert _mode(tmp_path / 'a' / 'state') == 0o700
    assert _mode(tmp_path / 'a' / 'state' / 'store') == 0o600


def test_existing_file_is_left_alone(tmp_path):
    path = tmp_path / 'store'
    path.write_text('kept')
    path.chmod(0o640)
    files.touch_private_file(path)
    assert path.read_text() == 'kept' and _mode(path) == 0o640


def test_restrict_umask_keeps_stricter_bits():
    old = os.umask(0o027)
    try:
        assert files.restrict_umask() == 0o027
        assert os.umask(0o022) == 0o077
    finally:
        os.umask(old)

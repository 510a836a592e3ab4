"""What the notifier sends around a reload: RELOADING=1 with the
MONOTONIC_USEC= a Type=notify-reload unit needs, then READY=1."""

import time

import pytest

from decision_engine.common import systemd
from tests.fixtures import sd_notify


@pytest.fixture
def notify_socket(tmp_path):
    path = tmp_path / 'notify'
    with sd_notify.bound(path, 10) as sock:
        yield sock, str(path)


def test_reloading_carries_the_monotonic_time(notify_socket):
    sock, path = notify_socket
    notifier = systemd.Notifier(path, main_pid=4242)
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert notifier.reloading()
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    fields = sd_notify.fields(sock.recv(4096))
    assert fields['RELOADING'] == '1'
    assert before <= int(fields['MONOTONIC_USEC']) <= after
    assert fields['MAINPID'] == '4242'
    assert notifier.ready()
    fields = sd_notify.fields(sock.recv(4096))
    assert fields['READY'] == '1' and 'MONOTONIC_USEC' not in fields


def test_no_socket_sends_nothing():
    assert not systemd.Notifier(None).reloading()

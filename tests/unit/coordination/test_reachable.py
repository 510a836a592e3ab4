"""The address check before a tooz session and before each heartbeat: a
refused connection is an OSError at once; a listener, or a URL without a
host and port (left to tooz), passes."""

import socket

import pytest

from decision_engine.coordination import cluster as cluster_mod


def test_nothing_listening_is_an_oserror():
    with socket.socket() as closed:
        closed.bind(('127.0.0.1', 0))
        port = closed.getsockname()[1]
    with pytest.raises(ConnectionRefusedError):
        cluster_mod._check_reachable(
            'redis://:pw@127.0.0.1:%d' % port, timeout=5)


def test_a_listener_passes():
    with socket.socket() as listening:
        listening.bind(('127.0.0.1', 0))
        listening.listen()
        port = listening.getsockname()[1]
        cluster_mod._check_reachable(
            'etcd3+http://127.0.0.1:%d' % port, timeout=5)


@pytest.mark.parametrize('url', [
    'file:///var/lib/decision-engine/coordination',
    'redis://localhost',
    'zookeeper://h1:2181,h2:2181',
])
def test_urls_without_one_host_and_port_are_left_to_tooz(url):
    cluster_mod._check_reachable(url, timeout=5)

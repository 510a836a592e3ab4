"""A local IPMI BMC for the ipmi driver tests (pyghmi's server class).

Run as ``python -m tests.drivers.ipmi_bmc USER PASSWORD``: it binds a free
UDP port on 127.0.0.1, prints ``READY <port>``, then serves. A line
``on``/``off`` on stdin changes the power state behind the client's back,
``state`` prints it, and stdin closing ends the process.
"""

import socket
import sys
import threading

from pyghmi.ipmi import bmc
from pyghmi.ipmi.private import serversession

_open_session_response = serversession.ServerSession.\
    create_open_session_response


def _sha1_only(self, request):
    # NOTE: pyghmi's server always answers "HMAC-SHA1 accepted", even to a
    # client asking for HMAC-SHA256 (as pyghmi's own client does first),
    # and the login then fails on the hash length. A real SHA1-only BMC
    # refuses the proposal (status 0x11, no matching integrity payload),
    # and the client falls back to SHA1: do that.
    if request[12] != 1:
        return bytearray([request[0], 0x11, 0, 0]) + request[4:8]
    return _open_session_response(self, request)


serversession.ServerSession.create_open_session_response = _sha1_only


class LocalBmc(bmc.Bmc):

    def __init__(self, authdata, port):
        super().__init__(authdata, port=port, address='127.0.0.1')
        self.powerstate = 'on'

    def get_power_state(self):
        return self.powerstate

    def power_on(self):
        self.powerstate = 'on'

    def power_off(self):
        self.powerstate = 'off'

    def power_shutdown(self):
        self.powerstate = 'off'


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def main():
    user, password = sys.argv[1], sys.argv[2]
    port = free_udp_port()
    server = LocalBmc({user: password}, port)
    threading.Thread(target=server.listen, daemon=True).start()
    print('READY %d' % port, flush=True)
    for line in sys.stdin:
        word = line.strip()
        if word in ('on', 'off'):
            server.powerstate = word
        print('STATE %s' % server.powerstate, flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""A peer that never answers: a TCP listener that accepts and stays silent.

The other kind of bad BMC next to the farm's ``'hang'`` fault: here not
even the HTTP request line is answered, so a client only gets out through
its own timeouts.
"""

import socket
import threading


class SilentBMC:
    """A TCP listener that accepts connections and never answers.

    ``accepted`` counts connections; :meth:`wait_accepted` blocks until a
    number of them arrived; :meth:`closed_by_peer` counts connections the
    client gave up on (it closed its end), which is how a test sees that a
    worker was freed.
    """

    def __init__(self, host='127.0.0.1'):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(64)
        self.host = host
        self.port = self._sock.getsockname()[1]
        self.url = 'http://%s:%d' % (host, self.port)
        self._cond = threading.Condition()
        self.accepted = 0
        self.closed_by_peer = 0
        self._conns = []
        self._stopping = False
        self._thread = threading.Thread(target=self._accept, daemon=True,
                                        name='silent-bmc-%d' % self.port)

    def start(self):
        self._thread.start()
        return self

    def _accept(self):
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._cond:
                if self._stopping:
                    conn.close()
                    return
                self.accepted += 1
                self._conns.append(conn)
                self._cond.notify_all()
            threading.Thread(target=self._drain, args=(conn,),
                             daemon=True).start()

    def _drain(self, conn):
        # Read (and ignore) what the client sends until it hangs up.
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass
        with self._cond:
            if not self._stopping:
                self.closed_by_peer += 1
            self._cond.notify_all()

    def wait_accepted(self, n, timeout=10.0):
        with self._cond:
            return self._cond.wait_for(lambda: self.accepted >= n, timeout)

    def wait_closed_by_peer(self, n, timeout=10.0):
        with self._cond:
            return self._cond.wait_for(lambda: self.closed_by_peer >= n,
                                       timeout)

    def stop(self):
        with self._cond:
            self._stopping = True
            conns, self._conns = self._conns, []
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

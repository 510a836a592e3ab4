"""The HTTP front of the BMC farm: a threaded server whose handler hands
each request to ``server.farm.handle`` and writes its answer as JSON."""

import http.server
import json


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    # NOTE: without this, small answers wait for the peer's delayed ACK
    # (about 40 ms each on Linux).
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def _serve(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        answer = self.server.farm.handle(self.command, self.path,
                                         self.headers, body)
        if answer is None:
            # A hang ends with the connection closed, never an answer.
            self.close_connection = True
            return
        status, headers, doc = answer
        data = b'' if doc is None else json.dumps(doc).encode('utf-8')
        self.send_response(status)
        if doc is not None:
            self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        if self.close_connection:
            # NOTE: the client asked for it (sushy always does); say so, or
            # its pool reuses a socket this side is about to close.
            self.send_header('Connection', 'close')
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    do_GET = do_POST = do_DELETE = do_PATCH = _serve


class FarmServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # NOTE: a sweep opens up to sync_workers connections at once; the
    # default backlog of 5 would drop SYNs and add a 1 s retransmit.
    request_queue_size = 1024

    def __init__(self, address, farm):
        self.farm = farm
        super().__init__(address, Handler)

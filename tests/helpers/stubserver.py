# SPDX-License-Identifier: BSD-2-Clause
"""stubserver.py -- what the HTTP test stubs (ML service, Flink REST) share:
a quiet HTTP/1.1 JSON handler, the control file that changes their
behaviour mid-test, and serving on 127.0.0.1 with the port written to a file.
"""
import json
import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"    # keep-alive, as real services
    disable_nagle_algorithm = True   # headers and body are two writes: avoid the 40 ms stall

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def read_control(path):
    """The control file as a dict; absent, empty or unparsable means {}."""
    if not path:
        return {}
    try:
        with open(path) as f:
            text = f.read().strip()
        return json.loads(text) if text else {}
    except (OSError, ValueError):
        return {}


def serve(handler_cls, port_file):
    """Serve on 127.0.0.1, a free port written (atomically) to port_file,
    until SIGTERM."""
    # socketserver listens with a backlog of 5: a client opening more
    # connections at once (spillway's max_parallel is 8) would see SYNs
    # dropped and retried a second later. Real services listen deeper.
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, port_file)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    server.server_close()

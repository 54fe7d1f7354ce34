#!/usr/bin/python3
# mlstub: a stand-in for the stress-prediction ML service, with fault injection for tests.
import argparse
import json
import math
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PARAMS = ("x", "y", "z", "eda", "hr", "temp")
LABELS = ("No stress", "Low stress", "High stress")
HOLD_LIMIT_S = 60.0


class Stub:
    def __init__(self, control, log):
        self.control = control
        self.log_path = log
        self.lock = threading.Lock()
        self.conns = 0

    def log(self, line):
        if not self.log_path:
            return
        with self.lock, open(self.log_path, "a") as f:
            f.write(line + "\n")
            f.flush()

    def new_connection(self):
        with self.lock:
            self.conns += 1
            n = self.conns
        self.log("CONN %d" % n)

    def read_control(self):
        """The control file as a dict; absent, empty or unparsable means normal."""
        if not self.control:
            return {}
        try:
            with open(self.control) as f:
                text = f.read().strip()
            return json.loads(text) if text else {}
        except (OSError, ValueError):
            return {}


def predict(query):
    """(status, body) for a predict query string."""
    qs = parse_qs(query, keep_blank_values=True)
    values = {}
    for p in PARAMS:
        if p not in qs:
            return 400, {"error": "missing parameter: %s" % p}
        try:
            v = float(qs[p][0])
        except ValueError:
            v = math.nan
        if not math.isfinite(v):
            return 400, {"error": "non-numeric parameter: %s=%s" % (p, qs[p][0])}
        values[p] = v
    hr = values["hr"]
    level = 2 if hr >= 100 else 1 if hr >= 80 else 0
    return 200, {"stress_level_prediction": str(level), "stress_label": LABELS[level]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: avoid the 40 ms stall
    stub = None  # set in main

    def setup(self):
        super().setup()
        self.stub.new_connection()

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.stub.log("REQ " + self.path)
        url = urlsplit(self.path)
        if url.path == "/health":
            return self.send_json(200, {"status": "ok"})
        if url.path != "/model/api/predict":
            return self.send_json(404, {"error": "not found"})
        ctl = self.stub.read_control()
        if ctl.get("hold"):
            deadline = time.monotonic() + HOLD_LIMIT_S
            while self.stub.read_control().get("hold"):
                if time.monotonic() > deadline:
                    return self.send_json(503, {"error": "held too long"})
                time.sleep(0.01)
            ctl = self.stub.read_control()
        if ctl.get("delay_ms"):
            time.sleep(float(ctl["delay_ms"]) / 1000.0)
        if ctl.get("status"):
            return self.send_json(int(ctl["status"]), {"error": "model failure"})
        self.send_json(*predict(url.query))


def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="ML service stub")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--control")
    ap.add_argument("--log")
    args = ap.parse_args()

    Handler.stub = Stub(args.control, args.log)
    # socketserver listens with a backlog of 5: a client opening more
    # connections at once (spillway's max_parallel is 8) would see SYNs
    # dropped and retried a second later. Real services listen deeper.
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    write_atomically(args.port_file, "%d\n" % server.server_address[1])
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# mlstub: a stand-in for the stress-prediction ML service, with fault injection for tests.
import argparse
import math
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

from stubserver import JsonHandler, read_control, serve

PARAMS = ("x", "y", "z", "eda", "hr", "temp")
LABELS = ("No stress", "Low stress", "High stress")
HOLD_LIMIT_S = 60.0


class Stub:
    def __init__(self, control, log):
        self.control = control
        self.log_path = log
        self.lock = threading.Lock()
        self.conns = 0
        self.control_text = None
        self.served = 0  # predict requests since the control file last changed

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
        return read_control(self.control)

    def count_request(self, ctl):
        """Count a predict request; the count restarts when the control changes."""
        text = repr(sorted(ctl.items()))
        with self.lock:
            if text != self.control_text:
                self.control_text, self.served = text, 0
            self.served += 1
            return self.served


def predict(query, ctl=None):
    """(status, body) for a predict query string; ctl's "refuse_hr_above": V refuses a mean HR above V, as a
    service validating its input's range does (the answer names the value: a verdict on that input)."""
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
    if ctl and "refuse_hr_above" in ctl and hr > float(ctl["refuse_hr_above"]):
        return 400, {"error": "hr=%s is out of range" % qs["hr"][0]}
    level = 2 if hr >= 100 else 1 if hr >= 80 else 0
    return 200, {"stress_level_prediction": str(level), "stress_label": LABELS[level]}


class Handler(JsonHandler):
    stub = None  # set in main

    def setup(self):
        super().setup()
        self.stub.new_connection()

    def do_GET(self):
        self.stub.log("REQ " + self.path)
        url = urlsplit(self.path)
        if url.path == "/health":
            return self.reply(200, {"status": "ok"})
        if url.path != "/model/api/predict":
            return self.reply(404, {"error": "not found"})
        ctl = self.stub.read_control()
        # "after": N answers N requests normally (counted from when the
        # control last changed), then holds them or answers "status"
        n = self.stub.count_request(ctl)
        if ctl.get("hold") and n > int(ctl.get("after", 0)):
            deadline = time.monotonic() + HOLD_LIMIT_S
            while self.stub.read_control().get("hold"):
                if time.monotonic() > deadline:
                    return self.reply(503, {"error": "held too long"})
                time.sleep(0.01)
            ctl = self.stub.read_control()
            n = 0
        if ctl.get("delay_ms"):
            time.sleep(float(ctl["delay_ms"]) / 1000.0)
        if ctl.get("status") and n > int(ctl.get("after", 0)):
            headers = [("Retry-After", str(ctl["retry_after"]))] if "retry_after" in ctl else []
            return self.reply(int(ctl["status"]), {"error": "model failure"}, headers)
        self.reply(*predict(url.query, ctl))


def main():
    ap = argparse.ArgumentParser(description="ML service stub")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--control")
    ap.add_argument("--log")
    args = ap.parse_args()

    Handler.stub = Stub(args.control, args.log)
    serve(Handler, args.port_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())

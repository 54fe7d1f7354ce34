#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# influxproxy: stands between spillway and a real influxd, and answers some writes as another InfluxDB (2.x) or a
# misbehaving proxy would. The control file (JSON) says how; empty forwards everything:
#   {"refuse_id": "nurse-3", "status": 422}  lines of that id are refused the way InfluxDB 2.x refuses a partial
#       write (422, {"code": "unprocessable entity", "message": "... partial write: ... dropped=N"}); the other
#       lines of the request are written (forwarded), as 2.x does
#   {"status": 400, "html": true}  every write answered 400 with an HTML page (a proxy or gateway)
# Every /write answer's status is appended to the log file.
import argparse
import json
import sys
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

from stubserver import JsonHandler, read_control, serve


class Handler(JsonHandler):
    upstream = control = log = None  # set in main

    def record(self, status):
        if self.log:
            with open(self.log, "a") as f:
                f.write("%d\n" % status)

    def forward(self, body):
        req = urllib.request.Request(self.upstream + self.path, data=body, method=self.command)
        for h in ("Authorization", "Content-Type"):
            if self.headers.get(h):
                req.add_header(h, self.headers[h])
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read(), r.headers.get("Content-Type", "application/json")
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers.get("Content-Type", "application/json")

    def send_raw(self, status, data, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ctl = read_control(self.control)
        if urlsplit(self.path).path != "/write":
            return self.send_raw(*self.forward(body if self.command == "POST" else None))
        if ctl.get("html"):
            self.record(int(ctl.get("status", 400)))
            return self.send_raw(int(ctl.get("status", 400)), b"<html><body>400 Bad Request</body></html>",
                                 "text/html")
        rid = ctl.get("refuse_id")
        lines = body.split(b"\n")
        refused = [l for l in lines if rid and l.startswith(b"nurse_stress,id=%s," % rid.encode())]
        kept = b"\n".join(l for l in lines if l not in refused)
        status, data, ctype = self.forward(kept) if kept.strip() else (204, b"", "application/json")
        if refused and status // 100 == 2:
            status = int(ctl.get("status", 422))
            data = json.dumps({"code": "unprocessable entity",
                               "message": "failure writing points to database: partial write: points beyond"
                                          " retention policy dropped=%d" % len(refused)}).encode()
        self.record(status)
        self.send_raw(status, data, ctype)

    do_GET = do_POST = handle_any


def main():
    ap = argparse.ArgumentParser(description="a fault-injecting proxy in front of influxd")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--control", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    Handler.upstream, Handler.control, Handler.log = args.upstream.rstrip("/"), args.control, args.log
    serve(Handler, args.port_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""webhookstub.py -- a webhook receiver for the [notify] tests.

POST any path: the body is appended to --log, one line each (a body with a
line break in it is refused with 400: the notifier must send one JSON line),
and answered 200 {"ok": true}.
--control FILE, re-read on every request (absent or empty = 200):
  {"status": 503}   answer every request with that status, recording nothing
Binds 127.0.0.1 on a free port and writes it to --port-file.
"""
import argparse

from stubserver import JsonHandler, read_control, serve


class Handler(JsonHandler):
    control_path = None
    log_path = None

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        c = read_control(self.control_path)
        if c.get("status"):
            return self.reply(int(c["status"]), {"error": "stub failure"})
        if b"\n" in body:
            return self.reply(400, {"error": "a line break in the body"})
        with open(self.log_path, "ab") as f:
            f.write(body + b"\n")
        self.reply(200, {"ok": True})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--control", default="")
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    Handler.control_path = a.control
    Handler.log_path = a.log
    serve(Handler, a.port_file)


if __name__ == "__main__":
    main()

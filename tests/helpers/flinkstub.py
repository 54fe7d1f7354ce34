#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""flinkstub.py -- Flink's REST API as far as spillway's checker reads it.

GET /overview      {"jobs-running": N, ...}: like Flink, N counts every job
                   that is not finished, failed or cancelled, so a job in a
                   restart loop still counts as running.
GET /jobs/overview {"jobs": [{"jid", "name", "state", ...}]}

--control FILE, re-read on every request (absent or empty = one RUNNING job):
  {"state": "RESTARTING"}   the job's state (RUNNING, RESTARTING, FAILING,
                            FAILED, CANCELED, FINISHED, ...)
  {"status": 500}           answer every request with that status
  {"delay_ms": 2000}        answer late (for probe timeouts)
  {"name": "..."}           the job's name (any text: hostile names for the logs)
Binds 127.0.0.1 on a free port and writes it to --port-file.
"""
import argparse
import time

from stubserver import JsonHandler, read_control, serve

NOT_RUNNING = {"FINISHED", "FAILED", "CANCELED"}


class Handler(JsonHandler):
    control_path = None

    def do_GET(self):
        c = read_control(self.control_path)
        if c.get("delay_ms"):
            time.sleep(c["delay_ms"] / 1000.0)
        if c.get("status"):
            return self.reply(int(c["status"]), {"errors": ["stub failure"]})
        state = c.get("state", "RUNNING")
        running = 0 if state in NOT_RUNNING else 1
        now = int(time.time() * 1000)
        if self.path == "/overview":
            return self.reply(200, {"taskmanagers": 1, "slots-total": 4, "slots-available": 3,
                                    "jobs-running": running, "jobs-finished": int(state == "FINISHED"),
                                    "jobs-cancelled": int(state == "CANCELED"), "jobs-failed": int(state == "FAILED"),
                                    "flink-version": "1.17.1", "flink-commit": "2750d5c"})
        if self.path == "/jobs/overview":
            return self.reply(200, {"jobs": [{"jid": "a1b2c3", "name": c.get("name", "Nurse Stress Prediction"),
                                              "state": state,
                                              "start-time": now - 60000, "end-time": -1, "duration": 60000,
                                              "last-modification": now}]})
        self.reply(404, {"errors": ["Not found: " + self.path]})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--control", default="")
    a = ap.parse_args()
    Handler.control_path = a.control
    serve(Handler, a.port_file)


if __name__ == "__main__":
    main()

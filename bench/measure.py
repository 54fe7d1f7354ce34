#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""measure.py -- run one command, report what it cost as JSON on stdout.

    bench/measure.py [--out FILE] -- COMMAND [ARG...]

Prints {"wall_s", "user_s", "sys_s", "cpu_s", "max_rss_kib", "exit"}: the
wall time from the clock around the child, and the child's CPU and peak
RSS from getrusage(RUSAGE_CHILDREN) -- microseconds, where /usr/bin/time
rounds CPU to 10 ms, too coarse for a run that spends 50 ms. The command's
stdout goes to --out (default /dev/null), its stderr is kept.
"""
import json
import resource
import subprocess
import sys
import time


def main():
    args = sys.argv[1:]
    out = "/dev/null"
    if args[:1] == ["--out"]:
        out, args = args[1], args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        sys.exit("usage: measure.py [--out FILE] -- COMMAND [ARG...]")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "wb") as f:
        t0 = time.monotonic()
        rc = subprocess.call(args, stdout=f)
        wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user, sys_ = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    print(json.dumps({"wall_s": round(wall, 4), "user_s": round(user, 4), "sys_s": round(sys_, 4),
                      "cpu_s": round(user + sys_, 4), "max_rss_kib": after.ru_maxrss, "exit": rc}))


if __name__ == "__main__":
    main()

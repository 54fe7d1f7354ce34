#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""make.py -- writes the replay trace corpus (tests/traces/*.csv), deterministically.

Each trace is one check a minute, as the systemd timer runs them, of a
pipeline modelled on the reference: Flink writes a point per 30 s window
(the latency of a healthy primary is 5-45 s), commits its Kafka offsets at
each checkpoint (the primary group's time lag is the time since the last
checkpoint, plus a few seconds), and takes 3,333 messages a second.
`python3 tests/traces/make.py tests/traces` rewrites them; the expected
transitions (*.expected) come from `spillway replay` and are read by
tests/t/74-replay.t.
"""
import os
import random
import sys

START = 1795219200  # 2026-11-21T00:00:00Z
RATE = 3333         # messages a second
LOOKBACK = 600      # [check] lookback_seconds: no point in it reads as this latency


def iso(t):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Trace:
    def __init__(self, name, seed):
        self.name, self.rng, self.rows, self.t = name, random.Random(seed), [], START

    def check(self, latency, lag_s, flink="RUNNING", lag=None):
        """One check; lag_s None: no time read; lag None: from lag_s at RATE."""
        if lag is None:
            lag = 0 if lag_s == 0 else max(1, int(lag_s * RATE))
        lat = "" if latency is None else "%.2f" % min(latency, LOOKBACK)
        ls = "" if lag_s is None else "%.2f" % lag_s
        self.rows.append("%s,%s,%s,%s,%s" % (iso(self.t), lat, "" if lag is False else lag, ls, flink))
        self.t += 60

    def healthy(self, minutes, checkpoint=None):
        """checkpoint None: every minute, at a varying phase; else every
        CHECKPOINT seconds exactly (the checks see its sawtooth)."""
        for _ in range(minutes):
            since = self.rng.uniform(0, 60) if checkpoint is None else self.t % checkpoint
            self.check(self.rng.uniform(5, 45), since + self.rng.uniform(1, 5))

    def catch_up(self, behind, per_minute):
        """The primary catches up from BEHIND seconds, PER_MINUTE seconds a
        minute, checkpointing as usual."""
        while behind > 0:
            behind = max(0.0, behind - per_minute)
            self.check(behind + self.rng.uniform(5, 45), behind + self.rng.uniform(1, 65))

    def write(self, out):
        with open(os.path.join(out, self.name + ".csv"), "w") as f:
            f.write("time,latency_seconds,lag_messages,lag_seconds,flink\n")
            f.write("\n".join(self.rows) + "\n")


def idle_night():
    """Traffic for an hour, none for 8 hours (the newest point ages, the group
    is caught up), then traffic again."""
    tr = Trace("idle-night", 1)
    tr.healthy(60)
    age = 30.0
    for _ in range(480):
        age += 60
        tr.check(age, 0, lag=0)
    tr.healthy(60)
    return tr


def sawtooth():
    """A job that checkpoints every 4 minutes (time lag 0-245 s), then every
    59 s (checks see it climb 1 s a check, a slow false ramp), then every 3
    minutes with noisy checkpoints."""
    tr = Trace("sawtooth", 2)
    tr.healthy(180, checkpoint=240)
    tr.healthy(180, checkpoint=59)
    for _ in range(180):
        tr.check(tr.rng.uniform(5, 45), tr.t % 180 + tr.rng.uniform(0, 30))
    return tr


def blips():
    """Healthy for 6 hours, with short trouble: a stale point for one or two
    checks, a slow checkpoint (time lag over the threshold twice), a job
    restarting for two checks."""
    tr = Trace("blips", 3)
    for hour in range(6):
        tr.healthy(25)
        if hour % 3 == 0:
            tr.check(tr.rng.uniform(320, 420), tr.rng.uniform(1, 60))
        elif hour % 3 == 1:
            tr.check(tr.rng.uniform(320, 420), tr.rng.uniform(1, 60))
            tr.check(tr.rng.uniform(320, 420), tr.rng.uniform(1, 60))
        else:
            tr.check(tr.rng.uniform(5, 45), tr.rng.uniform(320, 380))
            tr.check(tr.rng.uniform(5, 45), tr.rng.uniform(320, 380))
        tr.healthy(15)
        tr.check(tr.rng.uniform(5, 45), tr.rng.uniform(1, 60), flink="RESTARTING")
        tr.check(tr.rng.uniform(5, 45), tr.rng.uniform(1, 60), flink="RESTARTING")
        tr.healthy(16)
    return tr


def slow_ramp():
    """The primary slowly falls behind (its time lag and latency grow 15 s a
    minute, with the checkpoint sawtooth on top), for an hour, then catches
    up at 30 s a minute."""
    tr = Trace("slow-ramp", 4)
    tr.healthy(60)
    behind = 0.0
    for _ in range(60):
        behind += 15
        saw = tr.rng.uniform(1, 65)
        tr.check(behind + tr.rng.uniform(5, 45), behind + saw)
    tr.catch_up(behind, 30)
    tr.healthy(60)
    return tr


def hard_stall():
    """The job stops making progress for 45 minutes (Flink still says
    RUNNING): every lag grows a minute a minute; then it catches up at two
    minutes a minute."""
    tr = Trace("hard-stall", 5)
    tr.healthy(60)
    behind = 0.0
    for _ in range(45):
        behind += 60
        tr.check(behind + 20, behind + 30)
    tr.catch_up(behind, 120)
    tr.healthy(90)
    return tr


def flapping():
    """A job that keeps restarting for 3 hours (RESTARTING for 3 to 6 checks,
    then RUNNING for 2 to 12), then settles."""
    tr = Trace("flapping", 6)
    tr.healthy(30)
    end = tr.t + 3 * 3600
    while tr.t < end:
        for _ in range(tr.rng.randint(3, 6)):
            tr.check(tr.rng.uniform(60, 200), tr.rng.uniform(60, 200), flink="RESTARTING")
        tr.healthy(tr.rng.randint(2, 12))
    tr.healthy(120)
    return tr


def restarting_loop():
    """A restart loop for 40 minutes: RESTARTING and RUNNING in turn while
    nothing is processed (the lags grow a minute a minute), then recovery."""
    tr = Trace("restarting-loop", 7)
    tr.healthy(60)
    behind = 0.0
    for i in range(40):
        behind += 60
        tr.check(behind + 20, behind + 30, flink="RESTARTING" if i % 2 == 0 else "RUNNING")
    tr.catch_up(behind, 120)
    tr.healthy(90)
    return tr


def stuck_partition():
    """One partition of many stops for 40 minutes: the others keep the newest
    point fresh (latency 5-45 s), its time lag grows a minute a minute; then
    it is unstuck and caught up within minutes."""
    tr = Trace("stuck-partition", 8)
    tr.healthy(60)
    stuck = 0.0
    for _ in range(40):
        stuck += 60
        tr.check(tr.rng.uniform(5, 45), stuck, lag=int(stuck * RATE / 8))
    while stuck > 0:
        stuck = max(0.0, stuck - 180)
        tr.check(tr.rng.uniform(5, 45), max(stuck, tr.rng.uniform(1, 65)))
    tr.healthy(90)
    return tr


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for make in (idle_night, sawtooth, blips, slow_ramp, hard_stall, flapping, restarting_loop, stuck_partition):
        make().write(out)


main()

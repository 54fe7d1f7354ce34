#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# spillway replay over the trace corpus (tests/traces/*.csv, written by
# tests/traces/make.py) at the shipped defaults: each trace's mode changes
# are the ones in its .expected file; every real stall (hard stall, stuck
# partition, restart loop, slow ramp) trips at its consecutive_violations-th
# violation in a row; the idle night, the checkpoint sawtooths and the
# blips trip nothing, with prediction on too; with prediction on, the slow
# ramp trips at least one check earlier than the threshold rule. Also: --json
# says the same, and a file that is not a trace is refused with its line.
# (A state database is replayed by 70-check.t, force overrides included.)
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
sandbox_init
TRACES=$REPO/tests/traces
: >"$SANDBOX/shipped.ini"
printf '[check]\npredict = on\n' >"$SANDBOX/on.ini"

replay() { "$SPILLWAY" -c "$SANDBOX/$1.ini" replay "$TRACES/$2.csv" 2>"$SANDBOX/replay.err"; }
changes() { awk '$4 == "trip" || $4 == "resume" {print $1, $4} $1 == "replay:" {print}'; }
first_trip() { replay "$1" "$2" | tail -n 1 | sed 's/.*first trip at //'; }

for f in "$TRACES"/*.csv; do
    name=$(basename "$f" .csv)
    is "$(replay shipped "$name" | changes)" "$(grep -v '^#' "$TRACES/$name.expected")" \
        "$name: the expected mode changes at the shipped defaults"
done

# The check that trips is the third violation in a row, and the first run of
# three violations in the trace: no stall waits longer than the rule.
trips_at_third() {
    replay shipped "$1" | "$PY" -c '
import sys
lines = [l.split() for l in sys.stdin if not l.startswith("replay:")]
trip = next(i for i, l in enumerate(lines) if l[3] == "trip")
run = 0
for i, l in enumerate(lines[:trip + 1]):
    run = run + 1 if l[1] == "violation" else 0
    if run == 3:
        sys.exit(0 if i == trip else "three violations in a row at %s, the trip at %s" % (lines[i][0], lines[trip][0]))
sys.exit("no three violations in a row before the trip")'
}
for name in hard-stall stuck-partition restarting-loop slow-ramp; do
    ok "$name: trips at its third violation in a row, no later" trips_at_third "$name"
done
is "$(replay shipped stuck-partition | awk '$4 == "trip"' | grep -c 'time lag [0-9.]*s > 300s (latency [0-9.]*s) (3/3)$')" 1 \
    "stuck-partition: tripped by the time lag, the newest point fresh"

for name in idle-night sawtooth blips; do
    is "$(replay shipped "$name" | tail -n 1)|$(replay on "$name" | tail -n 1)" \
        "$(grep '^replay:' "$TRACES/$name.expected")|$(grep '^replay:' "$TRACES/$name.expected")" \
        "$name: no trip at the shipped defaults, nor with predict = on"
done
is "$(replay shipped sawtooth | grep -c 'predict=crossing\|predict=would_trip')" 0 \
    "sawtooth: prediction never even projects a crossing"

off=$(first_trip shipped slow-ramp)
on=$(first_trip on slow-ramp)
ok "slow-ramp: predict = on trips at $on, at least a check before the threshold rule ($off)" \
    test "$(date -d "$on" +%s)" -le $(( $(date -d "$off" +%s) - 60 ))
ok "and shadow, the default, records where it would have tripped, before the threshold rule" \
    grep -q "^${on%.000Z}.000Z .*predict=would_trip" <(replay shipped slow-ramp)

# --json: the same decisions for machines
"$SPILLWAY" -c "$SANDBOX/shipped.ini" replay --json "$TRACES/hard-stall.csv" >"$SANDBOX/hard.json"
is "$("$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
trips = [c["time"] for c in d["checks"] if c["action"] == "trip"]
print("replay: %d checks, %d trips, %d resumes, first trip at %s" % (s["checks"], s["trips"], s["resumes"], s["first_trip"]),
      trips == [s["first_trip"]], d["checks"][0]["predicted"], d["checks"][-1]["mode"])' "$SANDBOX/hard.json")" \
    "$(grep '^replay:' "$TRACES/hard-stall.expected") True insufficient primary" "--json: the same checks and summary"

# not a trace
printf 'time,latency\n1,2\n' >"$SANDBOX/bad-header.csv"
"$SPILLWAY" -c "$SANDBOX/shipped.ini" replay "$SANDBOX/bad-header.csv" >/dev/null 2>"$SANDBOX/err" && rc=0 || rc=$?
is "$rc|$(cat "$SANDBOX/err")" \
    "65|spillway: error: $SANDBOX/bad-header.csv:1: expected the header time,latency_seconds,lag_messages,lag_seconds,flink" \
    "a wrong header: exit 65, naming the file and line 1"
printf 'time,latency_seconds,lag_messages,lag_seconds,flink\n1795255200,20,0,0,RUNNING\n1795255260,x,0,0,RUNNING\n' \
    >"$SANDBOX/bad-line.csv"
"$SPILLWAY" -c "$SANDBOX/shipped.ini" replay "$SANDBOX/bad-line.csv" >/dev/null 2>"$SANDBOX/err" && rc=0 || rc=$?
is "$rc|$(cat "$SANDBOX/err")" \
    "65|spillway: error: $SANDBOX/bad-line.csv:3: latency_seconds: not a number >= 0: \"x\"" "a bad field: its line and why"
"$SPILLWAY" -c "$SANDBOX/shipped.ini" replay "$SANDBOX/none.csv" >/dev/null 2>"$SANDBOX/err" && rc=0 || rc=$?
is "$rc" 66 "a missing file: exit 66"
"$SPILLWAY" -c "$SANDBOX/shipped.ini" replay >/dev/null 2>"$SANDBOX/err" && rc=0 || rc=$?
is "$rc|$(head -n 1 "$SANDBOX/err")" "64|spillway: replay takes a trace file" "no file: a usage error"
done_testing

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# keepup.sh -- can the fallback keep up, at the shipped defaults? Not a test:
# it prints figures.
#
# 1. Capacity. A backlog of max_batch_size messages (3,000,000: the most
#    one run takes) from 512 nurses on a mock cluster of 256 partitions (the
#    mock keeps only ~5 MiB a partition: the reference's 2 nurses would put
#    them in 2 partitions, which it would truncate); one run of
#    `spillway drain` at the defaults (start_from earliest aside) drains it.
#    A run a minute drains at most max_batch_size, or what it reads in
#    batch_timeout_seconds: its capacity per minute is the smaller.
# 2. Live traffic. A producer streams 3,333 messages a second (the primary's
#    headline rate, 1,000,000 per 5 minutes) for LIVE_S seconds (default 90)
#    while a run starts every CADENCE_S seconds (default 15: a compressed
#    minute, each run must drain CADENCE_S x 3,333); the backlog each run
#    finds, and the lag when the producer stops, show whether it keeps up.
# 3. From 1: the time to clear a one-hour backlog at that rate (12,000,000
#    messages) while the traffic goes on, with one run a minute.
# Usage: bench/keepup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
start_mlstub
rate=$REFERENCE_RATE
live_s=${LIVE_S:-90}
cadence_s=${CADENCE_S:-15}

# --- 1. capacity
start_mock "$TOPIC:256"
n=$(sed -n 's/^max_batch_size = //p' etc/spillway.ini)
"$PY" "$HELPERS/kafkatool.py" burst --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --schema "$SCHEMA" --count "$n" \
    --nurses 512 --rate 330
held=$(mock_holds)
[[ $held == "$n" ]] || _fail "the mock holds $held of $n messages"
START_FROM=earliest shipped_config "$SANDBOX/cap.ini"
cap=$("$PY" bench/measure.py -- sh -c "exec '$SPILLWAY' -c '$SANDBOX/cap.ini' drain 2>'$SANDBOX/cap.err'")
grep -q '"exit": 0' <<<"$cap" || _fail "the capacity run failed: $(tail -n 3 "$SANDBOX/cap.err")"
read -r cap_msgs cap_wall cap_join cap_rss <<<"$("$PY" - "$cap" "$SANDBOX/cap.err" <<'PY'
import json, re, sys
m = json.loads(sys.argv[1]); err = open(sys.argv[2]).read()
c = re.search(r"Collected (\d+) messages in ([0-9.]+)s \(group join ([0-9.]+)s", err)
print(c.group(1), m["wall_s"], c.group(3), m["max_rss_kib"] // 1024)
PY
)"
stop_pid "$MOCK_PID"

# --- 2. live traffic
start_mock "$TOPIC:8"
STATE_DB=$SANDBOX/live.db shipped_config "$SANDBOX/live.ini"
commit_group_start 8
"$PY" "$HELPERS/kafkatool.py" stream --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --schema "$SCHEMA" \
    --rate "$rate" --nurses 2 --manifest "$SANDBOX/live.manifest" 2>>"$SANDBOX/stream.err" &
stream=$!
_SANDBOX_PIDS+=("$stream")
start=$EPOCHREALTIME
while "$PY" -c "import sys; sys.exit(not ($EPOCHREALTIME - $start < $live_s))"; do
    next=$("$PY" -c "print($EPOCHREALTIME + $cadence_s)")
    "$SPILLWAY" -c "$SANDBOX/live.ini" drain 2>>"$SANDBOX/live.err" || true
    left=$("$PY" -c "print(max(0.0, $next - $EPOCHREALTIME))")
    sleep "$left"    # the cadence: the next run starts CADENCE_S after this one did
done
stop_pid "$stream"
produced=$(wc -l <"$SANDBOX/live.manifest")
lag=$(mock_holds "$(committed)")
export STATE_DB=$SANDBOX/live.db
runs=$(sql "select count(*) from runs")
read -r backlog_max backlog_last drained <<<"$(sql "select max(backlog), (select backlog from runs order by id desc limit 1), sum(messages) from runs" | tr '|' ' ')"

# --- report
"$PY" - "$cap_msgs" "$cap_wall" "$cap_join" "$cap_rss" "$rate" "$live_s" "$cadence_s" "$produced" "$runs" \
    "$backlog_max" "$backlog_last" "$lag" "$drained" "$n" <<'PY'
import sys
(cap_msgs, cap_wall, cap_join, cap_rss, rate, live_s, cadence_s, produced, runs, bmax, blast, lag, drained, maxb) = sys.argv[1:]
cap_msgs, cap_wall, cap_join, rate, maxb = int(cap_msgs), float(cap_wall), float(cap_join), int(rate), int(maxb)
per_s = cap_msgs / (cap_wall - cap_join)
per_min = min(maxb, int(per_s * 30)) if cap_wall <= 60 else int(cap_msgs * 60 / cap_wall)
arrive_min = rate * 60
backlog = rate * 3600
clear_min = backlog / (per_min - arrive_min) if per_min > arrive_min else float("inf")
print()
print("keep-up at the shipped defaults (max_batch_size %d, batch_timeout_seconds 30)" % maxb)
print("| figure | value |")
print("|---|---:|")
print("| one run on a %d-message backlog: wall (join) | %.1f s (%.1f s) |" % (cap_msgs, cap_wall, cap_join))
print("| its drain rate after the join | %.0f msg/s |" % per_s)
print("| its peak RSS | %s MiB |" % cap_rss)
print("| capacity of one run a minute | %d msg/min |" % per_min)
print("| arrival at %d msg/s | %d msg/min |" % (rate, arrive_min))
print("| capacity / arrival | %.1f |" % (per_min / arrive_min))
print("| a one-hour backlog (%d) cleared, traffic going on | %.1f min |" % (backlog, clear_min))
print("| live: %d msg/s for %s s, a run every %s s | %s runs drained %s of %s produced |" % (rate, live_s, cadence_s, runs, drained, produced))
print("| live: largest backlog a run found / the last one | %s / %s messages |" % (bmax, blast))
print("| live: lag when the producer stopped | %s messages |" % lag)
PY

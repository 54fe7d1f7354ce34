#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# backlog.sh -- a one-hour backlog cleared while traffic goes on, measured in
# real time at the shipped defaults. Not a test: it prints figures.
#
# The fallback group is an hour behind: 12,000,000 messages (3,333 a second
# for an hour, the primary's headline rate) from 512 nurses, an hour of event
# time, on a mock cluster of 512 partitions, one nurse in each (the mock
# keeps only ~5 MiB and 100,000 message sets a partition and drops older
# messages silently: the low watermarks are checked before and after). Then
# a producer streams 3,333 messages a second (event time now, 512 nurses)
# while `spillway drain` runs every CADENCE_S
# seconds (60: the shipped timer), with the shipped [kafka] and [drain]
# settings -- fetch.wait.max.ms 100 included, though the mock then answers
# every fetch 100 ms late.
#
# The mock answers a fetch with ONE message set per partition (a broker with
# up to max.partition.fetch.bytes, 1 MiB, across sets) and finds it by walking
# the partition's sets from the first (rdkafka_mock.c: "FIXME: Maintain an
# index"). So the message sets must be as large as a busy producer's: the
# backlog is produced 1,000 events of a nurse at a time, the stream with
# linger.ms 1000. Measured with one-message sets (a first attempt): the mock
# itself saturated a core and fed the drain 3,000 msg/s; no runner can clear
# a backlog behind that. Each run is measured by bench/measure.py (wall,
# peak RSS); after each, the lag (high watermark minus committed, summed).
# The backlog is cleared when a run leaves less than one cadence of traffic
# behind; the figure is the time from the first run's start to that run's
# end. At most MAX_RUNS (10) runs.
# Usage: [CADENCE_S=60] [BACKLOG=12000000] bench/backlog.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
start_mlstub
rate=$REFERENCE_RATE
cadence_s=${CADENCE_S:-60}
backlog=${BACKLOG:-12000000}
max_runs=${MAX_RUNS:-10}
nparts=512

start_mock "$TOPIC:$nparts"
# an hour of event time: 512 nurses at 6.51 events a second each
t0=$(_now_us)
"$PY" "$HELPERS/kafkatool.py" burst --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --schema "$SCHEMA" \
    --count "$backlog" --nurses 512 --partitions "$nparts" --rate "$("$PY" -c "print($rate / 512)")" --start "2026-11-21 10:00:00.000"
produce_s=$(( ($(_now_us) - t0) / 1000000 ))
held=$(mock_holds)
[[ $held == "$backlog" ]] || _fail "the mock holds $held of $backlog messages"
STATE_DB=$SANDBOX/state.db shipped_config "$SANDBOX/s.ini"
sed -i '/^fetch.wait.max.ms/d' "$SANDBOX/s.ini"    # here the shipped 100 ms too
# the fallback group an hour behind: committed at the start of every partition
commit_group_start "$nparts"

"$PY" "$HELPERS/kafkatool.py" stream --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --schema "$SCHEMA" \
    --rate "$rate" --nurses 512 --linger-ms 1000 --manifest "$SANDBOX/live.manifest" 2>>"$SANDBOX/stream.err" &
stream=$!
_SANDBOX_PIDS+=("$stream")
start=$EPOCHREALTIME
: >"$SANDBOX/runs"
cleared=
for (( i = 1; i <= max_runs; i++ )); do
    begun=$EPOCHREALTIME
    m=$("$PY" bench/measure.py -- sh -c "exec '$SPILLWAY' -c '$SANDBOX/s.ini' drain 2>>'$SANDBOX/drain.err'")
    ended=$EPOCHREALTIME
    lag=$(mock_holds "$(committed)")
    row=$(sql "select backlog, messages, join_s from runs order by id desc limit 1" | tr '|' ' ')
    echo "$i $("$PY" -c "print(round($begun - $start, 1), round($ended - $start, 1))") $row $lag $m" >>"$SANDBOX/runs"
    if (( lag >= 0 && lag < rate * cadence_s )); then
        cleared=$("$PY" -c "print(round($ended - $start, 1))")
        break
    fi
    (( lag >= 0 )) || break
    left=$("$PY" -c "print(max(0.0, $begun + $cadence_s - $EPOCHREALTIME))")
    sleep "$left"    # the cadence: the next run starts CADENCE_S after this one did
done
stop_pid "$stream"
final=$(mock_holds "$(committed)")

"$PY" - "$SANDBOX/runs" "$backlog" "$rate" "$cadence_s" "$produce_s" "${cleared:-}" "$final" <<'PY'
import json, sys
path, backlog, rate, cadence, produce_s, cleared, final = sys.argv[1:]
print()
print("a %s-message backlog (%.0f min of traffic at %s msg/s) cleared while %s msg/s arrive, a run every %s s,"
      " shipped defaults (produced in %s s)" % (backlog, int(backlog) / int(rate) / 60, rate, rate, cadence, produce_s))
print("| run | started s | ended s | backlog found | drained | join s | wall s | peak RSS MiB | lag after |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for line in open(path):
    f = line.split(None, 7)
    i, began, ended, found, drained, join, lag = f[:7]
    m = json.loads(f[7])
    print("| %s | %s | %s | %s | %s | %s | %.1f | %d | %s |" % (i, began, ended, found, drained, join, m["wall_s"],
                                                           m["max_rss_kib"] // 1024, "dropped by the mock" if lag == "-1" else lag))
if cleared:
    print("cleared (lag under one cadence of traffic) %s s = %.1f min after the first run began" % (cleared, float(cleared) / 60))
else:
    print("NOT cleared within the runs above")
print("lag when the producer stopped: %s" % ("the mock dropped messages: figures void" if final == "-1" else final))
PY

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Exact at the quarantine's boundary (the exactness audit at 88b5c86, #3, #5, #6, #9): every valid
# message counts once in InfluxDB's points (their count) or in the quarantine every host shows (the
# rows' count), never in both, whatever the ML service and InfluxDB answer and whichever host
# retries.
#   #3 a retry quarantines aggregates its failed attempt had written: a count-0 point covers each.
#   #6 two hosts: a host's rows of a run that never committed are provisional, shown apart, and
#      dropped by its next run; the host that finished the batch holds the truth.
#   #5 InfluxDB 2.x refuses points of a partial write with 422: split and quarantined, like 1.x's 400.
#   #9 a proxy answering 400 to everything, or an ML service refusing everything with the same
#      answer, fails the run: nothing quarantined, nothing committed.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
sandbox_init
start_influxd
start_mock "stress-topic:1" "hosts:1" "sinks:1"
start_mlstub
start_influxproxy
K=("$PY" "$HELPERS/kafkatool.py")
primary_commit() { "${K[@]}" commit --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --group flink-consumer --offsets "$1"; }
last_run() { sql "select $1 from runs order by id desc limit 1"; }
# kept: the quarantine's messages a host shows (final rows; their count)
kept() { STATE_DB=$1 sql "select coalesce(sum(count), 0) from quarantine where state in ('final', 'unverified')"; }
# the median mean HR of the 1 s windows' aggregates of a generated file: an ML service refusing
# the aggregates above it refuses about half of them, each with its own value in the answer
median_hr() {
    "$PY" - "$SANDBOX/$1.jsonl" <<'PY'
import json, statistics, sys
agg = {}
for line in open(sys.argv[1]):
    v = json.loads(line)["value"]
    agg.setdefault((v["id"], v["datetime"][:19]), []).append(v["HR"])
print(statistics.median(statistics.mean(h) for h in agg.values()))
PY
}
G=$'[kafka]\ngroup.id ='

# ---- #3: the attempt writes 20 points, then the service refuses some aggregates for their range
TOPIC=stress-topic
primary_commit 0:0
gen a --nurses 4 --per-nurse 125 --rate 10 --seed 8
produce a
N=500
X=$(median_hr a)
TOPIC=stress-topic MEASUREMENT=m3 POINTS_PER_WRITE=5 MAX_PARALLEL=1 ML_RETRIES=0 WINDOW=1 BATCH_SIZE=100 \
    write_config "$SANDBOX/a.ini" "$G g3"
ml_control '{"status":503,"after":20}'
EXPECT_RC=69 run_drain "$SANDBOX/a.ini"
is "$DRAIN_RC|$(last_run "points")" "69|20" "#3: the attempt writes 20 points and fails"
ml_control "{\"refuse_hr_above\": $X}"
run_drain "$SANDBOX/a.ini"
is "$DRAIN_RC|$(last_run "outcome")" "0|ok" "the retry succeeds, the service refusing aggregates above HR $X"
q=$(kept "$SANDBOX/state.db")
ok "it quarantines some ($q messages)" test "$q" -gt 0
zeroes=$(influx points --measurement m3 | "$PY" -c 'import json,sys; print(sum(1 for l in sys.stdin if json.loads(l)["fields"]["count"] == 0))')
ok "points the attempt wrote for what is now quarantined carry count 0 ($zeroes of them)" test "$zeroes" -gt 0
is "$(( $(MEASUREMENT=m3 sum_count) + q ))" "$N" "#3: sum of count + the quarantine's messages = the 500 produced"

# ---- #6: two hosts, one group. Host A quarantines in its first chunk, then fails; host B retries.
TOPIC=hosts MEASUREMENT=m6
primary_commit 0:0
gen h --nurses 4 --per-nurse 125 --rate 10 --seed 9
produce h
X=$(median_hr h)
for host in a b; do
    TOPIC=hosts MEASUREMENT=m6 STATE_DB=$SANDBOX/$host.db POINTS_PER_WRITE=5 MAX_PARALLEL=1 ML_RETRIES=0 WINDOW=1 \
        BATCH_SIZE=100 write_config "$SANDBOX/$host.ini" "$G g6"
done
ml_control "{\"refuse_hr_above\": $X, \"status\": 503, \"after\": 10}"
EXPECT_RC=69 run_drain "$SANDBOX/a.ini"
is "$DRAIN_RC" 69 "#6: host A quarantines, writes, then fails"
pending=$(STATE_DB=$SANDBOX/a.db sql "select count(*) from quarantine where state = 'provisional'")
ok "its rows are provisional ($pending)" test "$pending" -gt 0
status_a=$("$SPILLWAY" -c "$SANDBOX/a.ini" status 2>/dev/null | grep '^quarantine:')
ok "status on A shows them pending, not counted: $status_a" grep -q "^quarantine:  0 .*; $pending more pending a run's commit" \
    <<<"$status_a"
ml_control ''
run_drain "$SANDBOX/b.ini"
is "$DRAIN_RC|$(STATE_DB=$SANDBOX/b.db sql "select points from runs")" "0|52" "host B retries and writes every point"
run_drain "$SANDBOX/a.ini"
is "$DRAIN_RC|$(STATE_DB=$SANDBOX/a.db sql "select count(*) from quarantine")" "0|0" \
    "host A's next run drops the rows of its run that never committed"
ok "and says so" grep -q "rows of earlier runs that did not commit dropped" "$DRAIN_ERR"
is "$(( $(MEASUREMENT=m6 sum_count) + $(kept "$SANDBOX/a.db") + $(kept "$SANDBOX/b.db") ))" 500 \
    "#6: points + every host's quarantine = the 500 produced"

# ---- #5, #9: InfluxDB behind a proxy
TOPIC=sinks MEASUREMENT=nurse_stress
primary_commit 0:0
TOPIC=sinks MEASUREMENT=nurse_stress STATE_DB=$SANDBOX/s.db WINDOW=1 BATCH_SIZE=100 ML_RETRIES=0 INFLUX_RETRIES=0 \
    write_config "$SANDBOX/s.ini" "$G g5"
sed -i "s|^url = .*|url = $PROXY_URL|" "$SANDBOX/s.ini"
at() { STATE_DB=$SANDBOX/s.db sql "select coalesce(sum(count), 0) from quarantine where state = 'final'"; }
gen e1 --nurses 4 --per-nurse 100 --rate 10 --seed 10
produce e1
influxproxy_control '{"refuse_id": "nurse-3", "status": 422}'
run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 0 "#5: InfluxDB 2.x answers 422 for one device's points: the run succeeds"
is "$(STATE_DB=$SANDBOX/s.db sql "select group_concat(distinct cast(key as text)) || ' ' || sum(count) from quarantine")" \
    "nurse-3 100" \
    "exactly that device's 100 messages are quarantined"
ok "with InfluxDB's answer" grep -q "InfluxDB refused its point: InfluxDB answered 422: failure writing points to database: partial write" \
    <(STATE_DB=$SANDBOX/s.db sql "select error from quarantine")
is "$(( $(sum_count) + $(at) ))" 400 "points + quarantine = the 400 produced"

gen e2 --nurses 4 --per-nurse 100 --rate 10 --start "2026-11-21 11:00:00.000" --seed 11
produce e2
before=$(committed)
influxproxy_control '{"status": 400, "html": true}'
EXPECT_RC=69 run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC|$(at)" "69|100" "#9: a proxy answering 400 to everything: exit 69, nothing more quarantined"
is "$(committed)" "$before" "and nothing committed"
ok "it names the answer as not InfluxDB's" grep -q "not with its own error (a proxy in between?)" "$DRAIN_ERR"
influxproxy_control ''
run_drain "$SANDBOX/s.ini"
is "$(( $(sum_count) + $(at) ))" 800 "the proxy mended, the next run is exact: 800"

gen e3 --nurses 4 --per-nurse 100 --rate 10 --start "2026-11-21 12:00:00.000" --seed 12
produce e3
before=$(committed)
ml_control '{"status": 400}'
EXPECT_RC=69 run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC|$(at)" "69|100" "#9: the ML service refusing every aggregate with the same answer: exit 69, nothing quarantined"
is "$(committed)" "$before" "and nothing committed"
ok "it says why" grep -q "the ML service refused every aggregate of a chunk of .* with the same answer" "$DRAIN_ERR"
ml_control ''
run_drain "$SANDBOX/s.ini"
is "$(( $(sum_count) + $(at) ))" 1200 "mended, the next run is exact: 1,200"
done_testing

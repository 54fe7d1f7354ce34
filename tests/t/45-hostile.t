#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Hostile data and refusing sinks: nothing stalls the drain, nothing is
# written wrong or twice, nothing is silently dropped. Two batches of one
# window a million offsets apart; a retry that reads less than the failed
# attempt did; the ML service answering 429 and 404; event times InfluxDB
# cannot store; points InfluxDB refuses (beyond its retention policy, a
# series key over 64 KiB). After each: the sum of count, plus the messages in
# quarantine, is what was produced.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
start_pipeline
BATCH_SIZE=100000 write_config "$SANDBOX/s.ini"
qcount() { sql "select coalesce(sum(case kind when 'message' then 1 else json_extract(payload, '$.count') end), 0)
                from quarantine where ${1:-1}"; }

# events FILE ID N TIME [HR_NULL_FIRST]: N events of ID at TIME + k ms, as JSON lines
events() {
    "$PY" - "$@" <<'PY'
import json, sys
path, ident, n, t = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
null_first = int(sys.argv[5]) if len(sys.argv) > 5 else 0
with open(path, "a") as f:
    for k in range(n):
        v = {"X": 0.5, "Y": 1.0, "Z": -1.0, "EDA": 2.0, "HR": None if k < null_first else 60.0 + k, "TEMP": 36.0,
             "id": ident, "datetime": "%s.%03d" % (t, k)}
        f.write(json.dumps({"key": ident, "value": v}) + "\n")
PY
}
produce_p0() {
    "$PY" "$HELPERS/kafkatool.py" produce --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --schema "$SCHEMA" \
        --in "$SANDBOX/$1.jsonl" --manifest "$SANDBOX/$1.manifest" --partition 0 >>"$SANDBOX/produce.log" 2>&1 ||
        _fail "producing $1 failed"
}

# --- two batches of one window, their first offsets a million apart: with a
# discriminator made of the offset modulo 10^6 they shared a timestamp, and
# the second point replaced the first (count 1 for 2 messages)
events "$SANDBOX/a.jsonl" far 1 "2026-11-21 10:00:00"
produce_p0 a
run_drain "$SANDBOX/s.ini"
filler='{"X": 1.0, "Y": 1.0, "Z": 1.0, "EDA": 1.0, "HR": 70.0, "TEMP": 36.0, "id": "filler", "datetime": "2026-11-21 09:00:00.000"}'
"$PY" "$HELPERS/kafkatool.py" fill --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --schema "$SCHEMA" \
    --value "$filler" --key filler --partition 0 --count 999999
events "$SANDBOX/b.jsonl" far 1 "2026-11-21 10:00:05"
produce_p0 b
is "$(grep -o '"offset": [0-9]*' "$SANDBOX/b.manifest")" '"offset": 1000000' "the second message is at offset 1,000,000"
run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 0 "the run after a million messages succeeds"
is "$(influx sum-count --measurement nurse_stress --where "id = 'far'")" 2 \
    "both messages of the window are counted, in two points"

# --- a retry that would read less than the failed attempt did. Nurse "half"
# has no HR in its first 20 messages; the failed attempt wrote its point
# (40 messages, HR present) and failed on the next; the retry runs with a
# batch of 10. Reading only 10 would write count=10 without HR, and InfluxDB
# would keep the failed attempt's HR beside it.
: >"$SANDBOX/c.jsonl"
"$PY" - "$SANDBOX/c.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for k in range(40):
        for ident in ("half", "n1", "n2", "n3", "n4"):
            v = {"X": 0.5, "Y": 1.0, "Z": -1.0, "EDA": 2.0, "HR": None if ident == "half" and k < 20 else 60.0 + k,
                 "TEMP": 36.0, "id": ident, "datetime": "2026-11-21 11:00:00.%03d" % (k * 10)}
            f.write(json.dumps({"key": ident, "value": v}) + "\n")
PY
produce_p0 c
POINTS_PER_WRITE=1 ML_RETRIES=0 write_config "$SANDBOX/one.ini"
ml_control '{"status": 500, "after": 1}'
EXPECT_RC=69 run_drain "$SANDBOX/one.ini"
is "$DRAIN_RC" 69 "the first attempt fails after writing one point"
is "$(influx sum-count --measurement nurse_stress --where "id = 'half'")" 40 "which is half's, over its 40 messages"
ml_control ''
BATCH_SIZE=10 write_config "$SANDBOX/small.ini"
run_drain "$SANDBOX/small.ini"
is "$DRAIN_RC" 0 "the retry, with a batch of 10, succeeds"
ok "it read as far as the failed attempt had, past its batch size" \
    test "$(sql "select messages from runs order by id desc limit 1")" -ge 200
is "$(influx points --measurement nurse_stress --where "id = 'half'" | wc -l)" 1 "half still has one point"
is "$(influx points --measurement nurse_stress --where "id = 'half'" | "$PY" -c 'import json,sys; p=json.load(sys.stdin)["fields"]; print(p["count"], round(p["HR"], 3))')" \
    "40 89.5" "with its 40 messages and the mean HR of the 20 that have one"
is "$(influx sum-count --measurement nurse_stress --where "time >= '2026-11-21T11:00:00Z' AND time < '2026-11-21T12:00:00Z'")" 200 \
    "and the five nurses' 200 messages are counted once"

# --- the ML service answering 429 (come back later) and 404 (wrong endpoint)
: >"$SANDBOX/d.jsonl"
events "$SANDBOX/d.jsonl" n5 30 "2026-11-21 12:00:00"
produce_p0 d
before=$(committed)
ML_RETRIES=1 write_config "$SANDBOX/retry.ini"
ml_control '{"status": 429, "retry_after": 1}'
EXPECT_RC=69 run_drain "$SANDBOX/retry.ini"
is "$DRAIN_RC" 69 "429 to every request: the run fails (transient), exit 69"
ok "after waiting the Retry-After second" grep -q "retry 1/1 in 1.0s" "$DRAIN_ERR"
is "$(qcount "kind = 'aggregate' and error like '%429%'")" 0 "nothing is quarantined for a 429"
is "$(committed)" "$before" "nothing is committed"
ml_control '{"status": 404}'
EXPECT_RC=78 run_drain "$SANDBOX/retry.ini"
is "$DRAIN_RC" 78 "404: a configuration error, exit 78"
ok "naming the endpoint and the key to check" grep -q "ML service answered 404 for $ML_URL/model/api/predict.*check \[ml\] endpoint" "$DRAIN_ERR"
is "$(committed)" "$before" "nothing committed"
ml_control ''
run_drain "$SANDBOX/s.ini"
is "$(influx sum-count --measurement nurse_stress --where "id = 'n5'")" 30 "the service back, the 30 messages are written"

# --- event times InfluxDB cannot store are quarantined, not written in another century; so is
# one InfluxDB can store but that lies years ahead of the runner's clock (the exactness audit's
# #11: it would have pinned the partition's high-water mark there)
: >"$SANDBOX/e.jsonl"
events "$SANDBOX/e.jsonl" y9999 2 "9999-12-31 23:59:59"
events "$SANDBOX/e.jsonl" y1600 2 "1600-01-01 00:00:00"
events "$SANDBOX/e.jsonl" y2261 1 "2261-01-01 00:00:00"
events "$SANDBOX/e.jsonl" y2026 2 "2026-11-21 13:00:00"
produce_p0 e
run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 0 "times out of InfluxDB's range do not fail the run"
is "$(sql "select count(*) from quarantine where kind = 'message' and error like '%outside what InfluxDB stores%'")" 4 \
    "the four are quarantined as such"
is "$(sql "select count(*) from quarantine where kind = 'message' and error like
           'field \"datetime\" is \"2261-01-01 00:00:00.000\", more than a day after the runner''s clock%'")" 1 \
    "a time in 2261 is quarantined as a device clock gone wrong"
is "$(influx sum-count --measurement nurse_stress --where "id = 'y9999' OR id = 'y1600' OR id = 'y2261'")" 0 \
    "and nothing is written for them"
is "$(influx sum-count --measurement nurse_stress --where "id = 'y2026'")" 2 "the others are"

# --- points InfluxDB refuses: beyond its retention policy (a "partial
# write"), and a series key over 64 KiB. Each is quarantined with the
# reason; the rest is written and committed; nothing stalls.
influx query 'CREATE RETENTION POLICY "hour" ON "flink_sink" DURATION 1h REPLICATION 1 DEFAULT' >/dev/null
now=$(date -u +'%Y-%m-%d %H:%M:%S')
: >"$SANDBOX/f.jsonl"
for n in r1 r2 r3; do events "$SANDBOX/f.jsonl" "$n" 20 "$now"; done
events "$SANDBOX/f.jsonl" old1 10 "2026-11-21 14:00:00"
events "$SANDBOX/f.jsonl" old2 10 "2026-11-21 14:00:30"
"$PY" -c 'import json; print(json.dumps({"key": "long", "value": {"X": 1.0, "Y": 1.0, "Z": 1.0, "EDA": 1.0, "HR": 70.0, "TEMP": 36.0, "id": "L" * 70000, "datetime": "'"$now"'.000"}}))' >>"$SANDBOX/f.jsonl"
produce_p0 f
qbefore=$(qcount)
run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 0 "points InfluxDB refuses do not fail the run"
is "$(sql "select count(*) from quarantine where kind = 'aggregate' and error like 'InfluxDB refused its point: %beyond retention policy%'")" 2 \
    "the two points beyond the retention policy are quarantined with InfluxDB's answer"
is "$(sql "select count(*) from quarantine where kind = 'aggregate' and error like '%series key%over InfluxDB''s 65535%'")" 1 \
    "the 70,000-byte id is quarantined before writing"
is "$(influx sum-count --measurement nurse_stress --where "time > now() - 1h")" 60 "the other 60 messages are written"
is "$(( $(qcount) - qbefore ))" 21 "the 21 refused messages are in quarantine"
is "$(committed)" "$(high_watermarks)" "and the run committed past them"
run_drain "$SANDBOX/s.ini"
is "$(sql "select messages from runs order by id desc limit 1")" 0 "the next run has nothing left: no stall"
done_testing

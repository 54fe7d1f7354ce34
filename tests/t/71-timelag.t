#!/bin/bash
# The primary's time lag in Kafka, per partition: the age of the first
# message its group has not committed. One partition stuck 400 s behind
# while the other keeps the newest point fresh is a violation the latency
# cannot see; the check says which partition and which signal, status and
# the metrics show each partition, three such checks trip, and the
# partition caught up reads 0 again. At the shipped [check] settings (the
# lag probe on), against librdkafka's mock cluster and a real influxd.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
sandbox_init
start_influxd
start_mock "$TOPIC:2"
start_flinkstub
gen old --nurses 2 --per-nurse 20 --seed 1
gen new --nurses 2 --per-nurse 20 --seed 2
"$PY" "$HELPERS/kafkatool.py" produce --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --schema "$SCHEMA" \
    --in "$SANDBOX/old.jsonl" --manifest "$SANDBOX/old.manifest" --partition 0 --age 400 2>/dev/null ||
    _fail "cannot produce the old messages"
"$PY" "$HELPERS/kafkatool.py" produce --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --schema "$SCHEMA" \
    --in "$SANDBOX/new.jsonl" --manifest "$SANDBOX/new.manifest" --partition 1 2>/dev/null ||
    _fail "cannot produce the new messages"
# the primary: caught up on partition 1, stuck on partition 0 at offset 10 (30 messages behind)
"$PY" "$HELPERS/kafkatool.py" commit --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --group flink-consumer \
    --offsets "0:10,1:40" >/dev/null
primary_point 5
ML_URL=http://127.0.0.1:9 write_config "$SANDBOX/c.ini" \
    "$(printf '[check]\nflink_url = %s\nrunner_command = true\n[metrics]\ntextfile = %s/spillway.prom' "$FLINK_URL" "$SANDBOX")"
last() { sql "select $1 from checks order by id desc limit 1"; }

run_check "$SANDBOX/c.ini"
is "$CHECK_RC|$(last "verdict, cause, time_lag_partition, violations")" "0|violation|time_lag|0|1" \
    "a fresh newest point, partition 0 stuck: a violation, the time lag named as its signal"
ok "the time lag is the age of the first uncommitted message (400-460 s)" \
    test "$(last "cast(time_lag_s as integer) between 400 and 459")" = 1
ok "while the latency is fresh" test "$(last "latency_s < 60")" = 1
ok "logged with the partition" grep -qE "Time lag violation 1/3: partition 0 is 4[0-5][0-9]\.[0-9]{2}s behind > 300s \(latency [0-9.]+s\)$" "$CHECK_ERR"
is "$(last "json_extract(partitions, '\$[0].lag') || ' ' || json_extract(partitions, '\$[1].lag') || ' ' || json_extract(partitions, '\$[1].time_lag_s')")" \
    "30 0 0.0" "recorded per partition: 30 messages behind on 0, caught up on 1"
"$SPILLWAY" -c "$SANDBOX/c.ini" status >"$SANDBOX/status.txt" 2>/dev/null
ok "status shows each partition's lag and time lag" \
    grep -qE "^  0 +30 +4[0-5][0-9]\.[0-9]{2}s$" "$SANDBOX/status.txt"
ok "the metrics too" grep -qE '^spillway_partition_time_lag_seconds\{partition="0"\} 4[0-5][0-9]' "$SANDBOX/spillway.prom"
ok "and the largest" grep -qE '^spillway_primary_time_lag_seconds 4[0-5][0-9]' "$SANDBOX/spillway.prom"

run_check "$SANDBOX/c.ini"
run_check "$SANDBOX/c.ini"
is "$(sql "select mode from state")|$(sql "select count(*) from transitions")" "fallback|1" "three such checks trip"
ok "the transition says why" grep -qE "^time lag 4[0-9.]+s on partition 0 > 300s \(latency [0-9.]+s\) \(3/3\)$" \
    <(sql "select reason from transitions")

"$PY" "$HELPERS/kafkatool.py" commit --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --group flink-consumer \
    --offsets "0:40,1:40" >/dev/null
run_check "$SANDBOX/c.ini"
is "$(last "verdict, time_lag_s, time_lag_partition, mode")" "recovery|0.0||fallback" \
    "partition 0 caught up: nothing behind, a recovery (fallback mode held: the shipped hysteresis)"
done_testing

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# demo.sh -- spillway's whole story on a local sandbox, in well under a minute.
#
# Starts, on 127.0.0.1 and in a temp dir: librdkafka's mock Kafka cluster
# (topic stress-topic, 2 partitions), a real influxd, the ML stub and the
# Flink REST stub. Produces a backlog of sensor events in the reference Avro
# schema. Then: the primary is healthy; its Flink job goes into a restart
# loop; three checks trip fallback mode and the third launches the runner,
# which drains the backlog into InfluxDB; the primary recovers and the next
# check resumes primary mode; `spillway status` shows it all. Everything
# stops when it ends. Run it with `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/sandbox.sh
source tests/lib/spillway.sh
sandbox_init

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
check() { echo "\$ spillway check"; "$SPILLWAY" -c "$SANDBOX/spillway.ini" check || true; }

say "starting a sandbox in $SANDBOX: mock Kafka, influxd, ML stub, Flink stub"
start_mock "$TOPIC:2"
start_influxd
start_mlstub
start_flinkstub
echo "kafka $KAFKA_BOOTSTRAP, influxdb $INFLUX_URL, ml $ML_URL, flink $FLINK_URL"

say "producing a backlog: 6 nurses x 1000 sensor events (python-avro, confluent-kafka)"
gen demo --nurses 6 --per-nurse 1000 --rate 10 --seed 7
produce demo
echo "$(valid_count "$SANDBOX/demo.manifest") messages on $TOPIC; offsets: $(high_watermarks)"
# checks seconds apart, not a minute: no hysteresis, so the recovery resumes at once
BATCH_SIZE=100000 write_config "$SANDBOX/spillway.ini" \
    "$(printf '[check]\nflink_url = %s\nmin_fallback_seconds = 0\nresume_hold_seconds = 0' "$FLINK_URL")"
echo "config: $SANDBOX/spillway.ini"

say "the primary is healthy: its newest point is 4 s old"
primary_point 4
check

say "its Flink job goes into a restart loop: three checks trip fallback mode"
flink_control '{"state": "RESTARTING"}'
check
check
check

say "the runner the third check launched drains the backlog"
run_finished() { [[ $(sql "select count(*) from runs where outcome != 'running'") -ge 1 ]]; }
wait_until 0 "the runner" 60 run_finished
runner_gone() { ! pgrep -f "[s]pillway -c $SANDBOX/spillway.ini drain" >/dev/null; }
eventually 30 runner_gone || true

say "the points in InfluxDB (influx CLI)"
command influx -host 127.0.0.1 -port "$INFLUX_PORT" -database flink_sink -precision rfc3339 -execute \
    'SELECT "id", "count", "HR", "TEMP", "stress_level" FROM "nurse_stress" WHERE "source" = '"'"'dask-fallback'"'"' LIMIT 8'
total=$(sum_count) produced=$(valid_count "$SANDBOX/demo.manifest")
echo "sum of count: $total (messages: $produced); committed: $(committed)"
# the demo is also CI's proof that a fresh machine runs the story: say so loudly if it did not
[[ $total == "$produced" ]] || { echo "demo: FAILED: the fallback counted $total of $produced messages" >&2; exit 1; }

say "the primary recovers: the next check resumes primary mode"
flink_control ''
primary_reset
primary_point 2
check

say "spillway status"
"$SPILLWAY" -c "$SANDBOX/spillway.ini" status
echo
echo "demo done; the sandbox is removed on exit (KEEP_SANDBOX=1 keeps it)."

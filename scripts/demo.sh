#!/bin/bash
# demo.sh -- spillway's main job on a local sandbox, start to finish.
#
# Starts, on 127.0.0.1 and in a temp dir: librdkafka's mock Kafka cluster
# (topic stress-topic, 2 partitions), a real influxd, and the ML stub. Produces
# sample sensor events in the reference Avro schema, runs `spillway drain`
# once, shows the points it wrote with InfluxDB's own CLI, and the run it
# recorded. Everything stops when it ends. Run it with `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/sandbox.sh
source tests/lib/spillway.sh
sandbox_init

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "starting a sandbox in $SANDBOX: mock Kafka, influxd, ML stub"
start_mock "$TOPIC:2"
start_influxd
start_mlstub
echo "kafka $KAFKA_BOOTSTRAP, influxdb $INFLUX_URL, ml $ML_URL"

say "producing 6 nurses x 1000 sensor events (python-avro, confluent-kafka)"
gen demo --nurses 6 --per-nurse 1000 --rate 10 --seed 7
produce demo
echo "$(valid_count "$SANDBOX/demo.manifest") messages on $TOPIC; offsets: $(high_watermarks)"

BATCH_SIZE=100000 write_config "$SANDBOX/spillway.ini"
say "the config ($SANDBOX/spillway.ini)"
grep -v '^$' "$SANDBOX/spillway.ini"

say "spillway drain"
"$SPILLWAY" -c "$SANDBOX/spillway.ini" drain

say "the points in InfluxDB (influx CLI)"
command influx -host 127.0.0.1 -port "$INFLUX_PORT" -database flink_sink -precision rfc3339 -execute \
    'SELECT "id", "count", "HR", "TEMP", "stress_level" FROM "nurse_stress" WHERE "source" = '"'"'dask-fallback'"'"' LIMIT 12'

say "the dashboards' query: mean stress per nurse per minute"
command influx -host 127.0.0.1 -port "$INFLUX_PORT" -database flink_sink -precision rfc3339 -execute \
    'SELECT mean("stress_level") FROM "nurse_stress" WHERE source='"'"'dask-fallback'"'"' AND time >= '"'"'2026-11-21T10:00:00Z'"'"' AND time < '"'"'2026-11-21T10:02:00Z'"'"' GROUP BY time(1m), "id"' |
    head -n 16

say "the run, as recorded in $SANDBOX/state.db"
sqlite3 -header -column "$SANDBOX/state.db" \
    'SELECT id, started_at, outcome, ended_by, messages, quarantined, aggregates, points, offsets FROM runs'

say "committed offsets of dask-fallback-consumer: $(committed)"
say "a second run finds nothing left to do"
"$SPILLWAY" -c "$SANDBOX/spillway.ini" drain
echo
echo "demo done; the sandbox is removed on exit (KEEP_SANDBOX=1 keeps it)."

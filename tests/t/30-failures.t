#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Failures of what the runner depends on: InfluxDB down, the ML service
# failing (5xx) or refusing one aggregate (4xx). Nothing is committed that was
# not written, no stress level is invented, and the next run is exact.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
start_pipeline
BATCH_SIZE=100000 INFLUX_RETRIES=1 ML_RETRIES=1 write_config "$SANDBOX/s.ini"

gen a --nurses 4 --per-nurse 300 --seed 3
produce a
N=$(valid_count "$SANDBOX/a.manifest")

# --- InfluxDB stopped
stop_influxd
EXPECT_RC=69 run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 69 "InfluxDB down: exit 69 (unavailable)"
is "$(committed)" "0:0 1:0" "nothing committed past where it started (its start is committed first)"
is "$(sql "select outcome, exit_code from runs order by id desc limit 1")" "failed|69" "the run is recorded as failed"
ok "its error names InfluxDB" grep -q "InfluxDB http://127.0.0.1:$INFLUX_PORT" <(sql "select error from runs order by id desc limit 1")
ok "the write was retried before giving up" grep -q "retry 1/1" "$DRAIN_ERR"
restart_influxd
run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 0 "InfluxDB back: the next run succeeds"
is "$(sum_count)" "$N" "and the sum of count is exactly N=$N"
is "$(committed)" "$(high_watermarks)" "and everything is committed"

# --- ML service answering 500
gen b --nurses 3 --per-nurse 200 --seed 4 --start "2026-11-21 11:00:00.000"
produce b
Nb=$(valid_count "$SANDBOX/b.manifest")
before_commit=$(committed)
before_points=$(point_count)
ml_control '{"status": 500}'
EXPECT_RC=69 run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 69 "ML answering 500: exit 69"
is "$(committed)" "$before_commit" "nothing committed"
is "$(point_count)" "$before_points" "no point written (no invented stress level)"
ok "its error names the ML service's answer" grep -q "ML service answered 500" "$DRAIN_ERR"
ml_control ''
run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 0 "ML back: the next run succeeds"
is "$(sum_count)" "$(( N + Nb ))" "the sum of count is exactly N + Nb"
is "$(committed)" "$(high_watermarks)" "everything committed"

# --- ML refusing one aggregate (400: nurse-1 has no HR at all)
gen c --nurses 3 --per-nurse 200 --seed 5 --start "2026-11-21 12:00:00.000" --null-all HR:1
produce c
run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 0 "a 400 for one aggregate does not fail the run"
is "$(sql "select kind, key, partition from quarantine where kind = 'aggregate'")" \
    "aggregate|nurse-1|$(grep -m1 '"nurse-1"' "$SANDBOX/c.manifest" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["partition"])')" \
    "that aggregate is quarantined, with its nurse and partition"
ok "with the service's answer as the reason" grep -q "ML service answered 400" <(sql "select error from quarantine where kind = 'aggregate'")
payload=$(sql "select payload from quarantine where kind = 'aggregate'")
ok "and the aggregate itself (count 200, HR null) kept as JSON" \
    "$PY" -c 'import json,sys; a=json.loads(sys.argv[1]); assert a["count"] == 200 and a["means"]["HR"] is None and a["id"] == "nurse-1", a' "$payload"
is "$(influx sum-count --measurement nurse_stress --where "time >= '2026-11-21T12:00:00Z'")" 400 \
    "the other two nurses' 400 messages are written"
is "$(sql "select quarantined from runs order by id desc limit 1")" 1 "the run counts it"
is "$(committed)" "$(high_watermarks)" "and commits past it"
done_testing

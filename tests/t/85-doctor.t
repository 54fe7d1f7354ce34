#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# `spillway doctor`: one line per dependency, ok or FAIL with the reason,
# and an exit code that says which kind of trouble.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
start_pipeline
start_flinkstub
write_config "$SANDBOX/c.ini" "$(printf '[check]\nflink_url = %s' "$FLINK_URL")"
primary_point 3

doctor() { "$SPILLWAY" -c "$SANDBOX/c.ini" doctor >"$SANDBOX/doctor.out" 2>&1 && echo 0 || echo $?; }
is "$(doctor)" 0 "all healthy: exit 0"
is "$(awk '{printf "%s %s|", $1, $2}' "$SANDBOX/doctor.out")" \
    "ok config|ok schema|ok state|ok kafka|ok influxdb|ok ml|ok flink|" "one ok line per dependency, in order"
ok "the InfluxDB line says how old the primary's newest point is" \
    grep -qE "^ok   influxdb  $INFLUX_URL/flink_sink: the primary's newest point is [0-9.]+s old$" "$SANDBOX/doctor.out"

stop_influxd
flink_control '{"state": "FAILING"}'
is "$(doctor)" 69 "a service down: exit 69"
ok "InfluxDB's line says FAIL and why" grep -q "^FAIL influxdb  InfluxDB $INFLUX_URL: Couldn't connect to server" "$SANDBOX/doctor.out"
ok "Flink's too" grep -q "^FAIL flink     $FLINK_URL: job Nurse Stress Prediction is FAILING" "$SANDBOX/doctor.out"
ok "the others stay ok" grep -q "^ok   kafka " "$SANDBOX/doctor.out"
restart_influxd
flink_control ''

sed -i "s|^schema = .*|schema = $SANDBOX/missing.avsc|" "$SANDBOX/c.ini"
is "$(doctor)" 78 "a missing schema: exit 78"
ok "naming it" grep -q "^FAIL schema    $SANDBOX/missing.avsc: cannot open the schema" "$SANDBOX/doctor.out"
done_testing

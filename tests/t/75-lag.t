#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The optional lag probe: the primary group's lag in messages (high
# watermark minus committed offset, summed over partitions) is a violation
# above max_primary_lag_messages, and unknown when Kafka cannot be asked.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
sandbox_init
start_influxd
start_mock "$TOPIC:2"
start_flinkstub
gen a --nurses 6 --per-nurse 50 --seed 1
produce a
read -r hi0 hi1 < <(high_watermarks | tr ' ' '\n' | cut -d: -f2 | tr '\n' ' ')
(( hi0 >= 30 && hi1 >= 30 )) || _fail "the keys did not spread over both partitions ($hi0, $hi1)"
ML_URL=http://127.0.0.1:9 write_config "$SANDBOX/c.ini" \
    "$(printf '[check]\nflink_url = %s\nmax_primary_lag_messages = 20\nrunner_command = true\nprobe_timeout_seconds = 2' "$FLINK_URL")"
primary_point 5

"$PY" "$HELPERS/kafkatool.py" commit --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --group flink-consumer \
    --offsets "0:$(( hi0 - 5 )),1:$(( hi1 - 10 ))" >/dev/null
run_check "$SANDBOX/c.ini"
is "$CHECK_RC|$(sql "select verdict, lag from checks order by id desc limit 1")" "0|healthy|15" \
    "a lag of 15 messages (5 + 10) is under 20: healthy, and recorded"

"$PY" "$HELPERS/kafkatool.py" commit --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --group flink-consumer \
    --offsets "0:$(( hi0 - 30 )),1:$(( hi1 - 10 ))" >/dev/null
run_check "$SANDBOX/c.ini"
is "$(sql "select verdict, lag, violations from checks order by id desc limit 1")" "violation|40|1" \
    "a lag of 40 is a violation, with a fresh latency"
ok "logged as such" grep -q "Lag violation 1/3: 40 messages > 20" "$CHECK_ERR"

stop_pid "$MOCK_PID"
run_check "$SANDBOX/c.ini"
is "$CHECK_RC|$(sql "select verdict, violations from checks order by id desc limit 1")" "69|unknown|1" \
    "Kafka gone: unknown, exit 69, the count stays"
done_testing

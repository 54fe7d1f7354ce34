#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Notifications end to end: the checker runs contrib/notify/alertmanager for
# its events against a real Alertmanager (Debian's prometheus-alertmanager),
# which then holds one alert per episode of fallback mode: opened by the
# trip, resolved by the resume, opened again by the next trip; the event's
# id and escaped reason (a hostile Flink job name) are its annotations. Then
# contrib/notify/webhook posts a force as one JSON line; a failing webhook
# leaves the event pending (status says so) without failing the check, and
# a later check delivers it; a hung notifier costs a check its timeout only.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
sandbox_init
start_influxd
start_flinkstub

# Alertmanager on loopback, no cluster, a route to nowhere: it keeps alerts
AM_PORT=$(free_port)
AM_URL=http://127.0.0.1:$AM_PORT
printf 'route:\n  receiver: none\nreceivers:\n  - name: none\n' >"$SANDBOX/am.yml"
prometheus-alertmanager --config.file="$SANDBOX/am.yml" --storage.path="$SANDBOX/am" \
    --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= >"$SANDBOX/am.log" 2>&1 &
AM_PID=$!
_SANDBOX_PIDS+=("$AM_PID")
am_ready() { [[ $(curl -s -o /dev/null -w '%{http_code}' "$AM_URL/-/ready") == 200 ]]; }
wait_until "$AM_PID" "alertmanager (log: $SANDBOX/am.log)" 30 am_ready

"$PY" "$HELPERS/webhookstub.py" --port-file "$SANDBOX/hook.port" --control "$SANDBOX/hook.control" \
    --log "$SANDBOX/hook.log" 2>>"$SANDBOX/hook.err" &
HOOK_PID=$!
_SANDBOX_PIDS+=("$HOOK_PID")
wait_until "$HOOK_PID" "webhook stub" 10 test -s "$SANDBOX/hook.port"
HOOK_URL=http://127.0.0.1:$(<"$SANDBOX/hook.port")/hook

# Checks seconds apart: no hysteresis (the shipped values are 76-idle's and
# 74-replay's), and a failed event retried a second later rather than a
# minute (the backoff at its shipped 60 s is test_outbox's, simulated time).
notify_config() {
    KAFKA_BOOTSTRAP=127.0.0.1:9 ML_URL=http://127.0.0.1:9 write_config "$SANDBOX/c.ini" \
        "$(printf '[check]\nflink_url = %s\nlag_probe = off\nrunner_command = true\nprobe_timeout_seconds = 2\nmin_fallback_seconds = 0\nresume_hold_seconds = 0\n[notify]\ncommand = %s\nretry_seconds = 1\n%s' \
            "$FLINK_URL" "$1" "${2:-}")"
}
notify_config "$REPO/contrib/notify/alertmanager $AM_URL spillway-test"
alerts() {
    curl -sf "$AM_URL/api/v2/alerts" | "$PY" -c '
import json, sys
for a in json.load(sys.stdin):
    print(a["labels"]["alertname"], a["labels"]["instance"], a["startsAt"], a["annotations"]["spillway_id"],
          json.dumps(a["annotations"]["description"]))'
}
event() { sql "select $1 from outbox where event = '$2' order by id desc limit 1"; }
trip() { for i in 1 2 3; do run_check "$SANDBOX/c.ini"; done; }

primary_point 5
flink_control '{"state": "RESTARTING", "name": "Stress\nJob\u001b[2J"}'
trip
is "$(sql "select mode from state")|$(event "delivered_at is not null, attempts" trip)" "fallback|1|1" \
    "a trip: the tripping check delivers its event at the first attempt"
is "$(alerts)" \
    "SpillwayFallback spillway-test $(event at trip) $(event uid trip) \"primary unhealthy: job Stress\\\\x0aJob\\\\x1b[2J is RESTARTING (3/3)\"" \
    "Alertmanager holds one alert: the episode, begun at the trip, its id and its reason escaped"

flink_control ''
run_check "$SANDBOX/c.ini"
is "$(sql "select mode from state")|$(event "delivered_at is not null" resume)|$(alerts)" "primary|1|" \
    "the resume resolves it"
flink_control '{"state": "RESTARTING"}'
trip
is "$(alerts | cut -d' ' -f1-4)" "SpillwayFallback spillway-test $(event at trip) $(event uid trip)" \
    "the next trip opens the next episode's alert"

# the webhook: a force, as one JSON line
notify_config "$REPO/contrib/notify/webhook $HOOK_URL"
"$SPILLWAY" -c "$SANDBOX/c.ini" force primary --reason 'tests "quoted" \ done' 2>/dev/null
is "$(event "delivered_at is null" force)" 1 "force records its event; the checker, not force, runs the command"
flink_control ''
run_check "$SANDBOX/c.ini"
is "$("$PY" -c '
import json, sys
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
print(d["event"], d["mode"], d["previous_mode"], d["reason"], d["latency_seconds"], d["lag_seconds"], d["id"] == sys.argv[2])' \
    "$SANDBOX/hook.log" "$(event uid force)")" \
    "force primary fallback force primary by $(id -un): tests \"quoted\" \\ done None None True" \
    "the webhook got the force as JSON, quotes and backslash intact"

# a failing webhook: the check still decides and exits 0; the event waits
printf '{"status": 503}' >"$SANDBOX/hook.control"
"$SPILLWAY" -c "$SANDBOX/c.ini" force auto 2>/dev/null
run_check "$SANDBOX/c.ini"
is "$CHECK_RC|$(event "delivered_at is null, attempts" force)" "0|1|1" "a failing notifier: the check exits 0, the event waits"
ok "and says so" grep -qE "notify: force event [0-9a-f]{32}: attempt 1 of 20 failed: exit 22: .*503" "$CHECK_ERR"
"$SPILLWAY" -c "$SANDBOX/c.ini" status >"$SANDBOX/status.txt" 2>/dev/null
ok "status shows it pending, with the error" grep -qE "^notify: +1 pending \(next attempt .*\), 0 dead, [0-9]+ delivered; last error: exit 22" \
    "$SANDBOX/status.txt"
: >"$SANDBOX/hook.control"
delivered() { run_check "$SANDBOX/c.ini"; [[ $(event "delivered_at is not null" force) == 1 ]]; }
ok "once the webhook answers, a later check delivers it" eventually 10 delivered
is "$(grep -c '"event":"force"' "$SANDBOX/hook.log")" 2 "once: the two forces, one line each"

# a hung notifier: the decision is made and recorded; the check costs its timeout
notify_config "sleep 30" "timeout_seconds = 1"
"$SPILLWAY" -c "$SANDBOX/c.ini" force fallback 2>/dev/null
t0=$(_now_us)
run_check "$SANDBOX/c.ini"
ok "a hung notifier: the check ends after its timeout ($(( ($(_now_us) - t0) / 1000 )) ms)" test $(( $(_now_us) - t0 )) -lt 4000000
is "$CHECK_RC|$(sql "select action from checks order by id desc limit 1")|$(event "attempts, last_error" force)" \
    "0|launched|1|timed out after 1000 ms (its process group killed)" "its decision recorded, the event retried later"
done_testing

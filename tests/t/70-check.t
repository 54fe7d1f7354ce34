#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The checker against the Flink stub and a real influxd holding the primary's
# points at chosen ages: trips after exactly N violations, resets, resumes,
# treats what it cannot observe as unknown, obeys forced modes, launches the
# runner only when none holds the lock, and keeps a consistent count under
# twenty concurrent checks.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
sandbox_init
start_influxd
start_flinkstub
# No Kafka here: these are the latency and health rules, so the lag probe
# (on by default) is switched off; tests/t/75-lag.t and 76-idle.t run the
# checker with it, at its default. The checks here come seconds apart, not a
# minute: the hysteresis (10 minutes in fallback at least, recoveries held
# 90 s) is off, so that a recovery resumes at once as the reference did;
# 76-idle.t checks the shipped values hold a resume back, and the trace
# replays (74-replay.t) and test_decide run them over hours.
KAFKA_BOOTSTRAP=127.0.0.1:9 ML_URL=http://127.0.0.1:9 write_config "$SANDBOX/c.ini" \
    "$(printf '[check]\nflink_url = %s\nrunner_command = echo launched >> %s/launches\nprobe_timeout_seconds = 1\nlag_probe = off\nmin_fallback_seconds = 0\nresume_hold_seconds = 0' \
        "$FLINK_URL" "$SANDBOX")"
launches() { if [[ -f $SANDBOX/launches ]]; then wc -l <"$SANDBOX/launches"; else echo 0; fi; }
state() { sql "select mode, forced, violations, recoveries from state"; }
last_check() { sql "select verdict, action from checks order by id desc limit 1"; }

primary_point 5
run_check "$SANDBOX/c.ini"
is "$CHECK_RC" 0 "a healthy check exits 0"
ok "it logs the reference's latency line" grep -qE "^spillway: Current processing latency: [5-9]\.[0-9]{2}s$" "$CHECK_ERR"
is "$(state)" "primary|auto|0|0" "primary mode, no violation"
is "$(last_check)" "healthy|none" "recorded as healthy"

primary_reset
primary_point 400
run_check "$SANDBOX/c.ini"
is "$(state)" "primary|auto|1|0" "a stale primary: violation 1"
ok "logged as the reference does" grep -qE "Latency violation 1/3: 40[0-9]\.[0-9]{2}s > 300s$" "$CHECK_ERR"
run_check "$SANDBOX/c.ini"
is "$(state)" "primary|auto|2|0" "violation 2"
primary_reset
primary_point 5
run_check "$SANDBOX/c.ini"
is "$(state)" "primary|auto|0|0" "a healthy check in between resets the count"

primary_reset
primary_point 400
run_check "$SANDBOX/c.ini"
run_check "$SANDBOX/c.ini"
is "$(state)|$(launches)" "primary|auto|2|0|0" "two violations do not trip"
run_check "$SANDBOX/c.ini"
is "$(state)" "fallback|auto|0|0" "the third trips fallback mode"
ok "TRIGGERING FALLBACK MODE is logged" grep -q "TRIGGERING FALLBACK MODE" "$CHECK_ERR"
is "$(launches)" 1 "and the runner is launched by the tripping check"
is "$(sql "select from_mode, to_mode from transitions")" "primary|fallback" "the transition is recorded"
ok "with its reason" grep -qE "latency 40[0-9]\.[0-9]{2}s > 300s \(3/3\)" <(sql "select reason from transitions")
run_check "$SANDBOX/c.ini"
is "$(last_check)|$(launches)" "not_recovered|launched|2" "in fallback mode every check launches the runner"

exec 9>"$SANDBOX/state.db.lock"
flock -n 9
run_check "$SANDBOX/c.ini"
is "$(last_check)|$(launches)" "not_recovered|runner busy|2" "not while a runner holds the lock"
exec 9>&-

# the runs of fallback mode backfill the predictions the preserve level left pending (66-preserve.t): while
# the last run wrote some and left more, as a runner records it, a recovery does not resume
finished_run() {
    sql "insert into runs (started_at, ended_at, pid, outcome, exit_code, backfilled, backfill_left)
         values (strftime('%Y-%m-%dT%H:%M:%fZ'), strftime('%Y-%m-%dT%H:%M:%fZ'), 1, 'ok', 0, $1, $2)"
}
finished_run 4608 1
primary_reset
primary_point 5
run_check "$SANDBOX/c.ini"
is "$(state)|$(launches)" "fallback|auto|0|1|3" "a recovery while the runs' backfill goes on: held, the runner launched"
ok "saying why" grep -q "Not resuming yet: the backfill goes on (the last run wrote 4608 predictions and left more)" \
    "$CHECK_ERR"
finished_run 2050 0
run_check "$SANDBOX/c.ini"
is "$(state)" "primary|auto|0|0" "the backfill done, a recovery resumes primary mode (consecutive_recoveries = 1)"
ok "RESUMING PRIMARY PROCESSING MODE is logged" grep -q "RESUMING PRIMARY PROCESSING MODE" "$CHECK_ERR"
is "$(launches)" 3 "and launches nothing"

flink_control '{"state": "RESTARTING"}'
run_check "$SANDBOX/c.ini"
is "$(state)" "primary|auto|1|0" "a job in a restart loop is a violation, though jobs-running counts it"
ok "naming the job's state" grep -q "Primary unhealthy (job Nurse Stress Prediction is RESTARTING): violation 1/3" "$CHECK_ERR"
flink_control ''

primary_reset
run_check "$SANDBOX/c.ini"
ok "no primary point in the lookback window: latency is the lookback" \
    grep -q "Current processing latency: 600.00s" "$CHECK_ERR"
is "$(state)" "primary|auto|2|0" "and a violation"

stop_influxd
run_check "$SANDBOX/c.ini"
is "$CHECK_RC" 69 "InfluxDB unreachable: exit 69"
is "$(state)" "primary|auto|2|0" "no counter moved"
is "$(last_check)" "unknown|none" "recorded as unknown"
ok "with the reason" grep -q "InfluxDB http://127.0.0.1:$INFLUX_PORT" <(sql "select error from checks order by id desc limit 1")
restart_influxd
flink_control '{"delay_ms": 2500}'
run_check "$SANDBOX/c.ini"
is "$CHECK_RC|$(state)" "69|primary|auto|2|0" "Flink timing out: unknown too, nothing moved"
flink_control ''

# forced modes
"$SPILLWAY" -c "$SANDBOX/c.ini" force fallback --reason "maintenance of the Flink cluster" 2>/dev/null
is "$(state)" "fallback|fallback|0|0" "force fallback"
ok "recorded with who and why" grep -qE "^force fallback by [a-z_-]+: maintenance of the Flink cluster$" \
    <(sql "select reason from transitions order by id desc limit 1")
primary_reset
primary_point 5
run_check "$SANDBOX/c.ini"
is "$(state)|$(launches)" "fallback|fallback|0|0|4" "a healthy primary does not undo it; the runner is launched"
"$SPILLWAY" -c "$SANDBOX/c.ini" force primary 2>/dev/null
primary_reset
primary_point 400
run_check "$SANDBOX/c.ini"
run_check "$SANDBOX/c.ini"
run_check "$SANDBOX/c.ini"
is "$(state)|$(launches)" "primary|primary|0|0|4" "force primary: three violations trip nothing"
"$SPILLWAY" -c "$SANDBOX/c.ini" force auto 2>/dev/null
is "$(state)" "primary|auto|0|0" "force auto hands back to the checker"
"$SPILLWAY" -c "$SANDBOX/c.ini" force sideways 2>/dev/null && rc=0 || rc=$?
is "$rc" 64 "force with an unknown mode: exit 64"

# status
"$SPILLWAY" -c "$SANDBOX/c.ini" status >"$SANDBOX/status.txt" 2>&1 && rc=0 || rc=$?
is "$rc" 0 "status exits 0"
ok "status shows the mode" grep -qE "^mode: +primary since 20" "$SANDBOX/status.txt"
ok "status shows the counters" grep -q "violations 0/3, recoveries 0/1" "$SANDBOX/status.txt"
ok "status shows the transitions" grep -q "fallback -> primary: force primary" "$SANDBOX/status.txt"
"$SPILLWAY" -c "$SANDBOX/c.ini" status --json >"$SANDBOX/status.json"
is "$("$PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["state"]["mode"], s["state"]["forced"], len(s["checks"]), s["quarantine"]["total"], s["transitions"][0]["to_mode"])' "$SANDBOX/status.json")" \
    "primary auto 10 0 primary" "status --json is parsable and says the same"

# under systemd, stderr is the journal: lines carry <N> priority prefixes
primary_reset
primary_point 400
: >"$SANDBOX/journal"
JOURNAL_STREAM=$(stat -c '%d:%i' "$SANDBOX/journal") "$SPILLWAY" -c "$SANDBOX/c.ini" check 2>>"$SANDBOX/journal"
ok "with \$JOURNAL_STREAM naming stderr, info lines carry <6>" \
    grep -qE "^<6>Current processing latency: 40[0-9]\.[0-9]{2}s$" "$SANDBOX/journal"
ok "and warnings <4>" grep -qE "^<4>Latency violation 1/3: 40[0-9]\.[0-9]{2}s > 300s$" "$SANDBOX/journal"
JOURNAL_STREAM=1:2 "$SPILLWAY" -c "$SANDBOX/c.ini" check 2>"$SANDBOX/plain"
ok "a \$JOURNAL_STREAM that is not stderr is ignored" grep -q "^spillway: warning: Latency violation 2/3" "$SANDBOX/plain"
"$SPILLWAY" -c "$SANDBOX/c.ini" force auto 2>/dev/null

# twenty concurrent checks, all seeing a stale primary
checks_before=$(sql "select count(*) from checks")
trans_before=$(sql "select count(*) from transitions")
launches_before=$(launches)
pids=()
for i in $(seq 20); do
    "$SPILLWAY" -c "$SANDBOX/c.ini" check >/dev/null 2>&1 &
    pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
is "$failed" 0 "twenty concurrent checks all succeed"
is "$(( $(sql "select count(*) from checks") - checks_before ))" 20 "twenty checks rows"
is "$(sql "select verdict, count(*) from checks where id > $checks_before group by verdict order by verdict" | tr '\n' ' ')" \
    "not_recovered|17 violation|3 " "exactly three violations, then seventeen checks in fallback mode"
is "$(( $(sql "select count(*) from transitions") - trans_before ))|$(state)" "1|fallback|auto|0|0" \
    "one transition, and a consistent state"
is "$(( $(launches) - launches_before ))" 18 "the runner launched by the tripping check and each later one"

# a brand-new state file opened by ten processes at once: migrated once
sed "s|^database = .*|database = $SANDBOX/fresh.db|" "$SANDBOX/c.ini" >"$SANDBOX/fresh.ini"
pids=()
for i in $(seq 10); do
    "$SPILLWAY" -c "$SANDBOX/fresh.ini" status --json >/dev/null 2>"$SANDBOX/fresh.$i.err" &
    pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
is "$failed" 0 "ten commands opening a new state file at once all succeed"
is "$(sqlite3 -cmd ".timeout 5000" "$SANDBOX/fresh.db" 'PRAGMA user_version; SELECT count(*) FROM state;' | tr '\n' ' ')" "$(sed -n 's/^state schema version: //p' <("$SPILLWAY" --version)) 1 " \
    "the schema is at this spillway's version with one state row"

# replay: the same decisions again from what was recorded, force overrides
# and unknown checks included (the runner_command's and the concurrent
# checks' order aside, nothing differs)
"$SPILLWAY" -c "$SANDBOX/c.ini" replay "$SANDBOX/state.db" >"$SANDBOX/replay.txt" 2>"$SANDBOX/replay.err" && rc=0 || rc=$?
is "$rc" 0 "replay of the state database exits 0"
is "$(awk 'NF > 3 && $1 != "replay:" {print $2, $3}' "$SANDBOX/replay.txt" | sed 's/\*$//')" \
    "$(sql "select verdict || ' ' || mode from checks order by id")" \
    "replayed, every check's verdict and mode are the recorded ones"
is "$(tail -n 1 "$SANDBOX/replay.txt")" \
    "replay: $(sql "select count(*) from checks") checks, 2 trips, 1 resumes, first trip at $(sql "select min(at) from transitions where to_mode = 'fallback' and kind = 'auto'")" \
    "its last line counts them: two trips, one resume (the other changes were forced)"

# a runner_command that fails: the check says so, records it, exits 69
sed -i 's|^runner_command = .*|runner_command = exit 3|' "$SANDBOX/c.ini"
run_check "$SANDBOX/c.ini"
is "$CHECK_RC|$(last_check)" "69|not_recovered|launch failed" "a failing runner_command: exit 69, recorded"
ok "with the command and its status" grep -q 'runner_command "exit 3" failed (status 3)' \
    <(sql "select error from checks order by id desc limit 1")

# the clock jumped back (or the writer's is off): the newest point 5 minutes
# in the future is no proof of freshness; the latency is unknown, no
# counter moves (a stalled primary must not read as recovered)
primary_reset
primary_point -300
before=$(sql "select violations || '/' || recoveries from state")
run_check "$SANDBOX/c.ini"
is "$CHECK_RC|$(sql "select verdict from checks order by id desc limit 1")|$(sql "select violations || '/' || recoveries from state")" \
    "69|unknown|$before" "a point 300 s ahead: exit 69, the check unknown, the counters as they were"
ok "saying which clock to look at" grep -qE "the newest point \(.*\) is (299|300|301) s ahead of this host's clock, more than 60 s: a clock is wrong" "$CHECK_ERR"
primary_reset
primary_point -20
run_check "$SANDBOX/c.ini"
is "$(sql "select verdict != 'unknown' and latency_s = 0 from checks order by id desc limit 1")" 1 \
    "20 s ahead (a sensor's clock): as fresh as can be"
done_testing

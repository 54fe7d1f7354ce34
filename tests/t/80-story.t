#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The whole story, as cron would run it: the primary's job goes into a
# restart loop, three checks trip fallback mode, the tripping check launches
# a real `spillway drain` (detached: runner_command empty), which drains the
# backlog into InfluxDB; the primary recovers and the next check resumes
# primary mode; status shows it all.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
start_pipeline
start_flinkstub
gen backlog --nurses 3 --per-nurse 300 --seed 5
produce backlog
N=$(valid_count "$SANDBOX/backlog.manifest")
# The checks come seconds apart, not a minute: the hysteresis is off so that
# the recovery resumes at once (76-idle.t shows the shipped values holding a
# resume back; 74-replay.t replays them over hours).
BATCH_SIZE=100000 write_config "$SANDBOX/s.ini" \
    "$(printf '[check]\nflink_url = %s\nmin_fallback_seconds = 0\nresume_hold_seconds = 0\n[metrics]\ntextfile = %s/spillway.prom' "$FLINK_URL" "$SANDBOX")"
primary_point 5

flink_control '{"state": "RESTARTING"}'
run_check "$SANDBOX/s.ini"
run_check "$SANDBOX/s.ini"
is "$(sql "select mode, violations from state")|$(sql "select count(*) from runs")" "primary|2|0" \
    "two unhealthy checks: still primary, no runner"
run_check "$SANDBOX/s.ini"
is "$CHECK_RC" 0 "the third check exits 0"
ok "it trips" grep -q "TRIGGERING FALLBACK MODE" "$CHECK_ERR"
is "$(sql "select action from checks order by id desc limit 1")" "launched" "and launches the runner"

run_finished() { [[ $(sql "select count(*) from runs where outcome != 'running'") -ge 1 ]]; }
wait_until 0 "the launched runner finishing" 60 run_finished
is "$(sql "select outcome, messages from runs")" "ok|$N" "the detached runner drained the backlog"
is "$(sum_count)" "$N" "into InfluxDB, every message counted once"
is "$(committed)" "$(high_watermarks)" "and committed"
runner_gone() { ! pgrep -f "[s]pillway -c $SANDBOX/s.ini drain" >/dev/null; }
ok "the runner exits by itself" eventually 30 runner_gone

flink_control ''
primary_reset
primary_point 3
run_check "$SANDBOX/s.ini"
ok "a healthy primary resumes primary mode" grep -q "RESUMING PRIMARY PROCESSING MODE" "$CHECK_ERR"
is "$(sql "select action from checks order by id desc limit 1")|$(sql "select count(*) from runs")" "none|1" \
    "and no runner is launched"
"$SPILLWAY" -c "$SANDBOX/s.ini" status >"$SANDBOX/status.txt"
ok "status shows the run" grep -qE "^  1 +20[0-9-]+T[0-9:.]+Z +ok +eof +$N " "$SANDBOX/status.txt"
ok "and both transitions" bash -c "grep -q 'primary -> fallback: primary unhealthy' '$SANDBOX/status.txt' && grep -q 'fallback -> primary: healthy' '$SANDBOX/status.txt'"

# the node_exporter textfile, rewritten after every check and run
prom=$SANDBOX/spillway.prom
ok "the metrics file is there, and no temporary file" bash -c "test -s '$prom' && ! ls '$prom'.tmp* 2>/dev/null"
is "$(grep -E '^spillway_mode\{|^spillway_checks_total |^spillway_transitions_total |^spillway_last_run_messages |^spillway_runs_total\{outcome="ok"\}' "$prom" | tr '\n' ' ')" \
    "spillway_mode{mode=\"primary\"} 1 spillway_mode{mode=\"fallback\"} 0 spillway_checks_total 4 spillway_transitions_total 2 spillway_last_run_messages $N spillway_runs_total{outcome=\"ok\"} 1 " \
    "it shows the mode, the checks, the transitions and the last run"
ok "every sample line is name{labels} value" bash -c "! grep -vE '^#|^[a-z_]+(\{[a-z]+=\"[a-z0-9_]+\"\})? -?[0-9.e+-]+$' '$prom'"
done_testing

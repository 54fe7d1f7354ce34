#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Faults around the runner, each in the middle of a run, then plain runs
# until the topic is drained: the Kafka broker down and up again (shorter and
# longer than the session timeout), request errors on JoinGroup, OffsetCommit,
# OffsetFetch (the primary group's offsets) and Fetch, InfluxDB stopped and
# restarted half way through writing, the ML service failing and too slow. After each, the sum of count equals the valid
# messages produced so far, exactly.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
start_pipeline
WINDOW=1 POINTS_PER_WRITE=10 BATCH_SIZE=100000 ML_RETRIES=1 INFLUX_RETRIES=1 write_config "$SANDBOX/s.ini"
TOTAL=0
asked_ml() { grep -q '^REQ /model' "$ML_LOG"; }

# batch HOUR: 6 nurses x 200 events in the hour HOUR of 2026-11-21, produced
batch() {
    gen "h$1" --nurses 6 --per-nurse 200 --rate 20 --seed "$1" --start "2026-11-21 $1:00:00.000"
    produce "h$1"
    TOTAL=$(( TOTAL + $(valid_count "$SANDBOX/h$1.manifest") ))
}

# held_runner: a runner started in the background and held in its first ML request
held_runner() {
    : >"$ML_LOG"
    ml_control "${1:-{\"hold\": true\}}"
    drain_bg held "$SANDBOX/s.ini"
    held=$BG_PID
    wait_until "$held" "the runner asking the ML service" 30 asked_ml
}

# then_exact WHAT: plain runs until drained; the sum of count is exact
then_exact() {
    ml_control ''
    drain_until_done "$SANDBOX/s.ini" 6
    is "$(sum_count)" "$TOTAL" "$1, then $DRAIN_RUNS plain runs: the sum of count is exactly $TOTAL"
    is "$(committed)" "$(high_watermarks)" "and everything is committed"
}

# --- the broker down for 1 s while the runner predicts: its commit waits
batch 10
held_runner
mock_down
ml_control ''
sleep 1    # the fault's length: well inside session.timeout.ms
mock_up
drain_wait "$held"
is "$BG_RC" 0 "broker down 1 s mid-run: the run commits once it is back"
then_exact "broker down 1 s"

# --- down for 10 s: the session expires, the run fails without committing
batch 11
held_runner
mock_down
ml_control ''
sleep 10    # the fault's length: longer than session.timeout.ms
mock_up
drain_wait "$held"
ok "broker down 10 s mid-run: the run fails (exit $BG_RC) rather than claim success" test "$BG_RC" != 0
is "$(sql "select outcome from runs order by id desc limit 1")" "failed" "and is recorded as failed"
then_exact "broker down 10 s"

# --- JoinGroup answered with errors first
batch 12
mock_ctl 'errors JoinGroup COORDINATOR_NOT_AVAILABLE NOT_COORDINATOR REBALANCE_IN_PROGRESS'
run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 0 "JoinGroup refused three times: the run gets in and succeeds"
then_exact "JoinGroup errors"

# --- Fetch answered with errors
batch 13
mock_ctl 'errors Fetch NOT_LEADER_FOR_PARTITION REQUEST_TIMED_OUT UNKNOWN_TOPIC_OR_PART'
run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 0 "Fetch refused three times: the run succeeds"
then_exact "Fetch errors"

# --- OffsetCommit refused for the start mark, and for the final commit
batch 14
mock_ctl 'errors OffsetCommit GROUP_AUTHORIZATION_FAILED GROUP_AUTHORIZATION_FAILED GROUP_AUTHORIZATION_FAILED'
EXPECT_RC=69 run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 69 "the start cannot be committed: exit 69, nothing read"
ok "saying so" grep -q "cannot commit the start of partition" <(sql "select error from runs order by id desc limit 1")
# refused because the group is rebalancing (as when another host joins at that
# moment): the partitions wait for the rebalance, are marked again and read
mock_ctl 'errors OffsetCommit REBALANCE_IN_PROGRESS'
run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 0 "the start mark refused for a rebalance: the run marks again and succeeds"
ok "having read the batch" test "$(sql "select messages from runs order by id desc limit 1")" -gt 0
then_exact "a start mark refused for a rebalance"
batch 15
held_runner
mock_ctl 'errors OffsetCommit GROUP_AUTHORIZATION_FAILED'
ml_control ''
drain_wait "$held"
is "$BG_RC" 69 "the final commit refused: exit 69"
ok "naming the refusal" grep -q "commit failed: Broker: Group authorization failed" "$SANDBOX/held.err"
then_exact "OffsetCommit errors"

# --- InfluxDB stopped half way through writing, restarted later
batch 16
held_runner '{"hold": true, "after": 30}'
written() { [[ $(sum_count) -gt $1 ]]; }
wait_until "$held" "the runner writing its first points" 30 written "$(( TOTAL - 1200 ))"
stop_influxd
ml_control ''
drain_wait "$held"
is "$BG_RC" 69 "InfluxDB stopped mid-batch: exit 69"
restart_influxd
then_exact "InfluxDB stopped and restarted mid-batch"

# --- the ML service failing half way, then too slow to answer in time
batch 17
ml_control '{"status": 500, "after": 40}'
EXPECT_RC=69 run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 69 "the ML service failing after 40 answers: exit 69"
then_exact "ML failing mid-batch"
batch 18
ml_control '{"delay_ms": 6000}'    # [ml] timeout_seconds is 5
EXPECT_RC=69 run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 69 "the ML service slower than timeout_seconds: exit 69"
ok "naming the timeout" grep -q "Timeout was reached" "$DRAIN_ERR"
then_exact "ML too slow"

# --- the primary group's committed offsets (read at assignment through the
# runner's own handle, after its own: the second OffsetFetch) refused
batch 19
mock_ctl 'errors OffsetFetch NO_ERROR COORDINATOR_LOAD_IN_PROGRESS NOT_COORDINATOR'
run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 0 "the primary's offsets answered by a loading, then a moved coordinator: asked again, the run succeeds"
then_exact "a coordinator loading while the primary's offsets are read"
batch 20
before=$(committed)    # (an OffsetFetch itself: before the errors are pushed)
mock_ctl 'errors OffsetFetch NO_ERROR GROUP_AUTHORIZATION_FAILED'
EXPECT_RC=69 run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 69 "the primary's offsets refused (not authorized): exit 69"
ok "naming the refusal and the group" grep -q "Group authorization failed (group flink-consumer)" "$DRAIN_ERR"
is "$(committed)" "$before" "nothing committed"
then_exact "the primary's offsets refused"
done_testing

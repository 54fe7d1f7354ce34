#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A runner killed (SIGKILL) at any moment, at the group settings operators get:
# during its join, after consuming while it waits on the ML service, and half
# way through writing; a retry stopped before it re-read the killed batch. After each, the very next run (back to back, as a
# retry would) gets partitions and drains; one a session timeout later (as
# the next minute's run would) joins as fast as after a clean exit. No run
# that got no partitions counts as a success, and the sum of count is exact.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
start_pipeline

gen big --nurses 10 --per-nurse 2000 --rate 40 --seed 31
produce big
N=$(valid_count "$SANDBOX/big.manifest")
# fixed batches of 5000 (max_batch_size too), so that work is left for each crash
WINDOW=1 POINTS_PER_WRITE=20 MAX_PARALLEL=2 BATCH_SIZE=5000 write_config "$SANDBOX/s.ini" $'[drain]\nmax_batch_size = 5000'
asked_ml() { grep -q '^REQ /model' "$ML_LOG"; }
wrote() { [[ $(sum_count) -gt $1 ]]; }

# kill_then_run WHAT: kills the runner in $victim, then one run right away.
kill_then_run() {
    kill_wait "$victim"
    is "$BG_RC" 137 "killed $1"
    run_drain "$SANDBOX/s.ini"
    is "$DRAIN_RC" 0 "the next run, right after, succeeds"
    read -r join msgs < <(sql "select join_s, messages from runs order by id desc limit 1" | tr '|' ' ')
    ok "it got partitions after ${join}s (a dead member holds the group for its 6 s session at most)" \
        "$PY" -c "import sys; sys.exit(not (0 < float('${join:-0}') < 20))"
    ok "and drained $msgs messages" test "${msgs:-0}" -gt 0
}

# --- during its join (the mock cluster makes a first join wait 3 s)
drain_bg victim "$SANDBOX/s.ini"
victim=$BG_PID
sleep 1    # the moment of the fault: inside the join, checked below
ok "the victim had no partitions yet" bash -c "! grep -q 'starting at' '$SANDBOX/victim.err'"
kill_then_run "during its join"

# held_victim: a runner in $victim, held in its first ML request
held_victim() {
    ml_control '{"hold": true}'
    : >"$ML_LOG"
    drain_bg victim "$SANDBOX/s.ini"
    victim=$BG_PID
    WAIT_LOG=$SANDBOX/victim.err wait_until "$victim" "the victim asking the ML service" 30 asked_ml
}

# --- after consuming, while it waits on the ML service
held_victim
ml_control ''
kill_then_run "while predicting, nothing written"

# writing_victim: a runner in $victim that has begun writing (20 points a
# request, a slowed ML service)
writing_victim() {
    ml_control '{"delay_ms": 20}'
    local before
    before=$(sum_count)
    drain_bg victim "$SANDBOX/s.ini"
    victim=$BG_PID
    WAIT_LOG=$SANDBOX/victim.err wait_until "$victim" "the victim writing" 30 wrote "$before"
    ml_control ''
}

# --- half way through writing
writing_victim
kill_then_run "half way through writing"

# --- a retry stopped before it re-read the killed batch. A runner killed
# half way through writing leaves its batch marked "writing ... end=E". The
# next run is stopped (SIGTERM) before it has read any of it: the broker
# holds its first fetch answer 10 s. It must fail without committing, the
# marks left in place: committed as done, the run after would take a new
# batch number and write the killed batch's messages again beside the points
# already written (the final sum of count would be over N).
unfinished() {
    "$SPILLWAY" -c "$SANDBOX/s.ini" status --json |
        "$PY" -c 'import json, sys; print(" ".join(str(p["partition"]) for p in json.load(sys.stdin)["backlog"]["partitions"] if p["unfinished"]))'
}
writing_victim
kill_wait "$victim"
marked=$(unfinished)
ok "status shows the killed batch unfinished on partitions: $marked" test -n "$marked"
mock_ctl 'broker_errors 1 Fetch NO_ERROR:10000'
drain_bg retry "$SANDBOX/s.ini"
retry=$BG_PID
owns() { grep -q "^spillway: Backlog" "$SANDBOX/retry.err"; }
WAIT_LOG=$SANDBOX/retry.err wait_until "$retry" "the retry owning its partitions" 30 owns
kill -TERM "$retry"
drain_wait "$retry"
is "$BG_RC|$(sql "select outcome, ended_by, messages from runs order by id desc limit 1")" "75|failed|signal|0" \
    "the retry, stopped before it read a message, exits 75 and is recorded as failed"
ok "saying why" grep -q "stopped by a signal before re-reading what an unfinished batch had read" "$SANDBOX/retry.err"
is "$(unfinished)" "$marked" "the unfinished batch's marks are left in place"

# --- and once more, then the next run a session timeout later, as the next
# minute's would: the dead member is gone by then
held_victim
kill_wait "$victim"
ml_control ''
sleep 7    # a cadence stand-in: longer than session.timeout.ms (6 s), as a timer's next run
run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 0 "a run a session timeout after a crash succeeds"
join=$(sql "select join_s from runs order by id desc limit 1")
ok "and joins in ${join}s, as after a clean exit (at most the mock's 5 s)" \
    "$PY" -c "import sys; sys.exit(not (0 < float('${join:-0}') <= 5.5))"

drain_until_done "$SANDBOX/s.ini" 10
is "$DRAIN_RC" 0 "then runs until drained succeed"
is "$(sum_count)" "$N" "the sum of count is exactly N=$N after $DRAIN_RUNS more runs"
"$PY" "$HELPERS/kafkatool.py" expect --manifest "$SANDBOX/big.manifest" --window 1 >"$SANDBOX/expect.json"
ok "and every window's means match the independent computation" \
    influx compare --measurement nurse_stress --expect "$SANDBOX/expect.json" --window 1
is "$(committed)" "$(high_watermarks)" "everything is committed"
is "$(sql "select count(*) from runs where outcome = 'abandoned'")" 5 "the five killed runs are recorded as abandoned"
is "$(sql "select count(*) from runs where outcome = 'ok' and join_s is null")" 0 \
    "no run that got no partitions is recorded ok"
done_testing

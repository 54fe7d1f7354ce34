#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# One runner at a time per state directory: a second exits 75 at once, while
# the first goes on undisturbed. The lock dies with its holder.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
start_pipeline
BATCH_SIZE=100000 write_config "$SANDBOX/s.ini"
gen a --nurses 2 --per-nurse 100
produce a

# The first runner is held inside its ML requests (the stub blocks them), so
# it is certainly running, and holding the lock, while the second starts.
ml_control '{"hold": true}'
"$SPILLWAY" -c "$SANDBOX/s.ini" drain 2>"$SANDBOX/first.err" &
first=$!
_SANDBOX_PIDS+=("$first")
wait_until "$first" "first runner reaching the ML service" 30 grep -q '^REQ /model' "$ML_LOG"

EXPECT_RC=75 run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 75 "a second runner exits 75 (temporary failure)"
ok "saying who holds what" grep -q "another spillway drain holds $SANDBOX/state.db.lock; exiting" "$DRAIN_ERR"
ok "while the first is still running" kill -0 "$first"
is "$(sql "select count(*), outcome from runs")" "1|running" "the second runner recorded no run"

ml_control ''
wait "$first" && rc=0 || rc=$?
is "$rc" 0 "the first runner then finishes normally"
is "$(sum_count)" 200 "and writes everything"

# flock(1) on the documented lock file keeps runners out too (cron wrappers,
# maintenance scripts)
exec 9>"$SANDBOX/state.db.lock"
flock -n 9
EXPECT_RC=75 run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 75 "an outside flock on state.db.lock is honoured"
exec 9>&-
run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 0 "released, the next runner runs"
done_testing

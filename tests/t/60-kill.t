#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# kill -9 of a runner half-way through writing a large batch, then runs until
# the topic is drained: the sum of count is exactly the number of valid
# messages (no loss, no double count), because a retried batch rewrites the
# very points (same series, same timestamps) the killed one wrote.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
start_pipeline

# 1-second windows and 20 points per write: hundreds of chunks to be
# between; a slowed ML stub stretches the writing phase.
gen big --nurses 10 --per-nurse 2000 --rate 40 --seed 11
produce big
N=$(valid_count "$SANDBOX/big.manifest")
WINDOW=1 POINTS_PER_WRITE=20 MAX_PARALLEL=2 BATCH_SIZE=1000000 BATCH_TIMEOUT=120 write_config "$SANDBOX/s.ini"
ml_control '{"delay_ms": 15}'

"$SPILLWAY" -c "$SANDBOX/s.ini" drain 2>"$SANDBOX/killed.err" &
victim=$!
_SANDBOX_PIDS+=("$victim")
points_written() { [[ $(sum_count) -gt 0 ]]; }
wait_until "$victim" "the runner writing its first points" 60 points_written
kill_wait "$victim"
is "$BG_RC" 137 "the runner was killed mid-batch (not finished)"
partial=$(sum_count)
ok "it had written part of the batch ($partial of $N counted)" test "$partial" -gt 0 -a "$partial" -lt "$N"
is "$(committed)" "0:0 1:0" "and committed nothing past its start"

ml_control ''
runs=0
while (( runs < 5 )); do
    run_drain "$SANDBOX/s.ini"
    runs=$(( runs + 1 ))
    [[ $DRAIN_RC == 0 ]] || break
    [[ $(sql "select messages from runs order by id desc limit 1") == 0 ]] && break
done
is "$DRAIN_RC" 0 "later runs succeed"
is "$(sql "select outcome from runs order by id limit 1")" "abandoned" "the killed run is marked abandoned"
is "$(sum_count)" "$N" "after $runs runs the sum of count is exactly N=$N"
"$PY" "$HELPERS/kafkatool.py" expect --manifest "$SANDBOX/big.manifest" --window 1 >"$SANDBOX/expect.json"
ok "and every window's means match the independent computation" \
    influx compare --measurement nurse_stress --expect "$SANDBOX/expect.json" --window 1
is "$(committed)" "$(high_watermarks)" "and the topic is drained"
done_testing

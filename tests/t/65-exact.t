#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Exact at a batch's boundaries (the exactness audit at 88b5c86, #1 and #2), as an operator runs
# spillway: plain runs against the mock cluster, a real influxd and the ML stub.
#   #1 a backlog of low-rate sources overruns max_aggregates: the full table ends the batch, the
#      next runs read on; nothing valid goes to quarantine.
#   #2 a run that failed before writing leaves nothing owed: the next episode starts at the
#      primary's offset. A run that failed after writing is rewritten from its start up to the
#      end it had read, not further: what the primary processed after that is not redone.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
start_pipeline 1
K=("$PY" "$HELPERS/kafkatool.py")
primary_commit() { "${K[@]}" commit --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --group flink-consumer --offsets "$1"; }
status_json() { "$SPILLWAY" -c "$SANDBOX/$1" status --json 2>/dev/null; }
part0() { "$PY" -c 'import json,sys; p=json.load(sys.stdin)["backlog"]["partitions"][0]; print(p["batch"], p["end"])'; }
last_run() { sql "select $1 from runs order by id desc limit 1"; }
primary_commit 0:0

# ---- #1, scaled 1:125 from the shipped max_aggregates 50,000 and max_batch_size 3,000,000 (46-flood
# runs a flood at the shipped 50,000): 20 devices at 1 Hz, 1 s windows, 1,200 aggregates of one
# message each, a table of 400
gen slow --nurses 20 --per-nurse 60 --rate 1 --seed 3
produce slow
WINDOW=1 BATCH_SIZE=100 write_config "$SANDBOX/a.ini" $'[drain]\nmax_batch_size = 24000\nmax_aggregates = 400'
run_drain "$SANDBOX/a.ini"
is "$DRAIN_RC|$(last_run "ended_by, messages, quarantined, aggregates, points")" "0|max_aggregates|400|0|400|400" \
    "#1: the first run fills its table: 400 messages, 400 points, ended by max_aggregates, none quarantined"
is "$(committed)" "0:400" "it commits exactly what it folded in"
drain_until_done "$SANDBOX/a.ini" 5
is "$DRAIN_RUNS|$(sql "select group_concat(points, ',') from runs")" "2|400,400,400" "two more runs of 400 each"
is "$(sum_count)" 1200 "#1: sum of count is every valid message (1,200)"
is "$(sql "select count(*) from quarantine")" 0 "and nothing was quarantined"

# ---- #2a: a run that wrote nothing. 500 messages, the ML service failing.
gen a --nurses 4 --per-nurse 125 --rate 10 --start "2026-11-21 11:00:00.000" --seed 4
produce a
ML_RETRIES=0 WINDOW=1 BATCH_SIZE=100 write_config "$SANDBOX/b.ini"
ml_control '{"status":503}'
EXPECT_RC=69 run_drain "$SANDBOX/b.ini"
is "$DRAIN_RC|$(last_run "outcome, points")" "69|failed|0" "#2a: the ML service fails: exit 69, nothing written"
is "$(committed)" "0:1200" "the start is committed (where the batch began)"
is "$(status_json b.ini | part0)" "reading -1" "status: a batch under way that wrote nothing, owing nothing"
# the primary catches up and moves on: the backlog it processed is not the fallback's
gen b --nurses 4 --per-nurse 375 --rate 10 --start "2026-11-21 11:00:12.500" --seed 5
produce b
primary_commit 0:3200
ml_control ''
run_drain "$SANDBOX/b.ini"
is "$DRAIN_RC|$(last_run "messages, skipped, redone")" "0|0|2000|0" \
    "#2a: the next run starts at the primary's offset: 0 messages redone, 2,000 skipped"
ok "it says why" grep -q "starting at 3200, the primary group's committed offset" "$DRAIN_ERR"

# ---- #2b: a run that wrote, then failed. 500 messages, 5 points a request, the ML service failing
# after 20 answers: 20 points written.
gen c --nurses 4 --per-nurse 125 --rate 10 --start "2026-11-21 12:00:00.000" --seed 6
produce c
POINTS_PER_WRITE=5 MAX_PARALLEL=1 ML_RETRIES=0 WINDOW=1 BATCH_SIZE=100 write_config "$SANDBOX/c.ini"
ml_control '{"status":503,"after":20}'
before=$(sum_count)
EXPECT_RC=69 run_drain "$SANDBOX/c.ini"
is "$DRAIN_RC|$(last_run "points")" "69|20" "#2b: the run writes 20 points, then fails"
is "$(status_json c.ini | part0)" "unfinished 3700" "status: unfinished, it wrote up to 3,700"
gen d --nurses 4 --per-nurse 375 --rate 10 --start "2026-11-21 12:00:12.500" --seed 7
produce d
primary_commit 0:5200
ml_control ''
run_drain "$SANDBOX/c.ini"
is "$DRAIN_RC|$(last_run "messages, redone")" "0|500|500" \
    "#2b: the retry rewrites the 500 messages it had read, and stops there"
ok "it says so" grep -qE "rewriting batch [0-9]+ up to 3700, re-reading 500 messages the primary processed; stopping there" \
    "$DRAIN_ERR"
ok "and waits before its first write for what the failed run may have left on the wire" \
    grep -q "waiting 5.0s before rewriting an unfinished batch's points" "$DRAIN_ERR"
is "$(committed)" "0:3700" "it commits the end it owed, not beyond"
is "$(( $(sum_count) - before ))" 500 "its points count the 500 messages once (the 20 partial points replaced)"
run_drain "$SANDBOX/c.ini"
is "$DRAIN_RC|$(last_run "messages, skipped")" "0|0|1500" "the next run skips to the primary: nothing more redone"
is "$(committed)" "0:5200" "and commits there"
done_testing

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The second level of fallback (level.h, backfill.h), as an operator meets it: an ML outage of many
# runs. At the shipped preserve_after_seconds a failing run still fails; past it, runs write their
# points without stress_level and commit, the sensor panels keep flowing, and once the service
# answers the predictions are backfilled onto the same points -- by whichever host owns the
# partition, a killed backfill repeated harmlessly. The sum of count never moves; nothing is invented.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
start_pipeline 2
K=("$PY" "$HELPERS/kafkatool.py")
"${K[@]}" commit --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --group flink-consumer --offsets 0:0,1:0
last_run() { sql "select $1 from runs order by id desc limit 1"; }
# points: "all predicted-ones" over the measurement's points with a count
points() {
    influx points --measurement nurse_stress | "$PY" -c '
import json, sys
p = [json.loads(l)["fields"] for l in sys.stdin]
p = [f for f in p if f.get("count", 0) > 0]
print(len(p), sum(1 for f in p if "stress_level" in f))'
}
# the stub's own rule, applied to each point's mean HR: what a backfilled level must be
invented() {
    influx points --measurement nurse_stress | "$PY" -c '
import json, sys
bad = 0
for l in sys.stdin:
    f = json.loads(l)["fields"]
    if "stress_level" in f:
        want = 2 if f["HR"] >= 100 else 1 if f["HR"] >= 80 else 0
        bad += f["stress_level"] != want
print(bad)'
}
influxql() { influx query "$1" | "$PY" -c 'import json,sys; r=json.load(sys.stdin)["results"][0]; print(sum(1 for s in r.get("series", []) for v in s["values"] if v[1] is not None))'; }

# ---- at the shipped preserve_after_seconds (900) a failing run fails as before
gen a --nurses 4 --per-nurse 100 --rate 10 --seed 21
produce a
ML_RETRIES=2 WINDOW=1 write_config "$SANDBOX/s.ini"
ok "preserve_after_seconds is the shipped 900" grep -qE "^preserve_after_seconds += 900 +; default$" \
    <("$SPILLWAY" -c "$SANDBOX/s.ini" config)
ml_control '{"status":503}'
EXPECT_RC=69 run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC|$(last_run "outcome, ml, level, points")" "69|failed|failed|normal|0" \
    "the ML service failing for a run: exit 69, nothing written, the level normal"

# ---- the outage outlasts preserve_after_seconds. Tuned to 1 s so that the outage of many runs a minute apart
# fits a test: each answer of the stub takes 400 ms, so a run's own retries outlast it.
# With notifications on, the level's changes are events for the next check to deliver.
ML_RETRIES=2 WINDOW=1 write_config "$SANDBOX/s.ini" $'[drain]\npreserve_after_seconds = 1\n[notify]\ncommand = /bin/true'
ml_control '{"status":503,"delay_ms":400}'
run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC|$(last_run "outcome, level, points, preserved")" "0|ok|preserve|40|40" \
    "past it: the run enters the preserve level, writes its 40 points without predictions, commits"
ok "and says why" grep -q "Entering the preserve level: the ML service has failed for" "$DRAIN_ERR"
is "$(sql "select event || ' ' || (reason like 'the ML service has failed for %') from outbox where delivered_at is null")" \
    "preserve 1" "a preserve event is raised with the change, its reason the level's"
is "$(sum_count)" 400 "every message is counted"
is "$(points)" "40 0" "no point carries a stress level: none is invented"
is "$(committed)" "$(high_watermarks)" "committed"
status=$("$SPILLWAY" -c "$SANDBOX/s.ini" status --json)
is "$("$PY" -c 'import json,sys; s=json.load(sys.stdin)["state"]; print(s["level"])' <<<"$status")" preserve \
    "status --json shows the level"
gen b --nurses 4 --per-nurse 100 --rate 10 --start "2026-11-21 10:00:10.000" --seed 22
produce b
run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC|$(last_run "ml, level, preserved")" "0|failed|preserve|40" \
    "the next run asks the service once, then writes without predictions"
is "$(grep -c "1 predictions failed (.*); retry" "$DRAIN_ERR")" 2 "once: one request and its two retries"
is "$(sum_count)" 800 "sum of count: 800"
# the dashboards during the outage: no stress level, the sensor panels flowing
is "$(influxql "SELECT mean(\"stress_level\") FROM \"nurse_stress\" WHERE source='dask-fallback' GROUP BY time(1m), id")" 0 \
    "mean(stress_level) has nothing to show (no value is invented)"
ok "mean(HR) shows every nurse" test "$(influxql "SELECT mean(\"HR\") FROM \"nurse_stress\" WHERE source='dask-fallback' GROUP BY time(1m), id")" -ge 4

# ---- the service answers again, refusing for its range the aggregates above the median HR: the backfill
X=$(influx points --measurement nurse_stress | "$PY" -c '
import json, statistics, sys
print(statistics.median(json.loads(l)["fields"]["HR"] for l in sys.stdin))')
ml_control "{\"refuse_hr_above\": $X}"
gen c --nurses 4 --per-nurse 100 --rate 10 --start "2026-11-21 10:00:20.000" --seed 23
produce c
run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC|$(last_run "ml, level")" "0|ok|normal" "the service answers: the level ends"
ok "and says so" grep -q "Leaving the preserve level: the ML service answers again" "$DRAIN_ERR"
q=$(sql "select coalesce(sum(count), 0) from quarantine where state = 'final'")
is "$(( $(sum_count) + q ))" 1200 "sum of count + the quarantine = the 1,200 produced (backfill moves no count)"
read -r n predicted <<<"$(points)"
refused=$(sql "select count(*) from quarantine where state = 'final' and count = 0 and error like 'ML service answered 400%'")
ok "the service refused some pending points' predictions ($refused)" test "$refused" -gt 0
is "$(( predicted + refused ))" "$n" \
    "every point with a count has its stress level ($predicted), or is recorded as refused, keeping its count ($refused)"
is "$(invented)" 0 "each is the service's answer for that point's means"
ok "the dashboard's mean(stress_level) has values again" \
    test "$(influxql "SELECT mean(\"stress_level\") FROM \"nurse_stress\" WHERE source='dask-fallback' GROUP BY time(1m), id")" -gt 0
is "$(sql "select level from levels order by id")" $'preserve\nnormal' "the level's changes are recorded"
is "$(sql "select event from outbox order by id")" $'preserve\npreserve_end' "each with its event, in order"

# ---- a backfill killed half way, finished by another host
gen d --nurses 4 --per-nurse 100 --rate 10 --start "2026-11-21 10:00:30.000" --seed 24
produce d
ml_control '{"status":503,"delay_ms":400}'
run_drain "$SANDBOX/s.ini"
is "$(last_run "level, preserved")" "preserve|40" "another outage: 40 points without predictions"
STATE_DB=$SANDBOX/b.db ML_RETRIES=2 WINDOW=1 MAX_PARALLEL=1 write_config "$SANDBOX/b.ini" $'[drain]\npreserve_after_seconds = 1'
sed -i 's/^max_parallel = .*/max_parallel = 1/' "$SANDBOX/s.ini"
ml_control '{"delay_ms":300}'
before=$(grep -c "REQ /model" "$ML_LOG")
drain_bg victim "$SANDBOX/s.ini"
eventually 60 bash -c "(( \$(grep -c 'REQ /model' '$ML_LOG') - $before >= 5 ))" || _fail "the backfill never began"
kill_wait "$BG_PID"
read -r n predicted <<<"$(points)"
ok "killed after $predicted of $n points had their stress level" test "$predicted" -lt "$n"
ml_control ''
run_drain "$SANDBOX/b.ini"
is "$DRAIN_RC" 0 "another host's run (its own state) succeeds"
read -r n predicted <<<"$(points)"
is "$(( predicted + refused ))" "$n" "and backfills the rest: every point has its stress level, but the refused ($n)"
q=$(sql "select coalesce(sum(count), 0) from quarantine where state = 'final'")
is "$(( $(sum_count) + q ))" 1600 "sum of count + quarantine: 1,600, exact"
is "$(invented)" 0 "nothing invented"

# ---- a backlog of pending points larger than a run's backfill: bounded per run, oldest first.
# backfill_per_run tuned from the shipped 5,000 to 15 so that 40 pending points need several runs (the
# slices of an hour are narrowed until they fit; test_backfill.c shows 61,440 points at the default).
gen e --nurses 4 --per-nurse 100 --rate 10 --start "2026-11-21 10:00:40.000" --seed 25
produce e
ml_control '{"status":503,"delay_ms":400}'
run_drain "$SANDBOX/s.ini"
is "$(last_run "level, preserved")" "preserve|40" "an outage: 40 points without predictions"
printf '[drain]\nbackfill_per_run = 15\n' >>"$SANDBOX/s.ini"
ml_control ''
first=$(sql "select max(id) from runs")
for i in 1 2 3 4 5 6; do
    run_drain "$SANDBOX/s.ini"
    read -r n predicted <<<"$(points)"
    (( predicted + refused == n )) && break
done
is "$(sql "select max(backfilled) <= 15 from runs where id > $first")" 1 \
    "no run backfills more than backfill_per_run ($(sql "select group_concat(backfilled, ',') from runs where id > $first"))"
is "$(sql "select sum(backfilled) from runs where id > $first")" 40 "the 40 pending points, each once"
is "$(sql "select group_concat(backfill_left, ',') from runs where id > $first")" "1,1,1,0" \
    "each run records whether it left predictions pending (a checker holds a resume meanwhile: 70-check.t)"
ok "in several runs ($i)" test "$i" -ge 3
is "$(( predicted + refused ))" "$n" "then every point has its stress level, but the refused"
q=$(sql "select coalesce(sum(count), 0) from quarantine where state = 'final'")
is "$(( $(sum_count) + q ))" 2000 "sum of count + quarantine: 2,000, exact"
is "$(invented)" 0 "nothing invented"
done_testing

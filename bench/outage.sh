#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# outage.sh -- the second level of fallback over an hour-long ML outage, measured. Not a test: it prints figures.
#
# An hour of traffic at the reference rate (12,000,000 messages, 3,333 a second) arrives while the ML service
# answers nothing. The runs write every point without its stress level (the preserve level; preserve_after_seconds
# is 1 here rather than the shipped 900 -- the first quarter hour of a real outage is runs failing, which this
# does not time), then the service comes back and runs backfill the predictions, backfill_per_run (the shipped
# 5,000) a run. Runs follow one another at once; a real timer would start one a minute, so the figure that
# matters is the number of backfill runs -- minutes -- and how long each takes.
# The mock keeps ~5 MiB a partition: NURSES nurses (512), one per partition, at 3,333 / NURSES events a second
# each. The points an hour makes: NURSES × 120 windows of 30 s (the reference's 10 nurses make 1,200: one run).
# Usage: [NURSES=512] [BACKLOG=12000000] bench/outage.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
start_mlstub
rate=$REFERENCE_RATE
nurses=${NURSES:-512}
backlog=${BACKLOG:-12000000}

start_mock "$TOPIC:$nurses"
"$PY" "$HELPERS/kafkatool.py" burst --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --schema "$SCHEMA" \
    --count "$backlog" --nurses "$nurses" --partitions "$nurses" --rate "$("$PY" -c "print($rate / $nurses)")" \
    --start "2026-11-21 10:00:00.000"
held=$(mock_holds)
[[ $held == "$backlog" ]] || _fail "the mock holds $held of $backlog messages"
STATE_DB=$SANDBOX/state.db shipped_config "$SANDBOX/s.ini"
printf '[drain]\npreserve_after_seconds = 1\n' >>"$SANDBOX/s.ini"
commit_group_start "$nurses"

# one run: its measure.py line, then the run's row
run() {
    "$PY" bench/measure.py -- sh -c "exec '$SPILLWAY' -c '$SANDBOX/s.ini' drain 2>>'$SANDBOX/drain.err'"
}
ml_control '{"status":503}'
: >"$SANDBOX/runs"
for (( i = 1; i <= 10; i++ )); do
    m=$(run)
    echo "outage $m $(sql "select messages, preserved, backfilled, level from runs order by id desc limit 1" | tr '|' ' ')" \
        >>"$SANDBOX/runs"
    [[ $(mock_holds "$(committed)") == 0 ]] && break
done
ml_control ''
for (( i = 1; i <= 100; i++ )); do
    m=$(run)
    echo "back $m $(sql "select messages, preserved, backfilled, level from runs order by id desc limit 1" | tr '|' ' ')" \
        >>"$SANDBOX/runs"
    (( $(sql "select backfilled from runs order by id desc limit 1") == 0 )) && break
done
total=$(sum_count)
points=$(influx query "SELECT count(\"count\") FROM \"nurse_stress\"" | "$PY" -c '
import json, sys
r = json.load(sys.stdin)["results"][0]
print(sum(v[1] for s in r.get("series", []) for v in s["values"]))')
predicted=$(influx query "SELECT count(\"stress_level\") FROM \"nurse_stress\"" | "$PY" -c '
import json, sys
r = json.load(sys.stdin)["results"][0]
print(sum(v[1] for s in r.get("series", []) for v in s["values"]))')

"$PY" - "$SANDBOX/runs" "$backlog" "$nurses" "$total" "$points" "$predicted" <<'PY'
import json, sys
path, backlog, nurses, total, points, predicted = sys.argv[1:]
print()
print("an hour of traffic (%s messages from %s nurses) through an ML outage, then the backfill" % (backlog, nurses))
print("| run | phase | wall s | peak RSS MiB | messages | points without stress level | predictions backfilled | level after |")
print("|---:|---|---:|---:|---:|---:|---:|---|")
n = 0
for line in open(path):
    phase, rest = line.split(" ", 1)
    j = rest.index("}") + 1
    m = json.loads(rest[:j])
    messages, preserved, backfilled, level = rest[j:].split()
    n += 1
    print("| %d | %s | %.1f | %d | %s | %s | %s | %s |" % (n, "outage" if phase == "outage" else "service back",
          m["wall_s"], m["max_rss_kib"] // 1024, messages, preserved, backfilled, level))
print("sum of count %s = messages %s; %s points, %s with their stress level" % (total, backlog, points, predicted))
PY

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The runner end to end: messages produced by an independent client (python
# confluent-kafka + python-avro) become points whose counts sum to N and whose
# means match an independent computation; batch bounds; dry run; escaping.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
start_pipeline
conns_before=$(grep -c '^CONN' "$ML_LOG")   # the sandbox's readiness probe

# No nulls here: a batch can end one message into a nurse's window, and a
# one-message aggregate with a null field has no mean to send for it, which
# the ML service refuses (400): quarantined, correctly, but not what these
# exactness checks are about. Nulls have their own section below.
gen base --nurses 6 --per-nurse 400
# ids that line protocol must escape, and one that would forge a tag
"$PY" - "$SANDBOX/base.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "a") as f:
    for i, ident in enumerate(["6D,source=flink", "nurse 7", "a=b", "x\\y"]):
        for k in range(25):
            f.write(json.dumps({"key": ident, "value": {"X": 0.5, "Y": 1.0, "Z": -1.0, "EDA": 2.0, "HR": 70.0 + 15 * i,
                "TEMP": 36.0, "id": ident, "datetime": "2026-11-21 10:00:%02d.%03d" % (k % 60, 7 * k)}}) + "\n")
PY
produce base
N=$(valid_count "$SANDBOX/base.manifest")
is "$N" 2500 "produced 2500 messages"

"$PY" "$HELPERS/kafkatool.py" expect --manifest "$SANDBOX/base.manifest" --window 30 >"$SANDBOX/expect.json"
groups=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["aggregates"]))' "$SANDBOX/expect.json")

# --- dry run: prints the points, writes and commits nothing
# (max_parallel 2, so that reuse of kept-alive connections shows below)
export MAX_PARALLEL=2
BATCH_SIZE=100000 BATCH_TIMEOUT=120 write_config "$SANDBOX/big.ini"
run_drain "$SANDBOX/big.ini" --dry-run
is "$DRAIN_RC" 0 "dry run exits 0"
is "$(grep -c '^nurse_stress,id=' "$DRAIN_OUT")" "$(grep -c . "$DRAIN_OUT")" "dry run prints only line protocol on stdout"
is "$(grep -c . "$DRAIN_OUT")" "$groups" "dry run prints one point per (id, window): $groups"
is "$(sum_count)" 0 "dry run wrote nothing to InfluxDB"
is "$(committed)" "0:-1001 1:-1001" "dry run committed nothing"
ok "dry run recorded no state" test ! -e "$SANDBOX/state.db"

# --- a small batch first: ends at batch_size, commits exactly that much
# batch_size and max_batch_size both 700: a fixed batch (by default a run
# takes its whole backlog, up to max_batch_size; tests/t/79-keepup.t)
BATCH_SIZE=700 write_config "$SANDBOX/small.ini" $'[drain]\nmax_batch_size = 700'
run_drain "$SANDBOX/small.ini"
is "$DRAIN_RC" 0 "a batch_size-bounded run exits 0"
is "$(sql "select messages, ended_by, outcome from runs order by id desc limit 1")" "700|batch_size|ok" \
    "it consumed exactly batch_size and says why it ended"
is "$(sum_count)" 700 "the counts of its points sum to 700"
committed_total=$(committed | tr ' ' '\n' | awk -F: '$2 > 0 {s += $2} END {print s + 0}')
is "$committed_total" 700 "and it committed exactly 700 offsets"

# --- the rest: ends at the partitions' end, far sooner than the timeout
start=$SECONDS
run_drain "$SANDBOX/big.ini"
elapsed=$(( SECONDS - start ))
is "$DRAIN_RC" 0 "the draining run exits 0"
is "$(sql "select messages, ended_by from runs order by id desc limit 1")" "$(( N - 700 ))|eof" \
    "it took the rest and ended at the partitions' end"
ok "in ${elapsed}s, far below batch_timeout_seconds=120" test "$elapsed" -lt 30
is "$(sum_count)" "$N" "the counts of all points sum to N=$N"
ok "means match the independent computation (windows spanning two batches included)" \
    influx compare --measurement nurse_stress --expect "$SANDBOX/expect.json" --window 30
is "$(committed)" "$(high_watermarks)" "committed offsets are the partitions' ends"
is "$(sql "select count(*) from runs where outcome = 'ok'")" 2 "one runs row per run"
ok "the run logs the reference's lines" grep -q "Wrote [0-9]* points to InfluxDB" "$DRAIN_ERR"

# --- what the points say
influx query 'SHOW TAG VALUES FROM "nurse_stress" WITH KEY = "source"' >"$SANDBOX/sources.json"
is "$("$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(" ".join(v[1] for s in r["results"][0]["series"] for v in s["values"]))' "$SANDBOX/sources.json")" \
    "dask-fallback" "every point has source=dask-fallback: no id forged a tag"
influx query 'SHOW TAG VALUES FROM "nurse_stress" WITH KEY = "id"' >"$SANDBOX/ids.json"
ids=$("$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("|".join(sorted(v[1] for s in r["results"][0]["series"] for v in s["values"])))' "$SANDBOX/ids.json")
is "$ids" "6D,source=flink|a=b|nurse 7|nurse-0|nurse-1|nurse-2|nurse-3|nurse-4|nurse-5|x\\y" \
    "ids with , = space and backslash come back exactly"
bad=$(influx points --measurement nurse_stress | "$PY" -c '
import json, sys
bad = 0
for line in sys.stdin:
    p = json.loads(line); f = p["fields"]
    hr = f.get("HR")
    want = None if hr is None else (2 if hr >= 100 else 1 if hr >= 80 else 0)
    if want is not None and f["stress_level"] != want: bad += 1
    if not isinstance(f["stress_level"], int) or not isinstance(f["count"], int): bad += 1
print(bad)')
is "$bad" 0 "stress_level is the ML answer for each point's mean HR, and an integer"
query='SELECT mean("stress_level") FROM "nurse_stress" WHERE source='"'"'dask-fallback'"'"' AND time >= '"'"'2026-11-21T10:00:00Z'"'"' AND time < '"'"'2026-11-21T10:10:00Z'"'"' GROUP BY time(1m), id'
series=$(influx query "$query" | "$PY" -c 'import json,sys; r=json.load(sys.stdin); print(len(r["results"][0].get("series", [])))')
is "$series" 10 "the dashboards' query returns spillway's data for every id"

# --- kept-alive connections
conns=$(( $(grep -c '^CONN' "$ML_LOG") - conns_before ))
reqs=$(grep -c '^REQ /model' "$ML_LOG")
ok "$reqs ML requests over $conns connections: at most max_parallel (2) per run" test "$conns" -le 6 -a "$reqs" -ge "$groups"

# --- nulls: a null is left out of its field's mean (one batch, so every
# aggregate holds 400 messages and no field is all null)
gen nulls --nurses 3 --per-nurse 400 --null-some 0.2 --seed 9 --start "2026-11-21 11:00:00.000"
produce nulls
run_drain "$SANDBOX/big.ini"
is "$(sql "select messages, quarantined from runs order by id desc limit 1")" "1200|0" "1200 messages with 20% nulls"
cat "$SANDBOX/base.manifest" "$SANDBOX/nulls.manifest" >"$SANDBOX/all.manifest"
"$PY" "$HELPERS/kafkatool.py" expect --manifest "$SANDBOX/all.manifest" --window 30 >"$SANDBOX/expect-all.json"
ok "their means leave the nulls out, as the independent computation does" \
    influx compare --measurement nurse_stress --expect "$SANDBOX/expect-all.json" --window 30
is "$(sum_count)" "$(( N + 1200 ))" "and every message is counted"

# --- nothing left: a run is a no-op
before=$(point_count)
run_drain "$SANDBOX/big.ini"
is "$DRAIN_RC" 0 "a run with nothing to do exits 0"
is "$(sql "select messages, points, ended_by from runs order by id desc limit 1")" "0|0|eof" "and consumes nothing"
is "$(point_count)" "$before" "and writes nothing"
done_testing

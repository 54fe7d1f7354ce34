#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Malformed messages among good ones: each is quarantined with its exact
# bytes, key, position and reason; the good ones are all written; the run
# commits past the bad ones (they are kept, not lost).
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
start_pipeline
BATCH_SIZE=100000 write_config "$SANDBOX/s.ini"

gen good --nurses 3 --per-nurse 300 --seed 9
GOOD=$(grep -c . "$SANDBOX/good.jsonl")
# Bad messages, encoded by python-avro where they are Avro at all, spread
# among the good ones.
"$PY" - "$SANDBOX/good.jsonl" "$SCHEMA" >"$SANDBOX/mixed.jsonl" <<'PY'
import io, json, sys
import avro.io, avro.schema
schema = avro.schema.parse(open(sys.argv[2]).read())
def enc(v):
    b = io.BytesIO(); avro.io.DatumWriter(schema).write(v, avro.io.BinaryEncoder(b)); return b.getvalue()
ok = {"X": 1.0, "Y": 1.0, "Z": 1.0, "EDA": 1.0, "HR": 70.0, "TEMP": 36.0, "id": "nurse-0",
      "datetime": "2026-11-21 10:00:01.000"}
bad = [
    ("garbage", "nurse-0", b"\xff" * 40),
    ("text", "nurse-1", b"this is not avro"),
    ("truncated", "nurse-2", enc(ok)[:-5]),
    ("trailing", "nurse-0", enc(ok) + b"\x00"),
    ("null-id", "nurse-1", enc(dict(ok, id=None))),
    ("bad-time", "nurse-2", enc(dict(ok, datetime="21/11/2026 10:00"))),
    ("newline-id", "nurse-0", enc(dict(ok, id="A\nnurse_stress,id=X count=1i"))),
    ("nan", "nurse-1", enc(dict(ok, HR=float("nan")))),
    ("empty", "nurse-2", b""),
]
good = open(sys.argv[1]).read().splitlines()
step = len(good) // (len(bad) + 1)
out = []
for i, line in enumerate(good):
    out.append(line)
    if i % step == step - 1 and bad:
        name, key, raw = bad.pop(0)
        out.append(json.dumps({"key": key, "raw_hex": raw.hex(), "bad": name}))
print("\n".join(out))
PY
produce mixed
BAD=$(grep -c '"bad"' "$SANDBOX/mixed.jsonl")
is "$BAD" 9 "nine malformed messages among $GOOD good ones"

run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 0 "the run succeeds"
is "$(sql "select messages, quarantined, outcome from runs")" "$(( GOOD + BAD ))|$BAD|ok" \
    "it consumed all, quarantined the nine"
is "$(sum_count)" "$GOOD" "every good message is counted in a point"
is "$(committed)" "$(high_watermarks)" "offsets committed past the bad messages"

# each bad message: same bytes, key, partition and offset as produced
mismatch=$("$PY" - "$SANDBOX/mixed.manifest" "$SANDBOX/state.db" <<'PY'
import json, sqlite3, sys
rows = {(r[0], r[1]): r for r in sqlite3.connect(sys.argv[2]).execute(
    "select partition, offset, hex(payload), key, error, kind, topic from quarantine")}
bad = 0
for line in open(sys.argv[1]):
    m = json.loads(line)
    if "bad" not in m:
        continue
    r = rows.get((m["partition"], m["offset"]))
    if r is None:
        print("missing", m["bad"]); bad += 1; continue
    if r[2] != m["value_hex"].upper() or r[3].decode() != m["key"] or r[5] != "message" or r[6] != "stress-topic":
        print("differs", m["bad"], r); bad += 1
print(bad)
PY
)
is "$(tail -n1 <<<"$mismatch")" 0 "each is stored with its exact bytes, key, topic, partition and offset"
[[ $(tail -n1 <<<"$mismatch") == 0 ]] || diag "$mismatch"
reasons=$(sql "select error from quarantine order by partition, offset")
for want in "not a datum of the schema" "trailing bytes" 'field "id" (the id) is null' \
    'field "datetime" is "21/11/2026 10:00"' "contains a line break" 'field "HR" is NaN' "empty message"; do
    ok "a reason says: $want" grep -qF "$want" <<<"$reasons"
done
ok "the log names each quarantined message's position" grep -q "quarantined stress-topic \[[01]\] offset [0-9]*: " "$DRAIN_ERR"
is "$(influx query 'SHOW TAG VALUES FROM "nurse_stress" WITH KEY = "id"' | "$PY" -c 'import json,sys; r=json.load(sys.stdin); print(len(r["results"][0]["series"][0]["values"]))')" 3 \
    "only the three real ids have points"

# Re-reading the same messages (a second group, from the earliest offset)
# must not quarantine them twice nor change the points.
points=$(point_count)
START_FROM=earliest BATCH_SIZE=100000 write_config "$SANDBOX/replay.ini" $'[kafka]\ngroup.id = replay-group'
run_drain "$SANDBOX/replay.ini"
is "$(sql "select messages, quarantined from runs order by id desc limit 1")" "$(( GOOD + BAD ))|$BAD" \
    "the replay re-read every message"
is "$(point_count)" "$points" "and wrote the same points over the old ones"
is "$(sql "select count(*) from quarantine")" "$BAD" "re-reading the same messages keeps one quarantine row each"
is "$(sum_count)" "$GOOD" "and rewrites the same points: the sum of count is unchanged"

# a flood of garbage: every message kept, the log names only the first 20
for i in $(seq 30); do printf '{"key": "k%d", "raw_hex": "ff%02x"}\n' "$i" "$i"; done >"$SANDBOX/flood.jsonl"
produce flood
before=$(sql "select count(*) from quarantine")
run_drain "$SANDBOX/s.ini"
is "$(( $(sql "select count(*) from quarantine") - before ))" 30 "thirty garbage messages: thirty quarantine rows"
is "$(grep -c 'quarantined stress-topic' "$DRAIN_ERR")" 20 "the log names the first twenty"
ok "and counts the rest" grep -q "\.\.\. and 10 more quarantined messages" "$DRAIN_ERR"
done_testing

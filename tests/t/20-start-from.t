#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Where a first activation starts: at the primary group's committed offsets
# (default), at the earliest, or at the latest offset, remembered so that
# later runs go on from there.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
start_pipeline

gen a --nurses 6 --per-nurse 100 --seed 2
produce a
TOTAL=$(valid_count "$SANDBOX/a.manifest")
read -r hi0 hi1 < <(high_watermarks | tr ' ' '\n' | cut -d: -f2 | tr '\n' ' ')
p0=$(( hi0 / 3 ))
p1=$(( hi1 / 2 ))
"$PY" "$HELPERS/kafkatool.py" commit --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --group flink-consumer \
    --offsets "0:$p0,1:$p1" >/dev/null
is "$(committed flink-consumer)" "0:$p0 1:$p1" "the primary group has committed 0:$p0 1:$p1"

# --- primary (the default)
BATCH_SIZE=100000 write_config "$SANDBOX/primary.ini"
run_drain "$SANDBOX/primary.ini"
is "$DRAIN_RC" 0 "start_from=primary: the run succeeds"
is "$(sql "select offsets from runs")" \
    "[{\"partition\":0,\"from\":$p0,\"to\":$(( hi0 - 1 ))},{\"partition\":1,\"from\":$p1,\"to\":$(( hi1 - 1 ))}]" \
    "it began exactly at the primary's committed offsets"
want=$(( hi0 - p0 + hi1 - p1 ))
is "$(sql "select messages from runs")" "$want" "and consumed the $want messages the primary had not"
is "$(sum_count)" "$want" "their counts sum to $want"
"$PY" "$HELPERS/kafkatool.py" expect --manifest "$SANDBOX/a.manifest" --window 30 --from "0:$p0,1:$p1" >"$SANDBOX/expect.json"
ok "means match the independent computation over those messages" \
    influx compare --measurement nurse_stress --expect "$SANDBOX/expect.json" --window 30
is "$(committed flink-consumer)" "0:$p0 1:$p1" "the primary group's offsets are untouched"
ok "the log says where it started" grep -qF "partition 0: starting at $p0, first activation, the primary group's committed offset" "$DRAIN_ERR"

# --- earliest, in another group
START_FROM=earliest BATCH_SIZE=100000 write_config "$SANDBOX/earliest.ini" $'[kafka]\ngroup.id = g-earliest'
run_drain "$SANDBOX/earliest.ini"
is "$(sql "select messages from runs order by id desc limit 1")" "$TOTAL" "start_from=earliest reads all $TOTAL"

# --- latest: nothing at first, then exactly what arrives afterwards
START_FROM=latest BATCH_SIZE=100000 write_config "$SANDBOX/latest.ini" $'[kafka]\ngroup.id = g-latest'
run_drain "$SANDBOX/latest.ini"
is "$(sql "select messages from runs order by id desc limit 1")" 0 "start_from=latest reads nothing already there"
is "$(committed g-latest)" "0:$hi0 1:$hi1" "but commits where it stood"
gen b --nurses 2 --per-nurse 50 --seed 7 --start "2026-11-21 13:00:00.000"
produce b
run_drain "$SANDBOX/latest.ini"
is "$(sql "select messages from runs order by id desc limit 1")" 100 "the next run reads exactly the 100 new messages"

# --- primary with no commit from the primary either: the earliest, said aloud
BATCH_SIZE=100000 write_config "$SANDBOX/nobody.ini" $'[kafka]\ngroup.id = g-nobody\nprimary_group = nobody'
run_drain "$SANDBOX/nobody.ini"
is "$(sql "select messages from runs order by id desc limit 1")" "$(( TOTAL + 100 ))" \
    "a primary group with no commit: starts at the earliest"
ok "with a warning naming the primary group" grep -qF "warning: partition 0: starting at 0, first activation, the earliest offset (the primary group has committed none) (committed: ours -1, nobody's -1;" "$DRAIN_ERR"
done_testing

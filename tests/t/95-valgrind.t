#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Every command under valgrind: no memory error, no definite leak, on real
# work (a drain with a malformed message among good ones, a check, status,
# doctor). Skipped for the ASan build, which valgrind cannot run.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
if ldd "$SPILLWAY" | grep -q libasan; then
    echo "1..0 # SKIP the ASan build runs under its own checker"
    exit 0
fi
start_pipeline
start_flinkstub
gen a --nurses 3 --per-nurse 200 --seed 1
printf '{"key": "nurse-0", "raw_hex": "%s"}\n' "0202ffffffff0f" >>"$SANDBOX/a.jsonl"
produce a
BATCH_SIZE=100000 write_config "$SANDBOX/c.ini" \
    "$(printf '[check]\nflink_url = %s\nrunner_command = true\n[metrics]\ntextfile = %s/m.prom' "$FLINK_URL" "$SANDBOX")"
primary_point 3
for cmd in drain check status doctor; do
    ok "spillway $cmd: valgrind finds nothing" valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
        --error-exitcode=99 "$SPILLWAY" -c "$SANDBOX/c.ini" "$cmd"
done
is "$(sql "select messages, quarantined from runs")" "601|1" "the drain under valgrind did the work (and quarantined)"
done_testing

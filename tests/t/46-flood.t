#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A flood of distinct ids, at the shipped max_aggregates (50,000): a backlog
# of 50,010 messages, each from an id never seen before. A full aggregate
# table ends the batch (it bounds a run's ML requests and memory): the first
# run writes 50,000 points and commits just that far, the next run the other
# 10. Valid data that did not fit is never quarantined (it was, before:
# the exactness audit's #1); nothing is lost or stalls, and the run stays
# inside the memory the drain unit allows (MemoryHigh=96M).
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
start_pipeline
write_config "$SANDBOX/s.ini"
ok "max_aggregates is the shipped 50000" grep -qE "^max_aggregates += 50000 +; default$" \
    <("$SPILLWAY" -c "$SANDBOX/s.ini" config)

gen f --nurses 50010 --per-nurse 1 --seed 5
produce f
N=$(valid_count "$SANDBOX/f.manifest")
is "$N" 50010 "50,010 messages, each from its own id"

run_drain "$SANDBOX/s.ini"
is "$DRAIN_RC" 0 "the run succeeds"
is "$(sql "select points, quarantined, ended_by from runs order by id desc limit 1")" "50000|0|max_aggregates" \
    "50,000 points, nothing quarantined, the batch ended by the full table"
ok "the log says where the batch ended" grep -q "The batch holds max_aggregates (50000) aggregates: it ends at partition" \
    "$DRAIN_ERR"
is "$(point_count)" 50000 "InfluxDB holds the 50,000 points"
rss=$(sql "select peak_rss_kib from runs order by id desc limit 1")
run_drain "$SANDBOX/s.ini"
is "$(sql "select points, quarantined, ended_by from runs order by id desc limit 1")" "10|0|eof" \
    "the next run writes the other 10"
is "$(sum_count)" "$N" "sum of count = every message produced"
is "$(sql "select count(*) from quarantine")" 0 "nothing in quarantine"
is "$(committed)" "$(high_watermarks)" "everything is committed: the flood does not come back"
if ldd "$SPILLWAY" | grep -q libasan; then
    # AddressSanitizer's shadow memory and quarantine multiply the RSS
    ok "peak RSS ${rss} KiB (ASan build: not compared with the unit's limit)" test "$rss" -gt 0
else
    ok "peak RSS ${rss} KiB is under the drain unit's MemoryHigh (96 MiB)" test "$rss" -lt $(( 96 * 1024 ))
fi
ok "the unit still says 96M" grep -qx "MemoryHigh=96M" "$REPO/systemd/spillway-drain.service"
done_testing

#!/bin/bash
# A flood of distinct ids, at the shipped max_aggregates (50,000): one batch
# of 50,010 messages, each from an id never seen before. The first 50,000
# ids make aggregates (and ML requests); the other 10 messages are
# quarantined, named by the setting, not sent one by one to the ML service;
# nothing is lost or stalls, and the run stays inside the memory the drain
# unit allows (MemoryHigh=96M).
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
is "$(sql "select points, quarantined from runs order by id desc limit 1")" "50000|10" \
    "50,000 points, 10 messages quarantined"
is "$(sql "select count(*) from quarantine where kind = 'message' and error like
           'the batch already holds max_aggregates (50000) distinct (id, window) aggregates%'")" 10 \
    "each quarantined for the bound, naming the setting"
is "$(point_count)" 50000 "InfluxDB holds the 50,000 points"
is "$(( $(sum_count) + $(sql "select count(*) from quarantine") ))" "$N" \
    "sum of count + quarantined = every message produced"
is "$(committed)" "$(high_watermarks)" "everything is committed: the flood does not come back"
rss=$(sql "select peak_rss_kib from runs order by id desc limit 1")
if ldd "$SPILLWAY" | grep -q libasan; then
    # AddressSanitizer's shadow memory and quarantine multiply the RSS
    ok "peak RSS ${rss} KiB (ASan build: not compared with the unit's limit)" test "$rss" -gt 0
else
    ok "peak RSS ${rss} KiB is under the drain unit's MemoryHigh (96 MiB)" test "$rss" -lt $(( 96 * 1024 ))
fi
ok "the unit still says 96M" grep -qx "MemoryHigh=96M" "$REPO/systemd/spillway-drain.service"
done_testing

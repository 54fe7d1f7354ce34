#!/bin/bash
# check.sh -- wall time and peak RSS of one `spillway check` against local
# stubs: the Flink stub and a real influxd holding a fresh primary point
# (targets: under 50 ms, under 10 MiB). Not a test: it prints figures.
# Usage: [RUNS=50] bench/check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/sandbox.sh
source tests/lib/spillway.sh
sandbox_init
start_influxd
start_flinkstub
KAFKA_BOOTSTRAP=127.0.0.1:9 ML_URL=http://127.0.0.1:9 write_config "$SANDBOX/c.ini" \
    "$(printf '[check]\nflink_url = %s' "$FLINK_URL")"
primary_point 1
"$SPILLWAY" -c "$SANDBOX/c.ini" check 2>/dev/null   # creates the state database
runs=${RUNS:-50}
for (( i = 0; i < runs; i++ )); do
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%M' -o "$SANDBOX/rss" "$SPILLWAY" -c "$SANDBOX/c.ini" check 2>/dev/null
    awk -v a="$t0" -v b="$EPOCHREALTIME" -v r="$(<"$SANDBOX/rss")" 'BEGIN { printf "%.1f %d\n", (b - a) * 1000, r }'
done >"$SANDBOX/samples"
[[ $(sql "select count(*) from checks where verdict = 'healthy'") -eq $(( runs + 1 )) ]] || _fail "not every check was healthy"
sort -g "$SANDBOX/samples" | awk -v n="$runs" '
    { t[NR] = $1; if ($2 > rss) rss = $2 }
    END { printf "spillway check x%d: wall median %.1f ms, p90 %.1f ms, max %.1f ms; peak RSS %.1f MiB\n",
          n, t[int((n + 1) / 2)], t[int(n * 0.9)], t[n], rss / 1024 }'

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# check.sh -- wall time, CPU and peak RSS of one `spillway check` with every
# probe answered locally: the Flink stub, a real influxd holding a fresh
# primary point, and librdkafka's mock cluster for the lag probe (on by
# default). Three rows: the primary group caught up (lag-on: offsets and
# watermarks only); behind on both partitions (behind: with everything on,
# the time lag read from the first uncommitted message of each partition,
# prediction in shadow, and a [notify] command set); and lag_probe = off, to
# show what the lag probe costs. Not a test: it prints figures (targets:
# under 50 ms wall).
# Usage: [RUNS=50] bench/check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
start_flinkstub
start_mock "$TOPIC:2"
gen a --nurses 6 --per-nurse 100 --seed 1   # both partitions get 100 or more
produce a
"$PY" "$HELPERS/kafkatool.py" commit --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --group flink-consumer \
    --offsets "$(high_watermarks | tr ' ' ',')" >/dev/null
runs=${RUNS:-50}

bench() {
    local name=$1 lag=$2
    ML_URL=http://127.0.0.1:9 STATE_DB=$SANDBOX/$name.db write_config "$SANDBOX/$name.ini" \
        "$(printf '[check]\nflink_url = %s\nlag_probe = %s\n[notify]\ncommand = true' "$FLINK_URL" "$lag")"
    primary_point 1
    "$SPILLWAY" -c "$SANDBOX/$name.ini" check 2>/dev/null   # creates the state database
    for (( i = 0; i < runs; i++ )); do
        primary_point 1
        "$PY" bench/measure.py -- sh -c "exec '$SPILLWAY' -c '$SANDBOX/$name.ini' check 2>/dev/null"
    done >"$SANDBOX/$name.samples"
    [[ $(STATE_DB=$SANDBOX/$name.db sql "select count(*) from checks where verdict = 'healthy'") -eq $(( runs + 1 )) ]] ||
        _fail "not every check was healthy"
    "$PY" - "$SANDBOX/$name.samples" "$name" "$runs" <<'PY'
import json, statistics, sys
s = [json.loads(l) for l in open(sys.argv[1])]
w = sorted(x["wall_s"] * 1000 for x in s)
c = sorted(x["cpu_s"] * 1000 for x in s)
r = max(x["max_rss_kib"] for x in s) / 1024
n = len(w)
print("| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f |" % (sys.argv[2], n, statistics.median(w), w[int(n * 0.9) - 1], w[-1],
                                                         statistics.median(c), r))
PY
}
echo
echo "spillway $("$SPILLWAY" --version | head -n1 | cut -d' ' -f2), $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "| spillway check | runs | wall median ms | wall p90 ms | wall max ms | CPU median ms | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
bench lag-on on
# the primary 100 messages behind on each partition, their times read
behind=$(high_watermarks | tr ' ' '\n' | awk -F: '$2 < 100 {exit 1} {printf "%s%s:%d", sep, $1, $2 - 100; sep = ","}') ||
    _fail "a partition holds fewer than 100 messages: $(high_watermarks)"
"$PY" "$HELPERS/kafkatool.py" commit --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --group flink-consumer \
    --offsets "$behind" >/dev/null
bench behind on
[[ $(STATE_DB=$SANDBOX/behind.db sql "select count(*) from checks where time_lag_s > 0 and lag = 200") -eq $(( runs + 1 )) ]] ||
    _fail "the behind checks did not read a time lag on both partitions"
bench lag-off off

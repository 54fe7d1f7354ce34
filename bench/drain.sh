#!/bin/bash
# drain.sh -- spillway's drain rate beside kcat's on the same messages, and
# spillway's peak RSS at several batch sizes. Not a test: it prints figures.
#
# For each size: a fresh mock cluster (32 partitions; the mock keeps only
# ~5 MiB per partition, so 1,000,000 messages need them all) holding SIZE
# messages from 100 nurses, produced by python-avro + confluent-kafka; then
#   kcat -C -e            consuming them all to /dev/null, and
#   spillway drain        batch_size = SIZE: decode, aggregate, predict (ML
#                         stub), write (real influxd), commit.
# Both use fetch.wait.max.ms=10. spillway's wall time includes its consumer
# group join (a fixed ~3 s on the mock: librdkafka's mock waits like a
# broker's group.initial.rebalance.delay.ms); the drain rate excludes it.
# Usage: [REPEAT=3] bench/drain.sh [SIZE...]   (default: 10000 100000 1000000)
# Peak RSS is the last run's (/usr/bin/time %M); times are medians.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/sandbox.sh
source tests/lib/spillway.sh
sandbox_init
start_influxd
start_mlstub

sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(10000 100000 1000000)
rows=()
for n in "${sizes[@]}"; do
    start_mock "$TOPIC:32"
    gen data --nurses 100 --per-nurse $(( n / 100 )) --seed 42
    produce data
    wm=$("$PY" "$HELPERS/kafkatool.py" watermarks --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC")
    held=$(tr ' ' '\n' <<<"$wm" | awk -F: '{ if ($2 != 0) lost = 1; s += $3 - $2 } END { print lost ? -1 : s }')
    [[ $held == "$n" ]] || _fail "the mock holds $held of $n messages (watermarks: $wm)"

    # each consumer REPEAT times (default 3) on the same messages; medians
    kcat_runs=() sp_runs=() join_runs=()
    for (( r = 1; r <= ${REPEAT:-3}; r++ )); do
        t0=$EPOCHREALTIME
        /usr/bin/time -f '%M' -o "$SANDBOX/kcat.rss" \
            kcat -C -b "$KAFKA_BOOTSTRAP" -t "$TOPIC" -o beginning -e -q -X fetch.wait.max.ms=10 >/dev/null
        kcat_runs+=("$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')")
        kcat_kib=$(<"$SANDBOX/kcat.rss")

        influx query 'DROP DATABASE flink_sink' >/dev/null
        influx create-db >/dev/null
        START_FROM=earliest BATCH_SIZE=$n BATCH_TIMEOUT=600 write_config "$SANDBOX/bench.ini" \
            $'[kafka]\ngroup.id = bench-'"$n-$r"
        t0=$EPOCHREALTIME
        /usr/bin/time -f '%M' -o "$SANDBOX/spillway.rss" \
            "$SPILLWAY" -c "$SANDBOX/bench.ini" drain 2>"$SANDBOX/spillway.err" ||
            _fail "spillway drain failed: $(tail -n 3 "$SANDBOX/spillway.err")"
        sp_runs+=("$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')")
        join_runs+=("$(sed -n 's/.*(group join \([0-9.]*\)s.*/\1/p' "$SANDBOX/spillway.err")")
        sp_kib=$(<"$SANDBOX/spillway.rss")
        counted=$(sum_count)
        [[ $counted == "$n" ]] || _fail "spillway's points count $counted messages, not $n"
    done
    median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
    kcat_s=$(median "${kcat_runs[@]}")
    sp_s=$(median "${sp_runs[@]}")
    join_s=$(median "${join_runs[@]}")

    rows+=("$(awk -v n="$n" -v k="$kcat_s" -v s="$sp_s" -v j="$join_s" -v kk="$kcat_kib" -v sk="$sp_kib" 'BEGIN {
        kr = n / k; dr = n / (s - j); er = n / s
        printf "| %9d | %7.3f | %9.0f | %7.3f | %5.2f | %9.0f | %9.0f | %5.2f | %7.1f | %7.1f |",
            n, k, kr, s, j, er, dr, dr / kr, kk / 1024, sk / 1024 }')")
    stop_pid "$MOCK_PID"
done

echo
echo "spillway $("$SPILLWAY" --version | head -n1 | cut -d' ' -f2), $(nproc) cores, $(date -u +%Y-%m-%d), median of ${REPEAT:-3} runs"
echo "| messages | kcat s | kcat msg/s | spillway s | join s | end-to-end msg/s | drain msg/s | drain/kcat | kcat RSS MiB | spillway RSS MiB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# drain.sh -- spillway drain beside kcat on the same messages, pair by pair,
# on two shapes of data. Not a test: it prints figures.
#
# For each shape and size: a fresh mock cluster (PARTITIONS, 32: the mock
# keeps only ~5 MiB a partition, so 1,000,000 messages need them all)
# holding SIZE seed-format messages (kafkatool gen) from NURSES (100) nurses,
# produced by python-avro + confluent-kafka in one of two shapes:
#   today  nurses interleaved one event at a time, keys placed by CRC32
#          (librdkafka's default partitioner), a batch every 20 ms of what
#          arrived: record batches of tens of messages;
#   fast   each nurse's events 330 at a time, keys placed by murmur2, the
#          reference's producer (batch.num.messages 10000, linger.ms 5,
#          queue.buffering.max.messages 2000000; kafkatool produce --fast),
#          every message handed to it before the broker is up, so that its
#          batches fill as a producer's do when it runs ahead of its broker:
#          record batches of up to 10,000 messages. The mock answers a fetch
#          with one record batch per partition, so this shape is served tens
#          of times faster per request. Ids are "nurseN": murmur2 puts 7 of
#          "nurse-N" on one partition, 70,000 messages, more than it keeps.
# How many record batches each partition holds is read from the mock
# (kafkatool batches). Then PAIRS times, one after the other on the same
# messages:
#   kcat -C -c SIZE        consuming them to /dev/null (it stops at the
#                          SIZE-th message: consuming, no end-of-partition wait)
#   spillway drain         a new consumer group each time, start_from earliest,
#                          the shipped defaults otherwise (the batch is the
#                          whole backlog): decode, aggregate, predict (ML
#                          stub), write (real influxd), commit.
# Both with fetch.wait.max.ms=10 (the mock answers a fetch only when that
# runs out). Measured per process by bench/measure.py: wall time, CPU
# (user + system, getrusage, microseconds) and peak RSS. spillway's rate is
# given for the whole process and after its group join (which it logs; a
# fixed ~3 s on the mock, like a broker's group.initial.rebalance.delay.ms).
# Medians over the pairs, with min-max; CPU fitted per shape as a fixed part
# plus a part per message over every run of that shape.
# Usage: [PAIRS=5] [SHAPES="today fast"] [PARTITIONS=32] [NURSES=100] bench/drain.sh [SIZE...]
#        (default sizes: 10000 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
start_mlstub

sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(10000 100000 1000000)
read -r -a shapes <<<"${SHAPES:-today fast}"
parts=${PARTITIONS:-32}
nurses=${NURSES:-100}
# 5 pairs: the mock's fetch pace flips between two speeds from one pair to
# the next (bench/README.md), and the median of 3 moved with it
pairs=${PAIRS:-5}
: >"$SANDBOX/results"
: >"$SANDBOX/batches"
# the floor under every run: a process start with the libraries loaded
# (spillway --version, kcat -V), 11 of each, paired
: >"$SANDBOX/startup"
for (( r = 1; r <= 11; r++ )); do
    printf 'kcat %s\n' "$("$PY" bench/measure.py -- kcat -V)" >>"$SANDBOX/startup"
    printf 'spillway %s\n' "$("$PY" bench/measure.py -- "$SPILLWAY" --version)" >>"$SANDBOX/startup"
done

# produce_shape SHAPE N: N messages in SHAPE into the running mock
produce_shape() {
    case $1 in
    today)
        gen data --nurses "$nurses" --per-nurse $(( $2 / nurses )) --seed 42
        produce data
        ;;
    fast)
        gen data --nurses "$nurses" --per-nurse $(( $2 / nurses )) --seed 42 --block 330 --id-prefix nurse
        mock_ctl 'down all'
        "$PY" "$HELPERS/kafkatool.py" produce --fast --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" \
            --schema "$SCHEMA" --in "$SANDBOX/data.jsonl" --manifest "$SANDBOX/data.manifest" \
            --queued-file "$SANDBOX/queued" >"$SANDBOX/produce.log" 2>&1 &
        local producer=$!
        WAIT_LOG=$SANDBOX/produce.log wait_until "$producer" "producing the fast shape" 600 test -e "$SANDBOX/queued"
        mock_ctl 'up all'
        wait "$producer" || _fail "producing the fast shape failed: $(tail -n 3 "$SANDBOX/produce.log")"
        rm -f "$SANDBOX/queued"
        ;;
    *) _fail "unknown shape $1 (today, fast)" ;;
    esac
    rm -f "$SANDBOX/data.jsonl" "$SANDBOX/data.manifest"
}

for shape in "${shapes[@]}"; do
    for n in "${sizes[@]}"; do
        start_mock "$TOPIC:$parts"
        produce_shape "$shape" "$n"
        held=$(mock_holds)
        [[ $held == "$n" ]] || _fail "the mock holds $held of $n messages ($shape)"
        printf '%s %s %s\n' "$shape" "$n" \
            "$("$PY" "$HELPERS/kafkatool.py" batches --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --json)" \
            >>"$SANDBOX/batches"
        for (( r = 1; r <= pairs; r++ )); do
            k=$("$PY" bench/measure.py -- kcat -C -b "$KAFKA_BOOTSTRAP" -t "$TOPIC" -o beginning -c "$n" -q \
                -X fetch.wait.max.ms=10)
            influx query 'DROP DATABASE flink_sink' >/dev/null
            influx create-db >/dev/null
            START_FROM=earliest BATCH_TIMEOUT=600 write_config "$SANDBOX/bench.ini" $'[kafka]\ngroup.id = bench-'"$shape-$n-$r"
            s=$("$PY" bench/measure.py -- sh -c "exec '$SPILLWAY' -c '$SANDBOX/bench.ini' drain 2>'$SANDBOX/spillway.err'")
            grep -q '"exit": 0' <<<"$s" || _fail "spillway drain failed: $(tail -n 3 "$SANDBOX/spillway.err")"
            join=$(sed -n 's/.*(group join \([0-9.]*\)s.*/\1/p' "$SANDBOX/spillway.err")
            counted=$(sum_count)
            [[ $counted == "$n" ]] || _fail "spillway's points count $counted messages, not $n ($shape)"
            printf '%s %s %s %s %s\n' "$shape" "$n" "$k" "$s" "$join" >>"$SANDBOX/results"
        done
        stop_pid "$MOCK_PID"
    done
done

echo
echo "spillway $("$SPILLWAY" --version | head -n1 | cut -d' ' -f2), kcat $(kcat -V 2>&1 | sed -n 's/^Version \([^ ]*\).*/\1/p'), $(nproc) cores, $(date -u +%Y-%m-%d), $parts partitions, $nurses nurses, median (min-max) of $pairs pairs"
"$PY" - "$SANDBOX/results" "$SANDBOX/startup" "$SANDBOX/batches" <<'PY'
import json, statistics, sys
rows, batches = {}, {}
for line in open(sys.argv[3]):
    shape, n, js = line.split(" ", 2)
    b = [v for v in json.loads(js).values() if v["messages"] > 0]
    batches[(shape, int(n))] = (min(v["batches"] for v in b), max(v["batches"] for v in b),
                                sum(v["messages"] for v in b) / sum(v["batches"] for v in b),
                                max(v["largest"] for v in b))
for line in open(sys.argv[1]):
    shape, n, rest = line.split(" ", 2)
    k, rest = rest.split("} ", 1)
    s, join = rest.rsplit("} ", 1)
    k, s = json.loads(k + "}"), json.loads(s + "}")
    n, join = int(n), float(join)
    rows.setdefault((shape, n), []).append({
        "kcat_rate": n / k["wall_s"], "sp_rate": n / s["wall_s"], "sp_drain": n / (s["wall_s"] - join),
        "join": join, "ratio": (n / (s["wall_s"] - join)) / (n / k["wall_s"]),
        "kcat_cpu": k["cpu_s"] / n * 1e6, "sp_cpu": s["cpu_s"] / n * 1e6,
        "cpu_ratio": s["cpu_s"] / k["cpu_s"], "kcat_rss": k["max_rss_kib"] / 1024, "sp_rss": s["max_rss_kib"] / 1024})
def cell(v, fmt):
    vs = sorted(v)
    return (fmt + " (" + fmt + "-" + fmt + ")") % (statistics.median(vs), vs[0], vs[-1])
cols = [("kcat msg/s", "kcat_rate", "%.0f"), ("spillway msg/s, whole", "sp_rate", "%.0f"),
        ("join s", "join", "%.2f"), ("spillway msg/s after join", "sp_drain", "%.0f"),
        ("after join / kcat", "ratio", "%.2f"), ("kcat CPU µs/msg", "kcat_cpu", "%.2f"),
        ("spillway CPU µs/msg", "sp_cpu", "%.2f"), ("CPU spillway / kcat", "cpu_ratio", "%.2f"),
        ("kcat RSS MiB", "kcat_rss", "%.1f"), ("spillway RSS MiB", "sp_rss", "%.1f")]
print("| shape | messages | record batches per partition | messages per batch (mean, largest) | "
      + " | ".join(c[0] for c in cols) + " |")
print("|---|---:|---:|---:|" + "---:|" * len(cols))
order = {"today": 0, "fast": 1}
for key in sorted(rows, key=lambda k: (order.get(k[0], 9), k[0], k[1])):
    bmin, bmax, mean, largest = batches[key]
    print("| %s | %d | %d-%d | %.0f, %d | " % (key[0], key[1], bmin, bmax, mean, largest)
          + " | ".join(cell([r[c[1]] for r in rows[key]], c[2]) for c in cols) + " |")

# CPU(n) = fixed + n * per-message, fitted (least squares) per shape over
# every run of every size: the per-message figure without the run's fixed
# cost, which dominates the small sizes (start-up, libraries, for spillway
# the group, SQLite and the HTTP clients).
def fit(points):
    mx = statistics.fmean(p[0] for p in points)
    my = statistics.fmean(p[1] for p in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    return my - slope * mx, slope
start = {"kcat": [], "spillway": []}
for line in open(sys.argv[2]):
    who, j = line.split(" ", 1)
    start[who].append(json.loads(j)["cpu_s"] * 1e3)
k_start, s_start = statistics.median(start["kcat"]), statistics.median(start["spillway"])
fits = []
for shape in sorted({k[0] for k in rows}, key=lambda s: (order.get(s, 9), s)):
    runs = [(n, r) for (sh, n) in rows if sh == shape for r in rows[(sh, n)]]
    if len({n for n, _ in runs}) < 2:
        continue
    k_fixed, k_per = fit([(n, r["kcat_cpu"] * n / 1e6) for n, r in runs])
    s_fixed, s_per = fit([(n, r["sp_cpu"] * n / 1e6) for n, r in runs])
    fits.append((shape, k_fixed, k_per, s_fixed, s_per))
if not fits:
    sys.exit()
print()
print("| CPU = fixed + messages x per message, fitted per shape over all its runs | fixed ms | per message µs |"
      " process start ms (median of 11) |")
print("|---|---:|---:|---:|")
for shape, k_fixed, k_per, s_fixed, s_per in fits:
    print("| %s: kcat -C | %.1f | %.2f | %.1f |" % (shape, k_fixed * 1e3, k_per * 1e6, k_start))
    print("| %s: spillway drain | %.1f | %.2f | %.1f |" % (shape, s_fixed * 1e3, s_per * 1e6, s_start))
    print("| %s: spillway / kcat | %.1f | %.2f | %.1f |" % (shape, s_fixed / k_fixed if k_fixed > 0 else float("nan"),
                                                          s_per / k_per, s_start / k_start))
PY

#!/bin/bash
# drain.sh -- spillway drain beside kcat on the same messages, pair by pair.
# Not a test: it prints figures.
#
# For each size: a fresh mock cluster (32 partitions: the mock keeps only
# ~5 MiB per partition, so 1,000,000 messages need them all) holding SIZE
# messages from 100 nurses, produced by python-avro + confluent-kafka; then
# PAIRS times, one after the other on the same messages:
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
# Medians over the pairs, with min-max.
# Usage: [PAIRS=5] bench/drain.sh [SIZE...]   (default: 10000 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
start_mlstub

sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(10000 100000 1000000)
# 5 pairs: the mock's fetch pace flips between two speeds from one pair to
# the next (README), and the median of 3 moved with it
pairs=${PAIRS:-5}
: >"$SANDBOX/results"
# the floor under every run: a process start with the libraries loaded
# (spillway --version, kcat -V), 11 of each, paired
: >"$SANDBOX/startup"
for (( r = 1; r <= 11; r++ )); do
    printf 'kcat %s\n' "$("$PY" bench/measure.py -- kcat -V)" >>"$SANDBOX/startup"
    printf 'spillway %s\n' "$("$PY" bench/measure.py -- "$SPILLWAY" --version)" >>"$SANDBOX/startup"
done
for n in "${sizes[@]}"; do
    start_mock "$TOPIC:32"
    gen data --nurses 100 --per-nurse $(( n / 100 )) --seed 42
    produce data
    held=$(mock_holds)
    [[ $held == "$n" ]] || _fail "the mock holds $held of $n messages"
    for (( r = 1; r <= pairs; r++ )); do
        k=$("$PY" bench/measure.py -- kcat -C -b "$KAFKA_BOOTSTRAP" -t "$TOPIC" -o beginning -c "$n" -q \
            -X fetch.wait.max.ms=10)
        influx query 'DROP DATABASE flink_sink' >/dev/null
        influx create-db >/dev/null
        START_FROM=earliest BATCH_TIMEOUT=600 write_config "$SANDBOX/bench.ini" $'[kafka]\ngroup.id = bench-'"$n-$r"
        s=$("$PY" bench/measure.py -- sh -c "exec '$SPILLWAY' -c '$SANDBOX/bench.ini' drain 2>'$SANDBOX/spillway.err'")
        grep -q '"exit": 0' <<<"$s" || _fail "spillway drain failed: $(tail -n 3 "$SANDBOX/spillway.err")"
        join=$(sed -n 's/.*(group join \([0-9.]*\)s.*/\1/p' "$SANDBOX/spillway.err")
        counted=$(sum_count)
        [[ $counted == "$n" ]] || _fail "spillway's points count $counted messages, not $n"
        printf '%s %s %s %s\n' "$n" "$k" "$s" "$join" >>"$SANDBOX/results"
    done
    stop_pid "$MOCK_PID"
done

echo
echo "spillway $("$SPILLWAY" --version | head -n1 | cut -d' ' -f2), kcat $(kcat -V 2>&1 | sed -n 's/^Version \([^ ]*\).*/\1/p'), $(nproc) cores, $(date -u +%Y-%m-%d), median (min-max) of $pairs pairs"
"$PY" - "$SANDBOX/results" "$SANDBOX/startup" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    n, rest = line.split(" ", 1)
    k, rest = rest.split("} ", 1)
    s, join = rest.rsplit("} ", 1)
    k, s = json.loads(k + "}"), json.loads(s + "}")
    n, join = int(n), float(join)
    rows.setdefault(n, []).append({
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
print("| messages | " + " | ".join(c[0] for c in cols) + " |")
print("|---:|" + "---:|" * len(cols))
for n in sorted(rows):
    print("| %d | " % n + " | ".join(cell([r[c[1]] for r in rows[n]], c[2]) for c in cols) + " |")

# CPU(n) = fixed + n * per-message, fitted (least squares) over every run of
# every size: the per-message figure without the run's fixed cost, which
# dominates the small sizes (start-up, libraries, for spillway the group,
# SQLite and the HTTP clients).
if len(rows) < 2:
    sys.exit()
def fit(points):
    mx = statistics.fmean(p[0] for p in points)
    my = statistics.fmean(p[1] for p in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    return my - slope * mx, slope
runs = [(n, r) for n in rows for r in rows[n]]
k_fixed, k_per = fit([(n, r["kcat_cpu"] * n / 1e6) for n, r in runs])
s_fixed, s_per = fit([(n, r["sp_cpu"] * n / 1e6) for n, r in runs])
print()
start = {"kcat": [], "spillway": []}
for line in open(sys.argv[2]):
    who, j = line.split(" ", 1)
    start[who].append(json.loads(j)["cpu_s"] * 1e3)
k_start, s_start = statistics.median(start["kcat"]), statistics.median(start["spillway"])
print("| CPU = fixed + messages x per message, fitted over all runs | fixed ms | per message µs | process start ms (median of 11) |")
print("|---|---:|---:|---:|")
print("| kcat -C | %.1f | %.2f | %.1f |" % (k_fixed * 1e3, k_per * 1e6, k_start))
print("| spillway drain | %.1f | %.2f | %.1f |" % (s_fixed * 1e3, s_per * 1e6, s_start))
print("| spillway / kcat | %.1f | %.2f | %.1f |" % (s_fixed / k_fixed if k_fixed > 0 else float("nan"), s_per / k_per,
                                                 s_start / k_start))
PY

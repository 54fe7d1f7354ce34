#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run.sh -- run fuzz targets one after another, each for SECONDS, and fail
# if any of them finds something. Usage: run.sh BUILDDIR SECONDS TARGET...
#
# Each target reads its committed seeds (tests/fuzz/corpus/TARGET/), any
# generated ones (BUILDDIR/seeds/TARGET/) and what earlier runs found
# (BUILDDIR/corpus/TARGET/, where new inputs go); a crash, leak, sanitizer
# report, broken invariant, timeout or memory blow-up leaves its reproducer
# in BUILDDIR/artifacts/TARGET/ and the whole log in BUILDDIR/logs/.
set -u

[ $# -ge 3 ] || { echo "usage: $0 BUILDDIR SECONDS TARGET..." >&2; exit 64; }
build=$1 seconds=$2
shift 2
here=$(dirname "$0")

# symbolized stacks; UBSan reports are findings, not warnings
ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_SYMBOLIZER_PATH UBSAN_OPTIONS

failed=""
printf '%-14s %10s %8s  %s\n' target executions exec/s result
for t in "$@"; do
    bin=$build/fuzz_$t
    log=$build/logs/$t.log
    mkdir -p "$build/corpus/$t" "$build/artifacts/$t" "$build/logs"
    # the corpus directories, first the one new inputs go to (the loop's
    # list of targets was expanded before, so "$@" is free for this)
    set -- "$build/corpus/$t"
    [ -d "$here/corpus/$t" ] && set -- "$@" "$here/corpus/$t"
    [ -d "$build/seeds/$t" ] && set -- "$@" "$build/seeds/$t"
    dict=$here/$t.dict
    case $t in ml_answer | flink | influx_answer) dict=$here/json.dict ;; esac
    [ -f "$dict" ] && set -- -dict="$dict" "$@"
    # -timeout: one input may take 5 s; -malloc_limit_mb: one allocation of
    # 256 MiB from one input is a finding (a Kafka message is at most 1 MiB)
    "$bin" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -malloc_limit_mb=256 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="$build/artifacts/$t/" "$@" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ $rc -eq 0 ]; then
        result=ok
    else
        result="FAILED (exit $rc): $(ls -t "$build/artifacts/$t" 2>/dev/null | head -1 | sed "s|^|$build/artifacts/$t/|")"
        failed="$failed $t"
    fi
    printf '%-14s %10s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$result"
    if [ $rc -ne 0 ]; then
        # the report, the values it printed and its stack top, without
        # libFuzzer's progress lines and its own and libc's frames
        grep -E -B6 -A14 'FUZZ INVARIANT BROKEN|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log" |
            grep -v -E '^#[0-9]|^INFO:|^MS:|^base unit|^0x|fuzzer::|libc\.so|__sanitizer_print_stack_trace|pthread_kill|raise\.c|abort\.c|^--$|^$' |
            head -20 | sed 's/^/    /'
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz: findings in:$failed (logs in $build/logs/, reproducers in $build/artifacts/;" \
        "replay one with $build/fuzz_TARGET -timeout=5 -malloc_limit_mb=256 FILE)" >&2
    exit 1
fi

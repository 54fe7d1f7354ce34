# SPDX-License-Identifier: BSD-2-Clause
# bench/lib.sh -- what the benchmarks share: the test suite's sandbox (sourced
# from tests/lib), a real influxd, the reference arrival rate, and what the
# mock cluster holds. Sourced by bench/*.sh after `cd` to the repository.
set -euo pipefail
source tests/lib/sandbox.sh
source tests/lib/spillway.sh
sandbox_init
start_influxd

# The primary's headline rate: 1,000,000 messages per 5 minutes.
REFERENCE_RATE=3333

# mock_holds [COMMITTED]: messages from COMMITTED ("P:OFF ..." as `committed`
# prints it; none: the start) to the high watermarks, summed over the
# partitions; -1 when the mock dropped any of them (it keeps ~5 MiB a
# partition and drops older messages silently: a low watermark above the
# committed offset).
mock_holds() {
    "$PY" - "${1:-}" "$("$PY" "$HELPERS/kafkatool.py" watermarks --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC")" <<'PY'
import sys
c = {int(p): int(o) for p, o in (x.split(":") for x in sys.argv[1].split())}
s = 0
for x in sys.argv[2].split():
    p, lo, hi = map(int, x.split(":"))
    start = max(c.get(p, 0), 0)
    if lo > start:
        print(-1)
        sys.exit()
    s += hi - start
print(s)
PY
}

# commit_group_start NPARTS: the fallback group committed at offset 0 of every
# partition (a group that is behind by everything the topic holds).
commit_group_start() {
    "$PY" "$HELPERS/kafkatool.py" commit --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" \
        --group dask-fallback-consumer --offsets "$(seq 0 $(( $1 - 1 )) | sed 's/$/:0/' | paste -sd,)" >/dev/null
}

# shipped_config FILE: a runner config for the sandbox with the shipped [drain]
# values (write_config's batch and window tunings removed; its
# fetch.wait.max.ms = 10 for the mock stays, see tests/lib/sandbox.sh).
shipped_config() {
    write_config "$1"
    sed -i '/^batch_size\|^batch_timeout_seconds\|^window_seconds/d' "$1"
}

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A share of the deterministic simulation of the exactness rules (tests/sim/sim.c; make sim runs a million
# schedules): runners on one to three hosts, killed, frozen and losing power, rebalances, InfluxDB refusing,
# failing and applying late, the ML service refusing and failing, the primary moving ahead. Every schedule must
# keep the promise: each message once in the points or the quarantine every host shows.
source "$(dirname "$0")/../lib/sandbox.sh"
SIM=${SPILLWAY_SIM:-$REPO/build/sim}
[[ -x $SIM ]] || _fail "the simulation $SIM is not built (make build/sim)"
out=$("$SIM" --schedules "${SIM_SCHEDULES:-20000}" --jobs 2 | tail -n 1)
ok "$out" grep -qE '^sim: [0-9]+ schedules, [0-9]+ steps, 0 violations$' <<<"$out"
n=$(sed -E 's/^sim: ([0-9]+) schedules.*/\1/' <<<"$out")
is "$n" "${SIM_SCHEDULES:-20000}" "every schedule ran"
# the same seed is the same schedule: a violation can be replayed
a=$("$SIM" --seed 4242 --trace | md5sum) b=$("$SIM" --seed 4242 --trace | md5sum)
is "$a" "$b" "a seed replays the same schedule, step for step"
# the simulation can fail: tests/sim/mutants.sh puts each exactness fix back and runs it until caught (too
# long for the suite); here only that every mutant still applies to today's sources, so the list cannot rot
ok "every mutant of tests/sim/mutants.sh still applies" "$REPO/tests/sim/mutants.sh" --check
done_testing

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# mutants.sh -- the simulation must be able to fail: each exactness fix of the audit at 88b5c86 is put back on
# purpose in a copy of the sources, the simulation built from that copy, and run until its first violation.
# Prints, per mutant, after how many schedules it was caught; exits 1 if one is not caught in SCHEDULES.
# Usage: tests/sim/mutants.sh [SCHEDULES (default 200000)]
#        tests/sim/mutants.sh --check: only that every mutant still applies (its text is in the sources once), so that
#        the list does not rot as the sources change (tests/t/15-sim.t)
#        MUTANTS=PATTERN tests/sim/mutants.sh ...: only the mutants whose name matches the grep -E PATTERN
set -euo pipefail
cd "$(dirname "$0")/../.."
check_only=0
if [[ ${1:-} == --check ]]; then check_only=1; shift; fi
schedules=${1:-200000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cflags= libs=
if [[ $check_only == 0 ]]; then
    make -s build/obj/util.o >/dev/null
    cflags=$(make -s -f - print <<'MK'
include Makefile
print: ; @echo $(ALL_CFLAGS)
MK
)
    libs=$(pkg-config --libs rdkafka avro-c libcurl inih sqlite3 jansson)
fi
missed=0 count=0

# mutant NAME FILE FROM TO [SCHEDULES]: FILE (under the repository) with the text FROM replaced by
# TO, run for SCHEDULES (a rare interleaving needs more than the default)
mutant() {
    local name=$1 file=$2 dir out n=${5:-$schedules}
    if [[ -n ${MUTANTS:-} ]] && ! grep -qE -- "$MUTANTS" <<<"$name"; then return; fi
    dir=$work/m$(( ++count ))
    mkdir -p "$dir"
    cp -r src tests "$dir/"
    /usr/bin/python3 - "$dir/$file" "$3" "$4" <<'PY'
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
if text.count(old) != 1:
    sys.exit("mutants.sh: the text to undo is not (once) in %s: %r" % (path, old))
open(path, "w").write(text.replace(old, new))
PY
    if [[ $check_only == 1 ]]; then
        printf '%-58s applies\n' "$name"
        return
    fi
    # shellcheck disable=SC2086 # flags are words
    cc $cflags -Wno-error -Wno-unused-parameter -I"$dir/src" -o "$dir/sim" "$dir/tests/sim/sim.c" $(ls "$dir"/src/*.c | grep -v '/main\.c$') $libs -lm
    out=$("$dir/sim" --schedules "$n" --max-violations 1 | tail -n 1) || true
    if [[ $out =~ ^sim:\ ([0-9]+)\ schedules.*\ 1\ violations ]]; then
        printf '%-58s caught after %s schedules\n' "$name" "${BASH_REMATCH[1]}"
    else
        printf '%-58s NOT caught: %s\n' "$name" "$out"
        missed=$((missed + 1))
    fi
}

mutant "#1 a full table quarantines the message" tests/sim/sim.c \
    "        r->batch_msgs--;
        ledger_give_back(kp, o);
        r->full = 1;
        ledger_close_unowed(r->parts, W.np);" \
    "        store_put(r, 0, p, o, 1ULL << o, 0);"
mutant "#2 a batch that wrote nothing binds the next run" src/ledger.c \
    "int wrote = own->committed >= 0 && mark_wrote(&own->mark);" \
    "int wrote = own->committed >= 0 && own->mark.kind == MARK_WRITING && own->mark.end >= 0 ? 1 : own->committed >= 0 && own->mark.kind == MARK_WRITING; if (wrote && own->mark.end < 0) { struct mark fake = own->mark; fake.end = own->high; ((struct ledger_offsets *)own)->mark = fake; }"
mutant "#2 a retry reads on past its end into the primary's work" src/ledger.c \
    "    if (primary >= end)
        s.stop_at = end;" \
    ""
mutant "#3 no count-0 point over a stale one" src/ledger.c \
    "return kp->retry && first_offset < kp->must_reach;" "return 0 && kp->retry && first_offset < kp->must_reach;"
mutant "#4 a retry writes at once (no settle time)" src/ledger.c \
    "return kp->state == LEDGER_OWNED && !rebalancing && now_ms >= kp->write_after_ms;" \
    "return kp->state == LEDGER_OWNED && !rebalancing;"
mutant "#4 no fence: a lost partition is written" src/ledger.c \
    "return kp->state == LEDGER_OWNED && !rebalancing && now_ms >= kp->write_after_ms;" "return 1;"
mutant "#4 a chunk built before a partition was lost is sent" tests/sim/sim.c \
    " ||
            ((struct post_arg *)arg)->agg->entries[ch->at[i].entry].state == AGG_DROPPED) /* lost since the chunk was built */" ")" \
    $(( schedules * 20 ))
mutant "#6 a run's quarantine rows are final at once" src/ledger.c \
    "        return LEDGER_ROW_DROP; /* its run never sent the commit */" "        return LEDGER_ROW_FINAL;"
mutant "#6 unsettled rows are never dropped" src/ledger.c \
    "        return LEDGER_ROW_DROP; /* the batch is still unfinished: its commit did not land */" \
    "        return LEDGER_ROW_FINAL;"
mutant "#8 a partition handed back is resumed unchecked" src/ledger.c \
    "if (kp->state != LEDGER_SUSPENDED || !same_member || !ledger_unchanged(kp, committed))" \
    "if (kp->state != LEDGER_SUSPENDED || !same_member)"
mutant "#9 the ML service refusing everything is believed" src/sink.c \
    "    if (n_items < 2 || n_refused != n_items)
        return 0;" "    return 0;"
mutant "#10 the quarantine is not durable before the commit" tests/sim/sim.c \
    "        if (w->used) {
            w->durable = 1;" "        if (0) {"
mutant "#18 the preserve level's points leave no pend in the mark" src/ledger.c \
    "    if (kp->unpredicted_ms == MARK_NO_TIME || window_ms < kp->unpredicted_ms)
        kp->unpredicted_ms = window_ms;" "    (void)kp, (void)window_ms;"
mutant "#18 a backfill moves pend for a partition handed back meanwhile" tests/sim/sim.c \
    "            if ((want >> p & 1) && r->bf_after[p] != BACKFILL_UNWANTED &&
                r->parts[p].incarnation == r->bf_incarnation[p])" \
    "            if ((want >> p & 1) && r->bf_after[p] != BACKFILL_UNWANTED)"
mutant "#18 a partial backfill moves pend past what it did not take" src/backfill.c \
    "    if (at > upto)
        return MARK_NO_TIME;" "    return MARK_NO_TIME;"
mutant "#18 the backfill looks no further than the batch's own events" src/ledger.c \
    "int64_t upto = kp->latest_ms != MARK_NO_TIME && kp->latest_ms > kp->mark.hw ? kp->latest_ms : kp->mark.hw;" \
    "int64_t upto = kp->latest_ms;"
mutant "#18 a point the preserve level rewrites loses its count" src/sink.c \
    "    if (kind != SINK_POINT_PREDICTION && lp_field_int(&p, \"count\", tombstone ? 0 : e->count) != 0)" \
    "    if (kind != SINK_POINT_PREDICTION && kind != SINK_POINT_UNPREDICTED &&
        lp_field_int(&p, \"count\", tombstone ? 0 : e->count) != 0)"
mutant "commit guard: a retry short of its end is committed done" src/ledger.c \
    "if (kp->state != LEDGER_OWNED || kp->done_at == pos || kp->must_reach > pos)" \
    "if (kp->state != LEDGER_OWNED || kp->done_at == pos)"
exit $(( missed > 0 ))

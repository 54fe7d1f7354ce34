/* SPDX-License-Identifier: BSD-2-Clause */
/* test_ledger.c -- the exactness rules as tables: starts and what a retry owes, taking and giving back, handing back, marks, fences, and the fate of unsettled quarantine rows. */
#include <string.h>

#include "ledger.h"
#include "tap.h"

static struct mark parse(const char *s)
{
    struct mark m;
    mark_parse(s, strlen(s), &m);
    return m;
}

static struct ledger_offsets offs(int64_t committed, const char *mark, int64_t low, int64_t high)
{
    struct ledger_offsets o = { .committed = committed, .low = low, .high = high };
    mark_parse(mark, strlen(mark), &o.mark);
    return o;
}

static void test_starts(void)
{
    static const struct {
        const char *name;
        enum start_from from;
        int64_t own;
        const char *mark;
        int64_t primary, low, high;
        /* expected */
        int64_t offset;
        enum start_reason reason;
        int64_t seq, must_reach, stop_at, redone;
        int retry;
    } rows[] = {
        { "first activation at the primary's offset", START_PRIMARY, -1, "", 40, 0, 100,
          40, START_FIRST_PRIMARY, 1, -1, -1, 0, 0 },
        { "a finished batch, the primary behind: on from ours", START_PRIMARY, 100, "spillway:done seq=4", 50, 0, 300,
          100, START_OWN, 5, -1, -1, 0, 0 },
        { "a finished batch, the primary ahead: skip to it", START_PRIMARY, 100, "spillway:done seq=4", 200, 0, 300,
          200, START_SKIP_TO_PRIMARY, 5, -1, -1, 0, 0 },
        /* audit #2a: a run that wrote nothing owes nothing */
        { "begun, nothing written, primary ahead: skip, same number", START_PRIMARY, 100, "spillway:writing seq=5",
          200, 0, 300, 200, START_SKIP_TO_PRIMARY, 5, -1, -1, 0, 0 },
        { "it wrote, the primary behind its start", START_PRIMARY, 100, "spillway:writing seq=5 end=150", 0, 0, 300,
          100, START_OWN, 5, 150, -1, 0, 1 },
        { "it wrote, the primary inside its range: read on past it", START_PRIMARY, 100,
          "spillway:writing seq=5 end=150", 120, 0, 300, 100, START_DIRTY_RETRY, 5, 150, -1, 20, 1 },
        /* audit #2b: stop at E, the primary processed the rest */
        { "it wrote, the primary past its end: stop at the end", START_PRIMARY, 100, "spillway:writing seq=5 end=150",
          200, 0, 300, 100, START_DIRTY_RETRY, 5, 150, 150, 50, 1 },
        { "the primary exactly at its end", START_PRIMARY, 100, "spillway:writing seq=5 end=150", 150, 0, 300,
          100, START_DIRTY_RETRY, 5, 150, 150, 50, 1 },
        /* audit #7: retention clamps the start, the retry still owes E */
        { "retention deleted its head: from low, still up to E", START_PRIMARY, 1000,
          "spillway:writing seq=7 end=1500", 0, 1200, 2000, 1200, START_BELOW_LOW, 7, 1500, -1, 0, 1 },
        { "retention deleted all it read: left as is, a new number", START_PRIMARY, 1000,
          "spillway:writing seq=7 end=1500 fin=0000000a", 0, 1600, 2000, 1600, START_BELOW_LOW, 8, -1, -1, 0, 0 },
        { "retention deleted all it read, the primary ahead: on from the primary", START_PRIMARY, 1000,
          "spillway:writing seq=7 end=1500", 1800, 1600, 2000, 1800, START_SKIP_TO_PRIMARY, 8, -1, -1, 0, 0 },
        { "the log truncated below E: must reach the end", START_PRIMARY, 100, "spillway:writing seq=5 end=150", 0,
          0, 130, 100, START_OWN, 5, 130, -1, 0, 1 },
        { "earliest, first activation", START_EARLIEST, -1, "", 40, 10, 100, 10, START_FIRST_EARLIEST, 1, -1, -1, 0, 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct ledger_offsets own = offs(rows[i].own, rows[i].mark, rows[i].low, rows[i].high);
        struct ledger_start s = ledger_decide_start(rows[i].from, &own, rows[i].primary);
        int good = s.d.offset == rows[i].offset && s.d.reason == rows[i].reason && s.mark.seq == rows[i].seq &&
                   s.mark.kind == MARK_WRITING && s.must_reach == rows[i].must_reach && s.stop_at == rows[i].stop_at &&
                   s.redone == rows[i].redone && s.retry == rows[i].retry;
        ok(good, "%s", rows[i].name);
        if (!good)
            printf("#   got offset %lld reason %d seq %lld must_reach %lld stop_at %lld redone %lld retry %d\n",
                   (long long)s.d.offset, s.d.reason, (long long)s.mark.seq, (long long)s.must_reach,
                   (long long)s.stop_at, (long long)s.redone, s.retry);
    }
    struct ledger_offsets gone = offs(1000, "spillway:writing seq=7 end=1500 fin=0000000a", 1600, 2000);
    struct ledger_start s = ledger_decide_start(START_PRIMARY, &gone, 0);
    ok(mark_last_finished(&s.mark) == 7 && mark_finisher(&s.mark, 7) == 0 && mark_finisher(&s.mark, 6) == 0xa,
       "an abandoned batch is recorded with no finisher");
}

/* A partition begun from own, its start committed. */
static struct ledger_part started(const char *mark, int64_t own, int64_t primary, int64_t high)
{
    struct ledger_part kp;
    struct ledger_offsets o = offs(own, mark, 0, high);
    struct ledger_start s = ledger_decide_start(START_PRIMARY, &o, primary);

    ledger_part_begin(&kp, &s, &o, 1, 1000, 10000);
    ledger_committed(&kp, s.d.offset, &s.mark, 0);
    return kp;
}

static void test_reading(void)
{
    struct ledger_part kp = started("spillway:writing seq=5 end=103", 100, 200, 300);

    is_int(kp.state, LEDGER_OWNED, "a committed start is owned");
    ok(ledger_owes(&kp) && !ledger_part_finished(&kp), "a retry owes its unfinished batch's range");
    ok(!ledger_take(&kp, 99), "nothing before the start");
    ok(ledger_take(&kp, 100) && ledger_take(&kp, 101) && !ledger_take(&kp, 101), "taken once each");
    ok(ledger_take(&kp, 102), "up to the end");
    ok(!ledger_owes(&kp), "at the end it owes nothing");
    ok(!ledger_take(&kp, 103) && kp.closed, "the primary processed the rest: stops at the end");
    ok(ledger_part_finished(&kp), "and is finished");
    is_int(ledger_position(&kp), 103, "its position is the end");
    is_int(kp.handed, 3, "three messages taken");

    struct ledger_part g = started("spillway:done seq=1", 10, 0, 100);
    ledger_take(&g, 10), ledger_take(&g, 11), ledger_take(&g, 12);
    ledger_give_back(&g, 12);
    ok(g.closed && ledger_position(&g) == 12 && g.handed == 2, "a message given back: the batch stops before it");
    ok(!ledger_take(&g, 13), "and takes no more of that partition");
    struct ledger_part h = started("spillway:done seq=1", 10, 0, 100);
    ledger_take(&h, 10);
    ledger_give_back(&h, 10);
    ok(h.first == -1 && h.last == -1 && h.handed == 0 && ledger_position(&h) == 10, "giving back the first: nothing read");

    struct ledger_part pair[2] = { started("spillway:writing seq=2 end=50", 40, 0, 100),
                                   started("spillway:done seq=1", 10, 0, 100) };
    ledger_close_unowed(pair, 2);
    ok(!pair[0].closed && pair[1].closed, "a full table closes what owes nothing; a retry reads on to its end");

    struct ledger_part u;
    struct ledger_offsets o = offs(5, "spillway:done seq=1", 0, 9);
    struct ledger_start s = ledger_decide_start(START_PRIMARY, &o, 0);
    ledger_part_begin(&u, &s, &o, 1, 0, 0);
    ok(u.state == LEDGER_UNMARKED && !ledger_take(&u, 5) && !ledger_part_finished(&u),
       "before its start is committed: nothing taken, not finished");
}

static void test_handing_back(void)
{
    struct ledger_part kp = started("spillway:done seq=3", 10, 0, 100);
    struct ledger_offsets same = offs(10, "spillway:writing seq=4", 0, 100);
    struct ledger_offsets other = offs(10, "spillway:writing seq=4 end=20", 0, 100);
    struct ledger_offsets moved = offs(12, "spillway:writing seq=4", 0, 100);

    ok(ledger_unchanged(&kp, &same) && !ledger_unchanged(&kp, &other) && !ledger_unchanged(&kp, &moved),
       "unchanged means the same offset and the same mark");
    ok(ledger_revoke(&kp, 0) == 0 && kp.state == LEDGER_SUSPENDED, "revoked: suspended");
    ok(ledger_resume(&kp, 1, &same) && kp.state == LEDGER_OWNED, "handed straight back, unchanged: owned");
    ledger_revoke(&kp, 0);
    ok(!ledger_resume(&kp, 1, &other), "audit #8: another member committed an end in between: not ours");
    struct ledger_part k2 = started("spillway:done seq=3", 10, 0, 100);
    ledger_revoke(&k2, 0);
    ok(!ledger_resume(&k2, 0, &same), "another member id: not ours");
    struct ledger_part k3 = started("spillway:done seq=3", 10, 0, 100);
    ok(ledger_revoke(&k3, 1) == 1, "a lost assignment: the caller loses it at once");
    ledger_lose(&k3);
    ok(!ledger_take(&k3, 10), "a lost partition hands out nothing more");
    struct ledger_part k4 = started("spillway:done seq=3", 10, 0, 100);
    ledger_take(&k4, 10), ledger_take(&k4, 11);
    is_int(ledger_lose(&k4), 2, "losing returns what was taken");
    ok(k4.state == LEDGER_LOST && ledger_position(&k4) == 10, "and forgets it");
}

static void test_marks(void)
{
    struct ledger_part kp = started("spillway:done seq=3 fin=0000000b", 100, 0, 300);
    int64_t off;
    struct mark m;

    ok(!ledger_end_mark(&kp, &off, &m), "nothing read: no end due");
    for (int64_t o = 100; o < 110; o++)
        ledger_take(&kp, o);
    ok(ledger_end_mark(&kp, &off, &m) && off == 100 && m.kind == MARK_WRITING && m.end == 110 && m.seq == 4,
       "the end mark: at the start, end = position");
    ledger_committed(&kp, off, &m, 0);
    ok(!ledger_end_mark(&kp, &off, &m), "committed: not due again");
    ok(ledger_done_mark(&kp, 0xc, &off, &m) && off == 110 && m.kind == MARK_DONE && m.seq == 4 &&
           mark_finisher(&m, 4) == 0xc && mark_finisher(&m, 3) == 0xb,
       "the done mark: at the position, with the run's token first");
    ledger_committed(&kp, off, &m, 1);
    ok(!ledger_done_mark(&kp, 0xc, &off, &m), "committed as done: not again");

    struct ledger_part r = started("spillway:writing seq=5 end=150", 100, 0, 300);
    for (int64_t o = 100; o < 120; o++)
        ledger_take(&r, o);
    ok(!ledger_done_mark(&r, 1, &off, &m), "a retry short of the end it owes is never committed done");
    ok(!ledger_end_mark(&r, &off, &m), "nor is its end lowered");
    for (int64_t o = 120; o < 160; o++)
        ledger_take(&r, o);
    ok(ledger_end_mark(&r, &off, &m) && m.end == 160, "past it, the end rises");
    ok(ledger_done_mark(&r, 1, &off, &m) && off == 160, "and it may be done");
}

static void test_writing(void)
{
    struct ledger_part r = started("spillway:writing seq=5 end=150", 100, 0, 300);
    struct ledger_part n = started("spillway:done seq=5", 100, 0, 300);

    ok(!ledger_may_write(&r, 0, 1000 + 9999) && ledger_may_write(&r, 0, 1000 + 10000),
       "a retry writes once the settle time since its start has passed");
    ok(ledger_may_write(&n, 0, 1000), "a new batch writes at once");
    ok(!ledger_may_write(&n, 1, 1000), "never while the group rebalances");
    ledger_revoke(&n, 0);
    ok(!ledger_may_write(&n, 0, 1000), "never a partition not owned");
    ok(ledger_may_have_written(&r, 149) && !ledger_may_have_written(&r, 150),
       "a retry's aggregate first seen before the unfinished end may have a stale point");
    ok(!ledger_may_have_written(&n, 100), "a new batch's never");
}

static void test_reconcile(void)
{
    static const struct {
        const char *name;
        int committing;
        int64_t seq;
        const char *now;
        enum ledger_row_fate fate;
    } rows[] = {
        { "provisional: its run never sent the commit", 0, 4, "spillway:done seq=4 fin=0000000a", LEDGER_ROW_DROP },
        { "the batch still unfinished: the commit did not land", 1, 4, "spillway:writing seq=4 end=9 fin=00000001",
          LEDGER_ROW_DROP },
        { "done by this run", 1, 4, "spillway:done seq=4 fin=0000000a,00000001", LEDGER_ROW_FINAL },
        { "done by another run (a retry)", 1, 4, "spillway:done seq=4 fin=0000000b,00000001", LEDGER_ROW_DROP },
        { "the next batch under way, this run finished the one before", 1, 4,
          "spillway:writing seq=5 fin=0000000a,00000001", LEDGER_ROW_FINAL },
        { "three batches later, still in the list", 1, 4,
          "spillway:done seq=7 fin=00000007,00000006,00000005,0000000a", LEDGER_ROW_FINAL },
        { "three batches later, another run finished it", 1, 4,
          "spillway:done seq=7 fin=00000007,00000006,00000005,0000000b", LEDGER_ROW_DROP },
        { "abandoned to retention", 1, 4, "spillway:done seq=5 fin=00000005,00000000", LEDGER_ROW_DROP },
        { "too long ago for the list", 1, 4,
          "spillway:done seq=40 fin=00000001,00000002,00000003,00000004,00000005,00000006,00000007,00000008,00000009,"
          "0000000b,0000000c,0000000d,0000000e,0000000f,00000010,00000011",
          LEDGER_ROW_UNVERIFIED },
        { "offsets reset or expired", 1, 4, "", LEDGER_ROW_UNVERIFIED },
        { "a mark from before the batch (history rewound)", 1, 4, "spillway:done seq=2 fin=0000000a",
          LEDGER_ROW_UNVERIFIED },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct mark now = parse(rows[i].now);
        is_int(ledger_reconcile(rows[i].committing, rows[i].seq, 0xa, &now), rows[i].fate, "%s", rows[i].name);
    }
}

int main(void)
{
    test_starts();
    test_reading();
    test_handing_back();
    test_marks();
    test_writing();
    test_reconcile();
    return tap_done();
}

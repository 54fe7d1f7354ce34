/* SPDX-License-Identifier: BSD-2-Clause */
/* test_mark.c -- the runner's commit metadata: reading, writing, the batch sequence and its guard. */
#include <stdint.h>
#include <string.h>

#include "mark.h"
#include "tap.h"

static struct mark parse(const char *s)
{
    struct mark m;
    mark_parse(s, s ? strlen(s) : 0, &m);
    return m;
}

static const char *format(const struct mark *m)
{
    static char text[MARK_TEXT_MAX];
    size_t n = mark_format(m, text, sizeof text);
    text[n] = '\0';
    return text;
}

int main(void)
{
    struct mark m;

    /* what is not ours reads as a finished batch 0 */
    const char *foreign[] = { NULL, "", "hello", "spillway:writingX seq=5", "spillway:done-ish", "{\"seq\":3}" };
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        m = parse(foreign[i]);
        ok(m.kind == MARK_DONE && m.seq == 0 && m.end == -1 && m.hw == MARK_NO_TIME && m.hwb == MARK_NO_TIME,
           "\"%s\" is a finished batch 0 with nothing known", foreign[i] ? foreign[i] : "(none)");
    }
    /* ours, read back */
    m = parse("spillway:writing seq=12 end=3400 hw=1795266017000 hwb=-5");
    ok(m.kind == MARK_WRITING && m.seq == 12 && m.end == 3400 && m.hw == 1795266017000LL && m.hwb == -5,
       "a writing mark with every field");
    is_str(format(&m), "spillway:writing seq=12 end=3400 hw=1795266017000 hwb=-5", "written back the same");
    m = parse("spillway:writing");
    ok(m.kind == MARK_WRITING && m.seq == 0 && m.end == -1, "the bare writing mark of an earlier version");
    m = parse("spillway:done seq=7 hw=100");
    ok(m.kind == MARK_DONE && m.seq == 7 && m.hw == 100 && m.hwb == MARK_NO_TIME, "a done mark");
    is_str(format(&m), "spillway:done seq=7 hw=100", "written back without unknown fields");
    m = parse("spillway:done seq=-4 bogus end=x hw=12abc");
    ok(m.seq == 0 && m.hw == MARK_NO_TIME, "garbage values are ignored, a negative seq is 0");

    /* the next batch */
    struct mark done = parse("spillway:done seq=7 hw=100 hwb=50"), next = mark_next_batch(&done);
    ok(next.kind == MARK_WRITING && next.seq == 8 && next.end == -1 && next.hw == 100 && next.hwb == 50,
       "after batch 7 finished: batch 8, writing, no end yet");
    struct mark unfinished = parse("spillway:writing seq=8 end=900 hw=100 hwb=50"), again = mark_next_batch(&unfinished);
    ok(again.kind == MARK_WRITING && again.seq == 8 && again.end == 900, "after batch 8 did not finish: batch 8 again, its end kept");
    struct mark last = { .kind = MARK_DONE, .seq = MARK_SEQ_BLOCK - 1, .end = -1, .hw = 4000, .hwb = 10 };
    struct mark first_of_block = mark_next_batch(&last);
    ok(first_of_block.seq == MARK_SEQ_BLOCK && first_of_block.hwb == 4000,
       "entering a new block records the latest event time so far as its horizon");
    struct mark second = mark_finished(&first_of_block, 5000, 0xabc, MARK_NO_TIME), after = mark_next_batch(&second);
    ok(after.seq == MARK_SEQ_BLOCK + 1 && after.hwb == 4000 && after.hw == 5000, "inside the block the horizon stays");

    /* a finished batch raises hw, never lowers it */
    struct mark w = parse("spillway:writing seq=3 end=10 hw=100");
    struct mark f = mark_finished(&w, 250, 0x1234abcd, MARK_NO_TIME);
    ok(f.kind == MARK_DONE && f.seq == 3 && f.end == -1 && f.hw == 250, "finished: done, same batch, hw raised");
    ok(mark_finished(&w, 50, 1, MARK_NO_TIME).hw == 100 && mark_finished(&w, MARK_NO_TIME, 1, MARK_NO_TIME).hw == 100,
       "an older or no event time keeps hw");
    ok(mark_finished(&(struct mark){ .kind = MARK_WRITING, .seq = 1, .end = -1, .hw = MARK_NO_TIME, .hwb = MARK_NO_TIME },
                     7, 1, MARK_NO_TIME).hw == 7,
       "the first hw");

    /* the collision guard */
    ok(mark_collision_horizon(&next) == MARK_NO_TIME, "in the first block nothing can collide");
    ok(mark_collision_horizon(&first_of_block) == 4000, "in the second, windows up to the block's horizon can");
    ok(mark_collision_horizon(&(struct mark){ .kind = MARK_WRITING, .seq = 3 * MARK_SEQ_BLOCK + 2, .end = -1, .hw = 9,
                                              .hwb = MARK_NO_TIME }) == MARK_NO_TIME,
       "a later block whose horizon is unknown: no earlier batch read a message");
    char big[MARK_TEXT_MAX];
    struct mark extreme = { .kind = MARK_WRITING, .seq = MARK_SEQ_MAX, .end = MARK_OFFSET_MAX, .hw = -MARK_TIME_ABS_MAX,
                            .hwb = MARK_TIME_ABS_MAX, .pend = -MARK_TIME_ABS_MAX, .nfin = MARK_FIN_MAX };
    for (int i = 0; i < MARK_FIN_MAX; i++)
        extreme.fin[i] = 0xffffffffu - (uint32_t)i;
    size_t n = mark_format(&extreme, big, sizeof big);
    ok(n < sizeof big, "the longest mark (%zu bytes) fits MARK_TEXT_MAX", n);
    struct mark back;
    mark_parse(big, n, &back);
    ok(back.seq == MARK_SEQ_MAX && back.end == MARK_OFFSET_MAX && back.nfin == MARK_FIN_MAX &&
           back.pend == -MARK_TIME_ABS_MAX &&
           back.fin[MARK_FIN_MAX - 1] == 0xffffffffu - (MARK_FIN_MAX - 1),
       "and reads back whole");

    /* fields out of range make the mark foreign: found by fuzzing, seq + 1
     * of the largest int64 overflowed and the point landed before its window */
    const char *beyond[] = { "spillway:done seq=9223372036854775807", "spillway:done seq=1125899906842625",
                             "spillway:writing seq=3 end=-5", "spillway:writing seq=3 end=99999999999999999999",
                             "spillway:done seq=3 hw=9223372036854775806", "spillway:done seq=3 fin=12345678,xyz",
                             "spillway:done seq=3 fin=123" };
    for (size_t i = 0; i < sizeof beyond / sizeof beyond[0]; i++) {
        m = parse(beyond[i]);
        ok(m.kind == MARK_DONE && m.seq == 0 && m.end == -1 && m.nfin == 0, "\"%s\" is foreign", beyond[i]);
    }
    m = parse("spillway:done seq=1125899906842624");
    struct mark next_of_max = mark_next_batch(&m);
    ok(m.seq == MARK_SEQ_MAX && next_of_max.seq == MARK_SEQ_MAX + 1, "the largest seq still has a next one");

    /* the oldest window awaiting its prediction: carried from batch to batch, set by the finisher */
    m = parse("spillway:done seq=3 pend=1795000000000");
    ok(m.pend == 1795000000000LL && mark_next_batch(&m).pend == 1795000000000LL, "pend is read and carried on");
    ok(mark_finished(&m, MARK_NO_TIME, 1, MARK_NO_TIME).pend == MARK_NO_TIME, "a finisher that backfilled all clears it");
    is_str(format(&(struct mark){ .kind = MARK_DONE, .seq = 4, .end = -1, .hw = MARK_NO_TIME, .hwb = MARK_NO_TIME,
                                  .pend = 60000 }),
           "spillway:done seq=4 pend=60000", "and written");
    ok(parse("spillway:done seq=3").pend == MARK_NO_TIME, "none by default");

    /* whether a batch wrote: only a writing mark with an end */
    ok(!mark_wrote(&(struct mark){ .kind = MARK_WRITING, .seq = 4, .end = -1 }), "writing without end: nothing written");
    ok(mark_wrote(&(struct mark){ .kind = MARK_WRITING, .seq = 4, .end = 0 }), "writing with an end: it wrote");
    ok(!mark_wrote(&(struct mark){ .kind = MARK_DONE, .seq = 4, .end = 7 }), "done: owes nothing");

    /* who finished which batch */
    m = parse("spillway:done seq=9 fin=0000000a,0000000b,00000000,0000000c");
    ok(m.nfin == 4 && mark_last_finished(&m) == 9, "a done mark: its own batch is the latest finished");
    ok(mark_finisher(&m, 9) == 0xa && mark_finisher(&m, 8) == 0xb && mark_finisher(&m, 7) == 0 &&
           mark_finisher(&m, 6) == 0xc && mark_finisher(&m, 5) == 0 && mark_finisher(&m, 10) == 0,
       "finishers by batch, newest first; 0 abandoned or unknown");
    struct mark nb = mark_next_batch(&m);
    ok(mark_last_finished(&nb) == 9 && mark_finisher(&nb, 9) == 0xa, "a writing mark: the one before is the latest");
    struct mark fb = mark_finished(&nb, MARK_NO_TIME, 0xd, MARK_NO_TIME);
    ok(fb.nfin == 5 && mark_finisher(&fb, 10) == 0xd && mark_finisher(&fb, 6) == 0xc, "finishing adds the token first");
    is_str(format(&fb), "spillway:done seq=10 fin=0000000d,0000000a,0000000b,00000000,0000000c", "written back");
    struct mark full = { .kind = MARK_WRITING, .seq = 40, .end = -1, .hw = MARK_NO_TIME, .hwb = MARK_NO_TIME,
                         .nfin = MARK_FIN_MAX };
    for (int i = 0; i < MARK_FIN_MAX; i++)
        full.fin[i] = (uint32_t)(100 + i);
    struct mark full2 = mark_finished(&full, MARK_NO_TIME, 99, MARK_NO_TIME);
    ok(full2.nfin == MARK_FIN_MAX && full2.fin[0] == 99 && full2.fin[MARK_FIN_MAX - 1] == 100 + MARK_FIN_MAX - 2,
       "the list keeps the newest MARK_FIN_MAX");
    return tap_done();
}

/* test_mark.c -- the runner's commit metadata: reading, writing, the batch sequence and its guard. */
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
    struct mark last = { MARK_DONE, MARK_SEQ_BLOCK - 1, -1, 4000, 10 }, first_of_block = mark_next_batch(&last);
    ok(first_of_block.seq == MARK_SEQ_BLOCK && first_of_block.hwb == 4000,
       "entering a new block records the latest event time so far as its horizon");
    struct mark second = mark_finished(&first_of_block, 5000), after = mark_next_batch(&second);
    ok(after.seq == MARK_SEQ_BLOCK + 1 && after.hwb == 4000 && after.hw == 5000, "inside the block the horizon stays");

    /* a finished batch raises hw, never lowers it */
    struct mark w = parse("spillway:writing seq=3 end=10 hw=100");
    struct mark f = mark_finished(&w, 250);
    ok(f.kind == MARK_DONE && f.seq == 3 && f.end == -1 && f.hw == 250, "finished: done, same batch, hw raised");
    ok(mark_finished(&w, 50).hw == 100 && mark_finished(&w, MARK_NO_TIME).hw == 100, "an older or no event time keeps hw");
    ok(mark_finished(&(struct mark){ MARK_WRITING, 1, -1, MARK_NO_TIME, MARK_NO_TIME }, 7).hw == 7, "the first hw");

    /* the collision guard */
    ok(mark_collision_horizon(&next) == MARK_NO_TIME, "in the first block nothing can collide");
    ok(mark_collision_horizon(&first_of_block) == 4000, "in the second, windows up to the block's horizon can");
    ok(mark_collision_horizon(&(struct mark){ MARK_WRITING, 3 * MARK_SEQ_BLOCK + 2, -1, 9, MARK_NO_TIME }) ==
           MARK_NO_TIME,
       "a later block whose horizon is unknown: no earlier batch read a message");
    char big[MARK_TEXT_MAX];
    struct mark extreme = { MARK_WRITING, INT64_MAX, INT64_MAX, INT64_MIN + 1, INT64_MAX };
    size_t n = mark_format(&extreme, big, sizeof big);
    ok(n < sizeof big, "the longest mark (%zu bytes) fits MARK_TEXT_MAX", n);
    return tap_done();
}

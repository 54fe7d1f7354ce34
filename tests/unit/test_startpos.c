/* SPDX-License-Identifier: BSD-2-Clause */
/* test_startpos.c -- where a partition starts: every rule of startpos_decide(), as a table. */
#include "startpos.h"
#include "tap.h"

#define NONE (-1)

int main(void)
{
    static const struct {
        const char *what;
        struct start_input in;
        int64_t offset;
        enum start_reason reason;
        int64_t skipped;
    } rows[] = {
        /* the group's own offset */
        { "own, primary behind", { START_PRIMARY, 500, 0, 300, 0, 1000 }, 500, START_OWN, 0 },
        { "own, primary equal", { START_PRIMARY, 500, 0, 500, 0, 1000 }, 500, START_OWN, 0 },
        { "own, primary none", { START_PRIMARY, 500, 0, NONE, 0, 1000 }, 500, START_OWN, 0 },
        { "own at the end", { START_PRIMARY, 1000, 0, 900, 0, 1000 }, 1000, START_OWN, 0 },
        /* a second episode: the primary processed more since */
        { "own behind the primary: skip", { START_PRIMARY, 500, 0, 800, 0, 1000 }, 800, START_SKIP_TO_PRIMARY, 300 },
        { "the skip ignores start_from", { START_EARLIEST, 500, 0, 800, 0, 1000 }, 800, START_SKIP_TO_PRIMARY, 300 },
        { "skip to the very end", { START_LATEST, 0, 0, 1000, 0, 1000 }, 1000, START_SKIP_TO_PRIMARY, 1000 },
        /* an unfinished run wrote from own: its retry starts there */
        { "writing, primary ahead: retry at own", { START_PRIMARY, 500, 1, 800, 0, 1000 }, 500, START_DIRTY_RETRY, 0 },
        { "writing, primary behind", { START_PRIMARY, 500, 1, 300, 0, 1000 }, 500, START_OWN, 0 },
        { "writing, primary none", { START_PRIMARY, 500, 1, NONE, 0, 1000 }, 500, START_OWN, 0 },
        /* first activation */
        { "first: primary", { START_PRIMARY, NONE, 0, 300, 0, 1000 }, 300, START_FIRST_PRIMARY, 0 },
        { "first: primary has none", { START_PRIMARY, NONE, 0, NONE, 100, 1000 }, 100, START_FIRST_NO_PRIMARY, 0 },
        { "first: earliest", { START_EARLIEST, NONE, 0, 300, 100, 1000 }, 100, START_FIRST_EARLIEST, 0 },
        { "first: latest", { START_LATEST, NONE, 0, 300, 100, 1000 }, 1000, START_FIRST_LATEST, 0 },
        { "first on an empty partition", { START_PRIMARY, NONE, 0, NONE, 0, 0 }, 0, START_FIRST_NO_PRIMARY, 0 },
        /* retention deleted what we would read next */
        { "own below low", { START_PRIMARY, 50, 0, NONE, 100, 1000 }, 100, START_BELOW_LOW, 50 },
        { "own and primary below low", { START_PRIMARY, 50, 0, 80, 100, 1000 }, 100, START_BELOW_LOW, 50 },
        { "writing, own below low", { START_PRIMARY, 50, 1, 900, 100, 1000 }, 100, START_BELOW_LOW, 50 },
        { "first: primary below low", { START_PRIMARY, NONE, 0, 40, 100, 1000 }, 100, START_BELOW_LOW, 60 },
        /* the log was truncated below what was committed */
        { "own above high", { START_PRIMARY, 1200, 0, NONE, 0, 1000 }, 1000, START_ABOVE_HIGH, 0 },
        { "primary above high", { START_PRIMARY, 500, 0, 1200, 0, 1000 }, 1000, START_ABOVE_HIGH, 500 },
    };

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct start_decision d = startpos_decide(&rows[i].in);
        is_int(d.offset, rows[i].offset, "%s: starts at %lld", rows[i].what, (long long)rows[i].offset);
        is_str(start_reason_text(d.reason), start_reason_text(rows[i].reason), "%s: because %s", rows[i].what,
               start_reason_text(rows[i].reason));
        is_int(d.skipped, rows[i].skipped, "%s: skips %lld", rows[i].what, (long long)rows[i].skipped);
        ok(d.offset >= rows[i].in.low && d.offset <= rows[i].in.high, "%s: inside the watermarks", rows[i].what);
    }
    ok(start_reason_warns(START_BELOW_LOW) && start_reason_warns(START_ABOVE_HIGH) &&
           start_reason_warns(START_FIRST_NO_PRIMARY) && !start_reason_warns(START_SKIP_TO_PRIMARY) &&
           !start_reason_warns(START_OWN),
       "lost data and surprises warn; a skip over the primary's work does not");
    return tap_done();
}

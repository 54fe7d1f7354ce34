/* SPDX-License-Identifier: BSD-2-Clause */
/* test_level.c -- the fallback level: when a run writes without predictions. */
#include "level.h"
#include "tap.h"

int main(void)
{
    const int64_t min = 60000;
    struct level_input in = { LEVEL_NORMAL, 1000 * min, 15 * min, LEVEL_NO_STREAK };

    ok(!level_preserve_due(&in) && level_at_start(&in) == LEVEL_NORMAL, "no failing streak: normal");
    in.failing_since_ms = 1000 * min - 14 * min;
    ok(!level_preserve_due(&in) && level_at_start(&in) == LEVEL_NORMAL, "failing for 14 of 15 minutes: normal");
    in.failing_since_ms = 1000 * min - 15 * min;
    ok(level_preserve_due(&in) && level_at_start(&in) == LEVEL_PRESERVE, "for 15: preserve");
    in.preserve_after_ms = 0;
    ok(!level_preserve_due(&in) && level_at_start(&in) == LEVEL_NORMAL, "preserve_after_seconds = 0: never");
    in.recorded = LEVEL_PRESERVE;
    ok(level_at_start(&in) == LEVEL_NORMAL, "set to 0 while preserving: back to normal");
    in.preserve_after_ms = 15 * min;
    in.failing_since_ms = LEVEL_NO_STREAK;
    ok(level_at_start(&in) == LEVEL_PRESERVE, "recorded preserve stays until the service answers (no streak needed)");
    enum level l;
    ok(level_parse("preserve", &l) == 0 && l == LEVEL_PRESERVE && level_parse("normal", &l) == 0 &&
           l == LEVEL_NORMAL && level_parse("x", &l) == -1,
       "names read back");
    is_str(level_name(LEVEL_PRESERVE), "preserve", "a name");
    return tap_done();
}

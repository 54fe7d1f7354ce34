/* SPDX-License-Identifier: BSD-2-Clause */
/* test_window.c -- event-time parsing, window assignment, point times. */
#include <stdlib.h>

#include "agg.h"
#include "tap.h"
#include "window.h"
#include "mark.h"

static int64_t parse(const char *s, int *rc)
{
    int64_t t = -1;
    *rc = window_parse_time(s, strlen(s), 0, &t);
    return t;
}

int main(void)
{
    int rc;
    int64_t t;

    t = parse("2026-11-21 10:00:00.250", &rc);
    is_int(rc, 0, "reference format parses");
    is_int(t, 1795255200250LL, "2026-11-21 10:00:00.250 UTC in epoch ms");
    is_int(parse("1970-01-01 00:00:00.000", &rc), 0, "the epoch");
    is_int(parse("2026-11-21T10:00:00", &rc), 1795255200000LL, "T separator, no fraction");
    is_int(parse("2026-11-21 10:00:00.5", &rc), 1795255200500LL, "one fraction digit is tenths");
    is_int(parse("2026-11-21 10:00:00.123999", &rc), 1795255200123LL, "microseconds truncate to ms");
    is_int(parse("2024-02-29 00:00:00.000", &rc), 1709164800000LL, "leap day in a leap year");
    is_int(parse("1969-12-31 23:59:59.999", &rc), -1, "just before the epoch");
    static const char *bad[] = {
        "2026-02-29 00:00:00.000", "2026-13-01 00:00:00", "2026-11-21 24:00:00", "2026-11-21 10:00:60",
        "2026-11-21 10:00:00.",    "2026-11-21 10:00:00Z", "2026/11/21 10:00:00", "21-11-2026 10:00:00",
        "",                        "2026-11-21",           "2026-11-21 10:00:00.25x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        parse(bad[i], &rc);
        is_int(rc, -1, "refused: \"%s\"", bad[i]);
    }

    is_int(window_start(0, 30000), 0, "0 opens window 0");
    is_int(window_start(29999, 30000), 0, "29.999 s is still in window 0");
    is_int(window_start(30000, 30000), 30000, "30.000 s opens the next window");
    is_int(window_start(30001, 30000), 30000, "30.001 s is in it");
    is_int(window_start(-1, 30000), -30000, "before 1970 floors, not truncates");
    is_int(window_start(-30000, 30000), -30000, "a negative boundary opens its window");
    is_int(window_start(1795255229999LL, 30000), 1795255200000LL, "real time, last ms of a window");
    is_int(window_start(1795255230000LL, 30000), 1795255230000LL, "real time, first ms of the next");

    is_int(window_point_time_ns(1795255200000LL, 0, 0), 1795255200000000000LL, "point time: no discriminator");
    is_int(window_point_time_ns(1795255200000LL, 1, 42), 1795255200000043009LL, "batch 42 of partition 1");
    is_int(window_point_time_ns(1795255200000LL, 1023, MARK_SEQ_BLOCK - 1), 1795255200000000000LL + 999999487LL,
           "the largest discriminator stays inside the window's first second");
    is_int(window_point_time_ns(1795255200000LL, 7, MARK_SEQ_BLOCK + 5), window_point_time_ns(1795255200000LL, 7, 5),
           "batch numbers a block apart share a discriminator (mark_collision_horizon() guards them)");
    t = window_point_time_ns(1795255200000LL, 1023, MARK_SEQ_BLOCK - 1);
    ok(window_point_start_ms(t) == 1795255200000LL && window_point_partition(t) == 1023,
       "a point time says back its window and partition, at the largest discriminator");
    t = window_point_time_ns(-60000LL, 5, 42);
    ok(window_point_start_ms(t) == -60000LL && window_point_partition(t) == 5, "and before 1970");
    is_int(window_point_partition(1795255200000001025LL), 1, "partition from the nanoseconds: 1025 mod 1024");
    is_int(window_point_partition(-999999999LL), 1, "before 1970: the nanoseconds within its second");
    ok(window_point_time_ns(1795255200000LL, 0, 10) != window_point_time_ns(1795255200000LL, 0, 11),
       "two batches of one window get two points");
    ok(window_point_time_ns(1795255200000LL, 0, 1000000) != window_point_time_ns(1795255200000LL, 0, 0) &&
           window_point_time_ns(1795255200000LL, 3, 1000000) != window_point_time_ns(1795255200000LL, 3, 2000000),
       "batches a million apart do not collide (the old offset discriminator did)");
    /* what InfluxDB can store: int64 ns from 1677-09-21 to 2262-04-11 */
    int64_t y2262, y1677, y9999, y0001;
    ok(window_parse_time("2262-04-11 23:47:15.000", 23, 0, &y2262) == 0 &&
           window_parse_time("1677-09-21 00:12:44.000", 23, 0, &y1677) == 0 &&
           window_parse_time("9999-12-31 23:59:59.999", 23, 0, &y9999) == 0 &&
           window_parse_time("0001-01-01 00:00:00.000", 23, 0, &y0001) == 0,
       "times at InfluxDB's bounds and far beyond parse");
    ok(window_storable(window_start(y2262, 30000)) && window_storable(window_start(y1677 + 30000, 30000)),
       "windows just inside InfluxDB's range are storable");
    ok(!window_storable(y9999) && !window_storable(y0001) && !window_storable(INT64_MAX / 1000000) &&
           !window_storable(INT64_MIN / 1000000),
       "year 9999, year 1 and the int64 extremes are not (their ns would overflow)");
    ok(!window_storable(window_start(y1677 - 60000, 30000)), "a window before 1677-09-21 is not");

    /* aggregation */
    struct agg a;
    double v[2];
    unsigned char present[2];
    agg_init(&a, 2);
    v[0] = 1.0; v[1] = 10.0; present[0] = 1; present[1] = 1;
    agg_add(&a, "n1", 2, 0, 0, 5, v, present, 0);
    v[0] = 3.0; present[1] = 0;
    agg_add(&a, "n1", 2, 0, 0, 6, v, present, 0);
    v[0] = 100.0; present[1] = 1;
    agg_add(&a, "n1", 2, 0, 1, 7, v, present, 0);
    agg_add(&a, "n2", 2, 0, 0, 8, v, present, 0);
    agg_add(&a, "n1", 2, 30000, 0, 9, v, present, 0);
    is_int(a.count, 4, "one aggregate per (id, window, partition)");
    int has;
    is_int((int64_t)(agg_mean(&a.entries[0], 0, &has) * 1000), 2000, "mean of 1 and 3 is 2");
    is_int((int64_t)agg_mean(&a.entries[0], 1, &has), 10, "a null is left out of its field's mean");
    is_int(a.entries[0].count, 2, "count counts messages, nulls included");
    is_int(a.entries[0].first_offset, 5, "the first offset is the first message's");
    is_int(a.entries[0].last_offset, 6, "the last offset the last's");
    present[0] = present[1] = 0;
    agg_add(&a, "n3", 2, 0, 0, 10, v, present, 0);
    agg_mean(&a.entries[4], 0, &has);
    is_int(has, 0, "a field with no value has no mean");

    char id[32];
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(id, sizeof id, "nurse-%d", i % 5000);
        v[0] = i;
        present[0] = 1;
        agg_add(&a, id, (size_t)n, (i / 5000) * 30000LL, 3, i, v, present, 0);
    }
    is_int(a.count, 5 + 20000, "20000 distinct keys survive rehashing");
    int64_t total = 0;
    for (size_t i = 0; i < a.count; i++)
        total += a.entries[i].count;
    is_int(total, 6 + 20000, "every message is in exactly one aggregate");
    agg_free(&a);
    return tap_done();
}

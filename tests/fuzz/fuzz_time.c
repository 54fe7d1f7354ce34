/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_time.c -- event-time parsing and window arithmetic (src/window.h)
 * against independent oracles.
 *
 * Input: the event time as it comes in a message's time field. Checked:
 *   - window_parse_time() accepts exactly the calendar-valid
 *     "YYYY-MM-DD[ T]HH:MM:SS[.digits]" (an oracle written here);
 *   - local = 0 gives glibc's timegm() of the fields, plus the first three
 *     fraction digits in ms;
 *   - local = 1 (TZ is CET/CEST, set below) gives glibc's mktime() of the
 *     same wall-clock time, plus the same ms;
 *   - for widths of 1, 7, 30 s, a day and one derived from the input:
 *     window_start(t, w) <= t < window_start(t, w) + w, on a multiple of w;
 *   - when window_storable(), window_point_time_ns() lands inside the
 *     window's first second and inside InfluxDB's int64 range, for the
 *     extreme partitions and sequence numbers. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "window.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    /* a zone with DST that needs no tzdata files */
    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    tzset();
    return 0;
}

static int digits(const char *s, size_t len, size_t at, int n, int *out)
{
    int v = 0;

    if (at + (size_t)n > len)
        return 0;
    for (int i = 0; i < n; i++) {
        if (s[at + i] < '0' || s[at + i] > '9')
            return 0;
        v = v * 10 + (s[at + i] - '0');
    }
    *out = v;
    return 1;
}

struct civil {
    int y, mo, d, h, mi, s, ms;
};

/* The documented grammar, independently: "YYYY-MM-DD HH:MM:SS" or with a
 * 'T', then optionally '.' and at least one digit; a real calendar date. */
static int oracle_parse(const char *s, size_t len, struct civil *c)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    if (len < 19 || !digits(s, len, 0, 4, &c->y) || s[4] != '-' || !digits(s, len, 5, 2, &c->mo) || s[7] != '-' ||
        !digits(s, len, 8, 2, &c->d) || (s[10] != ' ' && s[10] != 'T') || !digits(s, len, 11, 2, &c->h) ||
        s[13] != ':' || !digits(s, len, 14, 2, &c->mi) || s[16] != ':' || !digits(s, len, 17, 2, &c->s))
        return 0;
    c->ms = 0;
    if (len > 19) {
        if (s[19] != '.' || len == 20)
            return 0;
        for (size_t i = 20; i < len; i++) {
            if (s[i] < '0' || s[i] > '9')
                return 0;
            if (i < 23)
                c->ms = c->ms * 10 + (s[i] - '0');
        }
        for (size_t i = len; i < 23; i++)
            c->ms *= 10;
    }
    int leap = (c->y % 4 == 0 && c->y % 100 != 0) || c->y % 400 == 0;
    return c->mo >= 1 && c->mo <= 12 && c->d >= 1 && c->d <= mdays[c->mo - 1] + (c->mo == 2 && leap) && c->h <= 23 &&
           c->mi <= 59 && c->s <= 59;
}

static struct tm civil_tm(const struct civil *c)
{
    return (struct tm){ .tm_year = c->y - 1900, .tm_mon = c->mo - 1, .tm_mday = c->d, .tm_hour = c->h,
                        .tm_min = c->mi, .tm_sec = c->s, .tm_isdst = -1 };
}

static void check_window(int64_t t, int64_t w)
{
    int64_t ws = window_start(t, w);

    fuzz_check(ws <= t && t - ws < w && ws % w == 0,
               "window_start(%lld, %lld) = %lld: not the window holding t", (long long)t, (long long)w, (long long)ws);
    if (!window_storable(ws))
        return;
    static const int32_t parts[] = { 0, 1, WINDOW_MAX_PARTITIONS - 1 };
    static const int64_t seqs[] = { 0, 1, 976561, 976562, INT64_MAX };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        for (size_t j = 0; j < sizeof seqs / sizeof seqs[0]; j++) {
            int64_t ns = window_point_time_ns(ws, parts[i], seqs[j]);
            __int128 lo = (__int128)ws * 1000000;
            fuzz_check(ns >= lo && ns < lo + 1000000000 && ns >= INT64_MIN + 2 && ns <= INT64_MAX - 1,
                       "window_point_time_ns(%lld, %d, %lld) = %lld: outside the window's first second or"
                       " InfluxDB's range",
                       (long long)ws, parts[i], (long long)seqs[j], (long long)ns);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct civil c;
    int64_t utc, local;
    int ok = oracle_parse(s, size, &c);
    int rc_utc = window_parse_time(s, size, 0, &utc);
    int rc_local = window_parse_time(s, size, 1, &local);

    if ((rc_utc == 0) != ok || (rc_local == 0) != ok) {
        fuzz_print_bytes("time", s, size);
        fuzz_fail("window_parse_time() %s (local %s) what the grammar %s", rc_utc == 0 ? "accepts" : "refuses",
                  rc_local == 0 ? "accepts" : "refuses", ok ? "accepts" : "refuses");
    }
    if (!ok)
        return 0;

    struct tm tm = civil_tm(&c);
    int64_t want_utc = (int64_t)timegm(&tm) * 1000 + c.ms;
    if (utc != want_utc) {
        fuzz_print_bytes("time", s, size);
        fuzz_fail("UTC: window_parse_time() = %lld ms, timegm() says %lld", (long long)utc, (long long)want_utc);
    }
    tm = civil_tm(&c);
    tm.tm_wday = -1; /* mktime() sets it on success: -1 from mktime() is then a real time */
    time_t lt = mktime(&tm);
    if (tm.tm_wday != -1 && local != (int64_t)lt * 1000 + c.ms) {
        fuzz_print_bytes("time", s, size);
        fuzz_fail("local (CET/CEST): window_parse_time() = %lld ms, mktime() says %lld (UTC reading %lld)",
                  (long long)local, (long long)lt * 1000 + c.ms, (long long)utc);
    }

    static const int64_t widths[] = { 1000, 7000, 30000, 86400000 };
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
        check_window(utc, widths[i]);
        check_window(local, widths[i]);
    }
    check_window(utc, (int64_t)(h % 86400 + 1) * 1000); /* [drain] window_seconds is 1..86400 */
    return 0;
}

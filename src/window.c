/* SPDX-License-Identifier: BSD-2-Clause */
/* window.c -- event time, tumbling windows, and the point timestamps that keep retried batches exact. */
#include "window.h"

#include "mark.h"

#include <time.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * civil-from-days inverse, valid for all int years we accept). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int read_digits(const char *s, size_t len, size_t *pos, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (*pos >= len || s[*pos] < '0' || s[*pos] > '9')
            return -1;
        v = v * 10 + (s[(*pos)++] - '0');
    }
    *out = v;
    return 0;
}

static int expect_char(const char *s, size_t len, size_t *pos, char c)
{
    if (*pos >= len || s[*pos] != c)
        return -1;
    (*pos)++;
    return 0;
}

static int64_t local_offset_ms(int64_t utc_guess_ms, int y, int mo, int d, int h, int mi, int sec)
{
    /* mktime() resolves the zone (and DST) for this wall-clock time; the
     * difference to the same fields read as UTC is the zone's offset. Its
     * -1 is also a valid time (one second before 1970 UTC): tm_wday, which
     * mktime() sets only on success, tells the two apart. */
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                     .tm_hour = h, .tm_min = mi, .tm_sec = sec, .tm_isdst = -1, .tm_wday = -1 };
    time_t t = mktime(&tm);
    /* whole seconds, rounded down also before 1970 */
    int64_t wall_utc_s = utc_guess_ms >= 0 ? utc_guess_ms / 1000 : -((-utc_guess_ms + 999) / 1000);

    if (t == (time_t)-1 && tm.tm_wday == -1)
        return 0;
    return ((int64_t)t - wall_utc_s) * 1000;
}

int window_parse_time(const char *s, size_t len, int local, int64_t *epoch_ms)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    size_t pos = 0;
    int y, mo, d, h, mi, sec, ms = 0;

    if (read_digits(s, len, &pos, 4, &y) || expect_char(s, len, &pos, '-') ||
        read_digits(s, len, &pos, 2, &mo) || expect_char(s, len, &pos, '-') ||
        read_digits(s, len, &pos, 2, &d))
        return -1;
    if (pos >= len || (s[pos] != ' ' && s[pos] != 'T'))
        return -1;
    pos++;
    if (read_digits(s, len, &pos, 2, &h) || expect_char(s, len, &pos, ':') ||
        read_digits(s, len, &pos, 2, &mi) || expect_char(s, len, &pos, ':') ||
        read_digits(s, len, &pos, 2, &sec))
        return -1;
    if (pos < len && s[pos] == '.') {
        int digits = 0;
        pos++;
        while (pos < len && s[pos] >= '0' && s[pos] <= '9') {
            if (digits < 3)
                ms = ms * 10 + (s[pos] - '0');
            digits++;
            pos++;
        }
        if (digits == 0)
            return -1;
        for (; digits < 3; digits++)
            ms *= 10;
    }
    if (pos != len)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
        return -1;
    if (d > mdays[mo - 1] + (mo == 2 && is_leap(y)))
        return -1;

    int64_t t = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec;
    t = t * 1000 + ms;
    if (local)
        t += local_offset_ms(t, y, mo, d, h, mi, sec);
    *epoch_ms = t;
    return 0;
}

int64_t window_start(int64_t t_ms, int64_t width_ms)
{
    int64_t r = t_ms % width_ms;

    if (r < 0)
        r += width_ms;
    return t_ms - r;
}

int64_t window_point_time_ns(int64_t window_start_ms, int32_t partition, int64_t seq)
{
    int64_t disc = (seq % MARK_SEQ_BLOCK) * WINDOW_MAX_PARTITIONS + partition % WINDOW_MAX_PARTITIONS;

    return window_start_ms * 1000000 + disc;
}

/* The nanoseconds of time_ns within its second, 0 to 999,999,999 (before
 * 1970 too). */
static int64_t window_in_second_ns(int64_t time_ns)
{
    int64_t in_second = time_ns % 1000000000;

    return in_second < 0 ? in_second + 1000000000 : in_second;
}

int64_t window_point_start_ms(int64_t time_ns)
{
    return (time_ns - window_in_second_ns(time_ns)) / 1000000;
}

int32_t window_point_partition(int64_t time_ns)
{
    return (int32_t)(window_in_second_ns(time_ns) % WINDOW_MAX_PARTITIONS);
}

/* InfluxDB 1.x refuses the two extreme int64 values (it keeps them as
 * markers), and a point may lie up to 1 s after its window's start. */
#define WINDOW_MIN_NS (INT64_MIN + 2)
#define WINDOW_MAX_NS (INT64_MAX - 1)

int window_storable(int64_t window_start_ms)
{
    return window_start_ms >= WINDOW_MIN_NS / 1000000 + 1 &&
           window_start_ms <= (WINDOW_MAX_NS - 1000000000) / 1000000;
}

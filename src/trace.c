/* SPDX-License-Identifier: BSD-2-Clause */
/* trace.c -- a replay trace from CSV: times, numbers and Flink states parsed into observations. */
#include "trace.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TRACE_FIELDS 5

/* "2026-11-21T10:00:00[.fff][Z]", 'T' or ' ' between date and time. */
static int parse_iso(const char *s, int64_t *ms)
{
    struct tm tm = { 0 };
    int n = 0, frac_ms = 0;
    char sep;

    if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &sep, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec, &n) != 7 || (sep != 'T' && sep != ' ') || n != 19)
        return -1;
    s += n;
    if (*s == '.') {
        int digits = 0;
        for (s++; *s >= '0' && *s <= '9'; s++, digits++)
            if (digits < 3)
                frac_ms = frac_ms * 10 + (*s - '0');
        if (digits == 0)
            return -1;
        for (; digits < 3; digits++)
            frac_ms *= 10;
    }
    if (*s == 'Z')
        s++;
    if (*s != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *ms = (int64_t)timegm(&tm) * 1000 + frac_ms;
    return 0;
}

int trace_parse_time(const char *s, int64_t *ms)
{
    char *end;
    double v;

    if (parse_iso(s, ms) == 0)
        return 0;
    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v) || v < 0 || v > 1e13 || strchr(s, 'e') || strchr(s, 'E'))
        return -1;
    *ms = (int64_t)llround(v * 1000.0);
    return 0;
}

/* An empty field leaves *known 0; else a finite number >= 0. */
static int parse_number(const char *s, int *known, double *v)
{
    char *end;

    *known = 0;
    if (*s == '\0')
        return 0;
    errno = 0;
    *v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(*v) || *v < 0)
        return -1;
    *known = 1;
    return 0;
}

static int parse_flink(const char *s, struct trace_step *st)
{
    static const char *const unhealthy[] = { "RESTARTING", "FAILED", "CANCELED", "none" };
    struct observation *o = &st->obs;

    if (*s == '\0')
        return 0; /* not probed */
    o->health_probed = 1;
    if (strcmp(s, "unknown") == 0)
        return 0;
    o->health_known = 1;
    if (strcmp(s, "RUNNING") == 0) {
        o->healthy = 1;
        return 0;
    }
    for (size_t i = 0; i < sizeof unhealthy / sizeof unhealthy[0]; i++) {
        if (strcmp(s, unhealthy[i]) == 0) {
            snprintf(st->why, sizeof st->why, i == 3 ? "no job" : "job is %s", s);
            o->why_unhealthy = st->why;
            return 0;
        }
    }
    return -1;
}

/* Split line at commas into exactly TRACE_FIELDS fields (in place). */
static int split_fields(char *line, char **f)
{
    int n = 0;

    for (char *p = line;; p++) {
        if (n == TRACE_FIELDS)
            return -1;
        f[n++] = p;
        p = strchr(p, ',');
        if (p == NULL)
            break;
        *p = '\0';
    }
    return n == TRACE_FIELDS ? 0 : -1;
}

static int fill_lags(char **f, struct trace_step *st, char *err, size_t errsz)
{
    struct observation *o = &st->obs;
    double lag = 0, lag_s = 0;
    int known_lag, known_s;

    /* whole, and within int64 (9.2e18): no undefined conversion below */
    if (parse_number(f[2], &known_lag, &lag) != 0 || lag != floor(lag) || lag > 9e18) {
        snprintf(err, errsz, "lag_messages: not a whole number >= 0: \"%s\"", f[2]);
        return -1;
    }
    if (parse_number(f[3], &known_s, &lag_s) != 0) {
        snprintf(err, errsz, "lag_seconds: not a number >= 0: \"%s\"", f[3]);
        return -1;
    }
    o->lag_probed = o->lag_known = known_lag;
    o->lag = (int64_t)lag;
    o->time_lag_known = known_lag && (known_s || lag == 0);
    o->time_lag_s = known_s ? lag_s : 0;
    o->time_lag_partition = -1; /* a trace holds the largest, not where */
    return 0;
}

int trace_parse_csv_line(const char *line, struct trace_step *st, char *err, size_t errsz)
{
    char buf[256], *f[TRACE_FIELDS];
    int known;

    memset(st, 0, sizeof *st);
    if (strlen(line) < sizeof buf)
        memcpy(buf, line, strlen(line) + 1);
    if (strlen(line) >= sizeof buf || split_fields(buf, f) != 0) {
        snprintf(err, errsz, "expected %d comma-separated fields (%s)", TRACE_FIELDS, TRACE_CSV_HEADER);
        return -1;
    }
    if (trace_parse_time(f[0], &st->at_ms) != 0) {
        snprintf(err, errsz, "time: neither ISO 8601 UTC nor epoch seconds: \"%s\"", f[0]);
        return -1;
    }
    if (parse_number(f[1], &known, &st->obs.latency_s) != 0) {
        snprintf(err, errsz, "latency_seconds: not a number >= 0: \"%s\"", f[1]);
        return -1;
    }
    st->obs.latency_known = known;
    if (fill_lags(f, st, err, errsz) != 0)
        return -1;
    if (parse_flink(f[4], st) != 0) {
        snprintf(err, errsz, "flink: not RUNNING, RESTARTING, FAILED, CANCELED, none, unknown or empty: \"%s\"", f[4]);
        return -1;
    }
    return 0;
}

/* One line of fp without its line end into *line; 0 at the end. */
static ssize_t read_line(FILE *fp, char **line, size_t *cap)
{
    ssize_t n = getline(line, cap, fp);

    while (n > 0 && ((*line)[n - 1] == '\n' || (*line)[n - 1] == '\r'))
        (*line)[--n] = '\0';
    return n;
}

int trace_read_csv(const char *path, int (*fn)(const struct trace_step *step, void *arg), void *arg, char *err,
                   size_t errsz)
{
    FILE *fp = fopen(path, "r");
    char *line = NULL, why[256];
    size_t cap = 0;
    int lineno = 1, rc = -1;
    struct trace_step st;

    if (fp == NULL) {
        snprintf(err, errsz, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (read_line(fp, &line, &cap) < 0 || strcmp(line, TRACE_CSV_HEADER) != 0) {
        snprintf(err, errsz, "%s:1: expected the header %s", path, TRACE_CSV_HEADER);
        goto out;
    }
    for (ssize_t n; (n = read_line(fp, &line, &cap)) >= 0;) {
        lineno++;
        if (n == 0)
            continue;
        if (trace_parse_csv_line(line, &st, why, sizeof why) != 0) {
            snprintf(err, errsz, "%s:%d: %s", path, lineno, why);
            rc = -1;
            goto out;
        }
        if ((rc = fn(&st, arg)) != 0)
            goto out;
    }
    rc = ferror(fp) ? -1 : 0;
    if (rc)
        snprintf(err, errsz, "%s: read error", path);
out:
    free(line);
    fclose(fp);
    return rc;
}

int trace_is_sqlite(const char *path, char *err, size_t errsz)
{
    static const char magic[16] = "SQLite format 3";
    char head[16];
    FILE *fp = fopen(path, "rb");
    size_t n;

    if (fp == NULL) {
        snprintf(err, errsz, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    n = fread(head, 1, sizeof head, fp);
    fclose(fp);
    return n == sizeof head && memcmp(head, magic, sizeof head) == 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* lineproto.c -- InfluxDB line protocol escaping and formatting. */
#include "lineproto.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int lp_needs_escape(enum lp_kind kind, char c)
{
    if (c == ',' || c == ' ')
        return 1;
    return c == '=' && kind != LP_MEASUREMENT;
}

/* InfluxDB 1.x reads these back as escapes wherever a name stands
 * (escape.Unescape): a backslash before one of them, or a trailing one,
 * would not survive the round trip. */
static int lp_unescaped_by_influx(char c)
{
    return c == ',' || c == '=' || c == ' ' || c == '"';
}

const char *lp_check(enum lp_kind kind, const char *s, size_t len)
{
    if (len == 0)
        return kind == LP_TAG_VALUE ? "is empty (InfluxDB would drop the tag)" : "is empty";
    if (kind == LP_MEASUREMENT && s[0] == '#')
        return "starts with '#', which makes InfluxDB read the whole line as a comment";
    if ((kind == LP_MEASUREMENT || kind == LP_FIELD_KEY) && (s[0] == '\t' || s[0] == ' '))
        return "starts with white space, which InfluxDB strips";
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n' || s[i] == '\r')
            return "contains a line break, which line protocol cannot carry";
        if (s[i] == '\0')
            return "contains a NUL byte";
        if (s[i] == '\\' && (i + 1 == len || lp_unescaped_by_influx(s[i + 1])))
            return "has a backslash before ',', '=', ' ', '\"' or at its end, which InfluxDB would read back altered";
    }
    return NULL;
}

int lp_append_escaped(struct buf *b, enum lp_kind kind, const char *s, size_t len)
{
    size_t start = 0;

    for (size_t i = 0; i < len; i++) {
        if (!lp_needs_escape(kind, s[i]))
            continue;
        if (buf_append(b, s + start, i - start) != 0 || buf_append(b, "\\", 1) != 0)
            return -1;
        start = i;
    }
    return buf_append(b, s + start, len - start);
}

int lp_begin(struct lp_point *p, struct buf *out, const char *measurement)
{
    p->out = out;
    p->nfields = 0;
    return lp_append_escaped(out, LP_MEASUREMENT, measurement, strlen(measurement));
}

int lp_tag(struct lp_point *p, const char *key, const char *value, size_t value_len)
{
    if (buf_append(p->out, ",", 1) != 0 ||
        lp_append_escaped(p->out, LP_TAG_KEY, key, strlen(key)) != 0 || buf_append(p->out, "=", 1) != 0)
        return -1;
    return lp_append_escaped(p->out, LP_TAG_VALUE, value, value_len);
}

static int lp_field_key(struct lp_point *p, const char *key)
{
    if (buf_append(p->out, p->nfields++ ? "," : " ", 1) != 0)
        return -1;
    if (lp_append_escaped(p->out, LP_FIELD_KEY, key, strlen(key)) != 0)
        return -1;
    return buf_append(p->out, "=", 1);
}

int lp_field_float(struct lp_point *p, const char *key, double v)
{
    char num[40];

    if (!isfinite(v))
        return -1; /* callers never pass these; refuse rather than write "nan" */
    fmt_double(num, sizeof num, v);
    if (lp_field_key(p, key) != 0)
        return -1;
    /* "2" would be read as a float anyway, but keep the type explicit */
    if (strpbrk(num, ".eEn") == NULL)
        return buf_printf(p->out, "%s.0", num);
    return buf_append(p->out, num, strlen(num));
}

int lp_field_int(struct lp_point *p, const char *key, int64_t v)
{
    if (lp_field_key(p, key) != 0)
        return -1;
    return buf_printf(p->out, "%" PRId64 "i", v);
}

int lp_end(struct lp_point *p, int64_t time_ns)
{
    return buf_printf(p->out, " %" PRId64 "\n", time_ns);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* lpread.c -- InfluxDB 1.x's reading of line protocol, for the fuzz targets.
 * Function by function this follows models/points.go (ParsePointsWithPrecision,
 * scanLine, scanKey, scanMeasurement, scanTagsKey, scanTagsValue, scanFields,
 * scanNumber, scanBoolean, scanTime, walkTags, the field iterator) and
 * pkg/escape; see lpread.h for the rules that matter to spillway. */
#include "lpread.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEY_LENGTH 65535
#define MIN_NANO_TIME (INT64_MIN + 2)
#define MAX_NANO_TIME (INT64_MAX - 1)

struct rd {
    const char *b; /* the line, without its newline */
    size_t len;
    char *err;
    size_t errsz;
    int line;
};

static int rd_fail(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int rd_fail(struct rd *r, const char *fmt, ...)
{
    char why[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(r->err, r->errsz, "line %d: %s", r->line, why);
    return -1;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\0'; }

static size_t skip_blanks(const char *b, size_t len, size_t i)
{
    while (i < len && is_blank(b[i]))
        i++;
    return i;
}

/* scanLine: the end of the line starting at i (its '\n', or len). */
static size_t scan_line(const char *b, size_t len, size_t i)
{
    int quoted = 0, fields = 0;
    size_t equals = 0, commas = 0;

    while (i < len) {
        if (b[i] == '\\') {
            i += 2;
            continue;
        }
        if (b[i] == ' ')
            fields = 1;
        if (fields) {
            if (!quoted && b[i] == '=') {
                i++, equals++;
                continue;
            }
            if (!quoted && b[i] == ',') {
                i++, commas++;
                continue;
            }
            if (b[i] == '"' && equals > commas) {
                i++, quoted = !quoted;
                continue;
            }
        }
        if (b[i] == '\n' && !quoted)
            break;
        i++;
    }
    return i < len ? i : len;
}

/* The end of the span from i up to the first stop byte that no backslash
 * precedes (scanTo). */
static size_t scan_to(const char *b, size_t len, size_t i, char stop)
{
    while (i < len && !(b[i] == stop && (i == 0 || b[i - 1] != '\\')))
        i++;
    return i;
}

static int str_set(struct lpr_str *out, const char *s, size_t len, const char *escapable, int quoted_string)
{
    size_t n = 0;

    out->s = malloc(len + 1);
    if (out->s == NULL)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\' && i + 1 < len &&
            (quoted_string ? (s[i + 1] == '"' || s[i + 1] == '\\') : strchr(escapable, s[i + 1]) != NULL) &&
            s[i + 1] != '\0')
            i++;
        out->s[n++] = s[i];
    }
    out->s[n] = '\0';
    out->len = n;
    return 0;
}

enum { ST_TAG_KEY, ST_TAG_VALUE, ST_FIELDS };

static int scan_measurement(struct rd *r, size_t i, int *state, size_t *pos)
{
    if (i >= r->len || r->b[i] == ',')
        return rd_fail(r, "missing measurement");
    for (;;) {
        i++;
        if (i >= r->len)
            return rd_fail(r, "missing fields");
        if (r->b[i - 1] == '\\')
            continue;
        if (r->b[i] == ',') {
            *state = ST_TAG_KEY;
            *pos = i + 1;
            return 0;
        }
        if (r->b[i] == ' ') {
            *state = ST_FIELDS;
            *pos = i;
            return 0;
        }
    }
}

static int scan_tags(struct rd *r, size_t i, size_t *pos, size_t *starts, size_t *n)
{
    const char *b = r->b;
    int state = ST_TAG_KEY;

    for (;;) {
        if (state == ST_FIELDS) {
            *pos = i;
            return 0;
        }
        if (state == ST_TAG_KEY) {
            if (*n >= LPR_MAX_TAGS)
                return rd_fail(r, "more tags than this reader holds (%d)", LPR_MAX_TAGS);
            starts[(*n)++] = i;
            if (i >= r->len || b[i] == ' ' || b[i] == ',' || b[i] == '=')
                return rd_fail(r, "missing tag key");
            for (;;) {
                i++;
                if (i >= r->len || ((b[i] == ' ' || b[i] == ',') && b[i - 1] != '\\'))
                    return rd_fail(r, "missing tag value");
                if (b[i] == '=' && b[i - 1] != '\\')
                    break;
            }
            i++;
            state = ST_TAG_VALUE;
            continue;
        }
        if (i >= r->len || b[i] == ',' || b[i] == ' ')
            return rd_fail(r, "missing tag value");
        for (;;) {
            i++;
            if (i >= r->len)
                return rd_fail(r, "missing fields");
            if (b[i] == '=' && b[i - 1] != '\\')
                return rd_fail(r, "invalid tag format");
            if (b[i] == ',' && b[i - 1] != '\\') {
                i++;
                state = ST_TAG_KEY;
                break;
            }
            if (b[i] == ' ' && b[i - 1] != '\\') {
                state = ST_FIELDS;
                break;
            }
        }
    }
}

static int is_numeric(char c) { return (c >= '0' && c <= '9') || c == '.'; }

static int scan_number(struct rd *r, size_t i, size_t *end)
{
    const char *b = r->b;
    size_t start = i;
    int is_int = 0, is_unsigned = 0, decimal = 0, scientific = 0;

    if (i < r->len && b[i] == '-') {
        i++;
        if (i == r->len)
            return rd_fail(r, "invalid number");
    }
    while (i < r->len && b[i] != ',' && b[i] != ' ') {
        if (b[i] == 'i' && i > start && !(is_int || is_unsigned)) {
            is_int = 1, i++;
            continue;
        }
        if (b[i] == 'u' && i > start && !(is_int || is_unsigned)) {
            is_unsigned = 1, i++;
            continue;
        }
        if (b[i] == '.') {
            if (decimal)
                return rd_fail(r, "invalid number");
            decimal = 1;
        }
        if (i > start && (b[i] == 'e' || b[i] == 'E')) {
            scientific = 1, i++;
            continue;
        }
        if ((b[i] == '+' || b[i] == '-') && (b[i - 1] == 'e' || b[i - 1] == 'E')) {
            i++;
            continue;
        }
        if (i + 2 < r->len && (b[i] == 'N' || b[i] == 'n'))
            return rd_fail(r, "invalid number");
        if (!is_numeric(b[i]))
            return rd_fail(r, "invalid number");
        i++;
    }
    if ((is_int || is_unsigned) && (decimal || scientific))
        return rd_fail(r, "invalid number");
    size_t digits = i - start - (size_t)is_int - (size_t)decimal - (b[start] == '-');
    if (digits == 0)
        return rd_fail(r, "invalid number");
    if (is_int && b[i - 1] != 'i')
        return rd_fail(r, "invalid number");
    if (is_unsigned) /* uint64 support is off in 1.x */
        return rd_fail(r, "invalid number");
    *end = i;
    return 0;
}

static int scan_boolean(struct rd *r, size_t i, size_t *end)
{
    const char *b = r->b;
    size_t start = i;

    if (i < r->len && b[i] != 't' && b[i] != 'f' && b[i] != 'T' && b[i] != 'F')
        return rd_fail(r, "invalid boolean");
    i++;
    while (i < r->len && b[i] != ',' && b[i] != ' ')
        i++;
    *end = i;
    if (i - start == 1)
        return 0;
    static const char *const ok[] = { "true", "false", "TRUE", "True", "FALSE", "False" };
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++)
        if (strlen(ok[k]) == i - start && memcmp(b + start, ok[k], i - start) == 0)
            return 0;
    return rd_fail(r, "invalid boolean");
}

static int scan_fields(struct rd *r, size_t i, size_t *fstart, size_t *fend)
{
    const char *b = r->b;
    int quoted = 0;
    size_t equals = 0, commas = 0;

    *fstart = i = skip_blanks(b, r->len, i);
    while (i < r->len) {
        if (b[i] == '\\' && i + 1 < r->len) {
            i += 2;
            continue;
        }
        if (b[i] == '"' && equals > commas) {
            quoted = !quoted, i++;
            continue;
        }
        if (b[i] == '=' && !quoted) {
            equals++;
            if (i >= 2 && b[i - 1] == ' ' && b[i - 2] != '\\')
                return rd_fail(r, "missing field key");
            if (i >= 2 && b[i - 1] == ',' && b[i - 2] != '\\')
                return rd_fail(r, "missing field key");
            if (i + 1 >= r->len)
                return rd_fail(r, "missing field value");
            if (b[i + 1] == ',' || b[i + 1] == ' ')
                return rd_fail(r, "missing field value");
            if (is_numeric(b[i + 1]) || b[i + 1] == '-' || b[i + 1] == 'N' || b[i + 1] == 'n') {
                if (scan_number(r, i + 1, &i) != 0)
                    return -1;
                continue;
            }
            if (b[i + 1] != '"') {
                if (scan_boolean(r, i + 1, &i) != 0)
                    return -1;
                continue;
            }
        }
        if (b[i] == ',' && !quoted)
            commas++;
        if (b[i] == ' ' && !quoted)
            break;
        i++;
    }
    if (quoted)
        return rd_fail(r, "unbalanced quotes");
    if (equals == 0 || commas != equals - 1)
        return rd_fail(r, "invalid field format");
    *fend = i;
    return 0;
}

static size_t scan_field_value(const char *b, size_t len, size_t i)
{
    int quoted = 0;

    while (i < len) {
        if (b[i] == '\\' && i + 1 < len && (b[i + 1] == '"' || b[i + 1] == '\\')) {
            i += 2;
            continue;
        }
        if (b[i] == '"') {
            i++, quoted = !quoted;
            continue;
        }
        if (b[i] == ',' && !quoted)
            break;
        i++;
    }
    return i;
}

static int field_value(struct rd *r, struct lpr_field *f, const char *v, size_t vlen)
{
    char num[64];
    char *end;

    if (vlen == 0)
        return rd_fail(r, "empty field value");
    if (v[0] == '"') {
        f->type = LPR_STRING;
        return vlen < 2 ? rd_fail(r, "bad string") : str_set(&f->str, v + 1, vlen - 2, "", 1);
    }
    if (strchr("0123456789-.nNiIu", v[0]) == NULL) {
        f->type = LPR_BOOL;
        f->b = v[0] == 't' || v[0] == 'T' || v[0] == '1';
        return 0;
    }
    if (vlen >= sizeof num)
        return rd_fail(r, "number too long for this reader");
    memcpy(num, v, vlen);
    num[vlen] = '\0';
    errno = 0;
    if (num[vlen - 1] == 'i') {
        f->type = LPR_INT;
        num[vlen - 1] = '\0';
        f->i = strtoll(num, &end, 10);
        if (errno != 0 || end == num || *end != '\0')
            return rd_fail(r, "unable to parse integer value \"%s\"", num);
        return 0;
    }
    if (num[vlen - 1] == 'u')
        return rd_fail(r, "unsigned values are off in 1.x");
    f->type = LPR_FLOAT;
    f->f = strtod(num, &end);
    if (end == num || *end != '\0' || isinf(f->f) || isnan(f->f))
        return rd_fail(r, "unable to parse floating point value \"%s\"", num);
    return 0;
}

/* One non-comment line, b[0..len) with its leading blanks skipped. */
static int parse_point(struct rd *r, struct lpr_point *p)
{
    const char *b = r->b;
    size_t starts[LPR_MAX_TAGS], ntags = 0, pos = 0, kend, fstart, fend;
    int state;

    memset(p, 0, sizeof *p);
    if (scan_measurement(r, 0, &state, &pos) != 0)
        return -1;
    if (state == ST_TAG_KEY && scan_tags(r, pos, &pos, starts, &ntags) != 0)
        return -1;
    kend = pos; /* the series key: b[0..kend) */
    for (size_t i = 0; i < ntags; i++) {
        size_t ki = scan_to(b, kend, starts[i], '=') - starts[i];
        for (size_t j = 0; j < i; j++) {
            size_t kj = scan_to(b, kend, starts[j], '=') - starts[j];
            if (ki == kj && memcmp(b + starts[i], b + starts[j], ki) == 0)
                return rd_fail(r, "duplicate tags");
        }
    }
    if (kend == 0)
        return rd_fail(r, "missing measurement");
    if (kend > MAX_KEY_LENGTH)
        return rd_fail(r, "max key length exceeded: %zu > %d", kend, MAX_KEY_LENGTH);
    if (scan_fields(r, pos, &fstart, &fend) != 0)
        return -1;
    if (fend == fstart)
        return rd_fail(r, "missing fields");

    /* the timestamp, then nothing but spaces */
    size_t ts = skip_blanks(b, r->len, fend), te = ts;
    while (te < r->len && b[te] != '\n' && b[te] != ' ') {
        if (!(te == ts && b[te] == '-') && (b[te] < '0' || b[te] > '9'))
            return rd_fail(r, "bad timestamp");
        te++;
    }
    if (te > ts) {
        char num[32];
        char *end;
        if (te - ts >= sizeof num)
            return rd_fail(r, "bad timestamp");
        memcpy(num, b + ts, te - ts);
        num[te - ts] = '\0';
        errno = 0;
        p->time_ns = strtoll(num, &end, 10);
        if (errno != 0 || *end != '\0' || end == num)
            return rd_fail(r, "bad timestamp \"%s\"", num);
        if (p->time_ns < MIN_NANO_TIME || p->time_ns > MAX_NANO_TIME)
            return rd_fail(r, "time outside range %s", num);
        p->has_time = 1;
        for (size_t i = te; i < r->len; i++)
            if (b[i] != ' ')
                return rd_fail(r, "point is invalid (bytes after the timestamp)");
    }

    /* Point.Name(), Tags(), the field iterator */
    if (str_set(&p->measurement, b, scan_to(b, kend, 0, ','), ",\" =", 0) != 0)
        return rd_fail(r, "out of memory");
    for (size_t i = 0; i < ntags; i++) {
        size_t ke = scan_to(b, kend, starts[i], '='), ve = ke + 1;
        while (ve < kend && !(b[ve] == ',' && b[ve - 1] != '\\'))
            ve++;
        if (str_set(&p->tags[i].key, b + starts[i], ke - starts[i], ", =", 0) != 0 ||
            str_set(&p->tags[i].value, b + ke + 1, ve - ke - 1, ", =", 0) != 0)
            return rd_fail(r, "out of memory");
        p->ntags++;
        if (strcmp(p->tags[i].key.s, "time") == 0)
            return rd_fail(r, "invalid tag key: input tag \"time\" is invalid (point dropped, 400)");
    }
    /* tags are stored sorted by key */
    for (size_t i = 1; i < p->ntags; i++)
        for (size_t j = i; j > 0 && strcmp(p->tags[j - 1].key.s, p->tags[j].key.s) > 0; j--) {
            struct lpr_str k = p->tags[j].key, v = p->tags[j].value;
            p->tags[j].key = p->tags[j - 1].key, p->tags[j].value = p->tags[j - 1].value;
            p->tags[j - 1].key = k, p->tags[j - 1].value = v;
        }

    const char *f = b + fstart;
    size_t flen = fend - fstart, fp = 0;
    int others = 0;
    while (fp < flen) {
        size_t ke = scan_to(f, flen, fp, '='), ve = scan_field_value(f, flen, ke + 1);
        struct lpr_field fld = { 0 };
        if (kend + 4 + (ke - fp) > MAX_KEY_LENGTH)
            return rd_fail(r, "max key length exceeded: %zu > %d", kend + 4 + (ke - fp), MAX_KEY_LENGTH);
        if (str_set(&fld.key, f + fp, ke - fp, ",\" =", 0) != 0)
            return rd_fail(r, "out of memory");
        if (field_value(r, &fld, f + ke + 1, ve > ke + 1 ? ve - ke - 1 : 0) != 0) {
            free(fld.key.s);
            free(fld.str.s);
            return -1;
        }
        fp = ve + 1;
        if (strcmp(fld.key.s, "time") == 0) {
            /* the shard drops a field named time */
            free(fld.key.s);
            free(fld.str.s);
            continue;
        }
        others = 1;
        /* a field given twice: the last one wins */
        struct lpr_field *old = (struct lpr_field *)lpr_field(p, fld.key.s);
        if (old && old->key.len == fld.key.len) {
            free(old->key.s);
            free(old->str.s);
            *old = fld;
            continue;
        }
        if (p->nfields >= LPR_MAX_FIELDS) {
            free(fld.key.s);
            free(fld.str.s);
            return rd_fail(r, "more fields than this reader holds (%d)", LPR_MAX_FIELDS);
        }
        p->fields[p->nfields++] = fld;
    }
    if (!others)
        return rd_fail(r, "invalid field name: input field \"time\" is invalid (point dropped, 400)");
    return 0;
}

int lpr_parse(const char *buf, size_t len, struct lpr_point *pts, size_t max, char *err, size_t errsz)
{
    struct rd r = { .err = err, .errsz = errsz };
    size_t pos = 0;
    int n = 0;

    err[0] = '\0';
    while (pos < len) {
        size_t end = scan_line(buf, len, pos);
        size_t start = skip_blanks(buf, end, pos);
        r.line++;
        if (start < end && buf[start] != '#') {
            if ((size_t)n >= max) {
                snprintf(err, errsz, "line %d: more points than expected (%zu)", r.line, max);
                return -1;
            }
            r.b = buf + start;
            r.len = end - start;
            if (parse_point(&r, &pts[n]) != 0) {
                lpr_free(&pts[n], 1);
                return -1;
            }
            n++;
        }
        pos = end + 1;
    }
    return n;
}

void lpr_free(struct lpr_point *pts, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        struct lpr_point *p = &pts[k];
        free(p->measurement.s);
        for (size_t i = 0; i < p->ntags; i++) {
            free(p->tags[i].key.s);
            free(p->tags[i].value.s);
        }
        for (size_t i = 0; i < p->nfields; i++) {
            free(p->fields[i].key.s);
            free(p->fields[i].str.s);
        }
        memset(p, 0, sizeof *p);
    }
}

const struct lpr_str *lpr_tag(const struct lpr_point *p, const char *key)
{
    for (size_t i = 0; i < p->ntags; i++)
        if (strcmp(p->tags[i].key.s, key) == 0)
            return &p->tags[i].value;
    return NULL;
}

const struct lpr_field *lpr_field(const struct lpr_point *p, const char *key)
{
    for (size_t i = 0; i < p->nfields; i++)
        if (strcmp(p->fields[i].key.s, key) == 0)
            return &p->fields[i];
    return NULL;
}

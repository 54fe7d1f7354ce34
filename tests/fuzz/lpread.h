/* SPDX-License-Identifier: BSD-2-Clause */
/* lpread.h -- what InfluxDB 1.x makes of line protocol: a reader for the
 * fuzz targets, written apart from src/lineproto.c so that a point can be
 * checked against an independent reading of it.
 *
 * It follows InfluxDB 1.x's own parser (models/points.go, pkg/escape) rather
 * than the documentation's summary, where the two differ:
 *   - a newline ends a line, except after a backslash or inside a quoted
 *     field value; a line whose first non-blank byte is '#' is a comment,
 *     and leading ' ', '\t' and NUL bytes of a line are skipped;
 *   - a separator (',', ' ', '=') right after a backslash is no separator;
 *   - the measurement is unescaped as Point.Name() does (pkg/escape:
 *     "\," "\ " "\=" "\"" each become the character), tag keys and values as
 *     unescapeTag() does ("\," "\ " "\="), field keys as the field iterator
 *     does (pkg/escape again); any other backslash stays;
 *   - string field values unescape "\"" and "\\";
 *   - a series key (measurement and tags, escaped) plus a field key longer
 *     than 65535 bytes, a tag key "time", or a timestamp outside
 *     [INT64_MIN + 2, INT64_MAX - 1] refuse the point (400), and a field
 *     named "time" is dropped from it (the shard's rules, applied at write).
 * Tags come back sorted by key, as InfluxDB stores them. */
#ifndef SPILLWAY_FUZZ_LPREAD_H
#define SPILLWAY_FUZZ_LPREAD_H

#include <stddef.h>
#include <stdint.h>

#define LPR_MAX_TAGS 16
#define LPR_MAX_FIELDS 48

/* A name or a string value, unescaped; malloc()ed, NUL-terminated, may hold
 * NUL bytes (len counts them). */
struct lpr_str {
    char *s;
    size_t len;
};

enum lpr_type { LPR_FLOAT, LPR_INT, LPR_STRING, LPR_BOOL };

struct lpr_field {
    struct lpr_str key;
    enum lpr_type type;
    double f;
    int64_t i;
    int b;
    struct lpr_str str;
};

struct lpr_point {
    struct lpr_str measurement;
    size_t ntags;
    struct {
        struct lpr_str key, value;
    } tags[LPR_MAX_TAGS];
    size_t nfields;
    struct lpr_field fields[LPR_MAX_FIELDS];
    int has_time;
    int64_t time_ns;
};

/* Read buf (len bytes, a /write body) into pts[0..max). Returns the number
 * of points (comments and blank lines are none), or -1 when InfluxDB would
 * refuse the body (400), with its reason and the line in err. More than max
 * points is an error too. lpr_free() the points either way. */
int lpr_parse(const char *buf, size_t len, struct lpr_point *pts, size_t max, char *err, size_t errsz);

void lpr_free(struct lpr_point *pts, size_t n);

/* The tag named key of p, or NULL. */
const struct lpr_str *lpr_tag(const struct lpr_point *p, const char *key);

/* The field named key of p, or NULL. */
const struct lpr_field *lpr_field(const struct lpr_point *p, const char *key);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* lineproto.h -- InfluxDB line protocol: escaping and point formatting.
 *
 * Escaping rules (InfluxDB 1.x): the measurement escapes ',' and ' '; tag
 * keys, tag values and field keys escape ',', '=' and ' '. A newline or
 * carriage return cannot be carried by any of them, and a backslash right
 * before one of those escaped characters (or at the end of a tag value) is
 * read back differently by InfluxDB's parser; such names are refused rather
 * than written altered, so an id like "6D,source=flink" becomes the single
 * tag value it is, and an id holding a newline can never forge a line. */
#ifndef SPILLWAY_LINEPROTO_H
#define SPILLWAY_LINEPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum lp_kind { LP_MEASUREMENT, LP_TAG_KEY, LP_TAG_VALUE, LP_FIELD_KEY };

/* Return NULL when s (of length len) can be written as this kind of name,
 * else a static string saying why not ("contains a newline", ...). An empty
 * tag value is refused too: InfluxDB would drop the tag. */
const char *lp_check(enum lp_kind kind, const char *s, size_t len);

/* Append s escaped for kind to b. The caller has checked s with lp_check().
 * Returns 0, or -1 when memory runs out. */
int lp_append_escaped(struct buf *b, enum lp_kind kind, const char *s, size_t len);

/* One point under construction: lp_begin() writes "measurement,tags ",
 * fields are added, lp_end() writes the timestamp (ns) and "\n". The caller
 * passes names already checked with lp_check(). All return 0 or -1 (OOM). */
struct lp_point {
    struct buf *out;
    int nfields;
};
int lp_begin(struct lp_point *p, struct buf *out, const char *measurement);
int lp_tag(struct lp_point *p, const char *key, const char *value, size_t value_len);
int lp_field_float(struct lp_point *p, const char *key, double v);
int lp_field_int(struct lp_point *p, const char *key, int64_t v);
int lp_end(struct lp_point *p, int64_t time_ns);

#endif

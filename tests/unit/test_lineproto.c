/* SPDX-License-Identifier: BSD-2-Clause */
/* test_lineproto.c -- line protocol escaping and point formatting. */
#include "lineproto.h"
#include "tap.h"

static const char *esc(enum lp_kind kind, const char *s)
{
    static struct buf b;
    buf_reset(&b);
    lp_append_escaped(&b, kind, s, strlen(s));
    return b.data ? b.data : "";
}

int main(void)
{
    struct buf out = { 0 };
    struct lp_point p;
    char num[40];

    is_str(esc(LP_TAG_VALUE, "6D,source=flink"), "6D\\,source\\=flink", "a forged tag in an id is escaped");
    is_str(esc(LP_TAG_VALUE, "nurse 7"), "nurse\\ 7", "space in a tag value");
    is_str(esc(LP_TAG_KEY, "a=b,c d"), "a\\=b\\,c\\ d", "tag key escapes , = and space");
    is_str(esc(LP_FIELD_KEY, "H R=1"), "H\\ R\\=1", "field key escapes space and =");
    is_str(esc(LP_MEASUREMENT, "nurse stress,x=1"), "nurse\\ stress\\,x=1", "measurement escapes , and space, not =");
    ok(lp_check(LP_MEASUREMENT, "#m", 2) != NULL && lp_check(LP_TAG_VALUE, "#m", 2) == NULL,
       "a measurement may not start with '#' (a comment line); a tag value may");
    ok(lp_check(LP_FIELD_KEY, "a\\\"b", 4) != NULL && lp_check(LP_TAG_VALUE, "a\\=b", 4) != NULL &&
           lp_check(LP_MEASUREMENT, "a\\=b", 4) != NULL && lp_check(LP_TAG_VALUE, "a\\b", 3) == NULL,
       "a backslash before '\"' or '=' is refused everywhere (InfluxDB unescapes them); before other bytes it is kept");
    is_str(esc(LP_TAG_VALUE, "plain-id_09"), "plain-id_09", "nothing to escape");
    is_str(esc(LP_TAG_VALUE, "x\\y"), "x\\y", "a backslash before an ordinary character is kept as is");

    ok(lp_check(LP_TAG_VALUE, "A\nnurse_stress,id=X count=1i", 27) != NULL, "an id with a newline is refused");
    ok(lp_check(LP_TAG_VALUE, "A\rB", 3) != NULL, "a carriage return is refused");
    ok(lp_check(LP_TAG_VALUE, "", 0) != NULL, "an empty tag value is refused");
    ok(lp_check(LP_TAG_VALUE, "ab\\", 3) != NULL, "a trailing backslash is refused");
    ok(lp_check(LP_TAG_VALUE, "a\\,b", 4) != NULL, "a backslash before a comma is refused");
    ok(lp_check(LP_TAG_VALUE, "a\\\\b", 4) == NULL, "two backslashes before a letter are fine");
    ok(lp_check(LP_TAG_VALUE, "6D,source=flink", 15) == NULL, "a comma and = are fine (escaped)");
    ok(lp_check(LP_TAG_VALUE, "a\0b", 3) != NULL, "a NUL byte is refused");

    lp_begin(&p, &out, "nurse_stress");
    lp_tag(&p, "id", "6D,source=flink", 15);
    lp_tag(&p, "source", "dask-fallback", 13);
    lp_field_float(&p, "HR", 36.7);
    lp_field_float(&p, "X", 2.0);
    lp_field_int(&p, "stress_level", 2);
    lp_field_int(&p, "count", 330);
    lp_end(&p, 1795255200000001001LL);
    is_str(out.data,
           "nurse_stress,id=6D\\,source\\=flink,source=dask-fallback HR=36.7,X=2.0,stress_level=2i,count=330i "
           "1795255200000001001\n",
           "a whole point: the forged id stays one tag, source stays dask-fallback");
    ok(lp_field_float(&p, "bad", 0.0 / 0.0) != 0, "NaN is refused as a field value");

    fmt_double(num, sizeof num, 0.1 + 0.2);
    is_str(num, "0.30000000000000004", "doubles are written to round-trip exactly");
    fmt_double(num, sizeof num, 36.7);
    is_str(num, "36.7", "and as short as possible");
    fmt_double(num, sizeof num, -1e-7);
    is_str(num, "-1e-07", "small values are short too");
    fmt_double(num, sizeof num, 1.0 / 3.0);
    is_str(num, "0.3333333333333333", "more digits only when 15 would not read back");

    buf_free(&out);
    return tap_done();
}

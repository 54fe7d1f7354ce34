/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_lineproto.c -- a point built with src/lineproto.h from a hostile id
 * and source tag value, read back as InfluxDB 1.x reads it (lpread.c).
 *
 * Input: up to three parts separated by NUL bytes (lp_check() refuses NUL in
 * a tag value, so no value loses anything by the split):
 *     id \0 source \0 numbers
 * A missing source is the shipped "dask-fallback"; numbers gives, from its
 * first 8, 16 and 24 bytes, the float field's value, stress_level and the
 * timestamp. The measurement and field keys are the shipped ones (the
 * config target checks configured names). An id or source lp_check()
 * refuses is skipped, as the runner and the config do; every other input
 * must come back as exactly one line whose measurement and tag set are
 * exactly the ones given (an id never adds a tag, a field or a line) and
 * whose fields are exactly the ones written. */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "lineproto.h"
#include "lpread.h"

struct part {
    const char *s;
    size_t len;
};

static int part_eq(const struct lpr_str *got, const char *s, size_t len)
{
    return got != NULL && got->len == len && memcmp(got->s, s, len) == 0;
}

static void check_point(const struct buf *out, const struct part *id, const struct part *src, const char *meas,
                        const char *fkey, double fval, int64_t level, int64_t t_ns)
{
    struct lpr_point pts[2];
    char err[300];
    int n = lpr_parse(out->data, out->len, pts, 2, err, sizeof err);
    const struct lpr_field *f;

    if (n != 1) {
        fuzz_print_bytes("line protocol", out->data, out->len);
        fuzz_print_bytes("id", id->s, id->len);
        fuzz_fail("InfluxDB reads %d points from one point (%s)", n, n < 0 ? err : "comment or extra lines");
    }
    if (!part_eq(&pts[0].measurement, meas, strlen(meas)) || pts[0].ntags != 2 ||
        !part_eq(lpr_tag(&pts[0], "id"), id->s, id->len) || !part_eq(lpr_tag(&pts[0], "source"), src->s, src->len)) {
        fuzz_print_bytes("line protocol", out->data, out->len);
        fuzz_print_bytes("measurement given", meas, strlen(meas));
        fuzz_print_bytes("measurement read", pts[0].measurement.s, pts[0].measurement.len);
        fuzz_print_bytes("id given", id->s, id->len);
        fuzz_print_bytes("source given", src->s, src->len);
        for (size_t i = 0; i < pts[0].ntags; i++) {
            fuzz_print_bytes("tag key read", pts[0].tags[i].key.s, pts[0].tags[i].key.len);
            fuzz_print_bytes("tag value read", pts[0].tags[i].value.s, pts[0].tags[i].value.len);
        }
        fuzz_fail("the measurement or tag set read back is not the one written");
    }
    f = lpr_field(&pts[0], fkey);
    if (pts[0].nfields != 4 || f == NULL || f->type != LPR_FLOAT || f->f != fval ||
        (f = lpr_field(&pts[0], "TEMP")) == NULL || f->type != LPR_FLOAT || f->f != 36.5 ||
        (f = lpr_field(&pts[0], "stress_level")) == NULL || f->type != LPR_INT || f->i != level ||
        (f = lpr_field(&pts[0], "count")) == NULL || f->type != LPR_INT || f->i != 1 || !pts[0].has_time ||
        pts[0].time_ns != t_ns) {
        fuzz_print_bytes("line protocol", out->data, out->len);
        fuzz_print_bytes("field key given", fkey, strlen(fkey));
        for (size_t i = 0; i < pts[0].nfields; i++)
            fuzz_print_bytes("field key read", pts[0].fields[i].key.s, pts[0].fields[i].key.len);
        fuzz_fail("the fields or time read back are not the ones written (%zu fields; %.17g given)",
                  pts[0].nfields, fval);
    }
    lpr_free(pts, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct part parts[3] = { { 0 } };
    const char *p = (const char *)data, *end = p + size;
    size_t np = 0;
    const char *meas = "nurse_stress", *fkey = "HR";
    double fval = 61.25;
    int64_t level = 2, t_ns = INT64_C(1763719800000000000);

    while (np < 3) {
        const char *nul = np < 2 ? memchr(p, '\0', (size_t)(end - p)) : NULL;
        parts[np].s = p;
        parts[np].len = nul ? (size_t)(nul - p) : (size_t)(end - p);
        np++;
        if (nul == NULL)
            break;
        p = nul + 1;
    }
    struct part id = parts[0];
    struct part src = np > 1 ? parts[1] : (struct part){ "dask-fallback", 13 };
    if (np > 2 && parts[2].len >= 8) {
        memcpy(&fval, parts[2].s, 8);
        if (!isfinite(fval))
            return 0; /* lp_field_float() refuses these; the runner never passes one */
    }
    if (np > 2 && parts[2].len >= 16)
        memcpy(&level, parts[2].s + 8, 8);
    if (np > 2 && parts[2].len >= 24)
        memcpy(&t_ns, parts[2].s + 16, 8);

    /* what the runner (id) and the config (source) refuse is never written */
    if (lp_check(LP_TAG_VALUE, id.s, id.len) || lp_check(LP_TAG_VALUE, src.s, src.len))
        return 0;
    /* InfluxDB's own limits on time, not names: the runner's window_storable() keeps to them */
    if (t_ns < INT64_MIN + 2 || t_ns > INT64_MAX - 1)
        return 0;

    struct buf out = { 0 };
    struct lp_point pt;
    if (lp_begin(&pt, &out, meas) != 0 || lp_tag(&pt, "id", id.s, id.len) != 0 ||
        lp_tag(&pt, "source", src.s, src.len) != 0 || lp_field_float(&pt, fkey, fval) != 0 ||
        lp_field_float(&pt, "TEMP", 36.5) != 0 || lp_field_int(&pt, "stress_level", level) != 0 ||
        lp_field_int(&pt, "count", 1) != 0 || lp_end(&pt, t_ns) != 0)
        fuzz_fail("lineproto refused names lp_check() accepted, or ran out of memory");
    check_point(&out, &id, &src, meas, fkey, fval, level, t_ns);
    buf_free(&out);
    return 0;
}

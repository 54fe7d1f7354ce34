/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_decode.c -- one Kafka message value through the runner's handling,
 * as far as it goes without Kafka: the Avro decoder, then what src/drain.c's
 * handle_message() does with a decoded message (the id checked with
 * lp_check(), the time parsed, the values checked finite, the window), then
 * aggregation and the point the aggregate becomes, read back as InfluxDB
 * reads it (lpread.c).
 *
 * Input: one selector byte, then the message value (a bare Avro datum).
 * Selector bit 0 picks the schema: etc/nurse_sensor_event.avsc (the
 * reference: unions of null and float, string id and time) or
 * tests/fuzz/fuzz_types.avsc (double, int, long and float fields with and
 * without null, arrays, maps, nested and recursive records, enum, fixed,
 * bytes, boolean, arrays of items that take no byte); bit 1 reads the time
 * as local time.
 *
 * Checked, beyond the sanitizers: a decoded id and time are readable for
 * their lengths, and log_escape() and utf8_escape() make of them what log.h
 * and util.h promise (the runner logs refused ids and times, and keeps ids
 * in quarantine as JSON); the message, folded in twice (a producer retry), makes an
 * aggregate whose means are the message's values (unless x + x overflows,
 * which the runner quarantines); its point is one line whose id tag and
 * fields read back exactly. Limits set by run.sh make slow (5 s) or greedy
 * (an allocation of 256 MiB) decoding a finding. Seeds: tests/fuzz/seeds.py. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agg.h"
#include "decode.h"
#include "fuzz.h"
#include "lineproto.h"
#include "log.h"
#include "lpread.h"
#include "util.h"
#include "window.h"

/* writable names: decoder_open takes the config's own (char *) list */
static char ref_names[][8] = { "X", "Y", "Z", "EDA", "HR", "TEMP" }, types_names[][2] = { "a", "b", "c", "d", "e" };
static char *const ref_fields[] = { ref_names[0], ref_names[1], ref_names[2], ref_names[3], ref_names[4], ref_names[5] };
static char *const types_fields[] = { types_names[0], types_names[1], types_names[2], types_names[3], types_names[4] };

static struct {
    struct decoder *dec;
    char *const *fields;
    size_t nfields;
} schemas[2];

/* avro-c lays out a generic record's fields back to back, so with a 4-byte
 * field (boolean, enum, int) before it a pointer sits at an address that is
 * not a multiple of 8. LeakSanitizer's default scan then misses it and
 * reports the nested values of the open decoder as leaked (they are freed
 * by decoder_close()); scanning unaligned words too sees them. */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return "use_unaligned=1";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512];

    (void)argc, (void)argv;
    schemas[0].dec = decoder_open(SPILLWAY_SRCDIR "/etc/nurse_sensor_event.avsc", "id", "datetime", ref_fields, 6,
                                  err, sizeof err);
    schemas[0].fields = ref_fields;
    schemas[0].nfields = 6;
    if (schemas[0].dec == NULL)
        fuzz_fail("decoder_open: %s", err);
    schemas[1].dec = decoder_open(SPILLWAY_SRCDIR "/tests/fuzz/fuzz_types.avsc", "who", "when", types_fields, 5, err,
                                  sizeof err);
    schemas[1].fields = types_fields;
    schemas[1].nfields = 5;
    if (schemas[1].dec == NULL)
        fuzz_fail("decoder_open: %s", err);
    return 0;
}

/* The point as src/drain.c's append_point() writes it. */
static void check_point(const struct agg_entry *e, char *const *fields, size_t nfields)
{
    struct buf out = { 0 };
    struct lp_point p;
    struct lpr_point pts[2];
    char err[300];
    int has;

    /* values near DBL_MAX sum to infinity (agg.h): append_point() quarantines
     * such an aggregate rather than write it */
    for (size_t i = 0; i < nfields; i++) {
        double mean = agg_mean(e, i, &has);
        if (has && !isfinite(mean))
            return;
    }
    if (lp_begin(&p, &out, "nurse_stress") != 0 || lp_tag(&p, "id", e->id, e->id_len) != 0 ||
        lp_tag(&p, "source", "dask-fallback", 13) != 0)
        fuzz_fail("lineproto: out of memory");
    for (size_t i = 0; i < nfields; i++) {
        double mean = agg_mean(e, i, &has);
        if (has && lp_field_float(&p, fields[i], mean) != 0)
            fuzz_fail("field %s: lp_field_float() refused the finite mean %.17g", fields[i], mean);
    }
    if (lp_field_int(&p, "stress_level", 2) != 0 || lp_field_int(&p, "count", e->count) != 0 ||
        lp_end(&p, window_point_time_ns(e->window_ms, e->partition, 1)) != 0)
        fuzz_fail("lineproto: out of memory");

    int n = lpr_parse(out.data, out.len, pts, 2, err, sizeof err);
    if (n != 1) {
        fuzz_print_bytes("line protocol", out.data, out.len);
        fuzz_fail("InfluxDB reads %d points from one aggregate (%s)", n, n < 0 ? err : "comment or extra lines");
    }
    const struct lpr_str *id = lpr_tag(&pts[0], "id");
    if (pts[0].ntags != 2 || id == NULL || id->len != e->id_len || memcmp(id->s, e->id, e->id_len) != 0) {
        fuzz_print_bytes("line protocol", out.data, out.len);
        fuzz_fail("the id tag read back is not the id written");
    }
    for (size_t i = 0; i < nfields; i++) {
        double mean = agg_mean(e, i, &has);
        const struct lpr_field *f = lpr_field(&pts[0], fields[i]);
        if (has != (f != NULL) || (f && (f->type != LPR_FLOAT || f->f != mean))) {
            fuzz_print_bytes("line protocol", out.data, out.len);
            fuzz_fail("field %s read back differs from the mean %.17g written", fields[i], mean);
        }
    }
    lpr_free(pts, 1);
    buf_free(&out);
}

/* RFC 3629 UTF-8 (no overlong form, no surrogate, nothing above U+10FFFF),
 * written here rather than taken from src/util.c; *c1 is set when a C1
 * control character (U+0080-U+009F) occurs. */
static int utf8_ok(const unsigned char *s, size_t len, int *c1)
{
    *c1 = 0;
    for (size_t i = 0; i < len;) {
        unsigned char b = s[i];
        size_t n = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 : (b & 0xf8) == 0xf0 ? 4 : 0;
        uint32_t cp = n == 1 ? b : n == 2 ? b & 0x1fu : n == 3 ? b & 0x0fu : b & 0x07u;
        if (n == 0 || i + n > len)
            return 0;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        *c1 |= cp >= 0x80 && cp <= 0x9f;
        i += n;
    }
    return 1;
}

/* A refused message is logged with its id or time in the reason, and an
 * aggregate is kept in quarantine as JSON with its id: log_escape() must make
 * any bytes one line that reads back to them (log.h), utf8_escape() valid
 * UTF-8 that jansson takes (util.h). */
static void check_escapes(const char *s, size_t len)
{
    size_t cap = 4 * len + 8, n, back = 0;
    char *out = malloc(cap), *dec = malloc(len + 1);
    struct buf b = { 0 };
    int c1;

    if (out == NULL || dec == NULL)
        fuzz_fail("out of memory");
    n = log_escape(out, cap, s, len, 0);
    fuzz_check(n < cap && out[n] == '\0', "log_escape(): length %zu of %zu, or no NUL", n, cap);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f) {
            fuzz_print_bytes("in", s, len);
            fuzz_fail("log_escape() left control byte 0x%02x at %zu", (unsigned char)out[i], i);
        }
    if (!utf8_ok((const unsigned char *)out, n, &c1) || c1) {
        fuzz_print_bytes("in", s, len);
        fuzz_print_bytes("out", out, n);
        fuzz_fail("log_escape() wrote %s", c1 ? "a C1 control character" : "invalid UTF-8");
    }
    /* read it back: \\ is a backslash, \xNN byte NN, any other backslash itself */
    for (size_t i = 0; i < n && back <= len;) {
        if (out[i] == '\\' && i + 1 < n && out[i + 1] == '\\') {
            dec[back++] = '\\';
            i += 2;
        } else if (out[i] == '\\' && i + 3 < n && out[i + 1] == 'x' && isxdigit((unsigned char)out[i + 2]) &&
                   isxdigit((unsigned char)out[i + 3])) {
            char hx[3] = { out[i + 2], out[i + 3], 0 };
            dec[back++] = (char)strtol(hx, NULL, 16);
            i += 4;
        } else {
            dec[back++] = out[i++];
        }
    }
    if (back != len || memcmp(dec, s, len) != 0) {
        fuzz_print_bytes("in", s, len);
        fuzz_print_bytes("escaped", out, n);
        fuzz_print_bytes("read back", dec, back < len ? back : len);
        fuzz_fail("log_escape() does not read back to its input");
    }
    /* cut short, as a log line's reason is: a prefix of the whole, then "..." */
    char small[40];
    size_t m = log_escape(small, sizeof small, s, len, 1);
    fuzz_check(m < sizeof small && small[m] == '\0' && m >= 3 && memcmp(small + m - 3, "...", 3) == 0 &&
                   m - 3 <= n && memcmp(small, out, m - 3) == 0,
               "log_escape(cut): not a prefix of the whole escape followed by \"...\"");

    if (utf8_escape(&b, s, len) != 0)
        fuzz_fail("utf8_escape(): out of memory");
    if (!utf8_ok((const unsigned char *)(b.data ? b.data : ""), b.len, &c1)) {
        fuzz_print_bytes("in", s, len);
        fuzz_fail("utf8_escape() wrote invalid UTF-8");
    }
    json_t *j = json_stringn(b.data ? b.data : "", b.len);
    fuzz_check(j != NULL, "jansson refuses what utf8_escape() wrote");
    json_decref(j);
    buf_free(&b);
    free(out);
    free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct decoded d;
    char why[512];
    int64_t t_ms, window_ms;

    if (size < 1)
        return 0;
    int which = data[0] & 1, local = (data[0] >> 1) & 1;
    struct decoder *dec = schemas[which].dec;
    size_t nfields = schemas[which].nfields;
    const uint8_t *msg = data + 1;
    size_t len = size - 1;

    /* handle_message(), step by step */
    if (len == 0)
        return 0; /* quarantined: empty message */
    if (decode_message(dec, msg, len, &d, why, sizeof why) != 0) {
        fuzz_check(why[0] != '\0', "decode_message() failed without a reason");
        return 0; /* quarantined with why */
    }
    /* the walk reads exactly what avro-c's own reader reads */
    {
        struct decoded b;
        char why2[512];
        fuzz_check(decode_message_avro(dec, msg, len, &b, why2, sizeof why2) == 0,
                   "avro-c refused a datum the walk accepted: %s", why2);
        fuzz_check(d.has_id == b.has_id && d.has_time == b.has_time, "null id or time read differently");
        fuzz_check(!d.has_id || (d.id_len == b.id_len && memcmp(d.id, b.id, d.id_len) == 0), "the id read differently");
        fuzz_check(!d.has_time || (d.time_len == b.time_len && memcmp(d.time, b.time, d.time_len) == 0),
                   "the time read differently");
        for (size_t i = 0; i < nfields; i++)
            fuzz_check(d.present[i] == b.present[i] &&
                           (!d.present[i] || memcmp(&d.values[i], &b.values[i], sizeof d.values[i]) == 0),
                       "field %zu read differently", i);
    }
    /* ASan: the id and time are readable for their lengths */
    if (d.has_id)
        check_escapes(d.id, d.id_len);
    if (d.has_time)
        check_escapes(d.time, d.time_len);
    if (!d.has_id || lp_check(LP_TAG_VALUE, d.id, d.id_len) != NULL || !d.has_time ||
        window_parse_time(d.time, d.time_len, local, &t_ms) != 0)
        return 0; /* quarantined */
    for (size_t i = 0; i < nfields; i++)
        if (d.present[i] && !isfinite(d.values[i]))
            return 0; /* quarantined: NaN or infinite */
    window_ms = window_start(t_ms, 30 * 1000);
    if (!window_storable(window_ms))
        return 0; /* quarantined: outside what InfluxDB stores */

    /* aggregation: the same message twice, as a producer's retry delivers it */
    struct agg a;
    agg_init(&a, nfields);
    for (int64_t off = 0; off < 2; off++)
        if (agg_add(&a, d.id, d.id_len, window_ms, 0, off, d.values, d.present, 50000) != AGG_ADDED)
            fuzz_fail("agg_add() did not fold in a message");
    fuzz_check(a.count == 1 && a.entries[0].count == 2, "one id and window made %zu aggregates", a.count);
    for (size_t i = 0; i < nfields; i++) {
        int has;
        double mean = agg_mean(&a.entries[0], i, &has);
        fuzz_check(has == d.present[i], "field %zu: has %d, present %d", i, has, d.present[i]);
        /* the mean of x and x is x, unless x + x overflows (agg.h) */
        if (has && isfinite(mean))
            fuzz_check(mean == d.values[i], "field %zu: mean %.17g of %.17g twice", i, mean, d.values[i]);
    }
    check_point(&a.entries[0], schemas[which].fields, nfields);
    agg_free(&a);
    return 0;
}

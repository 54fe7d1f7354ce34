/* SPDX-License-Identifier: BSD-2-Clause */
/* test_decode.c -- the Avro decoder on datums encoded by python-avro
 * (tests/helpers/avro_fixtures.py), truncated datums and garbage. */
#include <math.h>
#include <stdlib.h>

#include "decode.h"
#include "tap.h"

static const char *fixtures(void)
{
    const char *d = getenv("SPILLWAY_FIXTURES");
    return d ? d : "build/tests/fixtures";
}

static size_t slurp(const char *name, unsigned char *buf, size_t cap)
{
    char path[512];
    FILE *fp;
    size_t n;

    snprintf(path, sizeof path, "%s/%s.bin", fixtures(), name);
    fp = fopen(path, "rb");
    if (fp == NULL) {
        printf("Bail out! cannot open fixture %s (run make test)\n", path);
        exit(1);
    }
    n = fread(buf, 1, cap, fp);
    fclose(fp);
    return n;
}

/* decode_message() against avro-c's own reader, on the same bytes */
static int same_as_avro(struct decoder *dec, const unsigned char *buf, size_t n, size_t nfields)
{
    struct decoded a, b;
    char err[256];

    if (decode_message(dec, buf, n, &a, err, sizeof err) != 0 || decode_message_avro(dec, buf, n, &b, err, sizeof err) != 0)
        return 0;
    if (a.has_id != b.has_id || a.has_time != b.has_time || (a.has_id && (a.id_len != b.id_len || memcmp(a.id, b.id, a.id_len))) ||
        (a.has_time && (a.time_len != b.time_len || memcmp(a.time, b.time, a.time_len))))
        return 0;
    for (size_t i = 0; i < nfields; i++)
        if (a.present[i] != b.present[i] || (a.present[i] && memcmp(&a.values[i], &b.values[i], sizeof a.values[i])))
            return 0;
    return 1;
}

int main(void)
{
    /* writable names: decoder_open takes the config's own (char *) list */
    static char nurse_names[][8] = { "X", "Y", "Z", "EDA", "HR", "TEMP" }, num_names[][2] = { "a", "b", "c", "d" };
    char *nurse_fields[6], *num_fields[4];
    for (size_t i = 0; i < 6; i++)
        nurse_fields[i] = nurse_names[i];
    for (size_t i = 0; i < 4; i++)
        num_fields[i] = num_names[i];
    unsigned char buf[256], garbage[64];
    char err[512];
    struct decoded d;
    size_t n;
    struct decoder *dec = decoder_open("etc/nurse_sensor_event.avsc", "id", "datetime", nurse_fields, 6, err,
                                       sizeof err);

    ok(dec != NULL, "the reference schema opens: %s", dec ? "" : err);
    if (dec == NULL)
        return tap_done();

    n = slurp("full", buf, sizeof buf);
    is_int(decode_message(dec, buf, n, &d, err, sizeof err), 0, "a full datum decodes");
    ok(d.has_id && d.id_len == 7 && memcmp(d.id, "nurse-7", 7) == 0, "id");
    ok(d.has_time && d.time_len == 23 && memcmp(d.time, "2026-11-21 10:00:00.250", 23) == 0, "datetime");
    ok(d.present[0] && d.values[0] == 1.5, "X = 1.5");
    ok(d.present[1] && d.values[1] == -2.25, "Y = -2.25");
    ok(d.present[4] && d.values[4] == 88.0, "HR = 88");
    ok(d.present[5] && d.values[5] == 36.5, "TEMP = 36.5");

    n = slurp("nulls", buf, sizeof buf);
    is_int(decode_message(dec, buf, n, &d, err, sizeof err), 0, "a datum with nulls decodes");
    ok(!d.present[0] && d.present[1] && !d.present[2] && !d.present[4], "null fields are absent, others present");
    ok(d.id_len == 15 && memcmp(d.id, "6D,source=flink", 15) == 0, "an id with , and = decodes as is");

    n = slurp("allnull", buf, sizeof buf);
    is_int(decode_message(dec, buf, n, &d, err, sizeof err), 0, "an all-null datum decodes");
    ok(!d.has_id && !d.has_time, "null id and time are reported as null");

    n = slurp("unicode", buf, sizeof buf);
    is_int(decode_message(dec, buf, n, &d, err, sizeof err), 0, "a UTF-8 id decodes");
    ok(d.id_len == strlen("infirmière-α") && memcmp(d.id, "infirmière-α", d.id_len) == 0, "UTF-8 bytes kept");

    n = slurp("full", buf, sizeof buf);
    for (size_t cut = 1; cut < n; cut += 7) {
        err[0] = '\0';
        is_int(decode_message(dec, buf, n - cut, &d, err, sizeof err), -1, "truncated by %zu bytes: refused", cut);
    }
    ok(strstr(err, "not a datum of the schema") != NULL, "the reason says so: %s", err);
    buf[n] = 0;
    is_int(decode_message(dec, buf, n + 1, &d, err, sizeof err), -1, "a trailing byte is refused");
    ok(strstr(err, "trailing bytes") != NULL, "and named: %s", err);

    memset(garbage, 0xff, sizeof garbage);
    is_int(decode_message(dec, garbage, sizeof garbage, &d, err, sizeof err), -1, "0xff bytes are refused");
    is_int(decode_message(dec, "hello, world", 12, &d, err, sizeof err), -1, "text is refused");
    garbage[0] = 0x04; /* union branch 2 of a 2-branch union */
    is_int(decode_message(dec, garbage, sizeof garbage, &d, err, sizeof err), -1, "a bad union branch is refused");
    is_int(decode_message(dec, "", 0, &d, err, sizeof err), -1, "no bytes at all is refused");
    /* X..TEMP null (branch 0), then id in branch 1 with string length -1
     * (zigzag 0x01): avro-c alone calls it "out of memory" */
    static const unsigned char neg[] = { 0, 0, 0, 0, 0, 0, 2, 1, 0 };
    is_int(decode_message(dec, neg, sizeof neg, &d, err, sizeof err), -1, "a negative string length is refused");
    ok(strstr(err, "negative length at byte 8") != NULL, "before avro-c reads it: %s", err);
    static const unsigned char huge[] = { 0, 0, 0, 0, 0, 0, 2, 0xfe, 0xff, 0xff, 0xff, 0x0f };
    is_int(decode_message(dec, huge, sizeof huge, &d, err, sizeof err), -1, "a 2 GiB string length is refused");
    ok(strstr(err, "truncated value") != NULL, "without allocating it: %s", err);
    static const unsigned char longnum[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    is_int(decode_message(dec, longnum, sizeof longnum, &d, err, sizeof err), -1, "an 11-byte varint is refused");
    static const char *const all[] = { "full", "nulls", "allnull", "unicode" };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        n = slurp(all[i], buf, sizeof buf);
        ok(same_as_avro(dec, buf, n, 6), "%s: the walk reads what avro-c's reader reads", all[i]);
    }
    /* the decoder is still usable after errors */
    n = slurp("full", buf, sizeof buf);
    is_int(decode_message(dec, buf, n, &d, err, sizeof err), 0, "a good datum decodes after bad ones");
    ok(d.values[4] == 88.0, "with the right values");
    decoder_close(dec);

    dec = decoder_open("tests/unit/fixtures/numeric.avsc", "who", "when", num_fields, 4, err, sizeof err);
    ok(dec != NULL, "a schema with int, long, double and float opens: %s", dec ? "" : err);
    if (dec) {
        n = slurp("numeric", buf, sizeof buf);
        is_int(decode_message(dec, buf, n, &d, err, sizeof err), 0, "it decodes");
        ok(d.values[0] == -42.0, "int -42");
        ok(d.values[1] == 9007199254740992.0, "long 2^53+1 becomes the nearest double");
        ok(d.values[2] == 2.718281828459045, "double exact");
        ok(d.values[3] == (double)0.1f, "float is the float32 value");
        n = slurp("numeric_nulls", buf, sizeof buf);
        is_int(decode_message(dec, buf, n, &d, err, sizeof err), 0, "nulls in either union order");
        ok(!d.present[1] && !d.present[2] && d.present[0] && d.present[3], "b and c null, a and d present");
        ok(d.has_id && d.id_len == 0, "an empty string is present, with length 0");
        ok(same_as_avro(dec, buf, n, 4), "numeric_nulls: the walk reads what avro-c's reader reads");
        n = slurp("numeric", buf, sizeof buf);
        ok(same_as_avro(dec, buf, n, 4), "numeric: the walk reads what avro-c's reader reads");
        decoder_close(dec);
    }

    static struct { const char *id, *time; char field[8]; const char *want; } bad[] = {
        { "nope", "datetime", "X", "the schema has no field \"nope\"" },
        { "id", "datetime", "id", "field \"id\" must be an int, long, float or double" },
        { "X", "datetime", "Y", "field \"X\" must be a string" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *f[] = { bad[i].field };
        dec = decoder_open("etc/nurse_sensor_event.avsc", bad[i].id, bad[i].time, f, 1, err, sizeof err);
        ok(dec == NULL && strstr(err, bad[i].want) && strstr(err, "etc/nurse_sensor_event.avsc"),
           "schema mismatch names file and field: %s", err);
        decoder_close(dec);
    }
    dec = decoder_open("/nonexistent.avsc", "id", "datetime", nurse_fields, 6, err, sizeof err);
    ok(dec == NULL && strstr(err, "/nonexistent.avsc: cannot open the schema"), "missing schema: %s", err);
    dec = decoder_open("Makefile", "id", "datetime", nurse_fields, 6, err, sizeof err);
    ok(dec == NULL && strstr(err, "Makefile: not a valid Avro schema"), "not a schema: %.60s", err);
    return tap_done();
}

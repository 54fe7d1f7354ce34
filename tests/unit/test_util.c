/* SPDX-License-Identifier: BSD-2-Clause */
/* test_util.c -- url_redact(): the credentials of URLs masked in any text
 * that can reach output, and nothing else changed; the growable buffer,
 * round-trip double formatting, ISO times and UTF-8 escaping. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "tap.h"
#include "util.h"

static char out[1024];

static void diag_printf(const char *s)
{
    printf("#   not read back: %s\n", s);
}

static const char *redact(const char *text)
{
    url_redact(out, sizeof out, text, strlen(text));
    return out;
}

static void buffers(void)
{
    struct buf b = { 0 };
    size_t total = 0;
    int fails = 0;

    for (int i = 0; i < 10000; i++) {
        fails += buf_printf(&b, "%d,", i) != 0;
        total += (size_t)snprintf(NULL, 0, "%d,", i);
    }
    ok(fails == 0 && b.len == total && b.len < b.cap, "10,000 appends grow the buffer, its length exact, a NUL after it");
    ok(memcmp(b.data, "0,1,2,", 6) == 0 && strcmp(b.data + b.len - 5, "9999,") == 0, "the contents in order");
    buf_reset(&b);
    ok(b.len == 0 && b.data[0] == '\0', "reset empties it, keeping it a string");
    ok(buf_append(&b, "a\0b", 3) == 0 && b.len == 3 && memcmp(b.data, "a\0b", 3) == 0, "bytes go in as they are, NUL too");
    buf_free(&b);
    ok(b.data == NULL && b.len == 0, "free leaves an empty buffer");
}

static void doubles(void)
{
    static const double v[] = { 36.7, 0.1, -0.0, 1e-300, 5e-324, DBL_MAX, -DBL_MAX, 1.0 / 3, 123456789012345678.0, 0 };
    static const char *const shortest[] = { "36.7", "0.1" };
    char text[32];
    int bad = 0;

    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        fmt_double(text, sizeof text, v[i]);
        if (strtod(text, NULL) != v[i] || signbit(strtod(text, NULL)) != signbit(v[i]))
            bad++, diag_printf(text);
    }
    is_int(bad, 0, "every value reads back exactly, sign of zero included");
    fmt_double(text, sizeof text, 36.7);
    is_str(text, shortest[0], "the shortest form: 36.7, not 36.700000000000003");
    fmt_double(text, sizeof text, 0.1);
    is_str(text, shortest[1], "and 0.1");
}

static void times(void)
{
    char text[32];

    fmt_iso_ms(text, sizeof text, 0);
    is_str(text, "1970-01-01T00:00:00.000Z", "the epoch");
    fmt_iso_ms(text, sizeof text, 1795277481123LL);
    is_str(text, "2026-11-21T16:11:21.123Z", "milliseconds kept, UTC");
}

static void escaping(void)
{
    struct buf b = { 0 };

    ok(utf8_escape(&b, "caf\xc3\xa9 \xe2\x82\xac", 9) == 0, "escape valid UTF-8");
    is_str(b.data, "caf\xc3\xa9 \xe2\x82\xac", "valid UTF-8 goes through unchanged");
    buf_reset(&b);
    utf8_escape(&b, "a\xff\xc0\xafz\xed\xa0\x80", 8);
    is_str(b.data, "a\\xff\\xc0\\xafz\\xed\\xa0\\x80",
           "a stray byte, an overlong form and a surrogate become \\xNN, byte by byte");
    buf_reset(&b);
    utf8_escape(&b, "\xe2\x82", 2);
    is_str(b.data, "\\xe2\\x82", "a sequence cut short is escaped too");
    is_int(utf8_valid_prefix((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4, "a 4-byte sequence is valid");
    is_int(utf8_valid_prefix((const unsigned char *)"\xf4\x90\x80\x80", 4), 0, "beyond U+10FFFF is not");
    buf_free(&b);
}

int main(void)
{
    is_str(redact("http://admin:hunter2@influxdb:8086"), "http://admin:***@influxdb:8086",
           "the userinfo password is masked, the user stays");
    is_str(redact("https://u:p@h:1/write?db=flink_sink&precision=ns"), "https://u:***@h:1/write?db=flink_sink&precision=ns",
           "path and harmless parameters stay");
    is_str(redact("http://influxdb:8086/query?db=x&u=admin&p=hunter2&q=SELECT"),
           "http://influxdb:8086/query?db=x&u=admin&p=***&q=SELECT", "a p= parameter is masked");
    is_str(redact("http://ml:5000/predict?token=abc&x=1&PASSWORD=def;secret=ghi#frag"),
           "http://ml:5000/predict?token=***&x=1&PASSWORD=***;secret=***#frag",
           "token=, password= (any case) and secret= too, with & or ; between");
    is_str(redact("http://ml/p?api_key=1&apikey=2&access_token=3&client_secret=4&p2=5"),
           "http://ml/p?api_key=***&apikey=***&access_token=***&client_secret=***&p2=5",
           "and the other credential names; p2 is not p");
    is_str(redact("http://user@host:8086/"), "http://user@host:8086/", "a user without a password stays");
    is_str(redact("http://user:@host/?p="), "http://user:@host/?p=", "empty secrets stay empty");
    is_str(redact("http://host:8086/path"), "http://host:8086/path", "a URL without credentials is unchanged");
    is_str(redact("no url here: a:b@c"), "no url here: a:b@c", "without :// nothing is a URL");
    is_str(redact("JobManager http://f:s3@127.0.0.1:9/overview: Couldn't connect; InfluxDB http://i:s4@h answered 500"),
           "JobManager http://f:***@127.0.0.1:9/overview: Couldn't connect; InfluxDB http://i:***@h answered 500",
           "every URL inside a message, each ending at a space");
    is_str(redact("url: \"http://a:b@c\", then 'https://d:e@f'"), "url: \"http://a:***@c\", then 'https://d:***@f'",
           "a quote ends a URL");
    is_str(redact("http://u:p@ss/w@rd@host/x"), "http://u:***@host/x",
           "a password holding an unencoded '@' or '/' is masked whole");
    is_str(redact("http://u:pw@host/?email=a@b"), "http://u:***@host/?email=a@b", "an '@' in the query is not userinfo");
    is_str(redact("http://u:p%40w@host"), "http://u:***@host", "a percent-encoded password is masked");
    is_str(redact("sasl_ssl://broker:9093,SSL://b2:9093"), "sasl_ssl://broker:9093,SSL://b2:9093",
           "bootstrap servers with a protocol are left alone");

    char small[16];
    size_t n = url_redact(small, sizeof small, "see http://user:verysecret@host", 31);
    is_int(n, strlen("see http://user:***@host"), "the return is the whole result's length, as snprintf's");
    is_str(small, "see http://user", "out holds its beginning, NUL-terminated");
    n = url_redact(small, sizeof small, "x http://u:verysecretpassword@h", 31);
    ok(strstr(small, "very") == NULL, "a cut result never holds a piece of the secret: \"%s\"", small);
    is_int(url_redact(NULL, 0, "http://a:b@c", 12), 14, "NULL, 0 measures");
    is_str((url_redact(out, sizeof out, "a\0http://u:p@h", 15), out + 2), "http://u:***@h",
           "text is taken by its length, NULs included");

    is_int(url_has_secret("http://a:b@c"), 1, "a password is a secret");
    is_int(url_has_secret("http://c/?token=t"), 1, "a token parameter is a secret");
    is_int(url_has_secret("false http://runner:pw@127.0.0.1:9/"), 1, "inside a command too");
    is_int(url_has_secret("http://a@c/?p="), 0, "a user, an empty p=: no secret");
    is_int(url_has_secret(""), 0, "an empty value holds none");

    buffers();
    doubles();
    times();
    escaping();
    return tap_done();
}

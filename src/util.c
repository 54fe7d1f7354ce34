/* SPDX-License-Identifier: BSD-2-Clause */
/* util.c -- byte buffers, number formatting, clocks, UTF-8 escaping and URL credential masking. */
#include "util.h"

#include <errno.h>
#include <strings.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int buf_reserve(struct buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    size_t cap;
    char *p;

    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (p == NULL)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const char *data, size_t len)
{
    if (buf_reserve(b, len) != 0)
        return -1;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list again;
    int n;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0 || buf_reserve(b, (size_t)n) != 0) {
        va_end(again);
        return -1;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
    va_end(again);
    b->len += (size_t)n;
    return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void *array_grow(void *p, size_t *cap, size_t elem, size_t first)
{
    size_t n = *cap ? *cap * 2 : first;
    void *grown = n > *cap && n <= SIZE_MAX / elem ? realloc(p, n * elem) : NULL;

    if (grown)
        *cap = n;
    return grown;
}

void fmt_double(char *out, size_t outsz, double v)
{
    /* 15 significant digits are enough for most means; fall back to 17,
     * which always round-trips. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, outsz, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t now_mono_ms(void) { return clock_ms(CLOCK_MONOTONIC); }
int64_t now_wall_ms(void) { return clock_ms(CLOCK_REALTIME); }

void fmt_iso_ms(char *out, size_t outsz, int64_t epoch_ms)
{
    time_t secs = (time_t)(epoch_ms >= 0 ? epoch_ms / 1000 : (epoch_ms - 999) / 1000);
    int ms = (int)(epoch_ms - (int64_t)secs * 1000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

void sleep_ms(int64_t ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

size_t utf8_valid_prefix(const unsigned char *s, size_t len)
{
    /* the length of the valid UTF-8 sequence starting at s, 0 when none:
     * no overlong forms, no surrogates, nothing above U+10FFFF */
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

int utf8_escape(struct buf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;

    for (size_t i = 0; i < len;) {
        size_t n = utf8_valid_prefix(u + i, len - i);
        if (n > 0) {
            if (buf_append(b, s + i, n) != 0)
                return -1;
            i += n;
        } else {
            if (buf_printf(b, "\\x%02x", u[i]) != 0)
                return -1;
            i++;
        }
    }
    if (b->data == NULL && buf_append(b, "", 0) != 0)
        return -1;
    return 0;
}

/* The output of url_redact: what fits in out, and the length of the whole. */
struct redact_out {
    char *p;
    size_t cap, len;
    size_t masked; /* how many secrets were replaced */
};

static void redact_put(struct redact_out *o, const char *s, size_t n)
{
    size_t room = o->cap > o->len + 1 ? o->cap - 1 - o->len : 0;

    if (room > 0)
        memcpy(o->p + o->len, s, n < room ? n : room);
    o->len += n;
}

static void redact_mask(struct redact_out *o)
{
    redact_put(o, "***", 3);
    o->masked++;
}

/* Bytes that cannot be part of a URL written in a message. */
static int url_end_byte(unsigned char c)
{
    return c <= 0x20 || c == 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`';
}

static int secret_param(const char *name, size_t n)
{
    static const char *const names[] = {
        "p", "password", "token", "access_token", "api_key", "apikey", "secret", "client_secret",
    };

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && strncasecmp(names[i], name, n) == 0)
            return 1;
    return 0;
}

/* One URL's part after "://": t[0..end). */
static void redact_url(struct redact_out *o, const char *t, size_t end)
{
    size_t q = 0, at = 0, pos;
    const char *colon;
    int has_at = 0;

    while (q < end && t[q] != '?' && t[q] != '#')
        q++;
    for (size_t i = 0; i < q; i++) {
        if (t[i] == '@') {
            at = i;
            has_at = 1;
        }
    }
    colon = has_at ? memchr(t, ':', at) : NULL;
    if (colon && (size_t)(colon - t) + 1 < at) {
        redact_put(o, t, (size_t)(colon - t) + 1);
        redact_mask(o);
        redact_put(o, t + at, q - at);
    } else {
        redact_put(o, t, q);
    }
    pos = q;
    if (pos < end && t[pos] == '?') {
        redact_put(o, "?", 1);
        pos++;
        while (pos < end && t[pos] != '#') {
            size_t pe = pos;
            const char *eq;
            while (pe < end && t[pe] != '&' && t[pe] != ';' && t[pe] != '#')
                pe++;
            eq = memchr(t + pos, '=', pe - pos);
            if (eq && secret_param(t + pos, (size_t)(eq - t) - pos) && (size_t)(eq - t) + 1 < pe) {
                redact_put(o, t + pos, (size_t)(eq - t) + 1 - pos);
                redact_mask(o);
            } else {
                redact_put(o, t + pos, pe - pos);
            }
            pos = pe;
            if (pos < end && t[pos] != '#')
                redact_put(o, t + pos++, 1); /* the separator */
        }
    }
    redact_put(o, t + pos, end - pos); /* the fragment, if any */
}

static void redact_text(struct redact_out *o, const char *text, size_t len)
{
    size_t i = 0;

    while (i < len) {
        const char *sep = memmem(text + i, len - i, "://", 3);
        size_t start, end;

        if (sep == NULL) {
            redact_put(o, text + i, len - i);
            break;
        }
        start = (size_t)(sep - text) + 3;
        redact_put(o, text + i, start - i);
        for (end = start; end < len && !url_end_byte((unsigned char)text[end]); end++)
            ;
        redact_url(o, text + start, end - start);
        i = end;
    }
    if (o->cap > 0)
        o->p[o->len < o->cap ? o->len : o->cap - 1] = '\0';
}

size_t url_redact(char *out, size_t outsz, const char *text, size_t len)
{
    struct redact_out o = { .p = out, .cap = outsz };

    redact_text(&o, text, len);
    return o.len;
}

int url_has_secret(const char *text)
{
    struct redact_out o = { 0 };

    redact_text(&o, text, strlen(text));
    return o.masked > 0;
}

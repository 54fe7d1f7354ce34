/* SPDX-License-Identifier: BSD-2-Clause */
/* util.h -- small helpers shared by several modules: a growable byte buffer,
 * the shortest round-trip formatting of doubles, monotonic and wall clocks,
 * ISO times, a sleep, the masking of credentials in URLs before they reach
 * any output, and UTF-8 validation and escaping. */
#ifndef SPILLWAY_UTIL_H
#define SPILLWAY_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* A growable buffer; always NUL-terminated after a successful append. The
 * zero value is an empty buffer. buf_free() releases it. */
struct buf {
    char *data;
    size_t len;
    size_t cap;
};

/* Append bytes / a formatted string. Return 0, or -1 when memory runs out
 * (the buffer keeps its previous contents). */
int buf_append(struct buf *b, const char *data, size_t len);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

/* An array p of *cap elements of elem bytes made twice as long (first
 * elements when empty): the new array, *cap updated; NULL (p and *cap
 * untouched) when memory runs out. */
void *array_grow(void *p, size_t *cap, size_t elem, size_t first);

/* Write the shortest decimal that reads back as exactly v ("36.7", not
 * "36.700000000000003") into out (at least 32 bytes). v must be finite. */
void fmt_double(char *out, size_t outsz, double v);

/* Milliseconds on CLOCK_MONOTONIC (for timeouts) and CLOCK_REALTIME. */
int64_t now_mono_ms(void);
int64_t now_wall_ms(void);

/* Format epoch milliseconds as "2026-11-21T15:11:21.123Z" into out (>= 32). */
void fmt_iso_ms(char *out, size_t outsz, int64_t epoch_ms);

/* Sleep for ms milliseconds, resuming after signals: retry back-off, and
 * the short waits between two looks at something another process changes (a
 * lock a checker holds for microseconds, lock.c; a notifier's exit,
 * notify.c). Never a wait for a race to come out right. */
void sleep_ms(int64_t ms);

/* Copy len bytes of text (NULs included) to out, with the credentials of
 * every URL in it replaced by "***", so that a configured URL can be shown in
 * a log line, a doctor line, an error stored in the state or `status`:
 *   - the password of the userinfo: "http://user:pw@host" -> "http://user:***@host"
 *     (the user name stays, operators need it to debug authentication; a
 *     URL with a user and no password is left as it is);
 *   - the value of a query parameter named p, password, token, access_token,
 *     api_key, apikey, secret or client_secret (any case):
 *     "...?u=me&p=pw" -> "...?u=me&p=***".
 * A URL is found by its "://"; it ends at a space, a control byte, a quote,
 * '<', '>', '`' or the end of the text. Its userinfo is everything before the
 * last '@' ahead of the first '?' or '#', so a password holding an unencoded
 * '/' or '@' is masked whole (at worst a path holding '@' is over-masked).
 * An empty password or parameter value is left as it is.
 * out receives at most outsz - 1 bytes and a NUL (out may be NULL when outsz
 * is 0). Returns the length of the whole result, as snprintf does: a return
 * >= outsz means out holds its beginning, which never holds a secret. */
size_t url_redact(char *out, size_t outsz, const char *text, size_t len);

/* 1 when url_redact() would mask something in text (NUL-terminated), else 0:
 * a config value that holds a credential in a URL. */
int url_has_secret(const char *text);

/* The length (1 to 4) of the valid UTF-8 sequence at s[0..len), len >= 1,
 * or 0 when s does not begin one (overlong forms and surrogates are not
 * valid). */
size_t utf8_valid_prefix(const unsigned char *s, size_t len);

/* Append s to b as valid UTF-8: valid sequences as they are, any other byte
 * as the four characters \xNN. Returns 0, or -1 when memory runs out. */
int utf8_escape(struct buf *b, const char *s, size_t len);

#endif

/* util.h -- small helpers shared by several modules: a growable byte buffer,
 * the shortest round-trip formatting of doubles, monotonic and wall clocks. */
#ifndef SPILLWAY_UTIL_H
#define SPILLWAY_UTIL_H

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
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

/* Write the shortest decimal that reads back as exactly v ("36.7", not
 * "36.700000000000003") into out (at least 32 bytes). v must be finite. */
void fmt_double(char *out, size_t outsz, double v);

/* Milliseconds on CLOCK_MONOTONIC (for timeouts) and CLOCK_REALTIME. */
int64_t now_mono_ms(void);
int64_t now_wall_ms(void);

/* Format epoch milliseconds as "2026-11-21T15:11:21.123Z" into out (>= 32). */
void fmt_iso_ms(char *out, size_t outsz, int64_t epoch_ms);

/* Sleep for ms milliseconds, resuming after signals; used only for retry
 * back-off, never to wait for another process. */
void sleep_ms(int64_t ms);

#endif

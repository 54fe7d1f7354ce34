/* SPDX-License-Identifier: BSD-2-Clause */
/* influx.h -- InfluxDB 1.x over HTTP: the runner's writes to /write, with
 * retries, and the checker's latency query to /query.
 *
 * One kept-alive connection; each call is one HTTP request (split in two on
 * 413 "too large"). 204 is success. 5xx, timeouts and transport errors are
 * retried retry_attempts times with back-off. Any other answer is final:
 * 400 or 2.x's 422 with InfluxDB's own JSON error (syntax, field type
 * conflict, partial write) means points were refused; the same codes with
 * any other body (a proxy's) mean the write failed; 401/403/404 mean the
 * credentials or the database are wrong. */
#ifndef SPILLWAY_INFLUX_H
#define SPILLWAY_INFLUX_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "util.h"

enum influx_result {
    INFLUX_OK = 0,
    INFLUX_UNAVAILABLE, /* still 5xx / unreachable after the retries; a 400 that is not InfluxDB's */
    INFLUX_REJECTED,    /* 400 or 422 from InfluxDB: points were refused (a partial write) */
    INFLUX_DENIED,      /* 401, 403, 404, other 4xx: configuration */
};

struct influx;

/* The runner's writer for cfg's [influxdb] (cfg must outlive it). Makes no
 * request: a wrong URL or credentials show on the first write. NULL with
 * the reason in err when libcurl cannot be set up. influx_close(NULL) is a
 * no-op. */
struct influx *influx_open(const struct config *cfg, char *err, size_t errsz);
void influx_close(struct influx *ix);

/* Write body (len bytes of newline-terminated lines). Returns the outcome;
 * anything but INFLUX_OK comes with the server's answer in err. */
enum influx_result influx_write(struct influx *ix, const char *body, size_t len, char *err, size_t errsz);

/* Where to cut body (len bytes of newline-terminated lines) in two on a
 * 413: just after the line end nearest its middle; len when it is a single
 * line. */
size_t influx_split_point(const char *body, size_t len);

/* The checker's latency probe, on a handle of its own: the time (epoch ms)
 * of the newest value of [check] latency_field in latency_measurement within
 * the last lookback_seconds, AND-ed with latency_where when set; *found = 0
 * when there is none. Returns 0, or -1 with the reason in err (unreachable,
 * HTTP error, or an InfluxQL error InfluxDB answered with 200). */
int influx_last_time(const struct config *cfg, long timeout_s, int64_t *last_ms, int *found, char *err, size_t errsz);

/* Run an InfluxQL SELECT against [influxdb] database on a handle of its own,
 * times as epoch (ns, ms, ...); the answer into body (the caller frees it),
 * at most max_body bytes. Returns 0; 1 when the answer was longer than
 * max_body (body holds its start: no JSON; ask for less); or -1 with err
 * (unreachable, an HTTP error). An InfluxQL error comes with 200, inside
 * the answer: its reader checks. */
int influx_select(const struct config *cfg, const char *influxql, const char *epoch, long timeout_s, size_t max_body,
                  struct buf *body, char *err, size_t errsz);

/* Append name to q as an InfluxQL identifier (double-quoted, escaped).
 * Returns 0, or -1 (memory). */
int influx_append_ident(struct buf *q, const char *name);

/* The latency probe's answer (body, len bytes) read: pure, for the tests. */
int influx_parse_last_time(const char *body, size_t len, int64_t *last_ms, int *found, char *err, size_t errsz);

#endif

/* influx.h -- writing line protocol to InfluxDB's /write, with retries.
 *
 * One kept-alive connection; each call is one HTTP request (split in two on
 * 413 "too large"). 204 is success. 5xx, timeouts and transport errors are
 * retried retry_attempts times with back-off. Any other answer is final:
 * 400 (syntax, field type conflict, partial write) means the data was
 * refused; 401/403/404 mean the credentials or the database are wrong. */
#ifndef SPILLWAY_INFLUX_H
#define SPILLWAY_INFLUX_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum influx_result {
    INFLUX_OK = 0,
    INFLUX_UNAVAILABLE, /* still 5xx / unreachable after the retries */
    INFLUX_REJECTED,    /* 400: the points were refused */
    INFLUX_DENIED,      /* 401, 403, 404, other 4xx: configuration */
};

struct influx;

struct influx *influx_open(const struct config *cfg, char *err, size_t errsz);
void influx_close(struct influx *ix);

/* Write body (len bytes of newline-terminated lines). Returns the outcome;
 * anything but INFLUX_OK comes with the server's answer in err. */
enum influx_result influx_write(struct influx *ix, const char *body, size_t len, char *err, size_t errsz);

/* Where to cut body (len bytes of newline-terminated lines) in two on a
 * 413: just after the line end nearest its middle; len when it is a single
 * line. */
size_t influx_split_point(const char *body, size_t len);

/* The time (epoch ms) of the newest value of field in measurement within
 * the last lookback_s seconds, optionally AND-ed with an InfluxQL condition:
 * *found = 0 when there is none. Returns 0, or -1 with the reason in err
 * (unreachable, HTTP error, or an InfluxQL error InfluxDB answered with 200). */
int influx_last_time(struct influx *ix, const char *measurement, const char *field, const char *where,
                     int64_t lookback_s, long timeout_s, int64_t *last_ms, int *found, char *err, size_t errsz);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* admit.h -- whether a consumed message joins the batch's aggregates, and
 * why not: one pure function, one rule per kind of bad input, no I/O.
 *
 * Decoding (decode.c) has happened; its failure is one of the inputs. A
 * message that is not admitted is quarantined by the caller with the reason
 * given here; it is never dropped. The rules, in order:
 *   no value; not the schema's Avro; a null id; an id InfluxDB cannot carry
 *   as a tag; a null event time; a time not "YYYY-MM-DD HH:MM:SS.fff"; a
 *   field that is NaN or infinite; a window outside what InfluxDB stores
 *   (1677-09-21 to 2262-04-11); a time more than ADMIT_FUTURE_MS after the
 *   runner's clock (one such event would otherwise pin the partition's
 *   high-water mark, mark.h, far ahead); a window at or before the
 *   partition's collision horizon (mark_collision_horizon()). */
#ifndef SPILLWAY_ADMIT_H
#define SPILLWAY_ADMIT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "decode.h"

/* How far ahead of the runner's clock an event time may be: clocks of
 * devices drift, but not by a day. */
#define ADMIT_FUTURE_MS (INT64_C(24) * 3600 * 1000)

struct admit_input {
    size_t len;               /* the message value's length; 0: it has none */
    const char *decode_error; /* why decoding failed, or NULL */
    const struct decoded *d;  /* the decoded message (when decode_error is NULL) */
    int64_t now_ms;           /* the runner's wall clock, read once per run */
    int64_t horizon_ms;       /* the partition's collision horizon, MARK_NO_TIME none */
};

/* Returns 1 when the message is admitted, with its event time and window
 * start (epoch ms) in *t_ms and *window_ms; 0 with the reason in why (names
 * the field and quotes, bounded, the offending value). */
int admit_message(const struct config *cfg, const struct admit_input *in, int64_t *t_ms, int64_t *window_ms,
                  char *why, size_t whysz);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* trace.h -- a recorded trace for `spillway replay`: what each check
 * observed, in time order, and the force overrides between them. Read from
 * a CSV file here, or from a state database's recorded checks by
 * store_trace_read() (store.h).
 *
 * The CSV has the header time,latency_seconds,lag_messages,lag_seconds,flink
 * and one check a line: time as ISO 8601 UTC ("2026-11-21T10:00:00Z", with
 * optional fractional seconds, 'T' or a space) or epoch seconds; an empty
 * latency_seconds is a latency probe that failed (the check is unknown); an
 * empty lag_messages means the lag probe was off or failed (replay cannot
 * tell which, and treats both as off: no idle proof, no time lag, no
 * prediction); an empty lag_seconds means no message time was read; flink
 * is RUNNING (healthy), RESTARTING, FAILED, CANCELED or none (a job in that
 * state, or no job: unhealthy), unknown (the probe failed) or empty (not
 * probed). */
#ifndef SPILLWAY_TRACE_H
#define SPILLWAY_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "decide.h"

#define TRACE_CSV_HEADER "time,latency_seconds,lag_messages,lag_seconds,flink"

struct trace_step {
    int64_t at_ms;
    int is_force;         /* a `spillway force` at at_ms, not a check */
    enum forced force;    /* what was forced */
    struct observation obs;
    int64_t backfilling;  /* the runs' backfill going on at this check (history.backfilling and */
    int64_t backfilled_at_ms; /* .backfilled_at_ms), from a state database; 0 from a CSV (no runs) */
    char why[64];         /* obs.why_unhealthy points here */
};

/* Parse "2026-11-21T10:00:00.250Z" (or with a space, without the Z or the
 * fraction) as UTC, or "1795255200" / "1795255200.25" as epoch seconds, into
 * epoch milliseconds. Returns 0, or -1 when it is neither. */
int trace_parse_time(const char *s, int64_t *ms);

/* Parse one CSV data line (without its newline) into *step. Returns 0, or
 * -1 with the problem in err ("field 2: not a number: \"x\""). */
int trace_parse_csv_line(const char *line, struct trace_step *step, char *err, size_t errsz);

/* Call fn for each line of the CSV file at path, after checking its header;
 * stops at, and returns, fn's first non-zero answer. Returns 0, or -1 with
 * "FILE:LINE: problem" in err. */
int trace_read_csv(const char *path, int (*fn)(const struct trace_step *step, void *arg), void *arg, char *err,
                   size_t errsz);

/* 1 when the file at path begins as an SQLite database does, 0 when not,
 * -1 (err) when it cannot be read. */
int trace_is_sqlite(const char *path, char *err, size_t errsz);

#endif

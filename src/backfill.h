/* SPDX-License-Identifier: BSD-2-Clause */
/* backfill.h -- predictions for the points the preserve level wrote without them (level.h): found in InfluxDB
 * itself, rebuilt as aggregates from their fields, and -- once predicted -- written back as stress_level onto the
 * same series and time (InfluxDB 1.x merges the field in; count and the means are untouched).
 *
 * Why InfluxDB holds the pending set: the points are already there with every mean the ML service needs, shared
 * by all hosts, and a prediction written twice is the same field written twice. A second copy (the state
 * database, a topic) would be one more thing to keep in step, and would be lost with a host. Where to look is
 * the partition's mark (mark.h, pend=): the oldest window awaiting a prediction, carried by every batch until a
 * backfill has gone past it -- so whichever host owns the partition next continues.
 *
 * A point is pending when it is spillway's (measurement and source tag), has a count above 0 and no
 * stress_level; its partition is in its timestamp (window.h). Parsing is pure; the runner does the I/O. */
#ifndef SPILLWAY_BACKFILL_H
#define SPILLWAY_BACKFILL_H

#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "config.h"
#include "util.h"

/* How much event time one query looks at first: windows of an hour. A
 * slice whose answer is too long, or holds more pending points than the
 * run's budget (backfill_per_run) has left, is asked again half as wide
 * (backfill_decide()), down to one window. */
#define BACKFILL_SLICE_MS (INT64_C(3600) * 1000)

/* The longest answer a backfill query may have: the pending points it
 * holds become aggregates (and jansson's tree of it is some ten times its
 * size), so it is kept well inside the runner's memory. About 30,000
 * points of six fields. */
#define BACKFILL_ANSWER_MAX ((size_t)4 << 20)

/* The pending points found, as aggregates: entries[i] holds the point's
 * id, window, partition, count and its means (sum = mean, n = 1 for each
 * field it has); time_ns[i] is the point's own time. */
struct backfill {
    struct agg agg;
    int64_t *time_ns;
    size_t cap;
};

void backfill_init(struct backfill *b, size_t nfields);
void backfill_free(struct backfill *b);

/* The InfluxQL that reads spillway's points of windows in [from_ms, to_ms),
 * into q (cleared first). Returns 0, or -1 (memory). */
int backfill_query(const struct config *cfg, int64_t from_ms, int64_t to_ms, struct buf *q);

/* Read a /query answer (epoch=ns): each pending point of a partition p with
 * want[p] set (p < nparts) joins b. Returns the points added, or -1 with err
 * (not InfluxDB's answer, an InfluxQL error, memory). */
int backfill_parse(struct backfill *b, const struct config *cfg, const char *body, size_t len,
                   const unsigned char *want, int32_t nparts, char *err, size_t errsz);

/* The partition a point's time says (window.h): its nanoseconds within the
 * second, modulo 1024. */
int32_t backfill_partition_of(int64_t time_ns);

/* Forget the points found after the first count (a slice not taken). */
void backfill_truncate(struct backfill *b, size_t count);

/* What to do with a slice just asked for. */
enum backfill_step {
    BACKFILL_TAKE,   /* keep its points, go on after it */
    BACKFILL_NARROW, /* forget them, ask again for half of it */
    BACKFILL_STOP,   /* forget them, end here: the next run starts at it */
    BACKFILL_FAIL,   /* one window's answer is too long: nothing to narrow */
};

/* The slice of slice_ms (window_ms at least) whose answer was too long
 * (too_long), or added `added` points to `before` found, against a budget
 * of points: within it, take it; over it, narrow it, but a single window
 * is taken whole when nothing was found before it (every run moves on),
 * else left to the next run. Pure. */
enum backfill_step backfill_decide(size_t before, size_t added, int too_long, int64_t budget, int64_t slice_ms,
                                   int64_t window_ms);

/* Half of slice_ms in whole windows, at least one window. Pure. */
int64_t backfill_narrow(int64_t slice_ms, int64_t window_ms);

#endif

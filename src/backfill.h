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

/* How much event time one query looks at: windows of an hour. */
#define BACKFILL_SLICE_MS (INT64_C(3600) * 1000)

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

#endif

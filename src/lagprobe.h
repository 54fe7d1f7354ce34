/* lagprobe.h -- the primary group's lag per partition, in messages and in
 * seconds, for one check.
 *
 * Messages: the high watermark minus the group's committed offset (the low
 * watermark where it has none, or retention deleted past it). Seconds: now
 * minus the timestamp of the first message the group has not committed
 * (the message at that offset, read through a handle that assign()s the
 * partition there: it never joins the group nor commits), 0 when caught up.
 * The time lag sees what a latency from InfluxDB cannot: one stuck
 * partition among many whose others keep the newest point fresh.
 * Only partitions that are behind are read, one message each. A partition
 * the group never committed on has no time lag (nothing says where the
 * primary is there: a new or misnamed group is not days behind). */
#ifndef SPILLWAY_LAGPROBE_H
#define SPILLWAY_LAGPROBE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "decide.h"

struct partition_lag {
    int32_t partition;
    int64_t lag;       /* messages */
    int time_known;    /* 0: behind, and no commit there or its first message has no timestamp */
    double time_lag_s; /* now - that timestamp, >= 0 */
};

/* Read the lag of cfg's primary group on every partition of the topic at
 * now_ms, within timeout_ms. Returns 0 with *out (nparts entries, index =
 * partition; free() it), or -1 with err. */
int lagprobe_read(const struct config *cfg, int64_t now_ms, int timeout_ms, struct partition_lag **out,
                  int32_t *nparts, char *err, size_t errsz);

/* The summary the decision reads, into o (pure): the total lag, and the
 * largest known time lag with its partition (time_lag_known = 0 when some
 * partition is behind and none has a time). */
void lagprobe_summarize(const struct partition_lag *p, int32_t n, struct observation *o);

/* The partitions as JSON for the check's record:
 * [{"partition":0,"lag":5,"time_lag_s":12.5}, ...] (null for an unknown
 * time). Returns a string to free(), or NULL when memory runs out. */
char *lagprobe_json(const struct partition_lag *p, int32_t n);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
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
    /* The oldest message neither group processed: the one at the later of
     * the two groups' committed offsets (the low watermark where neither
     * committed or retention deleted past them); 0 s when there is none.
     * Retention deletes it once its age passes the topic's retention. */
    int unprocessed_known;    /* 0: it could not be read, or has no timestamp */
    double unprocessed_age_s; /* now - its timestamp, >= 0 */
};

/* The topic's retention (how long a message is kept), for the retention
 * risk of each partition. */
struct topic_retention {
    int known;        /* 0: the broker did not say and topic_retention_seconds is 0 */
    double seconds;   /* < 0: kept for ever */
    const char *from; /* "broker" or "topic_retention_seconds" */
};

/* Read the lag of cfg's primary group on every partition of the topic at
 * now_ms, within timeout_ms, and the age of each partition's oldest
 * unprocessed message, and the retention (broker, else [drain]
 * topic_retention_seconds). Returns 0 with *out (nparts entries, index =
 * partition; free() it), or -1 with err: only the lag makes the probe fail;
 * an unknown age or retention is said in the record. */
int lagprobe_read(const struct config *cfg, int64_t now_ms, int timeout_ms, struct partition_lag **out,
                  int32_t *nparts, struct topic_retention *retention, char *err, size_t errsz);

/* The retention: the broker's retention.ms when it answered (broker_ok), else
 * topic_retention_seconds when > 0, else unknown. Pure. */
struct topic_retention lagprobe_retention(int broker_ok, int64_t broker_ms, int64_t config_seconds);

/* How much of the retention p's oldest unprocessed message has used (its
 * age / retention: 1 and more is the cliff); -1 when unknown or kept for
 * ever. Pure. */
double lagprobe_retention_used(const struct partition_lag *p, const struct topic_retention *r);

/* The summary the decision reads, into o (pure): the total lag, and the
 * largest known time lag with its partition (time_lag_known = 0 when some
 * partition is behind and none has a time). */
void lagprobe_summarize(const struct partition_lag *p, int32_t n, struct observation *o);

/* The partitions as JSON for the check's record:
 * [{"partition":0,"lag":5,"time_lag_s":12.5,"unprocessed_age_s":40.1,
 *   "retention_s":604800,"retention_used":0.0001}, ...] (null for unknown;
 * retention_s -1: kept for ever). Returns a string to free(), or NULL when
 * memory runs out. */
char *lagprobe_json(const struct partition_lag *p, int32_t n, const struct topic_retention *r);

#endif

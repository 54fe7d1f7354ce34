/* SPDX-License-Identifier: BSD-2-Clause */
/* agg.h -- streaming aggregation per (nurse id, window, partition).
 *
 * Messages are folded in as they are consumed, so memory grows with the
 * number of distinct (id, window, partition) keys in a batch, never with the
 * number of messages. Each aggregate keeps the offsets of its first and last
 * message: where its quarantine row says it is, and whether a failed
 * attempt of its batch may have written its point already
 * (ledger_may_have_written()). Its point's time does not come from them:
 * window_point_time_ns() takes the window, the partition and the batch. */
#ifndef SPILLWAY_AGG_H
#define SPILLWAY_AGG_H

#include <stddef.h>
#include <stdint.h>

#define AGG_MAX_FIELDS 32

enum agg_state {
    AGG_PENDING = 0, /* to be predicted */
    AGG_PREDICTED,   /* prediction set: to be written */
    AGG_QUARANTINED, /* refused (by the ML service, or it cannot be a point): reason set, not stored yet */
    AGG_KEPT,        /* refused, and its quarantine row stored */
    AGG_DROPPED,     /* its partition was lost: neither written nor quarantined */
};

struct agg_entry {
    char *id; /* NUL-terminated copy, owned */
    size_t id_len;
    int64_t window_ms;
    int32_t partition;
    int64_t first_offset, last_offset;
    int64_t count;                 /* messages folded in */
    double sum[AGG_MAX_FIELDS];    /* per field, over non-null values (may overflow: see agg_mean()) */
    uint32_t n[AGG_MAX_FIELDS];    /* non-null values per field (a batch holds < 2^32 messages) */
    enum agg_state state;          /* filled in by the ML step */
    int64_t prediction;
    char *reason; /* why it was quarantined (owned), or NULL */
};

struct agg {
    size_t nfields;
    struct agg_entry *entries; /* insertion order */
    size_t count, cap;
    size_t live; /* entries not dropped */
    uint32_t *slots; /* open addressing: index + 1, 0 = empty */
    size_t nslots;
};

/* Start an empty table for nfields (<= AGG_MAX_FIELDS) numeric fields. */
void agg_init(struct agg *a, size_t nfields);

enum agg_added {
    AGG_ADDED, /* folded into its aggregate, new or not */
    AGG_FULL,  /* it needs a new aggregate and the table holds max already: not folded */
    AGG_NOMEM, /* memory ran out: not folded, the table unchanged */
};

/* Fold one message in. values[i] is used when present[i] is non-zero. max
 * bounds the number of live aggregates (0: no bound): a hostile flood of
 * distinct ids must not cost an aggregate, and an ML request, each. */
enum agg_added agg_add(struct agg *a, const char *id, size_t id_len, int64_t window_ms, int32_t partition,
                       int64_t offset, const double *values, const unsigned char *present, size_t max);

/* Drop every aggregate of partition p (lost to another runner): they stay
 * in the table as AGG_DROPPED, are never found again by agg_add(), and a
 * later message of p starts new ones. Returns the messages they held. */
int64_t agg_drop_partition(struct agg *a, int32_t partition);

/* The mean of field i, or 0 with *has = 0 when no value was present. Values
 * near DBL_MAX can make the sum, and so the mean, infinite: the caller
 * checks isfinite() before using it. */
double agg_mean(const struct agg_entry *e, size_t i, int *has);

void agg_free(struct agg *a);

#endif

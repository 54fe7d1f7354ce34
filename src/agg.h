/* agg.h -- streaming aggregation per (nurse id, window, partition).
 *
 * Messages are folded in as they are consumed, so memory grows with the
 * number of distinct (id, window, partition) keys in a batch, never with the
 * number of messages. Each aggregate keeps the offset of its first message,
 * which fixes its point's timestamp (see window_point_time_ns()). */
#ifndef SPILLWAY_AGG_H
#define SPILLWAY_AGG_H

#include <stddef.h>
#include <stdint.h>

#define AGG_MAX_FIELDS 32

enum agg_state {
    AGG_PENDING = 0, /* to be predicted */
    AGG_PREDICTED,   /* prediction set: to be written */
    AGG_QUARANTINED, /* the ML service refused it: reason set */
    AGG_DROPPED,     /* its partition was lost: neither written nor quarantined */
};

struct agg_entry {
    char *id; /* NUL-terminated copy, owned */
    size_t id_len;
    int64_t window_ms;
    int32_t partition;
    int64_t first_offset, last_offset;
    int64_t count;                 /* messages folded in */
    double sum[AGG_MAX_FIELDS];    /* per field, over non-null values */
    int64_t n[AGG_MAX_FIELDS];     /* non-null values per field */
    enum agg_state state;          /* filled in by the ML step */
    int64_t prediction;
    char *reason; /* why it was quarantined (owned), or NULL */
};

struct agg {
    size_t nfields;
    struct agg_entry *entries; /* insertion order */
    size_t count, cap;
    uint32_t *slots; /* open addressing: index + 1, 0 = empty */
    size_t nslots;
};

/* Start an empty table for nfields (<= AGG_MAX_FIELDS) numeric fields. */
void agg_init(struct agg *a, size_t nfields);

/* Fold one message in. values[i] is used when present[i] is non-zero.
 * Returns 0, or -1 when memory runs out (the table is unchanged). */
int agg_add(struct agg *a, const char *id, size_t id_len, int64_t window_ms, int32_t partition,
            int64_t offset, const double *values, const unsigned char *present);

/* Drop every aggregate of partition p (lost to another runner): they stay
 * in the table as AGG_DROPPED, are never found again by agg_add(), and a
 * later message of p starts new ones. Returns the messages they held. */
int64_t agg_drop_partition(struct agg *a, int32_t partition);

/* The mean of field i, or 0 with *has = 0 when no value was present. */
double agg_mean(const struct agg_entry *e, size_t i, int *has);

void agg_free(struct agg *a);

#endif

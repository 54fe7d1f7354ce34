/* SPDX-License-Identifier: BSD-2-Clause */
/* sink.h -- the write path: aggregates into a chunk of line protocol, and
 * the chunk into InfluxDB, one request at a time, each fenced, refusals
 * split down to the points refused, and a refusal about a point told apart
 * from the sink failing. The I/O is the caller's (struct sink_ops):
 * influx.c and the consumer in the runner, models in the simulation.
 *
 * The rules:
 *   - Before every request (bisection included) the caller's fence runs: it
 *     serves the consumer, waits out a rebalance and a retry's settle time
 *     (ledger_may_write()), and says whether every partition of the range is
 *     still this runner's. If one is not, nothing more of the chunk is sent:
 *     the caller drops that partition's aggregates and rebuilds the chunk
 *     (rewriting what was written is harmless: the same points).
 *   - A request the sink refuses (InfluxDB's 400 or 2.x's 422, with its own
 *     JSON error: a partial write) is split in halves until the refused points
 *     stand alone; a refusal that says every point of the request was dropped
 *     (dropped=N for N points) needs no split.
 *   - A refusal is a verdict on a point only when it says the point is
 *     beyond the retention policy (a verdict on its time, which can fall on
 *     every point of a chunk). For the points spillway writes (names
 *     checked, values finite, times storable, series keys bounded) every
 *     other refusal is about the database, not the point -- a field's type
 *     fixed by an earlier write, a series limit -- or a proxy's, and no retry
 *     mends it: the run fails and nothing is quarantined, rather than a
 *     whole backlog being diverted into the quarantine (the exactness
 *     audit's #9).
 *   - Overlays -- a count-0 tombstone over a point an unfinished attempt may
 *     have written (its retry quarantined the aggregate), a backfilled
 *     stress_level onto a point the preserve level wrote -- are written like
 *     points but are not points; one refused for retention is moot (the
 *     point it overlays is beyond retention too).
 *   - The ML service's refusals (400) follow the same idea where they can be
 *     judged: when it refuses every aggregate of a chunk of two or more that
 *     carried every parameter, with the same answer, it is failing
 *     (sink_refusals_systemic(); the runner then fails). A single refused
 *     aggregate, or one missing a parameter (a sensor that sent none), is a
 *     verdict on that input. */
#ifndef SPILLWAY_SINK_H
#define SPILLWAY_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "config.h"
#include "util.h"

/* A chunk: its line protocol, and what each line is. */
struct sink_line {
    size_t entry;      /* the aggregate it comes from (the caller's index) */
    int32_t partition;
    int overlay;       /* a line over an existing point (a count-0 tombstone, a backfilled prediction): not a point */
    size_t off, len;   /* in lines */
};
struct sink_chunk {
    struct buf lines;
    struct sink_line *at;
    size_t n, cap;
};
void sink_chunk_reset(struct sink_chunk *ch);
void sink_chunk_free(struct sink_chunk *ch);

/* Whether field keys of this length fit InfluxDB's series key limit with
 * this measurement and tags: see sink_append_point(). */
#define SINK_SERIES_KEY_MAX 65535

enum sink_append {
    SINK_APPENDED,
    SINK_UNWRITABLE, /* the aggregate cannot be a point: *why says why (nothing appended) */
    SINK_NOMEM,
};

/* Which fields a line carries. */
enum sink_point {
    SINK_POINT,            /* the means, stress_level and count */
    SINK_POINT_UNPREDICTED, /* the means and count: the preserve level (level.h) */
    SINK_POINT_PREDICTION,  /* stress_level alone, onto a point written unpredicted (backfill.h) */
    SINK_POINT_TOMBSTONE,   /* count=0 alone, over a stale point */
};

/* Append e's line of that kind at time_ns. longest_field_key: the longest
 * field key a point carries (for the series key limit). */
enum sink_append sink_append_point(struct sink_chunk *ch, const struct config *cfg, const struct agg_entry *e,
                                   size_t entry, int64_t time_ns, enum sink_point kind, size_t longest_field_key,
                                   struct buf *why);

/* What one request came to. */
enum sink_answer {
    SINK_ACCEPTED,
    SINK_REFUSED,     /* the sink refused points of it: a verdict, message in why */
    SINK_UNAVAILABLE, /* not written: unreachable, 5xx or timeouts after retries, an answer not the sink's own */
    SINK_DENIED,      /* 401, 403, 404: configuration */
};

struct sink_ops {
    /* Send body (len bytes of whole lines). why: the answer when not accepted. */
    enum sink_answer (*post)(void *arg, const char *body, size_t len, char *why, size_t whysz);
    /* Before each request: may lines lo..hi of ch go out? 0 yes, 1 a partition
     * of them is no longer ours, or was lost since the chunk was built
     * (rebuild), -1 failure (why set). */
    int (*fence)(void *arg, const struct sink_chunk *ch, size_t lo, size_t hi, char *why, size_t whysz);
    /* Line i (not an overlay) was refused on its own: quarantine its
     * aggregate with why. 0, or -1 (why set) on a local failure. */
    int (*refused)(void *arg, const struct sink_chunk *ch, size_t i, const char *why);
    void *arg;
};

enum sink_result {
    SINK_WRITTEN,  /* every line accepted, or refused on its own (and handed to refused()) */
    SINK_REBUILD,  /* the fence said a partition was lost: rebuild the chunk and write it again */
    SINK_FAILED,   /* unavailable, or refusing everything: why says which; nothing more to do */
    SINK_CONFIG,   /* denied: why */
    SINK_LOCAL,    /* fence or refused() failed: why */
};

/* Write chunk ch. *written counts the points (not overlays) accepted;
 * *requests the requests sent. */
enum sink_result sink_write(const struct sink_ops *ops, const struct sink_chunk *ch, int64_t *written,
                            int64_t *requests, char *why, size_t whysz);

/* Whether the ML service's refusals are its failure rather than a verdict on
 * each of n_items aggregates: every one refused (n_refused == n_items >= 2)
 * with the same message (dropped=N counts aside). why[i]: the refusals'
 * messages. (A single refusal cannot be told apart: it is a verdict.) */
int sink_refusals_systemic(const char *const *why, size_t n_refused, size_t n_items);

/* Whether a refusal message says the points are beyond the retention
 * policy. */
int sink_beyond_retention(const char *why);

#endif

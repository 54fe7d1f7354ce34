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

/* The longest answer a backfill query may have: jansson's tree of an
 * answer is some ten times its size, so a longer one is asked again
 * narrower (a run takes several slices when its budget needs them). 1 MiB
 * holds about 7,000 points of six fields, more than the shipped budget;
 * at 4 MiB, bench/outage.sh's first backfill run peaked at 78 MiB. */
#define BACKFILL_ANSWER_MAX ((size_t)1 << 20)

/* A slice of one window cannot be narrowed: its answer may be this long
 * (about 30,000 ids a window with predictions pending) before the backfill
 * fails there, said, every run. */
#define BACKFILL_WINDOW_ANSWER_MAX ((size_t)4 << 20)

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

/* Read a /query answer (epoch=ns): each pending point of a partition p
 * (p < nparts) whose window starts at after[p] or later joins b: after[p]
 * is the partition's pend, BACKFILL_UNWANTED for a partition not asked
 * for. (A slice spans every partition's points; the earlier ones of a
 * partition whose pend is later -- a point the service refused, which
 * keeps no stress level -- are not pending.) Returns the points added;
 * BACKFILL_PARTIAL (err says so) when the server cut the answer short (its
 * max-row-limit): to be asked again narrower, like an answer too long; or
 * -1 with err (not InfluxDB's answer, an InfluxQL error, memory). */
#define BACKFILL_UNWANTED INT64_MAX
#define BACKFILL_PARTIAL (-2)
int backfill_parse(struct backfill *b, const struct config *cfg, const char *body, size_t len,
                   const int64_t *after, int32_t nparts, char *err, size_t errsz);

/* A partition's pend after a walk that stopped at `at`: none left
 * (MARK_NO_TIME) when at is past its newest pending window upto, else
 * where the walk stopped, never before the pend it had (after). Pure. */
int64_t backfill_pend_next(int64_t at, int64_t after, int64_t upto);

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

/* A run's walk over the pending event time, oldest first: which slice to
 * ask for next and what each answer does (backfill_decide()). A slice that
 * found less than a quarter of what the budget has left makes the next one
 * twice as wide again, up to BACKFILL_SLICE_MS (and short of a width whose
 * answer was too long), so that sparse pending points are not looked for a
 * window at a time. The runner does the I/O; the walk is pure. */
struct backfill_walk {
    int64_t at;      /* the next slice starts here: where pend moves to */
    int64_t last;    /* the newest event time read on the partitions looked at (the ledger's, which a
                      * pending window never passes): nothing to look for after it */
    int64_t slice;   /* the next slice's width, a window at least */
    int64_t ceiling; /* the narrowest width whose answer was too long (INT64_MAX: none) */
    int64_t window; /* the aggregation window */
    int64_t budget; /* points a run may backfill (backfill_per_run) */
    size_t found;   /* points taken so far */
    int asked;      /* queries asked (BACKFILL_MAX_QUERIES at most) */
    int stopped;    /* a slice left to the next run, or one that failed */
};

#define BACKFILL_MAX_QUERIES 64

void backfill_walk_init(struct backfill_walk *w, int64_t from, int64_t last, int64_t budget, int64_t window_ms);

/* 1 with the next slice to ask for, [*lo, *hi); 0 when the walk is over
 * (past last, the budget spent, a slice left to the next run, or
 * BACKFILL_MAX_QUERIES asked). */
int backfill_walk_next(const struct backfill_walk *w, int64_t *lo, int64_t *hi);

/* The longest answer the next slice may have: BACKFILL_ANSWER_MAX, or
 * BACKFILL_WINDOW_ANSWER_MAX for a single window. */
size_t backfill_walk_answer_max(const struct backfill_walk *w);

/* The answer to the slice backfill_walk_next() gave: `added` pending points
 * in it, or an answer too long. TAKE moves past the slice; anything else
 * means its points are to be forgotten (backfill_truncate()). */
enum backfill_step backfill_walk_answer(struct backfill_walk *w, size_t added, int too_long);

#endif

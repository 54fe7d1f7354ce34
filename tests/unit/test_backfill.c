/* SPDX-License-Identifier: BSD-2-Clause */
/* test_backfill.c -- the points awaiting their predictions: the query, which rows of an answer are pending, and how
 * a run's backfill stays within its budget (slices taken, narrowed, or left to the next run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backfill.h"
#include "config.h"
#include "mark.h"
#include "tap.h"

#define MIN_MS 60000LL
#define WINDOW_MS 30000LL

static void test_query(const struct config *cfg)
{
    struct buf q = { 0 };

    ok(backfill_query(cfg, 1795255200000LL, 1795255200000LL + 3600000, &q) == 0, "a query");
    is_str(q.data,
           "SELECT \"count\", \"stress_level\", \"X\", \"HR\" FROM \"nurse_stress\" WHERE \"source\" = 'dask\\'s' AND"
           " time >= 1795255200000ms AND time < 1795258800000ms GROUP BY \"id\"",
           "its fields, measurement and source tag quoted, the slice's times");
    buf_free(&q);
}

/* Which rows are pending: count above 0, no stress_level, a partition asked for. */
static void test_parse(const struct config *cfg)
{
    struct backfill b;
    /* partitions 0, 1 and 3 asked for, 1 from its second window on (its pend), 2 not asked for */
    int64_t after[4] = { INT64_MIN, 1795255230000LL, BACKFILL_UNWANTED, INT64_MIN };
    char err[256];
    /* times: window start + partition in the nanoseconds of the first second (window.h) */
    const char *answer =
        "{\"results\":[{\"statement_id\":0,\"series\":["
        "{\"name\":\"nurse_stress\",\"tags\":{\"id\":\"nurse-1\"},\"columns\":[\"time\",\"count\",\"stress_level\","
        "\"X\",\"HR\"],\"values\":["
        "[1795255200000000000,40,null,0.5,80.5],"   /* partition 0, pending */
        "[1795255230000001025,12,null,0.25,null],"  /* partition 1, pending, no HR */
        "[1795255260000000000,40,2,0.5,81],"        /* predicted already */
        "[1795255290000000002,7,null,1,90],"        /* partition 2: not ours */
        "[1795255200000000001,5,null,1,90],"        /* partition 1 before its pend (a refused point) */
        "[1795255320000000000,0,null,0,0]]},"       /* count 0: a tombstone */
        "{\"name\":\"nurse_stress\",\"tags\":{\"id\":\"nurse-2\"},\"columns\":[\"time\",\"count\",\"stress_level\","
        "\"HR\"],\"values\":[[1795255200000000003,3,null,70]]}]}]}";

    backfill_init(&b, cfg->nfields);
    is_int(backfill_parse(&b, cfg, answer, strlen(answer), after, 4, err, sizeof err), 3,
           "three rows pending: none of partition 2, none of partition 1 before its pend");
    ok(strcmp(b.agg.entries[0].id, "nurse-1") == 0 && b.agg.entries[0].count == 40 &&
           b.agg.entries[0].window_ms == 1795255200000LL && b.agg.entries[0].partition == 0 &&
           b.agg.entries[0].sum[0] == 0.5 && b.agg.entries[0].sum[1] == 80.5,
       "a point as an aggregate: id, count, window, partition, means");
    ok(b.agg.entries[1].partition == 1 && b.agg.entries[1].n[1] == 0 && b.time_ns[1] == 1795255230000001025LL,
       "a field the point lacks stays absent (never invented); its own time kept");
    ok(strcmp(b.agg.entries[2].id, "nurse-2") == 0 && b.agg.entries[2].partition == 3 && b.agg.entries[2].n[0] == 0,
       "a series without a column: that field absent");
    backfill_truncate(&b, 1);
    is_int((long long)b.agg.count, 1, "truncated: the points of a slice not taken are forgotten");
    is_int(backfill_parse(&b, cfg, "<html>", 6, after, 4, err, sizeof err), -1, "not InfluxDB's answer");
    ok(strstr(err, "unexpected answer: <html>") != NULL, "said, with its start");
    const char *error = "{\"results\":[{\"statement_id\":0,\"error\":\"database not found: x\"}]}";
    is_int(backfill_parse(&b, cfg, error, strlen(error), after, 4, err, sizeof err), -1, "an InfluxQL error");
    is_str(err, "InfluxDB query: database not found: x", "said");
    backfill_free(&b);
}

/* A run's budget: slices taken within it, narrowed over it, a single window
 * taken whole only when nothing came before it. */
static void test_decide(void)
{
    const int64_t hour = 60 * MIN_MS;

    is_int(backfill_decide(0, 4000, 0, 5000, hour, WINDOW_MS), BACKFILL_TAKE, "within the budget: taken");
    is_int(backfill_decide(0, 61440, 0, 5000, hour, WINDOW_MS), BACKFILL_NARROW,
           "an hour of 512 nurses (61,440 points) over a budget of 5,000: narrowed");
    is_int(backfill_decide(4096, 4096, 0, 5000, 4 * MIN_MS, WINDOW_MS), BACKFILL_NARROW,
           "the next slice over what is left: narrowed");
    is_int(backfill_decide(4608, 512, 0, 5000, WINDOW_MS, WINDOW_MS), BACKFILL_STOP,
           "one window over what is left: left to the next run");
    is_int(backfill_decide(0, 20000, 0, 5000, WINDOW_MS, WINDOW_MS), BACKFILL_TAKE,
           "one window over the whole budget, nothing before it: taken whole (every run moves on)");
    is_int(backfill_decide(0, 0, 1, 5000, hour, WINDOW_MS), BACKFILL_NARROW, "an answer too long: narrowed");
    is_int(backfill_decide(10, 0, 1, 5000, WINDOW_MS, WINDOW_MS), BACKFILL_STOP,
           "one window's answer too long after others: left to the next run");
    is_int(backfill_decide(0, 0, 1, 5000, WINDOW_MS, WINDOW_MS), BACKFILL_FAIL,
           "one window's answer too long, alone: a failure, said");
    is_int(backfill_narrow(hour, WINDOW_MS), 30 * MIN_MS, "half an hour");
    is_int(backfill_narrow(7 * MIN_MS, WINDOW_MS), 3 * MIN_MS + 30000, "half, in whole windows");
    is_int(backfill_narrow(WINDOW_MS, WINDOW_MS), WINDOW_MS, "never less than a window");
    is_int(backfill_narrow(hour, 7000), 1799000, "a window that does not divide the hour");

}

/* The pending points of `nurses` nurses, one a window each, from 0 to
 * span_ms, as InfluxDB would answer a slice: how many of them fall in it,
 * or too long when its answer (about 100 bytes a point) exceeds max. */
static size_t answer_of(int64_t lo, int64_t hi, int64_t span_ms, int64_t nurses, size_t max, int *too_long)
{
    int64_t end = hi < span_ms ? hi : span_ms, windows = end > lo ? (end - lo + WINDOW_MS - 1) / WINDOW_MS : 0;
    size_t points = (size_t)(windows * nurses);

    *too_long = points * 100 > max;
    return *too_long ? 0 : points;
}

/* Where a partition's pend goes after a walk. */
static void test_pend_next(void)
{
    is_int(backfill_pend_next(5 * MIN_MS, 0, 4 * MIN_MS) == MARK_NO_TIME, 1,
           "the walk went past the partition's newest pending window: none left");
    is_int(backfill_pend_next(3 * MIN_MS, 0, 4 * MIN_MS), 3 * MIN_MS, "else where the walk stopped");
    is_int(backfill_pend_next(3 * MIN_MS, 3 * MIN_MS, 4 * MIN_MS), 3 * MIN_MS, "which may be its pend");
    is_int(backfill_pend_next(2 * MIN_MS, 3 * MIN_MS, 4 * MIN_MS), 3 * MIN_MS,
           "never before the pend it had (the walk stopped before reaching it)");
    is_int(backfill_pend_next(4 * MIN_MS, 0, 4 * MIN_MS), 4 * MIN_MS, "stopped at its newest window: still pending");
}

/* One run's walk from `from`, budget `budget`, over the pending points of
 * `nurses` nurses from 0 to span_ms, as the runner walks it (a failure
 * stops it); returns the slices that did not start where the last one
 * taken ended, and 1 more if the walk does not end there. */
static int walk_run(struct backfill_walk *w, int64_t from, int64_t budget, int64_t nurses, int64_t span_ms)
{
    int64_t lo, hi;
    int gaps = 0;

    int64_t taken_to = from; /* the end of the last slice taken */

    backfill_walk_init(w, from, span_ms - WINDOW_MS, budget, WINDOW_MS);
    while (backfill_walk_next(w, &lo, &hi)) {
        int too_long;
        size_t added = answer_of(lo, hi, span_ms, nurses, backfill_walk_answer_max(w), &too_long);
        enum backfill_step step = backfill_walk_answer(w, added, too_long);
        gaps += lo != taken_to;
        if (step == BACKFILL_TAKE)
            taken_to = hi;
        if (step == BACKFILL_FAIL)
            break;
    }
    gaps += w->at != taken_to; /* where pend moves: the end of what was taken */
    return gaps;
}

/* Whole runs of the walk over a simulated answer: each run's slices, the
 * points it takes, and where the next run starts. */
static void test_walk(void)
{
    const int64_t hour = 60 * MIN_MS;
    struct backfill_walk w;
    int64_t total = 0;
    int runs = 0, over = 0, queries = 0, gaps = 0;

    /* an hour of 512 nurses (61,440 points) at the shipped budget, answers bounded as in the runner */
    for (int64_t from = 0; from < hour && runs < 100; runs++) {
        gaps += walk_run(&w, from, 5000, 512, hour);
        total += (int64_t)w.found;
        over += w.found > 5000 || w.found == 0;
        queries = w.asked > queries ? w.asked : queries;
        from = w.at;
    }
    is_int(total, 61440, "an hour of 512 nurses: every pending point found once, oldest first");
    is_int(over, 0, "no run over its budget of 5,000, none without progress");
    ok(runs >= 13 && runs <= 14, "in %d runs (61,440 / 5,000 rounded to whole windows)", runs);
    ok(queries <= 16, "at most %d queries a run", queries);
    is_int(gaps, 0, "each slice starts where the last one taken ended");

    /* sparse: 3 nurses over two days */
    walk_run(&w, 0, 5000, 3, 48 * hour);
    ok(w.found > 5000 - 3 && w.found <= 5000, "sparse points: a run takes its budget to a window (%zu)", w.found);
    ok(w.asked <= 24, "in few queries: an hour a query for 14 hours, then narrowed to fit (%d)", w.asked);

    /* narrowed by an answer too long, then few points: wider again, but never back to a width too long */
    backfill_walk_init(&w, 0, 48 * hour, 5000, WINDOW_MS);
    backfill_walk_answer(&w, 0, 1);
    is_int(w.slice, 30 * MIN_MS, "an answer too long: the slice narrowed to half an hour");
    is_int(backfill_walk_answer(&w, 10, 0), BACKFILL_TAKE, "10 points: taken");
    ok(w.slice == 30 * MIN_MS && w.at == 30 * MIN_MS, "the next slice not back to the hour whose answer was too long");
    is_int(backfill_walk_answer(&w, 6000, 0), BACKFILL_NARROW, "6,000 points over the budget: narrowed");
    is_int(w.slice, 15 * MIN_MS, "to a quarter hour");
    backfill_walk_answer(&w, 10, 0);
    is_int(w.slice, 30 * MIN_MS, "10 points: wider again, up to the half hour");
    backfill_walk_answer(&w, 2000, 0);
    is_int(w.slice, 30 * MIN_MS, "2,000 points of the 4,980 left: no wider");

    walk_run(&w, 0, 100, 512, hour);
    ok(w.found == 512 && w.at == WINDOW_MS,
       "one window holding more than the budget: taken whole by a run that found nothing before it");
    walk_run(&w, 0, 5000, 20000, hour);
    ok(w.found == 20000 && w.at == WINDOW_MS,
       "one window of 20,000 ids (about 2 MB): too long for a wider slice, taken alone; the run moves on");
    /* 50,000 ids (5 MB) in one window: the walk fails there, pend stays */
    walk_run(&w, 0, 5000, 50000, hour);
    ok(w.stopped && w.found == 0 && w.at == 0, "a single window's answer too long: a failure, nothing moves");
    is_int(w.asked, 7, "after narrowing an hour down to that window (1 h, 30, 15, 7.5, 3.75 min, 3 windows, 1)");
}

int main(void)
{
    struct config cfg;
    char err[512];

    if (config_load_string(&cfg, "[avro]\nfields = X,HR\n[ml]\nparams = x=X,hr=HR\n[influxdb]\nsource_tag = dask's\n", "t.ini", err,
                           sizeof err) != 0) {
        printf("# %s\n", err);
        return 1;
    }
    test_query(&cfg);
    test_parse(&cfg);
    test_decide();
    test_walk();
    test_pend_next();
    config_free(&cfg);
    return tap_done();
}

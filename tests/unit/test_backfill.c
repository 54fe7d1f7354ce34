/* SPDX-License-Identifier: BSD-2-Clause */
/* test_backfill.c -- the points awaiting their predictions: the query, which rows of an answer are pending, and how
 * a run's backfill stays within its budget (slices taken, narrowed, or left to the next run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backfill.h"
#include "config.h"
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
    unsigned char want[4] = { 1, 1, 0, 1 };
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
        "[1795255320000000000,0,null,0,0]]},"       /* count 0: a tombstone */
        "{\"name\":\"nurse_stress\",\"tags\":{\"id\":\"nurse-2\"},\"columns\":[\"time\",\"count\",\"stress_level\","
        "\"HR\"],\"values\":[[1795255200000000003,3,null,70]]}]}]}";

    backfill_init(&b, cfg->nfields);
    is_int(backfill_parse(&b, cfg, answer, strlen(answer), want, 4, err, sizeof err), 3, "three rows pending");
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
    is_int(backfill_parse(&b, cfg, "<html>", 6, want, 4, err, sizeof err), -1, "not InfluxDB's answer");
    ok(strstr(err, "unexpected answer: <html>") != NULL, "said, with its start");
    const char *error = "{\"results\":[{\"statement_id\":0,\"error\":\"database not found: x\"}]}";
    is_int(backfill_parse(&b, cfg, error, strlen(error), want, 4, err, sizeof err), -1, "an InfluxQL error");
    is_str(err, "InfluxDB query: database not found: x", "said");
    backfill_free(&b);
    is_int(backfill_partition_of(1795255200000001025LL), 1, "partition from the nanoseconds: 1025 mod 1024");
    is_int(backfill_partition_of(-999999999LL), 1, "before 1970: the nanoseconds within its second");
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

    /* the slices a run asks for over an hour of 512 nurses (one point a window each), budget 5,000: each
     * narrowing or taking step as the runner does it, counting queries and points */
    int64_t slice = hour, at = 0, found = 0, queries = 0, budget = 5000;
    while (at < hour && found < budget && queries < 64) {
        int64_t added = slice / WINDOW_MS * 512;
        enum backfill_step s = backfill_decide((size_t)found, (size_t)added, 0, budget, slice, WINDOW_MS);
        queries++;
        if (s == BACKFILL_STOP)
            break;
        if (s == BACKFILL_NARROW) {
            slice = backfill_narrow(slice, WINDOW_MS);
            continue;
        }
        found += added;
        at += slice;
    }
    ok(found <= budget && found >= budget - 512, "a run finds at most its budget, within a window of it (%lld)",
       (long long)found);
    ok(queries <= 10, "in a few queries (%lld)", (long long)queries);
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
    config_free(&cfg);
    return tap_done();
}

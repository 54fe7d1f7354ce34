/* SPDX-License-Identifier: BSD-2-Clause */
/* backfill.c -- the points awaiting their predictions, read from a /query answer. */
#include "backfill.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "influx.h"
#include "mark.h"
#include "window.h"

void backfill_init(struct backfill *b, size_t nfields)
{
    memset(b, 0, sizeof *b);
    agg_init(&b->agg, nfields);
}

void backfill_free(struct backfill *b)
{
    agg_free(&b->agg);
    free(b->time_ns);
    memset(b, 0, sizeof *b);
}

/* A string literal for InfluxQL: single quotes, with ' and \ escaped. */
static int append_literal(struct buf *q, const char *s)
{
    if (buf_append(q, "'", 1) != 0)
        return -1;
    for (; *s; s++)
        if ((*s == '\'' || *s == '\\') ? buf_printf(q, "\\%c", *s) : buf_append(q, s, 1))
            return -1;
    return buf_append(q, "'", 1);
}

int backfill_query(const struct config *cfg, int64_t from_ms, int64_t to_ms, struct buf *q)
{
    buf_reset(q);
    if (buf_printf(q, "SELECT \"count\", \"stress_level\"") != 0)
        return -1;
    for (size_t i = 0; i < cfg->nfields; i++)
        if (buf_append(q, ", ", 2) != 0 || influx_append_ident(q, cfg->fields[i]) != 0)
            return -1;
    if (buf_printf(q, " FROM ") != 0 || influx_append_ident(q, cfg->influx_measurement) != 0 ||
        buf_printf(q, " WHERE \"source\" = ") != 0 || append_literal(q, cfg->influx_source_tag) != 0 ||
        buf_printf(q, " AND time >= %" PRId64 "ms AND time < %" PRId64 "ms GROUP BY \"id\"", from_ms, to_ms) != 0)
        return -1;
    return 0;
}

/* The column index of name in cols, or -1. */
static int column(json_t *cols, const char *name)
{
    size_t i;
    json_t *c;

    json_array_foreach(cols, i, c)
        if (json_is_string(c) && strcmp(json_string_value(c), name) == 0)
            return (int)i;
    return -1;
}

/* One row of a series: a pending point joins b. Returns 1 added, 0 not
 * pending (or not ours), -1 memory. */
static int backfill_row(struct backfill *b, const struct config *cfg, const char *id, json_t *row, const int *col,
                        const int64_t *after, int32_t nparts)
{
    json_t *t = json_array_get(row, 0), *count = json_array_get(row, (size_t)col[0]);
    json_t *level = json_array_get(row, (size_t)col[1]);
    double values[AGG_MAX_FIELDS];
    unsigned char present[AGG_MAX_FIELDS];

    if (!json_is_integer(t) || !json_is_integer(count) || json_integer_value(count) <= 0 || !json_is_null(level))
        return 0;
    int64_t time_ns = json_integer_value(t);
    int32_t p = window_point_partition(time_ns);
    int64_t window_ms = window_point_start_ms(time_ns);
    if (p >= nparts || window_ms < after[p])
        return 0;
    for (size_t i = 0; i < cfg->nfields; i++) {
        json_t *v = col[2 + i] >= 0 ? json_array_get(row, (size_t)col[2 + i]) : NULL;
        present[i] = json_is_number(v);
        values[i] = present[i] ? json_number_value(v) : 0.0;
    }
    /* one entry a point (two points of one window, from two batches, stay
     * two); the window starts at the point's whole second (window starts
     * are whole seconds: window_seconds is an integer) */
    struct agg *a = &b->agg;
    if (a->count == a->cap) { /* entries and their times grow together */
        size_t cap = a->cap, tcap = b->cap;
        struct agg_entry *entries = array_grow(a->entries, &cap, sizeof *entries, 256);
        if (entries)
            a->entries = entries;
        int64_t *tn = entries ? array_grow(b->time_ns, &tcap, sizeof *tn, 256) : NULL;
        if (tn == NULL)
            return -1;
        b->time_ns = tn;
        a->cap = b->cap = cap;
    }
    struct agg_entry *e = &a->entries[a->count];
    memset(e, 0, sizeof *e);
    if ((e->id = strdup(id)) == NULL)
        return -1;
    e->id_len = strlen(id);
    e->window_ms = window_ms;
    e->partition = p;
    e->count = json_integer_value(count);
    for (size_t i = 0; i < cfg->nfields; i++) {
        e->sum[i] = values[i];
        e->n[i] = present[i];
    }
    a->count++;
    a->live++;
    b->time_ns[a->count - 1] = time_ns;
    return 1;
}

int backfill_parse(struct backfill *b, const struct config *cfg, const char *body, size_t len,
                   const int64_t *after, int32_t nparts, char *err, size_t errsz)
{
    json_t *root = json_loadb(body, len, 0, NULL), *res = json_array_get(json_object_get(root, "results"), 0);
    json_t *series, *s;
    int col[2 + AGG_MAX_FIELDS], added = 0, rc, partial;
    size_t i, j;

    if (res == NULL) {
        snprintf(err, errsz, "InfluxDB query: unexpected answer: %.*s", (int)(len < 200 ? len : 200), body);
        json_decref(root);
        return -1;
    }
    if (json_is_string(json_object_get(res, "error"))) {
        snprintf(err, errsz, "InfluxDB query: %s", json_string_value(json_object_get(res, "error")));
        json_decref(root);
        return -1;
    }
    partial = json_is_true(json_object_get(res, "partial"));
    series = json_object_get(res, "series");
    json_array_foreach(series, i, s) {
        json_t *cols = json_object_get(s, "columns"), *row;
        json_t *id = json_object_get(json_object_get(s, "tags"), "id");
        if (!json_is_string(id) || (col[0] = column(cols, "count")) < 0 || (col[1] = column(cols, "stress_level")) < 0)
            continue;
        for (size_t f = 0; f < cfg->nfields; f++)
            col[2 + f] = column(cols, cfg->fields[f]);
        json_array_foreach(json_object_get(s, "values"), j, row) {
            if ((rc = backfill_row(b, cfg, json_string_value(id), row, col, after, nparts)) < 0) {
                snprintf(err, errsz, "out of memory");
                json_decref(root);
                return -1;
            }
            added += rc;
        }
        partial |= json_is_true(json_object_get(s, "partial"));
    }
    json_decref(root);
    if (partial) {
        /* the server's max-row-limit cut the answer: what it left out
         * would be taken as not pending, and pend moved past it */
        snprintf(err, errsz, "InfluxDB query: the answer is partial (the server's max-row-limit)");
        return BACKFILL_PARTIAL;
    }
    return added;
}

void backfill_truncate(struct backfill *b, size_t count)
{
    while (b->agg.count > count) {
        struct agg_entry *e = &b->agg.entries[--b->agg.count];
        free(e->id);
        free(e->reason);
        e->id = e->reason = NULL;
        if (e->state != AGG_DROPPED) /* a partition lost meanwhile already took it off */
            b->agg.live--;
    }
}

enum backfill_step backfill_decide(size_t before, size_t added, int too_long, int64_t budget, int64_t slice_ms,
                                   int64_t window_ms)
{
    if (too_long)
        return slice_ms > window_ms ? BACKFILL_NARROW : before > 0 ? BACKFILL_STOP : BACKFILL_FAIL;
    if ((int64_t)(before + added) <= budget)
        return BACKFILL_TAKE;
    if (slice_ms > window_ms)
        return BACKFILL_NARROW;
    return before == 0 ? BACKFILL_TAKE : BACKFILL_STOP;
}

int64_t backfill_narrow(int64_t slice_ms, int64_t window_ms)
{
    int64_t half = slice_ms / 2 / window_ms * window_ms;

    return half > window_ms ? half : window_ms;
}

void backfill_walk_init(struct backfill_walk *w, int64_t from, int64_t last, int64_t budget, int64_t window_ms)
{
    *w = (struct backfill_walk){ .at = from, .last = last, .slice = BACKFILL_SLICE_MS, .ceiling = INT64_MAX,
                                 .window = window_ms, .budget = budget };
    if (w->slice < window_ms)
        w->slice = window_ms;
}

int backfill_walk_next(const struct backfill_walk *w, int64_t *lo, int64_t *hi)
{
    if (w->stopped || w->at > w->last || (int64_t)w->found >= w->budget || w->asked >= BACKFILL_MAX_QUERIES)
        return 0;
    *lo = w->at;
    *hi = w->at + w->slice;
    return 1;
}

size_t backfill_walk_answer_max(const struct backfill_walk *w)
{
    return w->slice > w->window ? BACKFILL_ANSWER_MAX : BACKFILL_WINDOW_ANSWER_MAX;
}

enum backfill_step backfill_walk_answer(struct backfill_walk *w, size_t added, int too_long)
{
    enum backfill_step step = backfill_decide(w->found, added, too_long, w->budget, w->slice, w->window);

    w->asked++;
    switch (step) {
    case BACKFILL_TAKE:
        w->found += added;
        w->at += w->slice;
        /* sparse: widen again, so that a run does not crawl a window at a
         * time -- but not back to a width already found too long */
        if ((int64_t)added * 4 < w->budget - (int64_t)w->found) {
            int64_t wider = w->slice * 2 < BACKFILL_SLICE_MS ? w->slice * 2 : BACKFILL_SLICE_MS;
            if (wider < w->ceiling)
                w->slice = wider > w->slice ? wider : w->slice;
        }
        break;
    case BACKFILL_NARROW:
        if (too_long && w->slice < w->ceiling)
            w->ceiling = w->slice;
        w->slice = backfill_narrow(w->slice, w->window);
        break;
    case BACKFILL_STOP:
    case BACKFILL_FAIL:
        w->stopped = 1;
        break;
    }
    return step;
}

int64_t backfill_pend_next(int64_t at, int64_t after, int64_t upto)
{
    if (at > upto)
        return MARK_NO_TIME;
    return at > after ? at : after;
}

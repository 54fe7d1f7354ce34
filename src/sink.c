/* SPDX-License-Identifier: BSD-2-Clause */
/* sink.c -- the write path: chunks of line protocol, fenced requests, refusals split and judged. */
#include "sink.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto.h"

void sink_chunk_reset(struct sink_chunk *ch)
{
    buf_reset(&ch->lines);
    ch->n = 0;
}

void sink_chunk_free(struct sink_chunk *ch)
{
    buf_free(&ch->lines);
    free(ch->at);
    memset(ch, 0, sizeof *ch);
}

static int chunk_add_line(struct sink_chunk *ch, size_t entry, int32_t partition, int tombstone, size_t off)
{
    if (ch->n == ch->cap) {
        struct sink_line *at = array_grow(ch->at, &ch->cap, sizeof *at, 256);
        if (at == NULL)
            return -1;
        ch->at = at;
    }
    ch->at[ch->n++] = (struct sink_line){ entry, partition, tombstone, off, ch->lines.len - off };
    return 0;
}

/* Take back what was appended after at (a point that turned out unwritable). */
static void chunk_truncate(struct sink_chunk *ch, size_t at)
{
    ch->lines.len = at;
    if (ch->lines.data)
        ch->lines.data[at] = '\0';
}

enum sink_append sink_append_point(struct sink_chunk *ch, const struct config *cfg, const struct agg_entry *e,
                                   size_t entry, int64_t time_ns, enum sink_point kind, size_t longest_field_key,
                                   struct buf *why)
{
    size_t at = ch->lines.len;
    struct lp_point p;
    int has, tombstone = kind == SINK_POINT_TOMBSTONE, means = kind == SINK_POINT || kind == SINK_POINT_UNPREDICTED;

    buf_reset(why);
    for (size_t i = 0; means && i < cfg->nfields; i++) {
        double mean = agg_mean(e, i, &has);
        if (has && !isfinite(mean))
            return buf_printf(why, "the mean of field \"%s\" is not finite (its values' sum overflows a double)",
                              cfg->fields[i]) == 0 ? SINK_UNWRITABLE : SINK_NOMEM;
    }
    if (lp_begin(&p, &ch->lines, cfg->influx_measurement) != 0 || lp_tag(&p, "id", e->id, e->id_len) != 0 ||
        lp_tag(&p, "source", cfg->influx_source_tag, strlen(cfg->influx_source_tag)) != 0)
        return SINK_NOMEM;
    /* InfluxDB stores each field under key + "#!~#" + field key */
    if (ch->lines.len - at + 4 + longest_field_key > SINK_SERIES_KEY_MAX) {
        size_t key_len = ch->lines.len - at;
        chunk_truncate(ch, at);
        return buf_printf(why, "its series key (measurement and tags) is %zu bytes: with a field key it is over"
                          " InfluxDB's %d", key_len, SINK_SERIES_KEY_MAX) == 0 ? SINK_UNWRITABLE : SINK_NOMEM;
    }
    for (size_t i = 0; means && i < cfg->nfields; i++) {
        double mean = agg_mean(e, i, &has);
        if (has && lp_field_float(&p, cfg->fields[i], mean) != 0)
            return SINK_NOMEM;
    }
    if ((kind == SINK_POINT || kind == SINK_POINT_PREDICTION) && lp_field_int(&p, "stress_level", e->prediction) != 0)
        return SINK_NOMEM;
    if (kind != SINK_POINT_PREDICTION && lp_field_int(&p, "count", tombstone ? 0 : e->count) != 0)
        return SINK_NOMEM;
    /* a prediction line is not a point either: written, it adds no message */
    if (lp_end(&p, time_ns) != 0 || chunk_add_line(ch, entry, e->partition, kind == SINK_POINT_TOMBSTONE ||
                                                   kind == SINK_POINT_PREDICTION, at) != 0)
        return SINK_NOMEM;
    return SINK_APPENDED;
}

/* ---- writing ------------------------------------------------------------------------------ */

struct refusal {
    size_t line;
    char *why;
};

struct writer {
    const struct sink_ops *ops;
    const struct sink_chunk *ch;
    struct refusal *refused;
    size_t nrefused, cap;
    int64_t written, requests;
    char *why;
    size_t whysz;
};

static int writer_refuse(struct writer *w, size_t lo, size_t hi, const char *why)
{
    for (size_t i = lo; i < hi; i++) {
        if (w->nrefused == w->cap) {
            struct refusal *r = array_grow(w->refused, &w->cap, sizeof *r, 16);
            if (r == NULL)
                return -1;
            w->refused = r;
        }
        if ((w->refused[w->nrefused].why = strdup(why)) == NULL)
            return -1;
        w->refused[w->nrefused++].line = i;
    }
    return 0;
}

static void writer_free(struct writer *w)
{
    for (size_t i = 0; i < w->nrefused; i++)
        free(w->refused[i].why);
    free(w->refused);
}

static int64_t points_in(const struct sink_chunk *ch, size_t lo, size_t hi)
{
    int64_t n = 0;

    for (size_t i = lo; i < hi; i++)
        n += !ch->at[i].overlay;
    return n;
}

/* "dropped=N" in a partial write's message: how many points of the
 * request the sink dropped, or -1 when it does not say. */
static long long dropped_of(const char *why)
{
    const char *d = strstr(why, "dropped=");
    char *end;
    long long n;

    if (d == NULL)
        return -1;
    n = strtoll(d + strlen("dropped="), &end, 10);
    return end == d + strlen("dropped=") || n < 0 ? -1 : n;
}

static enum sink_result write_range(struct writer *w, size_t lo, size_t hi)
{
    const struct sink_chunk *ch = w->ch;
    char why[1024];
    int fenced;

    if (lo >= hi)
        return SINK_WRITTEN;
    if ((fenced = w->ops->fence(w->ops->arg, ch, lo, hi, w->why, w->whysz)) != 0)
        return fenced > 0 ? SINK_REBUILD : SINK_LOCAL;
    const char *body = ch->lines.data + ch->at[lo].off;
    size_t len = ch->at[hi - 1].off + ch->at[hi - 1].len - ch->at[lo].off;
    w->requests++;
    switch (w->ops->post(w->ops->arg, body, len, why, sizeof why)) {
    case SINK_ACCEPTED:
        w->written += points_in(ch, lo, hi);
        return SINK_WRITTEN;
    case SINK_UNAVAILABLE:
        snprintf(w->why, w->whysz, "%s", why);
        return SINK_FAILED;
    case SINK_DENIED:
        snprintf(w->why, w->whysz, "%s", why);
        return SINK_CONFIG;
    case SINK_REFUSED:
        break;
    }
    /* alone, or every point of the range dropped: these are the refused */
    if (hi - lo == 1 || dropped_of(why) == (long long)(hi - lo)) {
        if (writer_refuse(w, lo, hi, why) != 0) {
            snprintf(w->why, w->whysz, "out of memory");
            return SINK_LOCAL;
        }
        return SINK_WRITTEN;
    }
    size_t mid = lo + (hi - lo) / 2;
    enum sink_result r = write_range(w, lo, mid);
    return r != SINK_WRITTEN ? r : write_range(w, mid, hi);
}

/* The refusals of a whole chunk, judged (sink.h): one verdict per point
 * beyond the retention policy; anything else is the sink failing. */
static enum sink_result writer_judge(struct writer *w)
{
    const struct sink_chunk *ch = w->ch;

    for (size_t i = 0; i < w->nrefused; i++) {
        const struct refusal *r = &w->refused[i];
        if (sink_beyond_retention(r->why))
            continue;
        snprintf(w->why, w->whysz, "InfluxDB refused %s for a reason that is not about the point itself, so it is"
                 " failing rather than judging points (nothing quarantined): %s",
                 ch->at[r->line].overlay ? "a line over an existing point" : "a point", r->why);
        return SINK_FAILED;
    }
    for (size_t i = 0; i < w->nrefused; i++) {
        const struct refusal *r = &w->refused[i];
        if (ch->at[r->line].overlay)
            continue; /* the point it overlays is beyond retention too */
        if (w->ops->refused(w->ops->arg, ch, r->line, r->why) != 0)
            return SINK_LOCAL;
    }
    return SINK_WRITTEN;
}

enum sink_result sink_write(const struct sink_ops *ops, const struct sink_chunk *ch, int64_t *written,
                            int64_t *requests, char *why, size_t whysz)
{
    struct writer w = { .ops = ops, .ch = ch, .why = why, .whysz = whysz };
    enum sink_result r;

    why[0] = '\0';
    r = write_range(&w, 0, ch->n);
    if (r == SINK_WRITTEN && w.nrefused > 0)
        r = writer_judge(&w);
    *written += w.written;
    *requests += w.requests;
    writer_free(&w);
    return r;
}

/* ---- judging refusals --------------------------------------------------------------------- */

int sink_beyond_retention(const char *why)
{
    return strstr(why, "beyond retention") != NULL;
}

/* Whether a and b are the same message, "dropped=N" aside. */
static int same_message(const char *a, const char *b)
{
    for (;;) {
        if (strncmp(a, "dropped=", 8) == 0 && strncmp(b, "dropped=", 8) == 0) {
            a += 8 + strspn(a + 8, "0123456789");
            b += 8 + strspn(b + 8, "0123456789");
            continue;
        }
        if (*a != *b)
            return 0;
        if (*a == '\0')
            return 1;
        a++, b++;
    }
}

int sink_refusals_systemic(const char *const *why, size_t n_refused, size_t n_items)
{
    if (n_items < 2 || n_refused != n_items)
        return 0;
    for (size_t i = 1; i < n_refused; i++)
        if (!same_message(why[0], why[i]))
            return 0;
    return 1;
}

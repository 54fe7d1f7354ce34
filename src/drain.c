/* drain.c -- the batch runner: its lock and row, its batches (consume, aggregate, predict, write, commit), its outcome. */
#include "drain.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <unistd.h>

#include "agg.h"
#include "decode.h"
#include "influx.h"
#include "consumer.h"
#include "lineproto.h"
#include "lock.h"
#include "log.h"
#include "metrics.h"
#include "ml.h"
#include "store.h"
#include "window.h"

static volatile sig_atomic_t drain_stop;

/* Quarantined messages logged one by one per run; the rest are counted. */
#define QUARANTINE_LOG_MAX 20

static void on_signal(int sig)
{
    (void)sig;
    drain_stop = 1;
}

struct run {
    const struct config *cfg;
    const struct drain_options *opt;
    struct store *store;
    int64_t run_id;
    struct decoder *dec;
    struct consumer *consumer;
    struct agg agg;
    int64_t messages, quarantined, points, ml_requests;
    int64_t lost_messages; /* read from partitions lost mid-run: left to their new owner */
    int64_t batch_messages; /* this batch's share of messages: the batch size bound */
    int64_t batch_limit;    /* this batch's size from its backlog, 0 until its partitions are assigned */
    int64_t backlog_seen;   /* the consumer's backlog already sized into a batch */
    int64_t backlog;        /* the run's backlog when its batches began (recorded) */
    int committed_parts;    /* partitions committed by this run, every batch */
    enum run_end ended_by;
    double join_s; /* seconds to the first assignment, < 0 none */
    size_t longest_field_key; /* of the fields a point carries */
    char error[1024];
};

/* consumer hook: a partition was lost to a rebalance; what we read from it
 * is its new owner's to write (consumer.h) */
static void on_partition_lost(int32_t p, int64_t handed, void *arg)
{
    struct run *r = arg;

    agg_drop_partition(&r->agg, p);
    r->messages -= handed;
    r->batch_messages -= handed;
    r->lost_messages += handed;
}

/* ml tick: keep the group membership alive while predicting */
static void on_ml_tick(void *arg)
{
    struct run *r = arg;

    consumer_service(r->consumer);
}

static int64_t peak_rss_kib(void)
{
    struct rusage ru;

    return getrusage(RUSAGE_SELF, &ru) == 0 ? (int64_t)ru.ru_maxrss : -1;
}

/* Keep a message we cannot use, with its bytes, and go on. */
static int quarantine_message(struct run *r, const rd_kafka_message_t *m, const char *why)
{
    char err[512];

    /* a flood of garbage must not flood the log: name the first few, count
     * the rest (every one is in the quarantine table) */
    if (++r->quarantined <= QUARANTINE_LOG_MAX)
        log_warn("quarantined %s [%" PRId32 "] offset %" PRId64 ": %s", r->cfg->topic, m->partition, m->offset, why);
    if (r->store == NULL)
        return 0;
    if (store_quarantine(r->store, r->run_id, now_wall_ms(), "message", r->cfg->topic, m->partition, m->offset,
                         m->key, m->key_len, m->payload ? m->payload : "", m->len, why, err, sizeof err) != 0) {
        snprintf(r->error, sizeof r->error, "%s", err);
        return -1;
    }
    return 0;
}

/* Decode, check and fold one message into the aggregates. Returns 0 (used
 * or quarantined) or -1 on a local failure (memory, state database). */
static int handle_message(struct run *r, const rd_kafka_message_t *m)
{
    const struct config *cfg = r->cfg;
    struct decoded d;
    char why[512];
    const char *bad;
    int64_t t_ms, window_ms;

    r->messages++;
    r->batch_messages++;
    if (m->payload == NULL || m->len == 0)
        return quarantine_message(r, m, "empty message (no value)");
    if (decode_message(r->dec, m->payload, m->len, &d, why, sizeof why) != 0)
        return quarantine_message(r, m, why);
    if (!d.has_id) {
        snprintf(why, sizeof why, "field \"%s\" (the id) is null", cfg->id_field);
        return quarantine_message(r, m, why);
    }
    if ((bad = lp_check(LP_TAG_VALUE, d.id, d.id_len)) != NULL) {
        snprintf(why, sizeof why, "id \"%.*s\" %s", (int)(d.id_len > 80 ? 80 : d.id_len), d.id, bad);
        return quarantine_message(r, m, why);
    }
    if (!d.has_time) {
        snprintf(why, sizeof why, "field \"%s\" (the event time) is null", cfg->time_field);
        return quarantine_message(r, m, why);
    }
    if (window_parse_time(d.time, d.time_len, cfg->time_local, &t_ms) != 0) {
        snprintf(why, sizeof why, "field \"%s\" is \"%.*s\", not \"YYYY-MM-DD HH:MM:SS.fff\"", cfg->time_field,
                 (int)(d.time_len > 60 ? 60 : d.time_len), d.time);
        return quarantine_message(r, m, why);
    }
    for (size_t i = 0; i < cfg->nfields; i++) {
        if (d.present[i] && !isfinite(d.values[i])) {
            snprintf(why, sizeof why, "field \"%s\" is %s", cfg->fields[i], isnan(d.values[i]) ? "NaN" : "infinite");
            return quarantine_message(r, m, why);
        }
    }
    window_ms = window_start(t_ms, cfg->window_seconds * 1000);
    if (!window_storable(window_ms)) {
        snprintf(why, sizeof why, "field \"%s\" is \"%.*s\", outside what InfluxDB stores (1677-09-21 to 2262-04-11)",
                 cfg->time_field, (int)(d.time_len > 60 ? 60 : d.time_len), d.time);
        return quarantine_message(r, m, why);
    }
    if (window_ms <= consumer_collision_horizon(r->consumer, m->partition)) {
        snprintf(why, sizeof why, "its window (%" PRId64 " ms) is older than what the partition had processed when its"
                 " batch numbers last wrapped around: its point could replace another one", window_ms);
        return quarantine_message(r, m, why);
    }
    switch (agg_add(&r->agg, d.id, d.id_len, window_ms, m->partition, m->offset, d.values, d.present,
                    (size_t)cfg->max_aggregates)) {
    case AGG_ADDED:
        break;
    case AGG_FULL:
        snprintf(why, sizeof why, "the batch already holds max_aggregates (%" PRId64 ") distinct (id, window)"
                 " aggregates; a flood of distinct ids is kept here rather than sent to the ML service one by one",
                 cfg->max_aggregates);
        return quarantine_message(r, m, why);
    case AGG_NOMEM:
        snprintf(r->error, sizeof r->error, "out of memory while aggregating");
        return -1;
    }
    consumer_note_event_time(r->consumer, m->partition, t_ms);
    return 0;
}

/* The batch's size from the backlog its partitions had when they were
 * assigned: one run a minute must keep up with the traffic, so the batch
 * takes the whole backlog, between batch_size and max_batch_size. */
static void size_batch(struct run *r, const struct consumer_stats *st)
{
    int64_t backlog = st->backlog - r->backlog_seen;

    r->backlog_seen = st->backlog;
    r->backlog += backlog;
    r->batch_limit = backlog < r->cfg->batch_size ? r->cfg->batch_size
                     : backlog > r->cfg->max_batch_size ? r->cfg->max_batch_size : backlog;
    log_info("Backlog %" PRId64 " messages: a batch of up to %" PRId64, backlog, r->batch_limit);
}

/* consume_bounds(): consuming ends here, successfully */
#define END_OF_BATCH (-1)

/* The end of consuming: the batch timeout counts from the first assignment
 * and leaves out time spent in rebalances; before any assignment the bound
 * is join_timeout_seconds. Returns 0 while consuming may go on, END_OF_BATCH
 * when the batch is complete, or a sysexits code with r->ended_by and
 * r->error set. */
static int consume_bounds(struct run *r, struct consumer *c, int64_t now, int64_t t0)
{
    const struct config *cfg = r->cfg;
    struct consumer_stats st;
    int64_t consuming_ms;

    consumer_stats(c, &st);
    if (!st.assigned) {
        if (now - t0 < cfg->join_timeout_seconds * 1000)
            return 0;
        r->ended_by = END_JOIN_TIMEOUT;
        snprintf(r->error, sizeof r->error,
                 "kafka: the group gave this runner no partitions within join_timeout_seconds (%" PRId64 " s)%s%s",
                 cfg->join_timeout_seconds, st.group_error ? "; last group error: " : "",
                 st.group_error ? st.group_error : "");
        return EX_UNAVAILABLE;
    }
    if (st.rebalancing_ms > cfg->join_timeout_seconds * 1000) {
        snprintf(r->error, sizeof r->error, "kafka: the group's rebalance did not end within join_timeout_seconds"
                 " (%" PRId64 " s)", cfg->join_timeout_seconds);
        return EX_UNAVAILABLE;
    }
    if (r->batch_limit == 0 && !st.rebalancing)
        size_batch(r, &st);
    consuming_ms = now - st.assigned_at_ms - st.rebalance_ms;
    if (consuming_ms < cfg->batch_timeout_seconds * 1000)
        return 0;
    if (!consumer_owes_reading(c)) {
        r->ended_by = END_TIMEOUT;
        return END_OF_BATCH;
    }
    /* a retry must read as far as the unfinished batch did; give it as long
     * again, then fail without writing rather than write less */
    if (consuming_ms < 2 * cfg->batch_timeout_seconds * 1000)
        return 0;
    r->ended_by = END_TIMEOUT;
    snprintf(r->error, sizeof r->error, "kafka: could not re-read, within twice batch_timeout_seconds, what an"
             " unfinished batch had read; nothing written, the next run tries again");
    return EX_UNAVAILABLE;
}

/* A signal came while a retry had not yet re-read what the unfinished batch
 * had: writing less than it did could leave its points' fields behind. */
static int stopped_owing(struct run *r)
{
    snprintf(r->error, sizeof r->error, "stopped by a signal before re-reading what an unfinished batch had read;"
             " nothing written, the next run tries again");
    return EX_TEMPFAIL;
}

/* Consume until the batch is full, the time is up, the partitions are
 * drained or a signal asks us to stop. Returns 0 or a sysexits code. */
static int consume(struct run *r, struct consumer *c, int64_t t0)
{
    char err[512];
    unsigned busy = 0;

    for (;;) {
        rd_kafka_message_t *m;
        int rc;

        /* the clock costs more than a message: read it when idle, and
         * every 256 messages while busy */
        if ((busy++ & 255) == 0 && (rc = consume_bounds(r, c, now_mono_ms(), t0)) != 0)
            return rc == END_OF_BATCH ? 0 : rc;
        if (r->batch_messages >= (r->batch_limit ? r->batch_limit : r->cfg->max_batch_size) &&
            !consumer_owes_reading(c)) {
            r->ended_by = END_BATCH_SIZE;
            return 0;
        }
        if (drain_stop) {
            r->ended_by = END_SIGNAL;
            return consumer_owes_reading(c) ? stopped_owing(r) : 0;
        }
        switch (consumer_next(c, 100, &m, err, sizeof err)) {
        case CONSUMER_MESSAGE:
            rc = handle_message(r, m);
            rd_kafka_message_destroy(m);
            if (rc != 0)
                return EX_SOFTWARE;
            break;
        case CONSUMER_IDLE:
            busy = 0;
            break;
        case CONSUMER_DRAINED:
            r->ended_by = END_EOF;
            return 0;
        case CONSUMER_FAILED:
            snprintf(r->error, sizeof r->error, "%s", err);
            return EX_UNAVAILABLE;
        }
    }
}

/* The id as a JSON string: JSON text must be UTF-8, and a hostile id need
 * not be, so a byte that is not part of valid UTF-8 is written as the text
 * \xNN (the key column of the quarantine row keeps the bytes as they were). */
static json_t *json_id(const char *id, size_t len)
{
    struct buf b = { 0 };
    json_t *j;

    if (utf8_escape(&b, id, len) != 0) {
        buf_free(&b);
        return NULL;
    }
    j = json_stringn(b.data ? b.data : "", b.len);
    buf_free(&b);
    return j;
}

/* The aggregate as JSON (owned by the caller, free()), kept in quarantine so
 * that nothing is lost; NULL when memory runs out. A mean that is not finite
 * (the values' sum overflowed) is written as its text, since JSON has no
 * infinity. */
static char *aggregate_json(const struct config *cfg, const struct agg_entry *e)
{
    json_t *means = json_object();
    json_t *root = json_pack("{s:o?, s:I, s:i, s:I, s:I, s:I, s:o}", "id", json_id(e->id, e->id_len),
                             "window_start_ms", (json_int_t)e->window_ms, "partition", (int)e->partition,
                             "first_offset", (json_int_t)e->first_offset, "last_offset", (json_int_t)e->last_offset,
                             "count", (json_int_t)e->count, "means", means);
    char *text = NULL;
    int has;

    for (size_t i = 0; root && i < cfg->nfields; i++) {
        double mean = agg_mean(e, i, &has);
        json_t *v = !has ? json_null() : isfinite(mean) ? json_real(mean) : json_string(mean > 0 ? "inf" : "-inf");
        json_object_set_new_nocheck(means, cfg->fields[i], v);
    }
    if (root && json_object_get(root, "id"))
        text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    return text;
}

static int quarantine_aggregate(struct run *r, const struct agg_entry *e)
{
    char err[512], *json;
    int rc = 0;

    r->quarantined++;
    log_warn("quarantined the aggregate of %.*s at %" PRId64 " (%" PRId64 " messages): %s", (int)e->id_len, e->id,
             e->window_ms, e->count, e->reason);
    if (r->store == NULL)
        return 0;
    if ((json = aggregate_json(r->cfg, e)) == NULL) {
        snprintf(r->error, sizeof r->error, "out of memory");
        return -1;
    }
    if (store_quarantine(r->store, r->run_id, now_wall_ms(), "aggregate", r->cfg->topic, e->partition,
                         e->first_offset, e->id, e->id_len, json, strlen(json), e->reason, err, sizeof err) != 0) {
        snprintf(r->error, sizeof r->error, "%s", err);
        rc = -1;
    }
    free(json);
    return rc;
}

/* Quarantine e with a reason of our own. Returns 0 or -1 (r->error). */
static int refuse_aggregate(struct run *r, struct agg_entry *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse_aggregate(struct run *r, struct agg_entry *e, const char *fmt, ...)
{
    struct buf why = { 0 };
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = buf_vprintf(&why, fmt, ap);
    va_end(ap);
    if (rc != 0) {
        snprintf(r->error, sizeof r->error, "out of memory");
        return -1;
    }
    free(e->reason);
    e->reason = why.data;
    e->state = AGG_QUARANTINED;
    return quarantine_aggregate(r, e);
}

/* InfluxDB keeps a series key (measurement and tags, escaped) of at most
 * this many bytes, and refuses the point otherwise. */
#define SERIES_KEY_MAX 65535

/* Append e's point to out. Returns 0, 1 when the point cannot be written
 * (e->reason says why; nothing appended), or -1 when memory runs out. */
static int append_point(struct run *r, struct agg_entry *e, struct buf *out)
{
    const struct config *cfg = r->cfg;
    size_t at = out->len;
    struct lp_point p;
    int has;

    for (size_t i = 0; i < cfg->nfields; i++) {
        double mean = agg_mean(e, i, &has);
        if (has && !isfinite(mean))
            return refuse_aggregate(r, e, "the mean of field \"%s\" is not finite (its values' sum overflows a double)",
                                    cfg->fields[i]) == 0 ? 1 : -1;
    }
    if (lp_begin(&p, out, cfg->influx_measurement) != 0 || lp_tag(&p, "id", e->id, e->id_len) != 0 ||
        lp_tag(&p, "source", cfg->influx_source_tag, strlen(cfg->influx_source_tag)) != 0)
        return -1;
    /* InfluxDB stores each field under key + "#!~#" + field key */
    if (out->len - at + 4 + r->longest_field_key > SERIES_KEY_MAX) {
        size_t key_len = out->len - at;
        out->len = at;
        if (out->data)
            out->data[at] = '\0';
        return refuse_aggregate(r, e, "its series key (measurement and tags) is %zu bytes: with a field key it is"
                                " over InfluxDB's %d", key_len, SERIES_KEY_MAX) == 0 ? 1 : -1;
    }
    for (size_t i = 0; i < cfg->nfields; i++) {
        double mean = agg_mean(e, i, &has);
        if (has && lp_field_float(&p, cfg->fields[i], mean) != 0)
            return -1;
    }
    if (lp_field_int(&p, "stress_level", e->prediction) != 0 || lp_field_int(&p, "count", e->count) != 0)
        return -1;
    return lp_end(&p, window_point_time_ns(e->window_ms, e->partition, consumer_batch_seq(r->consumer, e->partition)));
}

/* A write that failed without being refused point by point (write_range()
 * quarantines what InfluxDB refuses, so a refusal never fails a run). */
static int influx_exit_code(enum influx_result res)
{
    switch (res) {
    case INFLUX_OK: return 0;
    case INFLUX_DENIED: return EX_CONFIG;
    case INFLUX_REJECTED: /* not reached: refused points are quarantined */
    case INFLUX_UNAVAILABLE: break;
    }
    return EX_UNAVAILABLE;
}

/* Before a chunk's points are written: no rebalance may be under way, so
 * that only partitions still owned are written (consumer.h). */
static int settle_before_write(struct run *r)
{
    char err[512];

    if (consumer_settle(r->consumer, (int)r->cfg->join_timeout_seconds * 1000, err, sizeof err) != 0) {
        snprintf(r->error, sizeof r->error, "%s", err);
        return EX_UNAVAILABLE;
    }
    return 0;
}

/* A chunk's points: their line protocol, and which aggregate each line is. */
struct chunk {
    struct buf lines;
    struct chunk_line {
        size_t entry, off, len;
    } *at;
    size_t n, cap;
};

static void chunk_reset(struct chunk *ch)
{
    buf_reset(&ch->lines);
    ch->n = 0;
}

static void chunk_free(struct chunk *ch)
{
    buf_free(&ch->lines);
    free(ch->at);
}

/* The line protocol of entries[from..from+n) that are predicted, into ch;
 * quarantine those the ML service refused and those that cannot be points.
 * Entries of partitions lost meanwhile are AGG_DROPPED and left out.
 * Returns 0 or a sysexits code. */
static int chunk_build(struct run *r, size_t from, size_t n, struct chunk *ch)
{
    chunk_reset(ch);
    for (size_t i = from; i < from + n; i++) {
        struct agg_entry *e = &r->agg.entries[i];
        size_t off = ch->lines.len;
        int rc;
        if (e->state == AGG_QUARANTINED) {
            if (quarantine_aggregate(r, e) != 0)
                return EX_SOFTWARE;
            continue;
        }
        if (e->state != AGG_PREDICTED)
            continue;
        if ((rc = append_point(r, e, &ch->lines)) == 1)
            continue;
        if (rc == 0 && ch->n == ch->cap) {
            size_t cap = ch->cap ? ch->cap * 2 : 256;
            struct chunk_line *at = realloc(ch->at, cap * sizeof *at);
            if (at == NULL)
                rc = -1;
            else
                ch->at = at, ch->cap = cap;
        }
        if (rc != 0) {
            if (r->error[0] == '\0')
                snprintf(r->error, sizeof r->error, "out of memory");
            return EX_SOFTWARE;
        }
        ch->at[ch->n++] = (struct chunk_line){ i, off, ch->lines.len - off };
    }
    return 0;
}

/* Points written by a retried batch whose failed attempt may have
 * quarantined their aggregates (the ML service refused a smaller one): the
 * point replaces the quarantine row. Returns 0 or a sysexits code. */
static int forget_refused(struct run *r, const struct chunk *ch, size_t lo, size_t hi)
{
    char err[512];

    if (r->store == NULL)
        return 0;
    for (size_t i = lo; i < hi; i++) {
        const struct agg_entry *e = &r->agg.entries[ch->at[i].entry];
        if (consumer_batch_is_retry(r->consumer, e->partition) &&
            store_quarantine_forget(r->store, "aggregate", r->cfg->topic, e->partition, e->first_offset, err,
                                    sizeof err) < 0) {
            snprintf(r->error, sizeof r->error, "%s", err);
            return EX_SOFTWARE;
        }
    }
    return 0;
}

/* Write lines lo..hi of ch. InfluxDB refuses a whole request with 400 when
 * any point of it is bad (a point beyond the retention policy, a field type
 * conflict, ...), after writing the others ("partial write"): the range is
 * split in halves until the refused points stand alone, and those are
 * quarantined with InfluxDB's answer; rewriting the good ones is harmless.
 * *written counts the points InfluxDB accepted. Returns 0 or a sysexits code. */
static int write_range(struct run *r, struct influx *ix, struct chunk *ch, size_t lo, size_t hi, int64_t *written)
{
    const char *body;
    size_t len;
    enum influx_result res;
    char why[1024];

    if (lo >= hi)
        return 0;
    body = ch->lines.data + ch->at[lo].off;
    len = ch->at[hi - 1].off + ch->at[hi - 1].len - ch->at[lo].off;
    res = influx_write(ix, body, len, why, sizeof why);
    if (res == INFLUX_OK) {
        *written += (int64_t)(hi - lo);
        return forget_refused(r, ch, lo, hi);
    }
    if (res != INFLUX_REJECTED) {
        snprintf(r->error, sizeof r->error, "%s", why);
        return influx_exit_code(res);
    }
    if (hi - lo == 1)
        return refuse_aggregate(r, &r->agg.entries[ch->at[lo].entry], "InfluxDB refused its point: %s", why) == 0
                   ? 0
                   : EX_SOFTWARE;
    size_t mid = lo + (hi - lo) / 2;
    int rc = write_range(r, ix, ch, lo, mid, written);
    return rc != 0 ? rc : write_range(r, ix, ch, mid, hi, written);
}

static int chunk_write(struct run *r, struct influx *ix, struct chunk *ch, int64_t *written)
{
    if (ch->n == 0)
        return 0;
    if (r->opt->dry_run) {
        if (fwrite(ch->lines.data, 1, ch->lines.len, stdout) != ch->lines.len) {
            snprintf(r->error, sizeof r->error, "cannot write to stdout");
            return EX_IOERR;
        }
        *written += (int64_t)ch->n;
        return 0;
    }
    return write_range(r, ix, ch, 0, ch->n, written);
}

static int ml_exit_code(enum ml_result res)
{
    return res == ML_OK ? 0 : res == ML_DENIED ? EX_CONFIG : EX_UNAVAILABLE;
}

/* Predict and write the aggregates, points_per_write at a time, so a
 * prediction failure half-way has written only whole chunks (which the
 * retry rewrites). Between and during chunks the consumer is served, so
 * the group keeps this runner however long the phase takes, and a
 * partition revoked meanwhile is not written. Returns 0 or a sysexits code. */
static int predict_and_write(struct run *r)
{
    const struct config *cfg = r->cfg;
    struct ml_client *ml = NULL;
    struct influx *ix = NULL;
    struct chunk ch = { 0 };
    int rc = 0;

    if (r->agg.count == 0)
        return 0;
    ml = ml_open(cfg, r->error, sizeof r->error);
    if (ml == NULL)
        return EX_SOFTWARE;
    ml_set_tick(ml, on_ml_tick, r);
    if (!r->opt->dry_run && (ix = influx_open(cfg, r->error, sizeof r->error)) == NULL) {
        ml_close(ml);
        return EX_SOFTWARE;
    }
    for (size_t from = 0; from < r->agg.count && rc == 0; from += (size_t)cfg->influx_points_per_write) {
        size_t n = r->agg.count - from;
        int64_t points = 0;
        if (n > (size_t)cfg->influx_points_per_write)
            n = (size_t)cfg->influx_points_per_write;
        consumer_service(r->consumer);
        if ((rc = ml_exit_code(ml_predict(ml, &r->agg.entries[from], n, &r->ml_requests, r->error,
                                          sizeof r->error))) != 0)
            break;
        if ((rc = settle_before_write(r)) != 0 || (rc = chunk_build(r, from, n, &ch)) != 0 ||
            (rc = chunk_write(r, ix, &ch, &points)) != 0)
            break;
        r->points += points;
        log_debug("wrote %" PRId64 " points (%" PRId64 " so far)", points, r->points);
    }
    chunk_free(&ch);
    influx_close(ix);
    ml_close(ml);
    return rc;
}

static int64_t live_aggregates(const struct agg *a)
{
    int64_t n = 0;

    for (size_t i = 0; i < a->count; i++)
        n += a->entries[i].state != AGG_DROPPED;
    return n;
}

static void prune_state(struct run *r);

static void finish_run(struct run *r, int code, enum run_outcome outcome, int committed)
{
    struct buf ranges = { 0 };
    struct consumer_stats st = { 0 };
    struct run_summary sum = {
        .ended_ms = now_wall_ms(),
        .outcome = outcome,
        .exit_code = code,
        .ended_by = r->ended_by,
        .messages = r->messages,
        .quarantined = r->quarantined,
        .aggregates = live_aggregates(&r->agg),
        .points = r->points,
        .join_s = -1,
        .backlog = r->batch_limit || r->backlog ? r->backlog : -1,
        .error = r->error[0] ? r->error : NULL,
        .peak_rss_kib = peak_rss_kib(),
    };
    char err[512];

    if (r->store == NULL)
        return;
    if (r->consumer) {
        consumer_stats(r->consumer, &st);
        sum.skipped = st.skipped;
        sum.lost_partitions = st.lost;
        if (committed && consumer_ranges_json(r->consumer, &ranges) == 0)
            sum.offsets_json = ranges.data;
    }
    sum.join_s = r->join_s;
    if (store_run_end(r->store, r->run_id, &sum, err, sizeof err) != 0)
        log_err("%s", err);
    else if (r->cfg->metrics_textfile[0] && metrics_write(r->cfg->metrics_textfile, r->store, err, sizeof err) != 0)
        log_warn("%s", err);
    buf_free(&ranges);
    prune_state(r);
}

/* Retention of the state database ([state] keep_days, quarantine_max_mb),
 * after the run's row is final. A failure to prune fails nothing. */
static void prune_state(struct run *r)
{
    const struct config *cfg = r->cfg;
    struct store_pruned p;
    char err[512];

    if (store_prune(r->store, now_wall_ms(), cfg->state_keep_days, cfg->state_quarantine_max_mb * 1024 * 1024, 0, &p,
                    err, sizeof err) != 0) {
        log_warn("%s", err);
        return;
    }
    if (p.checks || p.runs || p.quarantined)
        log_info("state: pruned %" PRId64 " checks, %" PRId64 " runs and %" PRId64
                 " quarantined items older than keep_days (%" PRId64 ")",
                 p.checks, p.runs, p.quarantined, cfg->state_keep_days);
    if (p.over_budget)
        log_warn("state: pruned the %" PRId64 " oldest quarantined items: the quarantine held more than"
                 " quarantine_max_mb (%" PRId64 " MiB); it holds %.1f MiB now",
                 p.over_budget, cfg->state_quarantine_max_mb, (double)p.quarantine_bytes / 1048576.0);
}

/* Take the lock and open the state: a run row exists from here on.
 * Returns 0 or a sysexits code with the reason logged. */
static int drain_begin(struct run *r, int *lock_fd)
{
    char lock_path[4096], err[1024];

    /* a dry run writes, commits and records nothing: it may run beside a
     * runner, as an inspection tool should */
    if (r->opt->dry_run)
        return 0;
    if (lock_runner_path(r->cfg->state_database, lock_path, sizeof lock_path) != 0) {
        log_err("[state] database: path too long");
        return EX_CONFIG;
    }
    switch (lock_try(lock_path, lock_fd, err, sizeof err)) {
    case LOCK_TAKEN:
        break;
    case LOCK_BUSY:
        log_warn("another spillway drain holds %s; exiting", lock_path);
        return EX_TEMPFAIL;
    case LOCK_ERROR:
        log_err("%s", err);
        return EX_CONFIG;
    }
    if ((r->store = store_open(r->cfg->state_database, err, sizeof err)) == NULL) {
        log_err("%s", err);
        return EX_CONFIG;
    }
    /* we hold the lock: a run still "running" died without finishing */
    if (store_runs_abandon_stale(r->store, now_wall_ms(), err, sizeof err) < 0 ||
        store_run_begin(r->store, now_wall_ms(), (int)getpid(), &r->run_id, err, sizeof err) != 0) {
        log_err("%s", err);
        store_close(r->store);
        r->store = NULL;
        return EX_SOFTWARE;
    }
    return 0;
}

/* The reference's line after consuming. t_begin: when this batch began (the
 * run's start for the first, which includes the group join). */
static void log_collected(const struct run *r, int64_t t_begin, int first, int64_t t_consumed)
{
    struct consumer_stats st;
    char join[64] = "";

    consumer_stats(r->consumer, &st);
    if (first)
        snprintf(join, sizeof join, "group join %.2fs, ",
                 (double)((st.assigned ? st.assigned_at_ms : t_consumed) - t_begin) / 1000.0);
    log_info("Collected %" PRId64 " messages in %.2fs (%s%" PRId64 " quarantined, ended by %s)", r->batch_messages,
             (double)(t_consumed - t_begin) / 1000.0, join, r->quarantined,
             run_end_name(r->ended_by) ? run_end_name(r->ended_by) : "error");
    if (first && st.rebalance_ms > 0)
        log_info("%.2fs of it waiting in rebalances (not counted against batch_timeout_seconds)",
                 (double)st.rebalance_ms / 1000.0);
    if (r->quarantined > QUARANTINE_LOG_MAX)
        log_warn("... and %" PRId64 " more quarantined messages (all in the quarantine table of %s)",
                 r->quarantined - QUARANTINE_LOG_MAX, r->cfg->state_database);
}

/* What a run that wrote and committed what it could amounts to. A run that
 * got no partition, or lost every one it read, did nothing and says so. */
static int outcome_of(struct run *r, enum run_outcome *outcome)
{
    struct consumer_stats st;

    consumer_stats(r->consumer, &st);
    *outcome = RUN_OK;
    if (r->committed_parts > 0 || r->opt->dry_run)
        return 0;
    if (st.mark_error) {
        /* it was given partitions, but could not commit where it started */
        *outcome = RUN_FAILED;
        snprintf(r->error, sizeof r->error, "%s", st.mark_error);
        return EX_UNAVAILABLE;
    }
    if (st.lost > 0) {
        *outcome = RUN_LOST;
        snprintf(r->error, sizeof r->error, "every partition this run read was taken by a rebalance;"
                 " their new owners read them again");
        log_warn("%s", r->error);
        return EX_TEMPFAIL;
    }
    *outcome = RUN_NO_PARTITIONS;
    snprintf(r->error, sizeof r->error, "the group gave this runner no partitions (more runners than partitions?)");
    log_warn("%s", r->error);
    return EX_TEMPFAIL;
}

/* Commit what is written. Returns 0 or a sysexits code. */
static int commit_written(struct run *r, enum run_outcome *outcome, int *committed)
{
    int n;

    if (r->opt->dry_run)
        return outcome_of(r, outcome);
    log_info("Wrote %" PRId64 " points to InfluxDB", r->points);
    n = consumer_commit(r->consumer, (int)r->cfg->join_timeout_seconds * 1000, r->error, sizeof r->error);
    if (n < 0)
        return EX_UNAVAILABLE; /* written: the retry rewrites the same points */
    *committed = n > 0;
    r->committed_parts += n;
    if (n > 0)
        log_info("Committed offsets for %d partitions", n);
    return outcome_of(r, outcome);
}

/* Whether another pass may start: partitions handed to this runner after
 * its batch ended (by a rebalance) are read in a further batch, within the
 * same batch_timeout_seconds, so that a partition moved between runners is
 * read by its new owner now rather than by the next run. */
static int another_pass(struct run *r)
{
    struct consumer_stats st;

    consumer_stats(r->consumer, &st);
    if (drain_stop || r->opt->dry_run ||
        now_mono_ms() - st.assigned_at_ms - st.rebalance_ms >= r->cfg->batch_timeout_seconds * 1000)
        return 0;
    return consumer_resume_unread(r->consumer) > 0;
}

/* One batch: consume, predict and write, commit. first: the run's first
 * batch (its time includes the group join). Returns 0 or a sysexits code;
 * *outcome says what the run amounts to so far. */
static int run_batch(struct run *r, int64_t t0, int first, enum run_outcome *outcome, int *committed)
{
    int64_t t_begin = first ? t0 : now_mono_ms(), t_consumed;
    int code;

    r->ended_by = END_NONE;
    r->batch_messages = 0;
    r->batch_limit = 0;
    code = consume(r, r->consumer, t0);
    consumer_stop(r->consumer);
    t_consumed = now_mono_ms();
    log_collected(r, t_begin, first, t_consumed);
    if (code != 0)
        return code;
    /* before the first point is written: a retry must read at least this far */
    if (consumer_mark_ends(r->consumer, (int)r->cfg->join_timeout_seconds * 1000, r->error, sizeof r->error) != 0)
        return EX_UNAVAILABLE;
    if ((code = predict_and_write(r)) != 0)
        return code;
    log_info("Processed batch in %.2fs: %" PRId64 " aggregates, %" PRId64 " ML requests",
             (double)(now_mono_ms() - t_consumed) / 1000.0, live_aggregates(&r->agg), r->ml_requests);
    return commit_written(r, outcome, committed);
}

int drain_run(const struct config *cfg, const struct drain_options *opt)
{
    struct run r = { .cfg = cfg, .opt = opt, .join_s = -1 };
    struct consumer_hooks hooks = { .lost = on_partition_lost, .arg = &r };
    struct sigaction sa = { .sa_handler = on_signal };
    enum run_outcome outcome = RUN_FAILED;
    int lock_fd = -1, code, committed = 0, config_error;
    int64_t t0 = now_mono_ms();
    struct consumer_stats st;

    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    agg_init(&r.agg, cfg->nfields);
    r.longest_field_key = strlen("stress_level");
    for (size_t i = 0; i < cfg->nfields; i++)
        if (strlen(cfg->fields[i]) > r.longest_field_key)
            r.longest_field_key = strlen(cfg->fields[i]);

    /* what can be checked alone is checked before touching shared state */
    r.dec = decoder_open(cfg->schema, cfg->id_field, cfg->time_field, cfg->fields, cfg->nfields, r.error,
                         sizeof r.error);
    if (r.dec == NULL) {
        log_err("%s", r.error);
        code = EX_CONFIG;
        goto out;
    }
    if ((code = drain_begin(&r, &lock_fd)) != 0)
        goto out;

    r.consumer = consumer_open(cfg, opt->dry_run ? CONSUMER_READ_ONLY : CONSUMER_GROUP, &hooks, r.error,
                               sizeof r.error, &config_error);
    if (r.consumer == NULL) {
        code = config_error ? EX_CONFIG : EX_UNAVAILABLE;
        goto fail;
    }
    code = run_batch(&r, t0, 1, &outcome, &committed);
    consumer_stats(r.consumer, &st);
    if (st.assigned)
        r.join_s = (double)(st.assigned_at_ms - t0) / 1000.0;
    while (code == 0 && another_pass(&r)) {
        int more = 0;
        log_info("partitions handed to this runner after its batch: reading them in another batch");
        agg_free(&r.agg);
        agg_init(&r.agg, cfg->nfields);
        code = run_batch(&r, t0, 0, &outcome, &more);
        committed |= more;
    }
    if (code == 0 || (outcome != RUN_OK && outcome != RUN_FAILED))
        goto done; /* ok; or no partitions, or all lost: said already */
fail:
    outcome = RUN_FAILED;
    log_err("%s", r.error[0] ? r.error : "drain failed");
done:
    finish_run(&r, code, outcome, committed);
out:
    consumer_close(r.consumer);
    decoder_close(r.dec);
    agg_free(&r.agg);
    store_close(r.store);
    lock_release(lock_fd);
    return code;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* drain.c -- the batch runner's loop: its lock and row, its batches (consume, predict, write, commit), its outcome. */
#include "drain.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <unistd.h>

#include "admit.h"
#include "agg.h"
#include "backfill.h"
#include "consumer.h"
#include "decode.h"
#include "influx.h"
#include "level.h"
#include "outbox.h"
#include "lock.h"
#include "log.h"
#include "metrics.h"
#include "ml.h"
#include "sink.h"
#include "store.h"
#include "window.h"

static volatile sig_atomic_t drain_stop;

/* Quarantined items logged one by one per run; the rest are counted. */
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
    uint32_t token;  /* written into this run's done marks (mark.h) */
    int64_t now_ms;  /* the wall clock, read once: admission's idea of "now" */
    struct decoder *dec;
    struct consumer *consumer;
    struct agg agg;
    int64_t messages, quarantined, points, ml_requests, requests;
    int64_t lost_messages; /* read from partitions lost mid-run: left to their new owner */
    int64_t batch_messages; /* this batch's share of messages: the batch size bound */
    int64_t batch_limit;    /* this batch's size from its backlog, 0 until its partitions are assigned */
    int64_t backlog_seen;   /* the consumer's backlog already sized into a batch */
    int64_t backlog;        /* the run's backlog when its batches began (recorded) */
    int committed_parts;    /* partitions committed by this run, every batch */
    int full;               /* this batch's aggregate table is full */
    int ends_marked;        /* this batch's ends are committed: it may write */
    int stdout_failed;      /* a dry run could not print */
    enum level level;       /* the level this run writes in (level.h) */
    int level_probed;       /* in the preserve level, the ML service was asked once */
    const char *ml;         /* what the ML service did: "ok", "failed", NULL (not asked) */
    int64_t started_ms;     /* wall clock at the run's start */
    int64_t preserved, backfilled;
    int backfill_left; /* the last backfill left predictions pending on the owned partitions */
    struct backfill *backfill; /* the backfill under way, if any */
    struct ml_client *ml_client; /* opened when first needed, for every batch and backfill of the run */
    struct influx *influx;       /* likewise (none in a dry run): their connections are reused */
    enum run_end ended_by;
    double join_s; /* seconds to the first assignment, < 0 none */
    size_t longest_field_key; /* of the fields a point carries */
    char error[1024];
};

/* A token for this run's done marks: random, never 0 (mark.h). */
static uint32_t run_token(void)
{
    uint32_t t = 0;

    while (t == 0)
        if (getrandom(&t, sizeof t, 0) != (ssize_t)sizeof t)
            t = (uint32_t)getpid() * 2654435761u ^ (uint32_t)now_mono_ms();
    return t;
}

/* consumer hook: a partition was lost to a rebalance; what we read from it
 * is its new owner's to write, and to quarantine (consumer.h) */
static void on_partition_lost(int32_t p, int64_t handed, void *arg)
{
    struct run *r = arg;
    char err[512];
    int64_t rows;

    agg_drop_partition(&r->agg, p);
    if (r->backfill)
        agg_drop_partition(&r->backfill->agg, p);
    r->messages -= handed;
    r->batch_messages -= handed;
    r->lost_messages += handed;
    if (r->store == NULL)
        return;
    if ((rows = store_quarantine_drop(r->store, r->run_id, p, err, sizeof err)) < 0)
        log_warn("%s", err); /* the next run on this host drops them (not committed) */
    else
        r->quarantined -= rows;
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

/* ---- quarantine ---------------------------------------------------------------------------- */

static int keep(struct run *r, const struct quarantine_item *q)
{
    char err[512];

    if (r->store == NULL)
        return 0;
    if (store_quarantine(r->store, q, err, sizeof err) != 0) {
        snprintf(r->error, sizeof r->error, "%s", err);
        return -1;
    }
    return 0;
}

/* Keep a message we cannot use, with its bytes, and go on. */
static int quarantine_message(struct run *r, const rd_kafka_message_t *m, const char *why)
{
    struct quarantine_item q = {
        .run_id = r->run_id, .at_ms = now_wall_ms(), .kind = "message", .topic = r->cfg->topic,
        .partition = m->partition, .offset = m->offset, .seq = consumer_batch_seq(r->consumer, m->partition),
        .count = 1, .key = m->key, .key_len = m->key_len, .payload = m->payload ? m->payload : "",
        .payload_len = m->len, .error = why,
    };

    /* a flood of garbage must not flood the log: name the first few, count
     * the rest (every one is in the quarantine table) */
    if (++r->quarantined <= QUARANTINE_LOG_MAX)
        log_warn("quarantined %s [%" PRId32 "] offset %" PRId64 ": %s", r->cfg->topic, m->partition, m->offset, why);
    return keep(r, &q);
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

/* Store e's quarantine row (e->reason says why), holding `held` of its
 * messages (e->count, or 0 when they stay counted in a point); e becomes
 * AGG_KEPT. */
static int quarantine_held(struct run *r, struct agg_entry *e, int64_t held)
{
    char *json;
    int rc;

    r->quarantined++;
    log_warn("quarantined the aggregate of %.*s at %" PRId64 " (%" PRId64 " messages%s): %s", (int)e->id_len, e->id,
             e->window_ms, e->count, held ? "" : ", still counted in its point", e->reason);
    e->state = AGG_KEPT;
    if (r->store == NULL)
        return 0;
    if ((json = aggregate_json(r->cfg, e)) == NULL) {
        snprintf(r->error, sizeof r->error, "out of memory");
        return -1;
    }
    struct quarantine_item q = {
        .run_id = r->run_id, .at_ms = now_wall_ms(), .kind = "aggregate", .topic = r->cfg->topic,
        .partition = e->partition, .offset = e->first_offset, .seq = consumer_batch_seq(r->consumer, e->partition),
        .count = held, .key = e->id, .key_len = e->id_len, .payload = json, .payload_len = strlen(json),
        .error = e->reason,
    };
    rc = keep(r, &q);
    free(json);
    return rc;
}

static int quarantine_aggregate(struct run *r, struct agg_entry *e)
{
    return quarantine_held(r, e, e->count);
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
    return quarantine_aggregate(r, e);
}

/* ---- consuming ----------------------------------------------------------------------------- */

/* The message (the last handed out) needs an aggregate the full table has
 * no room for: the batch ends before it, and the next one reads it. */
static int give_back(struct run *r, const rd_kafka_message_t *m)
{
    r->messages--;
    r->batch_messages--;
    consumer_give_back(r->consumer, m->partition, m->offset);
    if (!r->full) {
        r->full = 1;
        log_info("The batch holds max_aggregates (%" PRId64 ") aggregates: it ends at partition %" PRId32
                 " offset %" PRId64 " (the next batch reads on from there)%s",
                 r->cfg->max_aggregates, m->partition, m->offset,
                 consumer_close_unowed(r->consumer) ? "; partitions retrying an unfinished batch read on to its end"
                                                    : "");
    }
    return 0;
}

/* Decode, admit and fold one message into the aggregates. Returns 0 (used,
 * quarantined or given back) or -1 on a local failure (memory, state). */
static int handle_message(struct run *r, const rd_kafka_message_t *m)
{
    const struct config *cfg = r->cfg;
    struct decoded d;
    char decode_err[512], why[512];
    struct admit_input in = { .len = m->payload ? m->len : 0, .d = &d, .now_ms = r->now_ms,
                              .horizon_ms = consumer_collision_horizon(r->consumer, m->partition) };
    int64_t t_ms, window_ms;

    r->messages++;
    r->batch_messages++;
    if (in.len > 0 && decode_message(r->dec, m->payload, m->len, &d, decode_err, sizeof decode_err) != 0)
        in.decode_error = decode_err;
    if (!admit_message(cfg, &in, &t_ms, &window_ms, why, sizeof why))
        return quarantine_message(r, m, why);
    /* what a retry owes is read whatever the table holds: it is bounded by
     * what the unfinished batch held */
    size_t max = consumer_owed(r->consumer, m->partition, m->offset) ? 0 : (size_t)cfg->max_aggregates;
    switch (agg_add(&r->agg, d.id, d.id_len, window_ms, m->partition, m->offset, d.values, d.present, max)) {
    case AGG_ADDED:
        break;
    case AGG_FULL:
        return give_back(r, m);
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
    int config_error = 0;

    for (;;) {
        rd_kafka_message_t *m;
        int rc;

        /* the clock costs more than a message: read it when idle, and
         * every 256 messages while busy */
        if ((busy++ & 255) == 0 && (rc = consume_bounds(r, c, now_mono_ms(), t0)) != 0)
            return rc == END_OF_BATCH ? 0 : rc;
        if (!consumer_owes_reading(c)) {
            if (r->full) {
                r->ended_by = END_AGGREGATES;
                return 0;
            }
            if (r->batch_messages >= (r->batch_limit ? r->batch_limit : r->cfg->max_batch_size)) {
                r->ended_by = END_BATCH_SIZE;
                return 0;
            }
        }
        if (drain_stop) {
            r->ended_by = END_SIGNAL;
            return consumer_owes_reading(c) ? stopped_owing(r) : 0;
        }
        switch (consumer_next(c, 100, &m, &config_error, err, sizeof err)) {
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
            r->ended_by = r->full ? END_AGGREGATES : END_EOF;
            return 0;
        case CONSUMER_FAILED:
            snprintf(r->error, sizeof r->error, "%s", err);
            return config_error ? EX_CONFIG : EX_UNAVAILABLE;
        }
    }
}

/* ---- predicting and writing ---------------------------------------------------------------- */

/* The sink's I/O for this run (sink.h): InfluxDB (stdout in a dry run) and
 * the consumer's fence. */
struct writing {
    struct run *r;
    struct influx *ix;
    struct agg *agg; /* the aggregates the chunk's lines index */
};

static enum sink_answer sink_post(void *arg, const char *body, size_t len, char *why, size_t whysz)
{
    struct run *r = ((struct writing *)arg)->r;
    struct influx *ix = ((struct writing *)arg)->ix;

    if (r->opt->dry_run) {
        if (fwrite(body, 1, len, stdout) == len)
            return SINK_ACCEPTED;
        r->stdout_failed = 1;
        snprintf(why, whysz, "cannot write to stdout");
        return SINK_UNAVAILABLE;
    }
    switch (influx_write(ix, body, len, why, whysz)) {
    case INFLUX_OK: return SINK_ACCEPTED;
    case INFLUX_REJECTED: return SINK_REFUSED;
    case INFLUX_DENIED: return SINK_DENIED;
    case INFLUX_UNAVAILABLE: break;
    }
    return SINK_UNAVAILABLE;
}

static int sink_fence(void *arg, const struct sink_chunk *ch, size_t lo, size_t hi, char *why, size_t whysz)
{
    struct run *r = ((struct writing *)arg)->r;
    int32_t nparts = consumer_partitions(r->consumer), *parts = calloc((size_t)nparts, sizeof *parts);
    unsigned char *seen = calloc((size_t)nparts, 1);
    size_t n = 0;
    int rc = -1;

    if (parts == NULL || seen == NULL) {
        snprintf(why, whysz, "out of memory");
    } else {
        for (size_t i = lo; i < hi; i++) {
            if (!seen[ch->at[i].partition])
                parts[n++] = ch->at[i].partition;
            seen[ch->at[i].partition] = 1;
        }
        rc = consumer_fence(r->consumer, parts, n, (int)r->cfg->join_timeout_seconds * 1000, why, whysz);
    }
    /* a partition lost since the chunk was built, and perhaps owned again
     * since (a fresh batch): its lines are the old batch's, not to be sent */
    for (size_t i = lo; rc == 0 && i < hi; i++)
        if (((struct writing *)arg)->agg->entries[ch->at[i].entry].state == AGG_DROPPED)
            rc = 1;
    free(parts);
    free(seen);
    return rc;
}

static int sink_refused(void *arg, const struct sink_chunk *ch, size_t i, const char *why)
{
    struct writing *w = arg;

    return refuse_aggregate(w->r, &w->agg->entries[ch->at[i].entry], "InfluxDB refused its point: %s", why);
}

/* Whether the aggregate carried every parameter the ML service is asked for
 * (ml_build_url() leaves out a parameter whose field has no value). */
static int ml_input_complete(const struct config *cfg, const struct agg_entry *e)
{
    int has;

    for (size_t i = 0; i < cfg->n_ml_params; i++)
        if ((void)agg_mean(e, cfg->ml_params[i].field, &has), !has)
            return 0;
    return 1;
}

/* Whether the ML service refused every aggregate of entries[from..from+n)
 * that carried every parameter, with the same answer
 * (sink_refusals_systemic()): then it is failing, and the run fails with
 * nothing quarantined. */
static int ml_refused_everything(struct run *r, size_t from, size_t n)
{
    const char **whys = calloc(n ? n : 1, sizeof *whys);
    size_t refused = 0, decided = 0;
    int systemic;

    if (whys == NULL)
        return 0;
    for (size_t i = from; i < from + n; i++) {
        const struct agg_entry *e = &r->agg.entries[i];
        if ((e->state != AGG_PREDICTED && e->state != AGG_QUARANTINED) || !ml_input_complete(r->cfg, e))
            continue;
        decided++;
        if (e->state == AGG_QUARANTINED)
            whys[refused++] = e->reason;
    }
    systemic = sink_refusals_systemic(whys, refused, decided);
    if (systemic)
        snprintf(r->error, sizeof r->error, "the ML service refused every aggregate of a chunk of %zu with the same"
                 " answer, so it is failing rather than judging each one (nothing quarantined): %s", refused, whys[0]);
    free(whys);
    return systemic;
}

/* The line protocol of entries[from..from+n) into ch: the predicted ones'
 * points (and, in the preserve level, the pending ones' without their
 * prediction); the refused ones' quarantine rows (once), and where a retry's
 * failed attempt may have written their point, a count-0 point over it so
 * that their messages count once, in the quarantine. Entries of partitions
 * lost meanwhile are AGG_DROPPED and left out. *unpredicted counts the
 * points without prediction. Returns 0 or a sysexits code. */
static int chunk_build(struct run *r, size_t from, size_t n, struct sink_chunk *ch, int64_t *unpredicted)
{
    struct buf why = { 0 };
    int rc = 0;

    sink_chunk_reset(ch);
    *unpredicted = 0;
    for (size_t i = from; i < from + n && rc == 0; i++) {
        struct agg_entry *e = &r->agg.entries[i];
        int64_t t = window_point_time_ns(e->window_ms, e->partition, consumer_batch_seq(r->consumer, e->partition));
        int pending = e->state == AGG_PENDING && r->level == LEVEL_PRESERVE;
        enum sink_append a = SINK_APPENDED;
        if (e->state == AGG_PREDICTED || pending) {
            a = sink_append_point(ch, r->cfg, e, i, t, pending ? SINK_POINT_UNPREDICTED : SINK_POINT,
                                  r->longest_field_key, &why);
            if (a == SINK_UNWRITABLE && refuse_aggregate(r, e, "%s", why.data) != 0)
                rc = EX_SOFTWARE;
            if (a == SINK_APPENDED && pending) {
                consumer_note_unpredicted(r->consumer, e->partition, e->window_ms);
                ++*unpredicted;
            }
        } else if (e->state == AGG_QUARANTINED && quarantine_aggregate(r, e) != 0) {
            rc = EX_SOFTWARE;
        }
        if (rc == 0 && a != SINK_NOMEM && e->state == AGG_KEPT &&
            consumer_may_have_written(r->consumer, e->partition, e->first_offset))
            a = sink_append_point(ch, r->cfg, e, i, t, SINK_POINT_TOMBSTONE, r->longest_field_key, &why);
        if (a == SINK_NOMEM) {
            snprintf(r->error, sizeof r->error, "out of memory");
            rc = EX_SOFTWARE;
        }
    }
    buf_free(&why);
    return rc;
}

/* Send ch (sink_write()) as w says. Returns 0 (written), 1 (rebuild: a
 * partition was lost under it), or a sysexits code. */
static int chunk_send(struct run *r, struct writing *w, struct sink_chunk *ch, int64_t *points)
{
    struct sink_ops ops = { sink_post, sink_fence, sink_refused, w };

    switch (sink_write(&ops, ch, points, &r->requests, r->error, sizeof r->error)) {
    case SINK_WRITTEN: return 0;
    case SINK_REBUILD: return 1;
    case SINK_FAILED: return r->stdout_failed ? EX_IOERR : EX_UNAVAILABLE;
    case SINK_CONFIG: return EX_CONFIG;
    case SINK_LOCAL: break;
    }
    return EX_SOFTWARE;
}

/* Write ch, rebuilding it while partitions are lost under it. Before the
 * batch's first write, its ends go into the marks (consumer_mark_ends()):
 * a run that fails before writing leaves nothing owed. */
static int chunk_write(struct run *r, struct influx *ix, size_t from, size_t n, struct sink_chunk *ch)
{
    struct writing w = { r, ix, &r->agg };
    int64_t unpredicted;
    int rc;

    for (;;) {
        if ((rc = chunk_build(r, from, n, ch, &unpredicted)) != 0 || ch->n == 0)
            return rc;
        if (!r->ends_marked) {
            if (consumer_mark_ends(r->consumer, (int)r->cfg->join_timeout_seconds * 1000, r->error,
                                   sizeof r->error) != 0)
                return EX_UNAVAILABLE;
            r->ends_marked = 1;
            continue; /* a partition may have been lost meanwhile */
        }
        if ((rc = chunk_send(r, &w, ch, &r->points)) != 1) {
            if (rc == 0)
                r->preserved += unpredicted;
            return rc;
        }
    }
}

static int ml_exit_code(enum ml_result res)
{
    return res == ML_OK ? 0 : res == ML_DENIED ? EX_CONFIG : EX_UNAVAILABLE;
}

/* The level changes (level.h): recorded with its reason, and said. */
static void level_change(struct run *r, enum level to, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void level_change(struct run *r, enum level to, const char *fmt, ...)
{
    char reason[512], err[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    r->level = to;
    log_msg(to == LEVEL_PRESERVE ? LOG_WARNING : LOG_INFO, "%s the preserve level: %s",
            to == LEVEL_PRESERVE ? "Entering" : "Leaving", reason);
    if (r->store == NULL)
        return;
    /* the level and its notification in one transaction: the event is
     * raised exactly when the change is recorded */
    int64_t now = now_wall_ms();
    if (store_begin(r->store, err, sizeof err) != 0 ||
        store_level_set(r->store, now, level_name(to), reason, err, sizeof err) != 0 ||
        outbox_raise_level(r->cfg, r->store, to == LEVEL_PRESERVE, reason, now, err, sizeof err) != 0 ||
        store_commit(r->store, err, sizeof err) != 0) {
        store_rollback(r->store);
        log_warn("the level change is not recorded: %s", err);
    }
}

/* What the level decision needs: the streak of failing runs, this one's
 * failure included. */
static struct level_input level_input_of(struct run *r, enum level recorded)
{
    struct level_input in = { recorded, now_wall_ms(), r->cfg->preserve_after_seconds * 1000, LEVEL_NO_STREAK };
    char err[512];

    if (r->store && store_ml_failing_since(r->store, &in.failing_since_ms, err, sizeof err) != 0)
        log_warn("%s", err);
    if (in.failing_since_ms == INT64_MIN)
        in.failing_since_ms = r->ml && strcmp(r->ml, "failed") == 0 ? r->started_ms : LEVEL_NO_STREAK;
    return in;
}

/* The level a run starts in, from the state and the runs' record. */
static void level_start(struct run *r)
{
    char name[32] = "normal", err[512];
    enum level recorded = LEVEL_NORMAL;

    if (r->store && store_level_get(r->store, name, sizeof name, err, sizeof err) != 0)
        log_warn("%s", err);
    if (level_parse(name, &recorded) != 0)
        recorded = LEVEL_NORMAL;
    struct level_input in = level_input_of(r, recorded);
    r->level = recorded;
    enum level start = level_at_start(&in);
    if (start == LEVEL_NORMAL && recorded == LEVEL_PRESERVE)
        level_change(r, LEVEL_NORMAL, "preserve_after_seconds is 0: points are written only with predictions");
    else if (start == LEVEL_PRESERVE && recorded == LEVEL_NORMAL)
        level_change(r, LEVEL_PRESERVE, "the ML service has failed for %" PRId64 " s, preserve_after_seconds (%" PRId64
                     ") or more: points are written without stress_level and backfilled when it answers",
                     (in.now_ms - in.failing_since_ms) / 1000, r->cfg->preserve_after_seconds);
    else if (start == LEVEL_PRESERVE)
        log_info("In the preserve level (the ML service failing): asking it once before writing");
}

/* Predict entries[from..from+n) as the level says. In the preserve level the
 * service is asked once a run: an answer leaves the level, a failure leaves
 * the chunk to be written without predictions. In the normal level a
 * failure fails the run -- unless the streak of failing runs has lasted
 * preserve_after_seconds: then the run enters the preserve level. Returns 0
 * or a sysexits code. */
static int predict_chunk(struct run *r, struct ml_client *ml, size_t from, size_t n)
{
    struct agg_entry *entries = &r->agg.entries[from];
    enum ml_result res;

    if (r->level == LEVEL_PRESERVE) {
        size_t first = 0;
        while (first < n && entries[first].state != AGG_PENDING)
            first++;
        if (r->level_probed || first == n)
            return 0;
        r->level_probed = 1;
        if ((res = ml_predict(ml, &entries[first], 1, &r->ml_requests, r->error, sizeof r->error)) == ML_DENIED)
            return EX_CONFIG;
        if (res != ML_OK) {
            r->ml = "failed";
            log_info("the ML service still fails (%s): writing without predictions", r->error);
            r->error[0] = '\0';
            return 0;
        }
        r->ml = "ok";
        level_change(r, LEVEL_NORMAL, "the ML service answers again: points are written with predictions, and the"
                     " pending ones backfilled");
    }
    res = ml_predict(ml, entries, n, &r->ml_requests, r->error, sizeof r->error);
    if (res == ML_OK) {
        r->ml = "ok";
        return ml_refused_everything(r, from, n) ? EX_UNAVAILABLE : 0;
    }
    if (res == ML_DENIED)
        return EX_CONFIG;
    r->ml = "failed";
    struct level_input in = level_input_of(r, LEVEL_NORMAL);
    if (!level_preserve_due(&in))
        return EX_UNAVAILABLE;
    level_change(r, LEVEL_PRESERVE, "the ML service has failed for %" PRId64 " s, preserve_after_seconds (%" PRId64
                 ") or more (%s): points are written without stress_level and backfilled when it answers",
                 (in.now_ms - in.failing_since_ms) / 1000, r->cfg->preserve_after_seconds, r->error);
    r->level_probed = 1;
    r->error[0] = '\0';
    return 0;
}

/* The run's ML and InfluxDB clients, opened at the first use (the batch's
 * predictions or the backfill's) and kept until the run ends, so that the
 * backfill reuses the connections its batch made. 0, or -1 with err. */
static int run_clients(struct run *r, char *err, size_t errsz)
{
    if (r->ml_client == NULL) {
        if ((r->ml_client = ml_open(r->cfg, err, errsz)) == NULL)
            return -1;
        ml_set_tick(r->ml_client, on_ml_tick, r);
    }
    if (r->influx == NULL && !r->opt->dry_run && (r->influx = influx_open(r->cfg, err, errsz)) == NULL)
        return -1;
    return 0;
}

/* Predict and write the aggregates, points_per_write at a time, so a
 * prediction failure half-way has written only whole chunks (which the
 * retry rewrites). Between and during chunks the consumer is served, so
 * the group keeps this runner however long the phase takes, and a
 * partition revoked meanwhile is not written. Returns 0 or a sysexits code. */
static int predict_and_write(struct run *r)
{
    const struct config *cfg = r->cfg;
    struct sink_chunk ch = { 0 };
    int rc = 0;

    if (r->agg.count == 0)
        return 0;
    if (run_clients(r, r->error, sizeof r->error) != 0)
        return EX_SOFTWARE;
    struct ml_client *ml = r->ml_client;
    struct influx *ix = r->influx;
    for (size_t from = 0; from < r->agg.count && rc == 0; from += (size_t)cfg->influx_points_per_write) {
        size_t n = r->agg.count - from;
        if (n > (size_t)cfg->influx_points_per_write)
            n = (size_t)cfg->influx_points_per_write;
        consumer_service(r->consumer);
        if ((rc = predict_chunk(r, ml, from, n)) != 0)
            break;
        rc = chunk_write(r, ix, from, n, &ch);
        log_debug("wrote %" PRId64 " points so far", r->points);
    }
    sink_chunk_free(&ch);
    return rc;
}

/* ---- the backfill (backfill.h) -------------------------------------------------------------- */

/* A key for the quarantine row of a point the ML service refused while its
 * prediction was backfilled: no offset is known, so a negative one made of
 * the point's time and id (the same point, the same row). */
static int64_t backfill_key(const struct agg_entry *e, int64_t time_ns)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)time_ns;

    for (size_t i = 0; i < e->id_len; i++)
        h = (h ^ (unsigned char)e->id[i]) * 1099511628211ULL;
    return -1 - (int64_t)(h >> 2);
}

/* The overlays of b's entries [from, from+n): stress_level onto the predicted
 * ones' points. A refused one keeps its point (its messages stay counted
 * there, without a stress level: none is invented), and is recorded in the
 * quarantine with the answer and a count of 0 -- so that it is where refused
 * aggregates are, and the backfill moves past it. (Moving its messages to
 * the quarantine would need its point zeroed, and a run that zeroed it and
 * died before its commit would leave those messages nowhere.) */
static int backfill_build(struct run *r, struct backfill *b, size_t from, size_t n, struct sink_chunk *ch)
{
    struct buf why = { 0 };
    int rc = 0;

    sink_chunk_reset(ch);
    for (size_t i = from; i < from + n && rc == 0; i++) {
        struct agg_entry *e = &b->agg.entries[i];
        enum sink_append a = SINK_APPENDED;
        if (e->state == AGG_QUARANTINED) {
            e->first_offset = e->last_offset = backfill_key(e, b->time_ns[i]);
            rc = quarantine_held(r, e, 0) != 0 ? EX_SOFTWARE : 0;
        }
        if (rc == 0 && e->state == AGG_PREDICTED)
            a = sink_append_point(ch, r->cfg, e, i, b->time_ns[i], SINK_POINT_PREDICTION, r->longest_field_key, &why);
        if (a == SINK_NOMEM) {
            snprintf(r->error, sizeof r->error, "out of memory");
            rc = EX_SOFTWARE;
        }
    }
    buf_free(&why);
    return rc;
}

/* Find, predict and write b's points, chunk by chunk. Returns 0 or a sysexits code (r->error). */
static int backfill_write(struct run *r, struct backfill *b, struct ml_client *ml, struct influx *ix)
{
    struct writing w = { r, ix, &b->agg };
    struct sink_chunk ch = { 0 };
    int64_t ignored = 0;
    int rc = 0;

    for (size_t from = 0; from < b->agg.count && rc == 0; from += (size_t)r->cfg->influx_points_per_write) {
        size_t n = b->agg.count - from;
        if (n > (size_t)r->cfg->influx_points_per_write)
            n = (size_t)r->cfg->influx_points_per_write;
        if ((rc = ml_exit_code(ml_predict(ml, &b->agg.entries[from], n, &r->ml_requests, r->error,
                                          sizeof r->error))) != 0) {
            if (r->level == LEVEL_PRESERVE)
                r->ml = "failed";
            break;
        }
        r->ml = "ok";
        if (r->level == LEVEL_PRESERVE)
            level_change(r, LEVEL_NORMAL, "the ML service answers again: the pending predictions are backfilled");
        do {
            if ((rc = backfill_build(r, b, from, n, &ch)) != 0 || ch.n == 0)
                break;
        } while ((rc = chunk_send(r, &w, &ch, &ignored)) == 1);
        for (size_t i = from; rc == 0 && i < from + n; i++)
            r->backfilled += b->agg.entries[i].state == AGG_PREDICTED;
    }
    sink_chunk_free(&ch);
    return rc;
}

/* Backfill the predictions of the owned partitions' pending points, oldest
 * first, at most backfill_per_run (slices of event time narrowed until
 * their points fit: struct backfill_walk), and move each partition's pend
 * past what was looked at. A failure is logged and changes nothing: the
 * next run looks again. */
static void backfill_pending(struct run *r)
{
    int32_t nparts = consumer_partitions(r->consumer);
    int64_t *after = calloc((size_t)nparts, sizeof *after), *upto = calloc((size_t)nparts, sizeof *upto);
    int64_t from = INT64_MAX, last = INT64_MIN, at;
    uint64_t *incarnation = calloc((size_t)nparts, sizeof *incarnation);
    struct backfill b;
    struct buf q = { 0 }, body = { 0 };
    char err[1024];
    struct backfill_walk walk;
    int64_t lo, hi;
    int rc = -1;

    backfill_init(&b, r->cfg->nfields);
    r->backfill_left = 0; /* of this batch's partitions: an earlier batch's may have gone */
    for (int32_t p = 0; after && upto && incarnation && p < nparts; p++) {
        if (!consumer_pending(r->consumer, p, &after[p], &upto[p], &incarnation[p])) {
            after[p] = BACKFILL_UNWANTED;
            continue;
        }
        from = after[p] < from ? after[p] : from;
        last = upto[p] > last ? upto[p] : last;
    }
    if (from == INT64_MAX)
        goto out;
    r->backfill_left = 1; /* until a walk says otherwise: a failure leaves it all pending */
    r->backfill = &b;
    /* slices of event time, oldest first, as the walk says: a run asks
     * for what its budget holds (backfill_walk_answer()) */
    /* backfill_per_run is the run's: a run of several batches shares it */
    backfill_walk_init(&walk, from, last, r->cfg->backfill_per_run - r->backfilled, r->cfg->window_seconds * 1000);
    while (!drain_stop && backfill_walk_next(&walk, &lo, &hi)) {
        size_t before = b.agg.count;
        int added = 0, got;
        buf_reset(&body);
        if (backfill_query(r->cfg, lo, hi, &q) != 0) {
            snprintf(err, sizeof err, "out of memory");
            goto failed;
        }
        got = influx_select(r->cfg, q.data, "ns", r->cfg->influx_timeout_seconds, backfill_walk_answer_max(&walk),
                            &body, err, sizeof err);
        if (got < 0 || (got == 0 && (added = backfill_parse(&b, r->cfg, body.data ? body.data : "", body.len, after,
                                                           nparts, err, sizeof err)) == -1))
            goto failed;
        consumer_service(r->consumer);
        /* an answer too long, or cut short by the server: asked again narrower */
        int too_long = got == 1 || added == BACKFILL_PARTIAL;
        enum backfill_step step = backfill_walk_answer(&walk, too_long ? 0 : (size_t)added, too_long);
        if (step == BACKFILL_FAIL)
            goto failed; /* err says the answer was too long */
        if (step != BACKFILL_TAKE)
            backfill_truncate(&b, before);
    }
    at = walk.at;
    if (b.agg.count > 0) {
        if (run_clients(r, err, sizeof err) != 0)
            goto failed;
        if (backfill_write(r, &b, r->ml_client, r->influx) != 0) {
            snprintf(err, sizeof err, "%s", r->error);
            r->error[0] = '\0';
            goto failed;
        }
    }
    for (int32_t p = 0; p < nparts; p++)
        if (after[p] != BACKFILL_UNWANTED)
            consumer_backfilled(r->consumer, p, backfill_pend_next(at, after[p], upto[p]), incarnation[p]);
    log_info("Backfilled %" PRId64 " predictions onto points written without them (windows from %" PRId64
             " to %" PRId64 "%s)", r->backfilled, from, at, at > last ? ": none left" : "; more at the next run");
    r->backfill_left = at <= last;
    rc = 0;
failed:
    if (rc != 0)
        log_msg(r->level == LEVEL_PRESERVE ? LOG_INFO : LOG_WARNING, "backfill: %s; the next run tries again", err);
out:
    r->backfill = NULL;
    backfill_free(&b);
    buf_free(&q);
    buf_free(&body);
    free(after);
    free(upto);
    free(incarnation);
}

static int64_t live_aggregates(const struct agg *a)
{
    int64_t n = 0;

    for (size_t i = 0; i < a->count; i++)
        n += a->entries[i].state != AGG_DROPPED;
    return n;
}

/* ---- the run's row and state ----------------------------------------------------------------- */

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
        .ml = r->ml,
        .level = level_name(r->level),
        .preserved = r->preserved,
        .backfilled = r->backfilled,
        .backfill_left = r->backfill_left,
    };
    char err[512];

    if (r->store == NULL)
        return;
    if (r->consumer) {
        consumer_stats(r->consumer, &st);
        sum.skipped = st.skipped;
        sum.redone = st.redone;
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
    if (p.clock_jump)
        log_warn("state: the clock is before the last run, or more than keep_days (%" PRId64 ") after it: nothing"
                 " pruned by age (a clock that jumped must not empty the quarantine)", cfg->state_keep_days);
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
        store_run_begin(r->store, now_wall_ms(), (int)getpid(), r->token, &r->run_id, err, sizeof err) != 0) {
        log_err("%s", err);
        store_close(r->store);
        r->store = NULL;
        return EX_SOFTWARE;
    }
    return 0;
}

/* Quarantine rows earlier runs on this host left unsettled (they died
 * before, or around, their commit): each batch's fate from what the group
 * holds for its partition now (ledger_reconcile()). Before this run
 * quarantines anything. A failure leaves them for the next run. */
static void settle_quarantine(struct run *r)
{
    struct quarantine_batch *b = NULL;
    size_t n = 0;
    int32_t nparts = consumer_partitions(r->consumer);
    struct ledger_offsets *now = calloc((size_t)nparts, sizeof *now);
    int32_t *ids = calloc((size_t)nparts, sizeof *ids);
    int64_t dropped = 0, final = 0, unverified = 0;
    char err[512];

    if (now == NULL || ids == NULL || store_quarantine_unsettled(r->store, r->run_id, &b, &n, err, sizeof err) != 0)
        goto out;
    if (n == 0)
        goto out;
    for (int32_t p = 0; p < nparts; p++)
        ids[p] = p;
    if (consumer_read_committed(r->consumer, ids, nparts, now, err, sizeof err) != 0) {
        log_warn("quarantine rows of earlier runs left unsettled: %s", err);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        enum ledger_row_fate f = b[i].partition < nparts
                                     ? ledger_reconcile(b[i].committing, b[i].seq, b[i].token, &now[b[i].partition].mark)
                                     : LEDGER_ROW_UNVERIFIED;
        const char *state = f == LEDGER_ROW_FINAL ? "final" : f == LEDGER_ROW_UNVERIFIED ? "unverified" : NULL;
        int64_t rows = store_quarantine_settle(r->store, &b[i], state, err, sizeof err);
        if (rows < 0) {
            log_warn("%s", err);
            break;
        }
        *(f == LEDGER_ROW_FINAL ? &final : f == LEDGER_ROW_UNVERIFIED ? &unverified : &dropped) += rows;
    }
    if (dropped || final)
        log_info("quarantine: %" PRId64 " rows of earlier runs that did not commit dropped (their batches are"
                 " another run's), %" PRId64 " of runs whose commit landed kept", dropped, final);
    if (unverified)
        log_warn("quarantine: %" PRId64 " rows kept as unverified: their run died around its commit and the"
                 " partition's marks no longer say whether it landed", unverified);
out:
    free(b);
    free(now);
    free(ids);
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
 * got no partition, lost every one it read, or could not finish re-reading
 * what it owed, did nothing and says so. */
static int outcome_of(struct run *r, enum run_outcome *outcome)
{
    struct consumer_stats st;

    consumer_stats(r->consumer, &st);
    *outcome = RUN_OK;
    if (st.held > 0)
        log_warn("%d partitions owe a re-read of an unfinished batch this run could not finish: not committed;"
                 " the next run retries them", st.held);
    if (r->committed_parts > 0 || r->opt->dry_run)
        return 0;
    if (st.mark_error) {
        /* it was given partitions, but could not commit where it started */
        *outcome = RUN_FAILED;
        snprintf(r->error, sizeof r->error, "%s", st.mark_error);
        return EX_UNAVAILABLE;
    }
    if (st.held > 0) {
        *outcome = RUN_HELD;
        snprintf(r->error, sizeof r->error, "its partitions owed a re-read of an unfinished batch it could not"
                 " finish in time; nothing committed, the next run retries");
        return EX_TEMPFAIL;
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

/* consumer commit hooks: the quarantine rows of the partitions about to be
 * committed are made durable, and final once Kafka accepted */
static int on_committing(const int32_t *parts, const int64_t *seqs, int n, void *arg)
{
    struct run *r = arg;
    char err[512];

    (void)seqs;
    if (r->store && store_quarantine_committing(r->store, r->run_id, parts, n, err, sizeof err) != 0) {
        log_err("%s", err);
        return -1;
    }
    return 0;
}

static void on_committed(int32_t p, int64_t seq, void *arg)
{
    struct run *r = arg;
    char err[512];

    (void)seq;
    /* if this fails, or the runner dies first, the next run on this host
     * settles the rows from the partition's mark (ledger_reconcile()) */
    if (r->store && store_quarantine_final(r->store, r->run_id, p, err, sizeof err) != 0)
        log_warn("%s", err);
}

/* Commit what is written. Returns 0 or a sysexits code. */
static int commit_written(struct run *r, enum run_outcome *outcome, int *committed)
{
    struct consumer_commit_hooks hooks = { on_committing, on_committed, r };
    int n;

    if (r->opt->dry_run)
        return outcome_of(r, outcome);
    log_info("Wrote %" PRId64 " points to InfluxDB", r->points);
    n = consumer_commit(r->consumer, &hooks, (int)r->cfg->join_timeout_seconds * 1000, r->error, sizeof r->error);
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
    r->full = 0;
    r->ends_marked = 0;
    code = consume(r, r->consumer, t0);
    consumer_stop(r->consumer);
    t_consumed = now_mono_ms();
    log_collected(r, t_begin, first, t_consumed);
    if (code != 0)
        return code;
    if ((code = predict_and_write(r)) != 0)
        return code;
    /* in the preserve level, the backfill's first request is the one that
     * asks whether the service answers again */
    if (!(r->ml && strcmp(r->ml, "failed") == 0))
        backfill_pending(r);
    log_info("Processed batch in %.2fs: %" PRId64 " aggregates, %" PRId64 " ML requests, %" PRId64 " writes",
             (double)(now_mono_ms() - t_consumed) / 1000.0, live_aggregates(&r->agg), r->ml_requests, r->requests);
    return commit_written(r, outcome, committed);
}

int drain_run(const struct config *cfg, const struct drain_options *opt)
{
    struct run r = { .cfg = cfg, .opt = opt, .join_s = -1, .token = run_token(), .now_ms = now_wall_ms(),
                     .started_ms = now_wall_ms() };
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

    r.consumer = consumer_open(cfg, opt->dry_run ? CONSUMER_READ_ONLY : CONSUMER_GROUP, &hooks, r.token, r.error,
                               sizeof r.error, &config_error);
    if (r.consumer == NULL) {
        code = config_error ? EX_CONFIG : EX_UNAVAILABLE;
        goto fail;
    }
    if (r.store)
        settle_quarantine(&r);
    level_start(&r);
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
        goto done; /* ok; or no partitions, all lost, held: said already */
fail:
    outcome = committed ? RUN_PARTIAL : RUN_FAILED;
    log_err("%s", r.error[0] ? r.error : "drain failed");
done:
    finish_run(&r, code, outcome, committed);
out:
    ml_close(r.ml_client);
    influx_close(r.influx);
    consumer_close(r.consumer);
    decoder_close(r.dec);
    agg_free(&r.agg);
    store_close(r.store);
    lock_release(lock_fd);
    return code;
}

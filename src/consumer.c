/* SPDX-License-Identifier: BSD-2-Clause */
/* consumer.c -- the runner's consumer: librdkafka's group membership, assignments, fetching and commits, under the ledger's rules. */
#include "consumer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"
#include "log.h"
#include "window.h"

#define CONSUMER_META_TIMEOUT_MS 10000
/* after a refused commit: how long to wait for the group to announce the
 * rebalance (the next heartbeat brings it; heartbeat.interval.ms is 2 s) */
#define CONSUMER_REBALANCE_NOTICE_MS 5000
/* How long a runner that shares the group stays in it after its last
 * commit (see consumer_close()). */
#define CONSUMER_LINGER_MS 1000
/* How often the start marks refused for a rebalance that never came are
 * tried again before the partitions are given up for this run. */
#define CONSUMER_REMARK_TRIES 3
/* How often (in messages handed out, at most) the prefetch queue's depth
 * is looked at (see consumer_look_at_queue()). */
#define CONSUMER_QUEUE_LOOK_EVERY 1024

struct consumer {
    const struct config *cfg;
    enum consumer_mode mode;
    struct consumer_hooks hooks;
    uint32_t token;
    rd_kafka_t *rk;
    struct ledger_part *parts;
    int32_t nparts;
    int consuming;       /* until consumer_stop() */
    int closing;
    int assigned;
    int shared;          /* the last assignment left partitions to other members */
    int64_t assigned_at_ms;
    int rebalancing;
    int64_t rebalance_began_ms, rebalance_ms;
    char *suspended_by;  /* our member id when partitions were suspended */
    int lost;
    int64_t backlog, skipped, redone;
    rd_kafka_resp_err_t last_group_err;
    char group_error[256];
    char mark_error[256]; /* why a partition's start could not be committed, if one could not */
    int64_t remark_at_ms; /* when to try the refused start marks again (LEDGER_UNMARKED), 0 none */
    int remarks;          /* how often they were tried again */
    int fatal_config;     /* the fatal error is the configuration's (or the broker's) */
    uint64_t incarnations; /* partitions begun so far (ledger_part.incarnation) */
    rd_kafka_queue_t *queue; /* the consumer queue every partition's prefetch goes to */
    int64_t prefetch_msgs, prefetch_bytes; /* its bounds (queued.min.messages, queued.max.messages.kbytes) */
    int64_t look_n, look_bytes; /* messages handed out since the queue was last looked at, their payload */
    int fetch_stopped;    /* the queue reached a bound since the fetchers were last woken */
    int64_t wakes;        /* fetcher wake-ups, for the log */
    char fatal[512];
};

static int consumer_refused_for_rebalance(rd_kafka_resp_err_t e);
static void consumer_fetch_readable(struct consumer *c, rd_kafka_topic_partition_list_t *l);

static void consumer_lose(struct consumer *c, int32_t p, const char *why)
{
    int64_t handed = ledger_lose(&c->parts[p]);

    log_warn("partition %" PRId32 " lost (%s): its %" PRId64 " messages read in this run are dropped, not written"
             " nor committed; its new owner reads them again",
             p, why, handed);
    c->lost++;
    if (c->hooks.lost)
        c->hooks.lost(p, handed, c->hooks.arg);
}

/* Pause or resume partition p alone, as consumer_fetch_readable() decides. */
static void consumer_fetch_one(struct consumer *c, int32_t p)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);

    rd_kafka_topic_partition_list_add(l, c->cfg->topic, p);
    consumer_fetch_readable(c, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* ---- where partitions start ------------------------------------------------------------ */

/* The primary group's committed offsets, read through the runner's own
 * handle (a second handle cost about 7 ms of CPU a run: its threads,
 * connections and metadata). */
static int consumer_primary_committed(struct consumer *c, const int32_t *ids, int n, struct ledger_offsets *prim)
{
    char err[256];

    if (kafka_read_group_committed(c->rk, c->cfg->primary_group, c->cfg->topic, ids, n, CONSUMER_META_TIMEOUT_MS,
                                   prim, err, sizeof err) != 0) {
        snprintf(c->fatal, sizeof c->fatal, "%s (group %s)", err, c->cfg->primary_group);
        return -1;
    }
    return 0;
}

static void consumer_log_start(const struct consumer *c, int32_t p, const struct ledger_start *s,
                               const struct ledger_offsets *own, const struct ledger_offsets *prim)
{
    const struct start_decision *d = &s->d;
    char skipped[64] = "", redo[160] = "";

    if (d->reason == START_OWN && !s->retry) {
        log_debug("partition %" PRId32 ": starting at %" PRId64 ", %s", p, d->offset, start_reason_text(d->reason));
        return;
    }
    if (d->skipped > 0)
        snprintf(skipped, sizeof skipped, "; skipping %" PRId64 " messages", d->skipped);
    if (s->retry)
        snprintf(redo, sizeof redo, "; rewriting batch %" PRId64 " up to %" PRId64 "%s%.0" PRId64 "%s", s->mark.seq,
                 s->must_reach, s->redone > 0 ? ", re-reading " : "", s->redone,
                 s->redone > 0 ? " messages the primary processed" : "");
    log_msg(start_reason_warns(d->reason) ? LOG_WARNING : LOG_INFO,
            "partition %" PRId32 ": starting at %" PRId64 ", %s (committed: ours %" PRId64 "%s, %s's %" PRId64
            "; kept %" PRId64 "..%" PRId64 ")%s%s%s",
            p, d->offset, start_reason_text(d->reason), own->committed,
            own->mark.kind == MARK_WRITING ? (mark_wrote(&own->mark) ? " unfinished" : " begun, nothing written") : "",
            c->cfg->primary_group, prim->committed, own->low, own->high, skipped, redo,
            s->stop_at >= 0 ? "; stopping there, the primary processed the rest" : "");
}

/* Decide the start of each partition of l (all new to this run, or lost
 * before) and write it into the list. Returns 0, or -1 with c->fatal. */
static int consumer_decide_starts(struct consumer *c, rd_kafka_topic_partition_list_t *l)
{
    int n = l->cnt, rc = -1;
    int32_t *ids = calloc((size_t)n, sizeof *ids);
    struct ledger_offsets *own = calloc((size_t)n, sizeof *own), *prim = calloc((size_t)n, sizeof *prim);
    char err[256];

    if (ids == NULL || own == NULL || prim == NULL) {
        snprintf(c->fatal, sizeof c->fatal, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++)
        ids[i] = l->elems[i].partition;
    if (kafka_read_committed(c->rk, c->cfg->topic, ids, n, CONSUMER_META_TIMEOUT_MS, own, err, sizeof err) != 0 ||
        kafka_read_watermarks(c->rk, c->cfg->topic, ids, n, CONSUMER_META_TIMEOUT_MS, own, err, sizeof err) != 0) {
        snprintf(c->fatal, sizeof c->fatal, "%s", err);
        goto out;
    }
    if (consumer_primary_committed(c, ids, n, prim) != 0)
        goto out;
    for (int i = 0; i < n; i++) {
        struct ledger_start s = ledger_decide_start(c->cfg->start_from, &own[i], prim[i].committed);
        struct ledger_part *kp = &c->parts[ids[i]];
        int64_t end = s.stop_at >= 0 && s.stop_at < own[i].high ? s.stop_at : own[i].high;
        consumer_log_start(c, ids[i], &s, &own[i], &prim[i]);
        ledger_part_begin(kp, &s, &own[i], c->consuming, now_mono_ms(), c->cfg->influx_timeout_seconds * 1000);
        kp->incarnation = ++c->incarnations;
        if (c->mode == CONSUMER_READ_ONLY)
            kp->state = LEDGER_OWNED; /* nothing is committed: nothing to wait for */
        l->elems[i].offset = s.d.offset;
        c->skipped += s.d.skipped;
        c->redone += s.redone;
        c->backlog += end > s.d.offset ? end - s.d.offset : 0;
    }
    rc = 0;
out:
    free(ids);
    free(own);
    free(prim);
    return rc;
}

/* Put partition p's mark (m) on a commit list element. */
static void consumer_set_mark(rd_kafka_topic_partition_t *e, const struct mark *m)
{
    char text[MARK_TEXT_MAX];
    size_t n = mark_format(m, text, sizeof text);

    free(e->metadata);
    e->metadata = malloc(n);
    e->metadata_size = e->metadata ? n : 0;
    if (e->metadata)
        memcpy(e->metadata, text, n);
}

/* The mark a commit list element carries. */
static struct mark consumer_mark_of(const rd_kafka_topic_partition_t *e)
{
    struct mark m;

    mark_parse(e->metadata, e->metadata_size, &m);
    return m;
}

/* Read back the starts just committed for the partitions of l: a broker
 * that keeps offsets but not their metadata would make every mark read as
 * a finished batch 0 (a retry would never be known as one), and a start
 * another member committed over in between means the partition is not ours. */
static void consumer_verify_marks(struct consumer *c, const rd_kafka_topic_partition_list_t *l)
{
    int n = 0;
    int32_t *ids = calloc((size_t)(l->cnt > 0 ? l->cnt : 1), sizeof *ids);
    struct ledger_offsets *now = calloc((size_t)(l->cnt > 0 ? l->cnt : 1), sizeof *now);
    char err[256];

    for (int i = 0; ids && i < l->cnt; i++)
        if (c->parts[l->elems[i].partition].state == LEDGER_OWNED)
            ids[n++] = l->elems[i].partition;
    if (ids == NULL || now == NULL) {
        snprintf(c->fatal, sizeof c->fatal, "out of memory");
    } else if (n > 0 && kafka_read_committed(c->rk, c->cfg->topic, ids, n, CONSUMER_META_TIMEOUT_MS, now, err,
                                             sizeof err) != 0) {
        snprintf(c->fatal, sizeof c->fatal, "%s", err);
    }
    for (int i = 0; i < n && !c->fatal[0]; i++) {
        struct ledger_part *kp = &c->parts[ids[i]];
        if (ledger_unchanged(kp, &now[i]))
            continue;
        if (now[i].committed == kp->my_offset && now[i].mark.seq == 0 && now[i].mark.nfin == 0) {
            c->fatal_config = 1;
            snprintf(c->fatal, sizeof c->fatal, "kafka: the broker kept the offset committed on partition %" PRId32
                     " but not its metadata: spillway cannot tell a finished batch from an unfinished one there",
                     ids[i]);
            break;
        }
        kp->state = LEDGER_NONE; /* never read: a later assignment decides it afresh */
        log_warn("partition %" PRId32 ": another member committed over its start in between; not reading it", ids[i]);
    }
    free(ids);
    free(now);
}

/* Commit each start of l marked "writing" before anything is handed out,
 * retrying a refused commit twice. A partition whose mark cannot be
 * committed is not read in this run: without the mark, a failure after
 * writing would go unnoticed by the next run. A mark refused because the
 * group is rebalancing waits (LEDGER_UNMARKED): the rebalance revokes the
 * partition and a later assignment marks it again; if the rebalance never
 * reaches this runner, consumer_remark() tries again. */
static void consumer_mark_starts(struct consumer *c, const rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_topic_partition_list_t *marks = rd_kafka_topic_partition_list_copy(l);
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;

    for (int i = 0; i < marks->cnt; i++)
        consumer_set_mark(&marks->elems[i], &c->parts[marks->elems[i].partition].mark);
    for (int attempt = 1; attempt <= 3; attempt++) {
        int failed = 0;
        if (attempt > 1)
            sleep_ms(200 * (attempt - 1));
        e = rd_kafka_commit(c->rk, marks, 0);
        for (int i = 0; i < marks->cnt; i++)
            failed += e || marks->elems[i].err;
        if (!failed || consumer_refused_for_rebalance(e))
            break; /* a rebalance will revoke these anyway */
    }
    for (int i = 0; i < marks->cnt; i++) {
        rd_kafka_resp_err_t pe = e ? e : marks->elems[i].err;
        int32_t p = marks->elems[i].partition;
        if (pe == RD_KAFKA_RESP_ERR_NO_ERROR) {
            struct mark m = consumer_mark_of(&marks->elems[i]);
            ledger_committed(&c->parts[p], marks->elems[i].offset, &m, 0);
            continue;
        }
        if (consumer_refused_for_rebalance(pe) && c->remarks < CONSUMER_REMARK_TRIES) {
            log_info("partition %" PRId32 ": its start cannot be committed while the group rebalances (%s);"
                     " reading it once the mark is committed",
                     p, rd_kafka_err2str(pe));
            c->remark_at_ms = now_mono_ms() + CONSUMER_REBALANCE_NOTICE_MS;
            continue;
        }
        log_warn("partition %" PRId32 ": cannot commit its start before reading (%s); not reading it in this run", p,
                 rd_kafka_err2str(pe));
        snprintf(c->mark_error, sizeof c->mark_error, "kafka: cannot commit the start of partition %" PRId32 ": %s",
                 p, rd_kafka_err2str(pe));
        c->parts[p].state = LEDGER_LOST;
    }
    consumer_verify_marks(c, marks);
    rd_kafka_topic_partition_list_destroy(marks);
}

/* ---- the rebalance callback -------------------------------------------------------- */

static int consumer_in_list(const rd_kafka_topic_partition_list_t *l, int32_t p)
{
    for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].partition == p)
            return 1;
    return 0;
}

/* Whether partition p is to be read now. */
static int consumer_readable(const struct consumer *c, int32_t p)
{
    const struct ledger_part *kp = &c->parts[p];

    return c->consuming && kp->state == LEDGER_OWNED && kp->active && !kp->closed;
}

/* Pause the partitions of l that are not to be read (assigned all the same:
 * the group protocol wants it) and resume the others: librdkafka fetches an
 * assigned partition unless it is paused, and keeps a partition paused
 * across a rebalance that hands it back. */
static void consumer_fetch_readable(struct consumer *c, rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_topic_partition_list_t *idle = rd_kafka_topic_partition_list_new(l->cnt > 0 ? l->cnt : 1);
    rd_kafka_topic_partition_list_t *readable = rd_kafka_topic_partition_list_new(l->cnt > 0 ? l->cnt : 1);

    for (int i = 0; i < l->cnt; i++)
        rd_kafka_topic_partition_list_add(consumer_readable(c, l->elems[i].partition) ? readable : idle,
                                          c->cfg->topic, l->elems[i].partition);
    if (idle->cnt > 0)
        rd_kafka_pause_partitions(c->rk, idle);
    if (readable->cnt > 0)
        rd_kafka_resume_partitions(c->rk, readable);
    rd_kafka_topic_partition_list_destroy(idle);
    rd_kafka_topic_partition_list_destroy(readable);
}

/* Partitions suspended by the last revocation come back owned only when
 * this assignment holds them, we are the same member, and nobody committed
 * on them in between (ledger_resume(): read back from the group). */
static void consumer_settle_suspended(struct consumer *c, const rd_kafka_topic_partition_list_t *l)
{
    char *member = rd_kafka_memberid(c->rk), err[256];
    int same = member && c->suspended_by && strcmp(member, c->suspended_by) == 0, n = 0, read = 0;
    int32_t *ids = calloc((size_t)c->nparts, sizeof *ids);
    struct ledger_offsets *now = calloc((size_t)c->nparts, sizeof *now);

    for (int32_t p = 0; ids && p < c->nparts; p++)
        if (c->parts[p].state == LEDGER_SUSPENDED && same && consumer_in_list(l, p))
            ids[n++] = p;
    if (n > 0 && now)
        read = kafka_read_committed(c->rk, c->cfg->topic, ids, n, CONSUMER_META_TIMEOUT_MS, now, err, sizeof err) == 0;
    for (int i = 0; i < n; i++)
        if (read && ledger_resume(&c->parts[ids[i]], same, &now[i]))
            log_debug("partition %" PRId32 ": handed straight back, unchanged: reading on", ids[i]);
    for (int32_t p = 0; p < c->nparts; p++)
        if (c->parts[p].state == LEDGER_SUSPENDED)
            consumer_lose(c, p, !same ? "this runner left the group in between"
                                : !consumer_in_list(l, p) ? "given to another runner"
                                : read ? "another runner committed on it in between"
                                       : "its committed offset could not be read back");
    if (member)
        rd_kafka_mem_free(c->rk, member);
    free(ids);
    free(now);
    free(c->suspended_by);
    c->suspended_by = NULL;
}

static void consumer_on_assign(struct consumer *c, rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_topic_partition_list_t *fresh = rd_kafka_topic_partition_list_new(l->cnt > 0 ? l->cnt : 1);

    consumer_settle_suspended(c, l);
    for (int i = 0; i < l->cnt; i++) {
        int32_t p = l->elems[i].partition;
        if (c->parts[p].state == LEDGER_OWNED) /* resumed: go on after the last message */
            l->elems[i].offset = ledger_position(&c->parts[p]);
        else
            rd_kafka_topic_partition_list_add(fresh, c->cfg->topic, p);
    }
    if (fresh->cnt > 0 && consumer_decide_starts(c, fresh) == 0) {
        if (c->mode == CONSUMER_GROUP)
            consumer_mark_starts(c, fresh);
        for (int i = 0; i < l->cnt; i++)
            for (int j = 0; j < fresh->cnt; j++)
                if (fresh->elems[j].partition == l->elems[i].partition)
                    l->elems[i].offset = fresh->elems[j].offset;
    }
    rd_kafka_topic_partition_list_destroy(fresh);
    if (c->fatal[0]) {
        rd_kafka_assign(c->rk, NULL);
        return;
    }
    if (rd_kafka_assign(c->rk, l) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(c->fatal, sizeof c->fatal, "kafka: assign failed");
        return;
    }
    consumer_fetch_readable(c, l);
    for (int i = 0; i < l->cnt; i++)
        c->parts[l->elems[i].partition].eof = 0;
}

static void consumer_on_revoke(struct consumer *c, rd_kafka_topic_partition_list_t *l)
{
    int lost = rd_kafka_assignment_lost(c->rk);

    c->remark_at_ms = 0;
    for (int i = 0; i < l->cnt; i++)
        if (ledger_revoke(&c->parts[l->elems[i].partition], lost))
            consumer_lose(c, l->elems[i].partition, "the group no longer knows this runner");
    free(c->suspended_by);
    c->suspended_by = NULL;
    if (!lost) {
        char *member = rd_kafka_memberid(c->rk);
        if (member) {
            c->suspended_by = strdup(member);
            rd_kafka_mem_free(c->rk, member);
        }
    }
    c->rebalancing = 1;
    c->rebalance_began_ms = now_mono_ms();
}

static void consumer_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *l,
                                  void *opaque)
{
    struct consumer *c = opaque;

    log_debug("rebalance: %s, %d partitions", rd_kafka_err2name(err), l->cnt);
    for (int i = 0; i < l->cnt; i++) {
        if (l->elems[i].partition < 0 || l->elems[i].partition >= c->nparts) {
            snprintf(c->fatal, sizeof c->fatal, "kafka: assigned partition %" PRId32 " the topic did not have",
                     l->elems[i].partition);
            rd_kafka_assign(rk, NULL);
            return;
        }
    }
    if (c->closing) {
        rd_kafka_assign(rk, NULL);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        int64_t now = now_mono_ms();
        if (!c->assigned) {
            c->assigned = 1;
            c->assigned_at_ms = now;
        } else if (c->rebalancing) {
            c->rebalance_ms += now - c->rebalance_began_ms;
        }
        c->rebalancing = 0;
        c->shared = l->cnt < c->nparts;
        consumer_on_assign(c, l);
        log_debug("assigned %d partitions in %" PRId64 " ms", l->cnt, now_mono_ms() - now);
        return;
    }
    consumer_on_revoke(c, l);
    rd_kafka_assign(rk, NULL);
}

static void consumer_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct consumer *c = opaque;
    char fatal[256];

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(rk, fatal, sizeof fatal);
        snprintf(c->fatal, sizeof c->fatal, "kafka: fatal: %s", fatal);
        return;
    }
    /* transport errors are retried by librdkafka; say so once at debug */
    log_debug("kafka: %s: %s", rd_kafka_err2str((rd_kafka_resp_err_t)err), reason);
}

/* ---- opening ------------------------------------------------------------------------- */

/* Read only: every partition, at the start the group would use, assigned
 * without joining the group. */
static int consumer_assign_all(struct consumer *c, char *err, size_t errsz)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(c->nparts);
    int rc = -1;

    for (int32_t p = 0; p < c->nparts; p++)
        rd_kafka_topic_partition_list_add(l, c->cfg->topic, p);
    c->assigned = 1;
    c->assigned_at_ms = now_mono_ms();
    consumer_on_assign(c, l);
    if (c->fatal[0])
        snprintf(err, errsz, "%s", c->fatal);
    else
        rc = 0;
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

static int consumer_subscribe(struct consumer *c, char *err, size_t errsz)
{
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t e;

    rd_kafka_topic_partition_list_add(topics, c->cfg->topic, RD_KAFKA_PARTITION_UA);
    e = rd_kafka_subscribe(c->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) {
        snprintf(err, errsz, "kafka: subscribe to %s: %s", c->cfg->topic, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

/* The consumer queue and the prefetch bounds in force (the shipped ones or
 * the config's), for consumer_look_at_queue(). Without them (librdkafka
 * gave none) the queue is not looked at and the fetchers are never woken:
 * slower on large record batches, no less exact. */
static void consumer_prefetch_bounds(struct consumer *c)
{
    const rd_kafka_conf_t *conf = rd_kafka_conf(c->rk);
    char msgs[32], kbytes[32];
    size_t n1 = sizeof msgs, n2 = sizeof kbytes;

    if (rd_kafka_conf_get(conf, "queued.min.messages", msgs, &n1) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_get(conf, "queued.max.messages.kbytes", kbytes, &n2) != RD_KAFKA_CONF_OK ||
        (c->queue = rd_kafka_queue_get_consumer(c->rk)) == NULL) {
        log_debug("kafka: the prefetch queue cannot be looked at: its fetchers are not woken");
        return;
    }
    c->prefetch_msgs = strtoll(msgs, NULL, 10);
    c->prefetch_bytes = strtoll(kbytes, NULL, 10) * 1024;
}

struct consumer *consumer_open(const struct config *cfg, enum consumer_mode mode, const struct consumer_hooks *hooks,
                               uint32_t token, char *err, size_t errsz, int *config_error)
{
    struct consumer *c = calloc(1, sizeof *c);
    rd_kafka_conf_t *conf;
    char errstr[512];

    *config_error = 0;
    if (c == NULL) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    c->cfg = cfg;
    c->mode = mode;
    c->token = token;
    c->consuming = 1;
    if (hooks)
        c->hooks = *hooks;
    if ((conf = kafka_conf_new(cfg, config_kafka_prop(cfg, "group.id"), err, errsz)) == NULL) {
        *config_error = 1;
        free(c);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_error_cb(conf, consumer_error_cb);
    if (mode == CONSUMER_GROUP)
        rd_kafka_conf_set_rebalance_cb(conf, consumer_rebalance_cb);
    /* librdkafka may leave text in errstr on success too: use our own */
    if ((c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr)) == NULL) {
        snprintf(err, errsz, "kafka: %s", errstr);
        rd_kafka_conf_destroy(conf);
        *config_error = 1;
        free(c);
        return NULL;
    }
    rd_kafka_poll_set_consumer(c->rk);
    consumer_prefetch_bounds(c);
    if (kafka_topic_partitions(c->rk, cfg, CONSUMER_META_TIMEOUT_MS, &c->nparts, config_error, err, errsz) != 0)
        goto fail;
    /* a point's timestamp holds the partition in 10 bits (window.h): two
     * partitions must never share one, so a larger topic is refused whole */
    if (c->nparts > WINDOW_MAX_PARTITIONS) {
        snprintf(err, errsz, "topic %s has %" PRId32 " partitions; spillway drains at most %d", cfg->topic, c->nparts,
                 WINDOW_MAX_PARTITIONS);
        *config_error = 1;
        goto fail;
    }
    if ((c->parts = calloc((size_t)c->nparts, sizeof *c->parts)) == NULL) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    for (int32_t i = 0; i < c->nparts; i++)
        c->parts[i].first = c->parts[i].last = c->parts[i].start = c->parts[i].done_at = -1;
    if ((mode == CONSUMER_GROUP ? consumer_subscribe(c, err, errsz) : consumer_assign_all(c, err, errsz)) != 0)
        goto fail;
    return c;
fail:
    consumer_close(c);
    return NULL;
}

int32_t consumer_partitions(const struct consumer *c)
{
    return c->nparts;
}

/* ---- consuming ------------------------------------------------------------------------- */

static int consumer_drained(const struct consumer *c)
{
    if (!c->assigned || c->rebalancing)
        return 0;
    for (int32_t i = 0; i < c->nparts; i++)
        if (!ledger_part_finished(&c->parts[i]))
            return 0;
    return 1;
}

/* Start marks refused for a rebalance that has not reached this runner in
 * CONSUMER_REBALANCE_NOTICE_MS (see consumer_mark_starts()): made again if
 * the group still holds what their decision was made on, and the
 * partitions read once the mark is committed; a partition another member
 * committed on in between is left to a later assignment. */
static void consumer_remark(struct consumer *c)
{
    rd_kafka_topic_partition_list_t *l;
    int32_t *ids;
    struct ledger_offsets *now;
    char err[256];
    int n = 0;

    if (c->remark_at_ms == 0 || c->rebalancing || now_mono_ms() < c->remark_at_ms)
        return;
    c->remark_at_ms = 0;
    c->remarks++;
    ids = calloc((size_t)c->nparts, sizeof *ids);
    now = calloc((size_t)c->nparts, sizeof *now);
    l = rd_kafka_topic_partition_list_new(c->nparts);
    for (int32_t p = 0; ids && p < c->nparts; p++)
        if (c->parts[p].state == LEDGER_UNMARKED)
            ids[n++] = p;
    if (n > 0 && (now == NULL ||
                  kafka_read_committed(c->rk, c->cfg->topic, ids, n, CONSUMER_META_TIMEOUT_MS, now, err, sizeof err))) {
        c->remark_at_ms = now_mono_ms() + CONSUMER_REBALANCE_NOTICE_MS; /* cannot tell now: later */
        n = 0;
    }
    for (int i = 0; i < n; i++) {
        struct ledger_part *kp = &c->parts[ids[i]];
        if (ledger_unchanged(kp, &now[i])) {
            rd_kafka_topic_partition_list_add(l, c->cfg->topic, ids[i])->offset = kp->start;
        } else {
            kp->state = LEDGER_NONE;
            log_warn("partition %" PRId32 ": another member committed on it while its start waited; not reading it",
                     ids[i]);
        }
    }
    if (l->cnt > 0) {
        consumer_mark_starts(c, l);
        consumer_fetch_readable(c, l);
    }
    rd_kafka_topic_partition_list_destroy(l);
    free(ids);
    free(now);
}

/* An error event not about one message: log each new kind once, at warning
 * (a group that never assigns anything must not look like an idle topic). */
static void consumer_event_error(struct consumer *c, const rd_kafka_message_t *m)
{
    if (m->err == c->last_group_err)
        return;
    c->last_group_err = m->err;
    snprintf(c->group_error, sizeof c->group_error, "%s", rd_kafka_message_errstr(m));
    if (m->rkt)
        log_warn("kafka: %s [%" PRId32 "]: %s", rd_kafka_topic_name(m->rkt), m->partition, c->group_error);
    else
        log_warn("kafka: %s", c->group_error);
}

/* librdkafka 2.0 forwards every partition's prefetch queue to the one
 * consumer queue, and its fetcher compares that queue's length and payload
 * with queued.min.messages and queued.max.messages.kbytes only when its
 * broker thread wakes. Above either bound it stops fetching, and draining
 * the queue does not wake it: it sleeps until its next request, answer or
 * one-second tick (librdkafka 2.2 added fetch.queue.backoff.ms for this).
 * With record batches of thousands of messages one fetch can reach the
 * bound, and the runner, faster than a second's worth of queue, waited
 * out the rest of the second: measured on the mock, 0.2-0.9 s of a 2 s
 * drain of 1,000,000 messages (bench/drain.sh, the fast shape). */

/* After every few messages handed out (m the last; a quarter of the count
 * bound, at most CONSUMER_QUEUE_LOOK_EVERY): note whether the queue may have
 * reached a bound since the last look. It grows only by fetch answers and
 * shrinks by one a message taken, so when the fetcher last decided it held
 * at most what it holds now plus what was taken since. Its payload is
 * estimated from the messages taken, so half a bound counts: a wake-up too
 * many costs one small request, one too few up to a second. */
static void consumer_look_at_queue(struct consumer *c, const rd_kafka_message_t *m)
{
    int64_t held, every = c->prefetch_msgs / 4;

    c->look_n++;
    c->look_bytes += (int64_t)m->len;
    if (every > CONSUMER_QUEUE_LOOK_EVERY)
        every = CONSUMER_QUEUE_LOOK_EVERY;
    if (c->look_n < every || c->queue == NULL)
        return;
    held = (int64_t)rd_kafka_queue_length(c->queue) + c->look_n;
    if (2 * held >= c->prefetch_msgs || 2 * held * (c->look_bytes / c->look_n) >= c->prefetch_bytes)
        c->fetch_stopped = 1;
    c->look_n = c->look_bytes = 0;
}

/* Wake the broker threads that fetch the partitions being read: any request
 * to a broker wakes its thread, which then decides again whether to fetch.
 * A ListOffsets for the latest offset of each (read only, one request per
 * leader) does it through librdkafka's public interface. Its answer is not
 * used, so not waited for: with no time to wait, rd_kafka_offsets_for_times()
 * queues the requests (the leaders come from the metadata it holds) and
 * returns _TIMED_OUT; the answers are dropped when they come (its callback
 * expects that). A wait would hold the runner while a busy broker, or the
 * mock's single thread, builds a fetch answer. */
static void consumer_wake_fetchers(struct consumer *c)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(c->nparts);
    rd_kafka_resp_err_t e;

    for (int32_t p = 0; p < c->nparts; p++)
        if (consumer_readable(c, p) && !c->parts[p].eof)
            rd_kafka_topic_partition_list_add(l, c->cfg->topic, p)->offset = RD_KAFKA_OFFSET_END;
    if (l->cnt > 0) {
        c->wakes++;
        e = rd_kafka_offsets_for_times(c->rk, l, 0);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__TIMED_OUT)
            log_debug("kafka: waking the fetchers: %s", rd_kafka_err2str(e));
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* Returns 1 when m is handed out, 0 when it was an event or is dropped. */
static int consumer_take(struct consumer *c, rd_kafka_message_t *m)
{
    struct ledger_part *kp;

    if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        consumer_event_error(c, m);
        return 0;
    }
    if (m->partition < 0 || m->partition >= c->nparts)
        return 0;
    kp = &c->parts[m->partition];
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (!kp->eof)
            log_debug("partition %" PRId32 " at its end (offset %" PRId64 ")", m->partition, m->offset);
        kp->eof = 1;
        return 0;
    }
    /* a message of a partition we no longer read, one already handed out
     * (fetched before a rebalance), or one past where this batch stops */
    if (!c->consuming || !ledger_take(kp, m->offset)) {
        if (kp->closed && kp->state == LEDGER_OWNED && kp->active)
            consumer_fetch_one(c, m->partition); /* it just reached its stop: stop fetching it */
        return 0;
    }
    if (kp->first == m->offset && m->offset > kp->start)
        log_warn("partition %" PRId32 ": started at %" PRId64 " but the first message is at %" PRId64
                 ": %" PRId64 " offsets were not delivered (deleted by retention?)",
                 m->partition, kp->start, m->offset, m->offset - kp->start);
    return 1;
}

enum consumer_event consumer_next(struct consumer *c, int timeout_ms, rd_kafka_message_t **msg, int *config_error,
                                  char *err, size_t errsz)
{
    rd_kafka_message_t *m;

    *msg = NULL;
    consumer_remark(c);
    if (!c->fatal[0] && consumer_drained(c))
        return CONSUMER_DRAINED;
    /* a poll with a timeout reads the clock (several times) to wait; while
     * messages flow, a poll that does not wait finds the next one as well */
    m = c->fatal[0] ? NULL : rd_kafka_consumer_poll(c->rk, 0);
    if (m == NULL && !c->fatal[0] && timeout_ms > 0) {
        /* the queue is empty: fetchers stopped by a full queue sleep on
         * (see consumer_look_at_queue()) unless woken */
        if (c->fetch_stopped && c->consuming && !c->rebalancing) {
            c->fetch_stopped = 0;
            consumer_wake_fetchers(c);
        }
        m = rd_kafka_consumer_poll(c->rk, timeout_ms);
    }
    if (c->fatal[0]) {
        if (m)
            rd_kafka_message_destroy(m);
        snprintf(err, errsz, "%s", c->fatal);
        *config_error = c->fatal_config;
        return CONSUMER_FAILED;
    }
    if (m && consumer_take(c, m)) {
        consumer_look_at_queue(c, m);
        *msg = m;
        return CONSUMER_MESSAGE;
    }
    if (m)
        rd_kafka_message_destroy(m);
    return consumer_drained(c) ? CONSUMER_DRAINED : CONSUMER_IDLE;
}

void consumer_give_back(struct consumer *c, int32_t p, int64_t offset)
{
    ledger_give_back(&c->parts[p], offset);
    consumer_fetch_one(c, p);
}

int consumer_close_unowed(struct consumer *c)
{
    rd_kafka_topic_partition_list_t *a = NULL;

    ledger_close_unowed(c->parts, c->nparts);
    if (rd_kafka_assignment(c->rk, &a) == RD_KAFKA_RESP_ERR_NO_ERROR && a) {
        consumer_fetch_readable(c, a);
        rd_kafka_topic_partition_list_destroy(a);
    }
    return consumer_owes_reading(c);
}

int consumer_owed(const struct consumer *c, int32_t p, int64_t offset)
{
    return offset < c->parts[p].must_reach;
}

void consumer_stop(struct consumer *c)
{
    rd_kafka_topic_partition_list_t *a = NULL;

    c->consuming = 0;
    for (int32_t p = 0; p < c->nparts; p++) {
        c->parts[p].read |= c->parts[p].active;
        c->parts[p].active = 0;
    }
    if (rd_kafka_assignment(c->rk, &a) == RD_KAFKA_RESP_ERR_NO_ERROR && a) {
        consumer_fetch_readable(c, a); /* consuming has ended: all paused */
        rd_kafka_topic_partition_list_destroy(a);
    }
}

int consumer_resume_unread(struct consumer *c)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(c->nparts);
    int n = 0;

    for (int32_t p = 0; p < c->nparts; p++) {
        struct ledger_part *kp = &c->parts[p];
        if (kp->state != LEDGER_OWNED || kp->read)
            continue;
        kp->active = 1;
        kp->eof = 0;
        rd_kafka_topic_partition_list_add(l, c->cfg->topic, p);
        n++;
    }
    if (n > 0) {
        c->consuming = 1;
        consumer_fetch_readable(c, l);
    }
    rd_kafka_topic_partition_list_destroy(l);
    return n;
}

/* ---- after consuming --------------------------------------------------------------- */

static void consumer_poll_once(struct consumer *c, int timeout_ms)
{
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, timeout_ms);

    if (m) {
        consumer_take(c, m); /* events only: consuming has ended */
        rd_kafka_message_destroy(m);
    }
}

void consumer_service(struct consumer *c)
{
    /* a bounded number: each call returns at most one event */
    for (int i = 0; i < 64 && !c->fatal[0]; i++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 0);
        if (m == NULL)
            break;
        consumer_take(c, m);
        rd_kafka_message_destroy(m);
    }
}

int consumer_settle(struct consumer *c, int timeout_ms, char *err, size_t errsz)
{
    int64_t deadline = now_mono_ms() + timeout_ms;

    consumer_service(c);
    while (c->rebalancing && !c->fatal[0] && now_mono_ms() < deadline)
        consumer_poll_once(c, 100);
    if (c->fatal[0]) {
        snprintf(err, errsz, "%s", c->fatal);
        return -1;
    }
    if (c->rebalancing) {
        snprintf(err, errsz, "kafka: the group's rebalance did not end within %d s%s%s", timeout_ms / 1000,
                 c->group_error[0] ? "; last group error: " : "", c->group_error);
        return -1;
    }
    return 0;
}

/* librdkafka says the assignment is gone (the session expired): every
 * partition still counted as owned is lost. */
static void consumer_check_assignment(struct consumer *c)
{
    if (!rd_kafka_assignment_lost(c->rk))
        return;
    for (int32_t p = 0; p < c->nparts; p++)
        if (c->parts[p].state == LEDGER_OWNED)
            consumer_lose(c, p, "the assignment was lost");
}

int consumer_fence(struct consumer *c, const int32_t *parts, size_t n, int timeout_ms, char *err, size_t errsz)
{
    int64_t deadline = now_mono_ms() + timeout_ms;
    int said = 0;

    if (c->mode != CONSUMER_GROUP)
        return 0;
    for (;;) {
        int64_t now, until = 0;
        if (consumer_settle(c, (int)(deadline - now_mono_ms()), err, errsz) != 0)
            return -1;
        consumer_check_assignment(c);
        now = now_mono_ms();
        for (size_t i = 0; i < n; i++) {
            const struct ledger_part *kp = &c->parts[parts[i]];
            if (kp->state != LEDGER_OWNED)
                return 1;
            if (!ledger_may_write(kp, c->rebalancing, now) && kp->write_after_ms > until)
                until = kp->write_after_ms;
        }
        if (until <= now)
            return 0;
        if (!said++)
            log_info("waiting %.1fs before rewriting an unfinished batch's points: a write its runner left on the"
                     " wire can land until then", (double)(until - now) / 1000.0);
        if (now >= deadline) {
            snprintf(err, errsz, "kafka: could not write within %d s", timeout_ms / 1000);
            return -1;
        }
        consumer_poll_once(c, (int)(until - now < 100 ? until - now : 100));
    }
}

static int consumer_refused_for_rebalance(rd_kafka_resp_err_t e)
{
    return e == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS || e == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
           e == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID || e == RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST;
}

/* After a commit refused for a rebalance: wait for the group to tell us
 * (the revocation comes with a heartbeat), then for the rebalance to end. */
static int consumer_await_rebalance(struct consumer *c, int timeout_ms, char *err, size_t errsz)
{
    int64_t until = now_mono_ms() + CONSUMER_REBALANCE_NOTICE_MS;

    while (!c->rebalancing && !c->fatal[0] && now_mono_ms() < until)
        consumer_poll_once(c, 100);
    return consumer_settle(c, timeout_ms, err, errsz);
}

/* One kind of commit: which elements (build), what to do before sending
 * them (before: -1 stops) and once each is accepted. */
struct consumer_commit_kind {
    rd_kafka_topic_partition_list_t *(*build)(struct consumer *c);
    int (*before)(struct consumer *c, const rd_kafka_topic_partition_list_t *l, const void *arg);
    void (*accepted)(struct consumer *c, const rd_kafka_topic_partition_t *e, const void *arg);
    const void *arg;
};

/* Commit, for the owned partitions, what kind->build lists, waiting out
 * rebalances (each round commits, or waits for one to end: members leaving
 * one after another can cause several in a row). Returns how many elements
 * were committed, or -1 with err. */
static int consumer_commit_owned(struct consumer *c, const struct consumer_commit_kind *kind, int timeout_ms,
                                 char *err, size_t errsz)
{
    int64_t deadline = now_mono_ms() + timeout_ms;
    int done = 0;

    while (now_mono_ms() < deadline) {
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_resp_err_t e, refused = RD_KAFKA_RESP_ERR_NO_ERROR, failed = RD_KAFKA_RESP_ERR_NO_ERROR;

        if (consumer_settle(c, (int)(deadline - now_mono_ms()), err, errsz) != 0)
            return -1;
        consumer_check_assignment(c);
        l = kind->build(c);
        if (l->cnt == 0) {
            rd_kafka_topic_partition_list_destroy(l);
            return done;
        }
        if (kind->before && kind->before(c, l, kind->arg) != 0) {
            snprintf(err, errsz, "%s", c->fatal);
            rd_kafka_topic_partition_list_destroy(l);
            return -1;
        }
        e = rd_kafka_commit(c->rk, l, 0);
        for (int i = 0; i < l->cnt; i++) {
            rd_kafka_resp_err_t pe = e ? e : l->elems[i].err;
            if (pe == RD_KAFKA_RESP_ERR_NO_ERROR) {
                kind->accepted(c, &l->elems[i], kind->arg);
                done++;
            } else if (consumer_refused_for_rebalance(pe)) {
                refused = pe;
            } else {
                failed = pe;
            }
        }
        rd_kafka_topic_partition_list_destroy(l);
        if (failed) {
            snprintf(err, errsz, "kafka: commit failed: %s", rd_kafka_err2str(failed));
            return -1;
        }
        if (!refused)
            return done;
        log_info("kafka: commit refused (%s): the group is rebalancing; committing what is still ours after it",
                 rd_kafka_err2str(refused));
        if (consumer_await_rebalance(c, (int)(deadline - now_mono_ms()), err, errsz) != 0)
            return -1;
    }
    snprintf(err, errsz, "kafka: commit refused for %d s while the group kept rebalancing", timeout_ms / 1000);
    return -1;
}

/* The owned partitions to commit with the mark ledger_done_mark() (done)
 * or ledger_end_mark() (not done) gives them. */
static rd_kafka_topic_partition_list_t *consumer_mark_list(struct consumer *c, int done)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(c->nparts);

    for (int32_t p = 0; p < c->nparts; p++) {
        int64_t offset;
        struct mark m;
        struct ledger_part *kp = &c->parts[p];
        if (!(done ? ledger_done_mark(kp, c->token, &offset, &m) : ledger_end_mark(kp, &offset, &m)))
            continue;
        rd_kafka_topic_partition_t *e = rd_kafka_topic_partition_list_add(l, c->cfg->topic, p);
        e->offset = offset;
        consumer_set_mark(e, &m);
    }
    return l;
}

/* The owned partitions whose position this run may commit as done. */
static rd_kafka_topic_partition_list_t *consumer_done_list(struct consumer *c) { return consumer_mark_list(c, 1); }

static int consumer_done_before(struct consumer *c, const rd_kafka_topic_partition_list_t *l, const void *arg)
{
    const struct consumer_commit_hooks *hooks = arg;
    int32_t *parts = calloc((size_t)l->cnt, sizeof *parts);
    int64_t *seqs = calloc((size_t)l->cnt, sizeof *seqs);
    int rc = -1;

    if (parts && seqs) {
        for (int i = 0; i < l->cnt; i++) {
            parts[i] = l->elems[i].partition;
            seqs[i] = c->parts[parts[i]].mark.seq;
        }
        rc = hooks && hooks->committing ? hooks->committing(parts, seqs, l->cnt, hooks->arg) : 0;
        if (rc != 0)
            snprintf(c->fatal, sizeof c->fatal, "the quarantine could not be made durable before the commit");
    } else {
        snprintf(c->fatal, sizeof c->fatal, "out of memory");
    }
    free(parts);
    free(seqs);
    return rc;
}

static void consumer_done_accepted(struct consumer *c, const rd_kafka_topic_partition_t *e, const void *arg)
{
    const struct consumer_commit_hooks *hooks = arg;
    struct mark m = consumer_mark_of(e);

    ledger_committed(&c->parts[e->partition], e->offset, &m, 1);
    if (hooks && hooks->committed)
        hooks->committed(e->partition, m.seq, hooks->arg);
}

int consumer_commit(struct consumer *c, const struct consumer_commit_hooks *hooks, int timeout_ms, char *err,
                    size_t errsz)
{
    struct consumer_commit_kind kind = { consumer_done_list, consumer_done_before, consumer_done_accepted, hooks };

    if (c->mode != CONSUMER_GROUP)
        return 0;
    return consumer_commit_owned(c, &kind, timeout_ms, err, errsz);
}

/* The owned partitions read beyond the end their mark says. */
static rd_kafka_topic_partition_list_t *consumer_end_list(struct consumer *c) { return consumer_mark_list(c, 0); }

static void consumer_end_accepted(struct consumer *c, const rd_kafka_topic_partition_t *e, const void *arg)
{
    struct mark m = consumer_mark_of(e);

    (void)arg;
    ledger_committed(&c->parts[e->partition], e->offset, &m, 0);
}

int consumer_mark_ends(struct consumer *c, int timeout_ms, char *err, size_t errsz)
{
    struct consumer_commit_kind kind = { consumer_end_list, NULL, consumer_end_accepted, NULL };

    if (c->mode != CONSUMER_GROUP)
        return 0;
    return consumer_commit_owned(c, &kind, timeout_ms, err, errsz) < 0 ? -1 : 0;
}

int consumer_owes_reading(const struct consumer *c)
{
    for (int32_t p = 0; p < c->nparts; p++)
        if (ledger_owes(&c->parts[p]))
            return 1;
    return 0;
}

int64_t consumer_batch_seq(const struct consumer *c, int32_t p)
{
    return c->parts[p].mark.seq;
}

int64_t consumer_collision_horizon(const struct consumer *c, int32_t p)
{
    return mark_collision_horizon(&c->parts[p].mark);
}

int consumer_may_have_written(const struct consumer *c, int32_t p, int64_t first_offset)
{
    return ledger_may_have_written(&c->parts[p], first_offset);
}

int consumer_pending(const struct consumer *c, int32_t p, int64_t *from_ms, int64_t *upto_ms, uint64_t *incarnation)
{
    const struct ledger_part *kp = &c->parts[p];

    if (kp->state != LEDGER_OWNED || kp->pend_after == MARK_NO_TIME)
        return 0;
    *incarnation = kp->incarnation;
    *from_ms = kp->pend_after;
    *upto_ms = ledger_pending_upto(kp);
    return 1;
}

void consumer_backfilled(struct consumer *c, int32_t p, int64_t until_ms, uint64_t incarnation)
{
    if (c->parts[p].state == LEDGER_OWNED && c->parts[p].incarnation == incarnation)
        ledger_backfilled(&c->parts[p], until_ms);
}

void consumer_note_unpredicted(struct consumer *c, int32_t p, int64_t window_ms)
{
    ledger_note_unpredicted(&c->parts[p], window_ms);
}

void consumer_note_event_time(struct consumer *c, int32_t p, int64_t event_ms)
{
    ledger_note_event_time(&c->parts[p], event_ms);
}

int consumer_read_committed(struct consumer *c, const int32_t *parts, int n, struct ledger_offsets *out, char *err,
                            size_t errsz)
{
    return kafka_read_committed(c->rk, c->cfg->topic, parts, n, CONSUMER_META_TIMEOUT_MS, out, err, errsz);
}

/* ---- reporting and closing ------------------------------------------------------------ */

void consumer_stats(const struct consumer *c, struct consumer_stats *st)
{
    *st = (struct consumer_stats){
        .assigned = c->assigned,
        .assigned_at_ms = c->assigned_at_ms,
        .rebalance_ms = c->rebalance_ms + (c->rebalancing ? now_mono_ms() - c->rebalance_began_ms : 0),
        .rebalancing = c->rebalancing,
        .rebalancing_ms = c->rebalancing ? now_mono_ms() - c->rebalance_began_ms : 0,
        .lost = c->lost,
        .backlog = c->backlog,
        .skipped = c->skipped,
        .redone = c->redone,
        .group_error = c->group_error[0] ? c->group_error : NULL,
        .mark_error = c->mark_error[0] ? c->mark_error : NULL,
    };
    for (int32_t p = 0; p < c->nparts; p++) {
        const struct ledger_part *kp = &c->parts[p];
        st->owned += kp->state == LEDGER_OWNED;
        st->held += kp->state == LEDGER_OWNED && kp->must_reach > ledger_position(kp);
    }
}

int consumer_ranges_json(const struct consumer *c, struct buf *out)
{
    int first = 1;

    if (buf_append(out, "[", 1) != 0)
        return -1;
    for (int32_t i = 0; i < c->nparts; i++) {
        const struct ledger_part *kp = &c->parts[i];
        if (kp->done_at <= kp->first || kp->first < 0)
            continue;
        if (buf_printf(out, "%s{\"partition\":%" PRId32 ",\"from\":%" PRId64 ",\"to\":%" PRId64 "}",
                       first ? "" : ",", i, kp->first, kp->done_at - 1) != 0)
            return -1;
        first = 0;
    }
    return buf_append(out, "]", 1);
}

/* Runners on several hosts usually finish at about the same time, and on
 * leaving, a member makes the group rebalance at once: the others' commits
 * are then refused until it is over (librdkafka's mock refuses them for
 * session.timeout.ms - 1 s; a real broker for as long as the members take
 * to rejoin), and partitions that move are read again by their new owners.
 * So a runner that shares the group stays a moment after its commit, unless
 * a rebalance has begun anyway: measured on the mock with three hosts, a
 * round took 15-20 s without this and 7 s with it (tests/t/62-scaleout.t). */
static void consumer_linger(struct consumer *c)
{
    int64_t until = now_mono_ms() + CONSUMER_LINGER_MS;

    if (c->mode != CONSUMER_GROUP || !c->assigned || !c->shared || c->fatal[0])
        return;
    while (!c->rebalancing && !c->fatal[0] && now_mono_ms() < until)
        consumer_poll_once(c, 50);
}

void consumer_close(struct consumer *c)
{
    if (c == NULL)
        return;
    if (c->rk)
        consumer_linger(c);
    c->closing = 1;
    if (c->wakes > 0)
        log_debug("kafka: the fetchers were woken %" PRId64 " times after the prefetch queue filled", c->wakes);
    if (c->queue)
        rd_kafka_queue_destroy(c->queue);
    if (c->rk) {
        rd_kafka_consumer_close(c->rk);
        rd_kafka_destroy(c->rk);
    }
    free(c->suspended_by);
    free(c->parts);
    free(c);
}

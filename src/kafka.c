/* kafka.c -- librdkafka consumer for one batch: start offsets, EOF, commit. */
#include "kafka.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define KAFKA_META_TIMEOUT_MS 10000

struct kafka_part {
    int assigned;
    int eof;            /* at the end, nothing consumed since */
    int64_t start;      /* offset the run started from, or < 0 when unknown */
    int from_committed; /* start came from our own group's commit */
    int64_t first, last; /* consumed this run; -1 when nothing */
};

struct kafka {
    const struct config *cfg;
    rd_kafka_t *rk;
    struct kafka_part *parts;
    int32_t nparts;
    int assignment_seen;
    int64_t assigned_at_ms;
    char fatal[512];
};

/* Apply our fixed settings and defaults, then the operator's [kafka]
 * properties (which win over the defaults, and were checked at load). */
static rd_kafka_conf_t *kafka_conf(const struct config *cfg, const char *group, char *err, size_t errsz)
{
    static const char *const defaults[][2] = {
        { "client.id", "spillway" },
        /* a one-shot run wants the end of the partitions quickly */
        { "fetch.wait.max.ms", "100" },
        /* Bound the prefetch by bytes, so memory does not grow with the
         * backlog. Not by count: all partitions share one queue, and a
         * queue at its bound stops every fetcher until librdkafka 2.0's
         * broker thread next wakes (up to 1 s; 2.1 wakes it as the queue
         * drains). 8 MiB rarely fills at our drain rate; 4 MiB stalled a
         * 100,000-message run for 0.8 s (bench/drain.sh). */
        { "queued.max.messages.kbytes", "8192" },
        { "fetch.max.bytes", "4194304" },
        /* only when a committed offset is out of range (retention): no
         * better choice than the oldest message still there */
        { "auto.offset.reset", "earliest" },
        { "log.connection.close", "false" },
    };
    static const char *const fixed[][2] = {
        { "enable.auto.commit", "false" },
        { "enable.auto.offset.store", "false" },
        { "enable.partition.eof", "true" },
    };
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (rd_kafka_conf_set(conf, defaults[i][0], defaults[i][1], err, errsz) != RD_KAFKA_CONF_OK)
            goto fail;
    for (size_t i = 0; i < cfg->n_kafka_props; i++)
        if (rd_kafka_conf_set(conf, cfg->kafka_props[i].key, cfg->kafka_props[i].value, err, errsz) !=
            RD_KAFKA_CONF_OK)
            goto fail;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (rd_kafka_conf_set(conf, fixed[i][0], fixed[i][1], err, errsz) != RD_KAFKA_CONF_OK)
            goto fail;
    if (rd_kafka_conf_set(conf, "group.id", group, err, errsz) != RD_KAFKA_CONF_OK)
        goto fail;
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    /* librdkafka retries what it reports here; the run's outcome is ours to
     * report, so nothing from it is an error of its own */
    log_msg(level <= 4 ? LOG_WARNING : LOG_DEBUG, "kafka: %s: %s", fac, buf);
}

static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct kafka *k = opaque;
    char fatal[256];

    if (err == RD_KAFKA_RESP_ERR__FATAL && k) {
        rd_kafka_fatal_error(rk, fatal, sizeof fatal);
        snprintf(k->fatal, sizeof k->fatal, "kafka: fatal: %s", fatal);
        return;
    }
    /* transport errors are retried by librdkafka; say so once at debug */
    log_debug("kafka: %s: %s", rd_kafka_err2str((rd_kafka_resp_err_t)err), reason);
}

/* A handle with group.id = group that only reads that group's offsets: it
 * never subscribes (so never joins the group) and never commits. */
static rd_kafka_t *kafka_reader_new(const struct config *cfg, const char *group, char *err, size_t errsz)
{
    rd_kafka_conf_t *conf = kafka_conf(cfg, group, err, errsz);
    rd_kafka_t *rk;

    if (conf == NULL)
        return NULL;
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errsz)) == NULL)
        rd_kafka_conf_destroy(conf);
    return rk;
}

static void kafka_reader_free(rd_kafka_t *rk)
{
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

/* The primary group's committed offsets for parts. */
static int kafka_primary_committed(struct kafka *k, rd_kafka_topic_partition_list_t *parts)
{
    char errstr[256];
    rd_kafka_t *rk = kafka_reader_new(k->cfg, k->cfg->primary_group, errstr, sizeof errstr);
    rd_kafka_resp_err_t e;

    if (rk == NULL) {
        snprintf(k->fatal, sizeof k->fatal, "kafka: primary group handle: %s", errstr);
        return -1;
    }
    e = rd_kafka_committed(rk, parts, KAFKA_META_TIMEOUT_MS);
    kafka_reader_free(rk);
    if (e) {
        snprintf(k->fatal, sizeof k->fatal, "kafka: cannot read group %s's committed offsets: %s",
                 k->cfg->primary_group, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

/* Decide where each newly assigned partition starts. */
static int kafka_start_offsets(struct kafka *k, rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *primary = NULL;
    rd_kafka_resp_err_t e = rd_kafka_committed(k->rk, parts, KAFKA_META_TIMEOUT_MS);

    if (e) {
        snprintf(k->fatal, sizeof k->fatal, "kafka: cannot read committed offsets: %s", rd_kafka_err2str(e));
        return -1;
    }
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *p = &parts->elems[i];
        struct kafka_part *kp;
        if (p->partition < 0 || p->partition >= k->nparts) {
            snprintf(k->fatal, sizeof k->fatal, "kafka: assigned partition %" PRId32 " the topic did not have",
                     p->partition);
            return -1;
        }
        kp = &k->parts[p->partition];
        kp->from_committed = p->offset >= 0;
        if (p->offset >= 0) {
            kp->start = p->offset;
            continue;
        }
        /* first activation for this partition: resolve the start to a
         * concrete offset, which is committed even if nothing is consumed,
         * so that the next run goes on from here (for "latest" especially) */
        int64_t lo, hi;
        e = rd_kafka_query_watermark_offsets(k->rk, k->cfg->topic, p->partition, &lo, &hi, KAFKA_META_TIMEOUT_MS);
        if (e) {
            snprintf(k->fatal, sizeof k->fatal, "kafka: cannot read partition %" PRId32 "'s offsets: %s",
                     p->partition, rd_kafka_err2str(e));
            if (primary)
                rd_kafka_topic_partition_list_destroy(primary);
            return -1;
        }
        const char *how = "the earliest offset";
        switch (k->cfg->start_from) {
        case START_EARLIEST:
            p->offset = lo;
            break;
        case START_LATEST:
            p->offset = hi;
            how = "the latest offset";
            break;
        case START_PRIMARY:
            if (primary == NULL) {
                primary = rd_kafka_topic_partition_list_copy(parts);
                if (kafka_primary_committed(k, primary) != 0) {
                    rd_kafka_topic_partition_list_destroy(primary);
                    return -1;
                }
            }
            p->offset = primary->elems[i].offset;
            how = "the primary group's committed offset";
            if (p->offset < 0) {
                log_warn("partition %" PRId32 ": neither %s nor the primary group %s has committed an offset;"
                         " starting at the earliest message",
                         p->partition, config_kafka_prop(k->cfg, "group.id"), k->cfg->primary_group);
                p->offset = lo;
                how = "the earliest offset";
            }
            break;
        }
        kp->start = p->offset;
        log_info("partition %" PRId32 ": first activation, starting at %s (%" PRId64 ")", p->partition, how,
                 p->offset);
    }
    if (primary)
        rd_kafka_topic_partition_list_destroy(primary);
    return 0;
}

static void kafka_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                               rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct kafka *k = opaque;

    log_debug("rebalance: %s, %d partitions", rd_kafka_err2name(err), parts->cnt);
    k->assignment_seen = 1;
    if (k->assigned_at_ms == 0)
        k->assigned_at_ms = now_mono_ms();
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (kafka_start_offsets(k, parts) != 0) {
            rd_kafka_assign(rk, NULL);
            return;
        }
        for (int i = 0; i < parts->cnt; i++) {
            struct kafka_part *kp = &k->parts[parts->elems[i].partition];
            kp->assigned = 1;
            kp->eof = 0;
        }
        if (rd_kafka_assign(rk, parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
            snprintf(k->fatal, sizeof k->fatal, "kafka: assign failed");
        log_debug("assigned %d partitions (start offsets decided in %" PRId64 " ms)", parts->cnt,
                  now_mono_ms() - k->assigned_at_ms);
        return;
    }
    /* Revoked (another runner joined, or we are leaving): what we consumed
     * from these partitions can no longer be committed by us; the next owner
     * re-reads it from the committed offset and rewrites the same points. */
    for (int i = 0; i < parts->cnt; i++) {
        int32_t p = parts->elems[i].partition;
        if (p >= 0 && p < k->nparts)
            k->parts[p].assigned = 0;
    }
    rd_kafka_assign(rk, NULL);
}

/* Find the topic with a metadata request for all topics: asking for the
 * topic by name would make a broker with auto.create.topics.enable (and
 * librdkafka's mock cluster) create it, and a misspelt topic would drain
 * nothing, successfully, forever. */
static int kafka_topic_partitions(struct kafka *k, char *err, size_t errsz, int *config_error)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(k->rk, 1, NULL, &md, KAFKA_META_TIMEOUT_MS);

    if (e) {
        snprintf(err, errsz, "kafka: cannot get metadata from %s: %s",
                 config_kafka_prop(k->cfg, "bootstrap.servers"), rd_kafka_err2str(e));
        return -1;
    }
    for (int i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &md->topics[i];
        if (strcmp(t->topic, k->cfg->topic) != 0)
            continue;
        if (t->err || t->partition_cnt <= 0) {
            snprintf(err, errsz, "kafka: topic \"%s\": %s", k->cfg->topic, rd_kafka_err2str(t->err));
            rd_kafka_metadata_destroy(md);
            return -1;
        }
        k->nparts = t->partition_cnt;
        rd_kafka_metadata_destroy(md);
        return 0;
    }
    snprintf(err, errsz, "kafka: topic \"%s\" does not exist on %s (see [kafka] topic in %s)", k->cfg->topic,
             config_kafka_prop(k->cfg, "bootstrap.servers"), k->cfg->path);
    *config_error = 1;
    rd_kafka_metadata_destroy(md);
    return -1;
}

struct kafka *kafka_open(const struct config *cfg, char *err, size_t errsz, int *config_error)
{
    struct kafka *k = calloc(1, sizeof *k);
    rd_kafka_conf_t *conf;
    rd_kafka_topic_partition_list_t *topics;
    rd_kafka_resp_err_t e;

    *config_error = 0;
    if (k == NULL) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    k->cfg = cfg;
    conf = kafka_conf(cfg, config_kafka_prop(cfg, "group.id"), err, errsz);
    if (conf == NULL) {
        *config_error = 1;
        free(k);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
    rd_kafka_conf_set_rebalance_cb(conf, kafka_rebalance_cb);
    k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errsz);
    if (k->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        *config_error = 1;
        free(k);
        return NULL;
    }
    rd_kafka_poll_set_consumer(k->rk);
    if (kafka_topic_partitions(k, err, errsz, config_error) != 0)
        goto fail;
    k->parts = calloc((size_t)k->nparts, sizeof *k->parts);
    if (k->parts == NULL) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    for (int32_t i = 0; i < k->nparts; i++)
        k->parts[i].first = k->parts[i].last = k->parts[i].start = -1;
    topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, cfg->topic, RD_KAFKA_PARTITION_UA);
    e = rd_kafka_subscribe(k->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) {
        snprintf(err, errsz, "kafka: subscribe to %s: %s", cfg->topic, rd_kafka_err2str(e));
        goto fail;
    }
    return k;
fail:
    kafka_close(k);
    return NULL;
}

static int kafka_all_eof(const struct kafka *k)
{
    for (int32_t i = 0; i < k->nparts; i++)
        if (k->parts[i].assigned && !k->parts[i].eof)
            return 0;
    return 1;
}

enum kafka_event kafka_next(struct kafka *k, int timeout_ms, rd_kafka_message_t **msg, char *err, size_t errsz)
{
    rd_kafka_message_t *m;

    *msg = NULL;
    if (k->assignment_seen && kafka_all_eof(k))
        return KAFKA_DRAINED;
    m = rd_kafka_consumer_poll(k->rk, timeout_ms);
    if (k->fatal[0]) {
        if (m)
            rd_kafka_message_destroy(m);
        snprintf(err, errsz, "%s", k->fatal);
        return KAFKA_FAILED;
    }
    if (m == NULL)
        return k->assignment_seen && kafka_all_eof(k) ? KAFKA_DRAINED : KAFKA_IDLE;
    if (m->partition < 0 || m->partition >= k->nparts) {
        /* an error not tied to one of our partitions */
        if (m->err)
            log_debug("kafka: %s", rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        return KAFKA_IDLE;
    }
    struct kafka_part *kp = &k->parts[m->partition];
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (!kp->eof)
            log_debug("partition %" PRId32 " at its end (offset %" PRId64 ")", m->partition, m->offset);
        kp->eof = 1;
        rd_kafka_message_destroy(m);
        return kafka_all_eof(k) ? KAFKA_DRAINED : KAFKA_IDLE;
    }
    if (m->err) {
        log_warn("kafka: partition %" PRId32 ": %s", m->partition, rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        return KAFKA_IDLE;
    }
    kp->eof = 0;
    if (kp->first < 0) {
        kp->first = m->offset;
        log_debug("partition %" PRId32 ": first message at offset %" PRId64, m->partition, m->offset);
    }
    kp->last = m->offset;
    *msg = m;
    return KAFKA_MESSAGE;
}

int64_t kafka_assigned_at(const struct kafka *k)
{
    return k->assigned_at_ms;
}

void kafka_pause(struct kafka *k)
{
    rd_kafka_topic_partition_list_t *a = NULL;

    if (rd_kafka_assignment(k->rk, &a) == RD_KAFKA_RESP_ERR_NO_ERROR && a) {
        rd_kafka_pause_partitions(k->rk, a);
        rd_kafka_topic_partition_list_destroy(a);
    }
}

int kafka_commit(struct kafka *k, char *err, size_t errsz)
{
    rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new(k->nparts);
    rd_kafka_resp_err_t e;
    int n = 0;

    for (int32_t i = 0; i < k->nparts; i++) {
        const struct kafka_part *kp = &k->parts[i];
        int64_t at = -1;
        if (kp->last >= 0)
            at = kp->last + 1; /* where consumption resumes */
        else if (kp->assigned && !kp->from_committed)
            at = kp->start; /* first activation, nothing consumed */
        if (at >= 0) {
            rd_kafka_topic_partition_list_add(offs, k->cfg->topic, i)->offset = at;
            n++;
        }
    }
    if (n == 0) {
        rd_kafka_topic_partition_list_destroy(offs);
        return 0;
    }
    e = rd_kafka_commit(k->rk, offs, 0);
    for (int i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < offs->cnt; i++)
        e = offs->elems[i].err;
    rd_kafka_topic_partition_list_destroy(offs);
    if (e) {
        snprintf(err, errsz, "kafka: commit failed: %s", rd_kafka_err2str(e));
        return -1;
    }
    return n;
}

int kafka_ranges_json(struct kafka *k, struct buf *out)
{
    int first = 1;

    if (buf_append(out, "[", 1) != 0)
        return -1;
    for (int32_t i = 0; i < k->nparts; i++) {
        const struct kafka_part *kp = &k->parts[i];
        if (kp->last < 0)
            continue;
        if (buf_printf(out, "%s{\"partition\":%" PRId32 ",\"from\":%" PRId64 ",\"to\":%" PRId64 "}",
                       first ? "" : ",", i, kp->first, kp->last) != 0)
            return -1;
        first = 0;
    }
    return buf_append(out, "]", 1);
}

void kafka_close(struct kafka *k)
{
    if (k == NULL)
        return;
    if (k->rk) {
        rd_kafka_consumer_close(k->rk);
        rd_kafka_destroy(k->rk);
    }
    free(k->parts);
    free(k);
}

int kafka_group_lag(const struct config *cfg, const char *group, int timeout_ms, int64_t *lag, char *err,
                    size_t errsz)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e;
    rd_kafka_t *rk = kafka_reader_new(cfg, group, err, errsz);
    int ret = -1;

    *lag = 0;
    if (rk == NULL)
        return -1;
    /* all topics: asking for one by name could create it */
    if ((e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errsz, "kafka: cannot get metadata: %s", rd_kafka_err2str(e));
        goto out;
    }
    for (int i = 0; i < md->topic_cnt && parts == NULL; i++) {
        if (strcmp(md->topics[i].topic, cfg->topic) != 0)
            continue;
        parts = rd_kafka_topic_partition_list_new(md->topics[i].partition_cnt);
        for (int p = 0; p < md->topics[i].partition_cnt; p++)
            rd_kafka_topic_partition_list_add(parts, cfg->topic, md->topics[i].partitions[p].id);
    }
    if (parts == NULL) {
        snprintf(err, errsz, "kafka: topic \"%s\" does not exist", cfg->topic);
        goto out;
    }
    if ((e = rd_kafka_committed(rk, parts, timeout_ms)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errsz, "kafka: cannot read group %s's offsets: %s", group, rd_kafka_err2str(e));
        goto out;
    }
    for (int i = 0; i < parts->cnt; i++) {
        int64_t lo, hi;
        e = rd_kafka_query_watermark_offsets(rk, cfg->topic, parts->elems[i].partition, &lo, &hi, timeout_ms);
        if (e) {
            snprintf(err, errsz, "kafka: cannot read partition %" PRId32 "'s offsets: %s",
                     parts->elems[i].partition, rd_kafka_err2str(e));
            goto out;
        }
        *lag += hi - (parts->elems[i].offset >= 0 ? parts->elems[i].offset : lo);
    }
    ret = 0;
out:
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    if (md)
        rd_kafka_metadata_destroy(md);
    kafka_reader_free(rk);
    return ret;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* kafka.c -- Kafka, read only: the handles' configuration, topic lookup,
 * committed offsets, watermarks and lag. */
#include "kafka.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafkaprops.h"
#include "log.h"
#include "util.h"

struct kafka_conf_set {
    rd_kafka_conf_t *conf;
    int fixed; /* which of kafkaprops' properties to set: the defaults (0) or the fixed ones */
    char *errstr;
    size_t errsz;
};

static int kafka_conf_set_prop(const char *key, const char *value, int fixed, void *arg)
{
    struct kafka_conf_set *set = arg;

    if (fixed != set->fixed)
        return 0;
    return rd_kafka_conf_set(set->conf, key, value, set->errstr, set->errsz) == RD_KAFKA_CONF_OK ? 0 : -1;
}

static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    /* librdkafka retries what it reports here; the run's outcome is ours to
     * report, so nothing from it is an error of its own */
    log_msg(level <= 4 ? LOG_WARNING : LOG_DEBUG, "kafka: %s: %s", fac, buf);
}

rd_kafka_conf_t *kafka_conf_new(const struct config *cfg, const char *group, char *err, size_t errsz)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* librdkafka writes into errstr even when a topic-level property set on
     * the global configuration succeeds: only a failure's text is passed on */
    char errstr[512];
    struct kafka_conf_set set = { conf, 0, errstr, sizeof errstr };

    if (kafkaprops_each(cfg->max_batch_size, kafka_conf_set_prop, &set) != 0)
        goto fail;
    for (size_t i = 0; i < cfg->n_kafka_props; i++)
        if (rd_kafka_conf_set(conf, cfg->kafka_props[i].key, cfg->kafka_props[i].value, errstr, sizeof errstr) !=
            RD_KAFKA_CONF_OK)
            goto fail;
    set.fixed = 1;
    if (kafkaprops_each(cfg->max_batch_size, kafka_conf_set_prop, &set) != 0 ||
        rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        goto fail;
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    return conf;
fail:
    snprintf(err, errsz, "kafka: %s", errstr);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

rd_kafka_t *kafka_reader_new_conf(rd_kafka_conf_t *conf, char *err, size_t errsz)
{
    rd_kafka_t *rk;
    char errstr[512];

    /* librdkafka may leave text in errstr on success too: use our own */
    if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr)) == NULL) {
        snprintf(err, errsz, "kafka: %s", errstr);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* A handle with group.id = group that never joins nor commits (see
 * kafka_reader_new_conf()). */
static rd_kafka_t *kafka_reader_new(const struct config *cfg, const char *group, char *err, size_t errsz)
{
    rd_kafka_conf_t *conf = kafka_conf_new(cfg, group, err, errsz);

    return conf ? kafka_reader_new_conf(conf, err, errsz) : NULL;
}

void kafka_reader_free(rd_kafka_t *rk)
{
    if (rk == NULL)
        return;
    /* it never joined a group: there is nothing to leave, and the consumer
     * close would only wait on its queues */
    rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

int kafka_topic_partitions(rd_kafka_t *rk, const struct config *cfg, int timeout_ms, int32_t *nparts, int *missing,
                           char *err, size_t errsz)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    int rc = -1;

    *missing = 0;
    if (e) {
        snprintf(err, errsz, "kafka: cannot get metadata from %s: %s", config_kafka_prop(cfg, "bootstrap.servers"),
                 rd_kafka_err2str(e));
        return -1;
    }
    for (int i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &md->topics[i];
        if (strcmp(t->topic, cfg->topic) != 0)
            continue;
        if (t->err || t->partition_cnt <= 0) {
            snprintf(err, errsz, "kafka: topic \"%s\": %s", cfg->topic, rd_kafka_err2str(t->err));
        } else {
            *nparts = t->partition_cnt;
            rc = 0;
        }
        rd_kafka_metadata_destroy(md);
        return rc;
    }
    snprintf(err, errsz, "kafka: topic \"%s\" does not exist on %s (see [kafka] topic in %s)", cfg->topic,
             config_kafka_prop(cfg, "bootstrap.servers"), cfg->path);
    *missing = 1;
    rd_kafka_metadata_destroy(md);
    return -1;
}

static rd_kafka_topic_partition_list_t *kafka_part_list(const char *topic, const int32_t *parts, int n,
                                                         int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n > 0 ? n : 1);

    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, topic, parts[i])->offset = offset;
    return l;
}

/* The element of l for partition p (lists keep the order they were built
 * in, but a broker's answer need not). */
static const rd_kafka_topic_partition_t *kafka_find(const rd_kafka_topic_partition_list_t *l, const char *topic,
                                                    int32_t p)
{
    for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].partition == p && strcmp(l->elems[i].topic, topic) == 0)
            return &l->elems[i];
    return NULL;
}

/* Copy the committed offsets and marks of l (an answer for parts[0..n))
 * into out. Returns the error of the first partition that failed or is
 * missing (its text in err), 0 when all are there. */
static rd_kafka_resp_err_t kafka_take_committed(const rd_kafka_topic_partition_list_t *l, const char *topic,
                                                const int32_t *parts, int n, struct ledger_offsets *out, char *err,
                                                size_t errsz)
{
    for (int i = 0; i < n; i++) {
        const rd_kafka_topic_partition_t *p = kafka_find(l, topic, parts[i]);
        rd_kafka_resp_err_t e = p ? p->err : RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION;
        if (e) {
            snprintf(err, errsz, "partition %" PRId32 ": %s", parts[i], rd_kafka_err2str(e));
            return e;
        }
        out[i].committed = p->offset >= 0 ? p->offset : -1;
        mark_parse(p->metadata, p->metadata_size, &out[i].mark);
    }
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

int kafka_read_committed(rd_kafka_t *rk, const char *topic, const int32_t *parts, int n, int timeout_ms,
                         struct ledger_offsets *out, char *err, size_t errsz)
{
    rd_kafka_topic_partition_list_t *l = kafka_part_list(topic, parts, n, RD_KAFKA_OFFSET_INVALID);
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, l, timeout_ms);
    char why[256];

    if (e)
        snprintf(why, sizeof why, "%s", rd_kafka_err2str(e));
    else
        e = kafka_take_committed(l, topic, parts, n, out, why, sizeof why);
    rd_kafka_topic_partition_list_destroy(l);
    if (e)
        snprintf(err, errsz, "kafka: cannot read committed offsets: %s", why);
    return e ? -1 : 0;
}

/* Errors a coordinator answers while it moves or loads: worth asking again.
 * rd_kafka_committed() retries them itself; the admin API does not. */
static int kafka_coordinator_retriable(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
        return 1;
    default:
        return 0;
    }
}

/* What an admin request of ours leaves to free: its answer, its queue and
 * its options (each may be NULL). */
static void kafka_admin_free(rd_kafka_event_t *ev, rd_kafka_queue_t *q, rd_kafka_AdminOptions_t *opts)
{
    if (ev)
        rd_kafka_event_destroy(ev);
    if (q)
        rd_kafka_queue_destroy(q);
    if (opts)
        rd_kafka_AdminOptions_destroy(opts);
}

/* One ListConsumerGroupOffsets (an OffsetFetch to group's coordinator) on
 * rk, waiting for its answer on a queue of our own. Returns the error code
 * (0: out is filled), with its text in err. */
static rd_kafka_resp_err_t kafka_list_group_offsets(rd_kafka_t *rk, const char *group, const char *topic,
                                                    const int32_t *parts, int n, int timeout_ms,
                                                    struct ledger_offsets *out, char *err, size_t errsz)
{
    rd_kafka_topic_partition_list_t *l = kafka_part_list(topic, parts, n, RD_KAFKA_OFFSET_INVALID);
    rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(group, l);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_event_t *ev = NULL;
    const rd_kafka_ListConsumerGroupOffsets_result_t *res;
    const rd_kafka_group_result_t **groups;
    const rd_kafka_topic_partition_list_t *got;
    size_t ngroups = 0;
    char errstr[256];
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__FAIL;

    rd_kafka_topic_partition_list_destroy(l);
    if (req == NULL || opts == NULL || q == NULL) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    if ((e = rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr, sizeof errstr))) {
        snprintf(err, errsz, "%s", errstr);
        goto out;
    }
    rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, opts, q);
    /* the request times out by itself; the margin only covers the hand-over */
    ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
    if (ev == NULL) {
        snprintf(err, errsz, "no answer in %d ms", timeout_ms);
        e = RD_KAFKA_RESP_ERR__TIMED_OUT;
        goto out;
    }
    if ((e = rd_kafka_event_error(ev))) {
        snprintf(err, errsz, "%s", rd_kafka_event_error_string(ev));
        goto out;
    }
    res = rd_kafka_event_ListConsumerGroupOffsets_result(ev);
    groups = res ? rd_kafka_ListConsumerGroupOffsets_result_groups(res, &ngroups) : NULL;
    e = RD_KAFKA_RESP_ERR__BAD_MSG;
    if (ngroups != 1) {
        snprintf(err, errsz, "%zu group answers for one group", ngroups);
        goto out;
    }
    if (rd_kafka_group_result_error(groups[0])) {
        e = rd_kafka_error_code(rd_kafka_group_result_error(groups[0]));
        snprintf(err, errsz, "%s", rd_kafka_error_string(rd_kafka_group_result_error(groups[0])));
        goto out;
    }
    if ((got = rd_kafka_group_result_partitions(groups[0])) == NULL) {
        snprintf(err, errsz, "an answer without partitions");
        goto out;
    }
    e = kafka_take_committed(got, topic, parts, n, out, err, errsz);
out:
    kafka_admin_free(ev, q, opts);
    if (req)
        rd_kafka_ListConsumerGroupOffsets_destroy(req);
    return e;
}

/* A coordinator that is moving or loading is asked again every
 * KAFKA_COORD_RETRY_MS until timeout_ms has passed. */
#define KAFKA_COORD_RETRY_MS 100

int kafka_read_group_committed(rd_kafka_t *rk, const char *group, const char *topic, const int32_t *parts, int n,
                               int timeout_ms, struct ledger_offsets *out, char *err, size_t errsz)
{
    int64_t deadline = now_mono_ms() + timeout_ms;
    char why[256];

    for (;;) {
        int64_t left = deadline - now_mono_ms();
        rd_kafka_resp_err_t e =
            kafka_list_group_offsets(rk, group, topic, parts, n, left > 0 ? (int)left : 1, out, why, sizeof why);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0;
        if (!kafka_coordinator_retriable(e) || deadline - now_mono_ms() < KAFKA_COORD_RETRY_MS) {
            snprintf(err, errsz, "kafka: cannot read committed offsets: %s", why);
            return -1;
        }
        log_debug("kafka: committed offsets of group %s: %s; asking again", group, why);
        sleep_ms(KAFKA_COORD_RETRY_MS);
    }
}

/* ListOffsets with the special "timestamps" -2 (earliest) and -1 (latest):
 * one request per leader for every partition, where querying watermarks
 * costs one round trip per partition. */
static int kafka_list_offsets(rd_kafka_t *rk, const char *topic, const int32_t *parts, int n, int timeout_ms,
                              int64_t which, struct ledger_offsets *out, char *err, size_t errsz)
{
    rd_kafka_topic_partition_list_t *l = kafka_part_list(topic, parts, n, which);
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, l, timeout_ms);
    int rc = 0;

    for (int i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < n; i++) {
        const rd_kafka_topic_partition_t *p = kafka_find(l, topic, parts[i]);
        if (p == NULL || p->err || p->offset < 0) {
            snprintf(err, errsz, "kafka: cannot read the offsets of partition %" PRId32 ": %s", parts[i],
                     rd_kafka_err2str(p && p->err ? p->err : RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION));
            rc = -1;
            break;
        }
        if (which == RD_KAFKA_OFFSET_BEGINNING)
            out[i].low = p->offset;
        else
            out[i].high = p->offset;
    }
    if (e) {
        snprintf(err, errsz, "kafka: cannot read partition offsets: %s", rd_kafka_err2str(e));
        rc = -1;
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

int kafka_read_watermarks(rd_kafka_t *rk, const char *topic, const int32_t *parts, int n, int timeout_ms,
                          struct ledger_offsets *out, char *err, size_t errsz)
{
    if (kafka_list_offsets(rk, topic, parts, n, timeout_ms, RD_KAFKA_OFFSET_BEGINNING, out, err, errsz) != 0 ||
        kafka_list_offsets(rk, topic, parts, n, timeout_ms, RD_KAFKA_OFFSET_END, out, err, errsz) != 0)
        return -1;
    for (int i = 0; i < n; i++)
        if (out[i].low > out[i].high)
            out[i].low = out[i].high; /* a deletion between the two requests */
    return 0;
}

int kafka_groups_offsets(const struct config *cfg, const char *const *groups, int ngroups, int timeout_ms,
                         int32_t *nparts, struct ledger_offsets **out, char *err, size_t errsz)
{
    rd_kafka_t *rk = kafka_reader_new(cfg, groups[0], err, errsz);
    int32_t *parts = NULL;
    int missing, rc = -1;

    for (int g = 0; g < ngroups; g++)
        out[g] = NULL;
    *nparts = 0;
    if (rk == NULL)
        return -1;
    if (kafka_topic_partitions(rk, cfg, timeout_ms, nparts, &missing, err, errsz) != 0)
        goto out;
    if ((parts = calloc((size_t)*nparts, sizeof *parts)) == NULL)
        goto oom;
    for (int32_t i = 0; i < *nparts; i++)
        parts[i] = i;
    for (int g = 0; g < ngroups; g++)
        if ((out[g] = calloc((size_t)*nparts, sizeof *out[g])) == NULL)
            goto oom;
    /* the handle's own group directly, the others by the admin API; the
     * watermarks once for all */
    if (kafka_read_committed(rk, cfg->topic, parts, *nparts, timeout_ms, out[0], err, errsz) != 0 ||
        kafka_read_watermarks(rk, cfg->topic, parts, *nparts, timeout_ms, out[0], err, errsz) != 0)
        goto out;
    for (int g = 1; g < ngroups; g++) {
        if (kafka_read_group_committed(rk, groups[g], cfg->topic, parts, *nparts, timeout_ms, out[g], err, errsz) != 0)
            goto out;
        for (int32_t i = 0; i < *nparts; i++) {
            out[g][i].low = out[0][i].low;
            out[g][i].high = out[0][i].high;
        }
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, errsz, "out of memory");
out:
    if (rc != 0)
        for (int g = 0; g < ngroups; g++) {
            free(out[g]);
            out[g] = NULL;
        }
    free(parts);
    kafka_reader_free(rk);
    return rc;
}

int64_t kafka_lag(const struct ledger_offsets *offs, int32_t nparts)
{
    int64_t lag = 0;

    for (int32_t i = 0; i < nparts; i++) {
        int64_t from = offs[i].committed >= offs[i].low ? offs[i].committed : offs[i].low;
        lag += offs[i].high > from ? offs[i].high - from : 0;
    }
    return lag;
}

/* ---- message times and the topic's retention ---- */

/* One message (or end of partition) of a partition being read: its time
 * into ts. Returns 1 when it settles the partition, 0 when it is not one
 * we wait for, -1 with err for an error. */
static int kafka_time_take(const rd_kafka_message_t *m, int64_t *ts, int32_t n, char *done, char *err, size_t errsz)
{
    rd_kafka_timestamp_type_t type;

    if (m->partition < 0 || m->partition >= n || done[m->partition])
        return 0;
    if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        snprintf(err, errsz, "kafka: reading a message's time, partition %" PRId32 ": %s", m->partition,
                 rd_kafka_err2str(m->err));
        return -1;
    }
    done[m->partition] = 1;
    if (m->err) {
        ts[m->partition] = KAFKA_TIME_END;
    } else {
        int64_t t = rd_kafka_message_timestamp(m, &type);
        ts[m->partition] = t >= 0 ? t : KAFKA_TIME_NONE;
    }
    return 1;
}

int kafka_read_times(rd_kafka_t *rk, const char *topic, const int64_t *at, int32_t n, int64_t deadline, int64_t *ts,
                     char *err, size_t errsz)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n > 0 ? n : 1);
    char *done = calloc(n > 0 ? (size_t)n : 1, 1);
    int pending = 0, rc = -1;

    if (l == NULL || done == NULL) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    for (int32_t i = 0; i < n; i++)
        if (at[i] >= 0 && ++pending)
            rd_kafka_topic_partition_list_add(l, topic, i)->offset = at[i];
    if (pending > 0 && rd_kafka_assign(rk, l) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errsz, "kafka: cannot assign the partitions to read a message's time");
        goto out;
    }
    while (pending > 0) {
        int64_t left = deadline - now_mono_ms();
        rd_kafka_message_t *m = left > 0 ? rd_kafka_consumer_poll(rk, (int)left) : NULL;
        int took = m ? kafka_time_take(m, ts, n, done, err, errsz) : 0;
        if (m)
            rd_kafka_message_destroy(m);
        if (took < 0)
            break;
        pending -= took;
        if (pending > 0 && left <= 0) {
            snprintf(err, errsz, "kafka: no message within the probe timeout at the offset read");
            break;
        }
    }
    if (pending == 0)
        rc = 0;
    /* unassigned, so that the handle may read other offsets next */
    if (rc == 0 && l->cnt > 0 && rd_kafka_assign(rk, NULL) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errsz, "kafka: cannot unassign the partitions read");
        rc = -1;
    }
out:
    free(done);
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* retention.ms out of a DescribeConfigs answer for one topic. */
static int kafka_retention_of(rd_kafka_event_t *ev, int64_t *retention_ms, char *err, size_t errsz)
{
    const rd_kafka_DescribeConfigs_result_t *res = rd_kafka_event_DescribeConfigs_result(ev);
    size_t nres = 0, nent = 0;
    const rd_kafka_ConfigResource_t **rs = res ? rd_kafka_DescribeConfigs_result_resources(res, &nres) : NULL;

    if (rd_kafka_event_error(ev)) {
        snprintf(err, errsz, "%s", rd_kafka_event_error_string(ev));
        return -1;
    }
    if (nres != 1 || rd_kafka_ConfigResource_error(rs[0])) {
        snprintf(err, errsz, "%s", nres == 1 ? rd_kafka_ConfigResource_error_string(rs[0]) : "no answer for the topic");
        return -1;
    }
    const rd_kafka_ConfigEntry_t **es = rd_kafka_ConfigResource_configs(rs[0], &nent);
    for (size_t i = 0; i < nent; i++) {
        const char *v = rd_kafka_ConfigEntry_value(es[i]);
        char *end;
        if (strcmp(rd_kafka_ConfigEntry_name(es[i]), "retention.ms") != 0 || v == NULL)
            continue;
        long long ms = strtoll(v, &end, 10);
        if (end == v || *end != '\0' || ms < -1) {
            snprintf(err, errsz, "retention.ms is not a number of milliseconds");
            return -1;
        }
        *retention_ms = ms;
        return 0;
    }
    snprintf(err, errsz, "the answer has no retention.ms");
    return -1;
}

/* Whether the cluster names a controller among its brokers: DescribeConfigs
 * goes to the controller, and librdkafka waits out its whole timeout for
 * one the cluster does not have (librdkafka 2.0's mock names broker 0, which
 * is not one of its brokers): a check a minute would pay that each time. */
static int kafka_controller_known(rd_kafka_t *rk, int timeout_ms, char *why, size_t whysz)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, NULL, &md, timeout_ms);
    int32_t controller = rd_kafka_controllerid(rk, 0);
    int known = 0;

    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(why, whysz, "metadata: %s", rd_kafka_err2str(e));
        return 0;
    }
    for (int i = 0; i < md->broker_cnt && !known; i++)
        known = md->brokers[i].id == controller;
    rd_kafka_metadata_destroy(md);
    if (!known)
        snprintf(why, whysz, "the cluster names no controller among its brokers (controller id %" PRId32 ")",
                 controller);
    return known;
}

int kafka_topic_retention(rd_kafka_t *rk, const char *topic, int timeout_ms, int64_t *retention_ms, char *err,
                          size_t errsz)
{
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_event_t *ev = NULL;
    char why[256] = "out of memory";
    int rc = -1;

    if (res && opts && q && kafka_controller_known(rk, timeout_ms, why, sizeof why) &&
        rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, why, sizeof why) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_DescribeConfigs(rk, &res, 1, opts, q);
        ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
        if (ev == NULL)
            snprintf(why, sizeof why, "no answer within %d ms", timeout_ms);
        else
            rc = kafka_retention_of(ev, retention_ms, why, sizeof why);
    }
    if (rc != 0)
        snprintf(err, errsz, "kafka: the topic's retention.ms: %s", why);
    kafka_admin_free(ev, q, opts);
    if (res)
        rd_kafka_ConfigResource_destroy(res);
    return rc;
}

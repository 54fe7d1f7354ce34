/* lagprobe.c -- the primary group's lag per partition in messages and seconds (the first uncommitted message's time). */
#include "lagprobe.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"
#include "util.h"

/* The handle reads one message per partition that is behind: each fetch
 * asks for little. (Not queued.min.messages = 1: in librdkafka 2.0 a queue
 * at that bound idles the partitions still to fetch until the broker
 * thread's next wake-up, up to a second -- bench/check.sh's p90 was 1 s.) */
static const char *const lagprobe_settings[][2] = {
    { "fetch.message.max.bytes", "65536" },
};

static rd_kafka_t *lagprobe_handle(const struct config *cfg, char *err, size_t errsz)
{
    rd_kafka_conf_t *conf = kafka_conf_new(cfg, cfg->primary_group, err, errsz);
    char errstr[256];

    if (conf == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof lagprobe_settings / sizeof lagprobe_settings[0]; i++) {
        if (rd_kafka_conf_set(conf, lagprobe_settings[i][0], lagprobe_settings[i][1], errstr, sizeof errstr) !=
            RD_KAFKA_CONF_OK) {
            snprintf(err, errsz, "kafka: %s", errstr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    return kafka_reader_new_conf(conf, err, errsz);
}

/* Where the group resumes on partition i: its committed offset, or the low
 * watermark where it has none or retention deleted past it. */
static int64_t resume_at(const struct ledger_offsets *o) { return o->committed >= o->low ? o->committed : o->low; }

/* One message (or end of partition) of a partition being read: its time
 * lag into p. Returns 1 when it settles the partition, 0 when it is not
 * one we wait for, -1 with err for an error. */
static int lagprobe_take(const rd_kafka_message_t *m, struct partition_lag *p, int32_t n, char *done, int64_t now_ms,
                         char *err, size_t errsz)
{
    rd_kafka_timestamp_type_t type;
    int64_t ts;

    if (m->partition < 0 || m->partition >= n || done[m->partition])
        return 0;
    if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        snprintf(err, errsz, "kafka: reading the first message the primary has not committed, partition %" PRId32
                 ": %s", m->partition, rd_kafka_err2str(m->err));
        return -1;
    }
    done[m->partition] = 1;
    p[m->partition].time_known = 1; /* at the end after all: nothing behind */
    if (m->err)
        return 1;
    ts = rd_kafka_message_timestamp(m, &type);
    p[m->partition].time_known = ts >= 0;
    p[m->partition].time_lag_s = ts >= 0 && now_ms > ts ? (double)(now_ms - ts) / 1000.0 : 0;
    return 1;
}

/* Assign rk every partition that is behind and has a commit, at the first
 * message the group has not committed; the others' time lag is settled
 * here. Returns how many are assigned, or -1 with err. */
static int lagprobe_assign(rd_kafka_t *rk, const char *topic, const struct ledger_offsets *offs, struct partition_lag *p,
                           int32_t n, char *err, size_t errsz)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    int pending = 0;

    if (l == NULL) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    for (int32_t i = 0; i < n; i++) {
        p[i].time_known = p[i].lag == 0;
        /* a group that never committed here says nothing of where the
         * primary is: no time lag (its lag in messages still counts) */
        if (p[i].lag > 0 && offs[i].committed >= 0 && ++pending)
            rd_kafka_topic_partition_list_add(l, topic, i)->offset = resume_at(&offs[i]);
    }
    if (pending > 0 && rd_kafka_assign(rk, l) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errsz, "kafka: cannot assign the partitions to read their first uncommitted message");
        pending = -1;
    }
    rd_kafka_topic_partition_list_destroy(l);
    return pending;
}

/* Read the first message the group has not committed on every partition
 * that is behind, for its time, until deadline (monotonic ms). */
static int lagprobe_times(rd_kafka_t *rk, const char *topic, const struct ledger_offsets *offs, struct partition_lag *p,
                          int32_t n, int64_t now_ms, int64_t deadline, char *err, size_t errsz)
{
    char *done = calloc((size_t)n, 1);
    int pending = done ? lagprobe_assign(rk, topic, offs, p, n, err, errsz) : -1;

    if (done == NULL)
        snprintf(err, errsz, "out of memory");
    while (pending > 0) {
        int64_t left = deadline - now_mono_ms();
        rd_kafka_message_t *m = left > 0 ? rd_kafka_consumer_poll(rk, (int)left) : NULL;
        int took = m ? lagprobe_take(m, p, n, done, now_ms, err, errsz) : 0;
        if (m)
            rd_kafka_message_destroy(m);
        if (took < 0)
            break;
        pending -= took;
        if (left <= 0) {
            snprintf(err, errsz, "kafka: no message at the primary's committed offset within the probe timeout");
            break;
        }
    }
    free(done);
    return pending == 0 ? 0 : -1;
}

static int lagprobe_offsets(rd_kafka_t *rk, const struct config *cfg, int timeout_ms, struct ledger_offsets **offs,
                            int32_t *n, char *err, size_t errsz)
{
    int32_t *parts = NULL;
    int missing, rc = -1;

    *offs = NULL;
    if (kafka_topic_partitions(rk, cfg, timeout_ms, n, &missing, err, errsz) != 0)
        return -1;
    if ((parts = calloc((size_t)*n, sizeof *parts)) == NULL || (*offs = calloc((size_t)*n, sizeof **offs)) == NULL) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    for (int32_t i = 0; i < *n; i++)
        parts[i] = i;
    rc = kafka_read_committed(rk, cfg->topic, parts, *n, timeout_ms, *offs, err, errsz) == 0 &&
                 kafka_read_watermarks(rk, cfg->topic, parts, *n, timeout_ms, *offs, err, errsz) == 0
             ? 0
             : -1;
out:
    free(parts);
    return rc;
}

int lagprobe_read(const struct config *cfg, int64_t now_ms, int timeout_ms, struct partition_lag **out,
                  int32_t *nparts, char *err, size_t errsz)
{
    int64_t deadline = now_mono_ms() + timeout_ms;
    rd_kafka_t *rk = lagprobe_handle(cfg, err, errsz);
    struct ledger_offsets *offs = NULL;
    struct partition_lag *p = NULL;
    int rc = -1;

    *out = NULL;
    *nparts = 0;
    if (rk == NULL || lagprobe_offsets(rk, cfg, timeout_ms, &offs, nparts, err, errsz) != 0)
        goto out;
    if ((p = calloc((size_t)*nparts, sizeof *p)) == NULL) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    for (int32_t i = 0; i < *nparts; i++) {
        p[i].partition = i;
        p[i].lag = offs[i].high > resume_at(&offs[i]) ? offs[i].high - resume_at(&offs[i]) : 0;
    }
    if (lagprobe_times(rk, cfg->topic, offs, p, *nparts, now_ms, deadline, err, errsz) != 0)
        goto out;
    *out = p;
    p = NULL;
    rc = 0;
out:
    free(p);
    free(offs);
    kafka_reader_free(rk);
    return rc;
}

void lagprobe_summarize(const struct partition_lag *p, int32_t n, struct observation *o)
{
    int behind = 0, timed = 0;

    o->lag = 0;
    o->time_lag_s = 0;
    o->time_lag_partition = -1;
    for (int32_t i = 0; i < n; i++) {
        o->lag += p[i].lag;
        behind |= p[i].lag > 0;
        if (p[i].lag > 0 && p[i].time_known && (!timed || p[i].time_lag_s > o->time_lag_s)) {
            timed = 1;
            o->time_lag_s = p[i].time_lag_s;
            o->time_lag_partition = p[i].partition;
        }
    }
    o->time_lag_known = !behind || timed;
}

char *lagprobe_json(const struct partition_lag *p, int32_t n)
{
    json_t *a = json_array();
    char *text;

    for (int32_t i = 0; a && i < n; i++) {
        json_t *row = json_pack("{s:i, s:I, s:o}", "partition", (int)p[i].partition, "lag", (json_int_t)p[i].lag,
                                "time_lag_s", p[i].time_known ? json_real(p[i].time_lag_s) : json_null());
        if (row == NULL || json_array_append_new(a, row) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return text;
}

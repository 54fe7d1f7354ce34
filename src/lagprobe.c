/* SPDX-License-Identifier: BSD-2-Clause */
/* lagprobe.c -- the primary group's lag per partition in messages and seconds (the first uncommitted message's time). */
#include "lagprobe.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"
#include "log.h"
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

/* The age at now_ms of a message read at ts (kafka_read_times()): 0 at the
 * end of the partition (nothing there) or for a time ahead of now_ms.
 * Returns whether it is known (not for a message without a timestamp). */
static int age_of(int64_t ts, int64_t now_ms, double *age_s)
{
    *age_s = ts >= 0 && now_ms > ts ? (double)(now_ms - ts) / 1000.0 : 0;
    return ts != KAFKA_TIME_NONE;
}

/* Read the first message the group has not committed on every partition
 * that is behind and has a commit, for its time, until deadline (monotonic
 * ms); the others' time lag is settled here. */
static int lagprobe_times(rd_kafka_t *rk, const char *topic, const struct ledger_offsets *offs, struct partition_lag *p,
                          int32_t n, int64_t now_ms, int64_t deadline, char *err, size_t errsz)
{
    int64_t *at = malloc(sizeof *at * (size_t)(n > 0 ? n : 1)), *ts = malloc(sizeof *ts * (size_t)(n > 0 ? n : 1));
    int rc = -1;

    if (at == NULL || ts == NULL) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    for (int32_t i = 0; i < n; i++) {
        p[i].time_known = p[i].lag == 0;
        /* a group that never committed here says nothing of where the
         * primary is: no time lag (its lag in messages still counts) */
        at[i] = p[i].lag > 0 && offs[i].committed >= 0 ? resume_at(&offs[i]) : -1;
    }
    if (kafka_read_times(rk, topic, at, n, deadline, ts, err, errsz) != 0)
        goto out;
    for (int32_t i = 0; i < n; i++)
        if (at[i] >= 0)
            p[i].time_known = age_of(ts[i], now_ms, &p[i].time_lag_s);
    rc = 0;
out:
    free(at);
    free(ts);
    return rc;
}

/* Where nobody processed on from: the later of the two groups' offsets,
 * within the partition (retention may have deleted past both). */
static int64_t unprocessed_at(const struct ledger_offsets *prim, const struct ledger_offsets *own)
{
    int64_t u = resume_at(prim);

    if (own->committed > u)
        u = own->committed;
    return u < prim->high ? u : prim->high;
}

/* The age of each partition's oldest unprocessed message: the primary's
 * time lag where it is the primary's first uncommitted message, else read
 * (fallback's offset ahead, or no commit by the primary). Leaves
 * unprocessed_known 0 where it cannot say; logs why at debug (a check a
 * minute would repeat it). */
static void lagprobe_unprocessed(rd_kafka_t *rk, const struct config *cfg, const struct ledger_offsets *prim,
                                 struct partition_lag *p, int32_t n, int64_t now_ms, int64_t deadline)
{
    struct ledger_offsets *own = calloc((size_t)(n > 0 ? n : 1), sizeof *own);
    int64_t *at = malloc(sizeof *at * (size_t)(n > 0 ? n : 1)), *ts = malloc(sizeof *ts * (size_t)(n > 0 ? n : 1));
    int32_t *parts = malloc(sizeof *parts * (size_t)(n > 0 ? n : 1));
    int64_t left = deadline - now_mono_ms();
    char err[512] = "out of memory";

    if (own == NULL || at == NULL || ts == NULL || parts == NULL)
        goto out;
    for (int32_t i = 0; i < n; i++)
        parts[i] = i;
    if (left <= 0 || kafka_read_group_committed(rk, config_kafka_prop(cfg, "group.id"), cfg->topic, parts, n,
                                                (int)left, own, err, sizeof err) != 0)
        goto out;
    for (int32_t i = 0; i < n; i++) {
        int64_t u = unprocessed_at(&prim[i], &own[i]);
        at[i] = -1;
        if (u >= prim[i].high) { /* everything processed */
            p[i].unprocessed_known = 1;
            p[i].unprocessed_age_s = 0;
        } else if (u == resume_at(&prim[i]) && prim[i].committed >= 0) {
            p[i].unprocessed_known = p[i].time_known;
            p[i].unprocessed_age_s = p[i].time_lag_s;
        } else {
            at[i] = u;
        }
    }
    if (kafka_read_times(rk, cfg->topic, at, n, deadline, ts, err, sizeof err) != 0)
        goto out;
    for (int32_t i = 0; i < n; i++)
        if (at[i] >= 0)
            p[i].unprocessed_known = age_of(ts[i], now_ms, &p[i].unprocessed_age_s);
    err[0] = '\0';
out:
    if (err[0])
        log_debug("the oldest unprocessed messages' age is unknown: %s", err);
    free(own);
    free(at);
    free(ts);
    free(parts);
}

struct topic_retention lagprobe_retention(int broker_ok, int64_t broker_ms, int64_t config_seconds)
{
    if (broker_ok)
        return (struct topic_retention){ 1, broker_ms < 0 ? -1.0 : (double)broker_ms / 1000.0, "broker" };
    if (config_seconds > 0)
        return (struct topic_retention){ 1, (double)config_seconds, "topic_retention_seconds" };
    return (struct topic_retention){ 0, 0, "topic_retention_seconds" };
}

double lagprobe_retention_used(const struct partition_lag *p, const struct topic_retention *r)
{
    if (!p->unprocessed_known || !r->known || r->seconds <= 0)
        return -1;
    return p->unprocessed_age_s / r->seconds;
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

/* The broker's retention.ms, or the configured one. */
static struct topic_retention lagprobe_topic_retention(rd_kafka_t *rk, const struct config *cfg, int64_t deadline)
{
    int64_t left = deadline - now_mono_ms(), ms = 0;
    char err[512] = "no time left in the probe timeout";
    int ok = left > 0 && kafka_topic_retention(rk, cfg->topic, (int)left, &ms, err, sizeof err) == 0;

    if (!ok)
        log_debug("%s", err);
    return lagprobe_retention(ok, ms, cfg->topic_retention_seconds);
}

int lagprobe_read(const struct config *cfg, int64_t now_ms, int timeout_ms, struct partition_lag **out,
                  int32_t *nparts, struct topic_retention *retention, char *err, size_t errsz)
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
    lagprobe_unprocessed(rk, cfg, offs, p, *nparts, now_ms, deadline);
    *retention = lagprobe_topic_retention(rk, cfg, deadline);
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

char *lagprobe_json(const struct partition_lag *p, int32_t n, const struct topic_retention *r)
{
    json_t *a = json_array();
    char *text;

    for (int32_t i = 0; a && i < n; i++) {
        double used = lagprobe_retention_used(&p[i], r);
        json_t *row = json_pack("{s:i, s:I, s:o, s:o, s:o, s:o}", "partition", (int)p[i].partition, "lag",
                                (json_int_t)p[i].lag, "time_lag_s",
                                p[i].time_known ? json_real(p[i].time_lag_s) : json_null(), "unprocessed_age_s",
                                p[i].unprocessed_known ? json_real(p[i].unprocessed_age_s) : json_null(),
                                "retention_s", r->known ? json_real(r->seconds) : json_null(), "retention_used",
                                used >= 0 ? json_real(used) : json_null());
        if (row == NULL || json_array_append_new(a, row) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return text;
}

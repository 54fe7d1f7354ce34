/* SPDX-License-Identifier: BSD-2-Clause */
/* probe.c -- Flink health, InfluxDB latency and Kafka lag for one check. */
#include "probe.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "influx.h"
#include "lagprobe.h"
#include "util.h"

/* GET base + path into body; 0 on 200, else -1 with *timed_out set when the
 * request timed out (as opposed to being refused or answered badly), and the
 * reason in why, the URL's credentials masked (it is logged and stored). */
static int flink_get(const char *base, const char *path, long timeout_s, struct buf *body, int *timed_out,
                     char *why, size_t whysz)
{
    struct buf url = { 0 };
    long status = 0;
    CURLcode rc = CURLE_OUT_OF_MEMORY;

    if (http_url(&url, base, path) == 0)
        rc = http_get(url.data, timeout_s, NULL, body, &status);
    if (rc != CURLE_OK || status != 200)
        http_describe(why, whysz, "JobManager", url.data ? url.data : base, rc, status);
    *timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    buf_free(&url);
    return rc == CURLE_OK && status == 200 ? 0 : -1;
}

int probe_flink_jobs(const char *json, size_t len, char *why, size_t whysz)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    json_t *jobs = json_object_get(root, "jobs");
    size_t i, running = 0;
    json_t *job;
    int healthy = 0;

    if (!json_is_array(jobs)) {
        snprintf(why, whysz, "/jobs/overview has no job list");
        json_decref(root);
        return 0;
    }
    json_array_foreach(jobs, i, job) {
        const char *state = json_string_value(json_object_get(job, "state"));
        const char *name = json_string_value(json_object_get(job, "name"));
        if (state == NULL)
            continue;
        if (strcmp(state, "FAILING") == 0 || strcmp(state, "RESTARTING") == 0) {
            snprintf(why, whysz, "job %s is %s", name ? name : "?", state);
            json_decref(root);
            return 0;
        }
        running += strcmp(state, "RUNNING") == 0;
    }
    healthy = running > 0;
    if (!healthy)
        snprintf(why, whysz, "no job is RUNNING");
    json_decref(root);
    return healthy;
}

enum flink_health probe_flink(const char *base_url, long timeout_s, char *why, size_t whysz)
{
    struct buf body = { 0 };
    json_error_t jerr;
    json_t *root;
    int timed_out, rc;

    if (flink_get(base_url, "/overview", timeout_s, &body, &timed_out, why, whysz) != 0) {
        buf_free(&body);
        return timed_out ? FLINK_UNKNOWN : FLINK_UNHEALTHY;
    }
    root = json_loadb(body.data, body.len, 0, &jerr);
    json_t *jr = json_object_get(root, "jobs-running");
    if (!json_is_integer(jr) || json_integer_value(jr) <= 0) {
        snprintf(why, whysz, "%s", json_is_integer(jr) ? "no job running" : "/overview has no jobs-running");
        json_decref(root);
        buf_free(&body);
        return FLINK_UNHEALTHY;
    }
    json_decref(root);
    buf_reset(&body);
    /* jobs-running also counts RESTARTING and FAILING jobs */
    if (flink_get(base_url, "/jobs/overview", timeout_s, &body, &timed_out, why, whysz) != 0) {
        buf_free(&body);
        return timed_out ? FLINK_UNKNOWN : FLINK_UNHEALTHY;
    }
    rc = probe_flink_jobs(body.data, body.len, why, whysz);
    buf_free(&body);
    return rc == 1 ? FLINK_HEALTHY : FLINK_UNHEALTHY;
}

int probe_latency(const struct config *cfg, int64_t now_ms, double *latency_s, int *found, char *err,
                  size_t errsz)
{
    int64_t last_ms = 0;

    if (influx_last_time(cfg, (long)cfg->probe_timeout_seconds, &last_ms, found, err, errsz) != 0) {
        /* the reason is logged and stored with the check: mask the URL of
         * InfluxDB's client errors ("InfluxDB URL: Couldn't connect") */
        char *raw = strdup(err);
        if (raw == NULL) {
            snprintf(err, errsz, "InfluxDB: out of memory");
            return -1;
        }
        url_redact(err, errsz, raw, strlen(raw));
        free(raw);
        return -1;
    }
    /* no point in the lookback window: at least the lookback */
    if (!*found) {
        *latency_s = (double)cfg->lookback_seconds;
        return 0;
    }
    if (probe_age(now_ms, last_ms, latency_s) != 0) {
        char at[32];
        fmt_iso_ms(at, sizeof at, last_ms);
        snprintf(err, errsz, "InfluxDB: the newest point (%s) is %.0f s ahead of this host's clock, more than %d s:"
                 " a clock is wrong, the latency unknown", at, -*latency_s, PROBE_FUTURE_TOLERANCE_S);
        return -1;
    }
    return 0;
}

int probe_age(int64_t now_ms, int64_t last_ms, double *age_s)
{
    /* in doubles: a hostile answer's time must not overflow the subtraction */
    double age = ((double)now_ms - (double)last_ms) / 1000.0;

    if (age < -(double)PROBE_FUTURE_TOLERANCE_S) {
        *age_s = age;
        return -1;
    }
    *age_s = age > 0 ? age : 0;
    return 0;
}

static void add_err(char *errs, size_t errsz, const char *msg)
{
    size_t len = strlen(errs);

    if (len + 3 < errsz)
        snprintf(errs + len, errsz - len, "%s%s", len ? "; " : "", msg);
}

void probe_all(const struct config *cfg, int64_t now_ms, struct observation *obs, char *why, size_t whysz,
               char *errs, size_t errsz)
{
    char err[512];

    memset(obs, 0, sizeof *obs);
    errs[0] = '\0';
    why[0] = '\0';
    if (cfg->flink_url[0]) {
        enum flink_health h = probe_flink(cfg->flink_url, (long)cfg->probe_timeout_seconds, why, whysz);
        obs->health_probed = 1;
        obs->health_known = h != FLINK_UNKNOWN;
        obs->healthy = h == FLINK_HEALTHY;
        if (h == FLINK_UNKNOWN)
            add_err(errs, errsz, why);
        else if (h == FLINK_UNHEALTHY)
            obs->why_unhealthy = why;
    }

    int found;
    if (probe_latency(cfg, now_ms, &obs->latency_s, &found, err, sizeof err) == 0)
        obs->latency_known = 1;
    else
        add_err(errs, errsz, err);

    if (cfg->lag_probe || cfg->max_primary_lag_messages > 0) {
        struct partition_lag *parts;
        struct topic_retention retention;
        int32_t n;
        obs->lag_probed = 1;
        if (lagprobe_read(cfg, now_ms, (int)cfg->probe_timeout_seconds * 1000, &parts, &n, &retention, err,
                          sizeof err) == 0) {
            obs->lag_known = 1;
            lagprobe_summarize(parts, n, obs);
            obs->partitions_json = lagprobe_json(parts, n, &retention); /* NULL (no memory): not recorded */
            free(parts);
        } else {
            add_err(errs, errsz, err);
        }
    }
}

void probe_release(struct observation *obs)
{
    free((char *)obs->partitions_json);
    obs->partitions_json = NULL;
}

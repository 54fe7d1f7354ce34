/* SPDX-License-Identifier: BSD-2-Clause */
/* metrics.c -- node_exporter textfile output of what the state database holds. */
#include "metrics.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static int metric(struct buf *b, json_t *row, const char *col, const char *name, const char *type, const char *help)
{
    json_t *v = json_object_get(row, col);
    char num[40];

    /* unknown: declared, but no sample rather than an invented value */
    if (buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type) != 0 || !json_is_number(v))
        return json_is_number(v) ? -1 : 0;
    fmt_double(num, sizeof num, json_number_value(v));
    return buf_printf(b, "%s %s\n", name, num);
}

/* spillway_runs_total{outcome=...} for every outcome a finished run can
 * have, zeros included (so that rate() sees a series from the start). */
static int metrics_runs(struct buf *b, const char *by_outcome_json)
{
    static const enum run_outcome outcomes[] = { RUN_OK,  RUN_FAILED, RUN_ABANDONED, RUN_NO_PARTITIONS,
                                                 RUN_LOST, RUN_HELD,   RUN_PARTIAL };
    json_t *counts = json_loads(by_outcome_json ? by_outcome_json : "{}", 0, NULL);
    int rc = buf_printf(b, "# HELP spillway_runs_total Runs by outcome.\n# TYPE spillway_runs_total counter\n");

    for (size_t i = 0; rc == 0 && i < sizeof outcomes / sizeof outcomes[0]; i++) {
        const char *name = run_outcome_name(outcomes[i]);
        rc = buf_printf(b, "spillway_runs_total{outcome=\"%s\"} %lld\n", name,
                        (long long)json_integer_value(json_object_get(counts, name)));
    }
    json_decref(counts);
    return rc;
}

/* One per-partition gauge from the last check's partitions: a sample for
 * each partition whose key is a number (unknown: none). */
static int metrics_partition_gauge(struct buf *b, json_t *parts, const char *key, const char *name, const char *help)
{
    size_t i;
    json_t *p;
    char num[40];
    int rc = buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);

    json_array_foreach(parts, i, p) {
        json_t *v = json_object_get(p, key);
        if (rc || !json_is_number(v))
            continue;
        fmt_double(num, sizeof num, json_number_value(v));
        rc = buf_printf(b, "%s{partition=\"%lld\"} %s\n", name,
                        (long long)json_integer_value(json_object_get(p, "partition")), num);
    }
    return rc;
}

/* The retention risk: each partition's oldest unprocessed message's age,
 * the share of the retention it used, and the retention (-1: for ever). */
static int metrics_retention(struct buf *b, json_t *parts)
{
    json_t *r = json_object_get(json_array_get(parts, 0), "retention_s");
    char num[40];
    int rc = metrics_partition_gauge(b, parts, "unprocessed_age_s", "spillway_partition_unprocessed_age_seconds",
                                     "The age of the oldest message neither group processed (0: none).") ||
             metrics_partition_gauge(b, parts, "retention_used", "spillway_partition_retention_used_ratio",
                                     "That age over the topic's retention: at 1 retention deletes it.") ||
             buf_printf(b, "# HELP spillway_topic_retention_seconds The topic's retention (-1: kept for ever).\n"
                           "# TYPE spillway_topic_retention_seconds gauge\n");

    if (rc == 0 && json_is_number(r)) {
        fmt_double(num, sizeof num, json_number_value(r));
        rc = buf_printf(b, "spillway_topic_retention_seconds %s\n", num);
    }
    return rc;
}

/* spillway_partition_lag_messages and _time_lag_seconds{partition=...}
 * and the retention risk, from the last check's partitions (declared
 * without samples when it has none). */
static int metrics_partitions(struct buf *b, const char *partitions_json)
{
    json_t *parts = json_loads(partitions_json ? partitions_json : "[]", 0, NULL);
    int rc = metrics_partition_gauge(b, parts, "lag", "spillway_partition_lag_messages",
                                     "The primary group's lag per partition.") ||
             metrics_partition_gauge(b, parts, "time_lag_s", "spillway_partition_time_lag_seconds",
                                     "The age of the first message the primary has not committed, per partition.") ||
             metrics_retention(b, parts);

    json_decref(parts);
    return rc;
}

int metrics_write(const char *path, struct store *s, char *err, size_t errsz)
{
    static const struct {
        const char *col, *name, *type, *help;
    } rows[] = {
        { "violations", "spillway_violations", "gauge", "Violations in a row (primary mode)." },
        { "recoveries", "spillway_recoveries", "gauge", "Recoveries in a row (fallback mode)." },
        { "mode_since", "spillway_mode_since_timestamp_seconds", "gauge", "When the current mode began." },
        { "checks", "spillway_checks_total", "counter", "Checks recorded." },
        { "checks_unknown", "spillway_checks_unknown_total", "counter", "Checks whose probes could not be made." },
        { "transitions", "spillway_transitions_total", "counter", "Mode changes and forced overrides." },
        { "latency_s", "spillway_primary_latency_seconds", "gauge", "The primary's latency at the last check." },
        { "lag", "spillway_primary_lag_messages", "gauge", "The primary group's lag at the last check." },
        { "last_unknown", "spillway_last_check_unknown", "gauge", "1 when the last check could not observe." },
        { "check_at", "spillway_last_check_timestamp_seconds", "gauge", "When the last check ran." },
        { "messages", "spillway_last_run_messages", "gauge", "Messages consumed by the last run." },
        { "points", "spillway_last_run_points", "gauge", "Points written by the last run." },
        { "backlog", "spillway_last_run_backlog_messages", "gauge",
          "Messages behind on the last run's partitions when it began." },
        { "quarantined", "spillway_last_run_quarantined", "gauge", "Messages and aggregates it quarantined." },
        { "exit_code", "spillway_last_run_exit_code", "gauge", "Its exit code (0 ok, 69 unavailable, ...)." },
        { "run_at", "spillway_last_run_timestamp_seconds", "gauge", "When the last run ended." },
        { "run_seconds", "spillway_last_run_duration_seconds", "gauge", "How long it took." },
        { "quarantine", "spillway_quarantine_total", "counter", "Quarantined messages and aggregates." },
        { "time_lag_s", "spillway_primary_time_lag_seconds", "gauge",
          "The largest time lag over partitions in Kafka at the last check." },
        { "predicted_crossing", "spillway_prediction_crossing", "gauge",
          "1 when the last check's time lag trend crosses the threshold within the horizon." },
        { "projection_s", "spillway_prediction_projection_seconds", "gauge",
          "The time lag the trend projects at the horizon, at the last check." },
        { "flapping", "spillway_flapping", "gauge", "1 while mode changes are flapping." },
        { "runs_failing", "spillway_runs_failed_in_a_row", "gauge", "The latest runs that failed, in a row." },
        { "notify_pending", "spillway_notifications_pending", "gauge", "Events not delivered yet." },
        { "notify_dead", "spillway_notifications_dead", "gauge", "Events given up on after max_attempts." },
        { "notify_delivered", "spillway_notifications_delivered", "gauge", "Events delivered (kept keep_days)." },
        { "level_since", "spillway_level_since_timestamp_seconds", "gauge", "When the runner's level last changed." },
        { "preserved", "spillway_preserved_points_total", "counter",
          "Points written without stress_level in the preserve level (runs kept keep_days)." },
        { "backfilled", "spillway_backfilled_points_total", "counter",
          "Stress levels backfilled onto them (runs kept keep_days)." },
    };
    json_t *all = store_metrics(s, err, errsz);
    json_t *row = json_array_get(all, 0);
    struct buf b = { 0 }, tmp = { 0 };
    FILE *fp = NULL;
    int rc = -1;

    if (row == NULL) {
        if (all)
            snprintf(err, errsz, "metrics: no state row");
        goto out;
    }
    const char *mode = json_string_value(json_object_get(row, "mode"));
    const char *forced = json_string_value(json_object_get(row, "forced"));
    if (buf_printf(&b,
                   "# HELP spillway_mode 1 for the current mode.\n# TYPE spillway_mode gauge\n"
                   "spillway_mode{mode=\"primary\"} %d\nspillway_mode{mode=\"fallback\"} %d\n"
                   "# HELP spillway_forced 1 when the mode is forced (spillway force).\n"
                   "# TYPE spillway_forced gauge\nspillway_forced %d\n",
                   strcmp(mode, "primary") == 0, strcmp(mode, "fallback") == 0, strcmp(forced, "auto") != 0))
        goto oom;
    const char *level = json_string_value(json_object_get(row, "level"));
    if (buf_printf(&b,
                   "# HELP spillway_level 1 for the runner's current level (preserve: points without stress_level).\n"
                   "# TYPE spillway_level gauge\nspillway_level{level=\"normal\"} %d\n"
                   "spillway_level{level=\"preserve\"} %d\n",
                   level == NULL || strcmp(level, "normal") == 0, level && strcmp(level, "preserve") == 0))
        goto oom;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (metric(&b, row, rows[i].col, rows[i].name, rows[i].type, rows[i].help) != 0)
            goto oom;
    if (metrics_runs(&b, json_string_value(json_object_get(row, "runs_by_outcome"))) != 0 ||
        metrics_partitions(&b, json_string_value(json_object_get(row, "partitions"))) != 0 ||
        buf_printf(&tmp, "%s.tmp.%d", path, (int)getpid()))
        goto oom;
    if ((fp = fopen(tmp.data, "w")) == NULL || fwrite(b.data, 1, b.len, fp) != b.len) {
        snprintf(err, errsz, "metrics: cannot write %s: %s", tmp.data, strerror(errno));
        goto out;
    }
    if (fclose(fp) != 0) {
        fp = NULL;
        snprintf(err, errsz, "metrics: cannot write %s: %s", tmp.data, strerror(errno));
        goto out;
    }
    fp = NULL;
    if (rename(tmp.data, path) != 0) {
        snprintf(err, errsz, "metrics: cannot rename %s to %s: %s", tmp.data, path, strerror(errno));
        goto out;
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, errsz, "out of memory");
out:
    if (fp)
        fclose(fp);
    if (rc != 0 && tmp.data)
        unlink(tmp.data);
    json_decref(all);
    buf_free(&b);
    buf_free(&tmp);
    return rc;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* status.c -- `spillway status`: mode, counters, detection, notifications, checks, runs, backlog, episodes. */
#include "status.h"

#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "decide.h"
#include "kafka.h"
#include "lock.h"
#include "log.h"
#include "store.h"
#include "util.h"

/* What the fallback group's mark on a partition says (mark.h), for an
 * operator: "done"; "reading" (a batch under way that has written nothing:
 * the next run owes it nothing); "in progress" (a batch that began writing
 * while a runner of this host runs: it may be that one); "unfinished" (a
 * batch that began writing and stopped: the next run rewrites it from the
 * fallback's offset up to its end). */
static const char *status_batch(const struct mark *m, int runner_busy)
{
    if (m->kind == MARK_DONE)
        return "done";
    if (!mark_wrote(m))
        return "reading";
    return runner_busy ? "in progress" : "unfinished";
}

/* Whether a runner of this host holds the runner lock now. */
static int status_runner_busy(const struct config *cfg)
{
    char err[256];

    return lock_runner_probe(cfg->state_database, err, sizeof err) == LOCK_BUSY;
}

/* Per partition: both groups' committed offsets, the end, where a run
 * would start (ledger_decide_start()) -- so the fallback's backlog -- and
 * its batch's state (status_batch()); with the drain rate of recent runs,
 * the time to catch up. Kafka not answering leaves a note, not a failed
 * status. */
static void status_backlog(const struct config *cfg, json_t *all)
{
    const char *groups[] = { config_kafka_prop(cfg, "group.id"), cfg->primary_group };
    struct ledger_offsets *offs[2];
    int32_t n = 0;
    int timeout = (int)cfg->probe_timeout_seconds * 1000;
    char err[512];
    json_t *b = json_object(), *parts = json_array();
    int64_t total = 0;

    json_object_set_new(all, "backlog", b);
    if (kafka_groups_offsets(cfg, groups, 2, timeout, &n, offs, err, sizeof err) != 0) {
        json_object_set_new(b, "error", json_string(err));
        json_decref(parts);
        return;
    }
    const struct ledger_offsets *own = offs[0], *prim = offs[1];
    int busy = status_runner_busy(cfg);
    for (int32_t p = 0; p < n; p++) {
        struct ledger_start s = ledger_decide_start(cfg->start_from, &own[p], prim[p].committed);
        /* a retry that stops at its end, then the primary's offset on */
        int64_t backlog = s.stop_at >= 0 ? (s.stop_at - s.d.offset) + (own[p].high - prim[p].committed)
                                         : own[p].high - s.d.offset;
        total += backlog;
        json_array_append_new(parts, json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:s, s:b, s:I}", "partition", (int)p,
                                               "fallback", (json_int_t)own[p].committed, "primary",
                                               (json_int_t)prim[p].committed, "low", (json_int_t)own[p].low, "high",
                                               (json_int_t)own[p].high, "backlog", (json_int_t)backlog, "batch",
                                               status_batch(&own[p].mark, busy), "unfinished",
                                               mark_wrote(&own[p].mark) && !busy, "end",
                                               (json_int_t)(mark_wrote(&own[p].mark) ? own[p].mark.end : -1)));
    }
    json_object_set_new(b, "partitions", parts);
    json_object_set_new(b, "messages", json_integer(total));
    double rate = json_number_value(json_object_get(json_array_get(json_object_get(all, "rate"), 0),
                                                    "messages_per_minute"));
    json_object_set_new(b, "catch_up_minutes", rate > 0 ? json_real((double)total / rate) : json_null());
    free(offs[0]);
    free(offs[1]);
}

static const char *str(json_t *row, const char *key)
{
    json_t *v = json_object_get(row, key);

    return json_is_string(v) ? json_string_value(v) : "-";
}

static long long num(json_t *row, const char *key) { return (long long)json_integer_value(json_object_get(row, key)); }

/* A free-text column (errors, reasons: they quote server answers, ids and
 * times from outside) escaped as log lines are, so that a row stays a line. */
static const char *text(json_t *row, const char *key, char *out, size_t outsz)
{
    json_t *v = json_object_get(row, key);

    if (!json_is_string(v))
        return "-";
    log_escape(out, outsz, json_string_value(v), json_string_length(v), 0);
    return out;
}

/* Mask URL credentials in every string under v: rows written before spillway
 * masked them, or by a module that quotes a URL, may hold one. Returns 0, or
 * -1 when memory runs out. */
static int status_redact(json_t *v)
{
    size_t i, len, n;
    const char *key;
    json_t *item;
    char *safe;
    int rc;

    if (json_is_array(v)) {
        json_array_foreach(v, i, item) {
            if (status_redact(item) != 0)
                return -1;
        }
    } else if (json_is_object(v)) {
        json_object_foreach(v, key, item) {
            if (status_redact(item) != 0)
                return -1;
        }
    } else if (json_is_string(v)) {
        len = json_string_length(v);
        if (memmem(json_string_value(v), len, "://", 3) == NULL)
            return 0;
        n = url_redact(NULL, 0, json_string_value(v), len);
        if ((safe = malloc(n + 1)) == NULL)
            return -1;
        url_redact(safe, n + 1, json_string_value(v), len);
        rc = json_string_setn(v, safe, n);
        free(safe);
        return rc;
    }
    return 0;
}

static double dbl(json_t *row, const char *key) { return json_number_value(json_object_get(row, key)); }

/* Hysteresis, flapping and what the prediction said at the last check. */
static void print_detection(const struct config *cfg, json_t *all)
{
    json_t *det = json_object_get(all, "detection");
    const char *pred = str(det, "predicted");

    if (json_is_string(json_object_get(det, "flapping_since")))
        printf("flapping:    since %s (%lld mode changes in %llds)%s\n", str(det, "flapping_since"),
               (long long)cfg->flap_changes, (long long)cfg->flap_window_seconds,
               cfg->flap_pin ? "; pinned to fallback until the primary holds for flap_window_seconds" : "");
    if (json_is_string(json_object_get(det, "recovering_since")))
        printf("recovering:  since %s (resume_hold_seconds %lld, min_fallback_seconds %lld)\n",
               str(det, "recovering_since"), (long long)cfg->resume_hold_seconds,
               (long long)cfg->min_fallback_seconds);
    printf("prediction:  %s", predict_mode_name(cfg->predict));
    if (cfg->predict != PREDICT_OFF && json_is_number(json_object_get(det, "slope")))
        printf(", last check %s: time lag %.2fs, slope %.3fs/s, %.0fs in %llds (threshold %llds)", pred,
               dbl(det, "time_lag_s"), dbl(det, "slope"), dbl(det, "projection_s"),
               (long long)cfg->predict_horizon_seconds, (long long)cfg->latency_threshold_seconds);
    else if (cfg->predict != PREDICT_OFF)
        printf(", last check %s", strcmp(pred, "-") ? pred : "off (no time lag: lag_probe off or failed)");
    if (cfg->predict == PREDICT_SHADOW)
        printf("; would have tripped %lld times in the recorded checks", num(det, "would_trips"));
    printf("\n");
}

static void print_notifications(const struct config *cfg, json_t *all)
{
    json_t *n = json_object_get(all, "notifications");
    char buf[LOG_MSG_MAX], next[64] = "";

    if (!cfg->notify_command[0] && num(n, "pending") + num(n, "dead") + num(n, "delivered") == 0)
        return;
    if (json_is_string(json_object_get(n, "next_attempt")))
        snprintf(next, sizeof next, " (next attempt %s)", str(n, "next_attempt"));
    printf("notify:      %lld pending%s, %lld dead, %lld delivered%s%s\n", num(n, "pending"), next, num(n, "dead"),
           num(n, "delivered"), json_is_string(json_object_get(n, "last_error")) ? "; last error: " : "",
           json_is_string(json_object_get(n, "last_error")) ? text(n, "last_error", buf, sizeof buf) : "");
}

/* The lag of each partition at the last check, in messages and seconds,
 * and its retention risk: the age of its oldest unprocessed message and
 * the share of the topic's retention that is (at 100% retention deletes
 * it). */
static void print_partitions(json_t *all)
{
    json_t *det = json_object_get(all, "detection");
    json_t *parts = json_object_get(det, "partitions"), *row;
    json_t *ret = json_object_get(json_array_get(parts, 0), "retention_s");
    size_t i;

    if (json_array_size(parts) == 0)
        return;
    printf("\nprimary lag per partition (check at %s), ", str(det, "at"));
    if (!json_is_number(ret))
        printf("retention unknown (the broker did not say; set [drain] topic_retention_seconds):\n");
    else if (json_number_value(ret) < 0)
        printf("retention: kept for ever:\n");
    else
        printf("retention %.0fs:\n", json_number_value(ret));
    printf("  %-9s %12s %12s %14s %10s\n", "partition", "messages", "time lag", "unprocessed", "retention");
    json_array_foreach(parts, i, row) {
        char t[32] = "unknown", u[32] = "unknown", r[32] = "-";
        if (json_is_number(json_object_get(row, "time_lag_s")))
            snprintf(t, sizeof t, "%.2fs", dbl(row, "time_lag_s"));
        if (json_is_number(json_object_get(row, "unprocessed_age_s")))
            snprintf(u, sizeof u, "%.0fs old", dbl(row, "unprocessed_age_s"));
        if (json_is_number(json_object_get(row, "retention_used")))
            snprintf(r, sizeof r, "%.1f%%%s", 100 * dbl(row, "retention_used"),
                     dbl(row, "retention_used") >= 0.5 ? " (!)" : "");
        printf("  %-9lld %12lld %12s %14s %10s\n", num(row, "partition"), num(row, "lag"), t, u, r);
    }
}

static void print_table(const struct config *cfg, json_t *all)
{
    json_t *state = json_array_get(json_object_get(all, "state"), 0);
    json_t *q = json_array_get(json_object_get(all, "quarantine"), 0);
    json_t *row;
    size_t i;
    char buf[LOG_MSG_MAX];

    printf("mode:        %s since %s%s%s\n", str(state, "mode"), str(state, "since"),
           strcmp(str(state, "forced"), "auto") ? " (forced" : "",
           strcmp(str(state, "forced"), "auto") ? "; `spillway force auto` to release)" : "");
    printf("counters:    violations %lld/%lld, recoveries %lld/%lld\n", num(state, "violations"),
           (long long)cfg->consecutive_violations, num(state, "recoveries"), (long long)cfg->consecutive_recoveries);
    if (strcmp(str(state, "level"), "preserve") == 0)
        printf("level:       preserve since %s: %s\n", str(state, "level_since"), text(state, "level_reason", buf, sizeof buf));
    printf("quarantine:  %lld (%lld messages, %lld aggregates holding %lld), latest %s", num(q, "total"),
           num(q, "messages"), num(q, "aggregates"), num(q, "counted") - num(q, "messages"), str(q, "latest"));
    if (num(q, "pending"))
        printf("; %lld more pending a run's commit", num(q, "pending"));
    if (num(q, "unverified"))
        printf("; %lld of them unverified (their run died around its commit)", num(q, "unverified"));
    printf("\n");
    print_detection(cfg, all);
    print_notifications(cfg, all);
    printf("\nlast checks:\n  %-24s %-13s %10s %10s %-9s %-8s %-13s %-10s %s\n", "at", "verdict", "latency",
           "time lag", "mode", "counts", "action", "signal", "predicted");
    json_array_foreach(json_object_get(all, "checks"), i, row) {
        json_t *lat = json_object_get(row, "latency_s"), *tl = json_object_get(row, "time_lag_s");
        char latency[32] = "unknown", time_lag[32] = "-", counts[32];
        if (json_is_number(lat))
            snprintf(latency, sizeof latency, "%.2fs", json_number_value(lat));
        if (json_is_number(tl))
            snprintf(time_lag, sizeof time_lag, "%.2fs", json_number_value(tl));
        snprintf(counts, sizeof counts, "%lld/%lld", num(row, "violations"), num(row, "recoveries"));
        printf("  %-24s %-13s %10s %10s %-9s %-8s %-13s %-10s %s\n", str(row, "at"), str(row, "verdict"), latency,
               time_lag, str(row, "mode"), counts, str(row, "action"),
               strcmp(str(row, "cause"), "none") ? str(row, "cause") : "-", str(row, "predicted"));
    }
    printf("\nlast runs:\n  %-4s %-24s %-13s %-14s %9s %7s %6s %8s %7s %5s %s\n", "id", "started", "outcome",
           "ended by", "messages", "points", "quar.", "skipped", "redone", "lost", "error");
    json_array_foreach(json_object_get(all, "runs"), i, row) {
        printf("  %-4lld %-24s %-13s %-14s %9lld %7lld %6lld %8lld %7lld %5lld %s\n", num(row, "id"),
               str(row, "started_at"), str(row, "outcome"), str(row, "ended_by"), num(row, "messages"),
               num(row, "points"), num(row, "quarantined"), num(row, "skipped"), num(row, "redone"),
               num(row, "lost_partitions"), text(row, "error", buf, sizeof buf));
    }
    json_t *b = json_object_get(all, "backlog");
    if (json_object_get(b, "error")) {
        printf("\nbacklog:     unknown (%s)\n", text(b, "error", buf, sizeof buf));
    } else {
        json_t *cu = json_object_get(b, "catch_up_minutes");
        printf("\nbacklog:     %lld messages", num(b, "messages"));
        if (json_is_number(cu))
            printf(", %.1f min at the last 10 minutes' drain rate (%.0f msg/min, new arrivals aside)",
                   json_number_value(cu),
                   json_number_value(json_object_get(json_array_get(json_object_get(all, "rate"), 0),
                                                     "messages_per_minute")));
        printf("\n  %-9s %12s %12s %12s %12s  %s\n", "partition", "fallback at", "primary at", "end", "backlog",
               "batch");
        json_array_foreach(json_object_get(b, "partitions"), i, row) {
            printf("  %-9lld %12lld %12lld %12lld %12lld  %s", num(row, "partition"), num(row, "fallback"),
                   num(row, "primary"), num(row, "high"), num(row, "backlog"), str(row, "batch"));
            if (json_is_true(json_object_get(row, "unfinished")))
                printf(": wrote up to %lld; the next run rewrites it from here", num(row, "end"));
            printf("\n");
        }
    }
    print_partitions(all);
    printf("\nlast episodes (fallback mode):\n  %-24s %-24s %5s %10s %10s\n", "began", "ended", "runs", "drained",
           "skipped");
    json_array_foreach(json_object_get(all, "episodes"), i, row)
        printf("  %-24s %-24s %5lld %10lld %10lld\n", str(row, "began"), str(row, "ended"), num(row, "runs"),
               num(row, "messages"), num(row, "skipped"));
    printf("\nlast transitions:\n");
    json_array_foreach(json_object_get(all, "transitions"), i, row) {
        printf("  %-24s %s -> %s: %s\n", str(row, "at"), str(row, "from_mode"), str(row, "to_mode"),
               text(row, "reason", buf, sizeof buf));
    }
}

/* The one-row detection and notifications as objects, the partitions as
 * an array (they are stored as JSON text). */
static int status_unwrap(json_t *all)
{
    json_t *det = json_array_get(json_object_get(all, "detection"), 0);
    json_t *parts = json_loads(str(det, "partitions"), 0, NULL);

    if (det == NULL)
        return -1;
    json_object_set(all, "detection", det);
    json_object_set(all, "notifications", json_array_get(json_object_get(all, "notifications"), 0));
    return json_object_set_new(det, "partitions", parts ? parts : json_array());
}

int status_run(const struct config *cfg, int json)
{
    char err[1024];
    struct store *s = store_open(cfg->state_database, err, sizeof err);
    json_t *all = json_object();
    int code = 0;

    if (s == NULL) {
        log_err("%s", err);
        json_decref(all);
        return EX_CONFIG;
    }
    if (store_status(s, all, err, sizeof err) != 0) {
        log_err("%s", err);
        code = EX_SOFTWARE;
        goto out;
    }
    status_backlog(cfg, all);
    if (status_unwrap(all) != 0 || status_redact(all) != 0) {
        log_err("status: out of memory");
        code = EX_SOFTWARE;
        goto out;
    }
    if (json) {
        /* one object: the state row and the quarantine counts unwrapped */
        json_object_set(all, "state", json_array_get(json_object_get(all, "state"), 0));
        json_object_set(all, "quarantine", json_array_get(json_object_get(all, "quarantine"), 0));
        json_object_set(all, "rate", json_array_get(json_object_get(all, "rate"), 0));
        if (json_dumpf(all, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 || putchar('\n') == EOF)
            code = EX_IOERR;
    } else {
        print_table(cfg, all);
    }
out:
    json_decref(all);
    store_close(s);
    return code;
}

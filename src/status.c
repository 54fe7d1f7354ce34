/* status.c -- `spillway status` (table or JSON) and `spillway force`. */
#include "status.h"

#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "decide.h"
#include "log.h"
#include "store.h"
#include "util.h"

static const struct {
    const char *key, *sql;
} status_queries[] = {
    { "state", "SELECT mode, forced, since, violations, recoveries FROM state" },
    { "checks", "SELECT at, verdict, latency_s, lag, healthy, violations, recoveries, mode, forced, action, reason,"
                " error FROM checks ORDER BY id DESC LIMIT 10" },
    { "runs", "SELECT id, started_at, ended_at, outcome, exit_code, ended_by, messages, quarantined, aggregates,"
              " points, skipped, lost_partitions, join_s, offsets, error FROM runs ORDER BY id DESC LIMIT 5" },
    { "transitions", "SELECT at, from_mode, to_mode, forced, reason FROM transitions ORDER BY id DESC LIMIT 5" },
    { "quarantine", "SELECT count(*) AS total, coalesce(sum(kind = 'message'), 0) AS messages,"
                    " coalesce(sum(kind = 'aggregate'), 0) AS aggregates, max(at) AS latest FROM quarantine" },
};

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
    printf("quarantine:  %lld (%lld messages, %lld aggregates), latest %s\n", num(q, "total"), num(q, "messages"),
           num(q, "aggregates"), str(q, "latest"));
    printf("\nlast checks:\n  %-24s %-13s %10s %-9s %-8s %s\n", "at", "verdict", "latency", "mode", "counts", "action");
    json_array_foreach(json_object_get(all, "checks"), i, row) {
        json_t *lat = json_object_get(row, "latency_s");
        char latency[32] = "unknown", counts[32];
        if (json_is_number(lat))
            snprintf(latency, sizeof latency, "%.2fs", json_number_value(lat));
        snprintf(counts, sizeof counts, "%lld/%lld", num(row, "violations"), num(row, "recoveries"));
        printf("  %-24s %-13s %10s %-9s %-8s %s\n", str(row, "at"), str(row, "verdict"), latency, str(row, "mode"),
               counts, str(row, "action"));
    }
    printf("\nlast runs:\n  %-4s %-24s %-13s %-12s %9s %7s %6s %8s %5s %s\n", "id", "started", "outcome", "ended by",
           "messages", "points", "quar.", "skipped", "lost", "error");
    json_array_foreach(json_object_get(all, "runs"), i, row) {
        printf("  %-4lld %-24s %-13s %-12s %9lld %7lld %6lld %8lld %5lld %s\n", num(row, "id"), str(row, "started_at"),
               str(row, "outcome"), str(row, "ended_by"), num(row, "messages"), num(row, "points"),
               num(row, "quarantined"), num(row, "skipped"), num(row, "lost_partitions"),
               text(row, "error", buf, sizeof buf));
    }
    printf("\nlast transitions:\n");
    json_array_foreach(json_object_get(all, "transitions"), i, row) {
        printf("  %-24s %s -> %s: %s\n", str(row, "at"), str(row, "from_mode"), str(row, "to_mode"),
               text(row, "reason", buf, sizeof buf));
    }
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
    for (size_t i = 0; i < sizeof status_queries / sizeof status_queries[0]; i++) {
        json_t *rows = store_query_json(s, status_queries[i].sql, err, sizeof err);
        if (rows == NULL) {
            log_err("%s", err);
            code = EX_SOFTWARE;
            goto out;
        }
        json_object_set_new(all, status_queries[i].key, rows);
    }
    if (status_redact(all) != 0) {
        log_err("status: out of memory");
        code = EX_SOFTWARE;
        goto out;
    }
    if (json) {
        /* one object: the state row and the quarantine counts unwrapped */
        json_object_set(all, "state", json_array_get(json_object_get(all, "state"), 0));
        json_object_set(all, "quarantine", json_array_get(json_object_get(all, "quarantine"), 0));
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

int force_run(const struct config *cfg, const char *what, const char *reason)
{
    struct check_state st, next;
    enum forced f;
    char err[1024], why[512];
    struct passwd *pw = getpwuid(getuid());
    int64_t now = now_wall_ms();
    struct store *s;

    if (what == NULL || forced_parse(what, &f) != 0) {
        log_err("force: expected fallback, primary or auto, not \"%s\"", what ? what : "");
        return EX_USAGE;
    }
    if ((s = store_open(cfg->state_database, err, sizeof err)) == NULL) {
        log_err("%s", err);
        return EX_CONFIG;
    }
    if (store_begin(s, err, sizeof err) != 0 || store_state_get(s, &st, err, sizeof err) != 0)
        goto fail;
    next = st;
    next.forced = f;
    next.violations = next.recoveries = 0;
    if (f != FORCED_AUTO)
        next.mode = f == FORCED_FALLBACK ? MODE_FALLBACK : MODE_PRIMARY;
    snprintf(why, sizeof why, "force %s by %s: %s", what, pw ? pw->pw_name : "?",
             reason && reason[0] ? reason : "no reason given");
    if (store_transition_insert(s, now, st.mode, next.mode, f, why, err, sizeof err) != 0 ||
        store_state_put(s, &next, now, err, sizeof err) != 0 || store_commit(s, err, sizeof err) != 0)
        goto fail;
    store_close(s);
    log_info("%s (mode %s -> %s)", why, mode_name(st.mode), mode_name(next.mode));
    return 0;
fail:
    log_err("%s", err);
    store_rollback(s);
    store_close(s);
    return EX_SOFTWARE;
}

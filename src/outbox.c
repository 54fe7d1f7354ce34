/* SPDX-License-Identifier: BSD-2-Clause */
/* outbox.c -- which events are notified, and their delivery: in order, at least once, with backoff, then dead. */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lock.h"
#include "log.h"
#include "notify.h"
#include "util.h"

extern char **environ;

int64_t outbox_next_attempt(int64_t now_ms, int64_t attempts, int64_t retry_ms)
{
    int64_t wait = retry_ms, cap = retry_ms > OUTBOX_MAX_BACKOFF_MS ? retry_ms : OUTBOX_MAX_BACKOFF_MS;

    for (int64_t i = 1; i < attempts && wait < cap; i++)
        wait *= 2;
    return now_ms + (wait < cap ? wait : cap);
}

static int add_event(struct store *s, const char *event, int64_t now_ms, enum mode mode, enum mode previous,
                 const char *reason, const struct observation *obs, const char *ref, char *err, size_t errsz)
{
    struct outbox_event e = { event, now_ms, mode, previous, reason, obs, ref };

    return store_outbox_add(s, &e, err, errsz);
}

/* runs_failing, once per streak of failed runs (its first run's id). */
static int raise_runs_failing(const struct config *cfg, struct store *s, const struct decision *d,
                              const struct observation *obs, int64_t now_ms, char *err, size_t errsz)
{
    int64_t count, first;
    char ref[32], reason[128];
    int has;

    if (cfg->notify_runs_failing <= 0 || store_runs_failing(s, &count, &first, err, errsz) != 0)
        return cfg->notify_runs_failing <= 0 ? 0 : -1;
    if (count < cfg->notify_runs_failing)
        return 0;
    snprintf(ref, sizeof ref, "run %lld", (long long)first);
    if ((has = store_outbox_has(s, "runs_failing", ref, err, errsz)) != 0)
        return has < 0 ? -1 : 0;
    snprintf(reason, sizeof reason, "%lld runs in a row failed, since run %lld (spillway status shows why)",
             (long long)count, (long long)first);
    return add_event(s, "runs_failing", now_ms, d->next.mode, d->next.mode, reason, obs, ref, err, errsz);
}

/* episode_long, once per episode (its start). */
static int raise_episode_long(const struct config *cfg, struct store *s, const struct decision *d,
                              const struct observation *obs, int64_t now_ms, char *err, size_t errsz)
{
    int64_t since = d->next.since_ms, long_ms = cfg->notify_episode_long_seconds * 1000;
    char ref[32], reason[160], began[32];
    int has;

    if (long_ms <= 0 || d->next.mode != MODE_FALLBACK || since <= 0 || now_ms - since < long_ms)
        return 0;
    fmt_iso_ms(began, sizeof began, since);
    snprintf(ref, sizeof ref, "%s", began);
    if ((has = store_outbox_has(s, "episode_long", ref, err, errsz)) != 0)
        return has < 0 ? -1 : 0;
    snprintf(reason, sizeof reason, "fallback mode since %s, %lld minutes (episode_long_seconds %lld)", began,
             (long long)((now_ms - since) / 60000), (long long)cfg->notify_episode_long_seconds);
    return add_event(s, "episode_long", now_ms, d->next.mode, d->next.mode, reason, obs, ref, err, errsz);
}

int outbox_raise_check(const struct config *cfg, struct store *s, const struct check_state *prev,
                       const struct observation *obs, const struct decision *d, int64_t now_ms, char *err,
                       size_t errsz)
{
    if (cfg->notify_command[0] == '\0')
        return 0;
    if (d->changed_mode && add_event(s, d->next.mode == MODE_FALLBACK ? "trip" : "resume", now_ms, d->next.mode,
                                 prev->mode, d->reason, obs, NULL, err, errsz) != 0)
        return -1;
    if (d->flap_started &&
        add_event(s, "flapping", now_ms, d->next.mode, prev->mode, d->reason, obs, NULL, err, errsz) != 0)
        return -1;
    if (raise_runs_failing(cfg, s, d, obs, now_ms, err, errsz) != 0)
        return -1;
    return raise_episode_long(cfg, s, d, obs, now_ms, err, errsz);
}

int outbox_raise_force(const struct config *cfg, struct store *s, enum mode from, enum mode to, const char *reason,
                       int64_t now_ms, char *err, size_t errsz)
{
    if (cfg->notify_command[0] == '\0')
        return 0;
    return add_event(s, "force", now_ms, to, from, reason, NULL, NULL, err, errsz);
}

int outbox_raise_level(const struct config *cfg, struct store *s, int preserve, const char *reason, int64_t now_ms,
                       char *err, size_t errsz)
{
    struct check_state st;

    if (cfg->notify_command[0] == '\0')
        return 0;
    if (store_state_get(s, &st, err, errsz) != 0)
        return -1;
    return add_event(s, preserve ? "preserve" : "preserve_end", now_ms, st.mode, st.mode, reason, NULL, NULL, err,
                     errsz);
}

/* Run the command for row; 0 when it succeeded, else -1 with why. */
static int outbox_run(char *const *argv, const struct outbox_row *row, int64_t timeout_ms, char *why, size_t whysz)
{
    struct notify_event ev = { row->event, row->uid, row->at, row->mode, row->previous_mode, row->reason,
                               row->latency_known, row->lag_known, row->lag_s_known, row->latency_s, row->lag_s,
                               row->lag };
    char **env = notify_env(&ev, environ);
    int rc;

    if (env == NULL) {
        snprintf(why, whysz, "out of memory");
        return -1;
    }
    rc = notify_run(argv, env, timeout_ms, why, whysz);
    notify_argv_free(env);
    return rc;
}

/* Record how the attempt at row went, and say so. Returns what became of
 * it, or -1 with err. */
static int outbox_record(const struct config *cfg, struct store *s, const struct outbox_row *row, int64_t now_ms,
                         int ok, const char *why, struct outbox_report *rep, char *err, size_t errsz)
{
    int64_t attempt = row->attempts + 1, next = outbox_next_attempt(now_ms, attempt, cfg->notify_retry_seconds * 1000);
    enum outbox_result res = ok ? OUTBOX_DELIVERED : attempt >= cfg->notify_max_attempts ? OUTBOX_DEAD : OUTBOX_RETRY;
    char at[32];

    if (store_outbox_attempt(s, row->id, now_ms, res, next, ok ? NULL : why, err, errsz) != 0)
        return -1;
    fmt_iso_ms(at, sizeof at, next);
    if (res == OUTBOX_DELIVERED)
        log_info("notify: %s event %s delivered (attempt %lld)", row->event, row->uid, (long long)attempt);
    else if (res == OUTBOX_RETRY)
        log_warn("notify: %s event %s: attempt %lld of %lld failed: %s; next at %s", row->event, row->uid,
                 (long long)attempt, (long long)cfg->notify_max_attempts, why, at);
    else
        log_err("notify: %s event %s: giving up after %lld attempts (dead): %s", row->event, row->uid,
                (long long)attempt, why);
    rep->delivered += res == OUTBOX_DELIVERED;
    rep->retried += res == OUTBOX_RETRY;
    rep->dead += res == OUTBOX_DEAD;
    return (int)res;
}

/* Deliver in order until nothing is due, an attempt fails (the next check
 * tries again; nothing younger goes first), or the budget is spent. */
static int outbox_loop(const struct config *cfg, struct store *s, char *const *argv, int64_t now_ms,
                       struct outbox_report *rep, char *err, size_t errsz)
{
    int64_t timeout_ms = cfg->notify_timeout_seconds * 1000, end = now_mono_ms() + timeout_ms;
    struct outbox_row row;
    char why[1024];
    int rc = 0;

    while (now_mono_ms() < end && (rc = store_outbox_head(s, &row, err, errsz)) == 1) {
        if (row.next_at_ms > now_ms) {
            free(row.reason);
            return 0;
        }
        int ok = outbox_run(argv, &row, timeout_ms, why, sizeof why) == 0;
        rc = outbox_record(cfg, s, &row, now_ms, ok, why, rep, err, errsz);
        free(row.reason);
        if (rc < 0)
            return -1;
        if (rc == OUTBOX_RETRY)
            return 0;
    }
    return rc < 0 ? -1 : 0;
}

int outbox_deliver(const struct config *cfg, struct store *s, int64_t now_ms, struct outbox_report *rep, char *err,
                   size_t errsz)
{
    char path[4096], why[256];
    char **argv;
    int fd = -1, rc;

    memset(rep, 0, sizeof *rep);
    if (cfg->notify_command[0] == '\0')
        return 0;
    if ((argv = notify_argv(cfg->notify_command, why, sizeof why)) == NULL) {
        snprintf(err, errsz, "[notify] command: %s", why);
        return -1;
    }
    snprintf(path, sizeof path, "%s.notify.lock", cfg->state_database);
    switch (lock_try(path, &fd, err, errsz)) {
    case LOCK_BUSY: rep->busy = 1; rc = 0; break;
    case LOCK_ERROR: rc = -1; break;
    default: rc = outbox_loop(cfg, s, argv, now_ms, rep, err, errsz); lock_release(fd); break;
    }
    notify_argv_free(argv);
    return rc;
}

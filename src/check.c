/* SPDX-License-Identifier: BSD-2-Clause */
/* check.c -- the checker: probe, record, decide, launch, notify. */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "decide.h"
#include "lock.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "probe.h"
#include "store.h"
#include "util.h"

/* Start `spillway -c CONFIG drain` detached: in its own session, reparented
 * to init by a double fork, so that neither the checker's exit nor cron
 * waits for it. (Under a systemd oneshot unit the unit's cgroup would still
 * take it down: there runner_command starts spillway-drain.service.) */
static int spawn_drain(const char *config_path, char *err, size_t errsz)
{
    pid_t pid = fork();
    int status;

    if (pid < 0) {
        snprintf(err, errsz, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        if (setsid() < 0 || (pid = fork()) < 0)
            _exit(127);
        if (pid > 0)
            _exit(0);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        execl("/proc/self/exe", "spillway", "-c", config_path, "drain", (char *)NULL);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errsz, "could not start spillway drain");
        return -1;
    }
    return 0;
}

static int run_command(const char *cmd, char *err, size_t errsz)
{
    int status = system(cmd);
    char safe[256]; /* a longer command is shown cut */

    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* logged and stored with the check: a URL in the command may hold a credential */
        url_redact(safe, sizeof safe, cmd, strlen(cmd));
        snprintf(err, errsz, "runner_command \"%s\" failed (status %d)", safe,
                 status == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        return -1;
    }
    return 0;
}

/* Launch the runner unless one holds the lock. Returns what was done. */
static enum check_action launch_runner(const struct config *cfg, const char *config_path, char *err, size_t errsz)
{
    switch (lock_runner_probe(cfg->state_database, err, errsz)) {
    case LOCK_BUSY: return ACTION_RUNNER_BUSY;
    case LOCK_ERROR: return ACTION_LAUNCH_FAILED;
    case LOCK_TAKEN: break;
    }
    /* free for the runner to take; if checkers run at once, each launches
     * one and all but the first of those runners exit 75 */
    if (cfg->runner_command[0] ? run_command(cfg->runner_command, err, errsz)
                               : spawn_drain(config_path, err, errsz))
        return ACTION_LAUNCH_FAILED;
    return ACTION_LAUNCHED;
}

/* The reference's lines for a violation, and ours for the signals it had none of. */
static void log_violation(const struct observation *o, const struct decision *d, const struct config *cfg)
{
    long long n = (long long)d->count, of = (long long)cfg->consecutive_violations;

    switch (d->cause) {
    case CAUSE_UNHEALTHY:
        log_warn("Primary unhealthy (%s): violation %lld/%lld", o->why_unhealthy, n, of);
        break;
    case CAUSE_LATENCY:
        log_warn("Latency violation %lld/%lld: %.2fs > %llds", n, of, o->latency_s,
                 (long long)cfg->latency_threshold_seconds);
        break;
    case CAUSE_TIME_LAG:
        log_warn("Time lag violation %lld/%lld: partition %d is %.2fs behind > %llds (latency %.2fs)", n, of,
                 (int)o->time_lag_partition, o->time_lag_s, (long long)cfg->latency_threshold_seconds, o->latency_s);
        break;
    case CAUSE_LAG:
        log_warn("Lag violation %lld/%lld: %lld messages > %lld", n, of, (long long)o->lag,
                 (long long)cfg->max_primary_lag_messages);
        break;
    case CAUSE_PREDICTED:
        log_warn("Predicted violation %lld/%lld: time lag %.2fs rising %.3fs/s, %.0fs in %llds > %llds", n, of,
                 o->time_lag_s, d->trend.slope, d->trend.projection, (long long)cfg->predict_horizon_seconds,
                 (long long)cfg->latency_threshold_seconds);
        break;
    case CAUSE_NONE:
        break;
    }
}

static void log_decision(const struct check_state *st, const struct observation *o, const struct decision *d,
                         const struct config *cfg)
{
    if (o->latency_known)
        log_info("Current processing latency: %.2fs", o->latency_s);
    if (o->lag_probed && o->lag_known && o->time_lag_known && o->lag > 0)
        log_info("Primary time lag in Kafka: %.2fs (partition %d), %lld messages behind", o->time_lag_s,
                 (int)o->time_lag_partition, (long long)o->lag);
    if (d->verdict == VERDICT_VIOLATION && st->forced == FORCED_AUTO) {
        log_violation(o, d, cfg);
    } else if (d->verdict == VERDICT_RECOVERY) {
        log_info("Primary processing path is healthy (%lld/%lld)", (long long)d->count,
                 (long long)cfg->consecutive_recoveries);
    } else if (d->verdict == VERDICT_IDLE) {
        log_info("Primary is idle: healthy and caught up (lag 0), no new events%s",
                 st->mode == MODE_FALLBACK ? " -- nothing to drain" : "");
    } else if (d->verdict == VERDICT_HEALTHY && st->mode == MODE_PRIMARY && st->forced == FORCED_AUTO) {
        log_info("Primary processing path is healthy");
    }
    if (d->held != HELD_NONE)
        log_info("Not resuming yet: %s", strchr(d->reason, ';') ? strchr(d->reason, ';') + 2 : d->reason);
    if (d->predicted == PREDICTED_WOULD_TRIP)
        log_info("Prediction (shadow) would have tripped fallback mode here: time lag %.2fs rising %.3fs/s",
                 o->time_lag_s, d->trend.slope);
    if (d->flap_started)
        log_warn("FLAPPING: %lld mode changes within %llds%s", (long long)d->flap_count,
                 (long long)cfg->flap_window_seconds, cfg->flap_pin ? "; fallback mode pinned until it calms" : "");
    if (d->changed_mode)
        log_warn("%s", d->next.mode == MODE_FALLBACK ? "TRIGGERING FALLBACK MODE" : "RESUMING PRIMARY PROCESSING MODE");
}

/* Checks older than [state] keep_days go, one check at a time: the index on
 * their time makes this cheap when there is nothing to prune. The runner
 * prunes the rest of the state; delivered and dead notifications go with
 * the checks, the per-partition detail after STORE_PARTITIONS_DAYS (a check
 * a minute on 32 partitions would otherwise keep 200 MB of it). */
static void prune_checks(const struct config *cfg, struct store *s, int64_t now)
{
    struct store_pruned p;
    int64_t events, detail;
    char err[512];

    if (store_prune(s, now, cfg->state_keep_days, cfg->state_quarantine_max_mb * 1024 * 1024, 1, &p, err,
                    sizeof err) != 0 ||
        store_outbox_prune(s, now - cfg->state_keep_days * 86400000, &events, err, sizeof err) != 0 ||
        store_prune_partitions(s, now - STORE_PARTITIONS_DAYS * 86400000LL, &detail, err, sizeof err) != 0)
        log_warn("%s", err);
    else if (p.checks > 0)
        log_info("state: pruned %lld checks older than keep_days (%lld)", (long long)p.checks,
                 (long long)cfg->state_keep_days);
}

void check_thresholds(const struct config *cfg, struct thresholds *t)
{
    *t = (struct thresholds){
        .latency_threshold_s = (double)cfg->latency_threshold_seconds,
        .resume_threshold_s = (double)cfg->resume_threshold_seconds,
        .consecutive_violations = cfg->consecutive_violations,
        .consecutive_recoveries = cfg->consecutive_recoveries,
        .max_lag = cfg->max_primary_lag_messages,
        .min_fallback_ms = cfg->min_fallback_seconds * 1000,
        .resume_hold_ms = cfg->resume_hold_seconds * 1000,
        .flap_changes = cfg->flap_changes,
        .flap_window_ms = cfg->flap_window_seconds * 1000,
        .flap_pin = cfg->flap_pin,
        .predict = cfg->predict,
        .predict_checks = cfg->predict_checks,
        .predict_horizon_s = (double)cfg->predict_horizon_seconds,
    };
}

/* The history the decision needs, from the state database: the last
 * predict_checks - 1 checks, the mode changes within flap_window, and
 * whether the runs' backfill goes on. */
static int check_history(const struct config *cfg, struct store *s, struct history *h, struct recent_check *recent,
                         int64_t *changes, char *err, size_t errsz)
{
    return store_recent_checks(s, (size_t)cfg->predict_checks - 1, recent, &h->nrecent, err, errsz) ||
           store_mode_changes(s, h->now_ms - cfg->flap_window_seconds * 1000, changes, (size_t)cfg->flap_changes,
                              &h->nchanges, err, errsz) ||
           store_backfill_going_on(s, h->now_ms, &h->backfilling, &h->backfilled_at_ms, err, errsz);
}

/* In one transaction: the state and history read, the decision, the check,
 * the transition, the new state and the events it raised written. */
static int check_decide(const struct config *cfg, struct store *s, const struct observation *obs, int64_t now,
                        const char *probe_errs, struct decision *d, int64_t *check_id, char *err, size_t errsz)
{
    struct recent_check recent[PREDICT_MAX_POINTS];
    int64_t changes[CHECK_MAX_FLAP_CHANGES];
    struct history h = { .now_ms = now, .recent = recent, .changes_ms = changes };
    struct thresholds t;
    struct check_state st;

    check_thresholds(cfg, &t);
    if (store_begin(s, err, errsz) != 0 || store_state_get(s, &st, err, errsz) != 0 ||
        check_history(cfg, s, &h, recent, changes, err, errsz) != 0)
        return -1;
    decide(&st, obs, &h, &t, d);
    log_decision(&st, obs, d, cfg);
    /* the decision is committed before anything is launched: the write
     * lock is never held across an outside command */
    if (store_check_insert(s, now, obs, d, d->launch_runner ? ACTION_LAUNCHING : ACTION_NONE, probe_errs, check_id,
                           err, errsz) != 0 ||
        (d->changed_mode &&
         store_transition_insert(s, now, st.mode, d->next.mode, d->next.forced, d->reason, err, errsz) != 0) ||
        store_state_put(s, &d->next, now, err, errsz) != 0 ||
        outbox_raise_check(cfg, s, &st, obs, d, now, err, errsz) != 0 || store_commit(s, err, errsz) != 0)
        return -1;
    return 0;
}

static void check_launch(const struct config *cfg, const char *config_path, struct store *s, int64_t check_id,
                         int *code)
{
    char err[512], launch_err[512] = "";
    enum check_action action = launch_runner(cfg, config_path, launch_err, sizeof launch_err);

    if (action == ACTION_LAUNCH_FAILED) {
        log_err("cannot launch the runner: %s", launch_err);
        *code = EX_UNAVAILABLE;
    } else {
        log_info("%s", action == ACTION_LAUNCHED ? "Starting fallback runner"
                                                 : "Fallback runner still running; not starting another");
    }
    if (store_check_action(s, check_id, action, launch_err, err, sizeof err) != 0)
        log_err("%s", err);
}

int check_run(const struct config *cfg, const char *config_path)
{
    int64_t now = now_wall_ms(); /* the one clock reading of this check */
    char err[1024], probe_errs[1024], why[512];
    struct observation obs;
    struct decision d;
    struct outbox_report rep;
    int64_t check_id;
    struct store *s = store_open(cfg->state_database, err, sizeof err);
    int code = 0;

    if (s == NULL) {
        log_err("%s", err);
        return EX_CONFIG;
    }
    probe_all(cfg, now, &obs, why, sizeof why, probe_errs, sizeof probe_errs);
    if (check_decide(cfg, s, &obs, now, probe_errs, &d, &check_id, err, sizeof err) != 0) {
        log_err("%s", err);
        store_rollback(s);
        store_close(s);
        probe_release(&obs);
        return EX_SOFTWARE;
    }
    if (d.verdict == VERDICT_UNKNOWN) {
        log_err("check incomplete, no counter moved: %s", probe_errs);
        code = EX_UNAVAILABLE;
    }
    if (d.launch_runner)
        check_launch(cfg, config_path, s, check_id, &code);
    /* after the decision and the launch: a notifier never delays them */
    if (outbox_deliver(cfg, s, now, &rep, err, sizeof err) != 0)
        log_warn("notify: %s", err);
    if (cfg->metrics_textfile[0] && metrics_write(cfg->metrics_textfile, s, err, sizeof err) != 0)
        log_warn("%s", err);
    prune_checks(cfg, s, now);
    store_close(s);
    probe_release(&obs);
    return code;
}

/* check.c -- the checker: probe, record, decide, launch. */
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
    char path[4096];

    if (lock_runner_path(cfg->state_database, path, sizeof path) != 0) {
        snprintf(err, errsz, "state path too long");
        return ACTION_LAUNCH_FAILED;
    }
    switch (lock_probe(path, err, errsz)) {
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

static void log_decision(const struct check_state *st, const struct observation *o, const struct decision *d,
                         const struct config *cfg)
{
    long long n = (long long)d->count, of = (long long)cfg->consecutive_violations;

    if (o->latency_known)
        log_info("Current processing latency: %.2fs", o->latency_s);
    if (d->verdict == VERDICT_VIOLATION && st->forced == FORCED_AUTO) {
        switch (d->cause) {
        case CAUSE_UNHEALTHY:
            log_warn("Primary unhealthy (%s): violation %lld/%lld", o->why_unhealthy, n, of);
            break;
        case CAUSE_LATENCY:
            log_warn("Latency violation %lld/%lld: %.2fs > %llds", n, of, o->latency_s,
                     (long long)cfg->latency_threshold_seconds);
            break;
        case CAUSE_LAG:
            log_warn("Lag violation %lld/%lld: %lld messages > %lld", n, of, (long long)o->lag,
                     (long long)cfg->max_primary_lag_messages);
            break;
        case CAUSE_NONE:
            break;
        }
    } else if (d->verdict == VERDICT_RECOVERY) {
        log_info("Primary processing path is healthy (%lld/%lld)", n, (long long)cfg->consecutive_recoveries);
    } else if (d->verdict == VERDICT_IDLE) {
        log_info("Primary is idle: healthy and caught up (lag 0), no new events%s",
                 st->mode == MODE_FALLBACK ? " -- nothing to drain" : "");
    } else if (d->verdict == VERDICT_HEALTHY && st->mode == MODE_PRIMARY && st->forced == FORCED_AUTO) {
        log_info("Primary processing path is healthy");
    }
    if (d->changed_mode)
        log_warn("%s", d->next.mode == MODE_FALLBACK ? "TRIGGERING FALLBACK MODE" : "RESUMING PRIMARY PROCESSING MODE");
}

/* Checks older than [state] keep_days go, one check at a time: the index on
 * their time makes this cheap when there is nothing to prune. The runner
 * prunes the rest of the state. */
static void prune_checks(const struct config *cfg, struct store *s, int64_t now)
{
    struct store_pruned p;
    char err[512];

    if (store_prune(s, now, cfg->state_keep_days, cfg->state_quarantine_max_mb * 1024 * 1024, 1, &p, err,
                    sizeof err) != 0)
        log_warn("%s", err);
    else if (p.checks > 0)
        log_info("state: pruned %lld checks older than keep_days (%lld)", (long long)p.checks,
                 (long long)cfg->state_keep_days);
}

int check_run(const struct config *cfg, const char *config_path)
{
    const struct thresholds t = {
        .latency_threshold_s = (double)cfg->latency_threshold_seconds,
        .resume_threshold_s = (double)cfg->resume_threshold_seconds,
        .consecutive_violations = cfg->consecutive_violations,
        .consecutive_recoveries = cfg->consecutive_recoveries,
        .max_lag = cfg->max_primary_lag_messages,
    };
    int64_t now = now_wall_ms(); /* the one clock reading of this check */
    char err[1024], probe_errs[1024], why[512], launch_err[512] = "";
    struct check_state st;
    struct observation obs;
    struct decision d;
    enum check_action action;
    int64_t check_id;
    struct store *s = store_open(cfg->state_database, err, sizeof err);
    int code = 0;

    if (s == NULL) {
        log_err("%s", err);
        return EX_CONFIG;
    }
    probe_all(cfg, now, &obs, why, sizeof why, probe_errs, sizeof probe_errs);
    if (store_begin(s, err, sizeof err) != 0 || store_state_get(s, &st, err, sizeof err) != 0)
        goto fail;
    decide(&st, &obs, &t, &d);
    log_decision(&st, &obs, &d, cfg);
    if (d.verdict == VERDICT_UNKNOWN) {
        log_err("check incomplete, no counter moved: %s", probe_errs);
        code = EX_UNAVAILABLE;
    }
    /* the decision is committed before anything is launched: the write
     * lock is never held across an outside command */
    if (store_check_insert(s, now, &obs, &d, d.launch_runner ? ACTION_LAUNCHING : ACTION_NONE, probe_errs, &check_id,
                           err, sizeof err) != 0 ||
        (d.changed_mode &&
         store_transition_insert(s, now, st.mode, d.next.mode, d.next.forced, d.reason, err, sizeof err) != 0) ||
        store_state_put(s, &d.next, now, err, sizeof err) != 0 || store_commit(s, err, sizeof err) != 0)
        goto fail;
    if (d.launch_runner) {
        action = launch_runner(cfg, config_path, launch_err, sizeof launch_err);
        if (action == ACTION_LAUNCH_FAILED) {
            log_err("cannot launch the runner: %s", launch_err);
            code = EX_UNAVAILABLE;
        } else {
            log_info("%s", action == ACTION_LAUNCHED ? "Starting fallback runner"
                                                     : "Fallback runner still running; not starting another");
        }
        if (store_check_action(s, check_id, action, launch_err, err, sizeof err) != 0)
            log_err("%s", err);
    }
    if (cfg->metrics_textfile[0] && metrics_write(cfg->metrics_textfile, s, err, sizeof err) != 0)
        log_warn("%s", err);
    prune_checks(cfg, s, now);
    store_close(s);
    return code;
fail:
    log_err("%s", err);
    store_rollback(s);
    store_close(s);
    return EX_SOFTWARE;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* notify.h -- running the [notify] command: no shell, a clean SPILLWAY_*
 * environment, a timeout.
 *
 * The command is split into words here, not by a shell: blanks separate
 * words, '...' and "..." quote (inside "...", a backslash escapes " and
 * \), nothing is expanded. It runs as the checker's user with the
 * checker's environment minus every SPILLWAY_* variable it had, plus the
 * event's; stdin is /dev/null, stdout and stderr are kept (their start)
 * for the record; it is its own process group, killed whole at the
 * timeout. Every value put in the environment is masked (URL
 * credentials) and escaped as log lines are (log.h): one line of valid
 * UTF-8, whatever outside bytes (a job's name, a server's answer) a reason
 * quotes. */
#ifndef SPILLWAY_NOTIFY_H
#define SPILLWAY_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

/* Split command into a NULL-terminated argv. Returns it (free with
 * notify_argv_free()), or NULL with the problem in err: an unbalanced
 * quote, no word at all, or out of memory. */
char **notify_argv(const char *command, char *err, size_t errsz);
void notify_argv_free(char **argv);

/* One event as the command sees it; NULL strings and unknown numbers give
 * empty variables. */
struct notify_event {
    const char *event, *id, *at, *mode, *previous_mode, *reason;
    int latency_known, lag_known, lag_s_known;
    double latency_s, lag_s;
    int64_t lag;
};

/* The environment for ev: base (e.g. environ) without its SPILLWAY_*
 * entries, then SPILLWAY_EVENT, _ID, _AT, _MODE, _PREVIOUS_MODE, _REASON,
 * _LATENCY_SECONDS, _LAG_MESSAGES and _LAG_SECONDS. Returns a
 * NULL-terminated array (free with notify_argv_free()), or NULL when memory
 * runs out. */
char **notify_env(const struct notify_event *ev, char *const *base);

/* Run argv with env, waiting at most timeout_ms. Returns 0 when it exited
 * 0; else -1 with why in err, the start of its output quoted as it came
 * (outside bytes: escape them before showing them, as log lines and status
 * do): "exit 3: <output>", "killed by signal 9", "timed out after 10000 ms
 * (its process group killed)", "exit 127: cannot run /x: No such file or
 * directory". The child is always waited for. */
int notify_run(char *const *argv, char *const *env, int64_t timeout_ms, char *err, size_t errsz);

#endif

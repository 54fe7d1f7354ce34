/* SPDX-License-Identifier: BSD-2-Clause */
/* notify.c -- the [notify] command: word splitting, the SPILLWAY_* environment, fork/exec with a timeout. */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* How much of the command's output is kept for the record. */
#define NOTIFY_OUTPUT_MAX 512
/* How often a command whose output pipe another process holds open is
 * looked at for its exit. */
#define NOTIFY_POLL_MS 20

void notify_argv_free(char **argv)
{
    if (argv == NULL)
        return;
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
}

static int argv_push(char ***argv, size_t *n, struct buf *word)
{
    char **grown = realloc(*argv, (*n + 2) * sizeof **argv);

    if (grown == NULL)
        return -1;
    *argv = grown;
    grown[*n] = strdup(word->data ? word->data : "");
    grown[*n + 1] = NULL;
    buf_reset(word);
    return grown[(*n)++] ? 0 : -1;
}

/* One word from *p on (past blanks): its characters, quotes removed, into
 * word. Returns 1 for a word, 0 at the end, -1 for an unbalanced quote or
 * no memory (err says which). */
static int next_word(const char **p, struct buf *word, char *err, size_t errsz)
{
    const char *s = *p + strspn(*p, " \t");
    char quote = 0;

    if (*s == '\0')
        return 0;
    for (; *s && (quote || (*s != ' ' && *s != '\t')); s++) {
        if (quote == 0 && (*s == '\'' || *s == '"')) {
            quote = *s;
            continue;
        }
        if (quote && *s == quote) {
            quote = 0;
            continue;
        }
        if (quote == '"' && *s == '\\' && (s[1] == '"' || s[1] == '\\'))
            s++;
        if (buf_append(word, s, 1) != 0) {
            snprintf(err, errsz, "out of memory");
            return -1;
        }
    }
    if (quote) {
        snprintf(err, errsz, "unbalanced %c quote", quote);
        return -1;
    }
    if (buf_append(word, "", 0) != 0) { /* a quoted empty word: "" */
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    *p = s;
    return 1;
}

char **notify_argv(const char *command, char *err, size_t errsz)
{
    struct buf word = { 0 };
    char **argv = NULL;
    size_t n = 0;
    int rc;

    while ((rc = next_word(&command, &word, err, errsz)) == 1) {
        if (argv_push(&argv, &n, &word) != 0) {
            snprintf(err, errsz, "out of memory");
            rc = -1;
            break;
        }
    }
    buf_free(&word);
    if (rc == 0 && n == 0) {
        snprintf(err, errsz, "no command");
        rc = -1;
    }
    if (rc != 0) {
        notify_argv_free(argv);
        return NULL;
    }
    return argv;
}

/* "NAME=value", the value masked and escaped as a log line's text. */
static char *env_entry(const char *name, const char *value)
{
    char safe[LOG_MSG_MAX], *masked, *entry;
    size_t len = strlen(value), n = url_redact(NULL, 0, value, len);

    if ((masked = malloc(n + 1)) == NULL)
        return NULL;
    url_redact(masked, n + 1, value, len);
    log_escape(safe, sizeof safe, masked, n, 0);
    free(masked);
    if ((entry = malloc(strlen(name) + strlen(safe) + 2)) != NULL)
        sprintf(entry, "%s=%s", name, safe);
    return entry;
}

static int env_add(char **env, size_t *n, const char *name, const char *value)
{
    return (env[(*n)++] = env_entry(name, value ? value : "")) ? 0 : -1;
}

static int env_add_events(char **env, size_t *n, const struct notify_event *ev)
{
    char lat[40] = "", lag[32] = "", lag_s[40] = "";

    if (ev->latency_known)
        snprintf(lat, sizeof lat, "%.3f", ev->latency_s);
    if (ev->lag_known)
        snprintf(lag, sizeof lag, "%lld", (long long)ev->lag);
    if (ev->lag_s_known)
        snprintf(lag_s, sizeof lag_s, "%.3f", ev->lag_s);
    return env_add(env, n, "SPILLWAY_EVENT", ev->event) || env_add(env, n, "SPILLWAY_ID", ev->id) ||
           env_add(env, n, "SPILLWAY_AT", ev->at) || env_add(env, n, "SPILLWAY_MODE", ev->mode) ||
           env_add(env, n, "SPILLWAY_PREVIOUS_MODE", ev->previous_mode) ||
           env_add(env, n, "SPILLWAY_REASON", ev->reason) || env_add(env, n, "SPILLWAY_LATENCY_SECONDS", lat) ||
           env_add(env, n, "SPILLWAY_LAG_MESSAGES", lag) || env_add(env, n, "SPILLWAY_LAG_SECONDS", lag_s);
}

#define NOTIFY_NVARS 9

char **notify_env(const struct notify_event *ev, char *const *base)
{
    size_t nbase = 0, n = 0;
    char **env;

    while (base && base[nbase])
        nbase++;
    if ((env = calloc(nbase + NOTIFY_NVARS + 1, sizeof *env)) == NULL)
        return NULL;
    for (size_t i = 0; i < nbase; i++) {
        if (strncmp(base[i], "SPILLWAY_", 9) == 0)
            continue;
        if ((env[n++] = strdup(base[i])) == NULL)
            goto oom;
    }
    if (env_add_events(env, &n, ev) == 0)
        return env;
oom:
    notify_argv_free(env); /* stops at the first NULL: the failed entry */
    return NULL;
}

/* In the child: stdin from /dev/null, stdout and stderr to the pipe, its
 * own process group; never returns. */
static void notify_child(char *const *argv, char *const *env, int out)
{
    int null = open("/dev/null", O_RDONLY);

    if (setpgid(0, 0) != 0 || null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        _exit(127);
    signal(SIGPIPE, SIG_DFL);
    execvpe(argv[0], argv, env);
    dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
    _exit(127);
}

/* Read what is there into out (up to NOTIFY_OUTPUT_MAX kept); 1 at the
 * end of the pipe. */
static int drain_pipe(int fd, struct buf *out)
{
    char chunk[512];
    ssize_t n;

    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        if (out->len < NOTIFY_OUTPUT_MAX)
            buf_append(out, chunk, (size_t)n < NOTIFY_OUTPUT_MAX - out->len ? (size_t)n : NOTIFY_OUTPUT_MAX - out->len);
    return n == 0;
}

/* Wait for pid, reading its output, until it exits or deadline (monotonic
 * ms) passes. Returns 1 with *status when it exited, 0 at the deadline. */
static int notify_wait(pid_t pid, int fd, int64_t deadline, struct buf *out, int *status)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int eof = 0;

    for (;;) {
        int64_t left = deadline - now_mono_ms();
        pid_t got = waitpid(pid, status, WNOHANG);
        if (got == pid) {
            drain_pipe(fd, out);
            return 1;
        }
        if (left <= 0)
            return 0;
        /* once the pipe has ended (or while a descendant holds it), look
         * at the exit every NOTIFY_POLL_MS */
        if (eof || poll(&p, 1, (int)(left < NOTIFY_POLL_MS ? left : NOTIFY_POLL_MS)) <= 0) {
            if (eof)
                sleep_ms(left < NOTIFY_POLL_MS ? left : NOTIFY_POLL_MS);
            continue;
        }
        eof = drain_pipe(fd, out);
    }
}

static void notify_describe(int exited, int status, int64_t timeout_ms, struct buf *out, char *err,
                            size_t errsz)
{
    char what[64];
    size_t n = out->len;

    if (!exited)
        snprintf(what, sizeof what, "timed out after %lld ms (its process group killed)", (long long)timeout_ms);
    else if (WIFEXITED(status))
        snprintf(what, sizeof what, "exit %d", WEXITSTATUS(status));
    else
        snprintf(what, sizeof what, "killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    while (n > 0 && (out->data[n - 1] == '\n' || out->data[n - 1] == '\r' || out->data[n - 1] == ' '))
        n--;
    /* the output as it came (a NUL as a space): whoever shows it escapes it */
    for (size_t i = 0; i < n; i++)
        if (out->data[i] == '\0')
            out->data[i] = ' ';
    snprintf(err, errsz, "%s%s%.*s%s", what, n ? ": " : "", (int)n, n ? out->data : "",
             out->len >= NOTIFY_OUTPUT_MAX ? "..." : "");
}

int notify_run(char *const *argv, char *const *env, int64_t timeout_ms, char *err, size_t errsz)
{
    int64_t deadline = now_mono_ms() + timeout_ms;
    struct buf out = { 0 };
    int fds[2], status = 0, exited;
    pid_t pid;

    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, errsz, "pipe: %s", strerror(errno));
        return -1;
    }
    if ((pid = fork()) < 0) {
        snprintf(err, errsz, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0)
        notify_child(argv, env, fds[1]);
    close(fds[1]);
    /* as the child does, whichever runs first (it fails once the child has
     * exec'd, which then made its own group) */
    (void)setpgid(pid, pid);
    if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0)
        deadline = 0; /* a pipe that would block the checker: stop it at once */
    if (!(exited = notify_wait(pid, fds[0], deadline, &out, &status))) {
        kill(-pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    close(fds[0]);
    if (exited && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        buf_free(&out);
        return 0;
    }
    notify_describe(exited, status, timeout_ms, &out, err, errsz);
    buf_free(&out);
    return -1;
}

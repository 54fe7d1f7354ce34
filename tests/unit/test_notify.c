/* SPDX-License-Identifier: BSD-2-Clause */
/* test_notify.c -- the [notify] command: words without a shell, the SPILLWAY_* environment escaped, exit codes,
 * output, timeouts that kill the whole process group, and a command that leaves a child behind. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/spillway-notify.XXXXXX";

static const char *path(const char *name)
{
    static char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static char *slurp(const char *p)
{
    static char buf[4096];
    FILE *fp = fopen(p, "r");
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;

    buf[n] = '\0';
    if (fp)
        fclose(fp);
    return buf;
}

/* pid is dead (gone, or a zombie its new parent has not reaped) within ms. */
static int gone_within(int pid, int64_t ms)
{
    int64_t end = now_mono_ms() + ms;
    char p[64], *stat;

    snprintf(p, sizeof p, "/proc/%d/stat", pid);
    do {
        stat = slurp(p);
        if (stat[0] == '\0' || (strrchr(stat, ')') && strrchr(stat, ')')[2] == 'Z'))
            return 1;
        sleep_ms(10);
    } while (now_mono_ms() < end);
    return 0;
}

static void test_argv(void)
{
    static const struct {
        const char *command, *words; /* words joined by '|'; NULL: refused */
    } rows[] = {
        { "/usr/bin/notify", "/usr/bin/notify" },
        { "  a b\tc  ", "a|b|c" },
        { "curl -d 'a b' \"c d\"", "curl|-d|a b|c d" },
        { "say \"a\\\"b\" \"c\\\\d\"", "say|a\"b|c\\d" },
        { "x\"\" '' end", "x||end" },
        { "a'b'c \"$HOME\" `id` ;", "abc|$HOME|`id`|;" },
        { "back\\slash", "back\\slash" },
        { "unbalanced 'quote", NULL },
        { "unbalanced \"quote", NULL },
        { "", NULL },
        { "   ", NULL },
    };
    char err[128];

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char **argv = notify_argv(rows[i].command, err, sizeof err);
        struct buf joined = { 0 };
        for (char **a = argv; a && *a; a++)
            buf_printf(&joined, "%s%s", a == argv ? "" : "|", *a);
        if (rows[i].words)
            ok(argv && strcmp(joined.data, rows[i].words) == 0, "<%s> is %s", rows[i].command, rows[i].words);
        else
            ok(argv == NULL, "<%s> is refused: %s", rows[i].command, err);
        notify_argv_free(argv);
        buf_free(&joined);
    }
}

static const char *env_get(char **env, const char *name)
{
    size_t n = strlen(name);

    for (char **e = env; *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static void test_env(void)
{
    static char e1[] = "PATH=/usr/bin:/bin", e2[] = "SPILLWAY_CONFIG=/etc/x.ini", e3[] = "SPILLWAY_EVENT=forged",
                e4[] = "HOME=/h";
    char *base[] = { e1, e2, e3, e4, NULL };
    struct notify_event ev = { "trip", "00ff", "2026-11-21T10:00:00.000Z", "fallback", "primary",
                               "job \"a\nb\x1b[31m\" at http://u:secret@flink:8081/", 1, 1, 0, 312.456, 0, 4000 };
    char **env = notify_env(&ev, base);
    int spillway_vars = 0;

    ok(env != NULL, "an environment");
    if (env == NULL)
        return;
    for (char **e = env; *e; e++)
        spillway_vars += strncmp(*e, "SPILLWAY_", 9) == 0;
    is_int(spillway_vars, 9, "exactly the nine SPILLWAY_* variables: the inherited ones are dropped");
    is_str(env_get(env, "PATH"), "/usr/bin:/bin", "the rest is inherited");
    is_str(env_get(env, "SPILLWAY_EVENT"), "trip", "SPILLWAY_EVENT");
    is_str(env_get(env, "SPILLWAY_REASON"), "job \"a\\x0ab\\x1b[31m\" at http://u:***@flink:8081/",
           "the reason: one line, control bytes escaped, the URL's password masked");
    is_str(env_get(env, "SPILLWAY_LATENCY_SECONDS"), "312.456", "the latency");
    is_str(env_get(env, "SPILLWAY_LAG_MESSAGES"), "4000", "the lag");
    is_str(env_get(env, "SPILLWAY_LAG_SECONDS"), "", "an unknown time lag is empty");
    is_str(env_get(env, "SPILLWAY_PREVIOUS_MODE"), "primary", "the previous mode");
    notify_argv_free(env);
}

static int run(const char *command, int64_t timeout_ms, char *err, size_t errsz)
{
    char **argv = notify_argv(command, err, errsz);
    static char e1[] = "PATH=/usr/bin:/bin", e2[] = "SPILLWAY_EVENT=resume";
    char *env[] = { e1, e2, NULL };
    int rc = argv ? notify_run(argv, env, timeout_ms, err, errsz) : -2;

    notify_argv_free(argv);
    return rc;
}

static void test_run(void)
{
    char err[2048], cmd[512];
    int64_t t0;

    ok(run("true", 5000, err, sizeof err) == 0, "a command that exits 0 succeeded");
    snprintf(cmd, sizeof cmd, "sh -c 'printf %%s \"$SPILLWAY_EVENT\" > %s'", path("event"));
    ok(run(cmd, 5000, err, sizeof err) == 0 && strcmp(slurp(path("event")), "resume") == 0,
       "it sees its environment");
    ok(run("sh -c 'echo no route to host >&2; exit 3'", 5000, err, sizeof err) == -1, "exit 3 failed");
    is_str(err, "exit 3: no route to host", "saying how, with its output (its last line end dropped)");
    ok(run("sh -c 'kill -9 $$'", 5000, err, sizeof err) == -1 && strcmp(err, "killed by signal 9") == 0,
       "killed by a signal: %s", err);
    ok(run("/nonexistent/notifier --x", 5000, err, sizeof err) == -1 &&
           strcmp(err, "exit 127: cannot run /nonexistent/notifier: No such file or directory") == 0,
       "a command that is not there: %s", err);
    ok(run("sh -c 'head -c 5000 /dev/zero | tr \"\\\\0\" x; exit 1'", 5000, err, sizeof err) == -1 &&
           strlen(err) < 600 && strstr(err, "xxx...") != NULL,
       "a long output is cut (%zu bytes kept)", strlen(err));

    snprintf(cmd, sizeof cmd, "sh -c 'sleep 30 & echo $! > %s; wait'", path("grandchild"));
    t0 = now_mono_ms();
    ok(run(cmd, 300, err, sizeof err) == -1 && strstr(err, "timed out after 300 ms (its process group killed)"),
       "a hung command times out: %s", err);
    ok(now_mono_ms() - t0 < 2000, "at its timeout (%lld ms)", (long long)(now_mono_ms() - t0));
    int pid = atoi(slurp(path("grandchild")));
    ok(pid > 0 && gone_within(pid, 2000), "its own child (pid %d) was killed with it", pid);

    /* a command that leaves a child holding its output: done when it exits */
    snprintf(cmd, sizeof cmd, "sh -c 'sleep 30 & echo $! > %s; exit 0'", path("left"));
    t0 = now_mono_ms();
    ok(run(cmd, 5000, err, sizeof err) == 0 && now_mono_ms() - t0 < 1000,
       "a command whose child holds the pipe is done when it exits (%lld ms)", (long long)(now_mono_ms() - t0));
    pid = atoi(slurp(path("left")));
    if (pid > 0)
        kill(pid, SIGKILL);
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    test_argv();
    test_env();
    test_run();
    remove(path("event"));
    remove(path("grandchild"));
    remove(path("left"));
    rmdir(dir);
    return tap_done();
}

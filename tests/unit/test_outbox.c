/* SPDX-License-Identifier: BSD-2-Clause */
/* test_outbox.c -- notifications on a real state file and real commands, the clock simulated: backoff, order,
 * a notifier that fails 10 times then succeeds (every event delivered once, as recorded), dead events, the time
 * budget, one deliverer at a time, events raised once per streak or episode, the runner's level changes. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "outbox.h"
#include "store.h"
#include "tap.h"
#include "util.h"

#define MIN_MS 60000LL
static const int64_t T0 = 1795255200000LL; /* 2026-11-21T10:00Z */
static char dir[] = "/tmp/spillway-outbox.XXXXXX";

static const char *path(const char *name)
{
    static char p[4][256];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
    return p[i];
}

static long long scalar(struct store *s, const char *sql)
{
    char err[256];
    json_t *rows = store_query_json(s, sql, err, sizeof err), *v;
    const char *key;
    long long n = -1;

    json_object_foreach(json_array_get(rows, 0), key, v) { n = json_integer_value(v); break; }
    json_decref(rows);
    return n;
}

/* A configuration whose notifier is `sh notifier.sh` with extra lines. */
static int load(struct config *cfg, const char *db, const char *extra)
{
    char text[2048], err[512];

    snprintf(text, sizeof text, "[state]\ndatabase = %s\n[notify]\ncommand = sh %s\n%s", path(db),
             path("notifier.sh"), extra);
    if (config_load_string(cfg, text, "test.ini", err, sizeof err) != 0) {
        printf("# %s\n", err);
        return -1;
    }
    return 0;
}

static void write_file(const char *p, const char *text)
{
    FILE *fp = fopen(p, "w");
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
}

static void test_backoff(void)
{
    static const int64_t want[] = { 1, 2, 4, 8, 16, 32, 60, 60, 60 }; /* minutes, retry_seconds 60 */

    for (int64_t a = 1; a <= 9; a++)
        is_int(outbox_next_attempt(T0, a, MIN_MS) - T0, want[a - 1] * MIN_MS, "after failed attempt %lld: %lld min",
               (long long)a, (long long)want[a - 1]);
    is_int(outbox_next_attempt(T0, 5, 2 * 3600000) - T0, 2 * 3600000, "a retry_seconds over an hour is kept");
}

static int add(struct store *s, const char *event, int64_t at, const char *reason)
{
    struct observation o = { .latency_known = 1, .latency_s = 312.5, .lag_probed = 1, .lag_known = 1, .lag = 4000,
                             .time_lag_known = 1, .time_lag_s = 330.25 };
    struct outbox_event e = { event, at, MODE_FALLBACK, MODE_PRIMARY, reason, &o, NULL };
    char err[256];

    return store_outbox_add(s, &e, err, sizeof err);
}

/* Fails its first 10 runs; then appends what it was given to delivered.log. */
static const char flaky[] =
    "n=$(cat \"$0.count\" 2>/dev/null || echo 0); echo $((n + 1)) > \"$0.count\"\n"
    "[ \"$n\" -ge 10 ] || { echo \"webhook answered 503 ($n)\" >&2; exit 1; }\n"
    "printf '%s|%s|%s|%s|%s|%s|%s|%s|%s\\n' \"$SPILLWAY_ID\" \"$SPILLWAY_EVENT\" \"$SPILLWAY_AT\" \"$SPILLWAY_MODE\""
    " \"$SPILLWAY_PREVIOUS_MODE\" \"$SPILLWAY_REASON\" \"$SPILLWAY_LATENCY_SECONDS\" \"$SPILLWAY_LAG_MESSAGES\""
    " \"$SPILLWAY_LAG_SECONDS\" >> \"$0.delivered\"\n";

static void test_fails_ten_times(void)
{
    struct config cfg;
    struct store *s;
    struct outbox_report rep;
    char err[512];
    int64_t now = T0, checks = 0;

    write_file(path("notifier.sh"), flaky);
    if (load(&cfg, "flaky.db", "") != 0 || (s = store_open(cfg.state_database, err, sizeof err)) == NULL) {
        ok(0, "set up: %s", err);
        return;
    }
    add(s, "trip", T0, "latency 312.50s > 300s (3/3)");
    add(s, "resume", T0 + 20 * MIN_MS, "healthy, latency 20.00s < 150s (1/1)");
    add(s, "force", T0 + 30 * MIN_MS, "force fallback by ops: \"maintenance\"");
    /* a check a minute, until nothing is pending or a day has passed */
    while (scalar(s, "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL") > 0 &&
           now < T0 + 86400000) {
        outbox_deliver(&cfg, s, now, &rep, err, sizeof err);
        checks++;
        now += MIN_MS;
    }
    is_int(scalar(s, "SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL"), 3,
           "a notifier that fails 10 times then succeeds: all three events delivered");
    is_int(scalar(s, "SELECT attempts FROM outbox WHERE event = 'trip'"), 11, "the first after 11 attempts");
    is_int(scalar(s, "SELECT attempts FROM outbox WHERE event = 'force'"), 1,
           "the younger ones never before it, then at once");
    is_int(scalar(s, "SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL"), 0, "none dead (max_attempts 20)");
    /* 1+2+4+8+16+32 minutes, then 60 four times: the 11th attempt 303 minutes after the first */
    is_int(checks, 304, "delivered at the 304th check, backoff doubling to an hour");

    /* each delivered exactly once, as recorded */
    json_t *rows = store_query_json(s, "SELECT uid || '|' || event || '|' || at || '|fallback|primary|' || reason ||"
                                       " '|312.500|4000|330.250' AS line FROM outbox ORDER BY id", err, sizeof err);
    struct buf want = { 0 };
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
        buf_printf(&want, "%s\n", json_string_value(json_object_get(row, "line")));
    FILE *fp = fopen(path("notifier.sh.delivered"), "r");
    char got[4096] = "";
    size_t n = fp ? fread(got, 1, sizeof got - 1, fp) : 0;
    got[n] = '\0';
    if (fp)
        fclose(fp);
    is_str(got, want.data, "each delivered once, in order, its variables as the outbox recorded them");
    buf_free(&want);
    json_decref(rows);
    store_close(s);
    config_free(&cfg);
}

static void test_dead_and_budget(void)
{
    struct config cfg;
    struct store *s;
    struct outbox_report rep;
    char err[512];

    write_file(path("notifier.sh"), "[ \"$SPILLWAY_EVENT\" = trip ] && exit 1\nexit 0\n");
    if (load(&cfg, "dead.db", "max_attempts = 2\n") != 0 || (s = store_open(cfg.state_database, err, sizeof err)) == NULL) {
        ok(0, "set up: %s", err);
        return;
    }
    add(s, "trip", T0, "a");
    add(s, "resume", T0, "b");
    outbox_deliver(&cfg, s, T0, &rep, err, sizeof err);
    ok(rep.retried == 1 && rep.delivered == 0, "a failed attempt stops the delivery: the resume waits");
    outbox_deliver(&cfg, s, T0 + MIN_MS, &rep, err, sizeof err);
    ok(rep.dead == 1 && rep.delivered == 1, "at max_attempts it is dead, and the next goes on");
    json_t *rows = store_query_json(s, "SELECT last_error FROM outbox WHERE event = 'trip'", err, sizeof err);
    is_str(json_string_value(json_object_get(json_array_get(rows, 0), "last_error")), "exit 1",
           "the dead event keeps its last error");
    json_decref(rows);
    store_close(s);
    config_free(&cfg);

    write_file(path("notifier.sh"), "sleep 30\n");
    if (load(&cfg, "slow.db", "timeout_seconds = 1\n") != 0 || (s = store_open(cfg.state_database, err, sizeof err)) == NULL)
        return;
    add(s, "trip", T0, "a");
    add(s, "resume", T0, "b");
    int64_t t0 = now_mono_ms();
    outbox_deliver(&cfg, s, T0, &rep, err, sizeof err);
    ok(rep.retried == 1 && now_mono_ms() - t0 < 3000, "a hung notifier costs its timeout, once (%lld ms)",
       (long long)(now_mono_ms() - t0));

    /* another checker delivering: this one leaves it */
    char lock[300];
    snprintf(lock, sizeof lock, "%s.notify.lock", cfg.state_database);
    int fd = open(lock, O_RDWR | O_CREAT, 0600);
    flock(fd, LOCK_EX);
    outbox_deliver(&cfg, s, T0 + 10 * MIN_MS, &rep, err, sizeof err);
    ok(rep.busy && rep.retried == 0, "while another checker delivers, nothing is tried");
    close(fd);
    store_close(s);
    config_free(&cfg);
}

static void test_raise(void)
{
    struct config cfg;
    struct store *s;
    char err[512];
    struct check_state prev = { .mode = MODE_PRIMARY };
    struct observation o = { .latency_known = 1, .latency_s = 10 };
    struct decision d = { .next = { .mode = MODE_FALLBACK, .since_ms = T0 }, .changed_mode = 1 };

    if (load(&cfg, "raise.db", "") != 0 || (s = store_open(cfg.state_database, err, sizeof err)) == NULL)
        return;
    snprintf(d.reason, sizeof d.reason, "latency 400.00s > 300s (3/3)");
    ok(outbox_raise_check(&cfg, s, &prev, &o, &d, T0, err, sizeof err) == 0, "a trip is raised");
    d.changed_mode = 0;
    prev.mode = MODE_FALLBACK;
    outbox_raise_check(&cfg, s, &prev, &o, &d, T0 + 59 * MIN_MS, err, sizeof err);
    is_int(scalar(s, "SELECT count(*) FROM outbox WHERE event = 'episode_long'"), 0, "59 minutes is not long");
    outbox_raise_check(&cfg, s, &prev, &o, &d, T0 + 60 * MIN_MS, err, sizeof err);
    outbox_raise_check(&cfg, s, &prev, &o, &d, T0 + 61 * MIN_MS, err, sizeof err);
    is_int(scalar(s, "SELECT count(*) FROM outbox WHERE event = 'episode_long'"), 1, "an hour is: once an episode");

    for (int i = 0; i < 4; i++) {
        int64_t id;
        struct run_summary sum = { .ended_ms = T0, .outcome = i == 0 ? RUN_OK : RUN_FAILED, .join_s = -1,
                                   .backlog = -1 };
        store_run_begin(s, T0, 1, 1, &id, err, sizeof err);
        store_run_end(s, id, &sum, err, sizeof err);
        outbox_raise_check(&cfg, s, &prev, &o, &d, T0 + 62 * MIN_MS, err, sizeof err);
    }
    is_int(scalar(s, "SELECT count(*) FROM outbox WHERE event = 'runs_failing'"), 1,
           "three failed runs in a row: runs_failing, once for the streak");
    is_int(scalar(s, "SELECT count(*) FROM outbox WHERE event = 'trip' AND mode = 'fallback'"
                     " AND previous_mode = 'primary' AND reason = 'latency 400.00s > 300s (3/3)'"
                     " AND latency_s = 10 AND length(uid) = 32"),
           1, "the trip as decided, with a 32-digit id");
    config_free(&cfg);
    load(&cfg, "raise.db", "");
    free(cfg.notify_command);
    cfg.notify_command = strdup("");
    d.changed_mode = 1;
    outbox_raise_check(&cfg, s, &prev, &o, &d, T0 + 70 * MIN_MS, err, sizeof err);
    is_int(scalar(s, "SELECT count(*) FROM outbox WHERE event = 'trip'"), 1, "no [notify] command: nothing raised");
    store_close(s);
    config_free(&cfg);
}

/* The runner's level changes: an event each, in the transaction that
 * records the change, with the checker's mode; a rolled-back change raises
 * nothing. */
static void test_raise_level(void)
{
    struct config cfg;
    struct store *s;
    char err[512];

    if (load(&cfg, "level.db", "") != 0 || (s = store_open(cfg.state_database, err, sizeof err)) == NULL)
        return;
    ok(store_begin(s, err, sizeof err) == 0 && store_level_set(s, T0, "preserve", "down 900 s", err, sizeof err) == 0 &&
           outbox_raise_level(&cfg, s, 1, "down 900 s", T0, err, sizeof err) == 0 && store_commit(s, err, sizeof err) == 0,
       "entering the preserve level raises an event");
    ok(store_begin(s, err, sizeof err) == 0 && store_level_set(s, T0 + MIN_MS, "normal", "back", err, sizeof err) == 0 &&
           outbox_raise_level(&cfg, s, 0, "back", T0 + MIN_MS, err, sizeof err) == 0,
       "leaving it too");
    store_rollback(s);
    is_int(scalar(s, "SELECT count(*) FROM outbox WHERE event = 'preserve_end'"), 0,
           "a change rolled back raised nothing");
    is_int(scalar(s, "SELECT count(*) FROM state WHERE level = 'preserve'"), 1, "nor changed the level");
    store_begin(s, err, sizeof err);
    store_level_set(s, T0 + MIN_MS, "normal", "back", err, sizeof err);
    outbox_raise_level(&cfg, s, 0, "back", T0 + MIN_MS, err, sizeof err);
    store_commit(s, err, sizeof err);
    is_int(scalar(s, "SELECT count(*) FROM outbox WHERE event = 'preserve' AND reason = 'down 900 s'"
                     " AND mode = 'primary' AND previous_mode = 'primary'"),
           1, "preserve: the level's reason, the checker's mode");
    is_int(scalar(s, "SELECT count(*) FROM outbox WHERE event = 'preserve_end' AND id > (SELECT id FROM outbox"
                     " WHERE event = 'preserve')"),
           1, "then preserve_end, in order");
    store_close(s);
    config_free(&cfg);
}

int main(void)
{
    log_init(LOG_ERR);
    if (mkdtemp(dir) == NULL)
        return 1;
    test_backoff();
    test_fails_ten_times();
    test_dead_and_budget();
    test_raise();
    test_raise_level();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("# cannot remove %s\n", dir);
    return tap_done();
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* test_trace.c -- replay's CSV traces: times, empty fields, Flink states, and every error named. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "trace.h"

static int count_line(const struct trace_step *st, void *arg)
{
    (void)st;
    ++*(int *)arg;
    return 0;
}

int main(void)
{
    static const struct {
        const char *text;
        int64_t ms; /* -1: refused */
    } times[] = {
        { "2026-11-21T10:00:00Z", 1795255200000LL },
        { "2026-11-21T10:00:00.250Z", 1795255200250LL },
        { "2026-11-21 10:00:00.5", 1795255200500LL },
        { "2026-11-21T10:00:00", 1795255200000LL },
        { "1795255200", 1795255200000LL },
        { "1795255200.125", 1795255200125LL },
        { "2026-11-21T10:00Z", -1 },
        { "2026-13-21T10:00:00Z", -1 },
        { "2026-11-21T10:00:00+01:00", -1 },
        { "yesterday", -1 },
        { "-5", -1 },
        { "1e9", -1 },
        { "", -1 },
    };
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        int64_t ms = -1;
        int rc = trace_parse_time(times[i].text, &ms);
        ok(times[i].ms < 0 ? rc != 0 : rc == 0 && ms == times[i].ms, "time \"%s\": %s", times[i].text,
           times[i].ms < 0 ? "refused" : "read");
    }

    struct trace_step st;
    char err[256];
    ok(trace_parse_csv_line("2026-11-21T10:00:00Z,312.5,4000,330.25,RUNNING", &st, err, sizeof err) == 0 &&
           st.obs.latency_known && st.obs.latency_s == 312.5 && st.obs.lag_probed && st.obs.lag == 4000 &&
           st.obs.time_lag_known && st.obs.time_lag_s == 330.25 && st.obs.health_probed && st.obs.healthy,
       "a full line");
    ok(trace_parse_csv_line("1795255200,,,,", &st, err, sizeof err) == 0 && !st.obs.latency_known &&
           !st.obs.lag_probed && !st.obs.time_lag_known && !st.obs.health_probed,
       "empty fields: latency failed, lag and health not probed");
    ok(trace_parse_csv_line("1795255200,20,0,,RUNNING", &st, err, sizeof err) == 0 && st.obs.time_lag_known &&
           st.obs.time_lag_s == 0,
       "caught up (lag 0): a time lag of 0 though none was read");
    ok(trace_parse_csv_line("1795255200,20,10,,RUNNING", &st, err, sizeof err) == 0 && !st.obs.time_lag_known,
       "behind with no message time: time lag unknown");
    ok(trace_parse_csv_line("1795255200,20,10,5,RESTARTING", &st, err, sizeof err) == 0 && st.obs.health_known &&
           !st.obs.healthy && strcmp(st.obs.why_unhealthy, "job is RESTARTING") == 0,
       "RESTARTING is unhealthy, and says so");
    ok(trace_parse_csv_line("1795255200,20,10,5,none", &st, err, sizeof err) == 0 && !st.obs.healthy &&
           strcmp(st.obs.why_unhealthy, "no job") == 0,
       "none: no job");
    ok(trace_parse_csv_line("1795255200,20,10,5,unknown", &st, err, sizeof err) == 0 && st.obs.health_probed &&
           !st.obs.health_known,
       "unknown: the health probe failed");

    static const struct {
        const char *line, *err;
    } bad[] = {
        { "1795255200,20,10,5", "expected 5 comma-separated fields (time,latency_seconds,lag_messages,lag_seconds,flink)" },
        { "1795255200,20,10,5,RUNNING,x", "expected 5 comma-separated fields (time,latency_seconds,lag_messages,lag_seconds,flink)" },
        { "soon,20,10,5,RUNNING", "time: neither ISO 8601 UTC nor epoch seconds: \"soon\"" },
        { "1795255200,fast,10,5,RUNNING", "latency_seconds: not a number >= 0: \"fast\"" },
        { "1795255200,-1,10,5,RUNNING", "latency_seconds: not a number >= 0: \"-1\"" },
        { "1795255200,20,1.5,5,RUNNING", "lag_messages: not a whole number >= 0: \"1.5\"" },
        { "1795255200,20,1e30,5,RUNNING", "lag_messages: not a whole number >= 0: \"1e30\"" },
        { "1795255200,20,10,nan,RUNNING", "lag_seconds: not a number >= 0: \"nan\"" },
        { "1795255200,20,10,5,running", "flink: not RUNNING, RESTARTING, FAILED, CANCELED, none, unknown or empty: \"running\"" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ok(trace_parse_csv_line(bad[i].line, &st, err, sizeof err) != 0, "refused: %s", bad[i].line);
        is_str(err, bad[i].err, "  with the words");
    }

    char path[] = "/tmp/spillway-trace.XXXXXX";
    int fd = mkstemp(path);
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (fp) {
        fputs("time,latency_seconds,lag_messages,lag_seconds\n1795255200,20,0,0\n", fp);
        fclose(fp);
    }
    ok(trace_is_sqlite(path, err, sizeof err) == 0, "a CSV is not a database");
    ok(trace_read_csv(path, NULL, NULL, err, sizeof err) != 0 && strstr(err, ":1: expected the header time,"),
       "a wrong header is refused on line 1: %s", err);
    fp = fopen(path, "w");
    if (fp) {
        fputs(TRACE_CSV_HEADER "\n1795255200,20,0,0,RUNNING\n\n1795255320,x,0,0,RUNNING\n", fp);
        fclose(fp);
    }
    int lines = 0;
    ok(trace_read_csv(path, count_line, &lines, err, sizeof err) != 0 && lines == 1 &&
           strstr(err, ":4: latency_seconds: not a number") != NULL,
       "a bad line after a good one stops the reading, naming it: %s", err);
    remove(path);
    ok(trace_is_sqlite("/nonexistent/trace", err, sizeof err) < 0, "a missing file: %s", err);
    return tap_done();
}

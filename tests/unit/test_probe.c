/* SPDX-License-Identifier: BSD-2-Clause */
/* test_probe.c -- Flink's job list judged: a job in a restart loop is
 * unhealthy even though /overview counts it as running; a point's age
 * across clock jumps; the retention risk of each partition. */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "lagprobe.h"
#include "probe.h"
#include "tap.h"

static int judge(const char *json, char *why)
{
    return probe_flink_jobs(json, strlen(json), why, 256);
}

/* A point from the future: fresh within the tolerance, unknown past it (a
 * clock jumped back: a stalled primary must not read as fresh). */
static void test_age(void)
{
    const int64_t now = 1795255200000LL;
    double age = -1;

    is_int(probe_age(now, now - 400000, &age), 0, "a point 400 s old");
    ok(age == 400.0, "is 400 s old");
    is_int(probe_age(now, now + 5000, &age), 0, "5 s ahead (a sensor's clock)");
    ok(age == 0.0, "is as fresh as can be");
    is_int(probe_age(now, now + (int64_t)PROBE_FUTURE_TOLERANCE_S * 1000, &age), 0, "at the tolerance: fresh");
    is_int(probe_age(now, now + (int64_t)PROBE_FUTURE_TOLERANCE_S * 1000 + 1000, &age), -1,
           "past it: a clock is wrong, no age");
    ok(age == -(double)PROBE_FUTURE_TOLERANCE_S - 1, "the distance said");
    is_int(probe_age(now, INT64_MIN, &age), 0, "a hostile time does not overflow");
    is_int(probe_age(now, INT64_MAX, &age), -1, "nor one far ahead");
}

/* The retention: the broker's, else the configured one, else unknown; the
 * share of it each partition's oldest unprocessed message used. */
static void test_retention(void)
{
    struct topic_retention r = lagprobe_retention(1, 604800000, 0);
    struct partition_lag p[2] = { { 0, 30, 1, 400, 1, 302400 }, { 1, 0, 1, 0, 0, 0 } };

    ok(r.known && r.seconds == 604800 && strcmp(r.from, "broker") == 0, "the broker's retention.ms, in seconds");
    ok(lagprobe_retention_used(&p[0], &r) == 0.5, "half a week old: half the retention used");
    is_int((int)lagprobe_retention_used(&p[1], &r), -1, "an unknown age: no share");
    r = lagprobe_retention(1, -1, 3600);
    ok(r.known && r.seconds < 0, "retention.ms -1: kept for ever, whatever is configured");
    is_int((int)lagprobe_retention_used(&p[0], &r), -1, "no risk, no share");
    r = lagprobe_retention(0, 0, 3600);
    ok(r.known && r.seconds == 3600 && strcmp(r.from, "topic_retention_seconds") == 0,
       "the broker silent: topic_retention_seconds");
    ok(lagprobe_retention_used(&p[0], &r) == 84.0, "past the cliff: 84 times the retention");
    r = lagprobe_retention(0, 0, 0);
    ok(!r.known, "neither: unknown");
    char *json = lagprobe_json(p, 2, &r);
    is_str(json ? json : "",
           "[{\"partition\":0,\"lag\":30,\"time_lag_s\":400.0,\"unprocessed_age_s\":302400.0,\"retention_s\":null,"
           "\"retention_used\":null},{\"partition\":1,\"lag\":0,\"time_lag_s\":0.0,\"unprocessed_age_s\":null,"
           "\"retention_s\":null,\"retention_used\":null}]",
           "recorded per partition, null for unknown");
    free(json);
}

int main(void)
{
    test_age();
    test_retention();
    char why[256];

    is_int(judge("{\"jobs\":[{\"name\":\"stress\",\"state\":\"RUNNING\"}]}", why), 1, "one RUNNING job: healthy");
    is_int(judge("{\"jobs\":[{\"name\":\"stress\",\"state\":\"RESTARTING\"}]}", why), 0, "RESTARTING: unhealthy");
    is_str(why, "job stress is RESTARTING", "naming the job and its state");
    is_int(judge("{\"jobs\":[{\"name\":\"a\",\"state\":\"RUNNING\"},{\"name\":\"b\",\"state\":\"FAILING\"}]}", why), 0,
           "one RUNNING and one FAILING: unhealthy");
    is_int(judge("{\"jobs\":[{\"name\":\"old\",\"state\":\"FAILED\"},{\"name\":\"new\",\"state\":\"RUNNING\"}]}", why),
           1, "an old FAILED job in the history beside a RUNNING one: healthy");
    is_int(judge("{\"jobs\":[{\"name\":\"old\",\"state\":\"CANCELED\"}]}", why), 0, "nothing RUNNING: unhealthy");
    is_str(why, "no job is RUNNING", "saying so");
    is_int(judge("{\"jobs\":[]}", why), 0, "no job at all: unhealthy");
    is_int(judge("<html>", why), 0, "not JSON: unhealthy");
    is_str(why, "/jobs/overview has no job list", "saying what was missing");

    static const struct { const char *base, *want; } urls[] = {
        { "http://influxdb:8086", "http://influxdb:8086/write" },
        { "http://influxdb:8086/", "http://influxdb:8086/write" },
        { "http://influxdb:8086//", "http://influxdb:8086/write" },
        { "https://h/prefix/", "https://h/prefix/write" },
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        struct buf b = { 0 };
        http_url(&b, urls[i].base, "/write");
        is_str(b.data, urls[i].want, "base URL %s joins without a double slash", urls[i].base);
        buf_free(&b);
    }
    return tap_done();
}

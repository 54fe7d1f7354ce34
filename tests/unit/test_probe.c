/* test_probe.c -- Flink's job list judged: a job in a restart loop is
 * unhealthy even though /overview counts it as running. */
#include "http.h"
#include "probe.h"
#include "tap.h"

static int judge(const char *json, char *why)
{
    return probe_flink_jobs(json, strlen(json), why, 256);
}

int main(void)
{
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

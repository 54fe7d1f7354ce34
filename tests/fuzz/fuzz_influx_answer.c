/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_influx_answer.c -- InfluxDB's /query answer, as the checker's latency
 * probe reads it.
 *
 * The parse itself is influx_parse_last_time() (src/influx.h), but the
 * target takes the whole path a check takes: the input is served by a
 * loopback HTTP server (loopback.c) as a 200 answer, and probe_latency()
 * (src/probe.h) is called with a config pointing at it -- the query, the
 * parse, and the latency computed from the time parsed. The pure parser is
 * also called on the same bytes and must agree. Checked, beyond the sanitizers (UBSan catches arithmetic
 * overflow): a failure comes with a reason; without a point the latency is
 * the lookback; with one, it is the age (now - time) / 1000 of the time
 * the answer holds (read here independently), to a millisecond, finite, and
 * 0 for a point from the near future; a point more than
 * PROBE_FUTURE_TOLERANCE_S ahead fails the probe with a reason. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "influx.h"
#include "loopback.h"
#include "probe.h"

static struct config cfg;
static const int64_t now_ms = INT64_C(1763719881123); /* 2025-11-21T10:11:21.123Z */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char ini[256], err[512];
    const char *base;

    (void)argc, (void)argv;
    base = loopback_start();
    if (base == NULL)
        fuzz_fail("cannot start the loopback server");
    snprintf(ini, sizeof ini, "[influxdb]\nurl = %s\n[check]\nlookback_seconds = 600\n", base);
    if (config_load_string(&cfg, ini, "fuzz.ini", err, sizeof err) != 0)
        fuzz_fail("config: %s", err);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    double latency = -1;
    int found = -1;
    char err[512] = "";

    int64_t parsed_ms = 0;
    int parsed_found = -1;
    char perr[512] = "";
    int prc = influx_parse_last_time((const char *)data, size, &parsed_ms, &parsed_found, perr, sizeof perr);

    loopback_answer(200, data, size);
    unsigned long before = loopback_requests();
    int rc = probe_latency(&cfg, now_ms, &latency, &found, err, sizeof err);
    fuzz_check(loopback_requests() > before, "the loopback server was not asked: %s", err);
    /* a point further ahead of this host's clock than the tolerance is no
     * proof of freshness: the probe fails with a reason (audit #12) */
    int ahead = prc == 0 && parsed_found == 1 &&
                ((double)now_ms - (double)parsed_ms) / 1000.0 < -(double)PROBE_FUTURE_TOLERANCE_S;
    if (ahead) {
        fuzz_check(rc != 0 && strstr(err, "ahead of this host's clock") != NULL,
                   "a point %.0f s ahead of the clock, yet the probe says rc %d: %s",
                   ((double)parsed_ms - (double)now_ms) / 1000.0, rc, err);
        return 0;
    }
    fuzz_check((rc != 0) == (prc != 0) && (rc != 0 || parsed_found == found),
               "the probe (rc %d, found %d) and the pure parser (rc %d, found %d) disagree", rc, found, prc, parsed_found);
    if (rc != 0) {
        fuzz_check(err[0] != '\0', "probe_latency() failed without a reason");
        return 0;
    }
    fuzz_check(found == 0 || found == 1, "found = %d", found);
    if (!found) {
        fuzz_check(latency == 600.0, "no point, yet the latency is %g s, not the lookback", latency);
        return 0;
    }
    /* the time the answer holds, read independently */
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data, size, 0, &jerr);
    json_t *t = json_array_get(
        json_array_get(json_object_get(json_array_get(json_object_get(json_array_get(json_object_get(root, "results"),
                                                                                      0),
                                                                       "series"),
                                                      0),
                                       "values"),
                       0),
        0);
    fuzz_check(json_is_integer(t), "a point found, but no integer time at results[0].series[0].values[0][0]");
    /* the exact age; probe.c works in doubles (no overflow on a hostile
     * time, a few ms of rounding far from now) and takes a point from the
     * future as fresh (0) */
    long double want = (long double)((__int128)now_ms - json_integer_value(t)) / 1000.0L;
    json_decref(root);
    if (want < 0) /* within the tolerance: fresh */
        want = 0;
    fuzz_check(isfinite(latency) && latency >= 0 && fabsl((long double)latency - want) <= 1e-3L + want * 1e-12L,
               "latency %.17g s, want %.17Lg s", latency, want);
    return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_trace.c -- replay's CSV trace lines (src/trace.h), and the decision fed with what they hold.
 *
 * Input: one line of a trace file, as `spillway replay` reads it from an
 * operator's file. Checked:
 *   - trace_parse_csv_line() accepts or refuses without a crash, its error
 *     a NUL-terminated text when it refuses;
 *   - what it accepts is an observation decide() can take: numbers finite
 *     and >= 0, a lag of 0 with a time lag of 0, a reason for an unhealthy
 *     primary; decide() gives it a verdict and a NUL-terminated reason;
 *   - a time it accepts, written back by fmt_iso_ms(), reads back the same
 *     (within InfluxDB-era dates). */
#include <math.h>
#include <string.h>

#include "decide.h"
#include "fuzz.h"
#include "trace.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

static void check_observation(const struct trace_step *st)
{
    const struct observation *o = &st->obs;

    fuzz_check(!o->latency_known || (isfinite(o->latency_s) && o->latency_s >= 0), "latency %g", o->latency_s);
    fuzz_check(!o->lag_known || o->lag >= 0, "lag %lld", (long long)o->lag);
    fuzz_check(!o->time_lag_known || (isfinite(o->time_lag_s) && o->time_lag_s >= 0), "time lag %g", o->time_lag_s);
    fuzz_check(!(o->lag_known && o->lag == 0) || o->time_lag_known, "caught up without a time lag of 0");
    fuzz_check(!o->health_known || o->healthy || o->why_unhealthy == st->why, "unhealthy without a reason");
}

static void check_decision(const struct trace_step *st)
{
    static const int64_t changes[] = { 0 };
    struct check_state s = { .mode = st->at_ms % 2 ? MODE_FALLBACK : MODE_PRIMARY, .violations = 2 };
    struct recent_check recent[3] = { { st->at_ms - 120000, 1, 5 }, { st->at_ms - 60000, 0, 0 } };
    struct history h = { st->at_ms, recent, 2, changes, 1, 0, 0 };
    struct thresholds t = { .latency_threshold_s = 300, .resume_threshold_s = 150, .consecutive_violations = 3,
                            .consecutive_recoveries = 1, .min_fallback_ms = 600000, .resume_hold_ms = 90000,
                            .flap_changes = 6, .flap_window_ms = 3600000, .flap_pin = 1, .predict = PREDICT_ON,
                            .predict_checks = 10, .predict_horizon_s = 300 };
    struct decision d;

    decide(&s, &st->obs, &h, &t, &d);
    fuzz_check(memchr(d.reason, '\0', sizeof d.reason) != NULL, "reason not terminated");
    fuzz_check(d.verdict <= VERDICT_IDLE, "verdict %d", (int)d.verdict);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char line[512], err[256], again[32];
    struct trace_step st;
    int64_t ms, back;

    if (size >= sizeof line || memchr(data, '\0', size))
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    err[0] = '\0';
    if (trace_parse_csv_line(line, &st, err, sizeof err) != 0) {
        fuzz_check(err[0] != '\0' && memchr(err, '\0', sizeof err), "refused without a reason");
        return 0;
    }
    check_observation(&st);
    check_decision(&st);
    *strchr(line, ',') = '\0'; /* the time field */
    if (trace_parse_time(line, &ms) == 0 && ms >= 0 && ms < 253402300800000LL) { /* before year 10000 */
        fmt_iso_ms(again, sizeof again, ms);
        fuzz_check(trace_parse_time(again, &back) == 0 && back == ms, "%s read back as %lld, not %lld", again,
                   (long long)back, (long long)ms);
    }
    return 0;
}

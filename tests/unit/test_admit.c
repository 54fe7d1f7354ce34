/* SPDX-License-Identifier: BSD-2-Clause */
/* test_admit.c -- the admission of a consumed message: one row per kind of bad input, and the reason each gives. */
#include <math.h>
#include <string.h>

#include "admit.h"
#include "mark.h"
#include "tap.h"

#define NOW_MS 1795082400000LL /* 2026-11-19 10:00 UTC */

static struct decoded good(void)
{
    struct decoded d = { .id = "nurse-7", .id_len = 7, .has_id = 1, .time = "2026-11-19 10:00:01.500", .has_time = 1 };
    d.time_len = strlen(d.time);
    for (int i = 0; i < 6; i++) {
        d.values[i] = 1.5 * i;
        d.present[i] = 1;
    }
    return d;
}

int main(void)
{
    struct config cfg;
    char err[512], why[512];
    int64_t t, w;

    if (config_load_string(&cfg, "", "t.ini", err, sizeof err) != 0) {
        printf("Bail out! %s\n", err);
        return 1;
    }
    struct decoded d = good();
    struct admit_input in = { .len = 40, .d = &d, .now_ms = NOW_MS, .horizon_ms = MARK_NO_TIME };
    ok(admit_message(&cfg, &in, &t, &w, why, sizeof why), "a good message is admitted");
    is_int(t, 1795082401500LL, "its event time");
    is_int(w, 1795082400000LL, "its 30 s window");

    in.len = 0;
    ok(!admit_message(&cfg, &in, &t, &w, why, sizeof why) && strcmp(why, "empty message (no value)") == 0,
       "no value: %s", why);
    in.len = 40;
    in.decode_error = "truncated at byte 12 (field \"HR\")";
    ok(!admit_message(&cfg, &in, &t, &w, why, sizeof why) && strcmp(why, in.decode_error) == 0,
       "not the schema's Avro: the decoder's reason");
    in.decode_error = NULL;
    d.has_id = 0;
    ok(!admit_message(&cfg, &in, &t, &w, why, sizeof why) && strcmp(why, "field \"id\" (the id) is null") == 0,
       "a null id: %s", why);
    d = good();
    d.id = "a\nnurse_stress,id=X count=1i";
    d.id_len = strlen(d.id);
    ok(!admit_message(&cfg, &in, &t, &w, why, sizeof why) && strstr(why, "line break"), "an id with a newline");
    d = good();
    d.id = "";
    d.id_len = 0;
    ok(!admit_message(&cfg, &in, &t, &w, why, sizeof why) && strncmp(why, "id \"\"", 5) == 0, "an empty id: %s", why);
    d = good();
    d.has_time = 0;
    ok(!admit_message(&cfg, &in, &t, &w, why, sizeof why) &&
           strcmp(why, "field \"datetime\" (the event time) is null") == 0,
       "a null time: %s", why);
    d = good();
    d.time = "21/11/2026 10:00";
    d.time_len = strlen(d.time);
    ok(!admit_message(&cfg, &in, &t, &w, why, sizeof why) &&
           strcmp(why, "field \"datetime\" is \"21/11/2026 10:00\", not \"YYYY-MM-DD HH:MM:SS.fff\"") == 0,
       "a time in another format: %s", why);
    d = good();
    d.values[4] = NAN;
    ok(!admit_message(&cfg, &in, &t, &w, why, sizeof why) && strcmp(why, "field \"HR\" is NaN") == 0, "NaN: %s", why);
    d = good();
    d.values[0] = -INFINITY;
    ok(!admit_message(&cfg, &in, &t, &w, why, sizeof why) && strcmp(why, "field \"X\" is infinite") == 0,
       "infinity: %s", why);
    d = good();
    d.values[4] = NAN;
    d.present[4] = 0;
    ok(admit_message(&cfg, &in, &t, &w, why, sizeof why), "a null field is no reason (left out of its mean)");
    d = good();
    d.time = "1600-01-01 00:00:00.000";
    d.time_len = strlen(d.time);
    ok(!admit_message(&cfg, &in, &t, &w, why, sizeof why) && strstr(why, "outside what InfluxDB stores"),
       "before 1677: %s", why);
    /* audit #11: a device clock far ahead would pin hw */
    d = good();
    d.time = "2261-01-01 00:00:00.000";
    d.time_len = strlen(d.time);
    ok(!admit_message(&cfg, &in, &t, &w, why, sizeof why) && strstr(why, "more than a day after the runner's clock"),
       "a time in 2261: %s", why);
    d = good();
    d.time = "2026-11-20 09:00:00.000"; /* 23 h after NOW_MS */
    d.time_len = strlen(d.time);
    ok(admit_message(&cfg, &in, &t, &w, why, sizeof why), "23 hours ahead: a drifting clock, admitted");
    d.time = "2026-11-20 11:00:00.000"; /* 25 h */
    d.time_len = strlen(d.time);
    ok(!admit_message(&cfg, &in, &t, &w, why, sizeof why), "25 hours ahead: refused");
    d = good();
    in.horizon_ms = 1795082400000LL;
    ok(!admit_message(&cfg, &in, &t, &w, why, sizeof why) && strstr(why, "batch numbers last wrapped around"),
       "a window at the collision horizon: %s", why);
    in.horizon_ms = 1795082400000LL - 1;
    ok(admit_message(&cfg, &in, &t, &w, why, sizeof why), "one after it: admitted");

    d = good();
    char longid[300];
    memset(longid, 'A', sizeof longid);
    longid[5] = '\n';
    d.id = longid;
    d.id_len = sizeof longid;
    ok(!admit_message(&cfg, &in, &t, &w, why, sizeof why) && strlen(why) < 200, "a long bad id is quoted cut (%zu bytes)",
       strlen(why));
    config_free(&cfg);
    return tap_done();
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* test_ml.c -- the ML service's answer parsed, and the request URL built. */
#include "ml.h"
#include "tap.h"

static int parse(const char *body, int64_t *out, char *err)
{
    return ml_parse_prediction(body, strlen(body), "stress_level_prediction", out, err, 256);
}

int main(void)
{
    char err[256];
    int64_t v = -1;

    is_int(parse("{\"stress_level_prediction\": \"2\", \"stress_label\": \"High stress\"}", &v, err), 0,
           "the reference answer (a string) parses");
    is_int(v, 2, "to 2");
    is_int(parse("{\"stress_level_prediction\": 1}", &v, err), 0, "an integer parses");
    is_int(v, 1, "to 1");
    is_int(parse("{\"stress_level_prediction\": 0.0}", &v, err), 0, "an integral real parses");
    is_int(v, 0, "to 0");
    is_int(parse("{\"stress_level_prediction\": \"1.5\"}", &v, err), -1, "\"1.5\" is refused");
    is_str(err, "\"stress_level_prediction\" is \"1.5\", not an integer", "with a reason");
    is_int(parse("{\"stress_level_prediction\": 1.5}", &v, err), -1, "1.5 is refused");
    is_int(parse("{\"stress_level_prediction\": \"\"}", &v, err), -1, "an empty string is refused");
    is_int(parse("{\"stress_level_prediction\": null}", &v, err), -1, "null is refused (no invented level)");
    is_int(parse("{\"error\": \"x\"}", &v, err), -1, "a missing field is refused");
    is_str(err, "answer has no \"stress_level_prediction\"", "naming the field");
    is_int(parse("<html>oops</html>", &v, err), -1, "HTML is refused");
    ok(strncmp(err, "answer is not JSON", 18) == 0, "as not JSON: %s", err);
    is_int(parse("[2]", &v, err), -1, "a JSON array is refused");

    struct config cfg;
    char cerr[512];
    if (config_load_string(&cfg, "[ml]\nendpoint = http://ml:5000/model/api/predict\n", "t.ini", cerr, sizeof cerr)) {
        printf("Bail out! %s\n", cerr);
        return 1;
    }
    struct agg a;
    double vals[6] = { 1.0, 2.0, 3.0, 0.5, 80.25, 36.7 };
    unsigned char present[6] = { 1, 1, 1, 1, 1, 1 };
    struct buf url = { 0 };
    agg_init(&a, 6);
    agg_add(&a, "n", 1, 0, 0, 0, vals, present, 0);
    vals[4] = 81.75;
    agg_add(&a, "n", 1, 0, 0, 1, vals, present, 0);
    ml_build_url(&cfg, &a.entries[0], &url);
    is_str(url.data, "http://ml:5000/model/api/predict?x=1&y=2&z=3&eda=0.5&hr=81&temp=36.7",
           "every parameter is its field's mean");
    present[4] = 0;
    agg_add(&a, "m", 1, 0, 0, 2, vals, present, 0);
    ml_build_url(&cfg, &a.entries[1], &url);
    is_str(url.data, "http://ml:5000/model/api/predict?x=1&y=2&z=3&eda=0.5&temp=36.7",
           "a field with no value is left out, for the service to judge");
    agg_free(&a);
    buf_free(&url);
    config_free(&cfg);
    return tap_done();
}

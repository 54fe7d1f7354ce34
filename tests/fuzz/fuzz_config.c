/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_config.c -- config_load_string() on hostile ini text.
 *
 * Input: the text of a spillway.ini (up to its first NUL byte). Checked,
 * beyond the sanitizers:
 *   - a refusal reads "fuzz.ini:LINE: ..." or "fuzz.ini: ..." with LINE
 *     inside the text, as config.h promises;
 *   - an accepted config writes points InfluxDB reads back: its measurement,
 *     source tag and field names, put into a point with src/lineproto.h,
 *     come back as exactly one line with exactly those names (lpread.c). */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "lineproto.h"
#include "lpread.h"

static void check_names(const struct config *cfg, const char *text)
{
    struct buf out = { 0 };
    struct lp_point p;
    struct lpr_point pts[2];
    char err[300];

    if (lp_begin(&p, &out, cfg->influx_measurement) != 0 || lp_tag(&p, "id", "nurse-7", 7) != 0 ||
        lp_tag(&p, "source", cfg->influx_source_tag, strlen(cfg->influx_source_tag)) != 0)
        fuzz_fail("lineproto: out of memory");
    for (size_t i = 0; i < cfg->nfields; i++)
        if (lp_field_float(&p, cfg->fields[i], 1.5 + (double)i) != 0)
            fuzz_fail("lineproto: out of memory");
    if (lp_field_int(&p, "stress_level", 2) != 0 || lp_field_int(&p, "count", 3) != 0 ||
        lp_end(&p, INT64_C(1763719800000000000)) != 0)
        fuzz_fail("lineproto: out of memory");

    int n = lpr_parse(out.data, out.len, pts, 2, err, sizeof err);
    int ok = n == 1;
    if (ok) {
        const struct lpr_str *src = lpr_tag(&pts[0], "source");
        ok = strcmp(pts[0].measurement.s, cfg->influx_measurement) == 0 && pts[0].ntags == 2 && src &&
             strcmp(src->s, cfg->influx_source_tag) == 0 && pts[0].nfields == cfg->nfields + 2;
        for (size_t i = 0; ok && i < cfg->nfields; i++) {
            const struct lpr_field *f = lpr_field(&pts[0], cfg->fields[i]);
            ok = f && f->type == LPR_FLOAT && f->f == 1.5 + (double)i;
        }
        lpr_free(pts, 1);
    }
    if (!ok) {
        fuzz_print_bytes("config", text, strlen(text));
        fuzz_print_bytes("line protocol", out.data, out.len);
        fuzz_fail("an accepted config writes points InfluxDB reads differently: %s",
                  n < 0 ? err : n != 1 ? "not one line" : "names differ");
    }
    buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct config cfg;
    char err[1024] = "";
    size_t lines = 1;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    for (const char *c = text; *c; c++)
        lines += *c == '\n';

    if (config_load_string(&cfg, text, "fuzz.ini", err, sizeof err) == 0) {
        check_names(&cfg, text);
    } else {
        char *end;
        long line;
        fuzz_check(strncmp(err, "fuzz.ini:", 9) == 0, "config error does not start with the file name: %s", err);
        line = strtol(err + 9, &end, 10);
        if (end != err + 9) {
            if (line < 1 || (size_t)line > lines) {
                fuzz_print_bytes("config", text, strlen(text));
                fuzz_fail("config error names line %ld of a %zu-line text: %s", line, lines, err);
            }
        }
    }
    config_free(&cfg);
    free(text);
    return 0;
}

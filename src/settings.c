/* SPDX-License-Identifier: BSD-2-Clause */
/* settings.c -- `spillway config`: the effective configuration and its origins. */
#include "settings.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "kafkaprops.h"
#include "util.h"

#define SECRET_MASK "***"

struct shown {
    const struct config *cfg;
    json_t *rows; /* [{section, key, value, origin}] */
};

/* The value as it may be shown: a secret masked whole, a URL's credentials
 * masked in any other value. */
static const char *shown_value(const char *value, int secret, char *buf, size_t bufsz)
{
    if (secret && value[0] && !url_has_secret(value))
        return SECRET_MASK;
    url_redact(buf, bufsz, value, strlen(value));
    return buf;
}

static int show(struct shown *sh, const char *section, const char *key, const char *value, const char *origin)
{
    return json_array_append_new(sh->rows, json_pack("{s:s, s:s, s:s, s:s}", "section", section, "key", key,
                                                     "value", value, "origin", origin));
}

static int show_setting(const struct config_setting *st, void *arg)
{
    struct shown *sh = arg;
    char value[1024], origin[600];

    if (st->line > 0)
        snprintf(origin, sizeof origin, "%s:%d", sh->cfg->path, st->line);
    else
        snprintf(origin, sizeof origin, "%s", st->passthrough ? "spillway's default" : "default");
    return show(sh, st->section, st->key, shown_value(st->value, st->secret, value, sizeof value), origin);
}

/* spillway's own librdkafka settings, where the file did not set one */
static int show_kafka_default(const char *key, const char *value, int fixed, void *arg)
{
    struct shown *sh = arg;

    if (config_kafka_prop(sh->cfg, key))
        return 0;
    return show(sh, "kafka", key, value,
                fixed ? "set by spillway (it commits only what InfluxDB accepted)" : "spillway's librdkafka default");
}

/* As an ini file: each section once, in the order it first appears, the
 * origins as comments. */
static void print_ini(const struct config *cfg, json_t *rows)
{
    json_t *done = json_object(), *row, *other;
    size_t i, j;

    printf("; the effective configuration of %s\n", cfg->path);
    json_array_foreach(rows, i, row) {
        const char *section = json_string_value(json_object_get(row, "section"));
        if (json_object_get(done, section))
            continue;
        json_object_set_new(done, section, json_true());
        printf("\n[%s]\n", section);
        json_array_foreach(rows, j, other) {
            const char *key = json_string_value(json_object_get(other, "key"));
            const char *value = json_string_value(json_object_get(other, "value"));
            if (strcmp(json_string_value(json_object_get(other, "section")), section) != 0)
                continue;
            int pad = (int)(strlen(key) + strlen(value));
            printf("%s = %s%*s ; %s\n", key, value, pad < 44 ? 44 - pad : 0, "",
                   json_string_value(json_object_get(other, "origin")));
        }
    }
    json_decref(done);
}

int settings_run(const struct config *cfg, int json)
{
    struct shown sh = { .cfg = cfg, .rows = json_array() };
    int rc = 0;

    if (sh.rows == NULL || config_each(cfg, show_setting, &sh) != 0 ||
        kafkaprops_each(cfg->max_batch_size, show_kafka_default, &sh) != 0)
        rc = EX_SOFTWARE;
    else if (json)
        rc = json_dumpf(sh.rows, stdout, JSON_INDENT(2)) != 0 || putchar('\n') == EOF ? EX_IOERR : 0;
    else
        print_ini(cfg, sh.rows);
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = EX_IOERR;
    json_decref(sh.rows);
    return rc;
}

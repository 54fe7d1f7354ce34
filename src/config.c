/* SPDX-License-Identifier: BSD-2-Clause */
/* config.c -- spillway.ini parsing with inih: defaults, types, cross-checks. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kafkaprops.h"
#include "lineproto.h"
#include "log.h"
#include "notify.h"
#include "util.h"

enum ctype { C_STR, C_INT, C_BOOL, C_START_FROM, C_TIME_ZONE, C_PREDICT };

enum cflag {
    K_REQUIRED = 1, /* C_STR: may not be empty */
    K_SECRET = 2,   /* a secret: masked when shown; set, the file holds a secret (the permission warning) */
    K_MASKED = 4,   /* masked when shown, though not a secret by itself (a webhook's token may be in its path) */
};

/* One key, all there is to know about it: where it is, its type, its
 * default (as the file would write it), its range (C_INT) and its flags. A
 * string holding a URL with credentials is a secret whatever its flags
 * (url_has_secret()). */
struct cdesc {
    const char *section, *key;
    enum ctype type;
    size_t off;
    const char *def;
    int64_t min, max; /* C_INT */
    unsigned flags;   /* enum cflag */
};

#define F(f) offsetof(struct config, f)
#define BIG INT64_C(1000000000000)
static const struct cdesc descs[] = {
    { "kafka", "topic", C_STR, F(topic), "stress-topic", 0, 0, K_REQUIRED },
    { "kafka", "primary_group", C_STR, F(primary_group), "flink-consumer", 0, 0, K_REQUIRED },
    { "avro", "schema", C_STR, F(schema), "/etc/spillway/nurse_sensor_event.avsc", 0, 0, K_REQUIRED },
    { "avro", "id_field", C_STR, F(id_field), "id", 0, 0, K_REQUIRED },
    { "avro", "time_field", C_STR, F(time_field), "datetime", 0, 0, K_REQUIRED },
    { "avro", "fields", C_STR, F(fields_text), "X,Y,Z,EDA,HR,TEMP", 0, 0, K_REQUIRED },
    { "avro", "time_zone", C_TIME_ZONE, F(time_local), "UTC", 0, 0, 0 },
    { "check", "latency_threshold_seconds", C_INT, F(latency_threshold_seconds), "300", 1, BIG, 0 },
    { "check", "resume_threshold_seconds", C_INT, F(resume_threshold_seconds), "150", 0, BIG, 0 },
    { "check", "consecutive_violations", C_INT, F(consecutive_violations), "3", 1, 1000000, 0 },
    { "check", "consecutive_recoveries", C_INT, F(consecutive_recoveries), "1", 1, 1000000, 0 },
    { "check", "lookback_seconds", C_INT, F(lookback_seconds), "600", 1, BIG, 0 },
    { "check", "latency_measurement", C_STR, F(latency_measurement), "flink_events", 0, 0, K_REQUIRED },
    { "check", "latency_field", C_STR, F(latency_field), "stressLevel", 0, 0, K_REQUIRED },
    { "check", "latency_where", C_STR, F(latency_where), "", 0, 0, 0 },
    { "check", "flink_url", C_STR, F(flink_url), "http://jobmanager:8081", 0, 0, 0 },
    { "check", "lag_probe", C_BOOL, F(lag_probe), "on", 0, 0, 0 },
    { "check", "max_primary_lag_messages", C_INT, F(max_primary_lag_messages), "0", 0, INT64_MAX, 0 },
    { "check", "probe_timeout_seconds", C_INT, F(probe_timeout_seconds), "5", 1, 3600, 0 },
    { "check", "runner_command", C_STR, F(runner_command), "", 0, 0, 0 },
    { "check", "min_fallback_seconds", C_INT, F(min_fallback_seconds), "600", 0, 86400, 0 },
    { "check", "resume_hold_seconds", C_INT, F(resume_hold_seconds), "90", 0, 86400, 0 },
    { "check", "flap_changes", C_INT, F(flap_changes), "6", 0, 1000, 0 },
    { "check", "flap_window_seconds", C_INT, F(flap_window_seconds), "3600", 1, 604800, 0 },
    { "check", "flap_pin", C_BOOL, F(flap_pin), "on", 0, 0, 0 },
    { "check", "predict", C_PREDICT, F(predict), "shadow", 0, 0, 0 },
    { "check", "predict_checks", C_INT, F(predict_checks), "10", 4, 60, 0 },
    { "check", "predict_horizon_seconds", C_INT, F(predict_horizon_seconds), "300", 1, 86400, 0 },
    { "drain", "batch_size", C_INT, F(batch_size), "1000", 1, BIG, 0 },
    { "drain", "max_batch_size", C_INT, F(max_batch_size), "3000000", 1, BIG, 0 },
    { "drain", "batch_timeout_seconds", C_INT, F(batch_timeout_seconds), "30", 1, 86400, 0 },
    { "drain", "window_seconds", C_INT, F(window_seconds), "30", 1, 86400, 0 },
    { "drain", "start_from", C_START_FROM, F(start_from), "primary", 0, 0, 0 },
    { "drain", "join_timeout_seconds", C_INT, F(join_timeout_seconds), "60", 1, 3600, 0 },
    { "drain", "max_aggregates", C_INT, F(max_aggregates), "50000", 1, 10000000, 0 },
    { "drain", "preserve_after_seconds", C_INT, F(preserve_after_seconds), "900", 0, 31536000, 0 },
    { "drain", "backfill_per_run", C_INT, F(backfill_per_run), "5000", 1, 1000000, 0 },
    { "drain", "topic_retention_seconds", C_INT, F(topic_retention_seconds), "0", 0, 315360000, 0 },
    { "ml", "endpoint", C_STR, F(ml_endpoint), "http://stress-prediction-service:5000/model/api/predict", 0, 0, K_REQUIRED },
    { "ml", "params", C_STR, F(ml_params_text), "x=X,y=Y,z=Z,eda=EDA,hr=HR,temp=TEMP", 0, 0, K_REQUIRED },
    { "ml", "response_field", C_STR, F(ml_response_field), "stress_level_prediction", 0, 0, K_REQUIRED },
    { "ml", "timeout_seconds", C_INT, F(ml_timeout_seconds), "10", 1, 3600, 0 },
    { "ml", "retry_attempts", C_INT, F(ml_retry_attempts), "3", 0, 100, 0 },
    { "ml", "max_parallel", C_INT, F(ml_max_parallel), "8", 1, 256, 0 },
    { "influxdb", "url", C_STR, F(influx_url), "http://influxdb:8086", 0, 0, K_REQUIRED },
    { "influxdb", "database", C_STR, F(influx_database), "flink_sink", 0, 0, K_REQUIRED },
    { "influxdb", "measurement", C_STR, F(influx_measurement), "nurse_stress", 0, 0, K_REQUIRED },
    { "influxdb", "source_tag", C_STR, F(influx_source_tag), "dask-fallback", 0, 0, K_REQUIRED },
    { "influxdb", "username", C_STR, F(influx_username), "", 0, 0, 0 },
    { "influxdb", "password", C_STR, F(influx_password), "", 0, 0, K_SECRET },
    { "influxdb", "token", C_STR, F(influx_token), "", 0, 0, K_SECRET },
    { "influxdb", "ca_file", C_STR, F(influx_ca_file), "", 0, 0, 0 },
    { "influxdb", "timeout_seconds", C_INT, F(influx_timeout_seconds), "10", 1, 3600, 0 },
    { "influxdb", "retry_attempts", C_INT, F(influx_retry_attempts), "3", 0, 100, 0 },
    { "influxdb", "points_per_write", C_INT, F(influx_points_per_write), "5000", 1, 1000000, 0 },
    { "state", "database", C_STR, F(state_database), "/var/lib/spillway/state.db", 0, 0, K_REQUIRED },
    { "state", "keep_days", C_INT, F(state_keep_days), "90", 1, 36500, 0 },
    { "state", "quarantine_max_mb", C_INT, F(state_quarantine_max_mb), "256", 1, 1048576, 0 },
    { "metrics", "textfile", C_STR, F(metrics_textfile), "", 0, 0, 0 },
    { "notify", "command", C_STR, F(notify_command), "", 0, 0, K_MASKED },
    { "notify", "timeout_seconds", C_INT, F(notify_timeout_seconds), "10", 1, 300, 0 },
    { "notify", "max_attempts", C_INT, F(notify_max_attempts), "20", 1, 1000, 0 },
    { "notify", "retry_seconds", C_INT, F(notify_retry_seconds), "60", 1, 86400, 0 },
    { "notify", "runs_failing", C_INT, F(notify_runs_failing), "3", 0, 1000000, 0 },
    { "notify", "episode_long_seconds", C_INT, F(notify_episode_long_seconds), "3600", 0, BIG, 0 },
};
#define NDESC (sizeof descs / sizeof descs[0])

/* The librdkafka properties of [kafka] that have a default here, the
 * reference's broker and group: set by the file, passed through as they
 * are; left out, added as if the file set them (line 0). spillway's other
 * librdkafka settings are kafkaprops.h's. */
static const char *const kafka_prop_defaults[][2] = {
    { "bootstrap.servers", "kafka:9092" },
    { "group.id", "dask-fallback-consumer" },
};

struct parse_ctx {
    struct config *cfg;
    const char *name;
    /* the reader's view of the current line */
    FILE *fp;
    const char *str;
    size_t pos;
    int line;
    int indented;
    char *linebuf;
    size_t linecap;
    /* results */
    int desc_line[NDESC]; /* where each key was set; 0 = default */
    int *kafka_lines;
    char err[512];
    int err_line;
};

static void ctx_fail(struct parse_ctx *ctx, int line, const char *section, const char *key,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void ctx_vfail(struct parse_ctx *ctx, int line, const char *section, const char *key, const char *fmt,
                      va_list ap) __attribute__((format(printf, 5, 0)));

static void ctx_vfail(struct parse_ctx *ctx, int line, const char *section, const char *key, const char *fmt,
                      va_list ap)
{
    char msg[384];

    if (ctx->err[0])
        return; /* the first error is the one to fix */
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (line > 0)
        snprintf(ctx->err, sizeof ctx->err, "%s:%d: [%s] %s: %s", ctx->name, line, section, key, msg);
    else
        snprintf(ctx->err, sizeof ctx->err, "%s: [%s] %s (default): %s", ctx->name, section, key, msg);
    ctx->err_line = line > 0 ? line : 1;
}

static void ctx_fail(struct parse_ctx *ctx, int line, const char *section, const char *key,
                     const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ctx_vfail(ctx, line, section, key, fmt, ap);
    va_end(ap);
}

/* inih's reader: one line per call, counting lines so that the handler knows
 * where it is (Debian's inih does not pass line numbers to handlers). */
static char *ctx_read(char *str, int num, void *stream)
{
    struct parse_ctx *ctx = stream;
    const char *line;
    size_t len;

    if (ctx->fp) {
        ssize_t n = getline(&ctx->linebuf, &ctx->linecap, ctx->fp);
        if (n < 0)
            return NULL;
        line = ctx->linebuf;
        len = (size_t)n;
    } else {
        const char *s = ctx->str + ctx->pos;
        const char *nl;
        if (*s == '\0')
            return NULL;
        nl = strchr(s, '\n');
        len = nl ? (size_t)(nl - s + 1) : strlen(s);
        line = s;
        ctx->pos += len;
    }
    ctx->line++;
    ctx->indented = len > 0 && (line[0] == ' ' || line[0] == '\t');
    if (len > (size_t)num - 1) {
        if (!ctx->err[0]) {
            snprintf(ctx->err, sizeof ctx->err, "%s:%d: line is longer than %d bytes", ctx->name,
                     ctx->line, num - 2);
            ctx->err_line = ctx->line;
        }
        len = (size_t)num - 1;
    }
    memcpy(str, line, len);
    str[len] = '\0';
    return str;
}

static int parse_int(const char *v, int64_t *out)
{
    char *end;
    long long n;

    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno || end == v || *end != '\0')
        return -1;
    *out = n;
    return 0;
}

static int set_value(struct parse_ctx *ctx, const struct cdesc *d, const char *value, int line)
{
    char *base = (char *)ctx->cfg;

    switch (d->type) {
    case C_STR: {
        char **slot = (char **)(base + d->off);
        char *copy;
        if ((d->flags & K_REQUIRED) && value[0] == '\0') {
            ctx_fail(ctx, line, d->section, d->key, "may not be empty");
            return 0;
        }
        copy = strdup(value);
        if (copy == NULL) {
            ctx_fail(ctx, line, d->section, d->key, "out of memory");
            return 0;
        }
        free(*slot);
        *slot = copy;
        return 1;
    }
    case C_INT: {
        int64_t n;
        if (parse_int(value, &n) != 0) {
            ctx_fail(ctx, line, d->section, d->key, "not an integer: \"%s\"", value);
            return 0;
        }
        if (n < d->min || n > d->max) {
            ctx_fail(ctx, line, d->section, d->key, "must be between %lld and %lld, not %lld",
                     (long long)d->min, (long long)d->max, (long long)n);
            return 0;
        }
        *(int64_t *)(base + d->off) = n;
        return 1;
    }
    case C_BOOL: {
        int *flag = (int *)(base + d->off);
        if (strcmp(value, "on") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
            *flag = 1;
        else if (strcmp(value, "off") == 0 || strcmp(value, "no") == 0 || strcmp(value, "false") == 0)
            *flag = 0;
        else {
            ctx_fail(ctx, line, d->section, d->key, "must be on or off, not \"%s\"", value);
            return 0;
        }
        return 1;
    }
    case C_START_FROM: {
        enum start_from *sf = (enum start_from *)(base + d->off);
        if (strcmp(value, "primary") == 0)
            *sf = START_PRIMARY;
        else if (strcmp(value, "earliest") == 0)
            *sf = START_EARLIEST;
        else if (strcmp(value, "latest") == 0)
            *sf = START_LATEST;
        else {
            ctx_fail(ctx, line, d->section, d->key,
                     "must be primary, earliest or latest, not \"%s\"", value);
            return 0;
        }
        return 1;
    }
    case C_PREDICT:
        if (predict_mode_parse(value, (enum predict_mode *)(base + d->off)) != 0) {
            ctx_fail(ctx, line, d->section, d->key, "must be off, shadow or on, not \"%s\"", value);
            return 0;
        }
        return 1;
    case C_TIME_ZONE: {
        int *local = (int *)(base + d->off);
        if (strcmp(value, "UTC") == 0)
            *local = 0;
        else if (strcmp(value, "local") == 0)
            *local = 1;
        else {
            ctx_fail(ctx, line, d->section, d->key, "must be UTC or local, not \"%s\"", value);
            return 0;
        }
        return 1;
    }
    }
    return 0;
}

static int kafka_prop_add(struct parse_ctx *ctx, const char *key, const char *value, int line)
{
    struct config *cfg = ctx->cfg;
    struct config_kv *kv = realloc(cfg->kafka_props, (cfg->n_kafka_props + 1) * sizeof *kv);
    int *lines;

    if (kv == NULL)
        return -1;
    cfg->kafka_props = kv;
    lines = realloc(ctx->kafka_lines, (cfg->n_kafka_props + 1) * sizeof *lines);
    if (lines == NULL)
        return -1;
    ctx->kafka_lines = lines;
    kv[cfg->n_kafka_props].key = strdup(key);
    kv[cfg->n_kafka_props].value = strdup(value);
    kv[cfg->n_kafka_props].line = line;
    lines[cfg->n_kafka_props] = line;
    cfg->n_kafka_props++;
    if (kv[cfg->n_kafka_props - 1].key == NULL || kv[cfg->n_kafka_props - 1].value == NULL)
        return -1;
    return 0;
}

/* librdkafka 2.0.2's properties whose value is a secret: private keys,
 * passwords, client secrets, and sasl.oauthbearer.config (flagged sensitive
 * by librdkafka: it may carry a principal's token). Certificates (ssl.*.pem
 * other than the key), file paths (ssl.key.location, ssl.keystore.location,
 * sasl.kerberos.keytab: the files' own modes protect them) and user names are
 * not. A URL-valued property (sasl.oauthbearer.token.endpoint.url) is a
 * secret when it carries a credential: see url_has_secret(). Any other
 * property whose name says password or secret (a later librdkafka's) counts
 * too: better a warning too many than a secret left readable. */
static int is_secret_kafka_key(const char *key)
{
    static const char *const secret[] = {
        "ssl.key.password", "ssl.key.pem", "ssl.keystore.password", "sasl.password",
        "sasl.oauthbearer.client.secret", "sasl.oauthbearer.config",
    };

    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
        if (strcmp(key, secret[i]) == 0)
            return 1;
    return strstr(key, "password") || strstr(key, "secret");
}

static int on_kafka_prop(struct parse_ctx *ctx, const char *key, const char *value)
{
    char errstr[256];
    rd_kafka_conf_t *probe;

    /* a property spillway fixes: letting a config change it would break the
     * commit-after-write guarantee or the end of a batch */
    if (kafkaprops_fixed(key)) {
        ctx_fail(ctx, ctx->line, "kafka", key,
                 "spillway sets this itself (it commits only after InfluxDB accepted the batch)");
        return 0;
    }
    for (size_t i = 0; i < ctx->cfg->n_kafka_props; i++) {
        if (strcmp(ctx->cfg->kafka_props[i].key, key) == 0) {
            ctx_fail(ctx, ctx->line, "kafka", key, "set twice (first on line %d)", ctx->kafka_lines[i]);
            return 0;
        }
    }
    /* librdkafka 2.0's cooperative rebalancing revokes partitions
     * incrementally, outside the eager revoke-then-assign cycle the
     * runner's ownership rules rely on (consumer.h), and had fixes after
     * 2.0.2: refuse it rather than lose exactness. */
    if (strcmp(key, "partition.assignment.strategy") == 0 && strstr(value, "cooperative")) {
        ctx_fail(ctx, ctx->line, "kafka", key, "cooperative rebalancing is not supported; use range or roundrobin");
        return 0;
    }
    /* Ask librdkafka now, so a typo is reported with its line, not at run time. */
    probe = rd_kafka_conf_new();
    if (rd_kafka_conf_set(probe, key, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(probe);
        ctx_fail(ctx, ctx->line, "kafka", key, "%s", errstr);
        return 0;
    }
    rd_kafka_conf_destroy(probe);
    if (kafka_prop_add(ctx, key, value, ctx->line) != 0) {
        ctx_fail(ctx, ctx->line, "kafka", key, "out of memory");
        return 0;
    }
    if ((is_secret_kafka_key(key) && value[0]) || url_has_secret(value))
        ctx->cfg->holds_secret = 1;
    return 1;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    struct parse_ctx *ctx = user;
    int known_section = 0;

    if (ctx->indented) {
        ctx_fail(ctx, ctx->line, section, name,
                 "indented line (inih would read it as the continuation of the previous value); start keys at the beginning of the line");
        return 0;
    }
    for (size_t i = 0; i < NDESC; i++) {
        if (strcmp(descs[i].section, section) != 0)
            continue;
        known_section = 1;
        if (strcmp(descs[i].key, name) != 0)
            continue;
        if (ctx->desc_line[i]) {
            ctx_fail(ctx, ctx->line, section, name, "set twice (first on line %d)", ctx->desc_line[i]);
            return 0;
        }
        ctx->desc_line[i] = ctx->line;
        return set_value(ctx, &descs[i], value, ctx->line);
    }
    if (strcmp(section, "kafka") == 0)
        return on_kafka_prop(ctx, name, value);
    ctx_fail(ctx, ctx->line, section, name, known_section ? "unknown key" : "unknown section");
    return 0;
}

/* An error found after parsing, about a key of descs[]: reported at the
 * line that set it, or as a default when no line did. */
static void key_fail(struct parse_ctx *ctx, const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void key_fail(struct parse_ctx *ctx, const char *section, const char *key, const char *fmt, ...)
{
    int line = 0;
    va_list ap;

    for (size_t i = 0; i < NDESC; i++)
        if (strcmp(descs[i].section, section) == 0 && strcmp(descs[i].key, key) == 0)
            line = ctx->desc_line[i];
    va_start(ap, fmt);
    ctx_vfail(ctx, line, section, key, fmt, ap);
    va_end(ap);
}

/* Split "a, b ,c" on commas into trimmed, non-empty pieces written in place.
 * Returns the count, or -1 when a piece is empty or there are more than max. */
static int split_list(char *s, char **out, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    char *copy_end = s + strlen(s);

    if (*s == '\0')
        return 0;
    if (s[0] == ',' || copy_end[-1] == ',' || strstr(s, ",,"))
        return -1;
    for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *end;
        while (*tok == ' ' || *tok == '\t')
            tok++;
        end = tok + strlen(tok);
        while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (*tok == '\0' || n == max)
            return -1;
        out[n++] = tok;
    }
    return (int)n;
}

static int check_fields(struct parse_ctx *ctx)
{
    struct config *cfg = ctx->cfg;
    char *pieces[AGG_MAX_FIELDS + 1];
    char *text = strdup(cfg->fields_text);
    int n;
    const char *why;

    if (text == NULL)
        return -1;
    n = split_list(text, pieces, AGG_MAX_FIELDS);
    if (n <= 0) {
        key_fail(ctx, "avro", "fields", "expected 1 to %d comma-separated field names, got \"%s\"",
                 AGG_MAX_FIELDS, cfg->fields_text);
        free(text);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if ((why = lp_check(LP_FIELD_KEY, pieces[i], strlen(pieces[i]))) != NULL) {
            key_fail(ctx, "avro", "fields", "field name \"%s\" %s", pieces[i], why);
            break;
        }
        if (strcmp(pieces[i], "count") == 0 || strcmp(pieces[i], "stress_level") == 0) {
            key_fail(ctx, "avro", "fields", "\"%s\" is a field spillway writes itself", pieces[i]);
            break;
        }
        if (strcmp(pieces[i], "time") == 0) {
            key_fail(ctx, "avro", "fields", "\"time\" is a field InfluxDB drops without a word");
            break;
        }
        for (int j = 0; j < i; j++) {
            if (strcmp(pieces[i], pieces[j]) == 0)
                key_fail(ctx, "avro", "fields", "\"%s\" is listed twice", pieces[i]);
        }
        if ((cfg->fields[i] = strdup(pieces[i])) == NULL)
            break;
        cfg->nfields = (size_t)i + 1;
    }
    free(text);
    return ctx->err[0] ? -1 : 0;
}

static int check_params(struct parse_ctx *ctx)
{
    struct config *cfg = ctx->cfg;
    char *pieces[AGG_MAX_FIELDS + 1];
    char *text = strdup(cfg->ml_params_text);
    int n;

    if (text == NULL)
        return -1;
    n = split_list(text, pieces, AGG_MAX_FIELDS);
    if (n <= 0) {
        key_fail(ctx, "ml", "params", "expected name=FIELD pairs separated by commas, got \"%s\"",
                 cfg->ml_params_text);
        free(text);
        return -1;
    }
    for (int i = 0; i < n && !ctx->err[0]; i++) {
        char *eq = strchr(pieces[i], '=');
        size_t f;
        if (eq == NULL || eq == pieces[i] || eq[1] == '\0') {
            key_fail(ctx, "ml", "params", "\"%s\" is not name=FIELD", pieces[i]);
            break;
        }
        *eq = '\0';
        for (f = 0; f < cfg->nfields; f++)
            if (strcmp(cfg->fields[f], eq + 1) == 0)
                break;
        if (f == cfg->nfields) {
            key_fail(ctx, "ml", "params", "\"%s=%s\" names a field that is not in [avro] fields",
                     pieces[i], eq + 1);
            break;
        }
        if ((cfg->ml_params[i].name = strdup(pieces[i])) == NULL)
            break;
        cfg->ml_params[i].field = f;
        cfg->n_ml_params = (size_t)i + 1;
    }
    free(text);
    return ctx->err[0] ? -1 : 0;
}

static int is_http_url(const char *u)
{
    return strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
}

/* [notify] command is split into words here, not by a shell: an
 * unbalanced quote is the file's error, not a failed notification later. */
static int check_notify_command(struct parse_ctx *ctx)
{
    char why[128];
    char **argv;

    if (ctx->cfg->notify_command[0] == '\0')
        return 0;
    if ((argv = notify_argv(ctx->cfg->notify_command, why, sizeof why)) == NULL) {
        key_fail(ctx, "notify", "command", "%s (it is split into words without a shell)", why);
        return -1;
    }
    notify_argv_free(argv);
    return 0;
}

/* After the file: the [kafka] defaults it left out, and whether it holds a
 * secret (a secret key set, or a credential in any URL: runner_command may
 * hold one too, a curl command line). */
static void after_file(struct parse_ctx *ctx)
{
    struct config *cfg = ctx->cfg;

    for (size_t i = 0; i < sizeof kafka_prop_defaults / sizeof kafka_prop_defaults[0]; i++) {
        const char *key = kafka_prop_defaults[i][0];
        if (!config_kafka_prop(cfg, key) && kafka_prop_add(ctx, key, kafka_prop_defaults[i][1], 0) != 0) {
            ctx_fail(ctx, 0, "kafka", key, "out of memory");
            return;
        }
    }
    for (size_t i = 0; i < NDESC; i++) {
        const char *v = descs[i].type == C_STR ? *(char **)((char *)cfg + descs[i].off) : "";
        if (((descs[i].flags & K_SECRET) && v[0]) || url_has_secret(v))
            cfg->holds_secret = 1;
    }
}

static void cross_check(struct parse_ctx *ctx)
{
    struct config *cfg = ctx->cfg;
    const char *why;

    if (check_fields(ctx) != 0 || check_params(ctx) != 0)
        return;
    for (size_t i = 0; i < cfg->nfields; i++) {
        if (strcmp(cfg->fields[i], cfg->id_field) == 0 || strcmp(cfg->fields[i], cfg->time_field) == 0) {
            key_fail(ctx, "avro", "fields", "\"%s\" is the id or time field, not a numeric one",
                     cfg->fields[i]);
            return;
        }
    }
    if (cfg->max_batch_size < cfg->batch_size) {
        key_fail(ctx, "drain", "max_batch_size", "must be at least batch_size (%lld)", (long long)cfg->batch_size);
        return;
    }
    if (cfg->resume_threshold_seconds >= cfg->latency_threshold_seconds) {
        key_fail(ctx, "check", "resume_threshold_seconds",
                 "must be below latency_threshold_seconds (%lld), or the checker would flap",
                 (long long)cfg->latency_threshold_seconds);
        return;
    }
    if ((why = lp_check(LP_MEASUREMENT, cfg->influx_measurement, strlen(cfg->influx_measurement)))) {
        key_fail(ctx, "influxdb", "measurement", "%s", why);
        return;
    }
    if ((why = lp_check(LP_TAG_VALUE, cfg->influx_source_tag, strlen(cfg->influx_source_tag)))) {
        key_fail(ctx, "influxdb", "source_tag", "%s", why);
        return;
    }
    static const struct { const char *section, *key; size_t off; int may_be_empty; } urls[] = {
        { "ml", "endpoint", F(ml_endpoint), 0 },
        { "influxdb", "url", F(influx_url), 0 },
        { "check", "flink_url", F(flink_url), 1 },
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        const char *u = *(char **)((char *)cfg + urls[i].off);
        if ((u[0] || !urls[i].may_be_empty) && !is_http_url(u)) {
            key_fail(ctx, urls[i].section, urls[i].key, "not an http:// or https:// URL: \"%s\"", u);
            return;
        }
    }
    if (cfg->influx_token[0] && cfg->influx_username[0]) {
        key_fail(ctx, "influxdb", "token", "set either token (2.x) or username/password (1.x), not both");
        return;
    }
    if (check_notify_command(ctx) != 0)
        return;
    if (strcmp(config_kafka_prop(cfg, "group.id"), cfg->primary_group) == 0) {
        key_fail(ctx, "kafka", "primary_group",
                 "is the same as group.id \"%s\": spillway would commit the primary's offsets", cfg->primary_group);
    }
}

static int config_parse(struct config *cfg, struct parse_ctx *ctx, char *err, size_t errsz)
{
    int rc;

    memset(cfg, 0, sizeof *cfg);
    ctx->cfg = cfg;
    cfg->path = strdup(ctx->name);
    for (size_t i = 0; i < NDESC; i++) {
        if (!set_value(ctx, &descs[i], descs[i].def, 0))
            break;
    }
    rc = ini_parse_stream(ctx_read, ctx, on_entry, ctx);
    if (rc == -2 || cfg->path == NULL) {
        snprintf(err, errsz, "%s: out of memory", ctx->name);
        return -1;
    }
    /* inih reports the first line it could not parse; report whichever of
     * that and our own first error comes first in the file */
    if (rc > 0 && (!ctx->err[0] || rc < ctx->err_line))
        snprintf(ctx->err, sizeof ctx->err,
                 "%s:%d: syntax error: expected \"key = value\", \"[section]\" or a comment", ctx->name, rc);
    if (!ctx->err[0])
        after_file(ctx);
    if (!ctx->err[0])
        cross_check(ctx);
    free(ctx->linebuf);
    free(ctx->kafka_lines);
    if (!ctx->err[0] && (cfg->lines = malloc(sizeof ctx->desc_line)) != NULL)
        memcpy(cfg->lines, ctx->desc_line, sizeof ctx->desc_line);
    else if (!ctx->err[0])
        snprintf(ctx->err, sizeof ctx->err, "%s: out of memory", ctx->name);
    if (ctx->err[0]) {
        snprintf(err, errsz, "%s", ctx->err);
        return -1;
    }
    return 0;
}

int config_load_string(struct config *cfg, const char *text, const char *name, char *err, size_t errsz)
{
    struct parse_ctx ctx = { .name = name, .str = text };

    return config_parse(cfg, &ctx, err, errsz);
}

int config_load(struct config *cfg, const char *path, char *err, size_t errsz)
{
    struct parse_ctx ctx = { .name = path };
    struct stat st;
    int rc;

    ctx.fp = fopen(path, "r");
    if (ctx.fp == NULL) {
        memset(cfg, 0, sizeof *cfg);
        snprintf(err, errsz, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    rc = config_parse(cfg, &ctx, err, errsz);
    if (rc == 0 && cfg->holds_secret && fstat(fileno(ctx.fp), &st) == 0 && (st.st_mode & S_IROTH))
        log_warn("%s holds a password or token and is readable by every user; chmod o-r it", path);
    fclose(ctx.fp);
    return rc;
}

/* The value of descs[i] as text, into buf when it is not a string. */
static const char *desc_text(const struct config *cfg, const struct cdesc *d, char *buf, size_t bufsz)
{
    const char *base = (const char *)cfg;

    switch (d->type) {
    case C_STR: return *(char *const *)(base + d->off);
    case C_INT: snprintf(buf, bufsz, "%lld", (long long)*(const int64_t *)(base + d->off)); return buf;
    case C_BOOL: return *(const int *)(base + d->off) ? "on" : "off";
    case C_START_FROM: {
        enum start_from f = *(const enum start_from *)(base + d->off);
        return f == START_EARLIEST ? "earliest" : f == START_LATEST ? "latest" : "primary";
    }
    case C_TIME_ZONE: return *(const int *)(base + d->off) ? "local" : "UTC";
    case C_PREDICT: return predict_mode_name(*(const enum predict_mode *)(base + d->off));
    }
    return "";
}

int config_each(const struct config *cfg, int (*fn)(const struct config_setting *s, void *arg), void *arg)
{
    char buf[32];
    int rc;

    for (size_t i = 0; i < NDESC; i++) {
        const struct cdesc *d = &descs[i];
        const char *v = desc_text(cfg, d, buf, sizeof buf);
        struct config_setting st = { d->section, d->key, v, cfg->lines ? cfg->lines[i] : 0,
                                     (d->flags & (K_SECRET | K_MASKED)) || url_has_secret(v), 0 };
        if ((rc = fn(&st, arg)) != 0)
            return rc;
    }
    for (size_t i = 0; i < cfg->n_kafka_props; i++) {
        const struct config_kv *kv = &cfg->kafka_props[i];
        struct config_setting st = { "kafka", kv->key, kv->value, kv->line,
                                     is_secret_kafka_key(kv->key) || url_has_secret(kv->value), 1 };
        if ((rc = fn(&st, arg)) != 0)
            return rc;
    }
    return 0;
}

/* Writable by someone who is neither the owner nor root: group-writable
 * with a group other than root's, or world-writable (a sticky directory
 * excepted: others cannot replace a file they do not own in it). */
static int writable_by_others(const struct stat *st)
{
    if (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))
        return 0;
    return (st->st_mode & S_IWOTH) || ((st->st_mode & S_IWGRP) && st->st_gid != 0);
}

/* what is the file (dir NULL) or a directory of it. */
static int refuse_writable(const char *what, const char *file, int dir, char *err, size_t errsz)
{
    struct stat st;

    if (stat(what, &st) != 0) {
        snprintf(err, errsz, "%s: cannot check who may change it: %s: %s", file, what, strerror(errno));
        return -1;
    }
    if (!writable_by_others(&st))
        return 0;
    if (dir)
        snprintf(err, errsz, "%s: its directory %s is writable by others (mode %04o): refusing to run the"
                 " commands the file names; chmod go-w %s", file, what, (unsigned)(st.st_mode & 07777), what);
    else
        snprintf(err, errsz, "%s is writable by others (mode %04o): refusing to run the commands it names;"
                 " chmod go-w %s", file, (unsigned)(st.st_mode & 07777), file);
    return -1;
}

int config_check_writable(const char *path, char *err, size_t errsz)
{
    char *named = strdup(path), *real = realpath(path, NULL), *real_dir = real ? strdup(real) : NULL;
    int rc = -1;

    if (real == NULL)
        snprintf(err, errsz, "%s: cannot check who may change it: %s", path, strerror(errno));
    else if (named == NULL || real_dir == NULL)
        snprintf(err, errsz, "%s: out of memory", path);
    else if (refuse_writable(real, path, 0, err, errsz) == 0 && refuse_writable(dirname(real_dir), path, 1, err, errsz) == 0 &&
             refuse_writable(dirname(named), path, 1, err, errsz) == 0)
        rc = 0;
    free(named);
    free(real);
    free(real_dir);
    return rc;
}

const char *config_kafka_prop(const struct config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n_kafka_props; i++)
        if (strcmp(cfg->kafka_props[i].key, key) == 0)
            return cfg->kafka_props[i].value;
    return NULL;
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < NDESC; i++)
        if (descs[i].type == C_STR)
            free(*(char **)((char *)cfg + descs[i].off));
    for (size_t i = 0; i < cfg->n_kafka_props; i++) {
        free(cfg->kafka_props[i].key);
        free(cfg->kafka_props[i].value);
    }
    free(cfg->kafka_props);
    for (size_t i = 0; i < cfg->nfields; i++)
        free(cfg->fields[i]);
    for (size_t i = 0; i < cfg->n_ml_params; i++)
        free(cfg->ml_params[i].name);
    free(cfg->path);
    free(cfg->lines);
    memset(cfg, 0, sizeof *cfg);
}

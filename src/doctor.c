/* SPDX-License-Identifier: BSD-2-Clause */
/* doctor.c -- `spillway doctor`: what is wrong, one line each. Every line
 * goes through log_vformat(): URL credentials masked, and the answers of
 * services (outside data) escaped, so one check is always one line. */
#include "doctor.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "decode.h"
#include "http.h"
#include "kafka.h"
#include "lock.h"
#include "log.h"
#include "probe.h"
#include "store.h"
#include "util.h"

static int doctor_line(int ok, const char *what, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int doctor_line(int ok, const char *what, const char *fmt, ...)
{
    char detail[LOG_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    log_vformat(detail, sizeof detail, fmt, ap);
    va_end(ap);
    printf("%-4s %-9s %s\n", ok ? "ok" : "FAIL", what, detail);
    return ok;
}

/* The ML service's /health, on the endpoint's scheme, host and port. */
static int doctor_ml(const struct config *cfg)
{
    const char *host = strstr(cfg->ml_endpoint, "://");
    const char *path = host ? strchr(host + 3, '/') : NULL;
    int base_len = path ? (int)(path - cfg->ml_endpoint) : (int)strlen(cfg->ml_endpoint);
    struct buf url = { 0 }, body = { 0 };
    long status;
    CURLcode rc;
    int ok;

    if (buf_printf(&url, "%.*s/health", base_len, cfg->ml_endpoint) != 0)
        return doctor_line(0, "ml", "out of memory");
    rc = http_get(url.data, (long)cfg->probe_timeout_seconds, NULL, &body, &status);
    ok = rc == CURLE_OK && status == 200 && body.data && strstr(body.data, "\"ok\"");
    if (rc != CURLE_OK) {
        char why[1024];
        http_describe(why, sizeof why, "", url.data, rc, status);
        doctor_line(0, "ml", "%s", why);
    } else {
        doctor_line(ok, "ml", "%s answered %ld: %.80s", url.data, status, body.data ? body.data : "");
    }
    buf_free(&url);
    buf_free(&body);
    return ok;
}

int doctor_run(const struct config *cfg)
{
    char err[1024], why[512];
    int config_bad = 0, unreachable = 0, refused = 0;

    /* the commands it names run only from a file others cannot change */
    if (config_check_writable(cfg->path, err, sizeof err) != 0)
        refused = config_bad = !doctor_line(0, "config", "%s", err);
    else
        doctor_line(1, "config", "%s", cfg->path);

    struct decoder *dec = decoder_open(cfg->schema, cfg->id_field, cfg->time_field, cfg->fields, cfg->nfields,
                                       err, sizeof err);
    if (dec)
        doctor_line(1, "schema", "%s: id %s, time %s, %zu numeric fields", cfg->schema, cfg->id_field,
                    cfg->time_field, cfg->nfields);
    else
        config_bad = !doctor_line(0, "schema", "%s", err);
    decoder_close(dec);

    struct store *s = store_open(cfg->state_database, err, sizeof err);
    enum lock_result held = LOCK_ERROR;
    /* a look with the checker's shared lock: doctor must never be the
     * exclusive holder a runner starting at that moment gives up on */
    if (s == NULL || (held = lock_runner_probe(cfg->state_database, err, sizeof err)) == LOCK_ERROR) {
        config_bad = !doctor_line(0, "state", "%s", err);
    } else {
        doctor_line(1, "state", "%s (a runner is %s)", cfg->state_database, held == LOCK_BUSY ? "running" : "not running");
    }
    store_close(s);

    const char *groups[] = { cfg->primary_group, config_kafka_prop(cfg, "group.id") };
    struct ledger_offsets *offs[2];
    int32_t nparts;
    if (kafka_groups_offsets(cfg, groups, 2, (int)cfg->probe_timeout_seconds * 1000, &nparts, offs, err,
                             sizeof err) == 0) {
        doctor_line(1, "kafka", "%s: topic %s; %s is %" PRId64 " messages behind, %s %" PRId64,
                    config_kafka_prop(cfg, "bootstrap.servers"), cfg->topic, cfg->primary_group,
                    kafka_lag(offs[0], nparts), groups[1], kafka_lag(offs[1], nparts));
        free(offs[0]);
        free(offs[1]);
    } else {
        unreachable = !doctor_line(0, "kafka", "%s", err);
    }

    double latency;
    int found;
    if (probe_latency(cfg, now_wall_ms(), &latency, &found, err, sizeof err) != 0)
        unreachable = !doctor_line(0, "influxdb", "%s", err);
    else if (found)
        doctor_line(1, "influxdb", "%s/%s: the primary's newest point is %.1fs old", cfg->influx_url,
                    cfg->influx_database, latency);
    else
        doctor_line(1, "influxdb", "%s/%s: no point of the primary in the last %llds", cfg->influx_url,
                    cfg->influx_database, (long long)cfg->lookback_seconds);

    unreachable |= !doctor_ml(cfg);

    if (cfg->flink_url[0]) {
        if (probe_flink(cfg->flink_url, (long)cfg->probe_timeout_seconds, why, sizeof why) == FLINK_HEALTHY)
            doctor_line(1, "flink", "%s: a job is running", cfg->flink_url);
        else
            unreachable |= !doctor_line(0, "flink", "%s: %s", cfg->flink_url, why);
    } else {
        doctor_line(1, "flink", "no flink_url: health not probed");
    }
    /* a refused config is refused by every other command, whatever answers */
    return refused ? EX_CONFIG : unreachable ? EX_UNAVAILABLE : config_bad ? EX_CONFIG : 0;
}

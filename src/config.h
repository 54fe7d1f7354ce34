/* SPDX-License-Identifier: BSD-2-Clause */
/* config.h -- spillway.ini: defaults, parsing with inih, validation.
 *
 * Defaults are the reference system's values, so an empty file configures a
 * drop-in replacement. Every error names the file, the line and the key:
 *     /etc/spillway/spillway.ini:12: [drain] batch_size: not an integer: "lots"
 * Unknown keys are errors. Keys of [kafka] other than topic and
 * primary_group are librdkafka properties, checked against librdkafka and
 * passed through unchanged. */
#ifndef SPILLWAY_CONFIG_H
#define SPILLWAY_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "decide.h"

#define CONFIG_DEFAULT_PATH "/etc/spillway/spillway.ini"

enum start_from { START_PRIMARY, START_EARLIEST, START_LATEST };

struct config_kv {
    char *key, *value;
    int line; /* where the file set it; 0 = spillway's default */
};

struct config_param { /* one ML query parameter: name=field */
    char *name;
    size_t field; /* index into avro_fields */
};

struct config {
    char *path;
    /* [kafka] */
    char *topic, *primary_group;
    struct config_kv *kafka_props; /* passthrough, in file order; bootstrap.servers and group.id always present */
    size_t n_kafka_props;
    /* [avro] */
    char *schema, *id_field, *time_field, *fields_text;
    char *fields[AGG_MAX_FIELDS];
    size_t nfields;
    int time_local; /* time_zone = local */
    /* [check] */
    int64_t latency_threshold_seconds, resume_threshold_seconds;
    int64_t consecutive_violations, consecutive_recoveries, lookback_seconds;
    char *latency_measurement, *latency_field, *latency_where, *flink_url;
    int lag_probe; /* probe the primary group's Kafka lag (idle detection, max_primary_lag_messages) */
    int64_t max_primary_lag_messages, probe_timeout_seconds;
    char *runner_command;
    int64_t min_fallback_seconds, resume_hold_seconds; /* hysteresis (decide.h) */
    int64_t flap_changes, flap_window_seconds;         /* flapping: changes within the window; 0 = off */
    int flap_pin;
    enum predict_mode predict;
    int64_t predict_checks, predict_horizon_seconds;
    /* [drain] */
    int64_t batch_size, batch_timeout_seconds, window_seconds;
    int64_t max_batch_size; /* the adaptive batch: between batch_size and this, from the backlog */
    enum start_from start_from;
    int64_t join_timeout_seconds; /* bound on waiting for partitions (joins and rebalances) */
    int64_t max_aggregates;       /* distinct (id, window, partition) per batch; beyond, the batch ends */
    int64_t preserve_after_seconds; /* the ML service failing this long: points written without predictions; 0 never */
    int64_t backfill_per_run;     /* predictions a run backfills at most */
    int64_t topic_retention_seconds; /* the topic's retention when the broker does not say; 0: ask it */
    /* [ml] */
    char *ml_endpoint, *ml_params_text, *ml_response_field;
    struct config_param ml_params[AGG_MAX_FIELDS];
    size_t n_ml_params;
    int64_t ml_timeout_seconds, ml_retry_attempts, ml_max_parallel;
    /* [influxdb] */
    char *influx_url, *influx_database, *influx_measurement, *influx_source_tag;
    char *influx_username, *influx_password, *influx_token, *influx_ca_file;
    int64_t influx_timeout_seconds, influx_retry_attempts, influx_points_per_write;
    /* [state] */
    char *state_database;
    int64_t state_keep_days, state_quarantine_max_mb; /* retention */
    /* [metrics] */
    char *metrics_textfile;
    /* [notify] */
    char *notify_command; /* empty = off */
    int64_t notify_timeout_seconds, notify_max_attempts, notify_retry_seconds;
    int64_t notify_runs_failing, notify_episode_long_seconds; /* 0 = off */

    int holds_secret; /* a password, token, private key or client secret is set, in its own key or in a URL */
    int *lines;       /* per known key (config_each() order): the line that set it, 0 = default */
};

/* Load path into *cfg (defaults first, then the file, then cross-checks).
 * Returns 0, or -1 with a "file:line: [section] key: problem" message in
 * err. Either way *cfg owns memory that config_free() releases. A secret
 * (holds_secret) in a file others can read draws a warning through the log:
 * "FILE holds a password or token and is readable by every user; chmod o-r it". */
int config_load(struct config *cfg, const char *path, char *err, size_t errsz);

/* The same from a string; name stands for the file in messages. For tests. */
int config_load_string(struct config *cfg, const char *text, const char *name, char *err, size_t errsz);

/* One setting as config_each() reports it: the value as text (owned by
 * the config or a static string; valid until config_free()), the line of
 * the file that set it (0: the default), and whether it is a secret (the
 * caller masks it). */
struct config_setting {
    const char *section, *key, *value;
    int line, secret, passthrough; /* passthrough: a librdkafka property */
};

/* Call fn for every key spillway knows, in the documented order, then for
 * every [kafka] property passed through to librdkafka. Stops when fn
 * returns non-zero and returns that. */
int config_each(const struct config *cfg, int (*fn)(const struct config_setting *s, void *arg), void *arg);

/* Refuse a configuration that others can change: the file at path, or its
 * directory (the one it names and the one it is in, after symbolic
 * links), writable by anyone but its owner and root -- group- or
 * world-writable (a group of root aside; a sticky directory's other users
 * cannot replace a file they do not own). It names commands to run, as
 * logrotate and OpenSSH's StrictModes reason. Returns 0, or -1 with
 * "FILE is writable by others (mode 0666): ..." in err. */
int config_check_writable(const char *path, char *err, size_t errsz);

/* The value of a passthrough [kafka] property, or NULL. */
const char *config_kafka_prop(const struct config *cfg, const char *key);

void config_free(struct config *cfg);

#endif

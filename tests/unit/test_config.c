/* SPDX-License-Identifier: BSD-2-Clause */
/* test_config.c -- ini parsing: defaults, overrides, and every error naming
 * file, line and key, word for word. */
#include "config.h"
#include "tap.h"

static char err[1024];

static int load(struct config *cfg, const char *text)
{
    err[0] = '\0';
    return config_load_string(cfg, text, "t.ini", err, sizeof err);
}

/* The error a text produces (the config is freed). */
static const char *error_of(const char *text)
{
    struct config cfg;
    int rc = load(&cfg, text);
    config_free(&cfg);
    return rc == 0 ? "(loaded)" : err;
}

int main(void)
{
    struct config cfg;

    is_int(load(&cfg, ""), 0, "an empty file is a valid config");
    is_str(cfg.topic, "stress-topic", "default topic");
    is_str(config_kafka_prop(&cfg, "group.id"), "dask-fallback-consumer", "default group");
    is_str(config_kafka_prop(&cfg, "bootstrap.servers"), "kafka:9092", "default bootstrap");
    is_str(cfg.primary_group, "flink-consumer", "default primary group");
    is_int(cfg.batch_size, 1000, "default batch_size");
    is_int(cfg.batch_timeout_seconds, 30, "default batch timeout");
    is_int(cfg.window_seconds, 30, "default window");
    is_int(cfg.start_from, START_PRIMARY, "default start_from");
    is_str(cfg.influx_database, "flink_sink", "default database");
    is_str(cfg.influx_measurement, "nurse_stress", "default measurement");
    is_str(cfg.influx_source_tag, "dask-fallback", "default source tag");
    is_int(cfg.nfields, 6, "six default fields");
    is_str(cfg.fields[3], "EDA", "fields in order");
    is_int(cfg.n_ml_params, 6, "six default ML params");
    is_str(cfg.ml_params[4].name, "hr", "param name");
    is_int(cfg.ml_params[4].field, 4, "hr is HR's mean");
    is_int(cfg.latency_threshold_seconds, 300, "default latency threshold");
    is_int(cfg.consecutive_violations, 3, "default violations");
    config_free(&cfg);

    is_int(load(&cfg,
                "; comment\n[kafka]\ntopic = t2\nbootstrap.servers = 127.0.0.1:9\nsecurity.protocol = plaintext\n"
                "[drain]\nbatch_size = 50 ; inline comment\nstart_from = latest\n[avro]\nfields = HR , TEMP\n"
                "[ml]\nparams = hr=HR,temp=TEMP\n"),
           0, "overrides load");
    is_str(cfg.topic, "t2", "topic overridden");
    is_str(config_kafka_prop(&cfg, "security.protocol"), "plaintext", "a librdkafka property passes through");
    is_int(cfg.batch_size, 50, "inline comment stripped");
    is_int(cfg.start_from, START_LATEST, "start_from latest");
    is_int(cfg.nfields, 2, "two fields");
    is_str(cfg.fields[1], "TEMP", "spaces around list items trimmed");
    config_free(&cfg);

    is_str(error_of("[drain]\nbatch_size = 10\nbogus = 1\n"), "t.ini:3: [drain] bogus: unknown key", "unknown key");
    is_str(error_of("\n[nope]\nx = 1\n"), "t.ini:3: [nope] x: unknown section", "unknown section");
    is_str(error_of("[drain]\nbatch_size = lots\n"), "t.ini:2: [drain] batch_size: not an integer: \"lots\"",
           "not an integer");
    is_str(error_of("[drain]\nbatch_size = 0\n"),
           "t.ini:2: [drain] batch_size: must be between 1 and 1000000000000, not 0", "out of range");
    is_str(error_of("[drain]\nwindow_seconds = 5\n\nwindow_seconds = 6\n"),
           "t.ini:4: [drain] window_seconds: set twice (first on line 2)", "duplicate key");
    is_str(error_of("[drain]\nstart_from = beginning\n"),
           "t.ini:2: [drain] start_from: must be primary, earliest or latest, not \"beginning\"", "bad enum");
    is_str(error_of("[kafka]\nenable.auto.commit = true\n"),
           "t.ini:2: [kafka] enable.auto.commit: spillway sets this itself (it commits only after InfluxDB "
           "accepted the batch)",
           "auto-commit cannot be turned on");
    is_str(error_of("[kafka]\nbootstrap.server = x:1\n"),
           "t.ini:2: [kafka] bootstrap.server: No such configuration property: \"bootstrap.server\"",
           "a misspelt librdkafka property is caught with its line");
    is_str(error_of("[kafka]\ntopic = a\nthis is not ini\n"),
           "t.ini:3: syntax error: expected \"key = value\", \"[section]\" or a comment", "syntax error line");
    is_str(error_of("[drain]\nbatch_size = 5\n  window_seconds = 5\n"),
           "t.ini:3: [drain] batch_size: indented line (inih would read it as the continuation of the previous "
           "value); start keys at the beginning of the line",
           "an indented line is refused, not silently merged");
    char longline[400];
    snprintf(longline, sizeof longline, "[ml]\nendpoint = http://x/%0250d\n", 0);
    is_str(error_of(longline), "t.ini:2: line is longer than 198 bytes", "inih's line limit is reported");
    is_str(error_of("[ml]\nparams = hr=HRV\n"),
           "t.ini:2: [ml] params: \"hr=HRV\" names a field that is not in [avro] fields", "param of unknown field");
    is_str(error_of("[ml]\nparams = hr\n"), "t.ini:2: [ml] params: \"hr\" is not name=FIELD", "param without =");
    is_str(error_of("[avro]\nfields = X,,Y\n"),
           "t.ini:2: [avro] fields: expected 1 to 32 comma-separated field names, got \"X,,Y\"", "empty field");
    is_str(error_of("[avro]\nfields = X,Y\n"),
           "t.ini: [ml] params (default): \"z=Z\" names a field that is not in [avro] fields",
           "a default that no longer fits is named as a default");
    is_str(error_of("[check]\nresume_threshold_seconds = 300\n"),
           "t.ini:2: [check] resume_threshold_seconds: must be below latency_threshold_seconds (300), or the "
           "checker would flap",
           "cross-field check");
    is_str(error_of("[kafka]\nprimary_group = dask-fallback-consumer\n"),
           "t.ini:2: [kafka] primary_group: is the same as group.id \"dask-fallback-consumer\": spillway would "
           "commit the primary's offsets",
           "the primary's group cannot be ours");
    is_str(error_of("[influxdb]\nurl = influxdb:8086\n"),
           "t.ini:2: [influxdb] url: not an http:// or https:// URL: \"influxdb:8086\"", "URL without scheme");
    is_str(error_of("[influxdb]\nmeasurement = nurse\\\n"),
           "t.ini:2: [influxdb] measurement: has a backslash before ',', '=', ' ', '\"' or at its end, which "
           "InfluxDB would read back altered",
           "a measurement line protocol cannot carry");
    is_str(error_of("[influxdb]\nmeasurement = #nurse\n"),
           "t.ini:2: [influxdb] measurement: starts with '#', which makes InfluxDB read the whole line as a comment",
           "a measurement InfluxDB would take for a comment");
    is_str(error_of("[avro]\nfields = X,Y\\\"Z\n"),
           "t.ini:2: [avro] fields: field name \"Y\\\"Z\" has a backslash before ',', '=', ' ', '\"' or at its "
           "end, which InfluxDB would read back altered",
           "a field name with \\\" that InfluxDB would store altered");
    is_str(error_of("[influxdb]\nsource_tag =\n"), "t.ini:2: [influxdb] source_tag: may not be empty",
           "required value empty");
    is_str(error_of("[drain]\nbatch_size = 5x\n[drain]\nbogus = 1\n"),
           "t.ini:2: [drain] batch_size: not an integer: \"5x\"", "the first error is the one reported");

    is_int(load(&cfg, "[influxdb]\npassword = s3cret\n"), 0, "a password loads");
    is_int(cfg.holds_secret, 1, "and is known to be a secret");
    config_free(&cfg);
    is_int(load(&cfg, "[kafka]\nsasl.password = x\n"), 0, "a SASL password loads");
    is_int(cfg.holds_secret, 1, "and is a secret too");
    config_free(&cfg);
    is_int(load(&cfg, ""), 0, "the defaults load");
    is_int(cfg.holds_secret, 0, "and hold no secret");
    config_free(&cfg);

    /* every librdkafka 2.0.2 property that holds a secret, and some that do not */
    static const struct {
        const char *line;
        int secret;
    } kafka_secrets[] = {
        { "ssl.key.password = x", 1 },
        { "ssl.key.pem = -----BEGIN PRIVATE KEY-----", 1 },
        { "ssl.keystore.password = x", 1 },
        { "sasl.password = x", 1 },
        { "sasl.oauthbearer.client.secret = x", 1 },
        { "sasl.oauthbearer.config = principal=admin", 1 },
        { "sasl.oauthbearer.token.endpoint.url = https://id:pw@idp/token", 1 },
        { "sasl.oauthbearer.token.endpoint.url = https://idp/token", 0 },
        { "ssl.certificate.pem = -----BEGIN CERTIFICATE-----", 0 },
        { "ssl.ca.pem = -----BEGIN CERTIFICATE-----", 0 },
        { "ssl.key.location = /etc/spillway/client.key", 0 },
        { "sasl.username = spillway", 0 },
        { "sasl.password =", 0 },
    };
    for (size_t i = 0; i < sizeof kafka_secrets / sizeof kafka_secrets[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "[kafka]\n%s\n", kafka_secrets[i].line);
        if (load(&cfg, text) != 0) {
            /* Debian's librdkafka is built without OIDC */
            if (strstr(err, "not supported in this build"))
                ok(1, "[kafka] %s # skip not supported by this librdkafka build", kafka_secrets[i].line);
            else
                ok(0, "[kafka] %s loads: %s", kafka_secrets[i].line, err);
        } else {
            is_int(cfg.holds_secret, kafka_secrets[i].secret, "[kafka] %s %s", kafka_secrets[i].line,
                   kafka_secrets[i].secret ? "is a secret" : "is no secret");
        }
        config_free(&cfg);
    }

    static const struct {
        const char *text;
        int secret;
    } url_secrets[] = {
        { "[influxdb]\nurl = http://admin:pw@influxdb:8086\n", 1 },
        { "[influxdb]\nurl = http://influxdb:8086/?u=admin&p=pw\n", 1 },
        { "[influxdb]\nurl = http://admin@influxdb:8086\n", 0 },
        { "[ml]\nendpoint = http://ml:5000/model/api/predict?token=t\n", 1 },
        { "[ml]\nendpoint = http://u:p@ml:5000/model/api/predict\n", 1 },
        { "[check]\nflink_url = https://u:p@jobmanager:8081\n", 1 },
        { "[check]\nrunner_command = curl -X POST http://u:p@runner/start\n", 1 },
        { "[check]\nflink_url = https://jobmanager:8081\n", 0 },
    };
    for (size_t i = 0; i < sizeof url_secrets / sizeof url_secrets[0]; i++) {
        const char *t = url_secrets[i].text, *key = strchr(t, '\n') + 1;
        if (load(&cfg, t) != 0)
            ok(0, "%.*s loads: %s", (int)strcspn(key, "\n"), key, err);
        else
            is_int(cfg.holds_secret, url_secrets[i].secret, "%.*s %s", (int)strcspn(key, "\n"), key,
                   url_secrets[i].secret ? "is a secret" : "is no secret");
        config_free(&cfg);
    }

    struct config missing;
    is_int(config_load(&missing, "/nonexistent/spillway.ini", err, sizeof err), -1, "a missing file fails");
    is_str(err, "/nonexistent/spillway.ini: cannot open: No such file or directory", "naming the file");
    config_free(&missing);
    return tap_done();
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* main.c -- spillway's command line: one table of commands and one of their
 * options, from which the parsing, the usage and each command's --help are
 * made, with the exit codes of exitcodes.h. */
#include <curl/curl.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "doctor.h"
#include "drain.h"
#include "exitcodes.h"
#include "force.h"
#include "log.h"
#include "replay.h"
#include "settings.h"
#include "status.h"
#include "store.h"

/* The options that belong to one command or another, in one table that
 * the parser, the check that a command takes what it is given and the usage
 * error all read; each command's --help says what one does there. */
enum command_option { OPT_DRY_RUN, OPT_JSON, OPT_REASON, NOPTIONS };
static const struct {
    const char *name; /* without its leading "--" */
    int has_arg;      /* getopt_long's no_argument or required_argument */
} command_options[NOPTIONS] = {
    [OPT_DRY_RUN] = { "dry-run", no_argument },
    [OPT_JSON] = { "json", no_argument },
    [OPT_REASON] = { "reason", required_argument },
};
#define OPT(o) (1u << (o))
/* getopt_long's answer for command option o: past every character */
#define OPT_VAL(o) (256 + (int)(o))

/* What a command is given: the loaded configuration and its path, its one
 * argument (force, replay) and its options. */
struct invocation {
    const struct config *cfg;
    const char *config_path;
    const char *arg;
    unsigned options;               /* OPT() of each given */
    const char *values[NOPTIONS];   /* the argument of each given that takes one */
};

static int run_check(const struct invocation *in) { return check_run(in->cfg, in->config_path); }

static int run_drain(const struct invocation *in)
{
    struct drain_options opt = { .dry_run = (in->options & OPT(OPT_DRY_RUN)) != 0 };
    return drain_run(in->cfg, &opt);
}

static int run_status(const struct invocation *in) { return status_run(in->cfg, (in->options & OPT(OPT_JSON)) != 0); }
static int run_force(const struct invocation *in) { return force_run(in->cfg, in->arg, in->values[OPT_REASON]); }
static int run_doctor(const struct invocation *in) { return doctor_run(in->cfg); }
static int run_config(const struct invocation *in) { return settings_run(in->cfg, (in->options & OPT(OPT_JSON)) != 0); }
static int run_replay(const struct invocation *in) { return replay_run(in->cfg, in->arg, (in->options & OPT(OPT_JSON)) != 0); }

static const struct command {
    const char *name;
    int (*run)(const struct invocation *in);
    const char *args;  /* what the one word after the command is; NULL: none */
    unsigned options;  /* OPT() of each it accepts */
    const char *synopsis, *summary;
    const char *help;  /* its own --help, after the synopsis */
} commands[] = {
    { "check", run_check, NULL, 0, "check", "the checker: probe, record, decide, launch the runner",
      "Probe the primary (Flink's health, the age of its newest point in InfluxDB, its\n"
      "consumer group's lag), record the check, decide (trip fallback mode after\n"
      "consecutive_violations, resume after consecutive_recoveries) and, in fallback\n"
      "mode, launch the runner unless one holds its lock. Run it every minute.\n" },
    { "drain", run_drain, NULL, OPT(OPT_DRY_RUN), "drain [--dry-run]",
      "drain one batch: consume, aggregate, predict, write, commit",
      "Read the backlog (between batch_size and max_batch_size messages, at most\n"
      "batch_timeout_seconds of reading), aggregate per id and window, ask the ML\n"
      "service, write to InfluxDB, then commit. Bad messages are quarantined.\n"
      "  --dry-run   read without joining the group; print the line protocol;\n"
      "              write, commit and record nothing\n" },
    { "status", run_status, NULL, OPT(OPT_JSON), "status [--json]",
      "mode, counters, checks, runs, backlog and episodes",
      "The mode and since when, the counters, the last checks, runs, transitions and\n"
      "episodes, the quarantine, and the fallback's backlog per partition in Kafka\n"
      "with the time to catch up at the recent drain rate.\n"
      "  --json      all of it as one JSON object on stdout\n" },
    { "force", run_force, "one of fallback, primary or auto", OPT(OPT_REASON), "force fallback|primary|auto [--reason TEXT]",
      "override the checker's decision, until force auto",
      "Force fallback or primary mode, or give the decision back to the checker\n"
      "(auto). Recorded as a transition, with who ran it and why.\n"
      "  --reason TEXT   why, for the record\n" },
    { "doctor", run_doctor, NULL, 0, "doctor", "check config, schema, state, Kafka, InfluxDB, ML, Flink",
      "One line per dependency: the configuration, the Avro schema, the state file,\n"
      "Kafka (the topic, both groups' lag), InfluxDB, the ML service and Flink.\n" },
    { "config", run_config, NULL, OPT(OPT_JSON), "config [--json]", "the effective configuration and where each value came from",
      "Every key spillway knows with its value and its origin (default, or\n"
      "FILE:LINE), the [kafka] properties passed to librdkafka, and the librdkafka\n"
      "properties spillway sets itself. Secrets are masked.\n"
      "  --json      as a JSON array of {section, key, value, origin}\n" },
    { "replay", run_replay, "a trace file", OPT(OPT_JSON), "replay FILE [--json]",
      "the checker's decisions over a recorded trace",
      "Run the checker's own decision, with this configuration, over FILE: a state\n"
      "database (its recorded checks; its force overrides applied) or a CSV with the\n"
      "header time,latency_seconds,lag_messages,lag_seconds,flink. One line per check\n"
      "(time, verdict, mode, action, what prediction said, reason), then\n"
      "  replay: C checks, T trips, R resumes, first trip at TIME\n"
      "Nothing is probed, written or launched.\n"
      "  --json      as one JSON object {checks, summary}\n" },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* The exit codes command returns (NULL: every code, with its general
 * meaning), one per line, each meaning wrapped to fit 80 columns. */
static void print_exit_codes(FILE *out, const char *command)
{
    fprintf(out, "\nexit codes:\n");
    for (size_t i = 0; i < exit_codes_count; i++) {
        const char *m, *end;
        int col;
        if (exit_codes[i].command || (m = exit_meaning(exit_codes[i].code, command)) == NULL)
            continue;
        col = fprintf(out, "  %-3d", exit_codes[i].code);
        for (; *m; m = end + (*end == ' ')) {
            end = strchr(m, ' ') ? strchr(m, ' ') : m + strlen(m);
            if (col + 1 + (end - m) > 79)
                col = fprintf(out, "\n     ");
            col += fprintf(out, " %.*s", (int)(end - m), m);
        }
        fputc('\n', out);
    }
}

static void usage(FILE *out)
{
    fprintf(out, "usage: spillway [-c FILE] [-v] COMMAND [OPTIONS]\n\n"
                 "A cron-style fallback drain for a Kafka -> stream processor -> InfluxDB pipeline.\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        int n = (int)strlen(commands[i].synopsis);
        if (n > 26)
            fprintf(out, "  %s\n  %26s %s\n", commands[i].synopsis, "", commands[i].summary);
        else
            fprintf(out, "  %-26s %s\n", commands[i].synopsis, commands[i].summary);
    }
    fprintf(out,
            "\noptions:\n"
            "  -c, --config FILE   configuration (default $SPILLWAY_CONFIG, else %s)\n"
            "  -v, --verbose       debug logging\n"
            "  -h, --help          this help; with a command, that command's\n"
            "  -V, --version       version and build defaults\n",
            CONFIG_DEFAULT_PATH);
    print_exit_codes(out, NULL);
    fprintf(out, "\nsee spillway(1) and spillway.ini(5)\n");
}

static void command_help(const struct command *cmd)
{
    printf("usage: spillway [-c FILE] [-v] %s\n\n%s\n\n%s", cmd->synopsis, cmd->summary, cmd->help);
    print_exit_codes(stdout, cmd->name);
}

/* "spillway: MESSAGE" and the usage on stderr. The message quotes the
 * command line, so it is escaped as log lines are: one line, whatever the
 * argument holds. */
static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void usage_error(const char *fmt, ...)
{
    char msg[LOG_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    log_vformat(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "spillway: %s\n", msg);
    usage(stderr);
}

static void version(void)
{
    printf("spillway %s\n", SPILLWAY_VERSION);
    printf("default config: %s\n", CONFIG_DEFAULT_PATH);
    printf("state schema version: %d\n", store_schema_version());
    printf("librdkafka %s, libcurl %s, SQLite %s\n", rd_kafka_version_str(), curl_version_info(CURLVERSION_NOW)->version,
           sqlite3_libversion());
}

static const struct command *command_named(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(name, commands[i].name) == 0)
            return &commands[i];
    return NULL;
}

/* The command and its words, checked against the table. Returns NULL
 * (usage error said) when they do not fit. */
static const struct command *parse_command(int argc, char **argv, unsigned given)
{
    const struct command *cmd;

    if (optind >= argc) {
        usage_error("no command given");
        return NULL;
    }
    if ((cmd = command_named(argv[optind])) == NULL) {
        usage_error("unknown command \"%s\"", argv[optind]);
        return NULL;
    }
    if (argc - optind - 1 != (cmd->args != NULL)) {
        usage_error("%s takes %s", cmd->name, cmd->args ? cmd->args : "no arguments");
        return NULL;
    }
    for (int o = 0; o < NOPTIONS; o++) {
        if ((given & ~cmd->options) & OPT(o)) {
            usage_error("--%s is not an option of %s", command_options[o].name, cmd->name);
            return NULL;
        }
    }
    return cmd;
}

/* The options every command takes; getopt_long's table is these, then
 * command_options[]. */
static const struct option global_options[] = {
    { "config", required_argument, NULL, 'c' }, { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },          { "version", no_argument, NULL, 'V' },
};
#define NGLOBAL (sizeof global_options / sizeof global_options[0])

static void long_options(struct option opts[NGLOBAL + NOPTIONS + 1])
{
    memcpy(opts, global_options, sizeof global_options);
    for (int o = 0; o < NOPTIONS; o++)
        opts[NGLOBAL + (size_t)o] = (struct option){ command_options[o].name, command_options[o].has_arg, NULL, OPT_VAL(o) };
    opts[NGLOBAL + NOPTIONS] = (struct option){ NULL, 0, NULL, 0 };
}

int main(int argc, char **argv)
{
    struct option opts[NGLOBAL + NOPTIONS + 1];
    struct invocation in = { .config_path = getenv("SPILLWAY_CONFIG") };
    const struct command *cmd;
    struct config cfg;
    char err[1024];
    int c, verbose = 0, help = 0, rc;

    if (in.config_path == NULL || in.config_path[0] == '\0')
        in.config_path = CONFIG_DEFAULT_PATH;
    long_options(opts);
    /* options may come before or after the command */
    while ((c = getopt_long(argc, argv, "c:vhV", opts, NULL)) != -1) {
        if (c >= OPT_VAL(0) && c < OPT_VAL(NOPTIONS)) {
            in.options |= OPT(c - OPT_VAL(0));
            in.values[c - OPT_VAL(0)] = optarg;
            continue;
        }
        switch (c) {
        case 'c': in.config_path = optarg; break;
        case 'v': verbose = 1; break;
        case 'h': help = 1; break;
        case 'V': version(); return 0;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (help) {
        if (optind < argc && (cmd = command_named(argv[optind])) != NULL)
            command_help(cmd);
        else
            usage(stdout);
        return 0;
    }
    log_init(verbose ? LOG_DEBUG : LOG_INFO);
    if ((cmd = parse_command(argc, argv, in.options)) == NULL)
        return EX_USAGE;
    in.arg = cmd->args ? argv[optind + 1] : NULL;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_err("cannot initialise libcurl");
        return EX_SOFTWARE;
    }
    if (config_load(&cfg, in.config_path, err, sizeof err) != 0) {
        log_err("%s", err);
        config_free(&cfg);
        curl_global_cleanup();
        return EX_CONFIG;
    }
    /* before any command it names can run; doctor reports it itself */
    if (cmd->run != run_doctor && config_check_writable(in.config_path, err, sizeof err) != 0) {
        log_err("%s", err);
        config_free(&cfg);
        curl_global_cleanup();
        return EX_CONFIG;
    }
    in.cfg = &cfg;
    rc = cmd->run(&in);
    config_free(&cfg);
    curl_global_cleanup();
    return rc;
}

/* main.c -- spillway's command line: one table of commands, from which the
 * parsing, the usage and each command's --help are made. */
#include <curl/curl.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "check.h"
#include "config.h"
#include "doctor.h"
#include "drain.h"
#include "force.h"
#include "log.h"
#include "replay.h"
#include "settings.h"
#include "status.h"
#include "store.h"

/* Options that belong to one command; the others take none. */
enum { OPT_DRY_RUN = 1, OPT_JSON = 2, OPT_REASON = 4 };
static const char *const option_names[] = { "--dry-run", "--json", "--reason" };

/* What a command is given: the loaded configuration and its path, its one
 * argument (force) and its options. */
struct invocation {
    const struct config *cfg;
    const char *config_path;
    const char *arg;
    unsigned options; /* OPT_* given */
    const char *reason;
};

static int run_check(const struct invocation *in) { return check_run(in->cfg, in->config_path); }

static int run_drain(const struct invocation *in)
{
    struct drain_options opt = { .dry_run = (in->options & OPT_DRY_RUN) != 0 };
    return drain_run(in->cfg, &opt);
}

static int run_status(const struct invocation *in) { return status_run(in->cfg, (in->options & OPT_JSON) != 0); }
static int run_force(const struct invocation *in) { return force_run(in->cfg, in->arg, in->reason); }
static int run_doctor(const struct invocation *in) { return doctor_run(in->cfg); }
static int run_config(const struct invocation *in) { return settings_run(in->cfg, (in->options & OPT_JSON) != 0); }
static int run_replay(const struct invocation *in) { return replay_run(in->cfg, in->arg, (in->options & OPT_JSON) != 0); }

static const struct command {
    const char *name;
    int (*run)(const struct invocation *in);
    const char *args;  /* what the one word after the command is; NULL: none */
    unsigned options;  /* OPT_* it accepts */
    const char *synopsis, *summary;
    const char *help;  /* its own --help, after the synopsis */
} commands[] = {
    { "check", run_check, NULL, 0, "check", "the checker: probe, record, decide, launch the runner",
      "Probe the primary (Flink's health, the age of its newest point in InfluxDB, its\n"
      "consumer group's lag), record the check, decide (trip fallback mode after\n"
      "consecutive_violations, resume after consecutive_recoveries) and, in fallback\n"
      "mode, launch the runner unless one holds its lock. Run it every minute.\n"
      "exit: 0 ok, 69 a probe could not be made or the runner could not be launched\n" },
    { "drain", run_drain, NULL, OPT_DRY_RUN, "drain [--dry-run]",
      "drain one batch: consume, aggregate, predict, write, commit",
      "Read the backlog (between batch_size and max_batch_size messages, at most\n"
      "batch_timeout_seconds of reading), aggregate per id and window, ask the ML\n"
      "service, write to InfluxDB, then commit. Bad messages are quarantined.\n"
      "  --dry-run   read without joining the group; print the line protocol;\n"
      "              write, commit and record nothing\n"
      "exit: 0 ok, 69 Kafka, InfluxDB or the ML service unavailable,\n"
      "      75 another runner holds the lock, or the group gave it no partitions\n"
      "      (or took them all), 78 configuration\n" },
    { "status", run_status, NULL, OPT_JSON, "status [--json]",
      "mode, counters, checks, runs, backlog and episodes",
      "The mode and since when, the counters, the last checks, runs, transitions and\n"
      "episodes, the quarantine, and the fallback's backlog per partition in Kafka\n"
      "with the time to catch up at the recent drain rate.\n"
      "  --json      all of it as one JSON object on stdout\n" },
    { "force", run_force, "one of fallback, primary or auto", OPT_REASON, "force fallback|primary|auto [--reason TEXT]",
      "override the checker's decision, until force auto",
      "Force fallback or primary mode, or give the decision back to the checker\n"
      "(auto). Recorded as a transition, with who ran it and why.\n"
      "  --reason TEXT   why, for the record\n" },
    { "doctor", run_doctor, NULL, 0, "doctor", "check config, schema, state, Kafka, InfluxDB, ML, Flink",
      "One line per dependency: the configuration, the Avro schema, the state file,\n"
      "Kafka (the topic, both groups' lag), InfluxDB, the ML service and Flink.\n"
      "exit: 0 when everything answers, 69 when something does not, 78 configuration\n" },
    { "config", run_config, NULL, OPT_JSON, "config [--json]", "the effective configuration and where each value came from",
      "Every key spillway knows with its value and its origin (default, or\n"
      "FILE:LINE), the [kafka] properties passed to librdkafka, and the librdkafka\n"
      "properties spillway sets itself. Secrets are masked.\n"
      "  --json      as a JSON array of {section, key, value, origin}\n" },
    { "replay", run_replay, "a trace file", OPT_JSON, "replay FILE [--json]",
      "the checker's decisions over a recorded trace",
      "Run the checker's own decision, with this configuration, over FILE: a state\n"
      "database (its recorded checks; its force overrides applied) or a CSV with the\n"
      "header time,latency_seconds,lag_messages,lag_seconds,flink. One line per check\n"
      "(time, verdict, mode, action, what prediction said, reason), then\n"
      "  replay: C checks, T trips, R resumes, first trip at TIME\n"
      "Nothing is probed, written or launched.\n"
      "  --json      as one JSON object {checks, summary}\n"
      "exit: 0 ok, 65 FILE is not a trace (the line named), 66 FILE cannot be read\n" },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

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
            "  -V, --version       version and build defaults\n"
            "\n"
            "exit codes: 0 ok, 64 usage, 69 a dependency unavailable,\n"
            "            75 temporary (another runner holds the lock), 78 configuration\n"
            "see spillway(1) and spillway.ini(5)\n",
            CONFIG_DEFAULT_PATH);
}

static void command_help(const struct command *cmd)
{
    printf("usage: spillway [-c FILE] [-v] %s\n\n%s\n\n%s", cmd->synopsis, cmd->summary, cmd->help);
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
    for (size_t i = 0; i < sizeof option_names / sizeof option_names[0]; i++) {
        if ((given & ~cmd->options) & (1u << i)) {
            usage_error("%s is not an option of %s", option_names[i], cmd->name);
            return NULL;
        }
    }
    return cmd;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },          { "version", no_argument, NULL, 'V' },
        { "dry-run", no_argument, NULL, 'n' },       { "json", no_argument, NULL, 'j' },
        { "reason", required_argument, NULL, 'r' },  { NULL, 0, NULL, 0 },
    };
    struct invocation in = { .config_path = getenv("SPILLWAY_CONFIG") };
    const struct command *cmd;
    struct config cfg;
    char err[1024];
    int c, verbose = 0, help = 0, rc;

    if (in.config_path == NULL || in.config_path[0] == '\0')
        in.config_path = CONFIG_DEFAULT_PATH;
    /* options may come before or after the command */
    while ((c = getopt_long(argc, argv, "c:vhVnjr:", opts, NULL)) != -1) {
        switch (c) {
        case 'c': in.config_path = optarg; break;
        case 'v': verbose = 1; break;
        case 'h': help = 1; break;
        case 'V': version(); return 0;
        case 'n': in.options |= OPT_DRY_RUN; break;
        case 'j': in.options |= OPT_JSON; break;
        case 'r': in.reason = optarg; in.options |= OPT_REASON; break;
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

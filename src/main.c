/* main.c -- spillway: command-line parsing and dispatch to the commands. */
#include <curl/curl.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "config.h"
#include "check.h"
#include "doctor.h"
#include "drain.h"
#include "log.h"
#include "status.h"
#include "store.h"

enum command_id { CMD_CHECK, CMD_DRAIN, CMD_STATUS, CMD_FORCE, CMD_DOCTOR };

/* Options that belong to one command; the others take none. */
enum { OPT_DRY_RUN = 1, OPT_JSON = 2, OPT_REASON = 4 };
static const char *const option_names[] = { "--dry-run", "--json", "--reason" };

static const struct command {
    const char *name;
    enum command_id id;
    int args;          /* words after the command */
    unsigned options;  /* OPT_* it accepts */
} commands[] = {
    { "check", CMD_CHECK, 0, 0 },
    { "drain", CMD_DRAIN, 0, OPT_DRY_RUN },
    { "status", CMD_STATUS, 0, OPT_JSON },
    { "force", CMD_FORCE, 1, OPT_REASON },
    { "doctor", CMD_DOCTOR, 0, 0 },
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: spillway [-c FILE] [-v] COMMAND [OPTIONS]\n"
            "\n"
            "A cron-style fallback drain for a Kafka -> stream processor -> InfluxDB pipeline.\n"
            "\n"
            "commands:\n"
            "  check                      the checker: probe, record, decide, launch the runner\n"
            "  drain [--dry-run]          drain one batch: consume, aggregate, predict, write, commit\n"
            "  status [--json]            mode, counters, recent checks, runs and transitions\n"
            "  force fallback|primary|auto [--reason TEXT]\n"
            "                             override the checker's decision, until force auto\n"
            "  doctor                     check config, schema, state, Kafka, InfluxDB, ML, Flink\n"
            "\n"
            "options:\n"
            "  -c, --config FILE   configuration (default $SPILLWAY_CONFIG, else %s)\n"
            "  -v, --verbose       debug logging\n"
            "  -h, --help          this help\n"
            "  -V, --version       version and build defaults\n"
            "\n"
            "exit codes: 0 ok, 64 usage, 65 data refused, 69 a dependency unavailable,\n"
            "            75 temporary (another runner holds the lock), 78 configuration\n",
            CONFIG_DEFAULT_PATH);
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

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },          { "version", no_argument, NULL, 'V' },
        { "dry-run", no_argument, NULL, 'n' },       { "json", no_argument, NULL, 'j' },
        { "reason", required_argument, NULL, 'r' },  { NULL, 0, NULL, 0 },
    };
    const char *config_path = getenv("SPILLWAY_CONFIG");
    struct drain_options dopt = { 0 };
    struct config cfg;
    char err[1024];
    const char *reason = NULL;
    const struct command *cmd = NULL;
    unsigned given = 0;
    int c, verbose = 0, rc;

    if (config_path == NULL || config_path[0] == '\0')
        config_path = CONFIG_DEFAULT_PATH;
    /* options may come before or after the command */
    while ((c = getopt_long(argc, argv, "c:vhVnjr:", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'v': verbose = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': version(); return 0;
        case 'n': dopt.dry_run = 1; given |= OPT_DRY_RUN; break;
        case 'j': given |= OPT_JSON; break;
        case 'r': reason = optarg; given |= OPT_REASON; break;
        default: usage(stderr); return EX_USAGE;
        }
    }
    log_init(verbose ? LOG_DEBUG : LOG_INFO);
    if (optind >= argc) {
        usage_error("no command given");
        return EX_USAGE;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[optind], commands[i].name) == 0)
            cmd = &commands[i];
    if (cmd == NULL) {
        usage_error("unknown command \"%s\"", argv[optind]);
        return EX_USAGE;
    }
    if (argc - optind - 1 != cmd->args) {
        usage_error("%s takes %s", cmd->name, cmd->args ? "one of fallback, primary or auto" : "no arguments");
        return EX_USAGE;
    }
    for (size_t i = 0; i < sizeof option_names / sizeof option_names[0]; i++) {
        if ((given & ~cmd->options) & (1u << i)) {
            usage_error("%s is not an option of %s", option_names[i], cmd->name);
            return EX_USAGE;
        }
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_err("cannot initialise libcurl");
        return EX_SOFTWARE;
    }
    if (config_load(&cfg, config_path, err, sizeof err) != 0) {
        log_err("%s", err);
        config_free(&cfg);
        curl_global_cleanup();
        return EX_CONFIG;
    }
    switch (cmd->id) {
    case CMD_CHECK: rc = check_run(&cfg, config_path); break;
    case CMD_DRAIN: rc = drain_run(&cfg, &dopt); break;
    case CMD_STATUS: rc = status_run(&cfg, (given & OPT_JSON) != 0); break;
    case CMD_FORCE: rc = force_run(&cfg, argv[optind + 1], reason); break;
    case CMD_DOCTOR: rc = doctor_run(&cfg); break;
    default: rc = EX_SOFTWARE;
    }
    config_free(&cfg);
    curl_global_cleanup();
    return rc;
}

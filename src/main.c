/* main.c -- spillway: command-line parsing and dispatch to the commands. */
#include <curl/curl.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <sqlite3.h>
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

static void version(void)
{
    printf("spillway %s\n", SPILLWAY_VERSION);
    printf("default config: %s\n", CONFIG_DEFAULT_PATH);
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
    int c, verbose = 0, json = 0, rc;

    if (config_path == NULL || config_path[0] == '\0')
        config_path = CONFIG_DEFAULT_PATH;
    /* options may come before or after the command */
    while ((c = getopt_long(argc, argv, "c:vhVnjr:", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'v': verbose = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': version(); return 0;
        case 'n': dopt.dry_run = 1; break;
        case 'j': json = 1; break;
        case 'r': reason = optarg; break;
        default: usage(stderr); return EX_USAGE;
        }
    }
    log_init(verbose ? LOG_DEBUG : LOG_INFO);
    if (optind >= argc) {
        fprintf(stderr, "spillway: no command given\n");
        usage(stderr);
        return EX_USAGE;
    }
    const char *cmd = argv[optind];
    int nargs = strcmp(cmd, "force") == 0 ? 2 : 1;
    if (strcmp(cmd, "drain") && strcmp(cmd, "check") && strcmp(cmd, "status") && strcmp(cmd, "force") &&
        strcmp(cmd, "doctor")) {
        fprintf(stderr, "spillway: unknown command \"%s\"\n", cmd);
        usage(stderr);
        return EX_USAGE;
    }
    if (argc - optind != nargs) {
        fprintf(stderr, "spillway: %s takes %s\n", cmd,
                nargs == 2 ? "one of fallback, primary or auto" : "no arguments");
        usage(stderr);
        return EX_USAGE;
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
    if (strcmp(cmd, "drain") == 0)
        rc = drain_run(&cfg, &dopt);
    else if (strcmp(cmd, "check") == 0)
        rc = check_run(&cfg, config_path);
    else if (strcmp(cmd, "status") == 0)
        rc = status_run(&cfg, json);
    else if (strcmp(cmd, "doctor") == 0)
        rc = doctor_run(&cfg);
    else
        rc = force_run(&cfg, argv[optind + 1], reason);
    config_free(&cfg);
    curl_global_cleanup();
    return rc;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* exitcodes.c -- the table of exitcodes.h: every code spillway returns, what
 * it means, and per command where the meaning differs. */
#include "exitcodes.h"

#include <string.h>

const struct exit_code exit_codes[] = {
    { EX_OK, NULL, 1, "ok" },
    { EX_OK, "drain", 0, "ok: what the run owned is written and committed (or there was nothing to read)" },
    { EX_USAGE, NULL, 1, "usage: an unknown command or option, a wrong, missing or extra argument" },
    { EX_DATAERR, NULL, 0, "the input is not what it should be" },
    { EX_DATAERR, "replay", 0, "FILE is not a trace (its first bad line is named)" },
    { EX_NOINPUT, NULL, 0, "an input file cannot be read" },
    { EX_NOINPUT, "replay", 0, "FILE cannot be read" },
    { EX_UNAVAILABLE, NULL, 0, "a dependency is unavailable" },
    { EX_UNAVAILABLE, "check", 0, "a probe could not be made (recorded unknown, no counter moved), or the runner could"
                                  " not be launched" },
    { EX_UNAVAILABLE, "drain", 0, "Kafka, the ML service or InfluxDB unavailable after the retries (what was not"
                                  " committed is read again by the next run)" },
    { EX_UNAVAILABLE, "doctor", 0, "a service does not answer as it should" },
    { EX_SOFTWARE, NULL, 1, "internal failure: out of memory, the state database failing, libcurl" },
    { EX_IOERR, NULL, 0, "standard output could not be written" },
    { EX_IOERR, "drain", 0, "--dry-run could not write the line protocol to standard output" },
    { EX_IOERR, "status", 0, NULL },
    { EX_IOERR, "config", 0, NULL },
    { EX_IOERR, "replay", 0, NULL },
    { EX_TEMPFAIL, NULL, 0, "temporary: the next run tries again" },
    { EX_TEMPFAIL, "drain", 0, "temporary: another runner holds the lock; the group gave this run no partition, or"
                               " took them all; an unfinished batch could not be re-read in time" },
    { EX_CONFIG, NULL, 1, "configuration: the file (or one others can write), or the state database" },
    { EX_CONFIG, "drain", 0, "configuration: the file, the schema, the state directory or its lock, the topic,"
                             " credentials, a 4xx of the ML service other than 400, 408 and 429" },
    { EX_CONFIG, "doctor", 0, "configuration: the file, the schema or the state" },
};
const size_t exit_codes_count = sizeof exit_codes / sizeof exit_codes[0];

const char *exit_meaning(int code, const char *command)
{
    const struct exit_code *general = NULL;

    for (size_t i = 0; i < exit_codes_count; i++) {
        const struct exit_code *e = &exit_codes[i];
        if (e->code != code)
            continue;
        if (e->command == NULL)
            general = e;
        else if (command && strcmp(e->command, command) == 0)
            return e->meaning ? e->meaning : general ? general->meaning : NULL;
    }
    return general && (general->every || command == NULL) ? general->meaning : NULL;
}

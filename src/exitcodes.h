/* SPDX-License-Identifier: BSD-2-Clause */
/* exitcodes.h -- spillway's exit codes: the sysexits(3) values it returns,
 * what each means, and which command returns which.
 *
 * The one list: usage() and every command's --help are printed from it, and
 * tests/t/05-cli.t holds spillway(1)'s EXIT STATUS and each command's source
 * to it. Modules return 0 or -1 and fill an error buffer; only main.c and
 * the commands (check.c, drain.c, status.c, force.c, doctor.c, settings.c,
 * replay.c) return these codes. */
#ifndef SPILLWAY_EXITCODES_H
#define SPILLWAY_EXITCODES_H

#include <stddef.h>
#include <sysexits.h>

/* A row is a code's general meaning (command NULL) or what it means for
 * one command. Every code has one general row, ahead of its commands' rows,
 * the codes in ascending order; usage() shows the general rows. A general row with every = 1 is a code any command may
 * return (main.c returns 64, 70 and 78 before a command runs); any other
 * code comes only from the commands that have a row of their own for it. A
 * command's row with meaning NULL means the general meaning. */
struct exit_code {
    int code;
    const char *command;
    int every;
    const char *meaning;
};

extern const struct exit_code exit_codes[];
extern const size_t exit_codes_count;

/* What code means when command (a command's name; NULL: any) returns it:
 * the command's own row, else the general row when every command may return
 * it (or command is NULL). NULL when command never returns code, or code is
 * not spillway's. The string is static. */
const char *exit_meaning(int code, const char *command);

#endif

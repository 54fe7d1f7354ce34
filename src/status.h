/* status.h -- `spillway status` and `spillway force`: reading and
 * overriding the checker's state. */
#ifndef SPILLWAY_STATUS_H
#define SPILLWAY_STATUS_H

#include "config.h"

/* Print the mode and since when, the counters, the last checks, runs and
 * transitions, and the quarantine: a table, or JSON on stdout when json.
 * Returns a sysexits code. */
int status_run(const struct config *cfg, int json);

/* Force fallback or primary mode, or return to automatic decisions ("auto"),
 * recorded as a transition with reason (may be NULL). The counters restart
 * from zero. Returns a sysexits code (64 for an unknown mode). */
int force_run(const struct config *cfg, const char *what, const char *reason);

#endif

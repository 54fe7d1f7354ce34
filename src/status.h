/* SPDX-License-Identifier: BSD-2-Clause */
/* status.h -- `spillway status`: what the checker and the runner recorded,
 * and the fallback's backlog in Kafka. */
#ifndef SPILLWAY_STATUS_H
#define SPILLWAY_STATUS_H

#include "config.h"

/* Print the mode and since when, the counters, the last checks, runs and
 * transitions, and the quarantine: a table, or JSON on stdout when json.
 * Returns a sysexits code (exitcodes.h): 0, 70 when the state fails, 74
 * when stdout does, 78 when the state cannot be opened. */
int status_run(const struct config *cfg, int json);

#endif

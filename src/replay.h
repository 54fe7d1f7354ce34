/* SPDX-License-Identifier: BSD-2-Clause */
/* replay.h -- `spillway replay FILE [--json]`: the checker's decisions over
 * a recorded trace, with the effective configuration.
 *
 * FILE is a state database (its recorded checks, and its force overrides
 * applied where they were made) or a CSV trace (trace.h). Each check goes
 * through decide() -- the checker's own code -- with the history it would
 * have had: the checks before it and the mode changes replay itself made.
 * Nothing is probed, written or launched; replay reads FILE and the
 * configuration, nothing else. It starts in primary mode, as a new state
 * file does. Output, one line per check:
 *     TIME VERDICT MODE ACTION predict=WHAT(PROJECTION) REASON
 * (ACTION: trip, resume, run -- fallback mode asks for the runner -- or -)
 * and last, exactly:
 *     replay: C checks, T trips, R resumes, first trip at TIME
 * (TIME "-" when none); with --json one object {"checks": [...],
 * "summary": {...}}. */
#ifndef SPILLWAY_REPLAY_H
#define SPILLWAY_REPLAY_H

#include "config.h"

/* Returns a sysexits code (exitcodes.h): 66 when FILE cannot be read, 65
 * when it is not a trace (the line named), 74 when stdout fails, 70 on an
 * internal failure. */
int replay_run(const struct config *cfg, const char *file, int json);

#endif

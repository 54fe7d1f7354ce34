/* SPDX-License-Identifier: BSD-2-Clause */
/* force.h -- `spillway force`: a recorded manual override of the checker's
 * decision. */
#ifndef SPILLWAY_FORCE_H
#define SPILLWAY_FORCE_H

#include "config.h"

/* Force fallback or primary mode, or return to automatic decisions ("auto"),
 * recorded as a transition with reason (may be NULL) and who ran it. The
 * counters restart from zero. Returns a sysexits code (exitcodes.h; 64 for
 * an unknown mode). */
int force_run(const struct config *cfg, const char *what, const char *reason);

#endif

/* check.h -- `spillway check`: the one-shot checker.
 *
 * Probe (no lock held), then in one immediate transaction: read the stored
 * state, decide, record the check (and the transition, if the mode
 * changed), store the new state, and launch the runner when the new mode is
 * fallback and no runner holds the lock. Log lines are the reference's, so
 * operators' greps keep working. */
#ifndef SPILLWAY_CHECK_H
#define SPILLWAY_CHECK_H

#include "config.h"

/* Returns a sysexits code: 0, 69 when a probe could not be made (recorded as
 * unknown, no counter moved) or the runner could not be launched, 78 when
 * the state cannot be opened. config_path is passed on to a launched
 * `spillway drain`. */
int check_run(const struct config *cfg, const char *config_path);

#endif

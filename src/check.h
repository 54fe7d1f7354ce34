/* SPDX-License-Identifier: BSD-2-Clause */
/* check.h -- `spillway check`: the one-shot checker.
 *
 * Probe (no lock held), then in one immediate transaction: read the stored
 * state and the history the decision needs (the last checks, the recent
 * mode changes), decide, record the check (and the transition, if the mode
 * changed), store the new state and the events it raised (outbox.h); then
 * launch the runner when the new mode is fallback and no runner holds the
 * lock, deliver the pending notifications, rewrite the metrics textfile and
 * prune old checks. Log lines are the reference's, so operators' greps keep
 * working. */
#ifndef SPILLWAY_CHECK_H
#define SPILLWAY_CHECK_H

#include "config.h"
#include "decide.h"

/* The most mode changes a flap bound may count ([check] flap_changes). */
#define CHECK_MAX_FLAP_CHANGES 1000

/* Returns a sysexits code, one of exitcodes.h's rows for check: 69 when a
 * probe could not be made (recorded as unknown, no counter moved) or the
 * runner could not be launched, 70 when the state fails, 78 when it cannot be
 * opened. config_path is passed on to a launched `spillway drain`. */
int check_run(const struct config *cfg, const char *config_path);

/* The decision's thresholds from the configuration: the one place both the
 * checker and replay take them from. */
void check_thresholds(const struct config *cfg, struct thresholds *t);

#endif

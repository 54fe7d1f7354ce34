/* SPDX-License-Identifier: BSD-2-Clause */
/* level.h -- the runner's fallback level, a pure decision: "normal" (every
 * point written with its prediction; a run the ML service fails commits
 * nothing) or "preserve" (the ML service has been failing for
 * [drain] preserve_after_seconds: points are written without stress_level,
 * committed, and their predictions backfilled once it answers again, see
 * backfill.h). No clock, no I/O: the runs' record is the input.
 *
 * The rules: a run enters the preserve level when the streak of runs whose
 * ML service failed (this one included) began preserve_after_seconds ago or
 * more -- at its start, or when its own predictions fail; preserve_after 0
 * never does. A run in the preserve level asks the ML service once, before
 * its first chunk: an answer leaves the level (the run predicts, and
 * backfills); a failure keeps it. The level is recorded, with each change and
 * its reason, by the caller. */
#ifndef SPILLWAY_LEVEL_H
#define SPILLWAY_LEVEL_H

#include <stdint.h>

enum level { LEVEL_NORMAL, LEVEL_PRESERVE };

/* No streak of failing runs. */
#define LEVEL_NO_STREAK INT64_MIN

struct level_input {
    enum level recorded;         /* the level the state holds */
    int64_t now_ms;
    int64_t preserve_after_ms;   /* 0: never preserve */
    int64_t failing_since_ms;    /* when the streak of runs whose ML service failed began, LEVEL_NO_STREAK none */
};

/* Whether the ML service has failed long enough for this run to write
 * without predictions. */
int level_preserve_due(const struct level_input *in);

/* The level a run starts in: the recorded one, unless preserve_after was
 * set to 0 since (normal) or the streak is now long enough (preserve). */
enum level level_at_start(const struct level_input *in);

const char *level_name(enum level l);
int level_parse(const char *s, enum level *l);

#endif

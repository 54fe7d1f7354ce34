/* SPDX-License-Identifier: BSD-2-Clause */
/* startpos.h -- where a partition's run starts: a pure decision, no I/O.
 *
 * Inputs are offsets already read from Kafka: the fallback group's own
 * committed offset (and whether the run that committed it may have written
 * points beyond it), the primary group's committed offset, and the
 * partition's low and high watermarks. Offsets < 0 mean "none committed".
 * The rules, in order:
 *   - own offset, "clean": start at the later of own and the primary's, so a
 *     second episode does not redo what the primary already processed;
 *   - own offset, "dirty" (a run began writing from it and did not finish):
 *     start exactly there, even when the primary is ahead, because only a
 *     retry from the same offset rewrites the same points (window.h);
 *   - no own offset (first activation): per start_from, the primary's
 *     committed offset (the earliest when it has none), the earliest or the
 *     latest offset;
 *   - whatever is chosen is kept inside [low, high]: an offset below low was
 *     deleted by retention, one above high means the log was truncated. */
#ifndef SPILLWAY_STARTPOS_H
#define SPILLWAY_STARTPOS_H

#include <stdint.h>

#include "config.h"

enum start_reason {
    START_OWN,             /* the group's own committed offset */
    START_SKIP_TO_PRIMARY, /* the primary committed past our own offset */
    START_DIRTY_RETRY,     /* the primary is ahead, but an unfinished run wrote from own: retry there */
    START_FIRST_PRIMARY,   /* first activation: the primary's committed offset */
    START_FIRST_NO_PRIMARY, /* first activation, start_from=primary, the primary has none: earliest */
    START_FIRST_EARLIEST,
    START_FIRST_LATEST,
    START_BELOW_LOW,       /* the chosen offset was deleted by retention: the earliest still there */
    START_ABOVE_HIGH,      /* the chosen offset is past the end (log truncated): the end */
};

struct start_input {
    enum start_from start_from;
    int64_t own;      /* fallback group's committed offset, < 0 none */
    int own_dirty;    /* own was committed as "writing" and never finished */
    int64_t primary;  /* primary group's committed offset, < 0 none */
    int64_t low, high; /* watermarks, low <= high */
};

struct start_decision {
    int64_t offset;           /* where to start, low <= offset <= high */
    enum start_reason reason;
    int64_t skipped;          /* messages after own (or after low) that this run will not read:
                               * processed by the primary, or lost to retention */
};

/* Decide where one partition starts. Pure: same input, same answer. */
struct start_decision startpos_decide(const struct start_input *in);

/* A short phrase for logs and status, e.g. "the primary group's committed offset". */
const char *start_reason_text(enum start_reason r);

/* Whether the reason deserves a warning (data not read, or a surprise). */
int start_reason_warns(enum start_reason r);

#endif

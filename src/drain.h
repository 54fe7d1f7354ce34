/* SPDX-License-Identifier: BSD-2-Clause */
/* drain.h -- `spillway drain`: the one-shot batch runner.
 *
 * Consume a batch (its size from the backlog, between batch_size and
 * max_batch_size; ending sooner at batch_timeout_seconds, when every
 * partition is at its end, or when the aggregate table is full), admit and
 * aggregate the messages as they arrive (admit.h), ask the ML service for
 * each aggregate, write the points (sink.h), and only then commit the
 * offsets (consumer.h, ledger.h). Messages that are not admitted, aggregates
 * the ML service or InfluxDB refuse on their own, are quarantined in SQLite,
 * provisional until the commit. Any failure to write, or to predict outside
 * the preserve level, commits nothing: the next run reads the same messages
 * and rewrites the same points. In the preserve level (level.h) the points
 * are written without predictions and committed; a run whose service
 * answers backfills them (backfill.h). */
#ifndef SPILLWAY_DRAIN_H
#define SPILLWAY_DRAIN_H

#include "config.h"

struct drain_options {
    int dry_run; /* print the line protocol; write, commit and record nothing */
};

/* Run one batch (and further ones for partitions handed over meanwhile).
 * Returns a sysexits code, one of exitcodes.h's rows for drain (69 for a
 * dependency failing or refusing everything, 75 for the lock held, no
 * partition, a batch that could not be re-read in time or a signal, 78 for
 * configuration). */
int drain_run(const struct config *cfg, const struct drain_options *opt);

#endif

/* drain.h -- `spillway drain`: the one-shot batch runner.
 *
 * Consume at most batch_size messages (ending sooner at batch_timeout_seconds
 * or when every assigned partition is at its end), decode and aggregate them
 * as they arrive, ask the ML service for each aggregate, write the points to
 * InfluxDB, and only then commit the offsets. Undecodable messages and
 * aggregates the ML service refuses (4xx) are quarantined in SQLite. Any
 * failure to predict (5xx, timeout) or to write commits nothing: the next
 * run reads the same messages and rewrites the same points. */
#ifndef SPILLWAY_DRAIN_H
#define SPILLWAY_DRAIN_H

#include "config.h"

struct drain_options {
    int dry_run; /* print the line protocol; write, commit and record nothing */
};

/* Run one batch. Returns a sysexits code: 0 ok, 65 InfluxDB refused the
 * data, 69 Kafka, the ML service or InfluxDB unavailable, 75 another runner
 * holds the lock or the commit lost its partitions, 78 configuration. */
int drain_run(const struct config *cfg, const struct drain_options *opt);

#endif

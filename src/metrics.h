/* SPDX-License-Identifier: BSD-2-Clause */
/* metrics.h -- Prometheus metrics for node_exporter's textfile collector.
 *
 * Written from the state database after every check and every run, so the
 * file always shows the whole picture: mode, counters, the last check, the
 * last run, totals. Written to PATH.tmp then renamed to PATH, so the
 * collector never reads half a file. */
#ifndef SPILLWAY_METRICS_H
#define SPILLWAY_METRICS_H

#include <stddef.h>

#include "store.h"

/* Returns 0, or -1 with the reason in err (the caller only warns: metrics
 * never fail a check or a run). */
int metrics_write(const char *path, struct store *s, char *err, size_t errsz);

#endif

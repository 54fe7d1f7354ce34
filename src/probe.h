/* SPDX-License-Identifier: BSD-2-Clause */
/* probe.h -- what one check observes: the primary's health (Flink's REST
 * API), its latency (the newest point it wrote to InfluxDB) and, optionally,
 * its consumer group's lag per partition in messages and seconds (Kafka,
 * lagprobe.h). Each probe has its own timeout, so a
 * check always ends well inside its interval; a probe that cannot be made
 * leaves its part of the observation unknown, with the reason in err. */
#ifndef SPILLWAY_PROBE_H
#define SPILLWAY_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "decide.h"

/* Fill obs from every configured probe, with now_ms as "now" (the clock is
 * read once per check): health, latency, and the lag per partition in
 * messages and seconds (lagprobe.h). errs receives the reasons of the
 * probes that failed, "; "-separated (empty when none). why holds
 * obs->why_unhealthy. Release obs with probe_release(). */
void probe_all(const struct config *cfg, int64_t now_ms, struct observation *obs, char *why, size_t whysz,
               char *errs, size_t errsz);
/* Free what probe_all() allocated in obs (its partitions_json). */
void probe_release(struct observation *obs);

/* The primary's latency: now_ms minus the time of its newest point in the
 * lookback window (probe_age()), or the lookback itself when there is none
 * (*found = 0).
 * Returns 0, or -1 with the reason in err: InfluxDB did not answer, or the
 * point is too far in the future. */
int probe_latency(const struct config *cfg, int64_t now_ms, double *latency_s, int *found, char *err,
                  size_t errsz);

/* How far ahead of this host's clock a point may be and still count as
 * fresh (age 0): event times are the sensors' clocks, a little ahead at
 * times. Further ahead, a clock is wrong -- this host's jumped back, or the
 * writer's is off -- and an age read from it would declare a stalled
 * primary fresh (a backward jump) for as long as the jump: the latency is
 * unknown instead, and no counter moves. */
#define PROBE_FUTURE_TOLERANCE_S 60

/* The age in seconds of a point at last_ms, at now_ms: 0 for a point up to
 * PROBE_FUTURE_TOLERANCE_S ahead; -1 with *age_s negative for one further
 * ahead. Pure. */
int probe_age(int64_t now_ms, int64_t last_ms, double *age_s);

enum flink_health {
    FLINK_HEALTHY,
    FLINK_UNHEALTHY, /* the reason in why */
    FLINK_UNKNOWN,   /* the JobManager did not answer in time: the reason in why */
};

/* Flink: healthy when /overview counts a running job and no job listed by
 * /jobs/overview is FAILING or RESTARTING (jobs-running counts those too). */
enum flink_health probe_flink(const char *base_url, long timeout_s, char *why, size_t whysz);

/* Classify one Flink /jobs/overview document (pure, for the tests):
 * returns 1 when some job is RUNNING and none is FAILING or RESTARTING. */
int probe_flink_jobs(const char *json, size_t len, char *why, size_t whysz);

#endif

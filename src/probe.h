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
 * lookback window (0 for a point from the future), or the lookback itself
 * when there is none (*found = 0).
 * Returns 0, or -1 with the reason in err. */
int probe_latency(const struct config *cfg, int64_t now_ms, double *latency_s, int *found, char *err,
                  size_t errsz);

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

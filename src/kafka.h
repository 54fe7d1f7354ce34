/* SPDX-License-Identifier: BSD-2-Clause */
/* kafka.h -- Kafka, read only: the configuration every handle is made from,
 * the topic's partitions, groups' committed offsets, watermarks and lag.
 *
 * Nothing here joins a group or commits: a handle made by
 * kafka_reader_new_conf() carries a group.id only so that it may read that
 * group's offsets. The runner's own consumer, which does join and commit, is
 * consumer.h. */
#ifndef SPILLWAY_KAFKA_H
#define SPILLWAY_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ledger.h"

/* A librdkafka configuration for a consumer of group: spillway's defaults
 * (kafkaprops.h), then the operator's [kafka] properties (which win), then
 * the properties the commit-after-write guarantee fixes (which nobody
 * overrides), and the log callback every handle shares (librdkafka's lines
 * through log.h, as warnings or debug). Returns NULL with the reason in
 * err. */
rd_kafka_conf_t *kafka_conf_new(const struct config *cfg, const char *group, char *err, size_t errsz);

/* A consumer handle from a configuration made by kafka_conf_new() (and set
 * further by the caller) that never joins a group nor commits: it reads the
 * offsets of its configuration's group.id. conf is consumed either way.
 * Returns NULL with err. Free with kafka_reader_free(). */
rd_kafka_t *kafka_reader_new_conf(rd_kafka_conf_t *conf, char *err, size_t errsz);
void kafka_reader_free(rd_kafka_t *rk);

/* The number of partitions of the configured topic, found in an all-topics
 * metadata request (asking by name makes brokers with auto-creation, and the
 * mock, create a misspelt topic). Returns 0, or -1 with err; *missing is set
 * when the broker answered and the topic is not there (a configuration
 * error rather than an unavailable broker). */
int kafka_topic_partitions(rd_kafka_t *rk, const struct config *cfg, int timeout_ms, int32_t *nparts, int *missing,
                           char *err, size_t errsz);

/* Offsets are read into struct ledger_offsets (ledger.h): committed offset,
 * mark, watermarks. */

/* Read rk's group's committed offsets (and marks) into out[i].committed and
 * .mark. Returns 0, or -1 with err (the whole request or a partition
 * failed: a partial answer is no answer). */
int kafka_read_committed(rd_kafka_t *rk, const char *topic, const int32_t *parts, int n, int timeout_ms,
                         struct ledger_offsets *out, char *err, size_t errsz);

/* The same for any group, read through any handle (the admin API's
 * ListConsumerGroupOffsets): the runner reads the primary group's offsets
 * through its own consumer rather than a second handle with its own
 * threads and connections. Only the offset and the mark are set. */
int kafka_read_group_committed(rd_kafka_t *rk, const char *group, const char *topic, const int32_t *parts, int n,
                               int timeout_ms, struct ledger_offsets *out, char *err, size_t errsz);

/* Read the low and high watermarks into out[i].low and .high, one
 * ListOffsets request per leader. Returns 0, or -1 with err. */
int kafka_read_watermarks(rd_kafka_t *rk, const char *topic, const int32_t *parts, int n, int timeout_ms,
                          struct ledger_offsets *out, char *err, size_t errsz);

/* Every partition of the topic, for each of groups[0..ngroups): the group's
 * committed offsets and marks and the watermarks, into out[g] (nparts
 * entries, index = partition; free() each). One handle (groups[0]'s), the
 * topic and the watermarks read once. Returns 0, or -1 with err and every
 * out[g] NULL. */
int kafka_groups_offsets(const struct config *cfg, const char *const *groups, int ngroups, int timeout_ms,
                         int32_t *nparts, struct ledger_offsets **out, char *err, size_t errsz);

/* The lag in messages over offs[0..nparts): the sum of each partition's high
 * watermark minus the committed offset (the low watermark where none is
 * committed, or where retention deleted past it). */
int64_t kafka_lag(const struct ledger_offsets *offs, int32_t nparts);

/* What kafka_read_times() puts where no time was read. */
#define KAFKA_TIME_NONE (-1) /* the message has no timestamp */
#define KAFKA_TIME_END (-2)  /* no message there: the end of the partition */

/* The timestamp of the message at offset at[i] of each partition i of
 * topic with at[i] >= 0 (others untouched), into ts[i] (epoch ms, or one of
 * the above), read through rk assign()ed there (it never joins a group nor
 * commits; it is unassigned after) until deadline (monotonic ms). Returns 0,
 * or -1 with err. */
int kafka_read_times(rd_kafka_t *rk, const char *topic, const int64_t *at, int32_t n, int64_t deadline, int64_t *ts,
                     char *err, size_t errsz);

/* The topic's retention.ms from the broker's configuration (DescribeConfigs,
 * sent to the controller; -1: kept for ever). Returns 0, or -1 with err: no
 * permission, no answer, or a cluster that names no controller (librdkafka's
 * mock, which does not answer DescribeConfigs either: said at once). */
int kafka_topic_retention(rd_kafka_t *rk, const char *topic, int timeout_ms, int64_t *retention_ms, char *err,
                          size_t errsz);

#endif

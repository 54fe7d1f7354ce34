/* kafka.h -- the runner's consumer: join the group, start at the right
 * offsets, hand out messages, know when the backlog is drained, commit.
 *
 * The consumer subscribes to the topic in the configured group (so runners
 * on several hosts share its partitions) with auto-commit off. When
 * partitions are assigned, each starts at the group's committed offset; a
 * partition the group has never committed (first activation) starts per
 * start_from: at the primary group's committed offset, at the earliest or at
 * the latest offset. Offsets are committed only by kafka_commit(), which the
 * runner calls after InfluxDB accepted the batch. */
#ifndef SPILLWAY_KAFKA_H
#define SPILLWAY_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "util.h"

struct kafka;

enum kafka_event {
    KAFKA_MESSAGE, /* *msg is set: the caller destroys it with rd_kafka_message_destroy() */
    KAFKA_IDLE,    /* nothing within the timeout */
    KAFKA_DRAINED, /* every assigned partition is at its end (or none was assigned) */
    KAFKA_FAILED,  /* a fatal consumer error; the reason is in err */
};

/* Create the consumer, check that the topic exists, subscribe. Returns NULL
 * with the reason in err; *config_error is set when the cause is the
 * configuration (e.g. the topic does not exist) rather than availability. */
struct kafka *kafka_open(const struct config *cfg, char *err, size_t errsz, int *config_error);

/* Wait up to timeout_ms for the next event. Every message handed out counts
 * as consumed: its offset will be committed by kafka_commit(). */
enum kafka_event kafka_next(struct kafka *k, int timeout_ms, rd_kafka_message_t **msg, char *err, size_t errsz);

/* CLOCK_MONOTONIC ms at which partitions were first assigned (the group
 * join is a fixed cost of every run), or 0 when none was yet. */
int64_t kafka_assigned_at(const struct kafka *k);

/* Stop fetching (the batch is complete); messages already prefetched are
 * dropped and will be read again by the next run. */
void kafka_pause(struct kafka *k);

/* Commit, synchronously, for each partition: the offset after the last
 * message handed out; or, for a partition consumed from nothing on its first
 * activation, the position it was started at, so that the next run goes on
 * from there. Returns the number of partitions committed, or -1 with err. */
int kafka_commit(struct kafka *k, char *err, size_t errsz);

/* The consumed ranges as JSON [{"partition":0,"from":10,"to":99},...]
 * (to inclusive) into out. */
int kafka_ranges_json(struct kafka *k, struct buf *out);

/* Leave the group at once (so the next run need not wait for a session
 * timeout) and free everything. */
void kafka_close(struct kafka *k);

/* The lag of group on the topic in messages: the sum over partitions of the
 * high watermark minus the group's committed offset (minus the low
 * watermark where it has none). A handle with that group.id is used only
 * to read; it never joins nor commits. Returns 0, or -1 with err. */
int kafka_group_lag(const struct config *cfg, const char *group, int timeout_ms, int64_t *lag, char *err,
                    size_t errsz);

#endif

/* consumer.h -- the runner's Kafka consumer: its life in the consumer group,
 * which partitions it owns, where each starts, and what it may commit.
 *
 * The consumer subscribes in the configured group with auto-commit off, so
 * runners on several hosts share the topic's partitions. Its contract:
 *   - Where a partition starts is startpos_decide() over the group's own
 *     committed offset, the primary group's, and the watermarks. The start
 *     is committed at once with the mark KAFKA_MARK_WRITING, before any
 *     message is handed out: a retry after a failure starts at the same
 *     offset and rewrites the same points.
 *   - A partition is *owned* from its assignment until it is revoked. A
 *     revocation during a rebalance that hands the partition straight back
 *     to the same member keeps it owned (nobody else can have had it in
 *     between), and reading goes on where it stopped. Any other revocation,
 *     or a lost assignment, *loses* the partition: the lost() hook tells the
 *     caller to drop what it consumed from it, and it is never committed by
 *     this run; its new owner re-reads it from the committed offset.
 *   - Only owned partitions are committed, synchronously, at the offset after
 *     the last message handed out, marked KAFKA_MARK_DONE. A commit refused
 *     because the group is rebalancing is retried once the rebalance is over,
 *     for the partitions still owned.
 *   - Time spent joining or rebalancing is reported separately, so that the
 *     caller's batch timeout counts only time spent consuming.
 * In CONSUMER_READ_ONLY mode (a dry run) it never joins the group and never
 * commits: it assign()s every partition at the start the group would use. */
#ifndef SPILLWAY_CONSUMER_H
#define SPILLWAY_CONSUMER_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "mark.h"
#include "util.h"

struct consumer;

enum consumer_mode {
    CONSUMER_GROUP,     /* join the group, own partitions, commit */
    CONSUMER_READ_ONLY, /* assign every partition; never join nor commit */
};

struct consumer_hooks {
    /* Partition p is lost: forget everything consumed from it in this run
     * (handed: how many messages were handed out from it). Called from
     * inside consumer_next(), consumer_service(), consumer_settle() or
     * consumer_commit(). May be NULL. */
    void (*lost)(int32_t p, int64_t handed, void *arg);
    void *arg;
};

/* Create the consumer, check that the topic exists, and subscribe (or, read
 * only, assign). Returns NULL with err; *config_error is set when the cause
 * is the configuration (the topic does not exist, a bad property). */
struct consumer *consumer_open(const struct config *cfg, enum consumer_mode mode, const struct consumer_hooks *hooks,
                               char *err, size_t errsz, int *config_error);

enum consumer_event {
    CONSUMER_MESSAGE, /* *msg is set: destroy it with rd_kafka_message_destroy() */
    CONSUMER_IDLE,    /* nothing within the timeout, or only group events */
    CONSUMER_DRAINED, /* assigned, not rebalancing, every owned partition at its end */
    CONSUMER_FAILED,  /* a fatal error; the reason is in err */
};

/* Wait up to timeout_ms for the next event. Every message handed out is
 * counted as consumed from its partition. */
enum consumer_event consumer_next(struct consumer *c, int timeout_ms, rd_kafka_message_t **msg, char *err,
                                  size_t errsz);

/* Stop consuming: pause every partition. Messages that still arrive are
 * dropped, never handed out. */
void consumer_stop(struct consumer *c);

/* Start another pass: read the partitions owned now that no earlier pass
 * of this run has read (handed to this runner after consumer_stop()), and
 * only those. Returns how many there are (0: nothing to do, still stopped). */
int consumer_resume_unread(struct consumer *c);

/* Serve pending group events without consuming (keeps the membership alive
 * while the caller predicts and writes, and learns of revocations). */
void consumer_service(struct consumer *c);

/* Serve group events until no rebalance is in progress, at most timeout_ms.
 * Returns 0, or -1 with err (still rebalancing, or fatal). */
int consumer_settle(struct consumer *c, int timeout_ms, char *err, size_t errsz);

/* Whether partition p is owned now (see above). */
int consumer_owns(const struct consumer *c, int32_t p);

/* Before writing: for every owned partition read in this batch, commit its
 * start again with the batch's end in its mark (mark.h), so that a retry
 * after a failure reads at least as far. Waits out rebalances within
 * timeout_ms; a partition lost meanwhile is reported to the lost() hook.
 * Returns 0, or -1 with err: then nothing may be written. */
int consumer_mark_ends(struct consumer *c, int timeout_ms, char *err, size_t errsz);

/* Whether an owned partition this batch reads is still short of where an
 * unfinished earlier batch read to: the batch must not end yet. */
int consumer_owes_reading(const struct consumer *c);

/* This batch's sequence number on partition p (for point timestamps), and
 * the event time at or below which a window may collide with a point of an
 * earlier batch (MARK_NO_TIME: none can). See mark.h and window.h. */
int64_t consumer_batch_seq(const struct consumer *c, int32_t p);

/* Whether this batch of partition p retries an unfinished one (whose
 * quarantined aggregates it replaces). */
int consumer_batch_is_retry(const struct consumer *c, int32_t p);
int64_t consumer_collision_horizon(const struct consumer *c, int32_t p);

/* Note the event time of a message of partition p read in this batch: the
 * latest goes into the done mark. */
void consumer_note_event_time(struct consumer *c, int32_t p, int64_t event_ms);

/* Commit the owned partitions not committed yet (see above); the wait for
 * rebalances to end is bounded by timeout_ms in all. Returns the number of partitions committed, or
 * -1 with err. Read-only consumers commit nothing and return 0. */
int consumer_commit(struct consumer *c, int timeout_ms, char *err, size_t errsz);

/* What happened so far, for the run's log line and its row. */
struct consumer_stats {
    int assigned;          /* an assignment (possibly empty) was received */
    int64_t assigned_at_ms; /* CLOCK_MONOTONIC of the first one, or 0 */
    int64_t rebalance_ms;  /* time spent waiting in rebalances after it */
    int rebalancing;       /* a rebalance is in progress now... */
    int64_t rebalancing_ms; /* ...for this long (included in rebalance_ms) */
    int owned;             /* partitions owned now */
    int lost;              /* partitions lost during the run */
    int64_t backlog;       /* messages between start and end of the partitions at their assignment */
    int64_t skipped;       /* messages skipped: processed by the primary, or deleted by retention */
    const char *group_error; /* the last group-level error reported, or NULL */
    const char *mark_error;  /* why a partition's start could not be committed (it was not read), or NULL */
};
void consumer_stats(const struct consumer *c, struct consumer_stats *st);

/* The committed ranges as JSON [{"partition":0,"from":10,"to":99},...]
 * (to inclusive) appended to out. Returns 0 or -1 (memory). */
int consumer_ranges_json(const struct consumer *c, struct buf *out);

/* Leave the group at once (so the next run need not wait for a session
 * timeout) and free everything. NULL is a no-op. */
void consumer_close(struct consumer *c);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* consumer.h -- the runner's Kafka consumer: its life in the consumer group,
 * and librdkafka's events fed to the ledger (ledger.h), which holds the
 * rules: where each partition starts, what a batch owes, which messages are
 * taken, what may be committed with which mark, whether a partition handed
 * back is still ours, when a write may go out.
 *
 * The consumer subscribes in the configured group with auto-commit off, so
 * runners on several hosts share the topic's partitions. Its contract:
 *   - A partition's start (ledger_decide_start()) is committed at once with
 *     a "writing" mark, before any message is handed out, and read back: a
 *     broker that does not keep commit metadata is a configuration error
 *     (every mark would read as a finished batch 0), and a start another
 *     member committed over in between is not ours.
 *   - A partition is *owned* from then until it is revoked. A revocation in
 *     a rebalance that hands the partition straight back to the same member
 *     keeps it owned only if what this run last committed on it is still
 *     there (nobody else had it and committed in between); reading goes on
 *     where it stopped. Any other revocation, or a lost assignment, *loses*
 *     the partition: the lost() hook tells the caller to drop what it
 *     consumed from it, and it is never committed by this run.
 *   - Before the first point is written, the owned partitions read get their
 *     end in their mark (consumer_mark_ends()); only owned partitions are
 *     committed, synchronously, marked done with the run's token. A commit
 *     refused because the group is rebalancing is retried once the rebalance
 *     is over, for the partitions still owned.
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
#include "ledger.h"
#include "util.h"

struct consumer;

enum consumer_mode {
    CONSUMER_GROUP,     /* join the group, own partitions, commit */
    CONSUMER_READ_ONLY, /* assign every partition; never join nor commit */
};

struct consumer_hooks {
    /* Partition p is lost: forget everything consumed from it in this run
     * (handed: how many messages were handed out from it). Called from
     * inside any call below that serves the consumer. May be NULL. */
    void (*lost)(int32_t p, int64_t handed, void *arg);
    void *arg;
};

/* Create the consumer, check that the topic exists, and subscribe (or, read
 * only, assign). token: the run's, written into its done marks (mark.h).
 * Returns NULL with err; *config_error is set when the cause is the
 * configuration (the topic does not exist, a bad property). */
struct consumer *consumer_open(const struct config *cfg, enum consumer_mode mode, const struct consumer_hooks *hooks,
                               uint32_t token, char *err, size_t errsz, int *config_error);

/* The number of partitions of the topic. */
int32_t consumer_partitions(const struct consumer *c);

enum consumer_event {
    CONSUMER_MESSAGE, /* *msg is set: destroy it with rd_kafka_message_destroy() */
    CONSUMER_IDLE,    /* nothing within the timeout, or only group events */
    CONSUMER_DRAINED, /* assigned, not rebalancing, every partition of the pass finished (ledger.h) */
    CONSUMER_FAILED,  /* a fatal error; the reason is in err; *config_error when it is the configuration's */
};

/* Wait up to timeout_ms for the next event. Every message handed out is
 * counted as taken from its partition. */
enum consumer_event consumer_next(struct consumer *c, int timeout_ms, rd_kafka_message_t **msg, int *config_error,
                                  char *err, size_t errsz);

/* The message at offset of partition p (the last handed out) does not fit
 * the batch: the batch stops reading p before it (ledger_give_back()). */
void consumer_give_back(struct consumer *c, int32_t p, int64_t offset);

/* The batch is full: partitions that owe nothing take no more messages.
 * Returns whether some partition still owes reading. */
int consumer_close_unowed(struct consumer *c);

/* Whether the message at offset of partition p is one this batch must read
 * whatever else happens (it re-reads an unfinished batch up to its end). */
int consumer_owed(const struct consumer *c, int32_t p, int64_t offset);

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

/* Before a write carrying points of partitions parts[0..n): serve the
 * consumer, wait out a rebalance, and wait until each may be written
 * (ledger_may_write()), at most timeout_ms in all. Returns 0 when every one
 * is still owned, 1 when one is not (the lost() hook has run), -1 with err. */
int consumer_fence(struct consumer *c, const int32_t *parts, size_t n, int timeout_ms, char *err, size_t errsz);

/* Before the first point is written: commit, for every owned partition read
 * in this batch, its start again with the batch's end in its mark. Waits
 * out rebalances within timeout_ms; a partition lost meanwhile is reported
 * to the lost() hook. Returns 0, or -1 with err: then nothing may be written. */
int consumer_mark_ends(struct consumer *c, int timeout_ms, char *err, size_t errsz);

/* Whether an owned partition this batch reads is still short of where an
 * unfinished earlier batch read to: the batch must not end yet. */
int consumer_owes_reading(const struct consumer *c);

/* This batch's sequence number on partition p (for point timestamps), and
 * the event time at or below which a window may collide with a point of an
 * earlier batch (MARK_NO_TIME: none can). See mark.h and window.h. */
int64_t consumer_batch_seq(const struct consumer *c, int32_t p);
int64_t consumer_collision_horizon(const struct consumer *c, int32_t p);

/* Whether this batch retries an unfinished one that may have written the
 * point of an aggregate of p whose first message is at first_offset
 * (ledger_may_have_written()). */
int consumer_may_have_written(const struct consumer *c, int32_t p, int64_t first_offset);

/* Points of partition p awaiting their predictions (backfill.h): *from_ms,
 * the oldest window (the mark's pend), and *upto_ms, the latest event time
 * the partition's batches have read (past it nothing was written);
 * *incarnation says which ownership of p this is. Returns 1 when there are
 * some and p is owned, 0 otherwise. */
int consumer_pending(const struct consumer *c, int32_t p, int64_t *from_ms, int64_t *upto_ms, uint64_t *incarnation);

/* This run's backfill looked at partition p's points up to until_ms, or
 * through all of them (MARK_NO_TIME); ledger_backfilled() -- only if p is
 * still owned in the same incarnation (lost and handed back meanwhile, its
 * points were not all seen). */
void consumer_backfilled(struct consumer *c, int32_t p, int64_t until_ms, uint64_t incarnation);

/* The batch wrote the point of partition p's window at window_ms without its
 * prediction; ledger_note_unpredicted(). */
void consumer_note_unpredicted(struct consumer *c, int32_t p, int64_t window_ms);

/* Note the event time of a message of partition p read in this batch: the
 * latest goes into the done mark. */
void consumer_note_event_time(struct consumer *c, int32_t p, int64_t event_ms);

/* Commit the owned partitions not committed yet (see above); the wait for
 * rebalances to end is bounded by timeout_ms in all. Before sending, calls
 * committing(parts, n, arg) with the partitions about to be committed (the
 * caller makes its quarantine rows durable: -1 stops the commit), and after,
 * committed(p, seq, arg) for each one Kafka accepted. Returns the number of
 * partitions committed, or -1 with err. Read-only consumers commit nothing
 * and return 0. */
struct consumer_commit_hooks {
    int (*committing)(const int32_t *parts, const int64_t *seqs, int n, void *arg);
    void (*committed)(int32_t p, int64_t seq, void *arg);
    void *arg;
};
int consumer_commit(struct consumer *c, const struct consumer_commit_hooks *hooks, int timeout_ms, char *err,
                    size_t errsz);

/* The group's committed offsets and marks of partitions parts[0..n), read
 * now through the consumer's handle. Returns 0, or -1 with err. */
int consumer_read_committed(struct consumer *c, const int32_t *parts, int n, struct ledger_offsets *out, char *err,
                            size_t errsz);

/* What happened so far, for the run's log line and its row. */
struct consumer_stats {
    int assigned;          /* an assignment (possibly empty) was received */
    int64_t assigned_at_ms; /* CLOCK_MONOTONIC of the first one, or 0 */
    int64_t rebalance_ms;  /* time spent waiting in rebalances after it */
    int rebalancing;       /* a rebalance is in progress now... */
    int64_t rebalancing_ms; /* ...for this long (included in rebalance_ms) */
    int owned;             /* partitions owned now */
    int lost;              /* partitions lost during the run */
    int held;              /* owned partitions a retry could not re-read in time: not committed */
    int64_t backlog;       /* messages between start and end of the partitions at their assignment */
    int64_t skipped;       /* messages skipped: processed by the primary, or deleted by retention */
    int64_t redone;        /* messages re-read (to rewrite an unfinished batch) that the primary had processed */
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

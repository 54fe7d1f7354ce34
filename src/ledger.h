/* SPDX-License-Identifier: BSD-2-Clause */
/* ledger.h -- the exactness rules of a run, per partition: where a batch
 * starts and what it owes, which messages it takes, when it may end, what it
 * commits with which mark, whether a partition handed back is still ours,
 * when a write may go out, what a quarantined aggregate means for a point an
 * earlier attempt wrote, and what becomes of quarantine rows whose run died
 * around its commit. Pure: values in, values out, no clock, no librdkafka,
 * curl or SQLite. consumer.c feeds it librdkafka's events; the deterministic
 * simulation (tests/sim) feeds it its models.
 *
 * The promise these rules keep: after any sequence of attempts on any hosts,
 * each valid message counts exactly once in (InfluxDB's points, by their
 * count field) and (the quarantine every host shows), and a run never redoes
 * what the primary group committed except what an unfinished batch must
 * rewrite. docs/guarantees.md gives the argument; tests/sim checks it.
 *
 * Offsets are Kafka offsets (int64, < 0: none). "Position" is where reading a
 * partition goes on: after the last message taken, or the batch's start. */
#ifndef SPILLWAY_LEDGER_H
#define SPILLWAY_LEDGER_H

#include <stdint.h>

#include "config.h"
#include "mark.h"
#include "startpos.h"

/* What Kafka holds for one partition. */
struct ledger_offsets {
    int64_t committed; /* the group's committed offset, < 0 none */
    struct mark mark;  /* the metadata beside it (mark.h) */
    int64_t low, high; /* watermarks */
};

/* ---- where a batch starts -------------------------------------------------------------- */

struct ledger_start {
    struct start_decision d; /* offset, reason, skipped (startpos.h) */
    struct mark mark;        /* this batch's mark: writing, its number */
    int64_t must_reach;      /* a retry reads at least up to here before it may end, -1 none */
    int64_t stop_at;         /* and never at or past here in this batch, -1 no bound */
    int64_t redone;          /* messages it re-reads that the primary had processed */
    int retry;               /* it rewrites an unfinished batch that began writing */
};

/* Decide one partition's start from the fallback group's offsets (own) and
 * the primary group's committed offset. The rules, beyond startpos.h's:
 *   - an unfinished batch that began writing (mark_wrote()) is retried:
 *     same number, from its start, reading at least to its end E (clamped to
 *     the high watermark) -- even when retention deleted its head; when the
 *     primary has processed past E, the retry stops at E (the next batch
 *     starts at the primary's offset) instead of redoing the primary's work;
 *   - an unfinished batch that wrote nothing owes nothing: the start is the
 *     later of both groups' offsets, with the same number;
 *   - an unfinished batch whose whole range retention deleted is left as it
 *     stands (its points stay); the next batch gets a new number, so that it
 *     cannot overwrite them. */
struct ledger_start ledger_decide_start(enum start_from start_from, const struct ledger_offsets *own,
                                        int64_t primary);

/* ---- a partition in this run ------------------------------------------------------------ */

enum ledger_state {
    LEDGER_NONE,      /* never assigned to this run */
    LEDGER_OWNED,     /* assigned and owned without a break since its start was committed */
    LEDGER_SUSPENDED, /* revoked in a rebalance: owned again only if it comes straight back unchanged */
    LEDGER_UNMARKED,  /* assigned, its start mark not committed yet (refused for a rebalance): not read */
    LEDGER_LOST,      /* was ours, is not: nothing of it is written or committed by this run */
};

struct ledger_part {
    enum ledger_state state;
    int active;          /* read in the current pass */
    int read;            /* read in an earlier pass of this run */
    int eof;             /* at its end (the broker said so), nothing taken since */
    int closed;          /* this batch takes no more of it (full table, or its stop_at reached) */
    int64_t start;       /* offset this batch started reading it from */
    int64_t first, last; /* taken, -1 when nothing */
    int64_t handed;      /* messages taken */
    int64_t done_at;     /* offset this run committed as done, -1 none */
    struct mark mark;    /* this batch's mark */
    int64_t must_reach, stop_at, redone;
    int retry;
    int64_t latest_ms;   /* latest event time noted in this batch, MARK_NO_TIME none */
    int64_t unpredicted_ms; /* oldest window this batch wrote without its prediction, MARK_NO_TIME none */
    int64_t pend_after;     /* the mark's pend once this run's backfill is done (initially the mark's) */
    /* what this run last saw the group hold on the partition: what it
     * decided on, then what it committed (start, end or done mark); a
     * partition handed back is ours only if this is still there */
    int64_t my_offset;
    char my_mark[MARK_TEXT_MAX];
    int64_t write_after_ms; /* a retry's first write waits until then (see ledger_may_write()) */
    uint64_t incarnation;   /* which beginning of the partition in this run (the caller numbers them) */
};

/* A partition newly assigned (or lost before): its batch from the start
 * decision s, made on own (what the group held). state is LEDGER_UNMARKED
 * until its start mark is committed. active: whether the run is consuming
 * (a later pass reads it then). now_ms: the run's monotonic clock;
 * settle_ms: see ledger_may_write(). */
void ledger_part_begin(struct ledger_part *kp, const struct ledger_start *s, const struct ledger_offsets *own,
                       int active, int64_t now_ms, int64_t settle_ms);

/* Whether the group still holds, on the partition, what this run last saw
 * there: what its decision was made on, until its start mark is committed,
 * then what it last committed. A start mark refused for a rebalance is made
 * again only if so (else another member had the partition in between). */
int ledger_unchanged(const struct ledger_part *kp, const struct ledger_offsets *now);

/* Where reading goes on. */
int64_t ledger_position(const struct ledger_part *kp);

/* Whether the message at offset is handed out: only for an owned, active,
 * open partition, never before its start, never twice, never at or past its
 * stop_at (reaching it closes the partition). Counts it when taken. */
int ledger_take(struct ledger_part *kp, int64_t offset);

/* The message at offset (the last taken) did not fit (the aggregate table is
 * full): reading stops before it, and this batch takes no more of the
 * partition. The next batch starts at offset. */
void ledger_give_back(struct ledger_part *kp, int64_t offset);

/* Whether this batch must go on reading the partition: it retries an
 * unfinished batch and has not reached that batch's end. */
int ledger_owes(const struct ledger_part *kp);

/* Whether the partition needs nothing more in this pass: not read, or at its
 * end, closed, or past what it must reach. */
int ledger_part_finished(const struct ledger_part *kp);

/* Close every partition that owes nothing (a full table ends the batch for
 * them); those that still owe reading go on. */
void ledger_close_unowed(struct ledger_part *parts, int32_t n);

/* A partition revoked: lost at once if the assignment was lost, else
 * suspended. Returns 1 when it was owned and is now lost. */
int ledger_revoke(struct ledger_part *kp, int assignment_lost);

/* A suspended partition assigned again. same_member: the runner kept its
 * member id; committed: what the group holds for it now. It is ours again
 * only if nobody committed on it in between (ledger_unchanged()). Returns 1
 * when it is owned again, 0 when it is lost. */
int ledger_resume(struct ledger_part *kp, int same_member, const struct ledger_offsets *committed);

/* Forget what was taken from a lost partition. Returns how many messages. */
int64_t ledger_lose(struct ledger_part *kp);

/* ---- what is committed ------------------------------------------------------------------- */

/* The end mark (before the first write): for an owned partition read in
 * this batch, the mark with end raised to the position (never lowered).
 * Returns 1 with *offset (the batch's start) and *m set, 0 when none is due. */
int ledger_end_mark(const struct ledger_part *kp, int64_t *offset, struct mark *m);

/* The done mark: for an owned partition whose position this run has not
 * committed yet, and that owes nothing. Its pend is the older of what the
 * backfill left and what this batch wrote without predictions. Returns 1
 * with *offset (the position) and *m set, 0 when none may be committed. */
int ledger_done_mark(const struct ledger_part *kp, uint32_t token, int64_t *offset, struct mark *m);

/* The batch wrote the point of a window starting at window_ms without its
 * prediction (the preserve level): the done mark's pend covers it. */
void ledger_note_unpredicted(struct ledger_part *kp, int64_t window_ms);

/* The batch read a message of event time event_ms: the done mark's hw
 * follows the latest. */
void ledger_note_event_time(struct ledger_part *kp, int64_t event_ms);

/* The newest event time read on the partition, this batch's or its mark's
 * hw: a window awaiting its prediction never starts after it. The pend when
 * neither is known. */
int64_t ledger_pending_upto(const struct ledger_part *kp);

/* This run's backfill examined the partition's points up to (not
 * including) until_ms, or through its latest event time (until_ms =
 * MARK_NO_TIME): nothing before that awaits a prediction any more. */
void ledger_backfilled(struct ledger_part *kp, int64_t until_ms);

/* Record a commit Kafka accepted for the partition (start, end or done). */
void ledger_committed(struct ledger_part *kp, int64_t offset, const struct mark *m, int done);

/* ---- writing -------------------------------------------------------------------------------- */

/* Whether a point of the partition may be written now: owned, the group not
 * rebalancing, and -- for a retry of a batch that began writing -- not
 * before write_after_ms. Why the wait: the unfinished attempt's runner may
 * have died with a write on the wire, which InfluxDB can apply for as long
 * as its own write timeout after the request was sent; the retry's point
 * must land after it. settle_ms (ledger_part_begin) is that time. */
int ledger_may_write(const struct ledger_part *kp, int rebalancing, int64_t now_ms);

/* A retry quarantines an aggregate whose first message is at first_offset:
 * whether the unfinished attempt may have written its point (the retry then
 * writes a point of count 0 over it, so that the messages count once: in
 * the quarantine). */
int ledger_may_have_written(const struct ledger_part *kp, int64_t first_offset);

/* ---- quarantine rows of runs that died around their commit ------------------------------- */

/* A host's quarantine rows are provisional until their run's done commit is
 * accepted (then final), and marked "committing" (durably) just before it
 * is sent. A run that died left them so; the next run on the host decides,
 * from what the group holds for the partition now: */
enum ledger_row_fate {
    LEDGER_ROW_DROP,       /* the batch was not finished by that run: the messages are its finisher's */
    LEDGER_ROW_FINAL,      /* that run's commit landed: the row stands */
    LEDGER_ROW_UNVERIFIED, /* too many batches finished since for the mark to say: kept, shown apart */
};
enum ledger_row_fate ledger_reconcile(int committing, int64_t seq, uint32_t token, const struct mark *now);

#endif

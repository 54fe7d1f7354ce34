/* SPDX-License-Identifier: BSD-2-Clause */
/* mark.h -- the commit metadata the runner leaves on each partition: what a
 * committed offset says about the run that committed it. Pure: parsing and
 * formatting, no I/O.
 *
 * Kafka keeps a short string beside every committed offset, shared by every
 * runner of the group. spillway writes one of two marks there:
 *   "spillway:writing seq=N [end=E] hw=H hwb=B fin=T,..."
 *       committed at a batch's start offset before anything is read: batch N
 *       of the partition is under way. end=E is added just before its first
 *       point is written and says where its reading stopped: from then on a
 *       retry must use the same N and read at least up to E, so that it
 *       rewrites every point the unfinished batch may have written, with at
 *       least the same fields (InfluxDB 1.x merges the fields of a rewritten
 *       point rather than replacing it). Without end, nothing was written:
 *       the next run owes nothing to it.
 *   "spillway:done seq=N hw=H hwb=B fin=T,..."
 *       committed at the end of batch N once its points are all written.
 * hw is the latest event time (epoch ms) of any message of the partition that
 * a finished batch read; hwb is what hw was when the sequence last entered a
 * new block of MARK_SEQ_BLOCK batches (see window_point_time_ns()). Both are
 * MARK_NO_TIME while unknown. pend is the start (epoch ms) of the oldest window
 * of the partition that has a point without its prediction (written in the
 * preserve level, level.h) not yet backfilled; MARK_NO_TIME when none. fin
 * lists the runs (their tokens, 8 hex
 * digits; 0 for a batch abandoned to retention) that finished the latest
 * batches, newest first: fin[0] finished
 * the latest finished batch (N for a done mark, N - 1 for a writing one),
 * fin[1] the one before, and so on, at most MARK_FIN_MAX. A runner that died
 * between Kafka accepting its done commit and recording that it did reads
 * here whether its commit landed (ledger_reconcile()).
 *
 * Anything else in the metadata (another tool's, an older spillway's, none,
 * or a field out of its range) reads as a finished batch 0. */
#ifndef SPILLWAY_MARK_H
#define SPILLWAY_MARK_H

#include <stddef.h>
#include <stdint.h>

/* Batches whose sequence numbers differ by a multiple of this share a point
 * timestamp discriminator; see window_point_time_ns(). */
#define MARK_SEQ_BLOCK INT64_C(976562)
#define MARK_NO_TIME INT64_MIN
/* The largest sequence number a mark may carry: a batch a minute for two
 * billion years, and far from int64's end, so seq + 1 never overflows. */
#define MARK_SEQ_MAX (INT64_C(1) << 50)
/* Offsets and event times beyond these are not ours (Kafka offsets are
 * int64; event times are within what InfluxDB stores). */
#define MARK_OFFSET_MAX (INT64_C(1) << 62)
#define MARK_TIME_ABS_MAX (INT64_C(1) << 62)
/* How many finishers a mark remembers. */
#define MARK_FIN_MAX 16

enum mark_kind { MARK_DONE, MARK_WRITING };

struct mark {
    enum mark_kind kind;
    int64_t seq; /* the batch: under way (writing) or the last finished (done) */
    int64_t end; /* writing: where the batch's reading stopped; -1 before its writes began */
    int64_t hw, hwb;
    int64_t pend;                 /* oldest window awaiting its prediction, MARK_NO_TIME none */
    int nfin;                     /* finishers known, newest first */
    uint32_t fin[MARK_FIN_MAX];   /* run tokens; 0: abandoned, nobody finished that batch */
};

/* Read len bytes of commit metadata (not NUL-terminated; NULL with len 0 is
 * none). Never fails: unknown metadata is a finished batch 0. */
void mark_parse(const void *metadata, size_t len, struct mark *m);

/* Write m as metadata text into out (at least MARK_TEXT_MAX bytes). Returns
 * the length. */
#define MARK_TEXT_MAX 320
size_t mark_format(const struct mark *m, char *out, size_t outsz);

/* Whether a writing mark says that its batch began writing points (it has
 * an end): only then does a retry owe anything. */
int mark_wrote(const struct mark *m);

/* The mark a new batch starts with, given the partition's committed mark:
 * after a finished batch, the next sequence number (entering a new block
 * records hw as hwb); after an unfinished one, the same batch again, with
 * its end (none if it wrote nothing). */
struct mark mark_next_batch(const struct mark *committed);

/* The mark a finished batch leaves: done, its sequence number, hw raised to
 * the latest event time it read (MARK_NO_TIME: it read none), token (the
 * finishing run's, not 0) first among the finishers, and pend as given
 * (the batch's backfill and preserve level decide it). */
struct mark mark_finished(const struct mark *writing, int64_t latest_event_ms, uint32_t token, int64_t pend);

/* The latest finished batch a mark knows of: seq for a done mark, seq - 1 for
 * a writing one. */
int64_t mark_last_finished(const struct mark *m);

/* Who finished batch seq according to m: its token, or 0 when m does not
 * say (the batch is not finished, or too old for m's finisher list). */
uint32_t mark_finisher(const struct mark *m, int64_t seq);

/* The event time at or below which a window may have been written by an
 * earlier batch with the same discriminator (a batch whose sequence number
 * is a multiple of MARK_SEQ_BLOCK smaller): MARK_NO_TIME in the first block,
 * when there is no earlier batch to collide with. */
int64_t mark_collision_horizon(const struct mark *writing);

#endif

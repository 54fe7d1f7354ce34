/* SPDX-License-Identifier: BSD-2-Clause */
/* ledger.c -- the exactness rules of a run, per partition, as pure functions. */
#include "ledger.h"

#include <string.h>

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

struct ledger_start ledger_decide_start(enum start_from start_from, const struct ledger_offsets *own,
                                        int64_t primary)
{
    /* only a batch that began writing binds the next run to its start */
    int wrote = own->committed >= 0 && mark_wrote(&own->mark);
    struct start_input in = { .start_from = start_from, .own = own->committed, .own_dirty = wrote,
                              .primary = primary, .low = own->low, .high = own->high };
    struct ledger_start s = { .d = startpos_decide(&in), .mark = mark_next_batch(&own->mark), .must_reach = -1,
                              .stop_at = -1 };

    if (!wrote)
        return s;
    int64_t end = own->mark.end;
    if (s.d.offset >= end) {
        /* retention deleted everything the unfinished batch read: nothing
         * can be rewritten, so its points stay as they are, and a new batch
         * number keeps the next one from overwriting them. A finisher of 0
         * says "abandoned": no run's quarantine rows belong to it. */
        struct mark abandoned = own->mark;
        abandoned.kind = MARK_DONE;
        in.own_dirty = 0; /* nothing owed: where a clean batch starts (the primary's work is not redone) */
        s.d = startpos_decide(&in);
        s.mark = mark_next_batch(&abandoned);
        s.mark.nfin = own->mark.nfin < MARK_FIN_MAX ? own->mark.nfin + 1 : MARK_FIN_MAX;
        memmove(&s.mark.fin[1], &own->mark.fin[0], (size_t)(s.mark.nfin - 1) * sizeof s.mark.fin[0]);
        s.mark.fin[0] = 0;
        return s;
    }
    s.retry = 1;
    s.must_reach = min64(end, own->high);
    /* what follows E the primary has processed: stop there, and the next
     * batch starts at the primary's offset */
    if (primary >= end)
        s.stop_at = end;
    if (primary > s.d.offset)
        s.redone = min64(primary, end) - s.d.offset;
    return s;
}

/* Remember (offset, m) as what the group holds, as text: marks are
 * compared as the group keeps them. */
static void ledger_seen(struct ledger_part *kp, int64_t offset, const struct mark *m)
{
    if (mark_format(m, kp->my_mark, sizeof kp->my_mark) >= sizeof kp->my_mark)
        kp->my_mark[0] = '\0'; /* never matches */
    kp->my_offset = offset < 0 ? -1 : offset;
}

void ledger_part_begin(struct ledger_part *kp, const struct ledger_start *s, const struct ledger_offsets *own,
                       int active, int64_t now_ms, int64_t settle_ms)
{
    *kp = (struct ledger_part){
        .state = LEDGER_UNMARKED,
        .active = active,
        .start = s->d.offset,
        .first = -1,
        .last = -1,
        .done_at = -1,
        .mark = s->mark,
        .must_reach = s->must_reach,
        .stop_at = s->stop_at,
        .redone = s->redone,
        .retry = s->retry,
        .latest_ms = MARK_NO_TIME,
        .unpredicted_ms = MARK_NO_TIME,
        .pend_after = s->mark.pend,
        .write_after_ms = s->retry ? now_ms + settle_ms : 0,
    };
    ledger_seen(kp, own->committed, &own->mark);
}

int ledger_unchanged(const struct ledger_part *kp, const struct ledger_offsets *now)
{
    char text[MARK_TEXT_MAX];
    size_t n;

    if ((now->committed < 0 ? -1 : now->committed) != kp->my_offset || kp->my_mark[0] == '\0')
        return 0;
    n = mark_format(&now->mark, text, sizeof text);
    return n < sizeof text && strcmp(text, kp->my_mark) == 0;
}

int64_t ledger_position(const struct ledger_part *kp)
{
    return kp->last >= 0 ? kp->last + 1 : kp->start;
}

int ledger_take(struct ledger_part *kp, int64_t offset)
{
    if (kp->state != LEDGER_OWNED || !kp->active || kp->closed || offset < kp->start ||
        (kp->last >= 0 && offset <= kp->last))
        return 0;
    if (kp->stop_at >= 0 && offset >= kp->stop_at) {
        kp->closed = 1;
        return 0;
    }
    kp->eof = 0;
    if (kp->first < 0)
        kp->first = offset;
    kp->last = offset;
    kp->handed++;
    return 1;
}

void ledger_give_back(struct ledger_part *kp, int64_t offset)
{
    if (offset == kp->first)
        kp->first = kp->last = -1;
    else
        kp->last = offset - 1; /* the position is offset, gaps in the log or not */
    kp->handed--;
    kp->closed = 1;
}

int ledger_owes(const struct ledger_part *kp)
{
    return kp->state == LEDGER_OWNED && kp->active && kp->must_reach > ledger_position(kp);
}

int ledger_part_finished(const struct ledger_part *kp)
{
    if (kp->state == LEDGER_UNMARKED)
        return 0; /* it will be read once its mark is committed */
    if (kp->state != LEDGER_OWNED || !kp->active)
        return 1;
    return kp->eof || kp->closed || (kp->stop_at >= 0 && ledger_position(kp) >= kp->stop_at);
}

void ledger_close_unowed(struct ledger_part *parts, int32_t n)
{
    for (int32_t p = 0; p < n; p++)
        if (parts[p].state == LEDGER_OWNED && parts[p].active && !ledger_owes(&parts[p]))
            parts[p].closed = 1;
}

int ledger_revoke(struct ledger_part *kp, int assignment_lost)
{
    if (kp->state == LEDGER_UNMARKED) {
        kp->state = LEDGER_NONE; /* never read: its next assignment decides it afresh */
        return 0;
    }
    if (kp->state != LEDGER_OWNED)
        return 0;
    if (assignment_lost)
        return 1;
    kp->state = LEDGER_SUSPENDED;
    return 0;
}

int ledger_resume(struct ledger_part *kp, int same_member, const struct ledger_offsets *committed)
{
    /* another member that had it in between committed at least its own
     * start mark: the same offset and mark mean nobody wrote on it */
    if (kp->state != LEDGER_SUSPENDED || !same_member || !ledger_unchanged(kp, committed))
        return 0;
    kp->state = LEDGER_OWNED;
    return 1;
}

int64_t ledger_lose(struct ledger_part *kp)
{
    int64_t handed = kp->handed;

    kp->state = LEDGER_LOST;
    kp->first = kp->last = -1;
    kp->handed = 0;
    kp->eof = 0;
    return handed;
}

int ledger_end_mark(const struct ledger_part *kp, int64_t *offset, struct mark *m)
{
    int64_t pos = ledger_position(kp);

    if (kp->state != LEDGER_OWNED || kp->last < 0 || kp->mark.end >= pos)
        return 0;
    *m = kp->mark;
    m->end = pos; /* above the mark's own end: never lowered */
    *offset = kp->start;
    return 1;
}

int ledger_done_mark(const struct ledger_part *kp, uint32_t token, int64_t *offset, struct mark *m)
{
    int64_t pos = ledger_position(kp);

    /* A retry that has not re-read what the unfinished batch wrote (it was
     * given the partition too late, say) must leave that batch's mark in
     * place: marked done, the next run would start a new batch and write
     * those messages again beside the points the unfinished one left. */
    if (kp->state != LEDGER_OWNED || kp->done_at == pos || kp->must_reach > pos)
        return 0;
    int64_t pend = kp->pend_after;
    if (kp->unpredicted_ms != MARK_NO_TIME && (pend == MARK_NO_TIME || kp->unpredicted_ms < pend))
        pend = kp->unpredicted_ms;
    *m = mark_finished(&kp->mark, kp->latest_ms, token, pend);
    *offset = pos;
    return 1;
}

void ledger_note_unpredicted(struct ledger_part *kp, int64_t window_ms)
{
    if (kp->unpredicted_ms == MARK_NO_TIME || window_ms < kp->unpredicted_ms)
        kp->unpredicted_ms = window_ms;
}

void ledger_note_event_time(struct ledger_part *kp, int64_t event_ms)
{
    if (kp->latest_ms == MARK_NO_TIME || event_ms > kp->latest_ms)
        kp->latest_ms = event_ms;
}

int64_t ledger_pending_upto(const struct ledger_part *kp)
{
    int64_t upto = kp->latest_ms != MARK_NO_TIME && kp->latest_ms > kp->mark.hw ? kp->latest_ms : kp->mark.hw;

    return upto == MARK_NO_TIME ? kp->pend_after : upto;
}

void ledger_backfilled(struct ledger_part *kp, int64_t until_ms)
{
    if (kp->pend_after != MARK_NO_TIME && (until_ms == MARK_NO_TIME || until_ms > kp->pend_after))
        kp->pend_after = until_ms;
}

void ledger_committed(struct ledger_part *kp, int64_t offset, const struct mark *m, int done)
{
    ledger_seen(kp, offset, m);
    if (kp->state == LEDGER_UNMARKED)
        kp->state = LEDGER_OWNED;
    if (done)
        kp->done_at = offset;
    else if (m->kind == MARK_WRITING && m->end > kp->mark.end)
        kp->mark.end = m->end;
}

int ledger_may_write(const struct ledger_part *kp, int rebalancing, int64_t now_ms)
{
    return kp->state == LEDGER_OWNED && !rebalancing && now_ms >= kp->write_after_ms;
}

int ledger_may_have_written(const struct ledger_part *kp, int64_t first_offset)
{
    return kp->retry && first_offset < kp->must_reach;
}

enum ledger_row_fate ledger_reconcile(int committing, int64_t seq, uint32_t token, const struct mark *now)
{
    int64_t finished = mark_last_finished(now);
    uint32_t by;

    if (!committing)
        return LEDGER_ROW_DROP; /* its run never sent the commit */
    if (now->seq < seq || (now->seq == 0 && now->nfin == 0))
        return LEDGER_ROW_UNVERIFIED; /* the group's offsets were reset or expired: history is gone */
    if (finished < seq)
        return LEDGER_ROW_DROP; /* the batch is still unfinished: its commit did not land */
    by = mark_finisher(now, seq);
    if (by != 0)
        return by == token ? LEDGER_ROW_FINAL : LEDGER_ROW_DROP;
    return finished - seq < now->nfin ? LEDGER_ROW_DROP /* abandoned */ : LEDGER_ROW_UNVERIFIED;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* sim.c -- a deterministic simulation of spillway's exactness: runners on one to three hosts, each with its own
 * state, in one consumer group, against models of the group (assignments, revocations, sessions that expire,
 * commits refused while it rebalances), of InfluxDB (points merged by series and time; refused per point, refused
 * whole, unavailable, applied with the answer lost, applied late), of the ML service (answers, refusals that change
 * between attempts, failures) and of the primary moving ahead, with runners killed at any step, frozen, and hosts
 * losing power. The runner drives the real rules: ledger.c, mark.c, startpos.c, agg.c, sink.c (its line protocol
 * and its request splitting) and window.c; what it models is librdkafka, curl and SQLite.
 *
 * After each schedule the faults stop and the hosts run until every partition is committed to its end; then every
 * message must count exactly once in InfluxDB's points (by the offsets each point holds) or the quarantine every
 * host shows -- or not at all when the primary had processed it and a run skipped it --, a valid message must never
 * sit in the quarantine but in an aggregate a sink or the ML service refused on its own, and no run may have read
 * what the primary had processed unless it rewrote an unfinished batch. A violation prints its seed and the command
 * that replays it with a trace.
 *
 * Usage: sim [--schedules N] [--first S] [--seed S] [--trace] [--max-violations N] [--jobs J]
 * (tests/README.md; tests/sim/mutants.sh shows that it catches each fix put back) */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agg.h"
#include "backfill.h"
#include "config.h"
#include "ledger.h"
#include "level.h"
#include "mark.h"
#include "sink.h"
#include "window.h"

#define MAXP 3          /* partitions */
#define MAXH 3          /* hosts */
#define MAXMSG 48       /* messages a partition holds at most */
#define MAXROWS 256     /* quarantine rows a host holds at most */
#define MAXPOINTS 512   /* points InfluxDB holds at most */
#define MAXLATE 64      /* writes InfluxDB may apply late */
#define SESSION 12      /* steps without a poll before the group drops a member */
#define SETTLE 36       /* ledger's settle time, in steps: a retry's first write waits this long */
#define LATE_MAX 30     /* a write InfluxDB applies late lands within this many steps (< SETTLE) */
#define CHAOS_STEPS 300 /* steps of faults per schedule, then quiescence */

/* ---- the random source: xorshift64*, one per schedule ------------------------------------------ */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}
static int below(int n) { return n <= 1 ? 0 : (int)(rnd() % (uint64_t)n); }
static int chance(int percent) { return below(100) < percent; }

static int tracing;
static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...)
{
    va_list ap;

    if (!tracing)
        return;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* ---- the world -------------------------------------------------------------------------------- */

struct msg {
    int id, window, valid;
};

struct topic_part {
    struct msg m[MAXMSG];
    int n;                   /* high watermark */
    int low;                 /* low watermark: retention deleted what is below */
    int64_t committed;       /* the fallback group's, -1 none */
    char mark[MARK_TEXT_MAX];  /* its metadata */
    int64_t primary;         /* the primary group's committed offset */
    int64_t wrote_end, wrote_seq; /* the end a run committed before writing batch wrote_seq (-1: none) */
    unsigned char skippable[MAXMSG]; /* a run skipped it, the primary having processed it */
};

enum row_state { ROW_PROVISIONAL, ROW_COMMITTING, ROW_FINAL, ROW_UNVERIFIED };
struct row {
    int used, run;
    uint32_t token;
    int p, kind; /* kind 0: a message, 1: an aggregate */
    int64_t seq, offset;
    uint64_t bits;        /* the messages (offsets) it holds */
    enum row_state state, durable_state;
    int durable;
    int diverted;         /* refused by a sink failing as a whole, not by a verdict */
};

struct host {
    struct row rows[MAXROWS];
    int run;              /* its running run's index, -1 none */
    int quiet_runs;       /* runs started since the faults stopped (each settles the host's rows) */
    enum level level;     /* the level its state records (level.h) */
    int64_t failing_since; /* the streak of its runs whose ML service failed, LEVEL_NO_STREAK none */
    int next_start;       /* step at which it starts a run */
};

struct point {
    int id;
    int64_t time, count; /* count < 0 in a line: the line carries none */
    uint64_t bits;
    int p;
    int pred;            /* it has a stress_level */
};

struct late {
    int used, due;
    int n;
    struct point pts[16];
};

struct member {
    int known;      /* in the group */
    int run;        /* the run it is, -1 none */
    int gen;        /* the generation it has joined */
    int pending;    /* a rebalance it has not yet taken part in */
    int last_poll;
    unsigned assign; /* partitions the group gives it in gen */
};

static struct world {
    int np, nh, nids, ppw, maxagg, batch;
    struct topic_part tp[MAXP];
    struct host hosts[MAXH];
    struct point points[MAXPOINTS];
    int npoints;
    struct late late[MAXLATE];
    struct member members[4096]; /* one a join; a run that rejoins is a new member */
    int nmembers;
    int gen, step, runs_started;
    int chaos;             /* faults on */
    int ml_epoch;          /* the ML service's answers change with it */
    int poison_id;         /* InfluxDB refuses this id's points on their own (-1 none) */
    int retention;         /* the broker deletes old messages in this schedule */
    int ml_down;           /* the ML service is down: every request fails */
    int preserve_after;    /* [drain] preserve_after_seconds, in steps (0: never) */
    int64_t requests, violations_here;
} W;

/* ---- the runner ---------------------------------------------------------------------------------- */

enum run_st { R_START, R_WAIT, R_CONSUME, R_PREDICT, R_WRITE, R_BACKFILL, R_COMMIT, R_GONE };

struct run {
    int host, member, id;
    uint32_t token;
    enum run_st st;
    struct ledger_part parts[MAXP];
    int64_t fetch[MAXP];           /* the consumer's fetch position */
    int64_t primary_seen[MAXP];    /* the primary's offset when the partition's start was decided */
    int64_t owed[MAXP];            /* how far an earlier attempt of this batch really wrote (-1: it did not) */
    int remark_at;
    struct agg agg;
    uint64_t *bits;                /* per aggregate: the messages it holds */
    unsigned char *systemic;       /* per aggregate: refused by a service refusing everything alike */
    size_t bits_cap;
    int64_t batch_msgs;
    int full, ends_marked, consumed, owing_steps;
    size_t chunk;                  /* the next chunk's first aggregate */
    int frozen_until;
    struct sink_chunk ch;
    int chunk_built;
    enum level level;
    int probed;                    /* in the preserve level, the ML service was asked once */
    int ml;                        /* 0 not asked, 1 it answered, 2 it failed */
    int started;                   /* the step it started at */
    struct agg bf;                 /* the backfill's points, as aggregates (drain.c's backfill_pending()) */
    uint64_t bf_bits[256];
    int64_t bf_time[256];
    int bf_state;                  /* 0 not yet, 1 built, 2 done */
    uint64_t bf_incarnation[MAXP]; /* the partitions' incarnations when the backfill looked (0: not wanted) */
    int64_t bf_after[MAXP];        /* each partition's pend when it looked (BACKFILL_UNWANTED: not wanted) */
    int64_t bf_upto[MAXP];         /* and its newest window */
    int64_t bf_at;                 /* where the walk stopped (backfill_walk) */
    uint64_t incarnations;
};

static struct run runs[4096];
static int nruns;
static struct config cfg;

static int violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int violation(const char *fmt, ...)
{
    va_list ap;

    if (W.violations_here++ == 0 || tracing) {
        printf("violation: ");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
    }
    return 0;
}

/* ---- the group ------------------------------------------------------------------------------------ */

static void rebalance(void)
{
    int live[4096], n = 0;

    W.gen++;
    for (int i = 0; i < W.nmembers; i++)
        if (W.members[i].known)
            live[n++] = i;
    for (int i = 0; i < n; i++) {
        W.members[live[i]].assign = 0;
        W.members[live[i]].pending = 1;
    }
    /* the range assignor, members in join order */
    for (int p = 0; p < W.np && n > 0; p++)
        W.members[live[p * n / W.np]].assign |= 1u << p;
    trace("  group: generation %d, %d members", W.gen, n);
}

static int member_join(int run)
{
    if (W.nmembers == (int)(sizeof W.members / sizeof W.members[0])) {
        violation("the group's model is full");
        W.nmembers--;
    }
    int m = W.nmembers++;

    W.members[m] = (struct member){ .known = 1, .run = run, .last_poll = W.step };
    rebalance();
    return m;
}

static void member_leave(int m)
{
    if (m >= 0 && W.members[m].known) {
        W.members[m].known = 0;
        rebalance();
    }
}

/* A member that has not polled for SESSION steps is dropped (a session expired). */
static void expire_sessions(void)
{
    for (int i = 0; i < W.nmembers; i++)
        if (W.members[i].known && W.step - W.members[i].last_poll > SESSION) {
            trace("  group: member %d's session expired", i);
            member_leave(i);
        }
}

/* Whether the group accepts a commit from member m now. It never checks that m owns the partition. */
static int commit_accepted(int m)
{
    return W.members[m].known && !W.members[m].pending && W.members[m].gen == W.gen;
}

/* ---- the host's state (SQLite, modelled) --------------------------------------------------------- */

static void store_put(struct run *r, int kind, int p, int64_t offset, uint64_t bits, int diverted)
{
    struct host *h = &W.hosts[r->host];
    struct row *free_row = NULL;

    for (int i = 0; i < MAXROWS; i++) {
        struct row *w = &h->rows[i];
        if (!w->used) {
            if (!free_row)
                free_row = w;
            continue;
        }
        if (w->kind == kind && w->p == p && w->offset == offset) {
            free_row = w; /* the upsert */
            break;
        }
    }
    if (free_row == NULL) {
        violation("a host's quarantine model is full");
        return;
    }
    trace("  run %d: quarantined %s %d:%" PRId64 " (messages %#" PRIx64 ")", r->id, kind ? "aggregate" : "message", p,
          offset, bits);
    *free_row = (struct row){ .used = 1, .run = r->id, .token = r->token, .p = p, .kind = kind,
                              .seq = r->parts[p].mark.seq, .offset = offset, .bits = bits,
                              .state = ROW_PROVISIONAL, .diverted = diverted };
}

/* store_quarantine_committing(): the partitions' rows committing, and every row made durable (fsync). */
static void store_committing(struct run *r, unsigned parts)
{
    struct host *h = &W.hosts[r->host];

    for (int i = 0; i < MAXROWS; i++) {
        struct row *w = &h->rows[i];
        if (w->used && w->run == r->id && (parts >> w->p & 1) && w->state == ROW_PROVISIONAL)
            w->state = ROW_COMMITTING;
        if (w->used) {
            w->durable = 1;
            w->durable_state = w->state;
        }
    }
}

static void store_set(struct run *r, int p, int drop)
{
    struct host *h = &W.hosts[r->host];

    for (int i = 0; i < MAXROWS; i++) {
        struct row *w = &h->rows[i];
        if (!w->used || w->run != r->id || w->p != p)
            continue;
        if (drop && (w->state == ROW_PROVISIONAL || w->state == ROW_COMMITTING))
            w->used = 0;
        else if (!drop && w->state == ROW_COMMITTING)
            w->state = ROW_FINAL; /* not fsync'd: a power loss takes it back to committing */
    }
}

/* A power loss: what was not fsync'd is gone. */
static void host_power_loss(struct host *h)
{
    for (int i = 0; i < MAXROWS; i++) {
        struct row *w = &h->rows[i];
        if (!w->used)
            continue;
        if (!w->durable)
            w->used = 0;
        else
            w->state = w->durable_state;
    }
}

/* ---- Kafka's view ------------------------------------------------------------------------------------ */

static struct ledger_offsets offsets_of(int p)
{
    struct ledger_offsets o = { .committed = W.tp[p].committed, .low = W.tp[p].low, .high = W.tp[p].n };

    mark_parse(W.tp[p].mark, strlen(W.tp[p].mark), &o.mark);
    return o;
}

/* Commit (offset, m) on p for run r's member: 1 when accepted. */
static int kafka_commit(struct run *r, int p, int64_t offset, const struct mark *m)
{
    if (!commit_accepted(r->member) || (W.chaos && chance(3))) {
        trace("  run %d: commit on %d refused", r->id, p);
        return 0;
    }
    W.tp[p].committed = offset;
    mark_format(m, W.tp[p].mark, sizeof W.tp[p].mark);
    trace("  run %d: committed %d at %" PRId64 ": %s", r->id, p, offset, W.tp[p].mark);
    return 1;
}

/* ---- the runner's consumer ---------------------------------------------------------------------------- */

static void run_lose(struct run *r, int p)
{
    int64_t handed = ledger_lose(&r->parts[p]);

    trace("  run %d: lost %d (%" PRId64 " taken)", r->id, p, handed);
    agg_drop_partition(&r->agg, p);
    agg_drop_partition(&r->bf, p);
    store_set(r, p, 1);
}

/* Decide and mark the start of fresh partition p (consumer_decide_starts(), consumer_mark_starts()). */
static void run_begin_part(struct run *r, int p)
{
    struct ledger_offsets own = offsets_of(p);
    struct topic_part *t = &W.tp[p];
    struct ledger_start s = ledger_decide_start(START_PRIMARY, &own, t->primary);
    struct ledger_part *kp = &r->parts[p];

    /* what it skips the primary must have processed */
    int64_t from = own.committed >= 0 ? own.committed : 0;
    for (int64_t o = from; o < s.d.offset; o++) {
        if (o < t->low)
            continue; /* deleted by retention: lost, and said */
        if (o >= t->primary)
            violation("run %d skipped %d:%" PRId64 ", which the primary (at %" PRId64 ") had not processed", r->id, p,
                      o, t->primary);
        t->skippable[o] = 1;
    }
    ledger_part_begin(kp, &s, &own, r->st == R_CONSUME || r->st == R_WAIT, W.step, SETTLE);
    kp->incarnation = ++r->incarnations;
    r->primary_seen[p] = t->primary;
    r->owed[p] = t->wrote_seq == s.mark.seq ? t->wrote_end : -1;
    r->fetch[p] = s.d.offset;
    trace("  run %d: %d starts at %" PRId64 " (seq %" PRId64 ", must reach %" PRId64 ", stop at %" PRId64 ")", r->id,
          p, s.d.offset, s.mark.seq, s.must_reach, s.stop_at);
    if (kafka_commit(r, p, s.d.offset, &s.mark)) {
        ledger_committed(kp, s.d.offset, &s.mark, 0);
        struct ledger_offsets back = offsets_of(p);
        if (!ledger_unchanged(kp, &back))
            kp->state = LEDGER_NONE;
    } else {
        r->remark_at = W.step + 2;
    }
}

/* The member's pending rebalance: revocation, then the new assignment (consumer_rebalance_cb()). */
static void run_poll(struct run *r)
{
    struct member *m = &W.members[r->member];

    m->last_poll = W.step;
    if (!m->known) {
        /* the session expired: everything is lost; join again */
        for (int p = 0; p < W.np; p++)
            if (ledger_revoke(&r->parts[p], 1))
                run_lose(r, p);
        r->member = member_join(r->id);
        return;
    }
    if (!m->pending)
        return;
    for (int p = 0; p < W.np; p++)
        if (ledger_revoke(&r->parts[p], 0))
            run_lose(r, p);
    m->pending = 0;
    m->gen = W.gen;
    for (int p = 0; p < W.np; p++) {
        struct ledger_part *kp = &r->parts[p];
        struct ledger_offsets now = offsets_of(p);
        int mine = m->assign >> p & 1;
        if (kp->state == LEDGER_SUSPENDED && !(mine && ledger_resume(kp, 1, &now)))
            run_lose(r, p);
        if (mine && kp->state != LEDGER_OWNED) {
            run_begin_part(r, p);
        } else if (mine) {
            r->fetch[p] = ledger_position(kp);
        }
    }
    if (r->st == R_WAIT)
        r->st = R_CONSUME;
}

static void run_remark(struct run *r)
{
    if (r->remark_at == 0 || W.step < r->remark_at || W.members[r->member].pending)
        return;
    r->remark_at = 0;
    for (int p = 0; p < W.np; p++) {
        struct ledger_part *kp = &r->parts[p];
        struct ledger_offsets now = offsets_of(p);
        if (kp->state != LEDGER_UNMARKED)
            continue;
        if (!ledger_unchanged(kp, &now)) {
            kp->state = LEDGER_NONE;
        } else if (kafka_commit(r, p, kp->start, &kp->mark)) {
            ledger_committed(kp, kp->start, &kp->mark, 0);
        } else {
            r->remark_at = W.step + 2;
        }
    }
}

static uint64_t *entry_bits(struct run *r, size_t i)
{
    if (i >= r->bits_cap) {
        size_t cap = r->bits_cap ? r->bits_cap * 2 : 16;
        while (cap <= i)
            cap *= 2;
        r->bits = realloc(r->bits, cap * sizeof *r->bits);
        r->systemic = realloc(r->systemic, cap);
        memset(r->bits + r->bits_cap, 0, (cap - r->bits_cap) * sizeof *r->bits);
        memset(r->systemic + r->bits_cap, 0, cap - r->bits_cap);
        r->bits_cap = cap;
    }
    return &r->bits[i];
}

static int owes_any(struct run *r)
{
    for (int p = 0; p < W.np; p++)
        if (ledger_owes(&r->parts[p]))
            return 1;
    return 0;
}

static int finished_all(struct run *r)
{
    if (W.members[r->member].pending)
        return 0;
    for (int p = 0; p < W.np; p++)
        if (!ledger_part_finished(&r->parts[p]))
            return 0;
    return 1;
}

/* One message handed out (handle_message()). */
static void run_message(struct run *r, int p, int64_t o)
{
    struct ledger_part *kp = &r->parts[p];
    struct msg *mg = &W.tp[p].m[o];
    char id[16];
    double v = 1.0;
    unsigned char present = 1;

    /* the ground truth, not the ledger's idea: only what an attempt of this batch wrote may be read again */
    if (o < r->primary_seen[p] && !(o < r->owed[p]))
        violation("run %d read %d:%" PRId64 ", which the primary had processed (at %" PRId64 "), owing nothing there",
                  r->id, p, o, r->primary_seen[p]);
    r->batch_msgs++;
    if (!mg->valid) {
        store_put(r, 0, p, o, 1ULL << o, 0);
        return;
    }
    snprintf(id, sizeof id, "n%d", mg->id);
    size_t max = o < kp->must_reach ? 0 : (size_t)W.maxagg;
    switch (agg_add(&r->agg, id, strlen(id), (int64_t)mg->window * 1000, p, o, &v, &present, max)) {
    case AGG_ADDED:
        ledger_note_event_time(kp, (int64_t)mg->window * 1000); /* drain.c: consumer_note_event_time() */
        for (size_t i = 0; i < r->agg.count; i++) {
            struct agg_entry *e = &r->agg.entries[i];
            if (e->state != AGG_DROPPED && e->partition == p && e->window_ms == (int64_t)mg->window * 1000 &&
                strcmp(e->id, id) == 0)
                *entry_bits(r, i) |= 1ULL << o;
        }
        break;
    case AGG_FULL:
        r->batch_msgs--;
        ledger_give_back(kp, o);
        r->full = 1;
        ledger_close_unowed(r->parts, W.np);
        break;
    case AGG_NOMEM:
        violation("out of memory");
    }
}

static void run_consume(struct run *r)
{
    int cand[MAXP], n = 0;

    run_remark(r);
    if (!owes_any(r) && (r->full || r->batch_msgs >= W.batch || finished_all(r) || (W.chaos && chance(2)))) {
        trace("  run %d: batch ends (%" PRId64 " messages%s)", r->id, r->batch_msgs, r->full ? ", table full" : "");
        for (int p = 0; p < W.np; p++) {
            r->parts[p].read |= r->parts[p].active;
            r->parts[p].active = 0;
        }
        r->st = R_PREDICT;
        r->chunk = 0;
        return;
    }
    if (owes_any(r) && ++r->owing_steps > 200) {
        trace("  run %d: could not re-read in time", r->id);
        r->st = R_GONE;
        return;
    }
    for (int p = 0; p < W.np; p++) {
        struct ledger_part *kp = &r->parts[p];
        if (kp->state == LEDGER_OWNED && kp->active && !kp->closed)
            cand[n++] = p;
    }
    if (n == 0)
        return;
    int p = cand[below(n)];
    struct ledger_part *kp = &r->parts[p];
    if (r->fetch[p] < W.tp[p].low)
        r->fetch[p] = W.tp[p].low; /* auto.offset.reset: the earliest still kept */
    if (r->fetch[p] >= W.tp[p].n) {
        kp->eof = 1;
        return;
    }
    /* now and then a message fetched before a rebalance comes again */
    int64_t o = W.chaos && chance(5) && r->fetch[p] > 0 ? r->fetch[p] - 1 : r->fetch[p]++;
    if (ledger_take(kp, o))
        run_message(r, p, o);
}

/* ---- InfluxDB (modelled) ---------------------------------------------------------------------------------- */

static void influx_apply(const struct point *pt)
{
    /* the same series and time: the fields the line carries replace the point's, the others stay */
    trace("  InfluxDB: n%d at %" PRId64 " count %" PRId64 " (partition %d, messages %#" PRIx64 ")", pt->id, pt->time,
          pt->count, pt->p, pt->bits);
    for (int i = 0; i < W.npoints; i++)
        if (W.points[i].id == pt->id && W.points[i].time == pt->time) {
            if (pt->count >= 0) {
                W.points[i].count = pt->count;
                W.points[i].bits = pt->bits;
            }
            W.points[i].pred |= pt->pred;
            return;
        }
    if (W.npoints == MAXPOINTS) {
        violation("InfluxDB's model is full");
        return;
    }
    W.points[W.npoints] = *pt;
    if (pt->count < 0)
        W.points[W.npoints].count = 0;
    W.npoints++;
}

struct post_arg {
    struct run *r;
    struct agg *agg;   /* the aggregates the chunk's lines index */
    uint64_t *bits;    /* their messages */
    int64_t *times;    /* their points' times (the backfill's), or NULL: from window and seq */
};

/* The lines lo..hi of r's chunk as points: what each line carries read from its text. */
static int chunk_points(struct post_arg *a, size_t lo, size_t hi, struct point *out)
{
    struct run *r = a->r;
    int n = 0;

    for (size_t i = lo; i < hi; i++) {
        const struct sink_line *l = &r->ch.at[i];
        const struct agg_entry *e = &a->agg->entries[l->entry];
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)l->len, r->ch.lines.data + l->off);
        const char *c = strstr(line, "count=");
        int64_t count = c ? strtoll(c + 6, NULL, 10) : -1;
        out[n++] = (struct point){
            .id = atoi(e->id + 1),
            .time = a->times ? a->times[l->entry]
                             : window_point_time_ns(e->window_ms, e->partition, r->parts[e->partition].mark.seq),
            .count = count,
            .bits = count > 0 ? a->bits[l->entry] : 0,
            .p = e->partition,
            .pred = strstr(line, "stress_level=") != NULL,
        };
    }
    return n;
}

static void world_step_except(int run);
static int interleaving;

/* n steps of the world pass while r waits inside a write (sometimes) */
static void interleave(struct run *r, int n)
{
    if (!W.chaos || interleaving || !chance(10))
        return;
    interleaving = 1;
    trace("  run %d: %d steps pass inside its write", r->id, n);
    for (int i = 0; i < n; i++)
        world_step_except(r->id);
    interleaving = 0;
}

static enum sink_answer post(void *arg, const char *body, size_t len, char *why, size_t whysz)
{
    struct run *r = ((struct post_arg *)arg)->r;
    size_t lo = 0, hi;
    struct point pts[64];
    int n, refused = 0;

    /* between the fence and the send, a moment: a runner frozen right there, for longer than what
     * SESSION + SETTLE - LATE_MAX allows, is the one case no fence can cover (docs/guarantees.md) */
    interleave(r, 1 + below(3));
    while (r->ch.lines.data + r->ch.at[lo].off != body)
        lo++;
    for (hi = lo; hi < r->ch.n && r->ch.at[hi].off < (size_t)(body - r->ch.lines.data) + len; hi++)
        ;
    n = chunk_points((struct post_arg *)arg, lo, hi, pts);
    W.requests++;
    int mode = W.chaos ? below(100) : 99;
    if (mode < 4) {
        snprintf(why, whysz, "InfluxDB unreachable");
        return SINK_UNAVAILABLE;
    }
    if (mode < 7) {
        snprintf(why, whysz, "bad request"); /* refusing everything, not for the points' times */
        return SINK_REFUSED;
    }
    for (int i = 0; i < n; i++)
        refused += pts[i].id == W.poison_id;
    if (refused) {
        for (int i = 0; i < n; i++)
            if (pts[i].id != W.poison_id)
                influx_apply(&pts[i]); /* a partial write writes the others */
        snprintf(why, whysz, "partial write: points beyond retention policy dropped=%d", refused);
        return SINK_REFUSED;
    }
    if (mode < 10) {
        /* applied, but the answer lost: or applied later, within LATE_MAX */
        if (mode < 9 && n <= 16) {
            for (int i = 0; i < MAXLATE; i++)
                if (!W.late[i].used) {
                    W.late[i] = (struct late){ .used = 1, .due = W.step + 1 + below(LATE_MAX), .n = n };
                    memcpy(W.late[i].pts, pts, (size_t)n * sizeof *pts);
                    snprintf(why, whysz, "timed out");
                    return SINK_UNAVAILABLE;
                }
        }
        for (int i = 0; i < n; i++)
            influx_apply(&pts[i]);
        snprintf(why, whysz, "the answer was lost");
        return SINK_UNAVAILABLE;
    }
    for (int i = 0; i < n; i++)
        influx_apply(&pts[i]);
    return SINK_ACCEPTED;
}

static void apply_late(int all)
{
    for (int i = 0; i < MAXLATE; i++)
        if (W.late[i].used && (all || W.step >= W.late[i].due)) {
            trace("  InfluxDB: a write applied late");
            for (int j = 0; j < W.late[i].n; j++)
                influx_apply(&W.late[i].pts[j]);
            W.late[i].used = 0;
        }
}

static int fence(void *arg, const struct sink_chunk *ch, size_t lo, size_t hi, char *why, size_t whysz)
{
    struct run *r = ((struct post_arg *)arg)->r;

    (void)why, (void)whysz;
    /* between two requests of a chunk (a bisection, say) the world goes on: the runner may even be frozen long
     * enough for its session to expire and another runner to retry its batch */
    interleave(r, chance(30) ? SESSION + below(2 * SESSION) : 1 + below(4));
    run_poll(r);
    for (size_t i = lo; i < hi; i++)
        if (!ledger_may_write(&r->parts[ch->at[i].partition], W.members[r->member].pending, W.step) ||
            ((struct post_arg *)arg)->agg->entries[ch->at[i].entry].state == AGG_DROPPED) /* lost since the chunk was built */
            return 1;
    return 0;
}

static int refused_cb(void *arg, const struct sink_chunk *ch, size_t i, const char *why)
{
    struct post_arg *a = arg;
    struct agg_entry *e = &a->agg->entries[ch->at[i].entry];

    (void)why;
    e->state = AGG_KEPT;
    store_put(a->r, 1, e->partition, e->first_offset, a->bits[ch->at[i].entry], 0);
    return 0;
}

/* ---- the ML service (modelled) ------------------------------------------------------------------------------ */

/* Predict the chunk's pending aggregates. 0, or -1 when the service failed (the run fails). */
static int run_predict(struct run *r, size_t from, size_t n)
{
    int failing = W.chaos && chance(3), decided = 0;

    if (W.ml_down || (W.chaos && chance(4)))
        return -1; /* 5xx */
    for (size_t i = from; i < from + n; i++)
        decided += r->agg.entries[i].state == AGG_PENDING;
    for (size_t i = from; i < from + n; i++) {
        struct agg_entry *e = &r->agg.entries[i];
        if (e->state != AGG_PENDING)
            continue;
        if (failing) {
            /* refusing everything alike: only a chunk of two or more can tell (sink.h) */
            free(e->reason);
            e->reason = strdup("ML service answered 400: {\"error\": \"model failure\"}");
            e->state = AGG_QUARANTINED;
            (void)entry_bits(r, i);
            r->systemic[i] = decided >= 2;
            continue;
        }
        uint64_t h = (uint64_t)atoi(e->id + 1) * 31 + (uint64_t)e->window_ms / 1000 * 7 + (uint64_t)W.ml_epoch * 13;
        if (W.chaos && h % 5 == 0) {
            char why[64];
            snprintf(why, sizeof why, "ML service answered 400: hr=%d out of range", (int)(h % 97));
            free(e->reason);
            e->reason = strdup(why);
            e->state = AGG_QUARANTINED;
        } else {
            e->prediction = 1;
            e->state = AGG_PREDICTED;
        }
    }
    return 0;
}

/* ---- predicting, writing, committing (predict_and_write(), commit_written()) ------------------------------ */

static size_t chunk_len(struct run *r)
{
    size_t n = r->agg.count - r->chunk;

    return n > (size_t)W.ppw ? (size_t)W.ppw : n;
}

/* The streak of failing runs, this one's failure included (drain.c's level_input_of()). */
static struct level_input level_input_of(struct run *r, enum level recorded)
{
    struct host *h = &W.hosts[r->host];
    struct level_input in = { recorded, W.step, W.preserve_after, h->failing_since };

    if (in.failing_since_ms == LEVEL_NO_STREAK && r->ml == 2)
        in.failing_since_ms = r->started;
    return in;
}

static void level_set(struct run *r, enum level l)
{
    trace("  run %d: level %s", r->id, level_name(l));
    r->level = l;
    W.hosts[r->host].level = l;
}

static void run_predict_step(struct run *r)
{
    run_poll(r);
    if (r->chunk >= r->agg.count) {
        r->st = R_BACKFILL;
        return;
    }
    size_t n = chunk_len(r);
    if (r->level == LEVEL_PRESERVE) {
        if (r->probed) {
            r->st = R_WRITE; /* written without predictions */
            r->chunk_built = 0;
            return;
        }
        r->probed = 1;
        if (W.ml_down || (W.chaos && chance(4))) {
            r->ml = 2;
            r->st = R_WRITE;
            r->chunk_built = 0;
            return;
        }
        r->ml = 1;
        level_set(r, LEVEL_NORMAL);
    }
    if (run_predict(r, r->chunk, n) != 0) {
        r->ml = 2;
        struct level_input in = level_input_of(r, LEVEL_NORMAL);
        if (!level_preserve_due(&in)) {
            trace("  run %d: the ML service fails", r->id);
            r->st = R_GONE;
            return;
        }
        level_set(r, LEVEL_PRESERVE);
        r->probed = 1;
        r->st = R_WRITE;
        r->chunk_built = 0;
        return;
    }
    r->ml = 1;
    const char *whys[64];
    size_t refused = 0, decided = 0;
    for (size_t i = r->chunk; i < r->chunk + n; i++) {
        struct agg_entry *e = &r->agg.entries[i];
        decided += e->state == AGG_PREDICTED || e->state == AGG_QUARANTINED;
        if (e->state == AGG_QUARANTINED)
            whys[refused++] = e->reason;
    }
    if (sink_refusals_systemic(whys, refused, decided)) {
        r->st = R_GONE;
        return;
    }
    r->st = R_WRITE;
    r->chunk_built = 0;
}

static void chunk_build(struct run *r)
{
    struct buf why = { 0 };
    size_t from = r->chunk, n = chunk_len(r);

    sink_chunk_reset(&r->ch);
    for (size_t i = from; i < from + n; i++) {
        struct agg_entry *e = &r->agg.entries[i];
        int64_t t = window_point_time_ns(e->window_ms, e->partition, r->parts[e->partition].mark.seq);
        int pending = e->state == AGG_PENDING && r->level == LEVEL_PRESERVE;
        if (e->state == AGG_PREDICTED || pending) {
            sink_append_point(&r->ch, &cfg, e, i, t, pending ? SINK_POINT_UNPREDICTED : SINK_POINT, 12, &why);
            if (pending)
                ledger_note_unpredicted(&r->parts[e->partition], e->window_ms);
        } else if (e->state == AGG_QUARANTINED) {
            e->state = AGG_KEPT;
            store_put(r, 1, e->partition, e->first_offset, r->bits[i], r->systemic[i]);
        }
        if (e->state == AGG_KEPT && ledger_may_have_written(&r->parts[e->partition], e->first_offset))
            sink_append_point(&r->ch, &cfg, e, i, t, SINK_POINT_TOMBSTONE, 12, &why);
    }
    buf_free(&why);
    r->chunk_built = 1;
}

static int mark_ends(struct run *r)
{
    for (int p = 0; p < W.np; p++) {
        int64_t off;
        struct mark m;
        if (!ledger_end_mark(&r->parts[p], &off, &m))
            continue;
        if (!kafka_commit(r, p, off, &m))
            return 0;
        ledger_committed(&r->parts[p], off, &m, 0);
        if (W.tp[p].wrote_seq != m.seq || W.tp[p].wrote_end < m.end)
            W.tp[p].wrote_end = m.end, W.tp[p].wrote_seq = m.seq;
    }
    return 1;
}

static void run_write_step(struct run *r)
{
    struct post_arg a = { r, &r->agg, r->bits, NULL };
    struct sink_ops ops = { post, fence, refused_cb, &a };
    char why[256];
    int64_t written = 0, requests = 0;

    run_poll(r);
    chunk_build(r);
    if (r->ch.n == 0) {
        r->chunk += chunk_len(r);
        r->st = R_PREDICT;
        return;
    }
    if (!r->ends_marked) {
        if (!mark_ends(r))
            return; /* refused: the rebalance is served at the next step */
        r->ends_marked = 1;
        return;
    }
    switch (sink_write(&ops, &r->ch, &written, &requests, why, sizeof why)) {
    case SINK_WRITTEN:
        r->chunk += chunk_len(r);
        r->st = R_PREDICT;
        break;
    case SINK_REBUILD:
        break; /* again at the next step: a partition was lost, or its retry must wait */
    case SINK_FAILED:
    case SINK_CONFIG:
    case SINK_LOCAL:
        trace("  run %d: the write fails: %s", r->id, why);
        r->st = R_GONE;
    }
}

/* A key for the quarantine row of a point refused while backfilled (drain.c's backfill_key()). */
static int64_t backfill_key(int id, int64_t time)
{
    return -1 - ((time * 31 + id) & 0x3fffffffffffffffLL);
}

/* Whether a point of InfluxDB's model is one the backfill looks for: a count, no stress level, of a wanted
 * partition from its pend on, its window in [lo, hi). */
static int backfill_finds(const struct run *r, const struct point *pt, int64_t lo, int64_t hi)
{
    int64_t window = window_point_start_ms(pt->time);

    return pt->count > 0 && !pt->pred && window >= r->bf_after[pt->p] && window >= lo && window < hi;
}

/* What the backfill looks at, as drain.c's backfill_pending() asks InfluxDB: each wanted partition's pend and
 * newest window, then the walk (backfill.h) over the slices of event time with a budget that is often small,
 * so that runs backfill part of what is pending and move pend to where they stopped. The points of the slices
 * taken join r->bf. */
static void backfill_look(struct run *r, unsigned want)
{
    int64_t from = INT64_MAX, last = INT64_MIN, lo, hi, budget = chance(50) ? 1 + below(4) : 128;
    struct backfill_walk w;

    /* each partition's pend and newest event time, as consumer_pending() gives them to the runner */
    for (int p = 0; p < W.np; p++) {
        r->bf_incarnation[p] = (want >> p & 1) ? r->parts[p].incarnation : 0;
        r->bf_after[p] = (want >> p & 1) ? r->parts[p].pend_after : BACKFILL_UNWANTED;
        r->bf_upto[p] = (want >> p & 1) ? ledger_pending_upto(&r->parts[p]) : BACKFILL_UNWANTED;
    }
    for (int p = 0; p < W.np; p++)
        if (want >> p & 1) {
            from = r->bf_after[p] < from ? r->bf_after[p] : from;
            last = r->bf_upto[p] > last ? r->bf_upto[p] : last;
        }
    backfill_walk_init(&w, from, last, budget, 1000);
    while (backfill_walk_next(&w, &lo, &hi)) {
        size_t added = 0;
        for (int i = 0; i < W.npoints; i++)
            added += backfill_finds(r, &W.points[i], lo, hi);
        if (backfill_walk_answer(&w, added, 0) != BACKFILL_TAKE)
            continue;
        for (int i = 0; i < W.npoints && r->bf.count < 256; i++) {
            struct point *pt = &W.points[i];
            if (!backfill_finds(r, pt, lo, hi))
                continue;
            char id[16];
            double v = 1.0;
            unsigned char present = 1;
            int64_t window = window_point_start_ms(pt->time);
            snprintf(id, sizeof id, "n%d", pt->id);
            /* one entry a point: a distinct window key per point keeps agg_add from folding two together */
            agg_add(&r->bf, id, strlen(id), window + (int64_t)r->bf.count * 1000000000000LL, pt->p, 0, &v, &present, 0);
            r->bf.entries[r->bf.count - 1].window_ms = window;
            r->bf.entries[r->bf.count - 1].count = pt->count;
            r->bf_bits[r->bf.count - 1] = pt->bits;
            r->bf_time[r->bf.count - 1] = pt->time;
        }
    }
    r->bf_at = w.at;
}

/* The backfill (drain.c's backfill_pending()): the owned partitions' points awaiting their predictions, found in
 * InfluxDB's model from each partition's pend on, predicted, and written back as stress_level onto the same
 * points; refused ones quarantined with a count-0 overlay. */
static void run_backfill_step(struct run *r)
{
    struct post_arg a = { r, &r->bf, r->bf_bits, r->bf_time };
    struct sink_ops ops = { post, fence, refused_cb, &a };
    char why[256];
    int64_t written = 0, requests = 0;
    struct buf wb = { 0 };
    unsigned want = 0;

    run_poll(r);
    for (int p = 0; p < W.np; p++)
        if (r->parts[p].state == LEDGER_OWNED && r->parts[p].pend_after != MARK_NO_TIME)
            want |= 1u << p;
    if (r->ml == 2 || want == 0) {
        r->st = R_COMMIT;
        return;
    }
    if (r->bf_state == 0) {
        backfill_look(r, want);
        if (W.ml_down || (W.chaos && chance(4))) {
            if (r->level == LEVEL_PRESERVE)
                r->ml = 2;
            r->st = R_COMMIT;
            return;
        }
        r->ml = 1;
        if (r->level == LEVEL_PRESERVE)
            level_set(r, LEVEL_NORMAL);
        for (size_t i = 0; i < r->bf.count; i++) {
            struct agg_entry *e = &r->bf.entries[i];
            e->state = W.chaos && chance(15) ? AGG_QUARANTINED : AGG_PREDICTED;
            e->prediction = 1;
        }
        r->bf_state = 1;
    }
    sink_chunk_reset(&r->ch);
    for (size_t i = 0; i < r->bf.count; i++) {
        struct agg_entry *e = &r->bf.entries[i];
        if (e->state == AGG_QUARANTINED) { /* a row holding 0 messages: they stay counted in the point */
            e->state = AGG_KEPT;
            store_put(r, 1, e->partition, backfill_key(atoi(e->id + 1), r->bf_time[i]), 0, 0);
        }
        if (e->state == AGG_PREDICTED)
            sink_append_point(&r->ch, &cfg, e, i, r->bf_time[i], SINK_POINT_PREDICTION, 12, &wb);
    }
    buf_free(&wb);
    enum sink_result res = r->ch.n == 0 ? SINK_WRITTEN : sink_write(&ops, &r->ch, &written, &requests, why, sizeof why);
    if (res == SINK_REBUILD)
        return; /* again at the next step */
    if (res == SINK_WRITTEN)
        for (int p = 0; p < W.np; p++)
            if ((want >> p & 1) && r->bf_after[p] != BACKFILL_UNWANTED &&
                r->parts[p].incarnation == r->bf_incarnation[p])
                ledger_backfilled(&r->parts[p], backfill_pend_next(r->bf_at, r->bf_after[p], r->bf_upto[p]));
    r->st = R_COMMIT;
}

static void run_commit_step(struct run *r)
{
    unsigned parts = 0;
    int64_t off[MAXP];
    struct mark m[MAXP];

    run_poll(r);
    if (W.members[r->member].pending)
        return;
    for (int p = 0; p < W.np; p++)
        if (ledger_done_mark(&r->parts[p], r->token, &off[p], &m[p]))
            parts |= 1u << p;
    if (parts == 0) {
        r->st = R_GONE;
        return;
    }
    store_committing(r, parts);
    if (W.chaos && chance(3)) { /* killed between the fsync and the commit */
        trace("  run %d: killed before its commit", r->id);
        r->st = R_GONE;
        r->member = -2;
        return;
    }
    for (int p = 0; p < W.np; p++)
        if ((parts >> p & 1) && kafka_commit(r, p, off[p], &m[p])) {
            ledger_committed(&r->parts[p], off[p], &m[p], 1);
            if (W.chaos && chance(3)) { /* killed between the commit and recording it */
                trace("  run %d: killed after its commit", r->id);
                r->st = R_GONE;
                r->member = -2;
                return;
            }
            store_set(r, p, 0);
        }
}

/* ---- a run's life ---------------------------------------------------------------------------------------- */

/* settle_quarantine(): rows earlier runs on the host left unsettled. */
static void run_settle(struct run *r)
{
    struct host *h = &W.hosts[r->host];

    for (int i = 0; i < MAXROWS; i++) {
        struct row *w = &h->rows[i];
        if (!w->used || (w->state != ROW_PROVISIONAL && w->state != ROW_COMMITTING))
            continue;
        struct ledger_offsets now = offsets_of(w->p);
        switch (ledger_reconcile(w->state == ROW_COMMITTING, w->seq, w->token, &now.mark)) {
        case LEDGER_ROW_DROP: w->used = 0; break;
        case LEDGER_ROW_FINAL: w->state = ROW_FINAL; break;
        case LEDGER_ROW_UNVERIFIED: w->state = ROW_UNVERIFIED; break;
        }
    }
}

static void run_start(int host)
{
    struct run *r = &runs[nruns];

    if (nruns == (int)(sizeof runs / sizeof runs[0]))
        return;
    memset(r, 0, sizeof *r);
    r->id = nruns++;
    r->host = host;
    r->token = (uint32_t)(rnd() | 1);
    for (int p = 0; p < MAXP; p++)
        r->parts[p] = (struct ledger_part){ .state = LEDGER_NONE, .first = -1, .last = -1, .start = -1,
                                            .done_at = -1, .my_offset = -1 };
    agg_init(&r->agg, 1);
    agg_init(&r->bf, 1);
    r->started = W.step;
    {
        struct level_input in = { W.hosts[host].level, W.step, W.preserve_after, W.hosts[host].failing_since };
        r->level = level_at_start(&in);
        W.hosts[host].level = r->level;
    }
    W.hosts[host].run = r->id;
    W.hosts[host].quiet_runs += !W.chaos;
    W.runs_started++;
    run_settle(r);
    r->member = member_join(r->id);
    r->st = R_WAIT;
    trace("step %d: host %d starts run %d (token %08" PRIx32 ")", W.step, host, r->id, r->token);
}

static void run_end(struct run *r, int killed)
{
    struct host *h = &W.hosts[r->host];

    if (!killed) {
        member_leave(r->member); /* consumer_close(): LeaveGroup */
        /* finish_run() records what the ML service did: the streak of failing runs */
        if (r->ml == 2 && h->failing_since == LEVEL_NO_STREAK)
            h->failing_since = r->started;
        else if (r->ml == 1)
            h->failing_since = LEVEL_NO_STREAK;
    }
    agg_free(&r->agg);
    agg_free(&r->bf);
    free(r->bits);
    free(r->systemic);
    r->bits = NULL;
    r->systemic = NULL;
    r->bits_cap = 0;
    sink_chunk_free(&r->ch);
    W.hosts[r->host].run = -1;
    W.hosts[r->host].next_start = W.step + 1 + (W.chaos ? below(20) : 0);
    r->st = R_GONE;
}

static void run_step(struct run *r)
{
    if (W.step < r->frozen_until)
        return;
    if (W.chaos && chance(1)) {
        trace("step %d: run %d killed", W.step, r->id);
        run_end(r, 1);
        return;
    }
    if (W.chaos && chance(1)) {
        r->frozen_until = W.step + 1 + below(2 * SESSION);
        trace("step %d: run %d frozen until %d", W.step, r->id, r->frozen_until);
        return;
    }
    switch (r->st) {
    case R_WAIT: run_poll(r); break;
    case R_CONSUME: run_poll(r); run_consume(r); break;
    case R_PREDICT: run_predict_step(r); break;
    case R_WRITE: run_write_step(r); break;
    case R_BACKFILL: run_backfill_step(r); break;
    case R_COMMIT: run_commit_step(r); break;
    case R_START:
    case R_GONE: break;
    }
    if (r->st == R_GONE)
        run_end(r, r->member == -2);
}

/* ---- the environment ---------------------------------------------------------------------------------------- */

static int excepted = -1; /* a run that does not step (it is inside a request) */

static void produce(int p, int count)
{
    struct topic_part *t = &W.tp[p];

    for (int i = 0; i < count && t->n < MAXMSG; i++, t->n++)
        t->m[t->n] = (struct msg){ .id = below(W.nids), .window = t->n / 3 + below(2), .valid = !chance(8) };
}

static void env_step(void)
{
    int p = below(W.np);

    if (chance(5))
        produce(p, 1 + below(4));
    if (chance(4) && W.tp[p].primary < W.tp[p].n)
        W.tp[p].primary += 1 + below((int)(W.tp[p].n - W.tp[p].primary));
    if (chance(2))
        W.ml_epoch++;
    if (chance(2))
        W.ml_down = !W.ml_down; /* an outage begins, or ends */
    if (W.retention && chance(2) && W.tp[p].low < W.tp[p].n)
        W.tp[p].low += 1; /* retention deletes the oldest */
    if (chance(1)) { /* a host loses power */
        int h = below(W.nh);
        if (W.hosts[h].run >= 0 && W.hosts[h].run == excepted)
            return; /* its runner is inside a request: the loss comes before or after it */
        trace("step %d: host %d loses power", W.step, h);
        if (W.hosts[h].run >= 0)
            run_end(&runs[W.hosts[h].run], 1);
        host_power_loss(&W.hosts[h]);
    }
}

/* ---- one schedule ------------------------------------------------------------------------------------------- */

static void world_init(uint64_t seed)
{
    memset(&W, 0, sizeof W);
    nruns = 0;
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    W.np = 1 + below(MAXP);
    W.nh = 1 + below(MAXH);
    W.nids = 1 + below(4);
    W.ppw = 1 + below(4);
    W.maxagg = 2 + below(6);
    W.batch = 3 + below(12);
    W.poison_id = chance(30) ? below(W.nids) : -1;
    W.retention = chance(20);
    W.preserve_after = chance(30) ? 0 : 10 + below(50);
    W.chaos = 1;
    for (int p = 0; p < W.np; p++) {
        W.tp[p].committed = -1;
        W.tp[p].wrote_seq = W.tp[p].wrote_end = -1;
        produce(p, below(16));
    }
    for (int h = 0; h < W.nh; h++) {
        W.hosts[h].run = -1;
        W.hosts[h].failing_since = LEVEL_NO_STREAK;
        W.hosts[h].next_start = below(10);
    }
}

static void world_step(void)
{
    W.step++;
    apply_late(0);
    expire_sessions();
    if (W.chaos)
        env_step();
    int busy = 0, next = 0;
    for (int h = 0; h < W.nh; h++) {
        busy += W.hosts[h].run >= 0;
        if (W.hosts[h].quiet_runs < W.hosts[next].quiet_runs)
            next = h;
    }
    /* quiet: runs one at a time, hosts in turn, so that the group settles and the backlog drains (with runs a
     * minute apart and a batch taking seconds, real hosts mostly meet like this) */
    if (!W.chaos && !busy && W.step >= W.hosts[next].next_start)
        run_start(next);
    for (int h = 0; h < W.nh; h++) {
        struct host *hs = &W.hosts[h];
        if (hs->run < 0 && W.chaos && W.step >= hs->next_start)
            run_start(h);
        else if (hs->run >= 0 && hs->run != excepted)
            run_step(&runs[hs->run]);
    }
}

static void world_step_except(int run)
{
    int was = excepted;

    excepted = run;
    world_step();
    excepted = was;
}

static int all_done(void)
{
    for (int p = 0; p < W.np; p++) {
        struct ledger_offsets o = offsets_of(p);
        if (W.tp[p].committed < W.tp[p].n || o.mark.pend != MARK_NO_TIME)
            return 0; /* to read, or predictions to backfill */
    }
    for (int h = 0; h < W.nh; h++)
        if (W.hosts[h].run >= 0 || W.hosts[h].quiet_runs == 0)
            return 0;
    return 1;
}

/* The promise, checked message by message. */
static void check(uint64_t seed)
{
    for (int p = 0; p < W.np; p++) {
        struct topic_part *t = &W.tp[p];
        for (int o = 0; o < t->n; o++) {
            int in_points = 0, in_rows = 0, as_message = 0, diverted = 0;
            uint64_t bit = 1ULL << o;
            for (int i = 0; i < W.npoints; i++)
                in_points += W.points[i].p == p && (W.points[i].bits & bit) != 0;
            for (int h = 0; h < W.nh; h++)
                for (int i = 0; i < MAXROWS; i++) {
                    struct row *w = &W.hosts[h].rows[i];
                    if (!w->used || w->p != p || !(w->bits & bit) ||
                        (w->state != ROW_FINAL && w->state != ROW_UNVERIFIED))
                        continue;
                    in_rows++;
                    as_message += w->kind == 0;
                    diverted += w->diverted;
                }
            int total = in_points + in_rows;
            /* retention may take what nobody read yet (a loss spillway reports, not one it makes); and a retry
             * that must start after what retention took rewrites its points without those messages */
            if (total > 1 || (total == 0 && !t->skippable[o] && o >= t->low))
                violation("seed %" PRIu64 ": message %d:%d counted %d times (%d in points, %d in quarantine)", seed, p,
                          o, total, in_points, in_rows);
            if (t->m[o].valid && as_message)
                violation("seed %" PRIu64 ": valid message %d:%d quarantined as a message", seed, p, o);
            if (diverted)
                violation("seed %" PRIu64 ": message %d:%d quarantined for a sink failing as a whole", seed, p, o);
        }
    }
    for (int i = 0; i < W.npoints; i++) {
        struct point *pt = &W.points[i];
        int refused = 0;
        for (int h = 0; h < W.nh && pt->count > 0 && !pt->pred; h++)
            for (int j = 0; j < MAXROWS; j++) {
                struct row *w = &W.hosts[h].rows[j];
                refused |= w->used && w->kind == 1 && w->p == pt->p && w->offset == backfill_key(pt->id, pt->time) &&
                           (w->state == ROW_FINAL || w->state == ROW_UNVERIFIED);
            }
        /* a point the preserve level wrote for messages retention deleted before their batch finished cannot be
         * rewritten, nor found by its partition's pend (docs/guarantees.md) */
        int retention_took = (pt->bits & ((1ULL << W.tp[pt->p].low) - 1)) != 0;
        if (pt->count > 0 && !pt->pred && !refused && !retention_took)
            violation("seed %" PRIu64 ": the point n%d at %" PRId64 " (partition %d, %" PRId64 " messages) never got its"
                      " prediction", seed, pt->id, pt->time, pt->p, pt->count);
    }
    for (int i = 0; i < W.npoints; i++)
        if (W.points[i].count != __builtin_popcountll(W.points[i].bits))
            violation("seed %" PRIu64 ": a point's count %" PRId64 " is not its %d messages", seed, W.points[i].count,
                      __builtin_popcountll(W.points[i].bits));
}

static int64_t run_schedule(uint64_t seed)
{
    int64_t steps;

    world_init(seed);
    while (W.step < CHAOS_STEPS)
        world_step();
    /* quiescence: faults off, writes in flight land, the hosts run until all is committed */
    W.chaos = 0;
    W.ml_down = 0;
    apply_late(1);
    for (int i = 0; i < MAXH; i++)
        W.hosts[i].next_start = W.step;
    while (!all_done() && W.step < CHAOS_STEPS + 3000)
        world_step();
    if (!all_done())
        violation("seed %" PRIu64 ": not drained after 3000 quiet steps (a stall)", seed);
    steps = W.step;
    check(seed);
    for (int i = 0; i < nruns; i++)
        if (runs[i].st != R_GONE) {
            agg_free(&runs[i].agg);
            agg_free(&runs[i].bf);
            free(runs[i].bits);
            free(runs[i].systemic);
            sink_chunk_free(&runs[i].ch);
        }
    return steps;
}

/* Schedules first..first+n in jobs processes (one a core), each a share; their last lines summed. */
static int run_jobs(const char *self, uint64_t first, uint64_t n, int jobs, int64_t max_violations)
{
    uint64_t schedules = 0, part = n / (uint64_t)jobs;
    int64_t steps = 0, violations = 0;
    FILE *out[64];

    if (jobs > 64)
        jobs = 64;
    for (int j = 0; j < jobs; j++) {
        char cmd[512];
        uint64_t from = first + (uint64_t)j * part, count = j == jobs - 1 ? n - (uint64_t)j * part : part;
        snprintf(cmd, sizeof cmd, "'%s' --first %" PRIu64 " --schedules %" PRIu64 " --max-violations %" PRId64, self,
                 from, count, max_violations);
        if ((out[j] = popen(cmd, "r")) == NULL) {
            perror("sim: popen");
            return 70;
        }
    }
    for (int j = 0; j < jobs; j++) {
        char line[512];
        uint64_t a;
        int64_t b, c;
        while (fgets(line, sizeof line, out[j]))
            if (sscanf(line, "sim: %" SCNu64 " schedules, %" SCNd64 " steps, %" SCNd64 " violations", &a, &b, &c) == 3)
                schedules += a, steps += b, violations += c;
            else
                fputs(line, stdout);
        pclose(out[j]);
    }
    printf("sim: %" PRIu64 " schedules, %" PRId64 " steps, %" PRId64 " violations\n", schedules, steps, violations);
    return violations ? 1 : 0;
}

int main(int argc, char **argv)
{
    uint64_t first = 1, n = 1000;
    int64_t steps = 0, violations = 0, max_violations = 5;
    int jobs = 1;
    char err[256];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--schedules") == 0 && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            first = strtoull(argv[++i], NULL, 10), n = 1;
        else if (strcmp(argv[i], "--first") == 0 && i + 1 < argc)
            first = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--trace") == 0)
            tracing = 1;
        else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc)
            jobs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--max-violations") == 0 && i + 1 < argc)
            max_violations = strtoll(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: sim [--schedules N] [--first S] [--seed S] [--trace] [--max-violations N] [--jobs J]\n");
            return 64;
        }
    }
    if (config_load_string(&cfg, "[influxdb]\nmeasurement = m\n[avro]\nfields = X\n[ml]\nparams = x=X\n", "sim.ini", err, sizeof err)) {
        fprintf(stderr, "sim: %s\n", err);
        return 70;
    }
    if (jobs > 1 && n >= (uint64_t)jobs)
        return run_jobs(argv[0], first, n, jobs, max_violations);
    uint64_t done = 0;
    for (uint64_t s = first; s < first + n; s++, done++) {
        W.violations_here = 0;
        steps += run_schedule(s);
        if (W.violations_here) {
            violations++;
            printf("sim: seed %" PRIu64 " violated the promise; replay: %s --seed %" PRIu64 " --trace\n", s, argv[0], s);
            if (violations >= max_violations) {
                done++;
                break;
            }
        }
    }
    config_free(&cfg);
    printf("sim: %" PRIu64 " schedules, %" PRId64 " steps, %" PRId64 " violations\n", done, steps, violations);
    return violations ? 1 : 0;
}

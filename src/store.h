/* SPDX-License-Identifier: BSD-2-Clause */
/* store.h -- spillway's state in SQLite: the mode and its counters, every
 * check, every run, the quarantine, and the queries over them that status
 * and metrics print; retention pruning. All of spillway's SQL is here.
 *
 * The file is shared by the runner, the checker and `status`, so it is opened
 * in WAL mode with a busy timeout, its schema is versioned with
 * PRAGMA user_version and migrated forward in a transaction on open.
 * Times are stored as ISO 8601 UTC text with milliseconds, so that
 * `sqlite3 state.db 'select * from runs'` is readable as is. */
#ifndef SPILLWAY_STORE_H
#define SPILLWAY_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "decide.h"
#include "trace.h"

struct store;


/* Open (creating if needed) and migrate the database at path. The directory
 * must exist. Returns NULL with the reason in err. */
struct store *store_open(const char *path, char *err, size_t errsz);
void store_close(struct store *s);

/* For tests of the migrations: open path migrated only up to schema version
 * (an older spillway's file), and the version this spillway writes. */
struct store *store_open_at(const char *path, int version, char *err, size_t errsz);
int store_schema_version(void);

/* Mark runs left "running" by a runner that died (kill -9, power loss) as
 * "abandoned". Call only while holding the runner lock. Returns the number
 * of rows changed, or -1. */
int store_runs_abandon_stale(struct store *s, int64_t now_ms, char *err, size_t errsz);

/* Insert a "running" row for this run, with its token (mark.h); *run_id
 * receives its id. */
int store_run_begin(struct store *s, int64_t started_ms, int pid, uint32_t token, int64_t *run_id, char *err,
                    size_t errsz);

/* How a run ended, as stored in runs.outcome. */
enum run_outcome {
    RUN_RUNNING,       /* not finished (yet) */
    RUN_OK,            /* what it owned is written and committed */
    RUN_FAILED,        /* nothing committed; the next run reads the same messages */
    RUN_ABANDONED,     /* the runner died before finishing */
    RUN_NO_PARTITIONS, /* the group gave it no partition (more runners than partitions) */
    RUN_LOST,          /* every partition it read was taken by a rebalance: nothing committed */
    RUN_HELD,          /* its partitions owed a re-read of an unfinished batch it could not finish: nothing committed */
    RUN_PARTIAL,       /* it committed a first batch, then a further one failed */
};
const char *run_outcome_name(enum run_outcome o);

/* Why consuming stopped, as stored in runs.ended_by. */
enum run_end {
    END_NONE,         /* NULL: it never got that far */
    END_BATCH_SIZE,   /* the batch was full */
    END_TIMEOUT,      /* batch_timeout_seconds of consuming */
    END_EOF,          /* every owned partition at its end */
    END_SIGNAL,       /* SIGTERM or SIGINT */
    END_JOIN_TIMEOUT, /* no partitions within join_timeout_seconds */
    END_AGGREGATES,   /* the aggregate table was full (max_aggregates): the rest is the next batch's */
};
const char *run_end_name(enum run_end e); /* NULL for END_NONE */

struct run_summary {
    int64_t ended_ms;
    enum run_outcome outcome;
    int exit_code;
    enum run_end ended_by;
    int64_t messages, quarantined, aggregates, points;
    int64_t skipped;          /* messages skipped at the start (the primary's, or retention's) */
    int64_t redone;           /* messages re-read, to rewrite an unfinished batch, that the primary had processed */
    const char *ml;           /* "ok" (it answered), "failed", or NULL (not asked) */
    const char *level;        /* the level the run ended in (level.h), or NULL */
    int64_t preserved;        /* points written without their predictions (the preserve level) */
    int64_t backfilled;       /* predictions written onto points the preserve level wrote */
    int backfill_left;        /* and predictions still pending on its partitions after it */
    int lost_partitions;      /* partitions taken by a rebalance mid-run */
    double join_s;            /* seconds until partitions were assigned, < 0 never */
    int64_t backlog;          /* messages between its start and its partitions' ends, < 0 unknown */
    const char *offsets_json; /* committed ranges, or NULL when nothing was committed */
    const char *error;        /* or NULL */
    int64_t peak_rss_kib;
};
int store_run_end(struct store *s, int64_t run_id, const struct run_summary *sum, char *err, size_t errsz);

/* A quarantined message ("message") or aggregate ("aggregate", whose offset
 * is its first message's), of batch seq on its partition, holding count
 * messages. */
struct quarantine_item {
    int64_t run_id, at_ms;
    const char *kind, *topic;
    int32_t partition;
    int64_t offset, seq, count;
    const void *key, *payload;
    size_t key_len, payload_len;
    const char *error;
};

/* Record it, provisional (ledger.h): the same kind, topic, partition and
 * offset is stored once (a retry on this host replaces what its failed
 * attempt stored). */
int store_quarantine(struct store *s, const struct quarantine_item *q, char *err, size_t errsz);

/* Just before run_id commits partitions parts[0..n): its provisional rows
 * of them become "committing", made durable (fsync) before it returns. */
int store_quarantine_committing(struct store *s, int64_t run_id, const int32_t *parts, int n, char *err, size_t errsz);
/* The commit of partition was accepted: its committing rows are final. */
int store_quarantine_final(struct store *s, int64_t run_id, int32_t partition, char *err, size_t errsz);
/* run_id lost partition: its rows of it that are not final go (the new
 * owner decides anew). Returns the rows removed, or -1. */
int64_t store_quarantine_drop(struct store *s, int64_t run_id, int32_t partition, char *err, size_t errsz);

/* The batches of other runs than except_run whose rows are not settled
 * (provisional, or committing: their run died around its commit). */
struct quarantine_batch {
    int64_t run_id;
    uint32_t token; /* the run's */
    int32_t partition;
    int64_t seq;
    int committing; /* some row reached "committing" */
};
int store_quarantine_unsettled(struct store *s, int64_t except_run, struct quarantine_batch **out, size_t *n,
                               char *err, size_t errsz);
/* Settle batch b's rows: state "final" or "unverified", or NULL to delete
 * them. Returns the rows changed, or -1. */
int64_t store_quarantine_settle(struct store *s, const struct quarantine_batch *b, const char *state, char *err,
                                size_t errsz);

/* What store_prune() removed. */
struct store_pruned {
    int64_t checks, runs, quarantined; /* older than keep_days */
    int64_t over_budget;               /* quarantine rows removed, oldest first, for the byte budget */
    int64_t quarantine_bytes;          /* what the quarantine holds afterwards */
    int clock_jump;                    /* age pruning skipped: the clock is before the last run, or far past it */
};

/* Retention: remove checks, finished runs and quarantine rows older than
 * keep_days, then the oldest quarantine rows while the quarantine holds
 * more than max_quarantine_bytes (payloads and keys). Never a running run
 * or its quarantine rows, nor rows not yet final, nor a run whose
 * quarantine rows are kept; and no run or quarantine row by age when the
 * clock jumped (out->clock_jump). With
 * checks_only, only old checks (cheap: the checker calls it every check).
 * Returns 0 or -1. */
int store_prune(struct store *s, int64_t now_ms, int64_t keep_days, int64_t max_quarantine_bytes, int checks_only,
                struct store_pruned *out, char *err, size_t errsz);

/* Transactions. BEGIN IMMEDIATE takes the write lock at once (waiting up to
 * the busy timeout), so that two checks read-decide-write one after the
 * other and neither loses the other's count. */
int store_begin(struct store *s, char *err, size_t errsz);
int store_commit(struct store *s, char *err, size_t errsz);
void store_rollback(struct store *s);

/* When the streak of runs whose ML service failed began (epoch ms), the
 * streak broken by a run it answered; INT64_MIN when there is none. */
int store_ml_failing_since(struct store *s, int64_t *since_ms, char *err, size_t errsz);

/* The runner's level (level.h), as recorded. */
int store_level_get(struct store *s, char *level, size_t levelsz, char *err, size_t errsz);
/* Change it, with a row in levels saying why. Call inside a transaction
 * (store_begin), with the events it raises (outbox_raise_level). */
int store_level_set(struct store *s, int64_t at_ms, const char *level, const char *reason, char *err, size_t errsz);

/* The checker's state row. */
int store_state_get(struct store *s, struct check_state *st, char *err, size_t errsz);
/* Store st; since_ms becomes the mode's start only when the mode changes. */
int store_state_put(struct store *s, const struct check_state *st, int64_t since_ms, char *err, size_t errsz);

/* What a check did about the runner, as stored in checks.action. */
enum check_action {
    ACTION_NONE,          /* primary mode: nothing to launch */
    ACTION_LAUNCHING,     /* fallback mode, recorded before the launch */
    ACTION_LAUNCHED,
    ACTION_RUNNER_BUSY,   /* a runner holds the lock: not another */
    ACTION_LAUNCH_FAILED, /* the command or the spawn failed (error says why) */
};
const char *check_action_name(enum check_action a);

/* One row per check: the observation, the decision and what was done;
 * *check_id receives its id. store_check_action() records, later, what
 * launching the runner did, and why it failed. */
int store_check_insert(struct store *s, int64_t at_ms, const struct observation *o, const struct decision *d,
                       enum check_action action, const char *error, int64_t *check_id, char *err, size_t errsz);
int store_check_action(struct store *s, int64_t check_id, enum check_action action, const char *error, char *err,
                       size_t errsz);
/* One row per mode change or forced override, with its reason. */
int store_transition_insert(struct store *s, int64_t at_ms, enum mode from, enum mode to, enum forced forced,
                            const char *reason, char *err, size_t errsz);

/* The same for `spillway force`: a transition of kind "force", which
 * replay applies as an override rather than decides again. */
int store_force_insert(struct store *s, int64_t at_ms, enum mode from, enum mode to, enum forced forced,
                       const char *reason, char *err, size_t errsz);

/* ---- what the checker's decision needs from before (decide.h's history) ---- */

/* The last n checks, oldest first, into out[0..*got): their time and time
 * lag (unknown ones too). Returns 0, or -1 with err. */
int store_recent_checks(struct store *s, size_t n, struct recent_check *out, size_t *got, char *err, size_t errsz);

/* The times of the automatic mode changes after after_ms (not force
 * overrides), the last max of them, oldest first, into out[0..*got). */
int store_mode_changes(struct store *s, int64_t after_ms, int64_t *out, size_t max, size_t *got, char *err,
                       size_t errsz);

/* Of the last run ended at or before now_ms: the predictions it backfilled
 * when it left more pending on its partitions (0 when it left none or
 * backfilled none), and when it ended; both 0 when there is no such run. */
int store_backfill_going_on(struct store *s, int64_t now_ms, int64_t *backfilled, int64_t *ended_ms, char *err,
                            size_t errsz);

/* Runs that failed (failed or abandoned) in a row, the latest runs, and the
 * id of the first of them (0 when none). A run still going is not counted
 * and does not end the streak. */
int store_runs_failing(struct store *s, int64_t *count, int64_t *first_id, char *err, size_t errsz);

/* ---- the outbox of notifications (outbox.h delivers them) ---- */

struct outbox_event {
    const char *event;              /* trip, resume, force, runs_failing, episode_long, flapping, preserve, preserve_end */
    int64_t at_ms;
    enum mode mode, previous_mode;
    const char *reason;
    const struct observation *obs;  /* the latency and lags at the time, or NULL */
    const char *ref;                /* what it is about (store_outbox_has()), or NULL */
};

/* Add an event, due at once; its SPILLWAY_ID is 32 random hex digits.
 * Call inside the transaction that records what raised it. */
int store_outbox_add(struct store *s, const struct outbox_event *e, char *err, size_t errsz);

/* 1 when an event of this kind about ref was ever added (and not pruned),
 * 0 when not, -1 with err. */
int store_outbox_has(struct store *s, const char *event, const char *ref, char *err, size_t errsz);

/* The oldest event neither delivered nor dead. */
struct outbox_row {
    int64_t id;
    char uid[40], event[32], at[32], mode[16], previous_mode[16];
    char *reason; /* owned: free() it */
    int latency_known, lag_known, lag_s_known;
    double latency_s, lag_s;
    int64_t lag;
    int64_t attempts;   /* made so far */
    int64_t next_at_ms; /* not tried before */
};
/* Returns 1 with *row filled, 0 when nothing is pending, -1 with err. */
int store_outbox_head(struct store *s, struct outbox_row *row, char *err, size_t errsz);

enum outbox_result { OUTBOX_DELIVERED, OUTBOX_RETRY, OUTBOX_DEAD };
/* Record an attempt at now_ms: delivered, to be retried from next_at_ms,
 * or dead (given up); error says why it failed (NULL when it did not). */
int store_outbox_attempt(struct store *s, int64_t id, int64_t now_ms, enum outbox_result result, int64_t next_at_ms,
                         const char *error, char *err, size_t errsz);

/* Drop the per-partition detail of the checks before before_ms (the
 * largest time lag and its partition stay with the check); *n receives how
 * many checks lost it. */
#define STORE_PARTITIONS_DAYS 7
int store_prune_partitions(struct store *s, int64_t before_ms, int64_t *n, char *err, size_t errsz);

/* Forget events delivered or dead before before_ms; *n receives how many. */
int store_outbox_prune(struct store *s, int64_t before_ms, int64_t *n, char *err, size_t errsz);

/* ---- replay ---- */

/* Read the state database at path, read only (never migrated, never
 * written; a file of any older schema): its recorded checks as
 * observations, and its force overrides, in time order, one fn call each;
 * stops at, and returns, fn's first non-zero answer. A recorded check with
 * a NULL column had that probe off; one recorded unknown is unknown.
 * Returns 0, or -1 with err. */
int store_trace_read(const char *path, int (*fn)(const struct trace_step *step, void *arg), void *arg, char *err,
                     size_t errsz);

/* What `spillway status` shows, as arrays of rows under out's keys: state,
 * checks (10 last), runs (5 last), transitions (5 last), quarantine
 * (counts), episodes (5 last: began, ended, runs, messages, skipped,
 * points) and rate (the last 10 minutes' runs: messages_per_minute).
 * Returns 0, or -1 with err. */
int store_status(struct store *s, json_t *out, char *err, size_t errsz);

/* What the textfile metrics show, as a one-row array (see metrics.c). */
json_t *store_metrics(struct store *s, char *err, size_t errsz);

/* Run a read-only query; rows as a JSON array of objects (column -> value),
 * owned by the caller. NULL with err on failure. */
json_t *store_query_json(struct store *s, const char *sql, char *err, size_t errsz);

#endif

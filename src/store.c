/* SPDX-License-Identifier: BSD-2-Clause */
/* store.c -- all of the state in SQLite: schema and migrations, checks, transitions, runs, quarantine, retention, and what status and metrics read. */
#include "store.h"

#include <jansson.h>
#include <sqlite3.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct store {
    sqlite3 *db;
    sqlite3_stmt *quarantine;
};

/* migrations[i] takes the schema from version i to i + 1 */
static const char *const migrations[] = {
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY,"
    "  started_at TEXT NOT NULL,"
    "  ended_at TEXT,"
    "  pid INTEGER NOT NULL,"
    "  outcome TEXT NOT NULL,"           /* run_outcome_name() */
    "  exit_code INTEGER,"
    "  ended_by TEXT,"                   /* run_end_name() */
    "  messages INTEGER NOT NULL DEFAULT 0,"
    "  quarantined INTEGER NOT NULL DEFAULT 0,"
    "  aggregates INTEGER NOT NULL DEFAULT 0,"
    "  points INTEGER NOT NULL DEFAULT 0,"
    "  offsets TEXT,"                    /* JSON: [{partition, from, to}] committed, to inclusive */
    "  error TEXT,"
    "  peak_rss_kib INTEGER"
    ");"
    "CREATE TABLE quarantine ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id INTEGER REFERENCES runs(id),"
    "  at TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"              /* message | aggregate */
    "  topic TEXT NOT NULL,"
    "  partition INTEGER NOT NULL,"
    "  offset INTEGER NOT NULL,"
    "  key BLOB,"
    "  payload BLOB,"                    /* raw message bytes, or the aggregate as JSON */
    "  error TEXT NOT NULL,"
    "  UNIQUE (kind, topic, partition, offset)"
    ");",
    /* 2: the checker */
    "CREATE TABLE checks ("
    "  id INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL,"
    "  latency_s REAL,"                  /* NULL: unknown */
    "  lag INTEGER,"                     /* NULL: not probed or unknown */
    "  healthy INTEGER,"                 /* NULL: not probed or unknown */
    "  verdict TEXT NOT NULL,"           /* verdict_name(): healthy, violation, recovery, not_recovered, unknown, idle */
    "  violations INTEGER NOT NULL,"
    "  recoveries INTEGER NOT NULL,"
    "  mode TEXT NOT NULL,"              /* after this check */
    "  forced TEXT NOT NULL,"
    "  action TEXT NOT NULL,"            /* check_action_name() */
    "  reason TEXT,"
    "  error TEXT"
    ");"
    "CREATE TABLE transitions ("
    "  id INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL,"
    "  from_mode TEXT NOT NULL,"
    "  to_mode TEXT NOT NULL,"
    "  forced TEXT NOT NULL,"
    "  reason TEXT NOT NULL"
    ");"
    "CREATE TABLE state ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  mode TEXT NOT NULL,"
    "  forced TEXT NOT NULL,"
    "  violations INTEGER NOT NULL,"
    "  recoveries INTEGER NOT NULL,"
    "  since TEXT NOT NULL"              /* when this mode began */
    ");"
    "INSERT INTO state VALUES (1, 'primary', 'auto', 0, 0, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));",
    /* 3: the runner's life in its group; outcomes no_partitions and lost,
     * ended_by join_timeout */
    "ALTER TABLE runs ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE runs ADD COLUMN lost_partitions INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE runs ADD COLUMN join_s REAL;",
    /* 4: retention needs to find old rows without a scan */
    "CREATE INDEX checks_at ON checks (at);"
    "CREATE INDEX runs_started_at ON runs (started_at);"
    "CREATE INDEX quarantine_at ON quarantine (at);",
    /* 5: the backlog a run found (the messages its batches were sized from) */
    "ALTER TABLE runs ADD COLUMN backlog INTEGER;",
    /* 6: detection: the time lag per partition and which signal made a
     * violation, the prediction's record, hysteresis and flapping in the
     * state, and force overrides told from automatic changes (replay) */
    "ALTER TABLE checks ADD COLUMN cause TEXT;"               /* cause_name() */
    "ALTER TABLE checks ADD COLUMN time_lag_s REAL;"          /* the largest over partitions; NULL: not read */
    "ALTER TABLE checks ADD COLUMN time_lag_partition INTEGER;"
    "ALTER TABLE checks ADD COLUMN partitions TEXT;"          /* JSON: [{partition, lag, time_lag_s}] */
    "ALTER TABLE checks ADD COLUMN predicted TEXT;"           /* predicted_name(); NULL: off */
    "ALTER TABLE checks ADD COLUMN slope REAL;"               /* time lag seconds per second */
    "ALTER TABLE checks ADD COLUMN projection_s REAL;"
    "ALTER TABLE state ADD COLUMN recovering_since TEXT;"
    "ALTER TABLE state ADD COLUMN flapping_since TEXT;"
    "ALTER TABLE state ADD COLUMN shadow_violations INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE transitions ADD COLUMN kind TEXT NOT NULL DEFAULT 'auto';" /* auto | force */
    "UPDATE transitions SET kind = 'force' WHERE reason LIKE 'force %';"
    "CREATE INDEX transitions_at ON transitions (at);"
    /* the per-partition detail goes before the check (store_prune_partitions) */
    "CREATE INDEX checks_partitions_at ON checks (at) WHERE partitions IS NOT NULL;",
    /* 7: notifications: events written with the transition that raised
     * them, delivered at least once by the checker */
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  uid TEXT NOT NULL UNIQUE,"        /* SPILLWAY_ID */
    "  event TEXT NOT NULL,"             /* trip, resume, force, runs_failing, episode_long, flapping, preserve, preserve_end */
    "  at TEXT NOT NULL,"
    "  mode TEXT NOT NULL,"
    "  previous_mode TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  latency_s REAL,"
    "  lag INTEGER,"
    "  lag_s REAL,"
    "  ref TEXT,"                        /* what it is about, for an event raised once (a run id, an episode) */
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_at TEXT NOT NULL,"           /* not tried again before */
    "  delivered_at TEXT,"
    "  dead_at TEXT,"
    "  last_error TEXT"
    ");"
    "CREATE INDEX outbox_pending ON outbox (id) WHERE delivered_at IS NULL AND dead_at IS NULL;",
    /* 8: exactness at the quarantine's boundary. A run's token (its done
     * marks carry it), and what it re-read that the primary had processed.
     * A quarantine row belongs to a batch (seq on its partition), holds count
     * messages, and is provisional until its run's commit lands (ledger.h):
     * provisional -> committing (durable, just before the commit) -> final,
     * or unverified when that can no longer be told. Older rows are final. */
    "ALTER TABLE runs ADD COLUMN token TEXT;"
    "ALTER TABLE runs ADD COLUMN redone INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE quarantine ADD COLUMN seq INTEGER;"
    "ALTER TABLE quarantine ADD COLUMN count INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE quarantine ADD COLUMN state TEXT NOT NULL DEFAULT 'final';"
    "CREATE INDEX quarantine_unsettled ON quarantine (state) WHERE state IN ('provisional', 'committing');"
    /* the second level (level.h): what a run's ML service did, the level it
     * wrote in, points written without predictions and predictions
     * backfilled; the level in the state, and its changes with reasons */
    "ALTER TABLE runs ADD COLUMN ml TEXT;"            /* ok, failed; NULL: not asked */
    "ALTER TABLE runs ADD COLUMN level TEXT;"
    "ALTER TABLE runs ADD COLUMN preserved INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE runs ADD COLUMN backfilled INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE state ADD COLUMN level TEXT NOT NULL DEFAULT 'normal';"
    "ALTER TABLE state ADD COLUMN level_since TEXT;"
    "CREATE TABLE levels ("
    "  id INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL,"
    "  level TEXT NOT NULL,"
    "  reason TEXT NOT NULL"
    ");",
    /* 10: whether a run that backfilled left predictions pending on the
     * partitions it owned: a resume waits while the backfill goes on */
    /* (in parentheses: clang takes two literals in a row for a missing comma) */
    ("ALTER TABLE runs ADD COLUMN backfill_left INTEGER NOT NULL DEFAULT 0;"
     "CREATE INDEX runs_ended_at ON runs (ended_at) WHERE ended_at IS NOT NULL;"),
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

const char *run_outcome_name(enum run_outcome o)
{
    static const char *const names[] = {
        [RUN_RUNNING] = "running", [RUN_OK] = "ok", [RUN_FAILED] = "failed", [RUN_ABANDONED] = "abandoned",
        [RUN_NO_PARTITIONS] = "no_partitions", [RUN_LOST] = "lost", [RUN_HELD] = "held", [RUN_PARTIAL] = "partial",
    };
    return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "?";
}

const char *check_action_name(enum check_action a)
{
    static const char *const names[] = {
        [ACTION_NONE] = "none", [ACTION_LAUNCHING] = "launching", [ACTION_LAUNCHED] = "launched",
        [ACTION_RUNNER_BUSY] = "runner busy", [ACTION_LAUNCH_FAILED] = "launch failed",
    };
    return (unsigned)a < sizeof names / sizeof names[0] ? names[a] : "?";
}

const char *run_end_name(enum run_end e)
{
    static const char *const names[] = {
        [END_NONE] = NULL, [END_BATCH_SIZE] = "batch_size", [END_TIMEOUT] = "timeout", [END_EOF] = "eof",
        [END_SIGNAL] = "signal", [END_JOIN_TIMEOUT] = "join_timeout", [END_AGGREGATES] = "max_aggregates",
    };
    return (unsigned)e < sizeof names / sizeof names[0] ? names[e] : NULL;
}

static int store_fail(struct store *s, char *err, size_t errsz, const char *what)
{
    snprintf(err, errsz, "state database: %s: %s", what, sqlite3_errmsg(s->db));
    return -1;
}

static int store_version(struct store *s, int *version)
{
    sqlite3_stmt *st;
    int rc = -1;

    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *version = sqlite3_column_int(st, 0);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Read the schema version without a lock (every check, run and status opens
 * the file; none should queue behind another for this), and take the write
 * lock only to migrate, reading the version again under it: two processes
 * opening an old file must not both migrate. */
static int store_migrate(struct store *s, int target, char *err, size_t errsz)
{
    int version;

    if (store_version(s, &version) != 0)
        return store_fail(s, err, errsz, "read the schema version");
    if (version == target)
        return 0;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "begin");
    if (store_version(s, &version) != 0)
        goto fail;
    if (version > NMIGRATIONS) {
        snprintf(err, errsz, "state database has schema version %d, newer than this spillway (%d)",
                 version, NMIGRATIONS);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    for (; version < target; version++) {
        char pragma[64];
        if (sqlite3_exec(s->db, migrations[version], NULL, NULL, NULL) != SQLITE_OK)
            goto fail;
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version + 1);
        if (sqlite3_exec(s->db, pragma, NULL, NULL, NULL) != SQLITE_OK)
            goto fail;
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    return 0;
fail:
    store_fail(s, err, errsz, "migrate");
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* Run a prepared statement that returns no rows, and finalize it. */
static int store_done(struct store *s, sqlite3_stmt *q, const char *what, char *err, size_t errsz)
{
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : store_fail(s, err, errsz, what);

    sqlite3_finalize(q);
    return rc;
}

/* How long a statement waits for another process's lock before failing. */
#define STORE_BUSY_MS 5000
#define STORE_WAL_RETRY_MS 10

/* Put the file in WAL mode (persistent: once one process did it, the others
 * find it so). Switching a new file to WAL takes an exclusive lock without
 * calling the busy handler, so several processes opening a brand-new file at
 * once would see "database is locked" at once: retry for as long as the busy
 * timeout would have waited. Measured before: 10 failures in 1,000 processes
 * opening a new file ten at a time. */
static int store_use_wal(struct store *s)
{
    int rc = SQLITE_BUSY;

    for (int waited = 0; waited <= STORE_BUSY_MS; waited += STORE_WAL_RETRY_MS) {
        rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            break;
        sqlite3_sleep(STORE_WAL_RETRY_MS);
    }
    return rc == SQLITE_OK ? 0 : -1;
}

struct store *store_open(const char *path, char *err, size_t errsz)
{
    return store_open_at(path, NMIGRATIONS, err, errsz);
}

int store_schema_version(void)
{
    return NMIGRATIONS;
}

struct store *store_open_at(const char *path, int version, char *err, size_t errsz)
{
    struct store *s = calloc(1, sizeof *s);

    if (s == NULL) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        snprintf(err, errsz, "state database %s: cannot open: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    if (sqlite3_busy_timeout(s->db, STORE_BUSY_MS) != SQLITE_OK ||
        store_use_wal(s) != 0 ||
        sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK) {
        store_fail(s, err, errsz, path);
        goto fail;
    }
    if (store_migrate(s, version, err, errsz) != 0)
        goto fail;
    return s;
fail:
    sqlite3_close(s->db);
    free(s);
    return NULL;
}

void store_close(struct store *s)
{
    if (s == NULL)
        return;
    sqlite3_finalize(s->quarantine);
    sqlite3_close(s->db);
    free(s);
}

int store_runs_abandon_stale(struct store *s, int64_t now_ms, char *err, size_t errsz)
{
    char at[32];
    sqlite3_stmt *st;

    fmt_iso_ms(at, sizeof at, now_ms);
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE runs SET outcome = 'abandoned', ended_at = ?,"
                           " error = 'the runner died before finishing (killed or crashed)'"
                           " WHERE outcome = 'running'",
                           -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_text(st, 1, at, -1, SQLITE_TRANSIENT);
    if (store_done(s, st, "abandon stale runs", err, errsz) != 0)
        return -1;
    return sqlite3_changes(s->db);
}

int store_run_begin(struct store *s, int64_t started_ms, int pid, uint32_t token, int64_t *run_id, char *err,
                    size_t errsz)
{
    char at[32], tok[16];
    sqlite3_stmt *st;

    fmt_iso_ms(at, sizeof at, started_ms);
    snprintf(tok, sizeof tok, "%08" PRIx32, token);
    if (sqlite3_prepare_v2(s->db, "INSERT INTO runs (started_at, pid, outcome, token) VALUES (?, ?, 'running', ?)", -1,
                           &st, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_text(st, 1, at, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, pid);
    sqlite3_bind_text(st, 3, tok, -1, SQLITE_TRANSIENT);
    if (store_done(s, st, "insert run", err, errsz) != 0)
        return -1;
    *run_id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int store_run_end(struct store *s, int64_t run_id, const struct run_summary *sum, char *err, size_t errsz)
{
    char at[32];
    sqlite3_stmt *st;

    fmt_iso_ms(at, sizeof at, sum->ended_ms);
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE runs SET ended_at = ?, outcome = ?, exit_code = ?, ended_by = ?,"
                           " messages = ?, quarantined = ?, aggregates = ?, points = ?, offsets = ?,"
                           " error = ?, peak_rss_kib = ?, skipped = ?, lost_partitions = ?, join_s = ?, backlog = ?,"
                           " redone = ?, ml = ?, level = ?, preserved = ?, backfilled = ?, backfill_left = ? WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_text(st, 1, at, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, run_outcome_name(sum->outcome), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, sum->exit_code);
    sqlite3_bind_text(st, 4, run_end_name(sum->ended_by), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, sum->messages);
    sqlite3_bind_int64(st, 6, sum->quarantined);
    sqlite3_bind_int64(st, 7, sum->aggregates);
    sqlite3_bind_int64(st, 8, sum->points);
    sqlite3_bind_text(st, 9, sum->offsets_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, sum->error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, sum->peak_rss_kib);
    sqlite3_bind_int64(st, 12, sum->skipped);
    sqlite3_bind_int(st, 13, sum->lost_partitions);
    if (sum->join_s >= 0)
        sqlite3_bind_double(st, 14, sum->join_s);
    if (sum->backlog >= 0)
        sqlite3_bind_int64(st, 15, sum->backlog);
    sqlite3_bind_int64(st, 16, sum->redone);
    sqlite3_bind_text(st, 17, sum->ml, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 18, sum->level, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 19, sum->preserved);
    sqlite3_bind_int64(st, 20, sum->backfilled);
    sqlite3_bind_int(st, 21, sum->backfill_left);
    sqlite3_bind_int64(st, 22, run_id);
    return store_done(s, st, "update run", err, errsz);
}

int store_quarantine(struct store *s, const struct quarantine_item *q, char *err, size_t errsz)
{
    sqlite3_stmt *st = s->quarantine;
    char at[32];
    int rc;

    /* prepared once, on first use: most commands never quarantine. A retry
     * on this host replaces what its failed attempt stored (its rows are
     * provisional: they would be dropped anyway). */
    if (st == NULL &&
        sqlite3_prepare_v2(s->db,
                           "INSERT INTO quarantine (run_id, at, kind, topic, partition, offset, key, payload, error,"
                           " seq, count, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'provisional')"
                           " ON CONFLICT (kind, topic, partition, offset) DO UPDATE SET run_id = excluded.run_id,"
                           " at = excluded.at, key = excluded.key, payload = excluded.payload, error = excluded.error,"
                           " seq = excluded.seq, count = excluded.count, state = excluded.state",
                           -1, &s->quarantine, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    st = s->quarantine;
    fmt_iso_ms(at, sizeof at, q->at_ms);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_int64(st, 1, q->run_id);
    sqlite3_bind_text(st, 2, at, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, q->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, q->topic, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, q->partition);
    sqlite3_bind_int64(st, 6, q->offset);
    if (q->key)
        sqlite3_bind_blob(st, 7, q->key, (int)q->key_len, SQLITE_STATIC);
    if (q->payload)
        sqlite3_bind_blob(st, 8, q->payload, (int)q->payload_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, q->error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, q->seq);
    sqlite3_bind_int64(st, 11, q->count);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_fail(s, err, errsz, "insert quarantine");
    return 0;
}

static int store_exec(struct store *s, const char *sql, char *err, size_t errsz);

/* Run sql with (run_id, partition) bound, in the current transaction or
 * its own; returns the rows changed, or -1. */
static int store_run_partition(struct store *s, const char *sql, int64_t run_id, int32_t partition, const char *what,
                               char *err, size_t errsz)
{
    sqlite3_stmt *st;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int(st, 2, partition);
    if (store_done(s, st, what, err, errsz) != 0)
        return -1;
    return sqlite3_changes(s->db);
}

int store_quarantine_committing(struct store *s, int64_t run_id, const int32_t *parts, int n, char *err, size_t errsz)
{
    int rc;

    /* synchronous = NORMAL (WAL) syncs only at checkpoints: this commit, and
     * every quarantine row appended before it, must survive a power loss
     * before Kafka is told the messages are done with */
    if (store_exec(s, "PRAGMA synchronous = FULL", err, errsz) != 0)
        return -1;
    if (store_exec(s, "BEGIN IMMEDIATE", err, errsz) != 0)
        goto out;
    for (int i = 0; i < n; i++) {
        if (store_run_partition(s, "UPDATE quarantine SET state = 'committing' WHERE run_id = ?"
                                " AND partition = ? AND state = 'provisional'",
                                run_id, parts[i], "mark quarantine committing", err, errsz) < 0) {
            store_rollback(s);
            goto out;
        }
    }
    if ((rc = store_exec(s, "COMMIT", err, errsz)) != 0)
        store_rollback(s);
    sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    return rc;
out:
    sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    return -1;
}

int store_quarantine_final(struct store *s, int64_t run_id, int32_t partition, char *err, size_t errsz)
{
    return store_run_partition(s, "UPDATE quarantine SET state = 'final' WHERE run_id = ? AND partition = ?"
                               " AND state = 'committing'",
                               run_id, partition, "mark quarantine final", err, errsz) < 0 ? -1 : 0;
}

int64_t store_quarantine_drop(struct store *s, int64_t run_id, int32_t partition, char *err, size_t errsz)
{
    return store_run_partition(s, "DELETE FROM quarantine WHERE run_id = ? AND partition = ?"
                               " AND state IN ('provisional', 'committing')",
                               run_id, partition, "drop quarantine", err, errsz);
}

int store_quarantine_unsettled(struct store *s, int64_t except_run, struct quarantine_batch **out, size_t *n, char *err,
                               size_t errsz)
{
    sqlite3_stmt *st;
    int rc;
    size_t cap = 0;

    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT q.run_id, coalesce(r.token, ''), q.partition, coalesce(q.seq, -1),"
                           " max(q.state = 'committing') FROM quarantine q LEFT JOIN runs r ON r.id = q.run_id"
                           " WHERE q.state IN ('provisional', 'committing') AND q.run_id != ?"
                           " GROUP BY q.run_id, q.partition, q.seq ORDER BY q.partition",
                           -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_int64(st, 1, except_run);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            struct quarantine_batch *b = array_grow(*out, &cap, sizeof *b, 8);
            if (b == NULL) {
                sqlite3_finalize(st);
                snprintf(err, errsz, "out of memory");
                return -1;
            }
            *out = b;
        }
        struct quarantine_batch *b = &(*out)[(*n)++];
        b->run_id = sqlite3_column_int64(st, 0);
        b->token = (uint32_t)strtoul((const char *)sqlite3_column_text(st, 1), NULL, 16);
        b->partition = sqlite3_column_int(st, 2);
        b->seq = sqlite3_column_int64(st, 3);
        b->committing = sqlite3_column_int(st, 4);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return store_fail(s, err, errsz, "read unsettled quarantine");
    return 0;
}

int64_t store_quarantine_settle(struct store *s, const struct quarantine_batch *b, const char *state, char *err,
                                size_t errsz)
{
    sqlite3_stmt *st;

    if (sqlite3_prepare_v2(s->db,
                           state ? "UPDATE quarantine SET state = ?4 WHERE run_id = ?1 AND partition = ?2"
                                   " AND coalesce(seq, -1) = ?3 AND state IN ('provisional', 'committing')"
                                 : "DELETE FROM quarantine WHERE run_id = ?1 AND partition = ?2"
                                   " AND coalesce(seq, -1) = ?3 AND state IN ('provisional', 'committing')",
                           -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_int64(st, 1, b->run_id);
    sqlite3_bind_int(st, 2, b->partition);
    sqlite3_bind_int64(st, 3, b->seq);
    if (state)
        sqlite3_bind_text(st, 4, state, -1, SQLITE_STATIC);
    if (store_done(s, st, "settle quarantine", err, errsz) != 0)
        return -1;
    return sqlite3_changes(s->db);
}

/* Run a DELETE with one text parameter; add the rows removed to *n. */
static int store_delete(struct store *s, const char *sql, const char *param, int64_t *n, char *err, size_t errsz)
{
    sqlite3_stmt *st;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    if (param)
        sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
    if (store_done(s, st, "prune", err, errsz) != 0)
        return -1;
    *n += sqlite3_changes(s->db);
    return 0;
}

static int64_t store_scalar(struct store *s, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* A stored ISO 8601 time as epoch milliseconds, in SQL (NULL stays NULL). */
#define SQL_MS(col) "CAST(round((julianday(" col ") - 2440587.5) * 86400000.0) AS INTEGER)"

/* The first row of sql (its one ? bound to param, when param is given):
 * its first columns into v[0..n), each left as it was when NULL, all when
 * there is no row. 0, or -1 with err naming what was read. */
static int store_row(struct store *s, const char *sql, const char *param, int64_t *v, int n, const char *what,
                     char *err, size_t errsz)
{
    sqlite3_stmt *q;
    int rc;

    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    if (param)
        sqlite3_bind_text(q, 1, param, -1, SQLITE_TRANSIENT);
    if ((rc = sqlite3_step(q)) == SQLITE_ROW)
        for (int i = 0; i < n; i++)
            if (sqlite3_column_type(q, i) != SQLITE_NULL)
                v[i] = sqlite3_column_int64(q, i);
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(s, err, errsz, what);
}

/* Quarantine rows of runs still running are never pruned: a run that has
 * not finished may yet count them. */
#define QUARANTINE_SIZE "(coalesce(length(payload), 0) + coalesce(length(key), 0))"
#define QUARANTINE_PRUNABLE                                                                                        \
    "(state NOT IN ('provisional', 'committing') AND"                                                             \
    " (run_id IS NULL OR run_id NOT IN (SELECT id FROM runs WHERE outcome = 'running')))"

/* The start of the newest finished run before the latest one (the run that
 * prunes has just finished: its own time says nothing), epoch ms;
 * INT64_MIN when none. */
static int64_t store_newest_run_ms(struct store *s)
{
    sqlite3_stmt *st;
    int64_t ms = INT64_MIN;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT " SQL_MS("max(started_at)")
                           " FROM runs WHERE outcome != 'running' AND id < (SELECT max(id) FROM runs)",
                           -1, &st, NULL) != SQLITE_OK)
        return INT64_MIN;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        ms = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return ms;
}

int store_prune(struct store *s, int64_t now_ms, int64_t keep_days, int64_t max_quarantine_bytes, int checks_only,
                struct store_pruned *out, char *err, size_t errsz)
{
    char before[32];
    int64_t bytes;

    memset(out, 0, sizeof *out);
    fmt_iso_ms(before, sizeof before, now_ms - keep_days * 86400000);
    if (store_delete(s, "DELETE FROM checks WHERE at < ?", before, &out->checks, err, errsz) != 0)
        return -1;
    if (checks_only)
        return 0;
    /* A clock that jumped must not prune the quarantine (the only copy of
     * what was refused): back before the newest finished run, or more than
     * keep_days past it, age pruning waits (a run a minute makes any real
     * gap that long an idle system, which has nothing new to prune). */
    int64_t newest = store_newest_run_ms(s);
    out->clock_jump = newest != INT64_MIN && (now_ms < newest || now_ms - newest > keep_days * 86400000);
    if (!out->clock_jump &&
        (store_delete(s, "DELETE FROM quarantine WHERE at < ? AND " QUARANTINE_PRUNABLE, before, &out->quarantined,
                      err, errsz) != 0 ||
         /* a run's quarantine rows keep their run id: prune runs after them */
         store_delete(s,
                      "DELETE FROM runs WHERE started_at < ? AND outcome != 'running'"
                      " AND id NOT IN (SELECT run_id FROM quarantine WHERE run_id IS NOT NULL)",
                      before, &out->runs, err, errsz) != 0))
        return -1;
    bytes = store_scalar(s, "SELECT coalesce(sum(" QUARANTINE_SIZE "), 0) FROM quarantine");
    if (bytes > max_quarantine_bytes) {
        char limit[32];
        /* the oldest first, up to the bytes over the budget */
        snprintf(limit, sizeof limit, "%" PRId64, bytes - max_quarantine_bytes);
        if (store_delete(s,
                         "DELETE FROM quarantine WHERE id IN (SELECT id FROM (SELECT id, sum(" QUARANTINE_SIZE
                         ") OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) - " QUARANTINE_SIZE " AS before"
                         " FROM quarantine WHERE " QUARANTINE_PRUNABLE ") WHERE before < CAST(? AS INTEGER))",
                         limit, &out->over_budget, err, errsz) != 0)
            return -1;
    }
    out->quarantine_bytes = store_scalar(s, "SELECT coalesce(sum(" QUARANTINE_SIZE "), 0) FROM quarantine");
    return 0;
}

static int store_exec(struct store *s, const char *sql, char *err, size_t errsz)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, sql);
    return 0;
}

int store_begin(struct store *s, char *err, size_t errsz) { return store_exec(s, "BEGIN IMMEDIATE", err, errsz); }
int store_commit(struct store *s, char *err, size_t errsz) { return store_exec(s, "COMMIT", err, errsz); }
void store_rollback(struct store *s) { sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL); }



int store_ml_failing_since(struct store *s, int64_t *since_ms, char *err, size_t errsz)
{
    *since_ms = INT64_MIN;
    return store_row(s,
                     "SELECT " SQL_MS("min(started_at)") " FROM runs WHERE ml = 'failed'"
                     " AND id > coalesce((SELECT max(id) FROM runs WHERE ml = 'ok'), 0)",
                     NULL, since_ms, 1, "read the ML service's failures", err, errsz);
}

int store_level_get(struct store *s, char *level, size_t levelsz, char *err, size_t errsz)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(s->db, "SELECT level FROM state", -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        snprintf(level, levelsz, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return store_fail(s, err, errsz, "read the level");
    return 0;
}

int store_level_set(struct store *s, int64_t at_ms, const char *level, const char *reason, char *err, size_t errsz)
{
    sqlite3_stmt *st;
    char at[32];

    fmt_iso_ms(at, sizeof at, at_ms);
    if (sqlite3_prepare_v2(s->db, "UPDATE state SET level = ?1, level_since = ?2", -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_text(st, 1, level, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, at, -1, SQLITE_TRANSIENT);
    if (store_done(s, st, "set the level", err, errsz) != 0)
        return -1;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO levels (at, level, reason) VALUES (?1, ?2, ?3)", -1, &st, NULL) !=
        SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_text(st, 1, at, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, level, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
    return store_done(s, st, "record the level", err, errsz);
}

int store_state_get(struct store *s, struct check_state *st, char *err, size_t errsz)
{
    sqlite3_stmt *q;
    int rc = -1;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT mode, forced, violations, recoveries, " SQL_MS("since") ", "
                           SQL_MS("recovering_since") ", " SQL_MS("flapping_since") ", shadow_violations"
                           " FROM state WHERE id = 1", -1, &q, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    if (sqlite3_step(q) == SQLITE_ROW && mode_parse((const char *)sqlite3_column_text(q, 0), &st->mode) == 0 &&
        forced_parse((const char *)sqlite3_column_text(q, 1), &st->forced) == 0) {
        st->violations = sqlite3_column_int64(q, 2);
        st->recoveries = sqlite3_column_int64(q, 3);
        st->since_ms = sqlite3_column_int64(q, 4);
        st->recovering_since_ms = sqlite3_column_int64(q, 5); /* NULL reads as 0: none */
        st->flapping_since_ms = sqlite3_column_int64(q, 6);
        st->shadow_violations = sqlite3_column_int64(q, 7);
        rc = 0;
    } else {
        snprintf(err, errsz, "state database: the state row is missing or damaged");
    }
    sqlite3_finalize(q);
    return rc;
}

/* Bind epoch milliseconds as ISO 8601 text, or NULL for 0. */
static void bind_ms(sqlite3_stmt *q, int i, int64_t ms)
{
    char at[32];

    if (ms == 0)
        return; /* unbound: NULL */
    fmt_iso_ms(at, sizeof at, ms);
    sqlite3_bind_text(q, i, at, -1, SQLITE_TRANSIENT);
}

int store_state_put(struct store *s, const struct check_state *st, int64_t since_ms, char *err, size_t errsz)
{
    char at[32];
    sqlite3_stmt *q;

    fmt_iso_ms(at, sizeof at, since_ms);
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE state SET mode = ?, forced = ?, violations = ?, recoveries = ?,"
                           " since = CASE WHEN mode = ? THEN since ELSE ? END, recovering_since = ?,"
                           " flapping_since = ?, shadow_violations = ? WHERE id = 1",
                           -1, &q, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    /* (the CASE reads the row as it was: since moves only with the mode) */
    sqlite3_bind_text(q, 1, mode_name(st->mode), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, forced_name(st->forced), -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, st->violations);
    sqlite3_bind_int64(q, 4, st->recoveries);
    sqlite3_bind_text(q, 5, mode_name(st->mode), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, at, -1, SQLITE_TRANSIENT);
    bind_ms(q, 7, st->recovering_since_ms);
    bind_ms(q, 8, st->flapping_since_ms);
    sqlite3_bind_int64(q, 9, st->shadow_violations);
    return store_done(s, q, "update state", err, errsz);
}

/* The detection columns of a check, from parameter i on: cause, time lag
 * and its partition, the partitions, what the prediction said. */
static void store_bind_detection(sqlite3_stmt *q, int i, const struct observation *o, const struct decision *d)
{
    sqlite3_bind_text(q, i, cause_name(d->cause), -1, SQLITE_STATIC);
    if (o->lag_probed && o->time_lag_known) {
        sqlite3_bind_double(q, i + 1, o->time_lag_s);
        if (o->time_lag_partition >= 0)
            sqlite3_bind_int(q, i + 2, o->time_lag_partition);
    }
    if (o->partitions_json)
        sqlite3_bind_text(q, i + 3, o->partitions_json, -1, SQLITE_STATIC);
    if (d->predicted != PREDICTED_OFF)
        sqlite3_bind_text(q, i + 4, predicted_name(d->predicted), -1, SQLITE_STATIC);
    if (d->trend.made) {
        sqlite3_bind_double(q, i + 5, d->trend.slope);
        sqlite3_bind_double(q, i + 6, d->trend.projection);
    }
}

int store_check_insert(struct store *s, int64_t at_ms, const struct observation *o, const struct decision *d,
                       enum check_action action, const char *error, int64_t *check_id, char *err, size_t errsz)
{
    char at[32];
    sqlite3_stmt *q;

    fmt_iso_ms(at, sizeof at, at_ms);
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO checks (at, latency_s, lag, healthy, verdict, violations, recoveries, mode,"
                           " forced, action, reason, error, cause, time_lag_s, time_lag_partition, partitions,"
                           " predicted, slope, projection_s)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &q, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_text(q, 1, at, -1, SQLITE_TRANSIENT);
    if (o->latency_known)
        sqlite3_bind_double(q, 2, o->latency_s);
    if (o->lag_probed && o->lag_known)
        sqlite3_bind_int64(q, 3, o->lag);
    if (o->health_probed && o->health_known)
        sqlite3_bind_int(q, 4, o->healthy);
    sqlite3_bind_text(q, 5, verdict_name(d->verdict), -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, d->next.violations);
    sqlite3_bind_int64(q, 7, d->next.recoveries);
    sqlite3_bind_text(q, 8, mode_name(d->next.mode), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 9, forced_name(d->next.forced), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 10, check_action_name(action), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 11, d->reason, -1, SQLITE_STATIC);
    if (error && error[0])
        sqlite3_bind_text(q, 12, error, -1, SQLITE_STATIC);
    store_bind_detection(q, 13, o, d);
    if (store_done(s, q, "insert check", err, errsz) != 0)
        return -1;
    *check_id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int store_check_action(struct store *s, int64_t check_id, enum check_action action, const char *error, char *err,
                       size_t errsz)
{
    sqlite3_stmt *q;

    if (sqlite3_prepare_v2(s->db,
                           "UPDATE checks SET action = ?,"
                           " error = CASE WHEN ? IS NULL THEN error WHEN error IS NULL THEN ? ELSE error || '; ' || ? END"
                           " WHERE id = ?",
                           -1, &q, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_text(q, 1, check_action_name(action), -1, SQLITE_STATIC);
    for (int i = 2; i <= 4 && error && error[0]; i++) /* unbound: NULL, the error kept */
        sqlite3_bind_text(q, i, error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, check_id);
    return store_done(s, q, "update check", err, errsz);
}

static int store_transition_kind(struct store *s, const char *kind, int64_t at_ms, enum mode from, enum mode to,
                                 enum forced forced, const char *reason, char *err, size_t errsz)
{
    char at[32];
    sqlite3_stmt *q;

    fmt_iso_ms(at, sizeof at, at_ms);
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO transitions (at, from_mode, to_mode, forced, reason, kind)"
                           " VALUES (?, ?, ?, ?, ?, ?)",
                           -1, &q, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_text(q, 1, at, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 2, mode_name(from), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, mode_name(to), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, forced_name(forced), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, kind, -1, SQLITE_STATIC);
    return store_done(s, q, "insert transition", err, errsz);
}

int store_transition_insert(struct store *s, int64_t at_ms, enum mode from, enum mode to, enum forced forced,
                            const char *reason, char *err, size_t errsz)
{
    return store_transition_kind(s, "auto", at_ms, from, to, forced, reason, err, errsz);
}

int store_force_insert(struct store *s, int64_t at_ms, enum mode from, enum mode to, enum forced forced,
                       const char *reason, char *err, size_t errsz)
{
    return store_transition_kind(s, "force", at_ms, from, to, forced, reason, err, errsz);
}

/* What `spillway status` shows, key by key. */
static const struct {
    const char *key, *sql;
} store_status_queries[] = {
    { "state", "SELECT mode, forced, since, violations, recoveries, level, level_since,"
               " (SELECT reason FROM levels ORDER BY id DESC LIMIT 1) AS level_reason FROM state" },
    { "checks", "SELECT at, verdict, latency_s, lag, healthy, violations, recoveries, mode, forced, action, reason,"
                " error, cause, time_lag_s, predicted FROM checks ORDER BY id DESC LIMIT 10" },
    { "runs", "SELECT id, started_at, ended_at, outcome, exit_code, ended_by, messages, quarantined, aggregates,"
              " points, skipped, redone, lost_partitions, join_s, backlog, offsets, error FROM runs"
              " ORDER BY id DESC LIMIT 5" },
    { "transitions", "SELECT at, from_mode, to_mode, forced, reason FROM transitions ORDER BY id DESC LIMIT 5" },
    /* what is settled (final, or unverified: kept, but its commit could not
     * be confirmed) apart from what runs have not committed yet */
    { "quarantine", "SELECT coalesce(sum(state IN ('final', 'unverified')), 0) AS total,"
                    " coalesce(sum(kind = 'message' AND state IN ('final', 'unverified')), 0) AS messages,"
                    " coalesce(sum(kind = 'aggregate' AND state IN ('final', 'unverified')), 0) AS aggregates,"
                    " coalesce(sum(CASE WHEN state IN ('final', 'unverified') THEN count END), 0) AS counted,"
                    " coalesce(sum(state IN ('provisional', 'committing')), 0) AS pending,"
                    " coalesce(sum(state = 'unverified'), 0) AS unverified,"
                    " max(CASE WHEN state IN ('final', 'unverified') THEN at END) AS latest FROM quarantine" },
    /* an episode: from a change to fallback mode to the next change back;
     * what its ok runs drained and wrote (a failed run's messages are read
     * again, and its points rewritten, by the next) */
    { "episodes", "WITH t AS (SELECT id, at, to_mode, lead(at) OVER (ORDER BY id) AS next_at FROM transitions"
                  "           WHERE from_mode != to_mode),"
                  " e AS (SELECT id, at AS began, next_at AS ended FROM t WHERE to_mode = 'fallback')"
                  " SELECT began, ended, count(r.id) AS runs,"
                  "   coalesce(sum(CASE WHEN r.outcome = 'ok' THEN r.messages END), 0) AS messages,"
                  "   coalesce(sum(r.skipped), 0) AS skipped,"
                  "   coalesce(sum(CASE WHEN r.outcome = 'ok' THEN r.points END), 0) AS points"
                  " FROM e LEFT JOIN runs r ON r.started_at >= e.began AND (e.ended IS NULL OR r.started_at < e.ended)"
                  " GROUP BY e.id ORDER BY e.id DESC LIMIT 5" },
    /* the drain rate of the runs of the last 10 minutes, in messages a
     * minute: what the ok runs drained over the time since the first run
     * began (a failed run drained nothing, but its time counts) */
    { "rate", "SELECT count(*) AS runs, coalesce(sum(CASE WHEN outcome = 'ok' THEN messages END), 0) AS messages,"
              " coalesce(sum(CASE WHEN outcome = 'ok' THEN messages END) * 60.0"
              "   / nullif((julianday('now') - julianday(min(started_at))) * 86400.0, 0), 0) AS messages_per_minute"
              " FROM runs WHERE started_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-10 minutes')"
              " AND outcome != 'running'" },
    /* the last check's detection: per partition, the prediction; the
     * hysteresis and flapping state */
    { "detection", "SELECT c.at, c.cause, c.time_lag_s, c.time_lag_partition, c.partitions, c.predicted, c.slope,"
                   " c.projection_s, s.since, s.recovering_since, s.flapping_since, s.shadow_violations,"
                   " (SELECT count(*) FROM checks WHERE predicted = 'would_trip') AS would_trips,"
                   " (SELECT count(*) FROM checks WHERE cause = 'predicted') AS predicted_violations"
                   " FROM state s LEFT JOIN (SELECT * FROM checks ORDER BY id DESC LIMIT 1) c" },
    { "notifications", "SELECT coalesce(sum(delivered_at IS NULL AND dead_at IS NULL), 0) AS pending,"
                       " coalesce(sum(dead_at IS NOT NULL), 0) AS dead,"
                       " coalesce(sum(delivered_at IS NOT NULL), 0) AS delivered,"
                       " min(CASE WHEN delivered_at IS NULL AND dead_at IS NULL THEN next_at END) AS next_attempt,"
                       " (SELECT last_error FROM outbox WHERE last_error IS NOT NULL ORDER BY id DESC LIMIT 1)"
                       "   AS last_error FROM outbox" },
    { "events", "SELECT id, uid, event, at, mode, previous_mode, attempts, next_at, delivered_at, dead_at, last_error,"
                " reason FROM outbox ORDER BY id DESC LIMIT 5" },
};

int store_status(struct store *s, json_t *out, char *err, size_t errsz)
{
    for (size_t i = 0; i < sizeof store_status_queries / sizeof store_status_queries[0]; i++) {
        json_t *rows = store_query_json(s, store_status_queries[i].sql, err, errsz);
        if (rows == NULL)
            return -1;
        json_object_set_new(out, store_status_queries[i].key, rows);
    }
    return 0;
}

/* What the textfile metrics show: one row; times as epoch seconds. */
static const char store_metrics_sql[] =
    "SELECT s.mode, s.forced, s.violations, s.recoveries,"
    "  (julianday(s.since) - 2440587.5) * 86400.0 AS mode_since,"
    "  (SELECT count(*) FROM checks) AS checks,"
    "  (SELECT count(*) FROM checks WHERE verdict = 'unknown') AS checks_unknown,"
    "  (SELECT count(*) FROM transitions) AS transitions,"
    "  c.latency_s, c.lag, c.verdict = 'unknown' AS last_unknown,"
    "  (julianday(c.at) - 2440587.5) * 86400.0 AS check_at,"
    "  (SELECT json_group_object(outcome, n) FROM (SELECT outcome, count(*) AS n FROM runs GROUP BY outcome))"
    "    AS runs_by_outcome,"
    "  r.messages, r.points, r.quarantined, r.exit_code, r.backlog,"
    "  (julianday(r.ended_at) - 2440587.5) * 86400.0 AS run_at,"
    "  (julianday(r.ended_at) - julianday(r.started_at)) * 86400.0 AS run_seconds,"
    "  (SELECT count(*) FROM quarantine WHERE state IN ('final', 'unverified')) AS quarantine,"
    "  c.time_lag_s, c.partitions, c.predicted IN ('crossing', 'would_trip') AS predicted_crossing, c.projection_s,"
    "  s.flapping_since IS NOT NULL AS flapping,"
    "  (SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL) AS notify_pending,"
    "  (SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL) AS notify_dead,"
    "  (SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL) AS notify_delivered,"
    "  (SELECT count(*) FROM runs WHERE outcome IN ('failed', 'abandoned') AND id > (SELECT coalesce(max(id), 0)"
    "     FROM runs WHERE outcome NOT IN ('failed', 'abandoned', 'running'))) AS runs_failing,"
    "  s.level,"
    "  (julianday(s.level_since) - 2440587.5) * 86400.0 AS level_since,"
    "  (SELECT coalesce(sum(preserved), 0) FROM runs) AS preserved,"
    "  (SELECT coalesce(sum(backfilled), 0) FROM runs) AS backfilled"
    " FROM state s"
    " LEFT JOIN (SELECT * FROM checks ORDER BY id DESC LIMIT 1) c"
    " LEFT JOIN (SELECT * FROM runs WHERE ended_at IS NOT NULL ORDER BY id DESC LIMIT 1) r";

json_t *store_metrics(struct store *s, char *err, size_t errsz)
{
    return store_query_json(s, store_metrics_sql, err, errsz);
}

json_t *store_query_json(struct store *s, const char *sql, char *err, size_t errsz)
{
    sqlite3_stmt *q;
    json_t *rows = json_array();
    int rc;

    if (rows == NULL || sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
        json_decref(rows);
        store_fail(s, err, errsz, "prepare");
        return NULL;
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        json_t *row = json_object();
        for (int i = 0; i < sqlite3_column_count(q); i++) {
            json_t *v;
            switch (sqlite3_column_type(q, i)) {
            case SQLITE_INTEGER: v = json_integer(sqlite3_column_int64(q, i)); break;
            case SQLITE_FLOAT: v = json_real(sqlite3_column_double(q, i)); break;
            case SQLITE_NULL: v = json_null(); break;
            default: v = json_stringn((const char *)sqlite3_column_text(q, i), (size_t)sqlite3_column_bytes(q, i));
            }
            json_object_set_new(row, sqlite3_column_name(q, i), v ? v : json_null());
        }
        json_array_append_new(rows, row);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        json_decref(rows);
        store_fail(s, err, errsz, "query");
        return NULL;
    }
    return rows;
}

/* ---- the checker's history, the outbox of notifications, replay's reading ---- */

int store_recent_checks(struct store *s, size_t n, struct recent_check *out, size_t *got, char *err, size_t errsz)
{
    sqlite3_stmt *q;
    size_t k = 0;
    int rc = SQLITE_DONE;

    *got = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT " SQL_MS("at") ", time_lag_s FROM checks ORDER BY id DESC LIMIT ?", -1, &q,
                           NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_int64(q, 1, (sqlite3_int64)n);
    while (k < n && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        /* newest first from SQLite: filled from the end */
        struct recent_check *r = &out[n - 1 - k++];
        r->at_ms = sqlite3_column_int64(q, 0);
        r->time_lag_known = sqlite3_column_type(q, 1) != SQLITE_NULL;
        r->time_lag_s = sqlite3_column_double(q, 1);
    }
    sqlite3_finalize(q);
    if (k < n && rc != SQLITE_DONE)
        return store_fail(s, err, errsz, "read recent checks");
    memmove(out, out + (n - k), k * sizeof *out);
    *got = k;
    return 0;
}

int store_mode_changes(struct store *s, int64_t after_ms, int64_t *out, size_t max, size_t *got, char *err,
                       size_t errsz)
{
    sqlite3_stmt *q;
    char after[32];
    int rc;

    *got = 0;
    fmt_iso_ms(after, sizeof after, after_ms);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT " SQL_MS("at") " FROM (SELECT at, id FROM transitions WHERE kind = 'auto'"
                           " AND from_mode != to_mode AND at > ? ORDER BY id DESC LIMIT ?) ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_text(q, 1, after, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)max);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && *got < max)
        out[(*got)++] = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return store_fail(s, err, errsz, "read mode changes");
    return 0;
}

int store_backfill_going_on(struct store *s, int64_t now_ms, int64_t *backfilled, int64_t *ended_ms, char *err,
                            size_t errsz)
{
    int64_t v[2] = { 0, 0 };
    char now[32];
    int rc;

    fmt_iso_ms(now, sizeof now, now_ms);
    rc = store_row(s,
                   "SELECT CASE WHEN backfill_left THEN backfilled ELSE 0 END, " SQL_MS("ended_at")
                   " FROM runs WHERE ended_at IS NOT NULL AND ended_at <= ? ORDER BY ended_at DESC, id DESC LIMIT 1",
                   now, v, 2, "read the backfill", err, errsz);
    *backfilled = v[0];
    *ended_ms = v[1];
    return rc;
}

int store_runs_failing(struct store *s, int64_t *count, int64_t *first_id, char *err, size_t errsz)
{
    int64_t v[2] = { 0, 0 };
    /* after the last run that did not fail; a run still going neither
     * breaks nor extends the streak */
    int rc = store_row(s,
                       "SELECT count(*), coalesce(min(id), 0) FROM runs WHERE outcome IN ('failed', 'abandoned')"
                       " AND id > (SELECT coalesce(max(id), 0) FROM runs"
                       "           WHERE outcome NOT IN ('failed', 'abandoned', 'running'))",
                       NULL, v, 2, "read failing runs", err, errsz);

    *count = v[0];
    *first_id = v[1];
    return rc;
}

int store_outbox_add(struct store *s, const struct outbox_event *e, char *err, size_t errsz)
{
    const struct observation *o = e->obs;
    sqlite3_stmt *q;
    char at[32];

    fmt_iso_ms(at, sizeof at, e->at_ms);
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO outbox (uid, event, at, mode, previous_mode, reason, latency_s, lag, lag_s,"
                           " ref, next_at) VALUES (lower(hex(randomblob(16))), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?2)",
                           -1, &q, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_text(q, 1, e->event, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, at, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 3, mode_name(e->mode), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, mode_name(e->previous_mode), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, e->reason, -1, SQLITE_STATIC);
    if (o && o->latency_known)
        sqlite3_bind_double(q, 6, o->latency_s);
    if (o && o->lag_probed && o->lag_known)
        sqlite3_bind_int64(q, 7, o->lag);
    if (o && o->lag_probed && o->time_lag_known)
        sqlite3_bind_double(q, 8, o->time_lag_s);
    if (e->ref)
        sqlite3_bind_text(q, 9, e->ref, -1, SQLITE_STATIC);
    return store_done(s, q, "add to the outbox", err, errsz);
}

int store_outbox_has(struct store *s, const char *event, const char *ref, char *err, size_t errsz)
{
    sqlite3_stmt *q;
    int rc;

    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM outbox WHERE event = ? AND ref = ? LIMIT 1", -1, &q, NULL) !=
        SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_text(q, 1, event, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, ref, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, err, errsz, "read the outbox");
    return rc == SQLITE_ROW;
}

static void copy_col(sqlite3_stmt *q, int i, char *out, size_t outsz)
{
    const char *v = (const char *)sqlite3_column_text(q, i);

    snprintf(out, outsz, "%s", v ? v : "");
}

int store_outbox_head(struct store *s, struct outbox_row *r, char *err, size_t errsz)
{
    sqlite3_stmt *q;
    int rc;

    memset(r, 0, sizeof *r);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, uid, event, at, mode, previous_mode, reason, latency_s, lag, lag_s, attempts, "
                           SQL_MS("next_at") " FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL"
                           " ORDER BY id LIMIT 1",
                           -1, &q, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        r->id = sqlite3_column_int64(q, 0);
        copy_col(q, 1, r->uid, sizeof r->uid);
        copy_col(q, 2, r->event, sizeof r->event);
        copy_col(q, 3, r->at, sizeof r->at);
        copy_col(q, 4, r->mode, sizeof r->mode);
        copy_col(q, 5, r->previous_mode, sizeof r->previous_mode);
        r->reason = strdup(sqlite3_column_text(q, 6) ? (const char *)sqlite3_column_text(q, 6) : "");
        r->latency_known = sqlite3_column_type(q, 7) != SQLITE_NULL;
        r->latency_s = sqlite3_column_double(q, 7);
        r->lag_known = sqlite3_column_type(q, 8) != SQLITE_NULL;
        r->lag = sqlite3_column_int64(q, 8);
        r->lag_s_known = sqlite3_column_type(q, 9) != SQLITE_NULL;
        r->lag_s = sqlite3_column_double(q, 9);
        r->attempts = sqlite3_column_int64(q, 10);
        r->next_at_ms = sqlite3_column_int64(q, 11);
    }
    sqlite3_finalize(q);
    if (rc == SQLITE_ROW && r->reason == NULL) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, err, errsz, "read the outbox");
    return rc == SQLITE_ROW;
}

int store_outbox_attempt(struct store *s, int64_t id, int64_t now_ms, enum outbox_result result, int64_t next_at_ms,
                         const char *error, char *err, size_t errsz)
{
    sqlite3_stmt *q;

    if (sqlite3_prepare_v2(s->db,
                           "UPDATE outbox SET attempts = attempts + 1, last_error = ?,"
                           " delivered_at = CASE WHEN ?2 = 0 THEN ?3 END, dead_at = CASE WHEN ?2 = 2 THEN ?3 END,"
                           " next_at = coalesce(?4, next_at) WHERE id = ?5",
                           -1, &q, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    if (error && error[0])
        sqlite3_bind_text(q, 1, error, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, (int)result);
    bind_ms(q, 3, now_ms);
    if (result == OUTBOX_RETRY)
        bind_ms(q, 4, next_at_ms);
    sqlite3_bind_int64(q, 5, id);
    return store_done(s, q, "update the outbox", err, errsz);
}

int store_prune_partitions(struct store *s, int64_t before_ms, int64_t *n, char *err, size_t errsz)
{
    char before[32];
    sqlite3_stmt *q;

    *n = 0;
    fmt_iso_ms(before, sizeof before, before_ms);
    /* the partial index holds only the checks that still have it: one or
     * two rows to visit per check, however long keep_days is */
    if (sqlite3_prepare_v2(s->db, "UPDATE checks SET partitions = NULL WHERE at < ? AND partitions IS NOT NULL", -1,
                           &q, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_text(q, 1, before, -1, SQLITE_TRANSIENT);
    if (store_done(s, q, "prune partitions", err, errsz) != 0)
        return -1;
    *n = sqlite3_changes(s->db);
    return 0;
}

int store_outbox_prune(struct store *s, int64_t before_ms, int64_t *n, char *err, size_t errsz)
{
    char before[32];

    *n = 0;
    fmt_iso_ms(before, sizeof before, before_ms);
    return store_delete(s, "DELETE FROM outbox WHERE coalesce(delivered_at, dead_at) < ?", before, n, err, errsz);
}

/* ---- replay: a state database's checks and force overrides, read only ---- */

/* 1 when table has column, 0 when not (an older schema), -1 on error. */
static int store_has_column(sqlite3 *db, const char *table, const char *column)
{
    char sql[128];
    sqlite3_stmt *q;
    int found = 0, rc;

    snprintf(sql, sizeof sql, "SELECT 1 FROM pragma_table_info('%s') WHERE name = ?", table);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(q, 1, column, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    found = rc == SQLITE_ROW;
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : -1;
}

/* A recorded check as the observation it was: NULL columns were not
 * probed, and a check recorded unknown is unknown again. */
static void store_trace_check(sqlite3_stmt *q, struct trace_step *st)
{
    struct observation *o = &st->obs;

    o->latency_known = sqlite3_column_type(q, 1) != SQLITE_NULL;
    o->latency_s = sqlite3_column_double(q, 1);
    o->lag_probed = o->lag_known = sqlite3_column_type(q, 2) != SQLITE_NULL;
    o->lag = sqlite3_column_int64(q, 2);
    o->health_probed = o->health_known = sqlite3_column_type(q, 3) != SQLITE_NULL;
    o->healthy = sqlite3_column_int(q, 3);
    o->time_lag_known = o->lag_probed && sqlite3_column_type(q, 4) != SQLITE_NULL;
    o->time_lag_s = sqlite3_column_double(q, 4);
    o->time_lag_partition = sqlite3_column_type(q, 5) == SQLITE_NULL ? -1 : sqlite3_column_int(q, 5);
    if (sqlite3_column_text(q, 6) && strcmp((const char *)sqlite3_column_text(q, 6), "unknown") == 0)
        o->latency_known = 0;
    st->backfilling = sqlite3_column_int64(q, 7);
    st->backfilled_at_ms = sqlite3_column_int64(q, 8);
    snprintf(st->why, sizeof st->why, "recorded unhealthy");
    o->why_unhealthy = st->why;
}

/* The checks in the order they were decided (id: concurrent checks may
 * have read the clock in the other order), and the force overrides in
 * time order; a file older than the detection columns has no time lag and
 * tells its force overrides by their reason. */
static int store_trace_queries(sqlite3 *db, sqlite3_stmt **checks, sqlite3_stmt **forces)
{
    char sql[1024];
    int detect = store_has_column(db, "transitions", "kind"), backfill = store_has_column(db, "runs", "backfill_left");

    if (detect < 0 || backfill < 0)
        return -1;
    /* the backfill going on at each check: as store_backfill_going_on() read it then */
#define LAST_RUN_BEFORE_CHECK " FROM runs r WHERE r.ended_at IS NOT NULL AND r.ended_at <= checks.at" \
                              " ORDER BY r.ended_at DESC, r.id DESC LIMIT 1)"
    snprintf(sql, sizeof sql,
             "SELECT " SQL_MS("at") ", latency_s, lag, healthy, %s, %s, verdict, %s, %s FROM checks ORDER BY id",
             detect ? "time_lag_s" : "NULL", detect ? "time_lag_partition" : "NULL",
             backfill ? "(SELECT CASE WHEN r.backfill_left THEN r.backfilled ELSE 0 END" LAST_RUN_BEFORE_CHECK : "0",
             backfill ? "(SELECT " SQL_MS("r.ended_at") LAST_RUN_BEFORE_CHECK : "0");
#undef LAST_RUN_BEFORE_CHECK
    if (sqlite3_prepare_v2(db, sql, -1, checks, NULL) != SQLITE_OK)
        return -1;
    snprintf(sql, sizeof sql, "SELECT " SQL_MS("at") ", forced FROM transitions WHERE %s ORDER BY at, id",
             detect ? "kind = 'force'" : "reason LIKE 'force %'");
    return sqlite3_prepare_v2(db, sql, -1, forces, NULL) == SQLITE_OK ? 0 : -1;
}

/* The next force override into *st: 1, or 0 when there is none left (or it
 * names no forced mode), -1 on error. */
static int store_trace_force(sqlite3_stmt *q, struct trace_step *st)
{
    int rc;

    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        memset(st, 0, sizeof *st);
        st->is_force = 1;
        st->at_ms = sqlite3_column_int64(q, 0);
        if (sqlite3_column_text(q, 1) && forced_parse((const char *)sqlite3_column_text(q, 1), &st->force) == 0)
            return 1;
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Each check, each force override before the first check (in decision
 * order) that came after it, then the overrides after the last check. */
static int store_trace_merge(sqlite3_stmt *checks, sqlite3_stmt *forces,
                             int (*fn)(const struct trace_step *step, void *arg), void *arg)
{
    struct trace_step force, check;
    int have_force = store_trace_force(forces, &force), step, rc;

    while ((step = sqlite3_step(checks)) == SQLITE_ROW) {
        memset(&check, 0, sizeof check);
        check.at_ms = sqlite3_column_int64(checks, 0);
        store_trace_check(checks, &check);
        for (; have_force == 1 && force.at_ms <= check.at_ms; have_force = store_trace_force(forces, &force))
            if ((rc = fn(&force, arg)) != 0)
                return rc;
        if (have_force < 0 || (rc = fn(&check, arg)) != 0)
            return have_force < 0 ? -1 : rc;
    }
    for (; have_force == 1; have_force = store_trace_force(forces, &force))
        if ((rc = fn(&force, arg)) != 0)
            return rc;
    return step == SQLITE_DONE && have_force == 0 ? 0 : -1;
}

int store_trace_read(const char *path, int (*fn)(const struct trace_step *step, void *arg), void *arg, char *err,
                     size_t errsz)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *checks = NULL, *forces = NULL;
    int rc = -1;

    err[0] = '\0';
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(db, STORE_BUSY_MS) != SQLITE_OK || store_trace_queries(db, &checks, &forces) != 0) {
        snprintf(err, errsz, "%s: cannot read the recorded checks: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    if ((rc = store_trace_merge(checks, forces, fn, arg)) == -1 && sqlite3_errcode(db) != SQLITE_OK &&
        sqlite3_errcode(db) != SQLITE_ROW && sqlite3_errcode(db) != SQLITE_DONE)
        snprintf(err, errsz, "%s: %s", path, sqlite3_errmsg(db));
out:
    sqlite3_finalize(checks);
    sqlite3_finalize(forces);
    sqlite3_close(db);
    return rc;
}

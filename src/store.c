/* store.c -- SQLite state: schema migrations, runs, quarantine. */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

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
    "  outcome TEXT NOT NULL,"           /* running | ok | failed | abandoned */
    "  exit_code INTEGER,"
    "  ended_by TEXT,"                   /* eof | batch_size | timeout | signal | no_partitions */
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
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

static int store_fail(struct store *s, char *err, size_t errsz, const char *what)
{
    snprintf(err, errsz, "state database: %s: %s", what, sqlite3_errmsg(s->db));
    return -1;
}

static int store_migrate(struct store *s, char *err, size_t errsz)
{
    sqlite3_stmt *st;
    int version;

    /* IMMEDIATE: two processes opening a new file must not both migrate */
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "begin");
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        goto fail;
    }
    version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > NMIGRATIONS) {
        snprintf(err, errsz, "state database has schema version %d, newer than this spillway (%d)",
                 version, NMIGRATIONS);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    for (; version < NMIGRATIONS; version++) {
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

struct store *store_open(const char *path, char *err, size_t errsz)
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
    if (sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK ||
        sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK) {
        store_fail(s, err, errsz, path);
        goto fail;
    }
    if (store_migrate(s, err, errsz) != 0)
        goto fail;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR IGNORE INTO quarantine (run_id, at, kind, topic, partition, offset, key, payload, error)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &s->quarantine, NULL) != SQLITE_OK) {
        store_fail(s, err, errsz, "prepare");
        goto fail;
    }
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
    int rc;

    fmt_iso_ms(at, sizeof at, now_ms);
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE runs SET outcome = 'abandoned', ended_at = ?,"
                           " error = 'the runner died before finishing (killed or crashed)'"
                           " WHERE outcome = 'running'",
                           -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_text(st, 1, at, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return store_fail(s, err, errsz, "abandon stale runs");
    return sqlite3_changes(s->db);
}

int store_run_begin(struct store *s, int64_t started_ms, int pid, int64_t *run_id, char *err, size_t errsz)
{
    char at[32];
    sqlite3_stmt *st;
    int rc;

    fmt_iso_ms(at, sizeof at, started_ms);
    if (sqlite3_prepare_v2(s->db, "INSERT INTO runs (started_at, pid, outcome) VALUES (?, ?, 'running')", -1,
                           &st, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_text(st, 1, at, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, pid);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return store_fail(s, err, errsz, "insert run");
    *run_id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int store_run_end(struct store *s, int64_t run_id, const struct run_summary *sum, char *err, size_t errsz)
{
    char at[32];
    sqlite3_stmt *st;
    int rc;

    fmt_iso_ms(at, sizeof at, sum->ended_ms);
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE runs SET ended_at = ?, outcome = ?, exit_code = ?, ended_by = ?,"
                           " messages = ?, quarantined = ?, aggregates = ?, points = ?, offsets = ?,"
                           " error = ?, peak_rss_kib = ? WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, err, errsz, "prepare");
    sqlite3_bind_text(st, 1, at, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, sum->outcome, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, sum->exit_code);
    sqlite3_bind_text(st, 4, sum->ended_by, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, sum->messages);
    sqlite3_bind_int64(st, 6, sum->quarantined);
    sqlite3_bind_int64(st, 7, sum->aggregates);
    sqlite3_bind_int64(st, 8, sum->points);
    sqlite3_bind_text(st, 9, sum->offsets_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, sum->error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, sum->peak_rss_kib);
    sqlite3_bind_int64(st, 12, run_id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return store_fail(s, err, errsz, "update run");
    return 0;
}

int store_quarantine(struct store *s, int64_t run_id, int64_t at_ms, const char *kind, const char *topic,
                     int32_t partition, int64_t offset, const void *key, size_t key_len,
                     const void *payload, size_t payload_len, const char *error, char *err, size_t errsz)
{
    sqlite3_stmt *st = s->quarantine;
    char at[32];
    int rc;

    fmt_iso_ms(at, sizeof at, at_ms);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_text(st, 2, at, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, topic, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, partition);
    sqlite3_bind_int64(st, 6, offset);
    if (key)
        sqlite3_bind_blob(st, 7, key, (int)key_len, SQLITE_STATIC);
    if (payload)
        sqlite3_bind_blob(st, 8, payload, (int)payload_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, error, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_fail(s, err, errsz, "insert quarantine");
    return 0;
}

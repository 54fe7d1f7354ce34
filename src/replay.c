/* SPDX-License-Identifier: BSD-2-Clause */
/* replay.c -- `spillway replay`: decide() over a recorded trace, with the history the checker would have had. */
#include "replay.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "check.h"
#include "decide.h"
#include "log.h"
#include "store.h"
#include "trace.h"
#include "util.h"

struct replay {
    struct thresholds t;
    struct check_state st;
    int started;
    int64_t last_ms;
    /* the history, as the state database would hold it */
    struct recent_check recent[PREDICT_MAX_POINTS];
    size_t nrecent, keep_recent;
    int64_t changes[CHECK_MAX_FLAP_CHANGES];
    size_t nchanges;
    int64_t window_ms;
    /* the record */
    long long checks, trips, resumes;
    int64_t first_trip_ms;
    int csv;      /* the trace is a CSV file (its times must not go back) */
    json_t *rows; /* --json: the checks; NULL: lines */
    char err[256];
};

static void replay_remember(struct replay *r, const struct trace_step *step, const struct decision *d)
{
    const struct observation *o = &step->obs;

    if (r->keep_recent > 0 && r->nrecent == r->keep_recent)
        memmove(r->recent, r->recent + 1, --r->nrecent * sizeof r->recent[0]);
    if (r->keep_recent > 0)
        r->recent[r->nrecent++] = (struct recent_check){ step->at_ms, o->lag_probed && o->time_lag_known,
                                                         o->time_lag_s };
    /* mode changes older than the flap window are never counted again */
    while (r->nchanges > 0 && r->changes[0] <= step->at_ms - r->window_ms)
        memmove(r->changes, r->changes + 1, --r->nchanges * sizeof r->changes[0]);
    if (d->changed_mode && r->nchanges == CHECK_MAX_FLAP_CHANGES)
        memmove(r->changes, r->changes + 1, --r->nchanges * sizeof r->changes[0]);
    if (d->changed_mode)
        r->changes[r->nchanges++] = step->at_ms;
}

static const char *replay_action(const struct decision *d)
{
    if (d->changed_mode)
        return d->next.mode == MODE_FALLBACK ? "trip" : "resume";
    return d->launch_runner ? "run" : "-";
}

static void replay_predicted(const struct decision *d, char *out, size_t outsz)
{
    if (d->predicted == PREDICTED_OFF)
        snprintf(out, outsz, "-");
    else if (!d->trend.made)
        snprintf(out, outsz, "%s", predicted_name(d->predicted));
    else
        snprintf(out, outsz, "%s(%.0fs)", predicted_name(d->predicted), d->trend.projection);
}

static int replay_print(struct replay *r, int64_t at_ms, const struct decision *d)
{
    char at[32], pred[48], reason[LOG_MSG_MAX];
    const char *mode = d->next.forced == FORCED_AUTO ? mode_name(d->next.mode)
                       : d->next.mode == MODE_FALLBACK ? "fallback*" : "primary*";

    fmt_iso_ms(at, sizeof at, at_ms);
    replay_predicted(d, pred, sizeof pred);
    if (r->rows)
        return json_array_append_new(
            r->rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "time", at, "verdict",
                               verdict_name(d->verdict), "cause", cause_name(d->cause), "mode", mode_name(d->next.mode),
                               "forced", forced_name(d->next.forced), "action", replay_action(d), "predicted",
                               d->predicted == PREDICTED_OFF ? "off" : predicted_name(d->predicted), "projection_s",
                               d->trend.made ? json_real(d->trend.projection) : json_null(), "slope",
                               d->trend.made ? json_real(d->trend.slope) : json_null(), "reason", d->reason));
    log_escape(reason, sizeof reason, d->reason, strlen(d->reason), 0);
    return printf("%s %-13s %-9s %-6s predict=%-22s %s\n", at, verdict_name(d->verdict), mode, replay_action(d), pred,
                  reason) < 0;
}

static int replay_check(struct replay *r, const struct trace_step *step)
{
    /* the last flap_changes of the changes, as the checker reads them */
    size_t nchanges = r->nchanges < (size_t)r->t.flap_changes ? r->nchanges : (size_t)r->t.flap_changes;
    struct history h = {
        step->at_ms, r->recent, r->nrecent, r->changes + (r->nchanges - nchanges), nchanges, step->backfilling,
        step->backfilled_at_ms,
    };
    struct decision d;

    decide(&r->st, &step->obs, &h, &r->t, &d);
    r->checks++;
    if (d.changed_mode && d.next.mode == MODE_FALLBACK && r->trips++ == 0)
        r->first_trip_ms = step->at_ms;
    r->resumes += d.changed_mode && d.next.mode == MODE_PRIMARY;
    if (replay_print(r, step->at_ms, &d) != 0) {
        snprintf(r->err, sizeof r->err, "cannot write the output");
        return -1;
    }
    replay_remember(r, step, &d);
    r->st = d.next;
    return 0;
}

static int replay_step(const struct trace_step *step, void *arg)
{
    struct replay *r = arg;

    /* a state database's checks come in the order they were decided, which
     * concurrent checks may have made a few milliseconds out of time order */
    if (r->csv && r->started && step->at_ms < r->last_ms) {
        char at[32];
        fmt_iso_ms(at, sizeof at, step->at_ms);
        snprintf(r->err, sizeof r->err, "the trace goes back in time at %s", at);
        return -1;
    }
    if (!r->started) {
        r->started = 1;
        r->st = (struct check_state){ .mode = MODE_PRIMARY, .forced = FORCED_AUTO, .since_ms = step->at_ms };
    }
    r->last_ms = step->at_ms;
    if (step->is_force) {
        r->st = decide_force(&r->st, step->force, step->at_ms);
        return 0;
    }
    return replay_check(r, step);
}

static int replay_summary(struct replay *r)
{
    char first[32] = "-";

    if (r->trips > 0)
        fmt_iso_ms(first, sizeof first, r->first_trip_ms);
    if (r->rows) {
        json_t *all = json_pack("{s:o, s:{s:I, s:I, s:I, s:s}}", "checks", json_incref(r->rows), "summary", "checks",
                                (json_int_t)r->checks, "trips", (json_int_t)r->trips, "resumes",
                                (json_int_t)r->resumes, "first_trip", first);
        int rc = all == NULL || json_dumpf(all, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
                 putchar('\n') == EOF;
        json_decref(all);
        return rc;
    }
    return printf("replay: %lld checks, %lld trips, %lld resumes, first trip at %s\n", r->checks, r->trips,
                  r->resumes, first) < 0;
}

int replay_run(const struct config *cfg, const char *file, int json)
{
    struct replay r; /* 10 KiB, the history arrays */
    char err[1024];
    int sqlite = trace_is_sqlite(file, err, sizeof err), rc;

    if (sqlite < 0) {
        log_err("%s", err);
        return EX_NOINPUT;
    }
    memset(&r, 0, sizeof r);
    check_thresholds(cfg, &r.t);
    r.keep_recent = (size_t)cfg->predict_checks - 1;
    r.window_ms = cfg->flap_window_seconds * 1000;
    r.csv = !sqlite;
    if (json && (r.rows = json_array()) == NULL)
        return EX_SOFTWARE;
    rc = sqlite ? store_trace_read(file, replay_step, &r, err, sizeof err)
                : trace_read_csv(file, replay_step, &r, err, sizeof err);
    if (rc == 0)
        rc = replay_summary(&r) ? EX_IOERR : 0;
    else
        log_err("%s", r.err[0] ? r.err : err);
    json_decref(r.rows);
    return rc == 0 ? 0 : rc == EX_IOERR ? EX_IOERR : EX_DATAERR;
}

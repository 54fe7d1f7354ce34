/* SPDX-License-Identifier: BSD-2-Clause */
/* decide.c -- the checker's state machine, pure. */
#include "decide.h"

#include <stdio.h>
#include <string.h>

const char *mode_name(enum mode m) { return m == MODE_FALLBACK ? "fallback" : "primary"; }

const char *forced_name(enum forced f)
{
    return f == FORCED_FALLBACK ? "fallback" : f == FORCED_PRIMARY ? "primary" : "auto";
}

const char *verdict_name(enum verdict v)
{
    static const char *const names[] = { "healthy", "violation", "recovery", "not_recovered", "unknown", "idle" };
    return names[v];
}

const char *cause_name(enum cause c)
{
    static const char *const names[] = { "none", "unhealthy", "latency", "lag", "time_lag", "predicted" };
    return names[c];
}

const char *predicted_name(enum predicted p)
{
    static const char *const names[] = { NULL, "insufficient", "steady", "crossing", "would_trip" };
    return names[p];
}

const char *predict_mode_name(enum predict_mode p)
{
    return p == PREDICT_ON ? "on" : p == PREDICT_SHADOW ? "shadow" : "off";
}

int predict_mode_parse(const char *s, enum predict_mode *p)
{
    if (strcmp(s, "off") == 0)
        *p = PREDICT_OFF;
    else if (strcmp(s, "shadow") == 0)
        *p = PREDICT_SHADOW;
    else if (strcmp(s, "on") == 0)
        *p = PREDICT_ON;
    else
        return -1;
    return 0;
}

int mode_parse(const char *s, enum mode *m)
{
    if (strcmp(s, "primary") == 0)
        *m = MODE_PRIMARY;
    else if (strcmp(s, "fallback") == 0)
        *m = MODE_FALLBACK;
    else
        return -1;
    return 0;
}

int forced_parse(const char *s, enum forced *f)
{
    if (strcmp(s, "auto") == 0)
        *f = FORCED_AUTO;
    else if (strcmp(s, "fallback") == 0)
        *f = FORCED_FALLBACK;
    else if (strcmp(s, "primary") == 0)
        *f = FORCED_PRIMARY;
    else
        return -1;
    return 0;
}

/* Unknown when a probe that was asked for could not be made. */
static int obs_unknown(const struct observation *o)
{
    return !o->latency_known || (o->health_probed && !o->health_known) || (o->lag_probed && !o->lag_known);
}

static int obs_healthy(const struct observation *o) { return !o->health_probed || o->healthy; }

/* Healthy, and its group provably caught up: nothing is behind, whatever
 * the age of its newest point. */
static int obs_idle(const struct observation *o)
{
    return obs_healthy(o) && o->lag_probed && o->lag_known && o->lag == 0;
}

static int time_lag_over(const struct observation *o, double limit_s)
{
    return o->lag_probed && o->time_lag_known && o->time_lag_s > limit_s;
}

static enum cause violation_cause(const struct observation *o, const struct thresholds *t)
{
    if (!obs_healthy(o))
        return CAUSE_UNHEALTHY;
    if (o->latency_s > t->latency_threshold_s)
        return CAUSE_LATENCY;
    if (time_lag_over(o, t->latency_threshold_s))
        return CAUSE_TIME_LAG;
    if (t->max_lag > 0 && o->lag_probed && o->lag > t->max_lag)
        return CAUSE_LAG;
    return CAUSE_NONE;
}

/* The words for a cause; latency and time lag are compared with limit_s
 * and op. */
static void cause_text(enum cause c, const struct observation *o, const struct decision *d,
                       const struct thresholds *t, const char *op, double limit_s, char *buf, size_t bufsz)
{
    switch (c) {
    case CAUSE_UNHEALTHY:
        snprintf(buf, bufsz, "primary unhealthy: %s", o->why_unhealthy ? o->why_unhealthy : "no running job");
        break;
    case CAUSE_LATENCY:
        snprintf(buf, bufsz, "latency %.2fs %s %.0fs", o->latency_s, op, limit_s);
        break;
    case CAUSE_TIME_LAG:
        if (o->time_lag_partition >= 0)
            snprintf(buf, bufsz, "time lag %.2fs on partition %d %s %.0fs (latency %.2fs)", o->time_lag_s,
                     (int)o->time_lag_partition, op, limit_s, o->latency_s);
        else
            snprintf(buf, bufsz, "time lag %.2fs %s %.0fs (latency %.2fs)", o->time_lag_s, op, limit_s, o->latency_s);
        break;
    case CAUSE_LAG:
        snprintf(buf, bufsz, "lag %lld messages > %lld", (long long)o->lag, (long long)t->max_lag);
        break;
    case CAUSE_PREDICTED:
        snprintf(buf, bufsz, "predicted: time lag %.2fs rising %.3fs/s, %.0fs in %.0fs > %.0fs", o->time_lag_s,
                 d->trend.slope, d->trend.projection, t->predict_horizon_s, limit_s);
        break;
    case CAUSE_NONE:
        snprintf(buf, bufsz, "latency %.2fs", o->latency_s);
        break;
    }
}

/* The trend of the time lag over this check and the last predict_checks - 1
 * before it (those with a time lag). */
static void decide_predict(const struct observation *o, const struct history *h, const struct thresholds *t,
                           struct decision *d)
{
    struct trend_point pts[PREDICT_MAX_POINTS];
    size_t n = 0, want = (size_t)t->predict_checks, first;
    size_t min_points = (2 * want + 2) / 3 > 4 ? (2 * want + 2) / 3 : 4;

    if (t->predict == PREDICT_OFF || !o->lag_probed) {
        d->predicted = PREDICTED_OFF;
        return;
    }
    if (want > PREDICT_MAX_POINTS)
        want = PREDICT_MAX_POINTS;
    first = h->nrecent + 1 > want ? h->nrecent + 1 - want : 0;
    for (size_t i = first; i < h->nrecent; i++)
        if (h->recent[i].time_lag_known)
            pts[n++] = (struct trend_point){ (double)(h->recent[i].at_ms - h->now_ms) / 1000.0, h->recent[i].time_lag_s };
    if (o->time_lag_known && o->lag_known)
        pts[n++] = (struct trend_point){ 0, o->time_lag_s };
    else
        n = 0; /* no trend without this check's own value */
    predict_trend(pts, n, min_points, t->predict_horizon_s, t->latency_threshold_s, &d->trend);
    d->predicted = !d->trend.made ? PREDICTED_INSUFFICIENT : d->trend.crossing ? PREDICTED_CROSSING : PREDICTED_STEADY;
}

/* Automatic mode changes within the flap window before this check, into
 * d->flap_count; whether one more now reaches flap_changes. */
static int flap_reached(const struct history *h, const struct thresholds *t, struct decision *d)
{
    int64_t n = 0;

    for (size_t i = 0; i < h->nchanges; i++)
        n += h->changes_ms[i] > h->now_ms - t->flap_window_ms && h->changes_ms[i] <= h->now_ms;
    d->flap_count = n;
    return t->flap_changes > 0 && n + 1 >= t->flap_changes;
}

/* A mode change that reaches the flap bound begins a flapping period (a
 * trip is made all the same). */
static void flap_begin(const struct check_state *s, const struct history *h, const struct thresholds *t,
                       struct decision *d)
{
    size_t len = strlen(d->reason);

    if (s->flapping_since_ms == 0) {
        d->flap_started = 1;
        d->next.flapping_since_ms = h->now_ms;
    }
    snprintf(d->reason + len, sizeof d->reason - len, "; flapping: %lld mode changes in %llds",
             (long long)d->flap_count + 1, (long long)(t->flap_window_ms / 1000));
}

/* With flap_pin, a flapping checker resumes only once the recoveries have
 * held for a whole flap window: the primary has calmed down. */
static int flap_pinned(const struct history *h, const struct thresholds *t, struct decision *d)
{
    size_t len = strlen(d->reason);
    int64_t held = h->now_ms - d->next.recovering_since_ms;

    if (!t->flap_pin || d->next.flapping_since_ms == 0 || held >= t->flap_window_ms)
        return 0;
    snprintf(d->reason + len, sizeof d->reason - len, "; pinned to fallback: flapping since %llds ago, recovered"
             " for %llds of %llds", (long long)((h->now_ms - d->next.flapping_since_ms) / 1000),
             (long long)(held / 1000), (long long)(t->flap_window_ms / 1000));
    return 1;
}

static void decide_forced(const struct check_state *s, const struct observation *o, const struct thresholds *t,
                          struct decision *d)
{
    d->next.mode = s->forced == FORCED_FALLBACK ? MODE_FALLBACK : MODE_PRIMARY;
    if (obs_unknown(o)) {
        d->verdict = VERDICT_UNKNOWN;
    } else {
        d->cause = violation_cause(o, t);
        d->verdict = d->cause != CAUSE_NONE ? VERDICT_VIOLATION : VERDICT_HEALTHY;
    }
    snprintf(d->reason, sizeof d->reason, "mode forced to %s", forced_name(s->forced));
}

/* predict = shadow: count what prediction would have counted; a trip it
 * would have made where the threshold rule did not is recorded. */
static void decide_shadow(const struct check_state *s, const struct thresholds *t, int tripped, struct decision *d)
{
    int would = d->verdict == VERDICT_VIOLATION || d->predicted == PREDICTED_CROSSING;

    d->next.shadow_violations = 0;
    if (t->predict != PREDICT_SHADOW || tripped || !would)
        return;
    /* counted on past the bound (the shadow is in fallback mode by then):
     * one would-be trip a run */
    d->next.shadow_violations = s->shadow_violations + 1;
    if (d->next.shadow_violations == t->consecutive_violations)
        d->predicted = PREDICTED_WOULD_TRIP;
}

static void decide_primary(const struct check_state *s, const struct observation *o, const struct history *h,
                           const struct thresholds *t, struct decision *d)
{
    char why[200];

    d->next.recoveries = 0;
    d->next.recovering_since_ms = 0;
    d->cause = violation_cause(o, t);
    if (d->cause == CAUSE_NONE && t->predict == PREDICT_ON && d->predicted == PREDICTED_CROSSING)
        d->cause = CAUSE_PREDICTED;
    cause_text(d->cause, o, d, t, ">", t->latency_threshold_s, why, sizeof why);
    if (d->cause == CAUSE_NONE) {
        d->verdict = VERDICT_HEALTHY;
        d->next.violations = 0;
        snprintf(d->reason, sizeof d->reason, "%s", why);
    } else if (d->cause == CAUSE_LATENCY && obs_idle(o)) {
        d->verdict = VERDICT_IDLE;
        d->cause = CAUSE_NONE;
        d->next.violations = 0;
        snprintf(d->reason, sizeof d->reason, "idle: latency %.2fs, but the primary is healthy and caught up"
                 " (lag 0): no new events", o->latency_s);
    } else {
        d->verdict = VERDICT_VIOLATION;
        d->count = d->next.violations = s->violations + 1;
        snprintf(d->reason, sizeof d->reason, "%s (%lld/%lld)", why, (long long)d->count,
                 (long long)t->consecutive_violations);
        if (d->count >= t->consecutive_violations) {
            d->next.mode = MODE_FALLBACK;
            d->next.violations = 0;
            if (flap_reached(h, t, d))
                flap_begin(s, h, t, d); /* a trip is never delayed */
        }
    }
    decide_shadow(s, t, d->next.mode == MODE_FALLBACK, d);
}

/* Whether a resume the recoveries ask for waits: for min_fallback since the
 * mode began, for resume_hold since the first recovery in a row. */
static enum held resume_held(const struct check_state *s, const struct history *h, const struct thresholds *t,
                             struct decision *d)
{
    size_t len = strlen(d->reason);
    int64_t in_mode = h->now_ms - s->since_ms, held = h->now_ms - d->next.recovering_since_ms;

    if (in_mode < t->min_fallback_ms) {
        snprintf(d->reason + len, sizeof d->reason - len, "; fallback held %llds of min_fallback_seconds %lld",
                 (long long)(in_mode / 1000), (long long)(t->min_fallback_ms / 1000));
        return HELD_MIN_FALLBACK;
    }
    if (held < t->resume_hold_ms) {
        snprintf(d->reason + len, sizeof d->reason - len, "; recovered for %llds of resume_hold_seconds %lld",
                 (long long)(held / 1000), (long long)(t->resume_hold_ms / 1000));
        return HELD_RESUME_HOLD;
    }
    /* the runs of fallback mode are what backfills; they stop at a resume.
     * Only while they make progress: a backfill that cannot go on (the
     * service failing again) holds nothing */
    if (h->backfilling > 0 && h->now_ms - h->backfilled_at_ms <= DECIDE_BACKFILL_RECENT_MS) {
        snprintf(d->reason + len, sizeof d->reason - len,
                 "; the backfill goes on (the last run wrote %lld predictions and left more)",
                 (long long)h->backfilling);
        return HELD_BACKFILL;
    }
    return HELD_NONE;
}

static void decide_recovery(const struct check_state *s, const struct observation *o, const struct history *h,
                            const struct thresholds *t, int fresh, struct decision *d)
{
    d->verdict = fresh ? VERDICT_RECOVERY : VERDICT_IDLE;
    d->count = d->next.recoveries = s->recoveries + 1;
    d->next.recovering_since_ms = s->recovering_since_ms ? s->recovering_since_ms : h->now_ms;
    if (fresh)
        snprintf(d->reason, sizeof d->reason, "healthy, latency %.2fs < %.0fs (%lld/%lld)", o->latency_s,
                 t->resume_threshold_s, (long long)d->count, (long long)t->consecutive_recoveries);
    else
        snprintf(d->reason, sizeof d->reason, "healthy and caught up (lag 0), idle: latency %.2fs (%lld/%lld)",
                 o->latency_s, (long long)d->count, (long long)t->consecutive_recoveries);
    if (d->count < t->consecutive_recoveries || (d->held = resume_held(s, h, t, d)) != HELD_NONE)
        return;
    if (flap_reached(h, t, d))
        flap_begin(s, h, t, d);
    if (flap_pinned(h, t, d)) {
        d->held = HELD_FLAPPING;
        return;
    }
    d->next.mode = MODE_PRIMARY;
    d->next.recoveries = 0;
    d->next.recovering_since_ms = 0;
    if (t->flap_pin)
        d->next.flapping_since_ms = 0; /* held for a whole window: calm (unpinned, it shows until a quiet window) */
}

static void decide_fallback(const struct check_state *s, const struct observation *o, const struct history *h,
                            const struct thresholds *t, struct decision *d)
{
    int fresh = obs_healthy(o) && o->latency_s < t->resume_threshold_s &&
                !(o->lag_probed && o->time_lag_known && o->time_lag_s >= t->resume_threshold_s);

    d->next.violations = 0;
    d->next.shadow_violations = 0;
    if (fresh || obs_idle(o)) {
        decide_recovery(s, o, h, t, fresh, d);
        return;
    }
    d->verdict = VERDICT_NOT_RECOVERED;
    d->next.recoveries = 0;
    d->next.recovering_since_ms = 0;
    d->cause = !obs_healthy(o) ? CAUSE_UNHEALTHY : o->latency_s >= t->resume_threshold_s ? CAUSE_LATENCY
                                                                                          : CAUSE_TIME_LAG;
    cause_text(d->cause, o, d, t, ">=", t->resume_threshold_s, d->reason, sizeof d->reason);
}

void decide(const struct check_state *s, const struct observation *o, const struct history *h,
            const struct thresholds *t, struct decision *d)
{
    memset(d, 0, sizeof *d);
    d->next = *s;
    decide_predict(o, h, t, d);
    if (s->forced != FORCED_AUTO) {
        decide_forced(s, o, t, d);
    } else if (obs_unknown(o)) {
        d->verdict = VERDICT_UNKNOWN;
        snprintf(d->reason, sizeof d->reason, "observation incomplete: no counter moves");
    } else {
        if (s->mode == MODE_PRIMARY)
            decide_primary(s, o, h, t, d);
        else
            decide_fallback(s, o, h, t, d);
        flap_reached(h, t, d);
        if (d->flap_count == 0 && !(t->flap_pin && d->next.mode == MODE_FALLBACK))
            d->next.flapping_since_ms = 0; /* a whole window without a change: calm */
        d->flap_count += d->next.mode != s->mode;
    }
    d->changed_mode = d->next.mode != s->mode;
    if (d->changed_mode)
        d->next.since_ms = h->now_ms;
    d->launch_runner = d->next.mode == MODE_FALLBACK;
}

struct check_state decide_force(const struct check_state *s, enum forced what, int64_t now_ms)
{
    struct check_state next = *s;

    next.forced = what;
    next.violations = next.recoveries = next.shadow_violations = 0;
    next.recovering_since_ms = 0;
    if (what != FORCED_AUTO)
        next.mode = what == FORCED_FALLBACK ? MODE_FALLBACK : MODE_PRIMARY;
    if (next.mode != s->mode)
        next.since_ms = now_ms;
    return next;
}

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

static enum cause violation_cause(const struct observation *o, const struct thresholds *t)
{
    if (!obs_healthy(o))
        return CAUSE_UNHEALTHY;
    if (o->latency_s > t->latency_threshold_s)
        return CAUSE_LATENCY;
    if (t->max_lag > 0 && o->lag_probed && o->lag > t->max_lag)
        return CAUSE_LAG;
    return CAUSE_NONE;
}

/* The words for a cause; latency is compared with limit_s and op. */
static void cause_text(enum cause c, const struct observation *o, const struct thresholds *t, const char *op,
                       double limit_s, char *buf, size_t bufsz)
{
    switch (c) {
    case CAUSE_UNHEALTHY:
        snprintf(buf, bufsz, "primary unhealthy: %s", o->why_unhealthy ? o->why_unhealthy : "no running job");
        break;
    case CAUSE_LATENCY:
        snprintf(buf, bufsz, "latency %.2fs %s %.0fs", o->latency_s, op, limit_s);
        break;
    case CAUSE_LAG:
        snprintf(buf, bufsz, "lag %lld messages > %lld", (long long)o->lag, (long long)t->max_lag);
        break;
    case CAUSE_NONE:
        snprintf(buf, bufsz, "latency %.2fs", o->latency_s);
        break;
    }
}

void decide(const struct check_state *s, const struct observation *o, const struct thresholds *t,
            struct decision *d)
{
    char why[200];

    memset(d, 0, sizeof *d);
    d->next = *s;
    if (s->forced != FORCED_AUTO) {
        d->next.mode = s->forced == FORCED_FALLBACK ? MODE_FALLBACK : MODE_PRIMARY;
        if (obs_unknown(o)) {
            d->verdict = VERDICT_UNKNOWN;
        } else {
            d->cause = violation_cause(o, t);
            d->verdict = d->cause != CAUSE_NONE ? VERDICT_VIOLATION : VERDICT_HEALTHY;
        }
        snprintf(d->reason, sizeof d->reason, "mode forced to %s", forced_name(s->forced));
    } else if (obs_unknown(o)) {
        d->verdict = VERDICT_UNKNOWN;
        snprintf(d->reason, sizeof d->reason, "observation incomplete: no counter moves");
    } else if (s->mode == MODE_PRIMARY) {
        d->next.recoveries = 0;
        d->cause = violation_cause(o, t);
        cause_text(d->cause, o, t, ">", t->latency_threshold_s, why, sizeof why);
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
            }
        }
    } else {
        d->next.violations = 0;
        int fresh = obs_healthy(o) && o->latency_s < t->resume_threshold_s;
        if (fresh || obs_idle(o)) {
            d->verdict = fresh ? VERDICT_RECOVERY : VERDICT_IDLE;
            d->count = d->next.recoveries = s->recoveries + 1;
            if (fresh)
                snprintf(d->reason, sizeof d->reason, "healthy, latency %.2fs < %.0fs (%lld/%lld)", o->latency_s,
                         t->resume_threshold_s, (long long)d->count, (long long)t->consecutive_recoveries);
            else
                snprintf(d->reason, sizeof d->reason, "healthy and caught up (lag 0), idle: latency %.2fs (%lld/%lld)",
                         o->latency_s, (long long)d->count, (long long)t->consecutive_recoveries);
            if (d->count >= t->consecutive_recoveries) {
                d->next.mode = MODE_PRIMARY;
                d->next.recoveries = 0;
            }
        } else {
            d->verdict = VERDICT_NOT_RECOVERED;
            d->next.recoveries = 0;
            d->cause = obs_healthy(o) ? CAUSE_LATENCY : CAUSE_UNHEALTHY;
            cause_text(d->cause, o, t, ">=", t->resume_threshold_s, d->reason, sizeof d->reason);
        }
    }
    d->changed_mode = d->next.mode != s->mode;
    d->launch_runner = d->next.mode == MODE_FALLBACK;
}

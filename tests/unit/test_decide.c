/* SPDX-License-Identifier: BSD-2-Clause */
/* test_decide.c -- every transition of the checker's decision, as tables: thresholds, idle, time lag, hysteresis,
 * flapping, prediction, forced modes. */
#include "decide.h"
#include "tap.h"

#define P MODE_PRIMARY
#define F MODE_FALLBACK
#define A FORCED_AUTO
#define FF FORCED_FALLBACK
#define FP FORCED_PRIMARY
#define S(m, f, v, r) { .mode = m, .forced = f, .violations = v, .recoveries = r }

/* observations */
enum obs_kind { FRESH, STALE, MID, UNHEALTHY, NO_INFLUX, NO_FLINK, LAGGING, NO_KAFKA, QUIET, QUIET_SICK, QUIET_NOLAG };

static struct observation make_obs(enum obs_kind k)
{
    struct observation o = { .health_probed = 1, .health_known = 1, .healthy = 1, .latency_known = 1,
                             .latency_s = 10, .lag_probed = 1, .lag_known = 1, .lag = 5 };
    switch (k) {
    case FRESH: break;
    case STALE: o.latency_s = 400; break;
    case MID: o.latency_s = 200; break; /* between resume (150) and threshold (300) */
    case UNHEALTHY: o.healthy = 0; o.why_unhealthy = "job RESTARTING"; break;
    case NO_INFLUX: o.latency_known = 0; break;
    case NO_FLINK: o.health_known = 0; break;
    case LAGGING: o.lag = 5000; break;
    case NO_KAFKA: o.lag_known = 0; break;
    case QUIET: o.latency_s = 4000; o.lag = 0; break;              /* no new events, caught up */
    case QUIET_SICK: o.latency_s = 4000; o.lag = 0; o.healthy = 0; o.why_unhealthy = "job RESTARTING"; break;
    case QUIET_NOLAG: o.latency_s = 4000; o.lag = 0; o.lag_probed = 0; break; /* caught up, but unproven */
    }
    return o;
}

/* no history: no earlier check, no mode change */
static const struct history h0 = { .now_ms = 1795255200000LL };

#define MIN_MS 60000LL
static const int64_t T0 = 1795255200000LL; /* 2026-11-21T10:00Z */

/* The shipped thresholds (etc/spillway.ini), with prediction as given. */
static struct thresholds shipped(enum predict_mode p)
{
    return (struct thresholds){ .latency_threshold_s = 300, .resume_threshold_s = 150, .consecutive_violations = 3,
                                .consecutive_recoveries = 1, .min_fallback_ms = 600000, .resume_hold_ms = 90000,
                                .flap_changes = 6, .flap_window_ms = 3600000, .flap_pin = 1, .predict = p,
                                .predict_checks = 10, .predict_horizon_s = 300 };
}

/* Healthy, fresh latency, the given time lag on partition 1 (lag > 0). */
static struct observation timed(double latency_s, double time_lag_s)
{
    return (struct observation){ .health_probed = 1, .health_known = 1, .healthy = 1, .latency_known = 1,
                                 .latency_s = latency_s, .lag_probed = 1, .lag_known = 1, .lag = 40,
                                 .time_lag_known = 1, .time_lag_s = time_lag_s, .time_lag_partition = 1 };
}

/* A stuck partition behind fresh points is a violation, named as such, and
 * keeps fallback mode from resuming. */
static void test_time_lag(void)
{
    struct thresholds t = shipped(PREDICT_OFF);
    struct history h = { .now_ms = T0 };
    struct check_state st = S(P, A, 0, 0);
    struct observation o = timed(12, 420);
    struct decision d;

    decide(&st, &o, &h, &t, &d);
    ok(d.verdict == VERDICT_VIOLATION && d.cause == CAUSE_TIME_LAG && d.next.violations == 1,
       "fresh latency, one partition 420 s behind: a time lag violation (%s)", d.reason);
    is_str(d.reason, "time lag 420.00s on partition 1 > 300s (latency 12.00s) (1/3)", "the reason names the partition");
    o = timed(400, 420);
    decide(&st, &o, &h, &t, &d);
    is_int(d.cause, CAUSE_LATENCY, "latency and time lag both over: the latency is the signal named (the reference's)");
    o = timed(12, 290);
    decide(&st, &o, &h, &t, &d);
    is_int(d.verdict, VERDICT_HEALTHY, "290 s behind is within the threshold");
    o = timed(12, 420);
    o.time_lag_known = 0;
    decide(&st, &o, &h, &t, &d);
    is_int(d.verdict, VERDICT_HEALTHY, "no message time read: the time lag decides nothing");
    o = timed(12, 420);
    o.lag_probed = 0;
    decide(&st, &o, &h, &t, &d);
    is_int(d.verdict, VERDICT_HEALTHY, "lag probe off: no time lag");

    st = (struct check_state)S(F, A, 0, 0);
    o = timed(12, 200);
    decide(&st, &o, &h, &t, &d);
    ok(d.verdict == VERDICT_NOT_RECOVERED && d.cause == CAUSE_TIME_LAG,
       "fallback mode: fresh points but a partition 200 s behind is not a recovery (%s)", d.reason);
    o = timed(12, 20);
    decide(&st, &o, &h, &t, &d);
    is_int(d.verdict, VERDICT_RECOVERY, "and 20 s behind is");
}

/* What the runs' backfill says to the checks run_checks() makes (0: none
 * going on), its run ended this long before each check. */
static int64_t backfilling, backfilled_ago_ms = 30000;

/* Run checks a minute apart from state *st with observation o, n times;
 * returns the index of the first mode change, or -1. */
static int run_checks(struct check_state *st, struct observation o, const struct thresholds *t, int64_t *now, int n,
                      struct decision *d)
{
    int changed = -1;

    for (int i = 0; i < n; i++) {
        struct history h = { .now_ms = *now, .backfilling = backfilling, .backfilled_at_ms = *now - backfilled_ago_ms };
        decide(st, &o, &h, t, d);
        if (d->changed_mode && changed < 0)
            changed = i;
        *st = d->next;
        *now += MIN_MS;
    }
    return changed;
}

/* The shipped hysteresis: a first trip is never delayed; fallback mode lasts
 * min_fallback (10 minutes); the recoveries must hold resume_hold (90 s:
 * the third recovery at the 60 s cadence). */
static void test_hysteresis(void)
{
    struct thresholds t = shipped(PREDICT_OFF);
    struct check_state st = S(P, A, 0, 0);
    struct observation fresh = make_obs(FRESH), stale = make_obs(STALE);
    struct decision d;
    int64_t now = T0;

    st.since_ms = T0 - 86400000;
    is_int(run_checks(&st, stale, &t, &now, 3, &d), 2, "three violations trip at the third, hysteresis or not");
    is_int(st.since_ms, now - MIN_MS, "the trip starts the mode's time");
    is_int(run_checks(&st, fresh, &t, &now, 8, &d), -1, "eight recoveries within min_fallback_seconds: still fallback");
    is_int(d.held, HELD_MIN_FALLBACK, "held by min_fallback_seconds");
    ok(strstr(d.reason, "fallback held 480s of min_fallback_seconds 600") != NULL, "saying so: %s", d.reason);
    is_int(run_checks(&st, fresh, &t, &now, 1, &d), -1, "the ninth (9 minutes in): still held");
    /* at 10 minutes the recoveries have held since the first: 9 minutes */
    is_int(run_checks(&st, fresh, &t, &now, 1, &d), 0, "at 10 minutes, recovered for long enough: resumed");

    st = (struct check_state)S(P, A, 0, 0);
    now = T0;
    run_checks(&st, stale, &t, &now, 3, &d);
    run_checks(&st, stale, &t, &now, 10, &d);
    is_int(run_checks(&st, fresh, &t, &now, 1, &d), -1, "after 13 minutes in fallback, a first recovery waits");
    is_int(d.held, HELD_RESUME_HOLD, "for resume_hold_seconds");
    is_int(run_checks(&st, fresh, &t, &now, 1, &d), -1, "the second (60 s recovered) waits too");
    is_int(run_checks(&st, fresh, &t, &now, 1, &d), 0, "the third (120 s >= 90 s) resumes");
    ok(st.recovering_since_ms == 0 && st.recoveries == 0, "and clears the recovery run");

    st = (struct check_state)S(P, A, 0, 0);
    now = T0;
    run_checks(&st, stale, &t, &now, 13, &d);
    run_checks(&st, fresh, &t, &now, 2, &d);
    struct observation unknown = make_obs(NO_INFLUX);
    run_checks(&st, unknown, &t, &now, 1, &d);
    is_int(run_checks(&st, fresh, &t, &now, 1, &d), 0, "an unknown check in between moves nothing: still resumes");
    run_checks(&st, stale, &t, &now, 13, &d);
    run_checks(&st, fresh, &t, &now, 2, &d);
    run_checks(&st, make_obs(MID), &t, &now, 1, &d);
    is_int(run_checks(&st, fresh, &t, &now, 2, &d), -1, "a check that is not a recovery starts the hold again");
    is_int(run_checks(&st, fresh, &t, &now, 1, &d), 0, "which then holds");

    /* the runs of fallback mode backfill the predictions the preserve level left pending: a resume waits
     * while the last run backfilled some and left more (a backfill that cannot go on holds nothing) */
    st = (struct check_state)S(P, A, 0, 0);
    now = T0;
    backfilling = 4608;
    is_int(run_checks(&st, stale, &t, &now, 3, &d), 2, "a backfill going on never delays a trip");
    run_checks(&st, stale, &t, &now, 10, &d);
    run_checks(&st, fresh, &t, &now, 2, &d);
    is_int(run_checks(&st, fresh, &t, &now, 1, &d), -1,
           "recovered past min_fallback and resume_hold, yet the last run left predictions pending: not resumed");
    ok(d.held == HELD_BACKFILL && d.launch_runner, "held by the backfill, a run launched");
    ok(strstr(d.reason, "; the backfill goes on (the last run wrote 4608 predictions and left more)") != NULL,
       "saying so: %s", d.reason);
    backfilled_ago_ms = DECIDE_BACKFILL_RECENT_MS + 1000;
    is_int(run_checks(&st, fresh, &t, &now, 1, &d), 0,
           "its run ended more than 15 minutes before: runs stopped finishing, nothing held, resumed");
    st.mode = MODE_FALLBACK; /* as if tripped an hour ago and recovered since */
    st.since_ms = st.recovering_since_ms = now - 3600000;
    st.recoveries = 60;
    backfilled_ago_ms = 30000;
    run_checks(&st, fresh, &t, &now, 1, &d);
    is_int(d.held, HELD_BACKFILL, "back in fallback (forced here), a recent run's backfill holds again");
    backfilling = 0;
    is_int(run_checks(&st, fresh, &t, &now, 1, &d), 0, "the backfill done: resumed at the next check");
}

/* Six mode changes within an hour: flapping, notified once, pinned to
 * fallback until the primary holds for the window; without the pin it only
 * shows, and ends an hour after the last change. */
static void test_flapping(void)
{
    struct thresholds t = shipped(PREDICT_OFF);
    int64_t changes[8] = { T0 - 50 * MIN_MS, T0 - 40 * MIN_MS, T0 - 30 * MIN_MS, T0 - 20 * MIN_MS };
    struct history h = { .now_ms = T0, .changes_ms = changes, .nchanges = 4 };
    struct check_state st = S(P, A, 2, 0);
    struct observation stale = make_obs(STALE), fresh = make_obs(FRESH);
    struct decision d;

    decide(&st, &stale, &h, &t, &d);
    ok(d.changed_mode && !d.flap_started && d.flap_count == 5, "the fifth change in an hour trips; no flapping yet");
    changes[4] = T0;
    h.nchanges = 5;
    st = d.next;
    st.since_ms = T0 - 20 * MIN_MS; /* held long enough */
    st.recovering_since_ms = T0 - 5 * MIN_MS;
    h.now_ms = T0 + MIN_MS;
    decide(&st, &fresh, &h, &t, &d);
    ok(!d.changed_mode && d.flap_started && d.held == HELD_FLAPPING && d.next.flapping_since_ms == h.now_ms,
       "the sixth would be a resume: flapping begins, pinned to fallback (%s)", d.reason);
    st = d.next;
    h.now_ms = T0 + 30 * MIN_MS;
    decide(&st, &fresh, &h, &t, &d);
    ok(!d.changed_mode && !d.flap_started && d.held == HELD_FLAPPING, "half an hour of recoveries later: still pinned");
    st = d.next;
    h.now_ms = st.recovering_since_ms + 60 * MIN_MS;
    decide(&st, &fresh, &h, &t, &d);
    ok(d.changed_mode && d.next.flapping_since_ms == 0, "recovered for the whole window: resumed, flapping over");

    /* the sixth change is a trip: made, and flapping begins with it */
    changes[4] = T0 - 10 * MIN_MS;
    h = (struct history){ .now_ms = T0, .changes_ms = changes, .nchanges = 5 };
    st = (struct check_state)S(P, A, 2, 0);
    decide(&st, &stale, &h, &t, &d);
    ok(d.changed_mode && d.flap_started, "a trip that makes the sixth change is never delayed; flapping begins");

    /* without the pin: the resume is made, flapping shows until a quiet window */
    t.flap_pin = 0;
    st = (struct check_state)S(F, A, 0, 0);
    st.recovering_since_ms = T0 - 5 * MIN_MS;
    h.now_ms = T0 + MIN_MS;
    decide(&st, &fresh, &h, &t, &d);
    ok(d.changed_mode && d.flap_started && d.next.flapping_since_ms != 0, "flap_pin off: resumed, flapping shown");
    st = d.next;
    h.now_ms = T0 + 61 * MIN_MS - 1;
    decide(&st, &fresh, &h, &t, &d);
    ok(d.next.flapping_since_ms == 0, "and over once an hour has passed without a change");
    t.flap_changes = 0;
    st = (struct check_state)S(P, A, 2, 0);
    h = (struct history){ .now_ms = T0, .changes_ms = changes, .nchanges = 5 };
    decide(&st, &stale, &h, &t, &d);
    ok(d.changed_mode && !d.flap_started, "flap_changes 0: no flap detection");
}

/* A history of n checks a minute apart before T0 whose time lag is
 * f(i) (i = 0 oldest); the observation is f(n). */
static void series(double (*f)(int), int n, struct recent_check *r, struct observation *o)
{
    for (int i = 0; i < n; i++)
        r[i] = (struct recent_check){ T0 - (n - i) * MIN_MS, 1, f(i) };
    *o = timed(20, f(n));
}

static double ramp(int i) { return 60 + 20.0 * i; }                  /* +20 s a minute: at 240 s now */
static double flat(int i) { return 20 + (i * 7) % 11; }             /* noise around 25 s */
static double sawtooth(int i) { return (i % 4) * 60 + 5.0; }        /* a checkpoint every 4 minutes */
static double blip(int i) { return i == 8 ? 290 : 20 + i % 3; }     /* one bad minute, the last but one */
static double stall(int i) { return i < 6 ? 20 : 20 + 60.0 * (i - 5); } /* stopped 4 minutes ago */

static void test_prediction(void)
{
    struct thresholds t = shipped(PREDICT_ON);
    struct recent_check r[9];
    struct history h = { .now_ms = T0, .recent = r, .nrecent = 9 };
    struct check_state st = S(P, A, 0, 0);
    struct observation o;
    struct decision d;
    static const struct {
        const char *name;
        double (*f)(int);
        enum predicted want;
    } rows[] = {
        { "a steady ramp of 20 s a minute at 240 s", ramp, PREDICTED_CROSSING },
        { "noise around 25 s", flat, PREDICTED_STEADY },
        { "a checkpoint sawtooth up to 185 s", sawtooth, PREDICTED_STEADY },
        { "one bad minute among nine", blip, PREDICTED_STEADY },
        { "a stall begun 4 minutes ago", stall, PREDICTED_CROSSING },
    };

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        series(rows[i].f, 9, r, &o);
        decide(&st, &o, &h, &t, &d);
        ok(d.predicted == rows[i].want, "%s: %s (slope %.3f, tau %.2f, %.0fs in 300 s)", rows[i].name,
           predicted_name(rows[i].want), d.trend.slope, d.trend.tau, d.trend.projection);
    }
    series(ramp, 9, r, &o);
    decide(&st, &o, &h, &t, &d);
    ok(d.verdict == VERDICT_VIOLATION && d.cause == CAUSE_PREDICTED && d.next.violations == 1 && !d.changed_mode,
       "on: a predicted crossing counts as one violation and never trips by itself (%s)", d.reason);
    st.violations = 2;
    decide(&st, &o, &h, &t, &d);
    ok(d.changed_mode, "the third in a row trips");

    t = shipped(PREDICT_SHADOW);
    st = (struct check_state)S(P, A, 0, 0);
    st.shadow_violations = 2;
    decide(&st, &o, &h, &t, &d);
    ok(d.verdict == VERDICT_HEALTHY && d.predicted == PREDICTED_WOULD_TRIP && !d.changed_mode,
       "shadow: the decision is the threshold rule's; it records the trip it would have made");
    st = d.next;
    decide(&st, &o, &h, &t, &d);
    is_int(d.predicted, PREDICTED_CROSSING, "once a run");

    h.nrecent = 4;
    decide(&st, &o, &h, &t, &d);
    is_int(d.predicted, PREDICTED_INSUFFICIENT, "five checks of ten: not enough for a trend");
    h.nrecent = 9;
    o.lag_probed = 0;
    decide(&st, &o, &h, &t, &d);
    is_int(d.predicted, PREDICTED_OFF, "lag probe off: prediction off");
    t.predict = PREDICT_OFF;
    series(ramp, 9, r, &o);
    decide(&st, &o, &h, &t, &d);
    is_int(d.predicted, PREDICTED_OFF, "predict = off: nothing recorded");
    /* idle: caught up, the trend of zeros is flat */
    t = shipped(PREDICT_ON);
    for (int i = 0; i < 9; i++)
        r[i] = (struct recent_check){ T0 - (9 - i) * MIN_MS, 1, 0 };
    o = make_obs(QUIET);
    o.time_lag_known = 1;
    decide(&st, &o, &h, &t, &d);
    ok(d.verdict == VERDICT_IDLE && d.predicted == PREDICTED_STEADY, "an idle night: idle, steady");
}

static void test_force(void)
{
    struct check_state st = S(P, A, 2, 0), next;

    st.since_ms = T0 - MIN_MS;
    st.shadow_violations = 2;
    next = decide_force(&st, FORCED_FALLBACK, T0);
    ok(next.mode == F && next.forced == FF && next.violations == 0 && next.shadow_violations == 0 && next.since_ms == T0,
       "force fallback: fallback at once, counters reset, the mode's time starts");
    next = decide_force(&next, FORCED_AUTO, T0 + MIN_MS);
    ok(next.mode == F && next.forced == A && next.since_ms == T0, "force auto keeps the mode and its start");
}

int main(void)
{
    static const char *obs_names[] = { "fresh", "stale", "mid", "unhealthy", "no-influx", "no-flink", "lagging", "no-kafka",
                                       "quiet", "quiet-but-unhealthy", "quiet-lag-not-probed" };
    const struct thresholds t = { .latency_threshold_s = 300, .resume_threshold_s = 150, .consecutive_violations = 3,
                                  .consecutive_recoveries = 2, .max_lag = 1000 };
    static const struct {
        struct check_state in;
        enum obs_kind obs;
        struct check_state out;
        enum verdict verdict;
        int launch, changed;
    } rows[] = {
        /* primary mode */
        { S(P, A, 0, 0), FRESH, S(P, A, 0, 0), VERDICT_HEALTHY, 0, 0 },
        { S(P, A, 2, 0), FRESH, S(P, A, 0, 0), VERDICT_HEALTHY, 0, 0 },     /* a healthy check resets */
        { S(P, A, 0, 0), STALE, S(P, A, 1, 0), VERDICT_VIOLATION, 0, 0 },
        { S(P, A, 1, 0), STALE, S(P, A, 2, 0), VERDICT_VIOLATION, 0, 0 },   /* two is not three */
        { S(P, A, 2, 0), STALE, S(F, A, 0, 0), VERDICT_VIOLATION, 1, 1 },   /* the third trips */
        { S(P, A, 2, 0), UNHEALTHY, S(F, A, 0, 0), VERDICT_VIOLATION, 1, 1 },
        { S(P, A, 0, 0), LAGGING, S(P, A, 1, 0), VERDICT_VIOLATION, 0, 0 },
        { S(P, A, 0, 0), MID, S(P, A, 0, 0), VERDICT_HEALTHY, 0, 0 },       /* under the threshold */
        { S(P, A, 2, 0), NO_INFLUX, S(P, A, 2, 0), VERDICT_UNKNOWN, 0, 0 }, /* unknown moves nothing */
        { S(P, A, 2, 0), NO_FLINK, S(P, A, 2, 0), VERDICT_UNKNOWN, 0, 0 },
        { S(P, A, 1, 0), NO_KAFKA, S(P, A, 1, 0), VERDICT_UNKNOWN, 0, 0 },
        /* a quiet night: healthy, caught up, no new events */
        { S(P, A, 0, 0), QUIET, S(P, A, 0, 0), VERDICT_IDLE, 0, 0 },
        { S(P, A, 2, 0), QUIET, S(P, A, 0, 0), VERDICT_IDLE, 0, 0 },       /* not a third violation: resets */
        { S(P, A, 2, 0), QUIET_SICK, S(F, A, 0, 0), VERDICT_VIOLATION, 1, 1 }, /* caught up, but unhealthy */
        { S(P, A, 2, 0), QUIET_NOLAG, S(F, A, 0, 0), VERDICT_VIOLATION, 1, 1 }, /* idle must be proven */
        /* fallback mode */
        { S(F, A, 0, 0), STALE, S(F, A, 0, 0), VERDICT_NOT_RECOVERED, 1, 0 },
        { S(F, A, 0, 0), MID, S(F, A, 0, 0), VERDICT_NOT_RECOVERED, 1, 0 },  /* hysteresis */
        { S(F, A, 0, 0), FRESH, S(F, A, 0, 1), VERDICT_RECOVERY, 1, 0 },     /* one of two */
        { S(F, A, 0, 1), FRESH, S(P, A, 0, 0), VERDICT_RECOVERY, 0, 1 },     /* two resume */
        { S(F, A, 0, 1), UNHEALTHY, S(F, A, 0, 0), VERDICT_NOT_RECOVERED, 1, 0 },
        { S(F, A, 0, 1), MID, S(F, A, 0, 0), VERDICT_NOT_RECOVERED, 1, 0 },  /* resets the recoveries */
        { S(F, A, 0, 1), NO_INFLUX, S(F, A, 0, 1), VERDICT_UNKNOWN, 1, 0 },  /* still drains */
        { S(F, A, 0, 0), LAGGING, S(F, A, 0, 1), VERDICT_RECOVERY, 1, 0 },   /* lag is not a resume criterion */
        { S(F, A, 0, 0), QUIET, S(F, A, 0, 1), VERDICT_IDLE, 1, 0 },      /* idle counts as a recovery */
        { S(F, A, 0, 1), QUIET, S(P, A, 0, 0), VERDICT_IDLE, 0, 1 },      /* and resumes without traffic */
        { S(F, A, 0, 1), QUIET_SICK, S(F, A, 0, 0), VERDICT_NOT_RECOVERED, 1, 0 },
        { S(F, A, 0, 1), QUIET_NOLAG, S(F, A, 0, 0), VERDICT_NOT_RECOVERED, 1, 0 },
        /* forced */
        { S(P, FF, 0, 0), FRESH, S(F, FF, 0, 0), VERDICT_HEALTHY, 1, 1 },
        { S(F, FF, 0, 0), FRESH, S(F, FF, 0, 0), VERDICT_HEALTHY, 1, 0 },
        { S(F, FP, 0, 0), STALE, S(P, FP, 0, 0), VERDICT_VIOLATION, 0, 1 },
        { S(P, FP, 2, 0), STALE, S(P, FP, 2, 0), VERDICT_VIOLATION, 0, 0 },  /* forced: no counter moves */
        { S(P, FP, 0, 0), NO_INFLUX, S(P, FP, 0, 0), VERDICT_UNKNOWN, 0, 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct observation o = make_obs(rows[i].obs);
        struct decision d;
        decide(&rows[i].in, &o, &h0, &t, &d);
        int same = d.next.mode == rows[i].out.mode && d.next.forced == rows[i].out.forced &&
                   d.next.violations == rows[i].out.violations && d.next.recoveries == rows[i].out.recoveries &&
                   d.verdict == rows[i].verdict && d.launch_runner == rows[i].launch &&
                   d.changed_mode == rows[i].changed;
        ok(same, "%s %s v=%lld r=%lld + %s -> %s %s v=%lld r=%lld, %s%s%s", mode_name(rows[i].in.mode),
           forced_name(rows[i].in.forced), (long long)rows[i].in.violations, (long long)rows[i].in.recoveries,
           obs_names[rows[i].obs], mode_name(rows[i].out.mode), forced_name(rows[i].out.forced),
           (long long)rows[i].out.violations, (long long)rows[i].out.recoveries, verdict_name(rows[i].verdict),
           rows[i].launch ? ", launch" : "", rows[i].changed ? ", mode change" : "");
        if (!same)
            printf("#   got %s v=%lld r=%lld %s launch=%d changed=%d (%s)\n", mode_name(d.next.mode),
                   (long long)d.next.violations, (long long)d.next.recoveries, verdict_name(d.verdict),
                   d.launch_runner, d.changed_mode, d.reason);
    }

    /* the decision says why, and where in the run this check stands */
    static const struct {
        struct check_state in;
        enum obs_kind obs;
        enum cause cause;
        int64_t count;
    } why[] = {
        { S(P, A, 1, 0), STALE, CAUSE_LATENCY, 2 },
        { S(P, A, 2, 0), UNHEALTHY, CAUSE_UNHEALTHY, 3 }, /* the tripping one: 3, though the counter resets */
        { S(P, A, 0, 0), LAGGING, CAUSE_LAG, 1 },
        { S(P, A, 0, 0), FRESH, CAUSE_NONE, 0 },
        { S(F, A, 0, 0), MID, CAUSE_LATENCY, 0 },          /* not recovered: latency */
        { S(F, A, 0, 0), UNHEALTHY, CAUSE_UNHEALTHY, 0 },
        { S(F, A, 0, 1), FRESH, CAUSE_NONE, 2 },           /* the resuming recovery: 2 */
        { S(P, FP, 0, 0), STALE, CAUSE_LATENCY, 0 },       /* forced: a cause, no count */
    };
    for (size_t i = 0; i < sizeof why / sizeof why[0]; i++) {
        struct observation ob = make_obs(why[i].obs);
        struct decision dd;
        decide(&why[i].in, &ob, &h0, &t, &dd);
        ok(dd.cause == why[i].cause && dd.count == why[i].count, "%s %s v=%lld r=%lld + %s: cause %d, count %lld",
           mode_name(why[i].in.mode), forced_name(why[i].in.forced), (long long)why[i].in.violations,
           (long long)why[i].in.recoveries, obs_names[why[i].obs], why[i].cause, (long long)why[i].count);
        if (dd.cause != why[i].cause || dd.count != why[i].count)
            printf("#   got cause %d, count %lld\n", dd.cause, (long long)dd.count);
    }

    /* a flink_url left empty: health is not probed and never unknown */
    struct observation o = make_obs(FRESH);
    struct check_state s = S(P, A, 2, 0);
    struct decision d;
    o.health_probed = 0;
    o.health_known = 0;
    o.healthy = 0;
    decide(&s, &o, &h0, &t, &d);
    is_int(d.verdict, VERDICT_HEALTHY, "no flink_url: health is not part of the verdict");
    o = make_obs(STALE);
    decide(&s, &o, &h0, &t, &d);
    is_str(d.reason, "latency 400.00s > 300s (3/3)", "the reason names the latency and the count");

    /* three checks in a row, from scratch, as the checker runs them */
    struct check_state st = S(P, A, 0, 0);
    int trips = 0;
    for (int i = 0; i < 3; i++) {
        o = make_obs(STALE);
        decide(&st, &o, &h0, &t, &d);
        trips += d.changed_mode;
        st = d.next;
    }
    ok(st.mode == F && trips == 1, "three stale checks in a row trip exactly once");
    enum mode m;
    enum forced f;
    ok(mode_parse("fallback", &m) == 0 && m == F && mode_parse("x", &m) == -1, "mode names parse");
    ok(forced_parse("auto", &f) == 0 && f == A && forced_parse("primary", &f) == 0 && f == FP, "forced names parse");
    test_time_lag();
    test_hysteresis();
    test_flapping();
    test_prediction();
    test_force();
    return tap_done();
}

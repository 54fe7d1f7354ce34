/* test_decide.c -- every transition of the checker's decision, as a table. */
#include "decide.h"
#include "tap.h"

#define P MODE_PRIMARY
#define F MODE_FALLBACK
#define A FORCED_AUTO
#define FF FORCED_FALLBACK
#define FP FORCED_PRIMARY

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
        { { P, A, 0, 0 }, FRESH, { P, A, 0, 0 }, VERDICT_HEALTHY, 0, 0 },
        { { P, A, 2, 0 }, FRESH, { P, A, 0, 0 }, VERDICT_HEALTHY, 0, 0 },     /* a healthy check resets */
        { { P, A, 0, 0 }, STALE, { P, A, 1, 0 }, VERDICT_VIOLATION, 0, 0 },
        { { P, A, 1, 0 }, STALE, { P, A, 2, 0 }, VERDICT_VIOLATION, 0, 0 },   /* two is not three */
        { { P, A, 2, 0 }, STALE, { F, A, 0, 0 }, VERDICT_VIOLATION, 1, 1 },   /* the third trips */
        { { P, A, 2, 0 }, UNHEALTHY, { F, A, 0, 0 }, VERDICT_VIOLATION, 1, 1 },
        { { P, A, 0, 0 }, LAGGING, { P, A, 1, 0 }, VERDICT_VIOLATION, 0, 0 },
        { { P, A, 0, 0 }, MID, { P, A, 0, 0 }, VERDICT_HEALTHY, 0, 0 },       /* under the threshold */
        { { P, A, 2, 0 }, NO_INFLUX, { P, A, 2, 0 }, VERDICT_UNKNOWN, 0, 0 }, /* unknown moves nothing */
        { { P, A, 2, 0 }, NO_FLINK, { P, A, 2, 0 }, VERDICT_UNKNOWN, 0, 0 },
        { { P, A, 1, 0 }, NO_KAFKA, { P, A, 1, 0 }, VERDICT_UNKNOWN, 0, 0 },
        /* a quiet night: healthy, caught up, no new events */
        { { P, A, 0, 0 }, QUIET, { P, A, 0, 0 }, VERDICT_IDLE, 0, 0 },
        { { P, A, 2, 0 }, QUIET, { P, A, 0, 0 }, VERDICT_IDLE, 0, 0 },       /* not a third violation: resets */
        { { P, A, 2, 0 }, QUIET_SICK, { F, A, 0, 0 }, VERDICT_VIOLATION, 1, 1 }, /* caught up, but unhealthy */
        { { P, A, 2, 0 }, QUIET_NOLAG, { F, A, 0, 0 }, VERDICT_VIOLATION, 1, 1 }, /* idle must be proven */
        /* fallback mode */
        { { F, A, 0, 0 }, STALE, { F, A, 0, 0 }, VERDICT_NOT_RECOVERED, 1, 0 },
        { { F, A, 0, 0 }, MID, { F, A, 0, 0 }, VERDICT_NOT_RECOVERED, 1, 0 },  /* hysteresis */
        { { F, A, 0, 0 }, FRESH, { F, A, 0, 1 }, VERDICT_RECOVERY, 1, 0 },     /* one of two */
        { { F, A, 0, 1 }, FRESH, { P, A, 0, 0 }, VERDICT_RECOVERY, 0, 1 },     /* two resume */
        { { F, A, 0, 1 }, UNHEALTHY, { F, A, 0, 0 }, VERDICT_NOT_RECOVERED, 1, 0 },
        { { F, A, 0, 1 }, MID, { F, A, 0, 0 }, VERDICT_NOT_RECOVERED, 1, 0 },  /* resets the recoveries */
        { { F, A, 0, 1 }, NO_INFLUX, { F, A, 0, 1 }, VERDICT_UNKNOWN, 1, 0 },  /* still drains */
        { { F, A, 0, 0 }, LAGGING, { F, A, 0, 1 }, VERDICT_RECOVERY, 1, 0 },   /* lag is not a resume criterion */
        { { F, A, 0, 0 }, QUIET, { F, A, 0, 1 }, VERDICT_IDLE, 1, 0 },      /* idle counts as a recovery */
        { { F, A, 0, 1 }, QUIET, { P, A, 0, 0 }, VERDICT_IDLE, 0, 1 },      /* and resumes without traffic */
        { { F, A, 0, 1 }, QUIET_SICK, { F, A, 0, 0 }, VERDICT_NOT_RECOVERED, 1, 0 },
        { { F, A, 0, 1 }, QUIET_NOLAG, { F, A, 0, 0 }, VERDICT_NOT_RECOVERED, 1, 0 },
        /* forced */
        { { P, FF, 0, 0 }, FRESH, { F, FF, 0, 0 }, VERDICT_HEALTHY, 1, 1 },
        { { F, FF, 0, 0 }, FRESH, { F, FF, 0, 0 }, VERDICT_HEALTHY, 1, 0 },
        { { F, FP, 0, 0 }, STALE, { P, FP, 0, 0 }, VERDICT_VIOLATION, 0, 1 },
        { { P, FP, 2, 0 }, STALE, { P, FP, 2, 0 }, VERDICT_VIOLATION, 0, 0 },  /* forced: no counter moves */
        { { P, FP, 0, 0 }, NO_INFLUX, { P, FP, 0, 0 }, VERDICT_UNKNOWN, 0, 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct observation o = make_obs(rows[i].obs);
        struct decision d;
        decide(&rows[i].in, &o, &t, &d);
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
        { { P, A, 1, 0 }, STALE, CAUSE_LATENCY, 2 },
        { { P, A, 2, 0 }, UNHEALTHY, CAUSE_UNHEALTHY, 3 }, /* the tripping one: 3, though the counter resets */
        { { P, A, 0, 0 }, LAGGING, CAUSE_LAG, 1 },
        { { P, A, 0, 0 }, FRESH, CAUSE_NONE, 0 },
        { { F, A, 0, 0 }, MID, CAUSE_LATENCY, 0 },          /* not recovered: latency */
        { { F, A, 0, 0 }, UNHEALTHY, CAUSE_UNHEALTHY, 0 },
        { { F, A, 0, 1 }, FRESH, CAUSE_NONE, 2 },           /* the resuming recovery: 2 */
        { { P, FP, 0, 0 }, STALE, CAUSE_LATENCY, 0 },       /* forced: a cause, no count */
    };
    for (size_t i = 0; i < sizeof why / sizeof why[0]; i++) {
        struct observation ob = make_obs(why[i].obs);
        struct decision dd;
        decide(&why[i].in, &ob, &t, &dd);
        ok(dd.cause == why[i].cause && dd.count == why[i].count, "%s %s v=%lld r=%lld + %s: cause %d, count %lld",
           mode_name(why[i].in.mode), forced_name(why[i].in.forced), (long long)why[i].in.violations,
           (long long)why[i].in.recoveries, obs_names[why[i].obs], why[i].cause, (long long)why[i].count);
        if (dd.cause != why[i].cause || dd.count != why[i].count)
            printf("#   got cause %d, count %lld\n", dd.cause, (long long)dd.count);
    }

    /* a flink_url left empty: health is not probed and never unknown */
    struct observation o = make_obs(FRESH);
    struct check_state s = { P, A, 2, 0 };
    struct decision d;
    o.health_probed = 0;
    o.health_known = 0;
    o.healthy = 0;
    decide(&s, &o, &t, &d);
    is_int(d.verdict, VERDICT_HEALTHY, "no flink_url: health is not part of the verdict");
    o = make_obs(STALE);
    decide(&s, &o, &t, &d);
    is_str(d.reason, "latency 400.00s > 300s (3/3)", "the reason names the latency and the count");

    /* three checks in a row, from scratch, as the checker runs them */
    struct check_state st = { P, A, 0, 0 };
    int trips = 0;
    for (int i = 0; i < 3; i++) {
        o = make_obs(STALE);
        decide(&st, &o, &t, &d);
        trips += d.changed_mode;
        st = d.next;
    }
    ok(st.mode == F && trips == 1, "three stale checks in a row trip exactly once");
    enum mode m;
    enum forced f;
    ok(mode_parse("fallback", &m) == 0 && m == F && mode_parse("x", &m) == -1, "mode names parse");
    ok(forced_parse("auto", &f) == 0 && f == A && forced_parse("primary", &f) == 0 && f == FP, "forced names parse");
    return tap_done();
}

/* decide.h -- the checker's decision: a pure function of the stored state,
 * this check's observation and the thresholds. No clock, no I/O.
 *
 * Primary mode: a check is a violation when the primary is unhealthy, its
 * latency is above latency_threshold, or its lag is above max_lag (0 = off);
 * consecutive_violations in a row trip fallback mode, a healthy check resets
 * the count. Fallback mode: a check is a recovery when the primary is healthy
 * and its latency is below resume_threshold; consecutive_recoveries in a row
 * resume primary mode, any other check resets that count. An observation
 * that could not be made is unknown and moves no counter. When the primary
 * is healthy and its group provably caught up (lag probed: 0 messages behind
 * on every partition), a stale latency means no new events, not a stall:
 * the check is idle -- in primary mode it resets the violations, in fallback
 * mode it counts as a recovery (nothing is behind, nothing to drain). A forced mode
 * overrides all of this until forced back to auto. In fallback mode, forced
 * or not, every check asks for the runner. */
#ifndef SPILLWAY_DECIDE_H
#define SPILLWAY_DECIDE_H

#include <stddef.h>
#include <stdint.h>

enum mode { MODE_PRIMARY, MODE_FALLBACK };
enum forced { FORCED_AUTO, FORCED_FALLBACK, FORCED_PRIMARY };

struct check_state {
    enum mode mode;
    enum forced forced;
    int64_t violations; /* in a row, in primary mode */
    int64_t recoveries; /* in a row, in fallback mode */
};

struct observation {
    int health_known, healthy;   /* Flink; health_known = 0: not probed or failed */
    int health_probed;           /* 0 when no flink_url is configured */
    int latency_known;
    double latency_s;
    int lag_probed, lag_known;
    int64_t lag;
    const char *why_unhealthy;   /* for the reason, may be NULL */
};

struct thresholds {
    double latency_threshold_s, resume_threshold_s;
    int64_t consecutive_violations, consecutive_recoveries;
    int64_t max_lag; /* 0 = off */
};

enum verdict {
    VERDICT_HEALTHY,       /* primary mode, within the thresholds */
    VERDICT_VIOLATION,     /* primary mode (or forced), beyond them */
    VERDICT_RECOVERY,      /* fallback mode, healthy and fresh */
    VERDICT_NOT_RECOVERED, /* fallback mode, not yet */
    VERDICT_UNKNOWN,       /* a probe could not be made */
    VERDICT_IDLE,          /* healthy, caught up, no fresh events: a quiet source, not a stall */
};

/* What made a check a violation (or kept fallback mode from recovering). */
enum cause { CAUSE_NONE, CAUSE_UNHEALTHY, CAUSE_LATENCY, CAUSE_LAG };

struct decision {
    struct check_state next;
    enum verdict verdict;
    enum cause cause;
    int64_t count;     /* this check's place in its run of violations or
                        * recoveries (3 for the third), before a trip or a
                        * resume sets the stored counter back to 0 */
    int launch_runner; /* the state after this check is fallback mode */
    int changed_mode;  /* next.mode differs from the stored mode */
    char reason[256];  /* why this verdict (and the transition, if any) */
};

/* Fill *d from the stored state, this check's observation and the
 * thresholds: the verdict, the state to store next, whether the runner is
 * to be launched, and a one-line reason. Every combination of inputs has a
 * verdict; a probe that was asked for but not made gives VERDICT_UNKNOWN
 * (no counter moves). */
void decide(const struct check_state *state, const struct observation *obs, const struct thresholds *t,
            struct decision *d);

const char *mode_name(enum mode m);
const char *forced_name(enum forced f);
const char *verdict_name(enum verdict v);
/* Parse a name back; return 0, or -1 when it is not one. */
int mode_parse(const char *s, enum mode *m);
int forced_parse(const char *s, enum forced *f);

#endif

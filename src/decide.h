/* SPDX-License-Identifier: BSD-2-Clause */
/* decide.h -- the checker's decision: a pure function of the stored state,
 * this check's observation, the history it needs and the thresholds. No
 * clock, no I/O: the checker loads the history from the state database,
 * `spillway replay` from a recorded trace, and both call decide().
 *
 * Primary mode: a check is a violation when the primary is unhealthy, its
 * latency is above latency_threshold, the time lag of some partition in
 * Kafka is above it too (a stuck partition hides behind the others' fresh
 * points), or its lag is above max_lag (0 = off); consecutive_violations in
 * a row trip fallback mode, a healthy check resets the count. With
 * prediction on, a check whose time lag trend crosses the threshold within
 * the horizon (predict.h) is a violation too; in shadow it only records
 * what it would have done. Fallback mode: a check is a recovery when the
 * primary is healthy and its latency and time lag are below
 * resume_threshold; consecutive_recoveries in a row resume primary mode,
 * once the mode has lasted min_fallback and the recoveries have held for
 * resume_hold -- any other check resets that count. An observation that
 * could not be made is unknown and moves no counter. When the primary is
 * healthy and its group provably caught up (lag probed: 0 messages behind
 * on every partition), a stale latency means no new events, not a stall:
 * the check is idle -- in primary mode it resets the violations, in
 * fallback mode it counts as a recovery (nothing is behind, nothing to
 * drain). Flapping: a mode change that would make flap_changes automatic
 * changes within flap_window begins a flapping period; with flap_pin, a
 * resume is then not made until the changes in the window fall below the
 * bound. A trip is never delayed. A forced mode overrides all of this until
 * forced back to auto. In fallback mode, forced or not, every check asks for
 * the runner. */
#ifndef SPILLWAY_DECIDE_H
#define SPILLWAY_DECIDE_H

#include <stddef.h>
#include <stdint.h>

#include "predict.h"

enum mode { MODE_PRIMARY, MODE_FALLBACK };
enum forced { FORCED_AUTO, FORCED_FALLBACK, FORCED_PRIMARY };
enum predict_mode { PREDICT_OFF, PREDICT_SHADOW, PREDICT_ON };

/* Times are epoch milliseconds; 0 = none. */
struct check_state {
    enum mode mode;
    enum forced forced;
    int64_t violations;          /* in a row, in primary mode */
    int64_t recoveries;          /* in a row, in fallback mode */
    int64_t since_ms;            /* when the mode began */
    int64_t recovering_since_ms; /* the first of the recoveries in a row */
    int64_t flapping_since_ms;   /* when the flapping period began */
    int64_t shadow_violations;   /* predict = shadow: violations in a row had it been on */
};

struct observation {
    int health_known, healthy;   /* Flink; health_known = 0: not probed or failed */
    int health_probed;           /* 0 when no flink_url is configured */
    int latency_known;
    double latency_s;
    int lag_probed, lag_known;
    int64_t lag;
    int time_lag_known;          /* the lag probe read a message time on some partition behind */
    double time_lag_s;           /* the largest time lag over partitions (0: caught up) */
    int32_t time_lag_partition;  /* which partition, -1 when none is behind */
    const char *why_unhealthy;   /* for the reason, may be NULL */
    const char *partitions_json; /* per partition, for the record (decide() does not read it); may be NULL */
};

/* One earlier check, as the trend needs it. */
struct recent_check {
    int64_t at_ms;
    int time_lag_known;
    double time_lag_s;
};

/* What the decision needs from before this check. */
struct history {
    int64_t now_ms;                     /* this check's time (the clock, read once by the caller) */
    const struct recent_check *recent;  /* the last checks before this one, oldest first; the last */
    size_t nrecent;                     /* predict_checks - 1 of them are used (unknown ones too) */
    const int64_t *changes_ms;          /* times of automatic mode changes, oldest first; those */
    size_t nchanges;                    /* within flap_window count */
    int64_t backfilling;                /* predictions the last run backfilled, leaving more pending */
    int64_t backfilled_at_ms;           /* when that run ended: a resume waits while it is recent */
};

/* A run that ended longer ago than this before a check says nothing of a
 * backfill going on now: runs have stopped finishing (the runner cannot be
 * launched, or one is stuck), and a resume is not held for them. A run a
 * minute, each within batch_timeout_seconds and its join, ends well inside. */
#define DECIDE_BACKFILL_RECENT_MS (INT64_C(15) * 60 * 1000)

struct thresholds {
    double latency_threshold_s, resume_threshold_s;
    int64_t consecutive_violations, consecutive_recoveries;
    int64_t max_lag; /* 0 = off */
    int64_t min_fallback_ms, resume_hold_ms;
    int64_t flap_changes, flap_window_ms; /* flap_changes 0 = off */
    int flap_pin;
    enum predict_mode predict;
    int64_t predict_checks;
    double predict_horizon_s;
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
enum cause { CAUSE_NONE, CAUSE_UNHEALTHY, CAUSE_LATENCY, CAUSE_LAG, CAUSE_TIME_LAG, CAUSE_PREDICTED };

/* What the prediction said of this check. */
enum predicted {
    PREDICTED_OFF,          /* predict = off, or the lag probe is off */
    PREDICTED_INSUFFICIENT, /* too few checks with a time lag yet */
    PREDICTED_STEADY,       /* no crossing within the horizon */
    PREDICTED_CROSSING,     /* the trend crosses the threshold within the horizon */
    PREDICTED_WOULD_TRIP,   /* shadow: a crossing that would have tripped fallback mode here */
};

/* Why a resume the recoveries asked for was not made. */
enum held { HELD_NONE, HELD_MIN_FALLBACK, HELD_RESUME_HOLD, HELD_BACKFILL, HELD_FLAPPING };

struct decision {
    struct check_state next;
    enum verdict verdict;
    enum cause cause;
    int64_t count;     /* this check's place in its run of violations or
                        * recoveries (3 for the third), before a trip or a
                        * resume sets the stored counter back to 0 */
    int launch_runner; /* the state after this check is fallback mode */
    int changed_mode;  /* next.mode differs from the stored mode */
    enum predicted predicted;
    struct trend trend; /* its figures when made */
    enum held held;
    int flap_started;  /* this check began a flapping period */
    int64_t flap_count; /* automatic mode changes in the window, this check's included */
    char reason[256];  /* why this verdict (and the transition, if any) */
};

/* Fill *d from the stored state, this check's observation, the history and
 * the thresholds: the verdict, the state to store next (next.since_ms is
 * h->now_ms when the mode changes), whether the runner is to be launched,
 * what the prediction said, and a one-line reason. Every combination of
 * inputs has a verdict; a probe that was asked for but not made gives
 * VERDICT_UNKNOWN (no counter moves). */
void decide(const struct check_state *state, const struct observation *obs, const struct history *h,
            const struct thresholds *t, struct decision *d);

/* `spillway force WHAT` at now_ms: the state it stores (counters reset; a
 * forced mode takes effect at once, auto keeps the mode). The one place
 * the force command and replay both take it from. */
struct check_state decide_force(const struct check_state *state, enum forced what, int64_t now_ms);

const char *mode_name(enum mode m);
const char *forced_name(enum forced f);
const char *verdict_name(enum verdict v);
const char *cause_name(enum cause c);         /* "none", "unhealthy", "latency", "lag", "time_lag", "predicted" */
const char *predicted_name(enum predicted p); /* NULL for PREDICTED_OFF */
/* Parse a name back; return 0, or -1 when it is not one. */
int mode_parse(const char *s, enum mode *m);
int forced_parse(const char *s, enum forced *f);
int predict_mode_parse(const char *s, enum predict_mode *p);
const char *predict_mode_name(enum predict_mode p);

#endif

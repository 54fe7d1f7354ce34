/* SPDX-License-Identifier: BSD-2-Clause */
/* predict.h -- a robust trend of the primary's time lag over the last
 * checks, and whether it will cross the threshold within a horizon. Pure:
 * values in, values out.
 *
 * The slope is Theil-Sen's (the median of the slopes between every pair of
 * points): one outlier in three does not move it, so a blip does not make a
 * trend. The slope counts only when the rise is steady: Kendall's tau (the
 * share of rising pairs minus falling pairs) must be at least
 * PREDICT_MIN_TAU, which a checkpoint sawtooth (every drop makes falling
 * pairs) and a flat series (ties) never reach. Times are in seconds. */
#ifndef SPILLWAY_PREDICT_H
#define SPILLWAY_PREDICT_H

#include <stddef.h>

/* The most points a trend is taken over ([check] predict_checks' bound). */
#define PREDICT_MAX_POINTS 60
/* How steady a rise must be to be believed (see tests/traces/, docs/operating.md). */
#define PREDICT_MIN_TAU 0.6

struct trend_point {
    double t_s; /* when, in seconds from any fixed origin */
    double v;   /* the value, seconds of time lag */
};

struct trend {
    int made;          /* there were enough points (min_points, and two distinct times) */
    double slope;      /* Theil-Sen, value per second */
    double tau;        /* Kendall's tau-a, -1 to 1 */
    double projection; /* the last point's value + slope * horizon */
    int crossing;      /* made, slope > 0, tau >= PREDICT_MIN_TAU and projection > threshold */
};

/* The trend of p[0..n) (oldest first; at most PREDICT_MAX_POINTS are
 * read, the last ones), projected horizon_s after the last point and
 * compared with threshold. Fewer than min_points points: made = 0, and
 * nothing else is set but zeros. */
void predict_trend(const struct trend_point *p, size_t n, size_t min_points, double horizon_s, double threshold,
                   struct trend *out);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* test_predict.c -- the trend: Theil-Sen's slope against hand-computed medians, Kendall's tau, the projection. */
#include <math.h>

#include "predict.h"
#include "tap.h"

#define N(a) (sizeof a / sizeof a[0])

static int near(double a, double b) { return fabs(a - b) < 1e-9; }

int main(void)
{
    struct trend tr;
    /* a line: every pairwise slope is 2 */
    const struct trend_point line[] = { { 0, 10 }, { 60, 130 }, { 120, 250 }, { 180, 370 }, { 240, 490 } };
    predict_trend(line, N(line), 4, 100, 600, &tr);
    ok(tr.made && near(tr.slope, 2) && near(tr.tau, 1) && near(tr.projection, 690) && tr.crossing,
       "a line: slope 2, tau 1, 490 + 2 * 100 = 690 > 600 crosses");
    predict_trend(line, N(line), 4, 10, 600, &tr);
    ok(tr.made && !tr.crossing, "a shorter horizon does not reach the threshold (510)");

    /* one outlier of five: the median ignores it (slopes between the four
     * others are all 1; 10 pairs, 6 of them 1) */
    const struct trend_point outlier[] = { { 0, 0 }, { 1, 1 }, { 2, 100 }, { 3, 3 }, { 4, 4 } };
    predict_trend(outlier, N(outlier), 4, 0, 1000, &tr);
    ok(tr.made && near(tr.slope, 1), "an outlier does not move the slope (%g)", tr.slope);

    /* even number of pairs: the mean of the middle two. Points (0,0) (1,3)
     * (2,4) (3,9): slopes 3, 2, 3, 1, 3, 5 -> sorted 1 2 3 3 3 5 -> 3 */
    const struct trend_point even[] = { { 0, 0 }, { 1, 3 }, { 2, 4 }, { 3, 9 } };
    predict_trend(even, N(even), 4, 0, 1000, &tr);
    ok(tr.made && near(tr.slope, 3) && near(tr.tau, 1), "the median of six slopes, by hand: 3");

    /* a sawtooth: as many falling pairs as rising ones */
    const struct trend_point saw[] = { { 0, 0 }, { 1, 60 }, { 2, 120 }, { 3, 0 }, { 4, 60 }, { 5, 120 }, { 6, 0 },
                                       { 7, 60 } };
    predict_trend(saw, N(saw), 4, 300, 100, &tr);
    ok(tr.made && tr.tau < PREDICT_MIN_TAU && !tr.crossing, "a sawtooth is no trend (tau %.2f)", tr.tau);

    /* falling: never a crossing, whatever the level */
    const struct trend_point fall[] = { { 0, 900 }, { 1, 800 }, { 2, 700 }, { 3, 600 } };
    predict_trend(fall, N(fall), 4, 300, 100, &tr);
    ok(tr.made && tr.slope < 0 && near(tr.tau, -1) && !tr.crossing, "falling: no crossing");

    /* flat: ties are neither rising nor falling */
    const struct trend_point flat[] = { { 0, 0 }, { 1, 0 }, { 2, 0 }, { 3, 0 }, { 4, 0 } };
    predict_trend(flat, N(flat), 4, 300, 100, &tr);
    ok(tr.made && near(tr.slope, 0) && near(tr.tau, 0) && !tr.crossing, "flat zeros (an idle night): slope 0, tau 0");

    predict_trend(line, 3, 4, 100, 600, &tr);
    ok(!tr.made && !tr.crossing && tr.slope == 0, "fewer points than asked: no trend");
    const struct trend_point same_time[] = { { 5, 0 }, { 5, 10 }, { 5, 20 }, { 5, 30 } };
    predict_trend(same_time, N(same_time), 4, 100, 1, &tr);
    ok(!tr.made, "points at one time: no slope to take");

    /* at most PREDICT_MAX_POINTS, the last ones */
    struct trend_point many[PREDICT_MAX_POINTS + 20];
    for (int i = 0; i < (int)N(many); i++)
        many[i] = (struct trend_point){ i, i < 20 ? 1000.0 - i : (double)i };
    predict_trend(many, N(many), 4, 0, 1e9, &tr);
    ok(tr.made && near(tr.slope, 1) && near(tr.tau, 1), "only the last %d points count", PREDICT_MAX_POINTS);
    return tap_done();
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* predict.c -- Theil-Sen slope and Kendall's tau over the last checks' time lag, pure. */
#include "predict.h"

#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The median of the pairwise slopes, and Kendall's S over the pairs (the
 * pairs at the same time count in neither). Returns the number of pairs
 * with distinct times. */
static size_t pairwise(const struct trend_point *p, size_t n, double *slope, long *s)
{
    double slopes[PREDICT_MAX_POINTS * (PREDICT_MAX_POINTS - 1) / 2]; /* 14 KiB */
    size_t k = 0;

    *s = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            double dt = p[j].t_s - p[i].t_s, dv = p[j].v - p[i].v;
            if (dt <= 0)
                continue;
            slopes[k++] = dv / dt;
            *s += (dv > 0) - (dv < 0);
        }
    }
    if (k == 0)
        return 0;
    qsort(slopes, k, sizeof slopes[0], cmp_double);
    *slope = k % 2 ? slopes[k / 2] : (slopes[k / 2 - 1] + slopes[k / 2]) / 2;
    return k;
}

void predict_trend(const struct trend_point *p, size_t n, size_t min_points, double horizon_s, double threshold,
                   struct trend *out)
{
    size_t pairs;
    long s;

    memset(out, 0, sizeof *out);
    if (n > PREDICT_MAX_POINTS) {
        p += n - PREDICT_MAX_POINTS;
        n = PREDICT_MAX_POINTS;
    }
    if (n < min_points || n < 2 || (pairs = pairwise(p, n, &out->slope, &s)) == 0)
        return;
    out->made = 1;
    out->tau = (double)s / (double)pairs;
    out->projection = p[n - 1].v + out->slope * horizon_s;
    out->crossing = out->slope > 0 && out->tau >= PREDICT_MIN_TAU && out->projection > threshold;
}

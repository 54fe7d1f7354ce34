/* SPDX-License-Identifier: BSD-2-Clause */
/* admit.c -- the admission of a consumed message, as a pure function. */
#include "admit.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "lineproto.h"
#include "mark.h"
#include "window.h"

/* at most this much of an offending value is quoted in a reason */
#define ADMIT_QUOTE_MAX 80

static int quoted_len(size_t len) { return (int)(len > ADMIT_QUOTE_MAX ? ADMIT_QUOTE_MAX : len); }

int admit_message(const struct config *cfg, const struct admit_input *in, int64_t *t_ms, int64_t *window_ms,
                  char *why, size_t whysz)
{
    const struct decoded *d = in->d;
    const char *bad;

    if (in->len == 0)
        return snprintf(why, whysz, "empty message (no value)"), 0;
    if (in->decode_error)
        return snprintf(why, whysz, "%s", in->decode_error), 0;
    if (!d->has_id)
        return snprintf(why, whysz, "field \"%s\" (the id) is null", cfg->id_field), 0;
    if ((bad = lp_check(LP_TAG_VALUE, d->id, d->id_len)) != NULL)
        return snprintf(why, whysz, "id \"%.*s\" %s", quoted_len(d->id_len), d->id, bad), 0;
    if (!d->has_time)
        return snprintf(why, whysz, "field \"%s\" (the event time) is null", cfg->time_field), 0;
    if (window_parse_time(d->time, d->time_len, cfg->time_local, t_ms) != 0)
        return snprintf(why, whysz, "field \"%s\" is \"%.*s\", not \"YYYY-MM-DD HH:MM:SS.fff\"", cfg->time_field,
                        quoted_len(d->time_len), d->time), 0;
    for (size_t i = 0; i < cfg->nfields; i++)
        if (d->present[i] && !isfinite(d->values[i]))
            return snprintf(why, whysz, "field \"%s\" is %s", cfg->fields[i],
                            isnan(d->values[i]) ? "NaN" : "infinite"), 0;
    *window_ms = window_start(*t_ms, cfg->window_seconds * 1000);
    if (!window_storable(*window_ms))
        return snprintf(why, whysz, "field \"%s\" is \"%.*s\", outside what InfluxDB stores (1677-09-21 to 2262-04-11)",
                        cfg->time_field, quoted_len(d->time_len), d->time), 0;
    if (*t_ms > in->now_ms && *t_ms - in->now_ms > ADMIT_FUTURE_MS)
        return snprintf(why, whysz, "field \"%s\" is \"%.*s\", more than a day after the runner's clock: a device"
                        " clock gone wrong", cfg->time_field, quoted_len(d->time_len), d->time), 0;
    if (in->horizon_ms != MARK_NO_TIME && *window_ms <= in->horizon_ms)
        return snprintf(why, whysz, "its window (%" PRId64 " ms) is older than what the partition had processed when"
                        " its batch numbers last wrapped around: its point could replace another one", *window_ms), 0;
    return 1;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* level.c -- the runner's fallback level, as pure functions. */
#include "level.h"

#include <string.h>

int level_preserve_due(const struct level_input *in)
{
    return in->preserve_after_ms > 0 && in->failing_since_ms != LEVEL_NO_STREAK &&
           in->now_ms - in->failing_since_ms >= in->preserve_after_ms;
}

enum level level_at_start(const struct level_input *in)
{
    if (in->preserve_after_ms == 0)
        return LEVEL_NORMAL;
    return in->recorded == LEVEL_PRESERVE || level_preserve_due(in) ? LEVEL_PRESERVE : LEVEL_NORMAL;
}

const char *level_name(enum level l)
{
    return l == LEVEL_PRESERVE ? "preserve" : "normal";
}

int level_parse(const char *s, enum level *l)
{
    if (strcmp(s, "normal") == 0)
        *l = LEVEL_NORMAL;
    else if (strcmp(s, "preserve") == 0)
        *l = LEVEL_PRESERVE;
    else
        return -1;
    return 0;
}

/* mark.c -- parsing and formatting the runner's commit metadata. */
#include "mark.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARK_WRITING_TAG "spillway:writing"
#define MARK_DONE_TAG "spillway:done"

static const struct mark mark_unknown = { MARK_DONE, 0, -1, MARK_NO_TIME, MARK_NO_TIME };

/* "key=123" at s (len n) into *v when the key matches. Returns 1 when it did. */
static int mark_field(const char *s, size_t n, const char *key, int64_t *v)
{
    size_t klen = strlen(key);
    char num[32], *end;
    long long x;

    if (n <= klen + 1 || n - klen - 1 >= sizeof num || memcmp(s, key, klen) != 0 || s[klen] != '=')
        return 0;
    memcpy(num, s + klen + 1, n - klen - 1);
    num[n - klen - 1] = '\0';
    errno = 0;
    x = strtoll(num, &end, 10);
    if (errno || *end || end == num)
        return 0;
    *v = x;
    return 1;
}

void mark_parse(const void *metadata, size_t len, struct mark *m)
{
    const char *s = metadata, *p, *stop;
    size_t taglen;

    *m = mark_unknown;
    if (s == NULL || len == 0)
        return;
    if (len >= strlen(MARK_WRITING_TAG) && memcmp(s, MARK_WRITING_TAG, strlen(MARK_WRITING_TAG)) == 0) {
        m->kind = MARK_WRITING;
        taglen = strlen(MARK_WRITING_TAG);
    } else if (len >= strlen(MARK_DONE_TAG) && memcmp(s, MARK_DONE_TAG, strlen(MARK_DONE_TAG)) == 0) {
        taglen = strlen(MARK_DONE_TAG);
    } else {
        return;
    }
    if (len > taglen && s[taglen] != ' ') {
        *m = mark_unknown; /* "spillway:writingX": not ours */
        return;
    }
    stop = s + len;
    for (p = s + taglen; p < stop;) {
        const char *e;
        while (p < stop && *p == ' ')
            p++;
        for (e = p; e < stop && *e != ' '; e++)
            ;
        if (e > p && !mark_field(p, (size_t)(e - p), "seq", &m->seq) && !mark_field(p, (size_t)(e - p), "end", &m->end) &&
            !mark_field(p, (size_t)(e - p), "hw", &m->hw))
            mark_field(p, (size_t)(e - p), "hwb", &m->hwb);
        p = e;
    }
    if (m->seq < 0)
        m->seq = 0;
}

size_t mark_format(const struct mark *m, char *out, size_t outsz)
{
    int n;

    if (m->kind == MARK_WRITING)
        n = snprintf(out, outsz, MARK_WRITING_TAG " seq=%" PRId64, m->seq);
    else
        n = snprintf(out, outsz, MARK_DONE_TAG " seq=%" PRId64, m->seq);
    if (m->kind == MARK_WRITING && m->end >= 0)
        n += snprintf(out + n, outsz - (size_t)n, " end=%" PRId64, m->end);
    if (m->hw != MARK_NO_TIME)
        n += snprintf(out + n, outsz - (size_t)n, " hw=%" PRId64, m->hw);
    if (m->hwb != MARK_NO_TIME)
        n += snprintf(out + n, outsz - (size_t)n, " hwb=%" PRId64, m->hwb);
    return (size_t)n;
}

struct mark mark_next_batch(const struct mark *committed)
{
    struct mark m = *committed;

    if (committed->kind == MARK_WRITING)
        return m; /* the unfinished batch again: same number, same end */
    m.kind = MARK_WRITING;
    m.seq = committed->seq + 1;
    m.end = -1;
    if (m.seq / MARK_SEQ_BLOCK > committed->seq / MARK_SEQ_BLOCK)
        m.hwb = committed->hw;
    return m;
}

struct mark mark_finished(const struct mark *writing, int64_t latest_event_ms)
{
    struct mark m = *writing;

    m.kind = MARK_DONE;
    m.end = -1;
    if (latest_event_ms != MARK_NO_TIME && (m.hw == MARK_NO_TIME || latest_event_ms > m.hw))
        m.hw = latest_event_ms;
    return m;
}

int64_t mark_collision_horizon(const struct mark *writing)
{
    if (writing->seq < MARK_SEQ_BLOCK)
        return MARK_NO_TIME;
    /* every earlier batch with the same discriminator ran before this block
     * began, when no message read had an event time after hwb; unknown hwb
     * in a later block means none of them read a message at all */
    return writing->hwb;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* mark.c -- parsing and formatting the runner's commit metadata. */
#include "mark.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARK_WRITING_TAG "spillway:writing"
#define MARK_DONE_TAG "spillway:done"

static const struct mark mark_unknown = { MARK_DONE, 0, -1, MARK_NO_TIME, MARK_NO_TIME, MARK_NO_TIME, 0, { 0 } };

/* The number at s (n bytes, base 10 or 16) into *v. Returns 0, or -1 when
 * it is not one number. */
static int mark_number(const char *s, size_t n, int base, int64_t *v)
{
    char num[32], *end;
    long long x;

    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, s, n);
    num[n] = '\0';
    errno = 0;
    x = strtoll(num, &end, base);
    if (errno || *end || end == num)
        return -1;
    *v = x;
    return 0;
}

/* "fin=a1b2c3d4,0f00ba44,..." (the value part) into m. */
static int mark_fin(const char *s, size_t n, struct mark *m)
{
    const char *p = s, *stop = s + n;

    m->nfin = 0;
    while (p < stop) {
        const char *e = memchr(p, ',', (size_t)(stop - p));
        int64_t t;
        if (e == NULL)
            e = stop;
        if (m->nfin == MARK_FIN_MAX || e - p != 8 || mark_number(p, (size_t)(e - p), 16, &t) != 0)
            return -1;
        m->fin[m->nfin++] = (uint32_t)t;
        p = e + (e < stop);
    }
    return 0;
}

/* One "key=value" word of a mark into m. Returns 0, 1 for a word that is not
 * one of ours (ignored), or -1 for one of ours out of its range. */
static int mark_word(const char *s, size_t n, struct mark *m)
{
    static const struct {
        const char *key;
        size_t off;
        int64_t min, max;
    } keys[] = {
        { "seq", offsetof(struct mark, seq), 0, MARK_SEQ_MAX },
        { "end", offsetof(struct mark, end), 0, MARK_OFFSET_MAX },
        { "hw", offsetof(struct mark, hw), -MARK_TIME_ABS_MAX, MARK_TIME_ABS_MAX },
        { "hwb", offsetof(struct mark, hwb), -MARK_TIME_ABS_MAX, MARK_TIME_ABS_MAX },
        { "pend", offsetof(struct mark, pend), -MARK_TIME_ABS_MAX, MARK_TIME_ABS_MAX },
    };
    const char *eq = memchr(s, '=', n);
    size_t klen = eq ? (size_t)(eq - s) : n, vlen = eq ? n - klen - 1 : 0;
    int64_t v;

    if (eq == NULL)
        return 1;
    if (klen == 3 && memcmp(s, "fin", 3) == 0)
        return mark_fin(eq + 1, vlen, m);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strlen(keys[i].key) != klen || memcmp(s, keys[i].key, klen) != 0)
            continue;
        if (mark_number(eq + 1, vlen, 10, &v) != 0 || v < keys[i].min || v > keys[i].max)
            return -1;
        *(int64_t *)((char *)m + keys[i].off) = v;
        return 0;
    }
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
        /* a field of ours out of its range (seq near int64's end, say): the
         * whole mark is foreign rather than half-believed */
        if (e > p && mark_word(p, (size_t)(e - p), m) < 0) {
            *m = mark_unknown;
            return;
        }
        p = e;
    }
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
    if (m->pend != MARK_NO_TIME)
        n += snprintf(out + n, outsz - (size_t)n, " pend=%" PRId64, m->pend);
    for (int i = 0; i < m->nfin && i < MARK_FIN_MAX; i++)
        n += snprintf(out + n, outsz - (size_t)n, "%s%08" PRIx32, i == 0 ? " fin=" : ",", m->fin[i]);
    return (size_t)n;
}

int mark_wrote(const struct mark *m)
{
    return m->kind == MARK_WRITING && m->end >= 0;
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

struct mark mark_finished(const struct mark *writing, int64_t latest_event_ms, uint32_t token, int64_t pend)
{
    struct mark m = *writing;

    m.kind = MARK_DONE;
    m.end = -1;
    m.pend = pend;
    if (latest_event_ms != MARK_NO_TIME && (m.hw == MARK_NO_TIME || latest_event_ms > m.hw))
        m.hw = latest_event_ms;
    m.nfin = writing->nfin < MARK_FIN_MAX ? writing->nfin + 1 : MARK_FIN_MAX;
    memmove(&m.fin[1], &writing->fin[0], (size_t)(m.nfin - 1) * sizeof m.fin[0]);
    m.fin[0] = token;
    return m;
}

int64_t mark_last_finished(const struct mark *m)
{
    return m->kind == MARK_DONE ? m->seq : m->seq - 1;
}

uint32_t mark_finisher(const struct mark *m, int64_t seq)
{
    int64_t back = mark_last_finished(m) - seq;

    return back >= 0 && back < m->nfin ? m->fin[back] : 0;
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

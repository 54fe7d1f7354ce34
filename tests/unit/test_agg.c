/* SPDX-License-Identifier: BSD-2-Clause */
/* test_agg.c -- the aggregation table: one aggregate per (id, window,
 * partition), sums and counts per field over the values present, the live
 * bound, dropped partitions, and agreement with a naive recount over many
 * keys (through the table's growth). */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "agg.h"
#include "tap.h"

static const struct agg_entry *find(const struct agg *a, const char *id, size_t id_len, int64_t window_ms,
                                    int32_t partition)
{
    for (size_t i = 0; i < a->count; i++) {
        const struct agg_entry *e = &a->entries[i];
        if (e->state != AGG_DROPPED && e->id_len == id_len && memcmp(e->id, id, id_len) == 0 &&
            e->window_ms == window_ms && e->partition == partition)
            return e;
    }
    return NULL;
}

static void folding(void)
{
    struct agg a;
    double v[2];
    unsigned char p[2] = { 1, 1 };
    int has;

    agg_init(&a, 2);
    v[0] = 1, v[1] = 10;
    is_int(agg_add(&a, "n1", 2, 0, 0, 100, v, p, 0), AGG_ADDED, "a first message makes an aggregate");
    v[0] = 3, v[1] = 30;
    p[1] = 0; /* a null second field */
    is_int(agg_add(&a, "n1", 2, 0, 0, 105, v, p, 0), AGG_ADDED, "a second message of the same key folds in");
    is_int(a.count, 1, "one key, one aggregate");
    const struct agg_entry *e = &a.entries[0];
    is_int(e->count, 2, "it counts both messages");
    is_int(e->first_offset, 100, "the first offset stays the first message's");
    is_int(e->last_offset, 105, "the last offset follows");
    ok(agg_mean(e, 0, &has) == 2.0 && has, "the mean of a field present twice is over both");
    ok(agg_mean(e, 1, &has) == 10.0 && has, "a null value is not a zero: the mean is over the values present");
    is_int(e->n[1], 1, "and the field counts only its present values");

    p[0] = 0;
    agg_add(&a, "n2", 2, 0, 0, 106, v, p, 0);
    ok(agg_mean(find(&a, "n2", 2, 0, 0), 0, &has) == 0.0 && !has, "a field never present has no mean");

    /* the key is all three parts; ids are bytes, not C strings */
    p[0] = p[1] = 1;
    agg_add(&a, "n1", 2, 60000, 0, 107, v, p, 0);
    agg_add(&a, "n1", 2, 0, 1, 108, v, p, 0);
    agg_add(&a, "n1\0x", 4, 0, 0, 109, v, p, 0);
    agg_add(&a, "n", 1, 0, 0, 110, v, p, 0);
    is_int(a.count, 6, "another window, partition, a longer id holding NUL, a prefix: six aggregates");
    ok(find(&a, "n1\0x", 4, 0, 0) != NULL && find(&a, "n1\0x", 4, 0, 0)->count == 1,
       "an id with a NUL inside is its own key");
    is_int(find(&a, "n1", 2, 0, 0)->count, 2, "and n1's first aggregate is unchanged");
    agg_free(&a);
}

static void extremes(void)
{
    struct agg a;
    double v[1] = { DBL_MAX };
    unsigned char p[1] = { 1 };
    int has;

    agg_init(&a, 1);
    agg_add(&a, "x", 1, 0, 0, 0, v, p, 0);
    agg_add(&a, "x", 1, 0, 0, 1, v, p, 0);
    ok(isinf(agg_mean(&a.entries[0], 0, &has)) && has, "two DBL_MAX values: the mean is infinite, as documented");
    agg_free(&a);
}

static void bound_and_drop(void)
{
    struct agg a;
    double v[1] = { 1 };
    unsigned char p[1] = { 1 };
    char id[16];

    agg_init(&a, 1);
    for (int i = 0; i < 3; i++) {
        int n = snprintf(id, sizeof id, "id%d", i);
        agg_add(&a, id, (size_t)n, 0, i % 2, i, v, p, 3);
    }
    is_int(agg_add(&a, "new", 3, 0, 0, 10, v, p, 3), AGG_FULL, "at the bound a new key is refused");
    is_int(agg_add(&a, "id0", 3, 0, 0, 11, v, p, 3), AGG_ADDED, "an existing key still folds in");
    is_int(a.count, 3, "the refused key made no aggregate");

    is_int(agg_drop_partition(&a, 0), 3, "dropping partition 0 returns the messages it held (id0 x2, id2)");
    is_int(a.live, 1, "one aggregate stays live");
    is_int(agg_drop_partition(&a, 0), 0, "dropping it again drops nothing");
    is_int(agg_add(&a, "id0", 3, 0, 0, 12, v, p, 3), AGG_ADDED, "a later message of the lost partition folds in");
    const struct agg_entry *e = find(&a, "id0", 3, 0, 0);
    ok(e != NULL && e->count == 1 && e->first_offset == 12, "into a new aggregate, not the dropped one");
    is_int(a.entries[0].state, AGG_DROPPED, "the dropped one stays dropped");
    is_int(agg_add(&a, "new", 3, 0, 1, 13, v, p, 3), AGG_ADDED, "dropped aggregates free the bound");
    is_int(a.live, 3, "live counts the aggregates not dropped");
    agg_free(&a);
}

/* Many keys, many messages, in a pseudo-random order: every sum and count
 * equals a recount by brute force. */
static void against_recount(void)
{
    enum { KEYS = 5000, MESSAGES = 60000 };
    struct agg a;
    static double sum[KEYS];
    static int64_t count[KEYS], first[KEYS];
    uint64_t x = 88172645463325252ULL;
    char id[32];
    size_t bad = 0;

    agg_init(&a, 1);
    for (int64_t off = 0; off < MESSAGES; off++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int k = (int)(x % KEYS);
        double v[1] = { (double)(x >> 40) / 1024.0 };
        unsigned char p[1] = { 1 };
        int n = snprintf(id, sizeof id, "nurse-%d", k / 4);
        if (agg_add(&a, id, (size_t)n, (int64_t)(k % 2) * 60000, (k / 2) % 2, off, v, p, 0) != AGG_ADDED)
            bad++;
        if (count[k]++ == 0)
            first[k] = off;
        sum[k] += v[0];
    }
    is_int(bad, 0, "every message folds in");
    size_t keys = 0;
    for (int k = 0; k < KEYS; k++)
        keys += count[k] > 0;
    is_int(a.count, keys, "one aggregate per key seen (%zu)", keys);
    bad = 0;
    for (int k = 0; k < KEYS; k++) {
        if (count[k] == 0)
            continue;
        int n = snprintf(id, sizeof id, "nurse-%d", k / 4);
        const struct agg_entry *e = find(&a, id, (size_t)n, (int64_t)(k % 2) * 60000, (k / 2) % 2);
        if (e == NULL || e->count != count[k] || e->sum[0] != sum[k] || e->first_offset != first[k])
            bad++;
    }
    is_int(bad, 0, "every aggregate's count, sum and first offset equal the recount");
    agg_free(&a);
}

int main(void)
{
    folding();
    extremes();
    bound_and_drop();
    against_recount();
    return tap_done();
}

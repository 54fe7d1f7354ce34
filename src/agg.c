/* SPDX-License-Identifier: BSD-2-Clause */
/* agg.c -- a hash table of running sums keyed by (id, window, partition). */
#include "agg.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void agg_init(struct agg *a, size_t nfields)
{
    memset(a, 0, sizeof *a);
    a->nfields = nfields;
}

static uint64_t agg_hash(const char *id, size_t id_len, int64_t window_ms, int32_t partition)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */

    for (size_t i = 0; i < id_len; i++)
        h = (h ^ (unsigned char)id[i]) * 1099511628211ULL;
    h = (h ^ (uint64_t)window_ms) * 1099511628211ULL;
    h = (h ^ (uint64_t)(uint32_t)partition) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static int agg_rehash(struct agg *a, size_t nslots)
{
    uint32_t *slots = calloc(nslots, sizeof *slots);

    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < a->count; i++) {
        struct agg_entry *e = &a->entries[i];
        size_t s = agg_hash(e->id, e->id_len, e->window_ms, e->partition) & (nslots - 1);
        while (slots[s])
            s = (s + 1) & (nslots - 1);
        slots[s] = (uint32_t)(i + 1);
    }
    free(a->slots);
    a->slots = slots;
    a->nslots = nslots;
    return 0;
}

enum agg_added agg_add(struct agg *a, const char *id, size_t id_len, int64_t window_ms, int32_t partition,
                       int64_t offset, const double *values, const unsigned char *present, size_t max)
{
    struct agg_entry *e = NULL;
    size_t s;

    if (a->nslots == 0 && agg_rehash(a, 64) != 0)
        return AGG_NOMEM;
    s = agg_hash(id, id_len, window_ms, partition) & (a->nslots - 1);
    for (; a->slots[s]; s = (s + 1) & (a->nslots - 1)) {
        struct agg_entry *c = &a->entries[a->slots[s] - 1];
        if (c->window_ms == window_ms && c->partition == partition && c->state != AGG_DROPPED && c->id_len == id_len &&
            memcmp(c->id, id, id_len) == 0) {
            e = c;
            break;
        }
    }
    if (e == NULL) {
        if (max > 0 && a->live >= max)
            return AGG_FULL;
        /* keep the load factor under 1/2 so probes stay short */
        if ((a->count + 1) * 2 > a->nslots) {
            if (agg_rehash(a, a->nslots * 2) != 0)
                return AGG_NOMEM;
            return agg_add(a, id, id_len, window_ms, partition, offset, values, present, max);
        }
        if (a->count == a->cap) {
            struct agg_entry *p = array_grow(a->entries, &a->cap, sizeof *p, 64);
            if (p == NULL)
                return AGG_NOMEM;
            a->entries = p;
        }
        e = &a->entries[a->count];
        memset(e, 0, sizeof *e);
        e->id = malloc(id_len + 1);
        if (e->id == NULL)
            return AGG_NOMEM;
        memcpy(e->id, id, id_len);
        e->id[id_len] = '\0';
        e->id_len = id_len;
        e->window_ms = window_ms;
        e->partition = partition;
        e->first_offset = offset;
        a->slots[s] = (uint32_t)(++a->count);
        a->live++;
    }
    e->last_offset = offset;
    e->count++;
    for (size_t i = 0; i < a->nfields; i++) {
        if (present[i]) {
            e->sum[i] += values[i];
            e->n[i]++;
        }
    }
    return AGG_ADDED;
}

int64_t agg_drop_partition(struct agg *a, int32_t partition)
{
    int64_t messages = 0;

    for (size_t i = 0; i < a->count; i++) {
        struct agg_entry *e = &a->entries[i];
        if (e->partition != partition || e->state == AGG_DROPPED)
            continue;
        messages += e->count;
        e->state = AGG_DROPPED;
        a->live--;
    }
    return messages;
}

double agg_mean(const struct agg_entry *e, size_t i, int *has)
{
    *has = e->n[i] > 0;
    return *has ? e->sum[i] / (double)e->n[i] : 0.0;
}

void agg_free(struct agg *a)
{
    for (size_t i = 0; i < a->count; i++) {
        free(a->entries[i].id);
        free(a->entries[i].reason);
    }
    free(a->entries);
    free(a->slots);
    memset(a, 0, sizeof *a);
}

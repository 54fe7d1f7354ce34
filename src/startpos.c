/* SPDX-License-Identifier: BSD-2-Clause */
/* startpos.c -- the start-offset policy of a partition, as a pure function. */
#include "startpos.h"

static struct start_decision first_activation(const struct start_input *in)
{
    struct start_decision d = { .offset = in->low, .reason = START_FIRST_EARLIEST };

    switch (in->start_from) {
    case START_EARLIEST:
        break;
    case START_LATEST:
        d.offset = in->high;
        d.reason = START_FIRST_LATEST;
        break;
    case START_PRIMARY:
        if (in->primary >= 0) {
            d.offset = in->primary;
            d.reason = START_FIRST_PRIMARY;
        } else {
            d.reason = START_FIRST_NO_PRIMARY;
        }
        break;
    }
    return d;
}

struct start_decision startpos_decide(const struct start_input *in)
{
    struct start_decision d;
    int64_t chosen;

    if (in->own < 0) {
        d = first_activation(in);
    } else if (in->own_dirty) {
        d.offset = in->own;
        d.reason = in->primary > in->own ? START_DIRTY_RETRY : START_OWN;
    } else if (in->primary > in->own) {
        d.offset = in->primary;
        d.reason = START_SKIP_TO_PRIMARY;
    } else {
        d.offset = in->own;
        d.reason = START_OWN;
    }
    chosen = d.offset;
    if (d.offset < in->low) {
        d.offset = in->low;
        d.reason = START_BELOW_LOW;
    } else if (d.offset > in->high) {
        d.offset = in->high;
        d.reason = START_ABOVE_HIGH;
    }
    /* what lies between where we would have gone on and where we start */
    if (in->own >= 0)
        d.skipped = d.offset > in->own ? d.offset - in->own : 0;
    else
        d.skipped = d.offset > chosen ? d.offset - chosen : 0;
    return d;
}

const char *start_reason_text(enum start_reason r)
{
    switch (r) {
    case START_OWN: return "the group's committed offset";
    case START_SKIP_TO_PRIMARY: return "the primary group's committed offset, which is ahead of ours";
    case START_DIRTY_RETRY: return "the group's committed offset, to rewrite an unfinished run's points (the primary is ahead)";
    case START_FIRST_PRIMARY: return "first activation, the primary group's committed offset";
    case START_FIRST_NO_PRIMARY: return "first activation, the earliest offset (the primary group has committed none)";
    case START_FIRST_EARLIEST: return "first activation, the earliest offset";
    case START_FIRST_LATEST: return "first activation, the latest offset";
    case START_BELOW_LOW: return "the earliest offset still kept (retention deleted the ones before)";
    case START_ABOVE_HIGH: return "the end of the partition (the committed offset is past it: the log was truncated)";
    }
    return "?";
}

int start_reason_warns(enum start_reason r)
{
    return r == START_FIRST_NO_PRIMARY || r == START_BELOW_LOW || r == START_ABOVE_HIGH;
}

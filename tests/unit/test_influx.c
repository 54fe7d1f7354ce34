/* SPDX-License-Identifier: BSD-2-Clause */
/* test_influx.c -- where a body InfluxDB found too large (413) is cut in two. */
#include <string.h>

#include "influx.h"
#include "tap.h"

static size_t split(const char *s) { return influx_split_point(s, strlen(s)); }

int main(void)
{
    is_int(split("a\nb\n"), 2, "two short lines: after the first");
    is_int(split("aaaaaaaaaa\nb\n"), 11, "a long first line: after it");
    is_int(split("a\nbbbbbbbbbbbbbbbbbbbb\n"), 2, "a long last line: after the first (looking after the middle only found none)");
    is_int(split("aaaa\nbbbb\ncccc\ndddd\n"), 10, "four equal lines: in the middle");
    is_int(split("only one line\n"), 14, "one line: no cut (its length)");
    is_int(split(""), 0, "empty: no cut");
    const char *body = "x\nyyyyyyyy\nz\n";
    size_t at = split(body);
    ok(at > 0 && at < strlen(body) && body[at - 1] == '\n', "the cut is always just after a line end, inside the body");
    return tap_done();
}

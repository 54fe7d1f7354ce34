/* SPDX-License-Identifier: BSD-2-Clause */
/* test_sink.c -- the write path against a model sink: bisection down to the refused points, a refusal of everything
 * told apart from verdicts, retention's verdicts, tombstones, the fence. */
#include <stdlib.h>
#include <string.h>

#include "sink.h"
#include "tap.h"

/* The model: a line whose id is in `refuse` is refused with `message`
 * (dropped=N counts them, as InfluxDB's partial write does); every request
 * is refused whole when `all`; the fence says "lost" for partition `lost`
 * from request `lose_at` on. */
struct model {
    const char *refuse;
    const char *message;
    int all, lost, lose_at, requests, refused_calls;
    size_t refused_lines[64];
    int dropped_style; /* 1: "... dropped=N" */
};

static enum sink_answer post(void *arg, const char *body, size_t len, char *why, size_t whysz)
{
    struct model *m = arg;
    int dropped = 0, lines = 0;

    m->requests++;
    for (const char *p = body; p < body + len;) {
        const char *nl = memchr(p, '\n', (size_t)(body + len - p));
        char id[32], needle[40];
        lines++;
        if (sscanf(p, "m,id=%31[^,]", id) == 1 && m->refuse && snprintf(needle, sizeof needle, ",%s,", id) > 0 &&
            strstr(m->refuse, needle))
            dropped++;
        p = nl ? nl + 1 : body + len;
    }
    if (m->all)
        dropped = lines;
    if (dropped == 0)
        return SINK_ACCEPTED;
    if (m->dropped_style)
        snprintf(why, whysz, "partial write: %s dropped=%d", m->message, dropped);
    else
        snprintf(why, whysz, "%s", m->message);
    return SINK_REFUSED;
}

static int fence(void *arg, const struct sink_chunk *ch, size_t lo, size_t hi, char *why, size_t whysz)
{
    struct model *m = arg;

    (void)why, (void)whysz;
    if (m->lose_at && m->requests + 1 >= m->lose_at)
        for (size_t i = lo; i < hi; i++)
            if (ch->at[i].partition == m->lost)
                return 1;
    return 0;
}

static int refused(void *arg, const struct sink_chunk *ch, size_t i, const char *why)
{
    struct model *m = arg;

    (void)ch, (void)why;
    m->refused_lines[m->refused_calls++] = i;
    return 0;
}

/* n points "m,id=pI,source=s count=1i T" of partition I % 2; tombstones
 * where tomb[i]. */
static void chunk(struct sink_chunk *ch, int n, const char *tomb)
{
    struct config cfg;
    char err[256];
    struct buf why = { 0 };

    config_load_string(&cfg, "[influxdb]\nmeasurement = m\nsource_tag = s\n[avro]\nfields = X\n", "t.ini", err,
                       sizeof err);
    sink_chunk_reset(ch);
    for (int i = 0; i < n; i++) {
        char id[16];
        struct agg_entry e = { .id = id, .window_ms = 1000, .partition = i % 2, .count = 3, .prediction = 1 };
        double v = 2.0;
        e.id_len = (size_t)snprintf(id, sizeof id, "p%d", i);
        e.sum[0] = v, e.n[0] = 1;
        sink_append_point(ch, &cfg, &e, (size_t)i, 1000000000LL + i,
                          tomb && tomb[i] == 't' ? SINK_POINT_TOMBSTONE
                          : tomb && tomb[i] == 'u' ? SINK_POINT_UNPREDICTED
                          : tomb && tomb[i] == 'p' ? SINK_POINT_PREDICTION : SINK_POINT, 12, &why);
    }
    buf_free(&why);
    config_free(&cfg);
}

int main(void)
{
    struct sink_chunk ch = { 0 };
    char why[1024];
    int64_t written = 0, requests = 0;

    chunk(&ch, 3, NULL);
    is_str(ch.lines.data, "m,id=p0,source=s X=2.0,stress_level=1i,count=3i 1000000000\n"
                          "m,id=p1,source=s X=2.0,stress_level=1i,count=3i 1000000001\n"
                          "m,id=p2,source=s X=2.0,stress_level=1i,count=3i 1000000002\n",
           "a chunk's line protocol");
    chunk(&ch, 2, "t.");
    is_str(ch.lines.data, "m,id=p0,source=s count=0i 1000000000\nm,id=p1,source=s X=2.0,stress_level=1i,count=3i 1000000001\n",
           "a tombstone carries only count=0 at the same series and time");
    chunk(&ch, 2, "up");
    is_str(ch.lines.data, "m,id=p0,source=s X=2.0,count=3i 1000000000\nm,id=p1,source=s stress_level=1i 1000000001\n",
           "the preserve level's point has no stress_level; a backfill line has only that");
    ok(ch.at[0].overlay == 0 && ch.at[1].overlay == 1, "only the first counts as a point written");

    struct model m = { 0 };
    struct sink_ops ops = { post, fence, refused, &m };
    chunk(&ch, 16, NULL);
    is_int(sink_write(&ops, &ch, &written, &requests, why, sizeof why), SINK_WRITTEN, "all accepted");
    ok(written == 16 && requests == 1 && m.refused_calls == 0, "16 points in one request");

    m = (struct model){ .refuse = ",p5,p11,", .message = "points beyond retention policy", .dropped_style = 1 };
    written = requests = 0;
    is_int(sink_write(&ops, &ch, &written, &requests, why, sizeof why), SINK_WRITTEN, "two points refused");
    ok(m.refused_calls == 2 && m.refused_lines[0] == 5 && m.refused_lines[1] == 11, "exactly those are handed over");
    is_int(written, 14, "the other 14 written");

    /* audit #9: a refusal not about the point itself is the sink failing */
    m = (struct model){ .all = 1, .message = "bad request" };
    written = requests = 0;
    is_int(sink_write(&ops, &ch, &written, &requests, why, sizeof why), SINK_FAILED,
           "every point refused, not for retention: a failure");
    ok(m.refused_calls == 0 && strstr(why, "not about the point itself"), "nothing quarantined: %s", why);
    m = (struct model){ .all = 1, .message = "field type conflict: input field \"count\" is type float",
                        .dropped_style = 1 };
    is_int(sink_write(&ops, &ch, &written, &requests, why, sizeof why), SINK_FAILED,
           "a field type conflict on every point: a failure");
    is_int(m.requests, 1, "and dropped=N for all N needs no bisection");
    /* audit #4: bisection in few requests when a whole chunk is beyond retention */
    m = (struct model){ .all = 1, .message = "points beyond retention policy", .dropped_style = 1 };
    written = requests = 0;
    is_int(sink_write(&ops, &ch, &written, &requests, why, sizeof why), SINK_WRITTEN,
           "every point beyond retention: verdicts on each (their times), not a failure");
    ok(m.refused_calls == 16 && requests == 1, "all 16 handed over after one request (%lld)", (long long)requests);
    m = (struct model){ .refuse = ",p3,", .message = "points beyond retention policy" };
    written = requests = 0;
    is_int(sink_write(&ops, &ch, &written, &requests, why, sizeof why), SINK_WRITTEN, "no dropped=N: bisected");
    ok(m.refused_calls == 1 && m.refused_lines[0] == 3 && requests <= 2 * 4 + 1, "to the one point in %lld requests",
       (long long)requests);
    m = (struct model){ .refuse = ",p3,", .message = "unable to parse 'x'" };
    is_int(sink_write(&ops, &ch, &written, &requests, why, sizeof why), SINK_FAILED,
           "one point refused for another reason: a failure, not a verdict (a database state, or spillway's bug)");
    is_int(m.refused_calls, 0, "nothing quarantined");

    chunk(&ch, 1, NULL);
    m = (struct model){ .all = 1, .message = "points beyond retention policy" };
    is_int(sink_write(&ops, &ch, &written, &requests, why, sizeof why), SINK_WRITTEN,
           "a lone point beyond retention: a verdict");

    chunk(&ch, 4, "t...");
    m = (struct model){ .refuse = ",p0,", .message = "points beyond retention policy", .dropped_style = 1 };
    written = requests = 0;
    is_int(sink_write(&ops, &ch, &written, &requests, why, sizeof why), SINK_WRITTEN,
           "a tombstone refused for retention is moot");
    ok(m.refused_calls == 0 && written == 3, "nothing quarantined for it; 3 points written");
    m = (struct model){ .refuse = ",p0,", .message = "something else" };
    is_int(sink_write(&ops, &ch, &written, &requests, why, sizeof why), SINK_FAILED,
           "a tombstone refused otherwise fails the write (the stale point would stay)");

    chunk(&ch, 8, NULL);
    m = (struct model){ .lost = 1, .lose_at = 1 };
    is_int(sink_write(&ops, &ch, &written, &requests, why, sizeof why), SINK_REBUILD,
           "a partition lost before a request: rebuild, nothing sent");
    is_int(m.requests, 0, "no request went out");
    m = (struct model){ .refuse = ",p2,", .message = "unable to parse", .lost = 1, .lose_at = 2 };
    is_int(sink_write(&ops, &ch, &written, &requests, why, sizeof why), SINK_REBUILD,
           "lost during a bisection: the next request is fenced too");
    is_int(m.requests, 1, "after the first request, none");

    const char *same[] = { "a dropped=1", "a dropped=3", "a dropped=7" };
    const char *differ[] = { "unable to parse 'p1'", "unable to parse 'p2'" };
    ok(sink_refusals_systemic(same, 3, 3), "messages equal but for dropped=N are the same");
    ok(!sink_refusals_systemic(same, 2, 3), "not all refused: verdicts");
    ok(!sink_refusals_systemic(differ, 2, 2), "messages naming each point: verdicts");
    ok(!sink_refusals_systemic(same, 1, 1), "one item: a verdict");
    const char *ret[] = { "beyond retention", "beyond retention" };
    ok(sink_refusals_systemic(ret, 2, 2), "the ML rule knows no exemption");
    sink_chunk_free(&ch);
    return tap_done();
}

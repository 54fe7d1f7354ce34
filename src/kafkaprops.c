/* SPDX-License-Identifier: BSD-2-Clause */
/* kafkaprops.c -- the librdkafka properties spillway sets itself: its
 * defaults, the prefetch bounds, the fixed ones. */
#include "kafkaprops.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* spillway's defaults: a [kafka] key of the same name wins */
static const char *const defaults[][2] = {
    { "client.id", "spillway" },
    /* A runner polls without pause from its join to its exit, so a short
     * session costs nothing, and it bounds what a killed runner costs the
     * next one: the group waits for a dead member only this long. 6 s is
     * the broker's default group.min.session.timeout.ms. */
    { "session.timeout.ms", "6000" },
    { "heartbeat.interval.ms", "2000" },
    /* a one-shot run wants the end of the partitions quickly */
    { "fetch.wait.max.ms", "100" },
    /* librdkafka resets a committed offset that is out of range; the
     * runner itself checks offsets against the watermarks first
     * (startpos.c), so this only covers a deletion in between */
    { "auto.offset.reset", "earliest" },
    { "log.connection.close", "false" },
    /* a one-shot process sends a few small requests back to back
     * (metadata, coordinator, offsets): with Nagle's algorithm the
     * last waits for the broker's delayed ACK, 40 ms (measured: a
     * check's p90 60 ms with it, 17 ms without) */
    { "socket.nagle.disable", "true" },
};
/* what commit-after-write and the end of a batch rest on */
static const char *const fixed[][2] = {
    { "enable.auto.commit", "false" },
    { "enable.auto.offset.store", "false" },
    { "enable.partition.eof", "true" },
};

/* The prefetch: what librdkafka fetches ahead of the runner. In 2.0 every
 * partition's fetch queue forwards to the one consumer queue, and the
 * fetchers compare that queue's length with queued.min.messages and its
 * payload with queued.max.messages.kbytes: the bounds are on the total, so
 * they need not grow with the partitions (and the partition count is known
 * only from the handle these settings make). A queued message costs about
 * 0.45 KiB of librdkafka's structures besides its payload, so the count is
 * what bounds memory for small messages: at most one batch (a run reads no
 * further), and no more than KAFKA_PREFETCH_MESSAGES. A fetch answer is
 * added to the queue whole, so it is a quarter of the payload bound: the
 * next answer is on its way while the runner takes the last. At a bound the
 * fetchers stop until woken (consumer.c wakes them when the queue runs
 * empty), so lower bounds cost little: on record batches of 10,000 messages
 * 50,000 and 4 MiB drained as fast as 100,000 and 8 MiB, in 35-39 MiB
 * rather than 40-69 MiB (bench/drain.sh, the fast shape). */
#define KAFKA_PREFETCH_MESSAGES 50000
#define KAFKA_FETCH_BYTES (1024 * 1024) /* librdkafka's least: message.max.bytes */
#define KAFKA_PREFETCH_FETCHES 4

static int each_row(const char *const rows[][2], size_t n, int fixed_rows,
                    int (*fn)(const char *key, const char *value, int fixed, void *arg), void *arg)
{
    int rc;

    for (size_t i = 0; i < n; i++)
        if ((rc = fn(rows[i][0], rows[i][1], fixed_rows, arg)) != 0)
            return rc;
    return 0;
}

int kafkaprops_each(int64_t max_batch_size, int (*fn)(const char *key, const char *value, int fixed, void *arg),
                    void *arg)
{
    int64_t n = max_batch_size < KAFKA_PREFETCH_MESSAGES ? max_batch_size : KAFKA_PREFETCH_MESSAGES;
    char messages[24], kbytes[24], fetch_bytes[24];
    const char *const prefetch[][2] = {
        { "queued.min.messages", messages },
        { "queued.max.messages.kbytes", kbytes },
        { "fetch.max.bytes", fetch_bytes },
    };
    int rc;

    snprintf(messages, sizeof messages, "%" PRId64, n > 0 ? n : 1);
    snprintf(kbytes, sizeof kbytes, "%d", KAFKA_PREFETCH_FETCHES * KAFKA_FETCH_BYTES / 1024);
    snprintf(fetch_bytes, sizeof fetch_bytes, "%d", KAFKA_FETCH_BYTES);
    if ((rc = each_row(defaults, sizeof defaults / sizeof defaults[0], 0, fn, arg)) != 0 ||
        (rc = each_row(prefetch, sizeof prefetch / sizeof prefetch[0], 0, fn, arg)) != 0)
        return rc;
    return each_row(fixed, sizeof fixed / sizeof fixed[0], 1, fn, arg);
}

int kafkaprops_fixed(const char *key)
{
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strcmp(key, fixed[i][0]) == 0)
            return 1;
    return 0;
}

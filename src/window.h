/* SPDX-License-Identifier: BSD-2-Clause */
/* window.h -- event time and tumbling windows: pure functions, no clock.
 *
 * Units: event times and window starts are epoch milliseconds (UTC); point
 * timestamps are epoch nanoseconds. */
#ifndef SPILLWAY_WINDOW_H
#define SPILLWAY_WINDOW_H

#include <stddef.h>
#include <stdint.h>

/* Parse a naive "YYYY-MM-DD HH:MM:SS[.fff...]" ('T' is accepted for the
 * space) into epoch ms. local = 0 reads it as UTC; local = 1 as the
 * process's local time zone. Fractions beyond milliseconds are truncated.
 * Returns 0, or -1 when s is not such a time (a calendar-invalid date such as
 * Feb 30 included). */
int window_parse_time(const char *s, size_t len, int local, int64_t *epoch_ms);

/* The start of the tumbling window of width_ms that contains t_ms: the
 * largest multiple of width_ms not above t_ms (also for times before 1970).
 * A time exactly on a boundary opens the new window. width_ms > 0. */
int64_t window_start(int64_t t_ms, int64_t width_ms);

/* Partitions a topic may have: the point timestamp keeps 10 bits for them. */
#define WINDOW_MAX_PARTITIONS 1024

/* The timestamp (ns) of the point for a window: the window start plus a
 * sub-second discriminator made of the partition and the batch's sequence
 * number on that partition (mark.h):
 *     (seq mod MARK_SEQ_BLOCK) * 1024 + partition      nanoseconds (< 1 s).
 * Why: a window can span two batches, and InfluxDB replaces a point with the
 * same series and time, so batch B must not overwrite batch A's part of the
 * same window: different batches of a partition have different sequence
 * numbers, so different times, unless their numbers differ by a multiple of
 * MARK_SEQ_BLOCK (976,562 batches) -- and such a batch refuses windows an
 * earlier one may have written (mark_collision_horizon()). A retried batch
 * keeps its number, so it produces the same time and replaces exactly what
 * the failed attempt wrote. The point stays inside its window's first
 * second, so GROUP BY time(...) queries see it where they always did.
 * partition < WINDOW_MAX_PARTITIONS; window_storable(window_start_ms). */
int64_t window_point_time_ns(int64_t window_start_ms, int32_t partition, int64_t seq);

/* What a point time says back (windows start on whole seconds): its
 * window's start, the whole second it lies in, in ms; and its partition,
 * the discriminator modulo WINDOW_MAX_PARTITIONS. */
int64_t window_point_start_ms(int64_t time_ns);
int32_t window_point_partition(int64_t time_ns);

/* Whether every point time of a window starting at window_start_ms fits in
 * what InfluxDB stores (int64 nanoseconds, 1677-09-21 to 2262-04-11), i.e.
 * window_point_time_ns() neither overflows nor lands outside that range. */
int window_storable(int64_t window_start_ms);

#endif

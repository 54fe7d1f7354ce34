/* SPDX-License-Identifier: BSD-2-Clause */
/* kafkaprops.h -- the librdkafka properties spillway sets itself, declared
 * once: its defaults (a [kafka] key of the same name wins), among them the
 * prefetch bounds sized for a batch, and the properties the commit-after-write
 * guarantee fixes (no [kafka] key may set them). The reference's
 * bootstrap.servers and group.id defaults are config.c's: they are added as
 * if the file set them, so that every later check sees them as keys.
 *
 * Values only, no handle and no configuration: kafka.c applies them to every
 * handle, settings.c shows them, config.c refuses a fixed one with its line.
 * (A leaf, so that config.c may ask it without depending on kafka.c, which
 * depends on config.h.) */
#ifndef SPILLWAY_KAFKAPROPS_H
#define SPILLWAY_KAFKAPROPS_H

#include <stdint.h>

/* Call fn for each property: the defaults (fixed = 0), the prefetch bounds
 * among them sized for a batch of at most max_batch_size messages, then the
 * fixed ones (fixed = 1). key and value are valid during the call only.
 * Stops at, and returns, fn's first non-zero answer; else 0. */
int kafkaprops_each(int64_t max_batch_size, int (*fn)(const char *key, const char *value, int fixed, void *arg),
                    void *arg);

/* 1 when key is a property spillway fixes (a config may not set it), else 0. */
int kafkaprops_fixed(const char *key);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* ml.h -- the ML service client: one GET per aggregate, many at once.
 *
 * Requests run concurrently (at most max_parallel) through one curl multi
 * handle whose connection cache keeps connections alive between requests and
 * between calls. A 400 answer is the service saying "not this input": the
 * aggregate is marked quarantined with the answer as its reason. 408, 429
 * (after Retry-After, at most 30 s), a 5xx, a timeout, a transport error or
 * a 2xx whose body has no integer prediction is transient: retried up to
 * retry_attempts more times, then the call fails and the caller must not
 * commit. A round whose first max_parallel answers all failed that way
 * starts no more requests (the service is down: a chunk then costs a few
 * timeouts, not one an aggregate). Any other 4xx (401, 403, 404, ...) is the configuration's fault:
 * the call fails at once. No stress level is ever invented. */
#ifndef SPILLWAY_ML_H
#define SPILLWAY_ML_H

#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "config.h"
#include "util.h"

struct ml_client;

/* A client for cfg's [ml] (cfg must outlive it) with max_parallel handles
 * ready. Makes no request. NULL with the reason in err when libcurl cannot
 * be set up. ml_close(NULL) is a no-op. */
struct ml_client *ml_open(const struct config *cfg, char *err, size_t errsz);
void ml_close(struct ml_client *ml);

/* Have ml_predict() call tick(arg) at least every 100 ms while it waits
 * (for answers or before a retry): the runner keeps its Kafka group
 * membership alive with it. tick may mark entries AGG_DROPPED; their
 * answers are then ignored. */
void ml_set_tick(struct ml_client *ml, void (*tick)(void *), void *arg);

enum ml_result {
    ML_OK,          /* every entry predicted or quarantined */
    ML_UNAVAILABLE, /* some still pending after the retries; the last transient error in err */
    ML_DENIED,      /* the service refused us (401, 403, 404, ...): configuration; the answer in err */
};

/* Resolve every AGG_PENDING entry of entries[0..n): each ends AGG_PREDICTED
 * (prediction set) or AGG_QUARANTINED (reason set); AGG_DROPPED entries are
 * left alone. *requests counts the HTTP requests made. */
enum ml_result ml_predict(struct ml_client *ml, struct agg_entry *entries, size_t n, int64_t *requests, char *err,
                          size_t errsz);

/* Parse the service's JSON answer: field holds an integer or a string
 * holding one ("2"). Returns 0, or -1 with the reason in err. */
int ml_parse_prediction(const char *body, size_t len, const char *field, int64_t *out, char *err,
                        size_t errsz);

/* Build the request URL for e into out (cleared first): endpoint, then
 * name=mean for each parameter whose field has a value; a field with no
 * value in the aggregate is left out and the service decides. */
int ml_build_url(const struct config *cfg, const struct agg_entry *e, struct buf *out);

#endif

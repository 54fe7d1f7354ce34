/* SPDX-License-Identifier: BSD-2-Clause */
/* loopback.h -- a one-thread HTTP server on 127.0.0.1 that answers every
 * request with the body the fuzz target gives it: how the targets reach the
 * parsers that src/ keeps inside functions which fetch their own answers
 * (probe_flink(), influx_last_time()).
 *
 * Each connection gets one answer, "Connection: close", and is then closed;
 * requests are served one at a time, in the order they come. */
#ifndef SPILLWAY_FUZZ_LOOPBACK_H
#define SPILLWAY_FUZZ_LOOPBACK_H

#include <stddef.h>

/* Start the server on a free port. Returns the base URL
 * ("http://127.0.0.1:PORT", static), or NULL with the reason on stderr. */
const char *loopback_start(void);

/* Answer every following request with status and body (copied; len bytes).
 * Safe to call between requests, from the fuzzing thread. */
void loopback_answer(int status, const void *body, size_t len);

/* Requests answered so far. */
unsigned long loopback_requests(void);

#endif

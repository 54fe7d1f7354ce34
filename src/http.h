/* SPDX-License-Identifier: BSD-2-Clause */
/* http.h -- what the ML client and the InfluxDB writer share about libcurl:
 * handle set-up with timeouts, response bodies into a bounded buffer, and the
 * classification of an answer as success, permanent or transient. */
#ifndef SPILLWAY_HTTP_H
#define SPILLWAY_HTTP_H

#include <curl/curl.h>
#include <stddef.h>

#include "util.h"

/* Response bodies are kept up to this size; the rest is dropped (we only
 * ever need a JSON answer or an error message). */
#define HTTP_BODY_MAX 65536

/* Set the options every request of ours wants on h: a total timeout in
 * seconds, no signals (threads and timeouts), an optional CA file, and the
 * body collected into *body. Returns 0 or -1. */
int http_setup(CURL *h, long timeout_seconds, const char *ca_file, struct buf *body);

enum http_class { HTTP_OK, HTTP_PERMANENT, HTTP_TRANSIENT };

/* How to treat a finished transfer: curl error -> transient; 2xx -> ok;
 * 4xx -> permanent; anything else (3xx, 5xx) -> transient. */
enum http_class http_classify(CURLcode rc, long status);

/* The back-off before retry number attempt (1, 2, ...): 200 ms doubling,
 * capped at 5 s. */
long http_backoff_ms(int attempt);

/* Append base, without its trailing slashes, then path to out: a base URL
 * configured as "http://influxdb:8086/" must not make "//write". Returns 0,
 * or -1 when memory runs out. */
int http_url(struct buf *out, const char *base, const char *path);

/* Describe, for a message, a transfer that did not succeed: "WHAT URL: curl's
 * error" when no answer came (rc != CURLE_OK), "WHAT URL answered STATUS"
 * otherwise. The URL's credentials are masked (url_redact()), since the text
 * may be logged, printed or stored; libcurl's own error texts never quote the
 * URL. what may be "" (then the text starts with the URL). out (outsz bytes)
 * always receives a NUL-terminated text, cut if need be. */
void http_describe(char *out, size_t outsz, const char *what, const char *url, CURLcode rc, long status);

/* GET url (timeout in seconds) into body. Returns libcurl's code; *status
 * receives the HTTP status, 0 when no answer came. */
CURLcode http_get(const char *url, long timeout_seconds, const char *ca_file, struct buf *body, long *status);

#endif

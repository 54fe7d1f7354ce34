/* SPDX-License-Identifier: BSD-2-Clause */
/* http.c -- libcurl set-up, answer classification and failure texts shared
 * by the ML client, InfluxDB, the Flink probe and doctor. */
#include "http.h"

#include <stdio.h>
#include <string.h>

static size_t http_collect(char *data, size_t size, size_t nmemb, void *user)
{
    struct buf *body = user;
    size_t n = size * nmemb;
    size_t room = body->len < HTTP_BODY_MAX ? HTTP_BODY_MAX - body->len : 0;

    if (buf_append(body, data, n < room ? n : room) != 0)
        return 0; /* out of memory: curl fails the transfer */
    return n;
}

int http_setup(CURL *h, long timeout_seconds, const char *ca_file, struct buf *body)
{
    if (curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_seconds * 1000L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_seconds * 1000L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_USERAGENT, "spillway/" SPILLWAY_VERSION) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_collect) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEDATA, body) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK)
        return -1;
    if (ca_file && ca_file[0] && curl_easy_setopt(h, CURLOPT_CAINFO, ca_file) != CURLE_OK)
        return -1;
    return 0;
}

enum http_class http_classify(CURLcode rc, long status)
{
    if (rc != CURLE_OK)
        return HTTP_TRANSIENT;
    if (status >= 200 && status < 300)
        return HTTP_OK;
    if (status >= 400 && status < 500)
        return HTTP_PERMANENT;
    return HTTP_TRANSIENT;
}

long http_backoff_ms(int attempt)
{
    long ms = 200L << (attempt > 5 ? 5 : attempt - 1);

    return ms > 5000 ? 5000 : ms;
}

CURLcode http_get(const char *url, long timeout_seconds, const char *ca_file, struct buf *body, long *status)
{
    CURL *h = curl_easy_init();
    CURLcode rc = CURLE_FAILED_INIT;

    *status = 0;
    if (h && http_setup(h, timeout_seconds, ca_file, body) == 0 && curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK) {
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    }
    curl_easy_cleanup(h);
    return rc;
}

int http_url(struct buf *out, const char *base, const char *path)
{
    size_t len = strlen(base);

    while (len > 0 && base[len - 1] == '/')
        len--;
    if (buf_append(out, base, len) != 0)
        return -1;
    return buf_append(out, path, strlen(path));
}

void http_describe(char *out, size_t outsz, const char *what, const char *url, CURLcode rc, long status)
{
    char safe[2048]; /* a longer URL is shown cut: it is only a message */

    url_redact(safe, sizeof safe, url, strlen(url));
    if (rc != CURLE_OK)
        snprintf(out, outsz, "%s%s%s: %s", what, what[0] ? " " : "", safe, curl_easy_strerror(rc));
    else
        snprintf(out, outsz, "%s%s%s answered %ld", what, what[0] ? " " : "", safe, status);
}

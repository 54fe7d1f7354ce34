/* SPDX-License-Identifier: BSD-2-Clause */
/* influx.c -- InfluxDB over HTTP: POST /write with retries (split on 413), and the latency query. */
#include "influx.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"

struct influx {
    const struct config *cfg;
    CURL *easy;
    struct curl_slist *headers;
    struct buf body;
    char *url; /* the /write URL */
};

/* A handle with the server's settings: timeout, CA file, credentials (a
 * token header, or HTTP basic); *headers (to free with the handle) holds
 * the token's. Returns NULL with err. */
static CURL *influx_handle(const struct config *cfg, struct buf *body, struct curl_slist **headers, char *err,
                           size_t errsz)
{
    CURL *h = curl_easy_init();

    *headers = NULL;
    if (h == NULL) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    if (cfg->influx_token[0]) {
        struct buf t = { 0 };
        if (buf_printf(&t, "Authorization: Token %s", cfg->influx_token) != 0 ||
            (*headers = curl_slist_append(NULL, t.data)) == NULL) {
            buf_free(&t);
            snprintf(err, errsz, "out of memory");
            curl_easy_cleanup(h);
            return NULL;
        }
        buf_free(&t);
    }
    if (http_setup(h, (long)cfg->influx_timeout_seconds, cfg->influx_ca_file, body) != 0 ||
        (*headers && curl_easy_setopt(h, CURLOPT_HTTPHEADER, *headers) != CURLE_OK) ||
        (cfg->influx_username[0] &&
         (curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) != CURLE_OK ||
          curl_easy_setopt(h, CURLOPT_USERNAME, cfg->influx_username) != CURLE_OK ||
          curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->influx_password) != CURLE_OK))) {
        snprintf(err, errsz, "InfluxDB client: cannot set up libcurl");
        curl_slist_free_all(*headers);
        *headers = NULL;
        curl_easy_cleanup(h);
        return NULL;
    }
    return h;
}

struct influx *influx_open(const struct config *cfg, char *err, size_t errsz)
{
    struct influx *ix = calloc(1, sizeof *ix);
    struct buf url = { 0 };
    char *db;

    if (ix == NULL) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    ix->cfg = cfg;
    if ((ix->easy = influx_handle(cfg, &ix->body, &ix->headers, err, errsz)) == NULL) {
        free(ix);
        return NULL;
    }
    db = curl_easy_escape(ix->easy, cfg->influx_database, 0);
    if (db == NULL || http_url(&url, cfg->influx_url, "/write?db=") != 0 ||
        buf_printf(&url, "%s&precision=ns", db) != 0) {
        curl_free(db);
        buf_free(&url);
        snprintf(err, errsz, "out of memory");
        influx_close(ix);
        return NULL;
    }
    curl_free(db);
    ix->url = url.data;
    if (curl_easy_setopt(ix->easy, CURLOPT_URL, ix->url) != CURLE_OK) {
        snprintf(err, errsz, "InfluxDB client: cannot set up libcurl");
        influx_close(ix);
        return NULL;
    }
    return ix;
}

void influx_close(struct influx *ix)
{
    if (ix == NULL)
        return;
    curl_easy_cleanup(ix->easy);
    curl_slist_free_all(ix->headers);
    buf_free(&ix->body);
    free(ix->url);
    free(ix);
}

/* One request; fills *status (0 when no answer came). */
static CURLcode influx_post(struct influx *ix, const char *body, size_t len, long *status)
{
    CURLcode rc;

    buf_reset(&ix->body);
    *status = 0;
    if ((rc = curl_easy_setopt(ix->easy, CURLOPT_URL, ix->url)) != CURLE_OK ||
        (rc = curl_easy_setopt(ix->easy, CURLOPT_POST, 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(ix->easy, CURLOPT_POSTFIELDS, body)) != CURLE_OK ||
        (rc = curl_easy_setopt(ix->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len)) != CURLE_OK)
        return rc;
    rc = curl_easy_perform(ix->easy);
    curl_easy_getinfo(ix->easy, CURLINFO_RESPONSE_CODE, status);
    return rc;
}

static void influx_describe(struct influx *ix, CURLcode rc, long status, char *err, size_t errsz)
{
    const char *body = ix->body.data ? ix->body.data : "";

    if (rc != CURLE_OK)
        http_describe(err, errsz, "InfluxDB", ix->cfg->influx_url, rc, 0);
    else
        snprintf(err, errsz, "InfluxDB answered %ld: %.*s", status, (int)strcspn(body, "\n"), body);
}

size_t influx_split_point(const char *body, size_t len)
{
    /* the line end nearest the middle, the body's own last one excepted:
     * looking only after the middle finds no split when the last line is
     * longer than half the body */
    size_t mid = len / 2;

    for (size_t d = 0; d <= mid; d++) {
        if (mid + d + 1 < len && body[mid + d] == '\n')
            return mid + d + 1;
        if (mid - d + 1 < len && body[mid - d] == '\n')
            return mid - d + 1;
    }
    return len;
}

/* A 400 or 422: InfluxDB's verdict on points of the request only when the
 * answer is its own JSON error -- {"error": ...} from 1.x, {"code": ...,
 * "message": ...} from 2.x (whose partial writes are 422); anything else
 * (an HTML page, a proxy's text) says nothing about the points, and the
 * write is failing. */
static enum influx_result influx_refusal(struct influx *ix, long status, char *err, size_t errsz)
{
    const char *body = ix->body.data ? ix->body.data : "";
    json_t *root = json_loadb(body, ix->body.len, 0, NULL);
    json_t *msg = json_object_get(root, "error");
    enum influx_result r = INFLUX_REJECTED;

    if (!json_is_string(msg))
        msg = json_object_get(root, "message");
    if (json_is_string(msg)) {
        snprintf(err, errsz, "InfluxDB answered %ld: %s", status, json_string_value(msg));
    } else {
        snprintf(err, errsz, "InfluxDB answered %ld, but not with its own error (a proxy in between?): %.*s", status,
                 (int)strcspn(body, "\n"), body);
        r = INFLUX_UNAVAILABLE;
    }
    json_decref(root);
    return r;
}

enum influx_result influx_write(struct influx *ix, const char *body, size_t len, char *err, size_t errsz)
{
    int attempts = 1 + (int)ix->cfg->influx_retry_attempts;

    for (int attempt = 1;; attempt++) {
        long status;
        CURLcode rc = influx_post(ix, body, len, &status);

        if (rc == CURLE_OK && status == 413) {
            /* too large for this server: write each half on its own */
            size_t first = influx_split_point(body, len);
            enum influx_result r;
            if (first >= len) {
                influx_describe(ix, rc, status, err, errsz);
                return INFLUX_REJECTED; /* a single line is too large */
            }
            r = influx_write(ix, body, first, err, errsz);
            return r != INFLUX_OK ? r : influx_write(ix, body + first, len - first, err, errsz);
        }
        switch (http_classify(rc, status)) {
        case HTTP_OK:
            return INFLUX_OK;
        case HTTP_PERMANENT:
            if (status == 400 || status == 422)
                return influx_refusal(ix, status, err, errsz);
            influx_describe(ix, rc, status, err, errsz);
            return INFLUX_DENIED;
        case HTTP_TRANSIENT:
            influx_describe(ix, rc, status, err, errsz);
            if (attempt >= attempts)
                return INFLUX_UNAVAILABLE;
            log_warn("%s; retry %d/%d", err, attempt, attempts - 1);
            sleep_ms(http_backoff_ms(attempt));
        }
    }
}

/* Append an InfluxQL identifier in double quotes. */
static int append_ident(struct buf *q, const char *name)
{
    if (buf_append(q, "\"", 1) != 0)
        return -1;
    for (const char *c = name; *c; c++)
        if ((*c == '"' || *c == '\\') ? buf_printf(q, "\\%c", *c) : buf_append(q, c, 1))
            return -1;
    return buf_append(q, "\"", 1);
}

int influx_parse_last_time(const char *body, size_t len, int64_t *last_ms, int *found, char *err, size_t errsz)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr), *res, *values, *t;
    int shown = len < 200 ? (int)len : 200; /* body need not end in a NUL */
    int rc = -1;

    *found = 0;
    res = json_array_get(json_object_get(root, "results"), 0);
    if (res == NULL) {
        snprintf(err, errsz, "InfluxDB query: unexpected answer: %.*s", shown, body);
    } else if (json_is_string(json_object_get(res, "error"))) {
        /* 200 even for an InfluxQL error: the error is inside the results */
        snprintf(err, errsz, "InfluxDB query: %s", json_string_value(json_object_get(res, "error")));
    } else if ((values = json_object_get(json_array_get(json_object_get(res, "series"), 0), "values")) == NULL) {
        rc = 0; /* no point in the lookback window */
    } else if (!json_is_integer(t = json_array_get(json_array_get(values, 0), 0))) {
        snprintf(err, errsz, "InfluxDB query: no time in %.*s", shown, body);
    } else {
        *last_ms = json_integer_value(t);
        *found = 1;
        rc = 0;
    }
    json_decref(root);
    return rc;
}

/* An answer kept up to max bytes; past them, the transfer ends (a longer
 * answer is of no use cut). */
struct influx_answer {
    struct buf *body;
    size_t max;
    int too_long;
};

static size_t influx_collect(char *data, size_t size, size_t nmemb, void *user)
{
    struct influx_answer *a = user;
    size_t n = size * nmemb;

    if (a->body->len + n > a->max) {
        a->too_long = 1;
        return 0; /* curl ends the transfer (CURLE_WRITE_ERROR) */
    }
    return buf_append(a->body, data, n) == 0 ? n : 0;
}

int influx_select(const struct config *cfg, const char *influxql, const char *epoch, long timeout_s, size_t max_body,
                  struct buf *body, char *err, size_t errsz)
{
    struct influx_answer answer = { body, max_body, 0 };
    struct buf url = { 0 };
    struct curl_slist *headers = NULL;
    char *eq = NULL, *db = NULL;
    long status = 0;
    CURLcode rc;
    CURL *h = influx_handle(cfg, body, &headers, err, errsz);
    int ret = -1;

    if (h == NULL)
        return -1;
    if ((eq = curl_easy_escape(h, influxql, 0)) == NULL || (db = curl_easy_escape(h, cfg->influx_database, 0)) == NULL ||
        http_url(&url, cfg->influx_url, "/query?db=") || buf_printf(&url, "%s&epoch=%s&q=%s", db, epoch, eq)) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    if (curl_easy_setopt(h, CURLOPT_URL, url.data) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_s * 1000L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_s * 1000L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, influx_collect) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer) != CURLE_OK) {
        snprintf(err, errsz, "InfluxDB client: cannot set up libcurl");
        goto out;
    }
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (answer.too_long && status == 200) {
        snprintf(err, errsz, "InfluxDB query: the answer is longer than %zu bytes", max_body);
        ret = 1;
    } else if (rc != CURLE_OK && !answer.too_long)
        http_describe(err, errsz, "InfluxDB", cfg->influx_url, rc, 0);
    else if (status != 200)
        snprintf(err, errsz, "InfluxDB answered %ld: %.*s", status, (int)strcspn(body->data ? body->data : "", "\n"),
                 body->data ? body->data : "");
    else
        ret = 0;
out:
    curl_free(eq);
    curl_free(db);
    buf_free(&url);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return ret;
}

int influx_last_time(const struct config *cfg, long timeout_s, int64_t *last_ms, int *found, char *err, size_t errsz)
{
    struct buf q = { 0 }, body = { 0 };
    int ret = -1;

    *found = 0;
    if (buf_printf(&q, "SELECT last(") || append_ident(&q, cfg->latency_field) || buf_printf(&q, ") FROM ") ||
        append_ident(&q, cfg->latency_measurement) ||
        buf_printf(&q, " WHERE time > now() - %llds", (long long)cfg->lookback_seconds) ||
        (cfg->latency_where[0] && buf_printf(&q, " AND (%s)", cfg->latency_where))) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    if (influx_select(cfg, q.data, "ms", timeout_s, HTTP_BODY_MAX, &body, err, errsz) == 0)
        ret = influx_parse_last_time(body.data ? body.data : "", body.len, last_ms, found, err, errsz);
out:
    buf_free(&q);
    buf_free(&body);
    return ret;
}

int influx_append_ident(struct buf *q, const char *name)
{
    return append_ident(q, name);
}

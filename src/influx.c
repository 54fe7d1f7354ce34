/* influx.c -- POST /write with retries, splitting on 413. */
#include "influx.h"

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
    char *url;
};

struct influx *influx_open(const struct config *cfg, char *err, size_t errsz)
{
    struct influx *ix = calloc(1, sizeof *ix);
    struct buf url = { 0 };
    char *db;

    if (ix == NULL || (ix->easy = curl_easy_init()) == NULL) {
        snprintf(err, errsz, "out of memory");
        free(ix);
        return NULL;
    }
    ix->cfg = cfg;
    /* a trailing slash in the configured URL must not make "//write" */
    size_t base_len = strlen(cfg->influx_url);
    while (base_len > 0 && cfg->influx_url[base_len - 1] == '/')
        base_len--;
    db = curl_easy_escape(ix->easy, cfg->influx_database, 0);
    if (db == NULL ||
        buf_printf(&url, "%.*s/write?db=%s&precision=ns", (int)base_len, cfg->influx_url, db) != 0) {
        curl_free(db);
        snprintf(err, errsz, "out of memory");
        influx_close(ix);
        return NULL;
    }
    curl_free(db);
    ix->url = url.data;
    if (cfg->influx_token[0]) {
        struct buf h = { 0 };
        if (buf_printf(&h, "Authorization: Token %s", cfg->influx_token) != 0 ||
            (ix->headers = curl_slist_append(NULL, h.data)) == NULL) {
            buf_free(&h);
            snprintf(err, errsz, "out of memory");
            influx_close(ix);
            return NULL;
        }
        buf_free(&h);
    }
    if (http_setup(ix->easy, (long)cfg->influx_timeout_seconds, cfg->influx_ca_file, &ix->body) != 0 ||
        curl_easy_setopt(ix->easy, CURLOPT_URL, ix->url) != CURLE_OK ||
        curl_easy_setopt(ix->easy, CURLOPT_POST, 1L) != CURLE_OK ||
        (ix->headers && curl_easy_setopt(ix->easy, CURLOPT_HTTPHEADER, ix->headers) != CURLE_OK) ||
        (cfg->influx_username[0] &&
         (curl_easy_setopt(ix->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) != CURLE_OK ||
          curl_easy_setopt(ix->easy, CURLOPT_USERNAME, cfg->influx_username) != CURLE_OK ||
          curl_easy_setopt(ix->easy, CURLOPT_PASSWORD, cfg->influx_password) != CURLE_OK))) {
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
    if ((rc = curl_easy_setopt(ix->easy, CURLOPT_POSTFIELDS, body)) != CURLE_OK ||
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
        snprintf(err, errsz, "InfluxDB %s: %s", ix->cfg->influx_url, curl_easy_strerror(rc));
    else
        snprintf(err, errsz, "InfluxDB answered %ld: %.*s", status, (int)strcspn(body, "\n"), body);
}

enum influx_result influx_write(struct influx *ix, const char *body, size_t len, char *err, size_t errsz)
{
    int attempts = 1 + (int)ix->cfg->influx_retry_attempts;

    for (int attempt = 1;; attempt++) {
        long status;
        CURLcode rc = influx_post(ix, body, len, &status);

        if (rc == CURLE_OK && status == 413) {
            /* too large for this server: write each half on its own */
            const char *mid = memchr(body + len / 2, '\n', len - len / 2);
            size_t first = mid ? (size_t)(mid - body) + 1 : len;
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
            influx_describe(ix, rc, status, err, errsz);
            return status == 400 ? INFLUX_REJECTED : INFLUX_DENIED;
        case HTTP_TRANSIENT:
            influx_describe(ix, rc, status, err, errsz);
            if (attempt >= attempts)
                return INFLUX_UNAVAILABLE;
            log_warn("%s; retry %d/%d", err, attempt, attempts - 1);
            sleep_ms(http_backoff_ms(attempt));
        }
    }
}

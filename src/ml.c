/* SPDX-License-Identifier: BSD-2-Clause */
/* ml.c -- concurrent ML predictions over kept-alive connections (curl multi). */
#include "ml.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"

struct ml_slot {
    CURL *easy;
    struct buf body;
    struct buf url;
    size_t entry; /* index of the aggregate in flight */
    int busy;
};

struct ml_client {
    const struct config *cfg;
    CURLM *multi;
    struct ml_slot *slots;
    size_t nslots;
    void (*tick)(void *);
    void *tick_arg;
    int64_t retry_after_ms; /* the longest Retry-After of this round, 0 none */
    size_t answered;        /* answers of this round that settled their entry */
    size_t failed;          /* transient failures of this round */
    int denied;             /* a 4xx other than 400/408/429: configuration */
    char denied_why[1024];
};

/* A Retry-After longer than this is waited only this long (a run has a
 * time budget; the next run comes back anyway). */
#define ML_RETRY_AFTER_MAX_MS 30000

/* How often, at least, the tick runs while requests are in flight. */
#define ML_TICK_MS 100

static void ml_tick(struct ml_client *ml)
{
    if (ml->tick)
        ml->tick(ml->tick_arg);
}

void ml_set_tick(struct ml_client *ml, void (*tick)(void *), void *arg)
{
    ml->tick = tick;
    ml->tick_arg = arg;
}

int ml_parse_prediction(const char *body, size_t len, const char *field, int64_t *out, char *err,
                        size_t errsz)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    json_t *v;
    int rc = -1;

    if (root == NULL) {
        snprintf(err, errsz, "answer is not JSON: %s", jerr.text);
        return -1;
    }
    v = json_is_object(root) ? json_object_get(root, field) : NULL;
    if (v == NULL) {
        snprintf(err, errsz, "answer has no \"%s\"", field);
    } else if (json_is_integer(v)) {
        *out = json_integer_value(v);
        rc = 0;
    } else if (json_is_real(v) && floor(json_real_value(v)) == json_real_value(v) &&
               fabs(json_real_value(v)) < 1e15) {
        *out = (int64_t)json_real_value(v);
        rc = 0;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        long long n;
        errno = 0;
        n = strtoll(s, &end, 10);
        if (errno == 0 && end != s && *end == '\0') {
            *out = n;
            rc = 0;
        } else {
            snprintf(err, errsz, "\"%s\" is \"%.40s\", not an integer", field, s);
        }
    } else {
        snprintf(err, errsz, "\"%s\" is neither an integer nor a string holding one", field);
    }
    json_decref(root);
    return rc;
}

int ml_build_url(const struct config *cfg, const struct agg_entry *e, struct buf *out)
{
    char sep = strchr(cfg->ml_endpoint, '?') ? '&' : '?';

    buf_reset(out);
    if (buf_append(out, cfg->ml_endpoint, strlen(cfg->ml_endpoint)) != 0)
        return -1;
    for (size_t i = 0; i < cfg->n_ml_params; i++) {
        int has;
        double mean = agg_mean(e, cfg->ml_params[i].field, &has);
        char num[40];
        char *name;
        if (!has)
            continue;
        fmt_double(num, sizeof num, mean);
        name = curl_easy_escape(NULL, cfg->ml_params[i].name, 0);
        if (name == NULL)
            return -1;
        int rc = buf_printf(out, "%c%s=%s", sep, name, num);
        curl_free(name);
        if (rc != 0)
            return -1;
        sep = '&';
    }
    return 0;
}

struct ml_client *ml_open(const struct config *cfg, char *err, size_t errsz)
{
    struct ml_client *ml = calloc(1, sizeof *ml);

    if (ml == NULL)
        goto oom;
    ml->cfg = cfg;
    ml->nslots = (size_t)cfg->ml_max_parallel;
    ml->slots = calloc(ml->nslots, sizeof *ml->slots);
    ml->multi = curl_multi_init();
    if (ml->slots == NULL || ml->multi == NULL)
        goto oom;
    /* One connection per concurrent request, all kept in the multi handle's
     * cache between requests. */
    if (curl_multi_setopt(ml->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)ml->nslots) != CURLM_OK ||
        curl_multi_setopt(ml->multi, CURLMOPT_MAXCONNECTS, (long)ml->nslots) != CURLM_OK) {
        snprintf(err, errsz, "ML client: cannot configure libcurl");
        ml_close(ml);
        return NULL;
    }
    for (size_t i = 0; i < ml->nslots; i++) {
        struct ml_slot *s = &ml->slots[i];
        s->easy = curl_easy_init();
        if (s->easy == NULL || http_setup(s->easy, (long)cfg->ml_timeout_seconds, NULL, &s->body) != 0 ||
            curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s) != CURLE_OK) {
            snprintf(err, errsz, "ML client: cannot set up a libcurl handle");
            ml_close(ml);
            return NULL;
        }
    }
    return ml;
oom:
    snprintf(err, errsz, "out of memory");
    ml_close(ml);
    return NULL;
}

void ml_close(struct ml_client *ml)
{
    if (ml == NULL)
        return;
    for (size_t i = 0; ml->slots && i < ml->nslots; i++) {
        if (ml->slots[i].easy) {
            if (ml->slots[i].busy)
                curl_multi_remove_handle(ml->multi, ml->slots[i].easy);
            curl_easy_cleanup(ml->slots[i].easy);
        }
        buf_free(&ml->slots[i].body);
        buf_free(&ml->slots[i].url);
    }
    free(ml->slots);
    if (ml->multi)
        curl_multi_cleanup(ml->multi);
    free(ml);
}

static int ml_start(struct ml_client *ml, struct ml_slot *s, struct agg_entry *entries, size_t idx)
{
    if (ml_build_url(ml->cfg, &entries[idx], &s->url) != 0)
        return -1;
    buf_reset(&s->body);
    if (curl_easy_setopt(s->easy, CURLOPT_URL, s->url.data) != CURLE_OK)
        return -1;
    if (curl_multi_add_handle(ml->multi, s->easy) != CURLM_OK)
        return -1;
    s->entry = idx;
    s->busy = 1;
    return 0;
}

/* A finished transfer: settle the entry, or leave it pending with *last_err
 * saying why. Only 400 is the aggregate's fault (the service refused this
 * input); 408 and 429 ask us to come back later (Retry-After honoured);
 * any other 4xx (401, 403, 404, ...) is a configuration problem that no
 * retry mends; 5xx, 3xx, transport errors and an unreadable 2xx are
 * transient. */
static void ml_finish(struct ml_client *ml, struct ml_slot *s, CURLcode rc, struct agg_entry *entries,
                      char *last_err, size_t errsz)
{
    struct agg_entry *e = &entries[s->entry];
    const char *body = s->body.data ? s->body.data : "";
    long status = 0;
    char why[256], url[512];

    if (e->state == AGG_DROPPED) /* its partition was lost while in flight */
        return;
    ml->failed++; /* undone below by an answer that settles the entry */
    /* these texts are logged and stored: never with a credential */
    url_redact(url, sizeof url, s->url.data, s->url.len);
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
        snprintf(last_err, errsz, "ML service %s: %s", url, curl_easy_strerror(rc));
    } else if (status >= 200 && status < 300) {
        if (ml_parse_prediction(body, s->body.len, ml->cfg->ml_response_field, &e->prediction, why, sizeof why) == 0) {
            e->state = AGG_PREDICTED;
            ml->failed--, ml->answered++;
            return;
        }
        snprintf(last_err, errsz, "ML service answered %ld for %s: %s", status, url, why);
    } else if (status == 400) {
        struct buf r = { 0 };
        if (buf_printf(&r, "ML service answered %ld: %.300s", status, body) == 0) {
            free(e->reason);
            e->reason = r.data;
            e->state = AGG_QUARANTINED;
            ml->failed--, ml->answered++;
        }
    } else if (status == 408 || status == 429) {
        curl_off_t after = -1;
        if (curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0 &&
            after * 1000 > ml->retry_after_ms)
            ml->retry_after_ms = after * 1000 > ML_RETRY_AFTER_MAX_MS ? ML_RETRY_AFTER_MAX_MS : after * 1000;
        snprintf(last_err, errsz, "ML service answered %ld (come back later) for %s: %.200s", status, url,
                 body);
    } else if (status >= 400 && status < 500) {
        ml->denied = 1;
        snprintf(ml->denied_why, sizeof ml->denied_why,
                 "ML service answered %ld for %s: %.200s (check [ml] endpoint and its credentials in %s)", status,
                 url, body, ml->cfg->path);
    } else {
        snprintf(last_err, errsz, "ML service answered %ld for %s: %.200s", status, url, body);
    }
}

/* One pass over every pending entry, max_parallel at a time. A service
 * whose first max_parallel answers of the round all failed (transiently)
 * is taken as down: no more requests start in this round, so that a
 * service that times out costs a chunk a few timeouts, not one for each of
 * its aggregates. */
static int ml_round(struct ml_client *ml, struct agg_entry *entries, size_t n, int64_t *requests,
                    char *last_err, size_t errsz)
{
    size_t next = 0, busy = 0;

    ml->answered = ml->failed = 0;
    for (;;) {
        if (ml->answered == 0 && ml->failed >= ml->nslots)
            next = n; /* down: what is in flight finishes, nothing more starts */
        /* fill idle slots with pending entries */
        for (size_t i = 0; i < ml->nslots; i++) {
            if (ml->slots[i].busy)
                continue;
            while (next < n && entries[next].state != AGG_PENDING)
                next++;
            if (next == n)
                break;
            if (ml_start(ml, &ml->slots[i], entries, next) != 0) {
                snprintf(last_err, errsz, "ML client: cannot start a request");
                return -1;
            }
            next++;
            busy++;
            (*requests)++;
        }
        if (busy == 0)
            return 0;
        int running;
        if (curl_multi_perform(ml->multi, &running) != CURLM_OK) {
            snprintf(last_err, errsz, "ML client: libcurl multi failed");
            return -1;
        }
        CURLMsg *m;
        int left;
        size_t done = 0;
        while ((m = curl_multi_info_read(ml->multi, &left)) != NULL) {
            struct ml_slot *s;
            if (m->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            CURLcode rc = m->data.result;
            curl_multi_remove_handle(ml->multi, s->easy);
            s->busy = 0;
            busy--;
            done++;
            ml_finish(ml, s, rc, entries, last_err, errsz);
        }
        /* wait for activity only when nothing finished: a free slot means
         * the next request can start at once */
        if (done == 0 && curl_multi_poll(ml->multi, NULL, 0, ML_TICK_MS, NULL) != CURLM_OK) {
            snprintf(last_err, errsz, "ML client: libcurl multi failed");
            return -1;
        }
        ml_tick(ml);
    }
}

enum ml_result ml_predict(struct ml_client *ml, struct agg_entry *entries, size_t n, int64_t *requests, char *err,
                          size_t errsz)
{
    int attempts = 1 + (int)ml->cfg->ml_retry_attempts;

    err[0] = '\0';
    for (int attempt = 1; attempt <= attempts; attempt++) {
        size_t pending = 0;
        ml->retry_after_ms = 0;
        if (ml_round(ml, entries, n, requests, err, errsz) != 0)
            return ML_UNAVAILABLE;
        if (ml->denied) {
            snprintf(err, errsz, "%s", ml->denied_why);
            return ML_DENIED;
        }
        for (size_t i = 0; i < n; i++)
            pending += entries[i].state == AGG_PENDING;
        if (pending == 0)
            return ML_OK;
        if (attempt < attempts) {
            int64_t wait = http_backoff_ms(attempt);
            if (ml->retry_after_ms > wait)
                wait = ml->retry_after_ms;
            log_warn("%zu predictions failed (%s); retry %d/%d in %.1fs", pending, err, attempt, attempts - 1,
                     (double)wait / 1000.0);
            for (int64_t left = wait; left > 0; left -= ML_TICK_MS) {
                sleep_ms(left < ML_TICK_MS ? left : ML_TICK_MS);
                ml_tick(ml);
            }
        } else {
            char last[512];
            snprintf(last, sizeof last, "%s", err);
            snprintf(err, errsz, "%zu of %zu predictions failed after %d attempts; last: %s", pending, n,
                     attempts, last);
        }
    }
    return ML_UNAVAILABLE;
}

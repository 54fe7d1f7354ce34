/* SPDX-License-Identifier: BSD-2-Clause */
/* loopback.c -- the fuzz targets' canned-answer HTTP server on 127.0.0.1. */
#include "loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static pthread_mutex_t lb_mu = PTHREAD_MUTEX_INITIALIZER;
static char *lb_body;
static size_t lb_len;
static int lb_status = 200;
static unsigned long lb_served;
static char lb_url[64];

void loopback_answer(int status, const void *body, size_t len)
{
    char *copy = malloc(len + 1);

    if (copy == NULL) {
        fprintf(stderr, "loopback: out of memory\n");
        abort();
    }
    memcpy(copy, body, len);
    pthread_mutex_lock(&lb_mu);
    free(lb_body);
    lb_body = copy;
    lb_len = len;
    lb_status = status;
    pthread_mutex_unlock(&lb_mu);
}

unsigned long loopback_requests(void)
{
    unsigned long n;

    pthread_mutex_lock(&lb_mu);
    n = lb_served;
    pthread_mutex_unlock(&lb_mu);
    return n;
}

static int send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void serve(int fd)
{
    char req[8192], head[128], *body;
    size_t got = 0, len;
    int status;
    struct timeval tv = { .tv_sec = 5 };

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    /* the request's head; curl's GETs have no body */
    while (got < sizeof req - 1) {
        ssize_t n = recv(fd, req + got, sizeof req - 1 - got, 0);
        if (n <= 0)
            return;
        got += (size_t)n;
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    pthread_mutex_lock(&lb_mu);
    lb_served++;
    len = lb_len;
    status = lb_status;
    body = malloc(len + 1);
    if (body)
        memcpy(body, lb_body ? lb_body : "", len);
    pthread_mutex_unlock(&lb_mu);
    if (body == NULL)
        return;
    snprintf(head, sizeof head,
             "HTTP/1.1 %d Fuzz\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
             status, len);
    if (send_all(fd, head, strlen(head)) == 0 && send_all(fd, body, len) == 0) {
        /* let the client close first, so the answer is never cut short */
        shutdown(fd, SHUT_WR);
        while (recv(fd, req, sizeof req, 0) > 0)
            ;
    }
    free(body);
}

static void *loopback_main(void *arg)
{
    int lfd = *(int *)arg;

    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            continue;
        serve(fd);
        close(fd);
    }
    return NULL;
}

const char *loopback_start(void)
{
    static int lfd = -1;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t salen = sizeof sa;
    pthread_t th;

    if (lfd >= 0)
        return lb_url;
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 16) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &salen) != 0) {
        perror("loopback: cannot listen on 127.0.0.1");
        return NULL;
    }
    if (pthread_create(&th, NULL, loopback_main, &lfd) != 0) {
        fprintf(stderr, "loopback: cannot start its thread\n");
        return NULL;
    }
    pthread_detach(th);
    snprintf(lb_url, sizeof lb_url, "http://127.0.0.1:%d", ntohs(sa.sin_port));
    return lb_url;
}

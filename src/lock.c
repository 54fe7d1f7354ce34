/* SPDX-License-Identifier: BSD-2-Clause */
/* lock.c -- the runner's lock: an exclusive flock(2) on a file beside the
 * state database, and the checker's look at it with a shared one. */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util.h"

/* How long a runner waits out checkers looking at the lock (each holds its
 * shared lock for microseconds) before it calls the lock busy. */
#define LOCK_PROBE_WAIT_MS 200

static int lock_open(const char *path, char *err, size_t errsz)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);

    if (fd < 0)
        snprintf(err, errsz, "lock %s: cannot open: %s", path, strerror(errno));
    return fd;
}

/* flock(fd, how | LOCK_NB): LOCK_TAKEN, LOCK_BUSY, or LOCK_ERROR with err. */
static enum lock_result lock_nb(int fd, int how, const char *path, char *err, size_t errsz)
{
    if (flock(fd, how | LOCK_NB) == 0)
        return LOCK_TAKEN;
    if (errno == EWOULDBLOCK)
        return LOCK_BUSY;
    snprintf(err, errsz, "lock %s: %s", path, strerror(errno));
    return LOCK_ERROR;
}

enum lock_result lock_try(const char *path, int *fd, char *err, size_t errsz)
{
    enum lock_result r = LOCK_BUSY;

    if ((*fd = lock_open(path, err, errsz)) < 0)
        return LOCK_ERROR;
    for (int waited = 0; waited <= LOCK_PROBE_WAIT_MS; waited++) {
        if ((r = lock_nb(*fd, LOCK_EX, path, err, errsz)) != LOCK_BUSY)
            break;
        /* busy: a runner (exclusive), or only checkers looking (shared)?
         * A shared lock is granted only in the second case. */
        if ((r = lock_nb(*fd, LOCK_SH, path, err, errsz)) != LOCK_TAKEN)
            break; /* a runner holds it (or an error) */
        if (flock(*fd, LOCK_UN) != 0) {
            snprintf(err, errsz, "lock %s: %s", path, strerror(errno));
            r = LOCK_ERROR;
            break;
        }
        r = LOCK_BUSY;
        sleep_ms(1);
    }
    if (r != LOCK_TAKEN) {
        close(*fd);
        *fd = -1;
    }
    return r;
}

enum lock_result lock_probe(const char *path, char *err, size_t errsz)
{
    int fd = lock_open(path, err, errsz);
    enum lock_result r;

    if (fd < 0)
        return LOCK_ERROR;
    r = lock_nb(fd, LOCK_SH, path, err, errsz);
    close(fd);
    return r;
}

void lock_release(int fd)
{
    if (fd >= 0)
        close(fd);
}

int lock_runner_path(const char *state_db, char *out, size_t outsz)
{
    int n = snprintf(out, outsz, "%s.lock", state_db);

    return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

enum lock_result lock_runner_probe(const char *state_db, char *err, size_t errsz)
{
    char path[4096];

    if (lock_runner_path(state_db, path, sizeof path) != 0) {
        snprintf(err, errsz, "%s: path too long for its lock", state_db);
        return LOCK_ERROR;
    }
    return lock_probe(path, err, errsz);
}

/* lock.c -- a non-blocking flock(2) on a file beside the state database. */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

enum lock_result lock_try(const char *path, int *fd, char *err, size_t errsz)
{
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (*fd < 0) {
        snprintf(err, errsz, "lock %s: cannot open: %s", path, strerror(errno));
        return LOCK_ERROR;
    }
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(*fd);
        *fd = -1;
        if (e == EWOULDBLOCK)
            return LOCK_BUSY;
        snprintf(err, errsz, "lock %s: %s", path, strerror(e));
        return LOCK_ERROR;
    }
    return LOCK_TAKEN;
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

/* lock.c -- a non-blocking flock(2) on a file beside the state database. */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int lock_try(const char *path, char *err, size_t errsz)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);

    if (fd < 0) {
        snprintf(err, errsz, "lock %s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return -2;
        snprintf(err, errsz, "lock %s: %s", path, strerror(e));
        return -1;
    }
    return fd;
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

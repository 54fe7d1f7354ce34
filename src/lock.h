/* lock.h -- one runner at a time per state directory, with flock(2).
 *
 * The lock is a file beside the state database; flock locks vanish with the
 * process that holds them, so a killed runner never leaves a stale lock. */
#ifndef SPILLWAY_LOCK_H
#define SPILLWAY_LOCK_H

#include <stddef.h>

enum lock_result {
    LOCK_TAKEN, /* *fd is the lock: keep it open for as long as it is held */
    LOCK_BUSY,  /* another process holds it; *fd is -1 */
    LOCK_ERROR, /* the file could not be opened or locked: the reason in err; *fd is -1 */
};

/* Try to take the lock at path without waiting. */
enum lock_result lock_try(const char *path, int *fd, char *err, size_t errsz);

/* The runner's lock, beside the state database: its path plus ".lock".
 * Returns 0, or -1 when it does not fit in outsz. */
int lock_runner_path(const char *state_db, char *out, size_t outsz);

/* Release: closes the descriptor. */
void lock_release(int fd);

#endif

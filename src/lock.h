/* SPDX-License-Identifier: BSD-2-Clause */
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

/* Take the lock at path (exclusive) for a runner. Busy at once when a
 * runner (or anyone with an exclusive lock, e.g. flock(1)) holds it; waits
 * out checkers looking at it (lock_probe(), a shared lock held for
 * microseconds) for at most 200 ms, so that a checker's look never makes
 * the runner it launched give up. */
enum lock_result lock_try(const char *path, int *fd, char *err, size_t errsz);

/* Is the lock at path free? LOCK_TAKEN means it was free (and is not held
 * now), LOCK_BUSY that a runner holds it. A shared lock: any number of
 * checkers may look at once without seeing each other as a runner. */
enum lock_result lock_probe(const char *path, char *err, size_t errsz);

/* The runner's lock, beside the state database: its path plus ".lock".
 * Returns 0, or -1 when it does not fit in outsz. */
int lock_runner_path(const char *state_db, char *out, size_t outsz);

/* lock_probe() of the runner's lock beside state_db: how checkers, doctor
 * and status look at it. LOCK_ERROR with err when its path is too long. */
enum lock_result lock_runner_probe(const char *state_db, char *err, size_t errsz);

/* Release: closes the descriptor. */
void lock_release(int fd);

#endif

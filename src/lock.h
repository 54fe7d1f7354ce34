/* lock.h -- one runner at a time per state directory, with flock(2).
 *
 * The lock is a file beside the state database; flock locks vanish with the
 * process that holds them, so a killed runner never leaves a stale lock. */
#ifndef SPILLWAY_LOCK_H
#define SPILLWAY_LOCK_H

#include <stddef.h>

/* Try to take the lock at path without waiting. Returns a descriptor (>= 0)
 * to keep open for as long as the lock is held, -2 when another process
 * holds it, or -1 with the reason in err. */
int lock_try(const char *path, char *err, size_t errsz);

/* The runner's lock, beside the state database: its path plus ".lock".
 * Returns 0, or -1 when it does not fit in outsz. */
int lock_runner_path(const char *state_db, char *out, size_t outsz);

/* Release: closes the descriptor. */
void lock_release(int fd);

#endif

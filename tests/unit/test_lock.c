/* SPDX-License-Identifier: BSD-2-Clause */
/* test_lock.c -- the runner's lock against the checker's look: a runner
 * holding it is seen by both at once; checkers looking at the same time
 * never see each other as a runner; a runner waits out a checker's look but
 * not a lock held for good. Holders are child processes (flock locks belong
 * to open files, and a child's are its own). */
#include <stdlib.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "tap.h"

static char path[256], err[512];

static long long now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A child holding flock(how) on path for hold_ms (-1: until killed); returns
 * once it holds it. */
static pid_t holder(int how, int hold_ms)
{
    int ready[2];
    char c;
    pid_t pid;

    if (pipe(ready) != 0 || (pid = fork()) < 0) {
        perror("pipe/fork");
        exit(2);
    }
    if (pid == 0) {
        int fd = open(path, O_RDWR | O_CREAT, 0640);
        if (fd < 0 || flock(fd, how) != 0)
            _exit(3);
        if (write(ready[1], "x", 1) != 1)
            _exit(4);
        if (hold_ms < 0)
            pause();
        usleep((useconds_t)hold_ms * 1000);
        _exit(0);
    }
    close(ready[1]);
    if (read(ready[0], &c, 1) != 1) {
        fprintf(stderr, "holder did not start\n");
        exit(2);
    }
    close(ready[0]);
    return pid;
}

static void reap(pid_t pid)
{
    int st;

    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
}

int main(void)
{
    int fd;
    pid_t h;
    long long t0;
    enum lock_result r;

    snprintf(path, sizeof path, "/tmp/spillway-test-lock.%d", (int)getpid());
    unlink(path);

    is_int(lock_probe(path, err, sizeof err), LOCK_TAKEN, "no lock file yet: free");
    is_int(lock_try(path, &fd, err, sizeof err), LOCK_TAKEN, "a runner takes it");
    lock_release(fd);

    h = holder(LOCK_EX, -1);
    is_int(lock_probe(path, err, sizeof err), LOCK_BUSY, "a runner holds it: a checker sees it busy");
    t0 = now_ms();
    is_int(lock_try(path, &fd, err, sizeof err), LOCK_BUSY, "a second runner is refused");
    ok(now_ms() - t0 < 100, "at once (%lld ms): an exclusive holder is not waited for", now_ms() - t0);
    is_int(fd, -1, "holding nothing");
    reap(h);
    is_int(lock_probe(path, err, sizeof err), LOCK_TAKEN, "the lock died with its holder");

    h = holder(LOCK_SH, -1);
    is_int(lock_probe(path, err, sizeof err), LOCK_TAKEN,
           "another checker looking at the same moment does not look like a runner");
    reap(h);

    h = holder(LOCK_SH, 50);
    r = lock_try(path, &fd, err, sizeof err);
    is_int(r, LOCK_TAKEN, "a runner waits out a checker's look and takes the lock");
    if (r == LOCK_TAKEN) {
        is_int(lock_probe(path, err, sizeof err), LOCK_BUSY, "then checkers see it busy");
        lock_release(fd);
    }
    reap(h);

    h = holder(LOCK_SH, -1);
    t0 = now_ms();
    is_int(lock_try(path, &fd, err, sizeof err), LOCK_BUSY, "a shared lock held for good (flock -s) keeps runners out");
    ok(now_ms() - t0 < 1000, "after a bounded wait (%lld ms)", now_ms() - t0);
    reap(h);

    is_int(lock_try("/nonexistent-dir/x.lock", &fd, err, sizeof err), LOCK_ERROR, "an unopenable path is an error");
    ok(strstr(err, "/nonexistent-dir/x.lock") != NULL, "naming the path: %s", err);
    unlink(path);
    return tap_done();
}

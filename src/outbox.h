/* SPDX-License-Identifier: BSD-2-Clause */
/* outbox.h -- notifications: which events a check or a force raises, and
 * their delivery, at least once and in order, through the [notify]
 * command (notify.h).
 *
 * Events are written to the outbox (store.h) in the transaction that
 * records what raised them, so none is lost when the process dies after
 * the decision. After the decision is committed (and the runner launched)
 * the checker delivers: the oldest pending event first; one that fails is
 * tried again at a later check, retry_seconds after its first failure and
 * twice as long after each further one (at most an hour), up to
 * max_attempts, then marked dead; an event is never delivered before an
 * older one that is still pending. A slow or failing command never delays
 * or changes a decision: no delivery starts once [notify] timeout_seconds
 * have passed, so it costs the check at most twice that, after the
 * decision. SPILLWAY_ID lets a receiver drop a
 * repeat (a command that did its work but failed to say so is run again).
 * With [notify] command empty, nothing is raised. */
#ifndef SPILLWAY_OUTBOX_H
#define SPILLWAY_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "decide.h"
#include "store.h"

/* The longest wait between two attempts, whatever the retry_seconds. */
#define OUTBOX_MAX_BACKOFF_MS 3600000

/* When the event whose attempts-th attempt (1 for the first) failed at
 * now_ms is due again: retry_ms * 2^(attempts - 1), at most
 * OUTBOX_MAX_BACKOFF_MS (or retry_ms, when that is longer). Pure. */
int64_t outbox_next_attempt(int64_t now_ms, int64_t attempts, int64_t retry_ms);

/* Raise the events of one check, inside its transaction: trip or resume
 * (a mode change), flapping (a flapping period began), runs_failing
 * ([notify] runs_failing runs in a row failed: once per streak) and
 * episode_long (fallback mode for episode_long_seconds: once per
 * episode). prev is the state before the decision. Returns 0, or -1 with
 * err. */
int outbox_raise_check(const struct config *cfg, struct store *s, const struct check_state *prev,
                       const struct observation *obs, const struct decision *d, int64_t now_ms, char *err,
                       size_t errsz);

/* Raise a force event (spillway force), inside its transaction. */
int outbox_raise_force(const struct config *cfg, struct store *s, enum mode from, enum mode to, const char *reason,
                       int64_t now_ms, char *err, size_t errsz);

/* Raise the event of a change of the runner's level (level.h), inside the
 * transaction that records it (store_level_set): preserve when the
 * preserve level is entered, preserve_end when it is left. The runner
 * raises it; the next check delivers it. SPILLWAY_MODE is the checker's
 * mode at the time (both modes the same). */
int outbox_raise_level(const struct config *cfg, struct store *s, int preserve, const char *reason, int64_t now_ms,
                       char *err, size_t errsz);

/* What one delivery did. */
struct outbox_report {
    int delivered, retried, dead; /* events */
    int busy;                     /* another checker was delivering: nothing tried */
};

/* Deliver what is due at now_ms, as above, for at most [notify]
 * timeout_seconds of starting commands (each has that timeout too). One
 * checker delivers at a time (a lock beside the state database; a busy
 * lock returns at once). Each attempt is logged and recorded. Returns 0,
 * or -1 with err when the outbox could not be read or written, or the
 * command not parsed. */
int outbox_deliver(const struct config *cfg, struct store *s, int64_t now_ms, struct outbox_report *rep, char *err,
                   size_t errsz);

#endif

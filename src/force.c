/* SPDX-License-Identifier: BSD-2-Clause */
/* force.c -- `spillway force`: override the checker's mode, on the record (and notified). */
#include "force.h"

#include <pwd.h>
#include <stdio.h>
#include <sysexits.h>
#include <unistd.h>

#include "decide.h"
#include "log.h"
#include "outbox.h"
#include "store.h"
#include "util.h"

int force_run(const struct config *cfg, const char *what, const char *reason)
{
    struct check_state st, next;
    enum forced f;
    char err[1024], why[512];
    struct passwd *pw = getpwuid(getuid());
    int64_t now = now_wall_ms();
    struct store *s;

    if (what == NULL || forced_parse(what, &f) != 0) {
        log_err("force: expected fallback, primary or auto, not \"%s\"", what ? what : "");
        return EX_USAGE;
    }
    if ((s = store_open(cfg->state_database, err, sizeof err)) == NULL) {
        log_err("%s", err);
        return EX_CONFIG;
    }
    if (store_begin(s, err, sizeof err) != 0 || store_state_get(s, &st, err, sizeof err) != 0)
        goto fail;
    next = decide_force(&st, f, now);
    snprintf(why, sizeof why, "force %s by %s: %s", what, pw ? pw->pw_name : "?",
             reason && reason[0] ? reason : "no reason given");
    /* the event is delivered by the next check, as the service user: the
     * operator running force (root, often) never runs the command */
    if (store_force_insert(s, now, st.mode, next.mode, f, why, err, sizeof err) != 0 ||
        store_state_put(s, &next, now, err, sizeof err) != 0 ||
        outbox_raise_force(cfg, s, st.mode, next.mode, why, now, err, sizeof err) != 0 ||
        store_commit(s, err, sizeof err) != 0)
        goto fail;
    store_close(s);
    log_info("%s (mode %s -> %s)", why, mode_name(st.mode), mode_name(next.mode));
    return 0;
fail:
    log_err("%s", err);
    store_rollback(s);
    store_close(s);
    return EX_SOFTWARE;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_flink.c -- the Flink health judgement (src/probe.h) on hostile
 * JobManager answers.
 *
 * Input: a JSON body. It is judged as a /jobs/overview document by
 * probe_flink_jobs(), and served by a loopback HTTP server (loopback.c) as
 * the answer to both /overview and /jobs/overview, so that probe_flink()
 * judges it as both. Checked, beyond the sanitizers:
 *   - probe_flink_jobs() returns 1 or 0, and 0 with a reason;
 *   - probe_flink() agrees with the two documents: unhealthy (0) when
 *     /overview has no positive integer "jobs-running", else whatever
 *     probe_flink_jobs() says of /jobs/overview; never -1 (no timeout). */
#include <jansson.h>
#include <string.h>

#include "fuzz.h"
#include "loopback.h"
#include "probe.h"

static const char *base;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    base = loopback_start();
    if (base == NULL)
        fuzz_fail("cannot start the loopback server");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    char why[256] = "", why2[256] = "";
    int jobs = probe_flink_jobs(body, size, why, sizeof why);

    fuzz_check(jobs == 0 || jobs == 1, "probe_flink_jobs() returned %d", jobs);
    fuzz_check(jobs == 1 || why[0] != '\0', "unhealthy without a reason");

    /* the overview's own judgement, independently */
    json_error_t jerr;
    json_t *root = json_loadb(body, size, 0, &jerr);
    json_t *jr = json_object_get(root, "jobs-running");
    int running = json_is_integer(jr) && json_integer_value(jr) > 0;
    json_decref(root);

    loopback_answer(200, body, size);
    unsigned long before = loopback_requests();
    enum flink_health fh = probe_flink(base, 5, why2, sizeof why2);
    int h = fh == FLINK_HEALTHY ? 1 : fh == FLINK_UNHEALTHY ? 0 : -1;
    fuzz_check(loopback_requests() > before, "probe_flink() made no request");
    if (h != (running ? jobs : 0)) {
        fuzz_print_bytes("answer", body, size);
        fuzz_fail("probe_flink() = %d (%s), but /overview running = %d and probe_flink_jobs() = %d", h, why2, running,
                  jobs);
    }
    fuzz_check(h == 1 || why2[0] != '\0', "probe_flink(): unhealthy without a reason");
    return 0;
}

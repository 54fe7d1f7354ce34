/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz.h -- what every fuzz target shares: the libFuzzer entry points and a
 * failing check that says what broke before it aborts.
 *
 * A broken invariant is a finding like a sanitizer report: fuzz_fail()
 * prints the reason on stderr and abort()s, which libFuzzer records as a
 * crash and saves the input under -artifact_prefix. */
#ifndef SPILLWAY_FUZZ_H
#define SPILLWAY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The repository, baked in at build time, so a target finds its schemas
 * from wherever it is run. */
#ifndef SPILLWAY_SRCDIR
#define SPILLWAY_SRCDIR "."
#endif

/* Print len bytes of s on stderr, C-escaped, between quotes. */
static inline void fuzz_print_bytes(const char *what, const void *s, size_t len)
{
    const unsigned char *p = s;

    fprintf(stderr, "  %s (%zu bytes): \"", what, len);
    for (size_t i = 0; i < len && i < 400; i++) {
        if (p[i] == '"' || p[i] == '\\')
            fprintf(stderr, "\\%c", p[i]);
        else if (p[i] >= 0x20 && p[i] < 0x7f)
            fputc(p[i], stderr);
        else
            fprintf(stderr, "\\x%02x", p[i]);
    }
    fprintf(stderr, len > 400 ? "\"...\n" : "\"\n");
}

#define fuzz_fail(...)                                                                                  \
    do {                                                                                                \
        fprintf(stderr, "\nFUZZ INVARIANT BROKEN at %s:%d: ", __FILE__, __LINE__);                      \
        fprintf(stderr, __VA_ARGS__);                                                                   \
        fputc('\n', stderr);                                                                            \
        abort();                                                                                        \
    } while (0)

#define fuzz_check(cond, ...)                                                                           \
    do {                                                                                                \
        if (!(cond))                                                                                    \
            fuzz_fail(__VA_ARGS__);                                                                     \
    } while (0)

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_ml_answer.c -- ml_parse_prediction() on hostile ML service answers.
 *
 * Input: the body of a 2xx answer. It is parsed for the shipped
 * response_field and for a field named by the input's last line, so both
 * a reference-like answer and odd field names are reached. Checked, beyond
 * the sanitizers: a refusal comes with a reason; an accepted answer gives
 * the same prediction when parsed again (no hidden state). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ml.h"

static void parse(const char *body, size_t len, const char *field)
{
    int64_t a = -1, b = -2;
    char err[512] = "", err2[512] = "";
    int rc = ml_parse_prediction(body, len, field, &a, err, sizeof err);
    int rc2 = ml_parse_prediction(body, len, field, &b, err2, sizeof err2);

    fuzz_check(rc == 0 || rc == -1, "ml_parse_prediction() returned %d", rc);
    fuzz_check(rc == rc2 && (rc != 0 || a == b), "two parses of one answer differ");
    if (rc != 0)
        fuzz_check(err[0] != '\0' && memchr(err, '\0', sizeof err) != NULL, "a refusal without a reason");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    const char *nl = size ? memrchr(body, '\n', size) : NULL;

    parse(body, size, "stress_level_prediction");
    if (nl != NULL) {
        size_t flen = size - (size_t)(nl - body) - 1;
        char *field = malloc(flen + 1);
        if (field == NULL)
            return 0;
        memcpy(field, nl + 1, flen);
        field[flen] = '\0';
        parse(body, size, field);
        free(field);
    }
    return 0;
}

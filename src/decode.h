/* SPDX-License-Identifier: BSD-2-Clause */
/* decode.h -- schema-driven decoding of one Avro binary datum per message.
 *
 * The schema comes from the file named in the config and is parsed and
 * checked by avro-c; the fields spillway needs (the id, the event time and
 * the numeric fields) are looked up by name once, at open. Each message is
 * then walked against the schema, every length and index checked to lie
 * inside it, and the needed fields are read from their bytes as the walk
 * passes them. avro-c's own generic reader (decode_message_avro(), kept to
 * cross-check this one in the tests and the fuzz target) allocated and freed
 * per message: it cost more CPU than consuming the message did.
 * Each needed field must be of its type, or a union of null and that type:
 * the id and time fields strings, the numeric fields int, long, float or
 * double. */
#ifndef SPILLWAY_DECODE_H
#define SPILLWAY_DECODE_H

#include <stddef.h>

#include "agg.h"

struct decoder;

/* One decoded message. Strings point into the message's bytes (not
 * NUL-terminated) and stay valid while they do; has_* = 0 means the value
 * was null (its other members are then 0). values[i] is set only where
 * present[i] is non-zero (i below the decoder's number of fields). */
struct decoded {
    const char *id;
    size_t id_len;
    int has_id;
    const char *time;
    size_t time_len;
    int has_time;
    double values[AGG_MAX_FIELDS];
    unsigned char present[AGG_MAX_FIELDS];
};

/* Load and check the schema. Returns a decoder, or NULL with a message naming
 * the schema file and the field in err. */
struct decoder *decoder_open(const char *schema_path, const char *id_field, const char *time_field,
                             char *const *fields, size_t nfields, char *err, size_t errsz);

/* Decode buf (len bytes, exactly one datum). Returns 0, or -1 with the reason
 * (truncated, trailing bytes, bad union branch, ...) in err. */
int decode_message(struct decoder *d, const void *buf, size_t len, struct decoded *out, char *err,
                   size_t errsz);

/* The same through avro-c's generic reader: what decode_message() must
 * agree with (its strings point into the decoder, valid until the next
 * call). For the tests. */
int decode_message_avro(struct decoder *d, const void *buf, size_t len, struct decoded *out, char *err,
                        size_t errsz);

void decoder_close(struct decoder *d);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* decode.c -- Avro binary datums: the bounds-checked walk that reads the needed fields; avro-c for the schema. */
#include "decode.h"

#include <avro.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct field_ref {
    int index;       /* in the record */
    int is_union;    /* union of null and the type */
    int null_branch; /* which branch of the union is null */
    avro_type_t type;
};

/* The schema flattened for the bounds-checking walk: asking avro-c's schema
 * accessors per message (a hash lookup per record field) cost more than the
 * walk itself. */
struct wnode {
    avro_type_t type;
    int64_t n;   /* fields, branches, fixed size or enum symbols */
    int *kids;   /* node indexes: fields, branches, or the item/value type */
};

struct decoder {
    avro_schema_t schema;
    struct wnode *nodes;
    size_t nnodes;
    avro_schema_t *memo; /* memo[i] is the schema of nodes[i] */
    avro_value_iface_t *iface;
    avro_value_t record;
    avro_reader_t reader;
    struct field_ref id, time, fields[AGG_MAX_FIELDS];
    size_t nfields;
    unsigned char *needed; /* per field of the record: one of the above */
};

static int compile_schema(struct decoder *d, avro_schema_t s);

static void decoder_free_nodes(struct decoder *d)
{
    free(d->needed);
    d->needed = NULL;
    for (size_t i = 0; i < d->nnodes; i++)
        free(d->nodes[i].kids);
    free(d->nodes);
    free(d->memo);
}

static int is_numeric(avro_type_t t)
{
    return t == AVRO_INT32 || t == AVRO_INT64 || t == AVRO_FLOAT || t == AVRO_DOUBLE;
}

/* Find name in the record and check that it is of an accepted type. */
static int resolve_field(avro_schema_t record, const char *path, const char *name, int want_string,
                         struct field_ref *ref, char *err, size_t errsz)
{
    avro_schema_t fs;
    avro_type_t t;

    ref->index = avro_schema_record_field_get_index(record, name);
    if (ref->index < 0) {
        snprintf(err, errsz, "%s: the schema has no field \"%s\"", path, name);
        return -1;
    }
    fs = avro_schema_record_field_get_by_index(record, ref->index);
    t = avro_typeof(fs);
    ref->is_union = 0;
    if (t == AVRO_UNION) {
        size_t n = avro_schema_union_size(fs);
        int nulls = 0, others = 0;
        for (size_t i = 0; i < n; i++) {
            avro_type_t bt = avro_typeof(avro_schema_union_branch(fs, (int)i));
            if (bt == AVRO_NULL) {
                nulls++;
                ref->null_branch = (int)i;
            } else
            {
                others++;
                t = bt;
            }
        }
        if (nulls != 1 || others != 1) {
            snprintf(err, errsz, "%s: field \"%s\" is a union other than [null, type]", path, name);
            return -1;
        }
        ref->is_union = 1;
    }
    if (want_string ? t != AVRO_STRING : !is_numeric(t)) {
        snprintf(err, errsz, "%s: field \"%s\" must be %s (or a union of null and that)", path, name,
                 want_string ? "a string" : "an int, long, float or double");
        return -1;
    }
    ref->type = t;
    return 0;
}

static char *read_file(const char *path, size_t *len, char *err, size_t errsz)
{
    FILE *fp = fopen(path, "rb");
    char *data = NULL;
    long size;

    if (fp == NULL) {
        snprintf(err, errsz, "%s: cannot open the schema: %s", path, strerror(errno));
        return NULL;
    }
    if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0 ||
        (data = malloc((size_t)size + 1)) == NULL || fread(data, 1, (size_t)size, fp) != (size_t)size) {
        snprintf(err, errsz, "%s: cannot read the schema", path);
        free(data);
        fclose(fp);
        return NULL;
    }
    fclose(fp);
    data[size] = '\0';
    *len = (size_t)size;
    return data;
}

struct decoder *decoder_open(const char *path, const char *id_field, const char *time_field,
                             char *const *fields, size_t nfields, char *err, size_t errsz)
{
    struct decoder *d = calloc(1, sizeof *d);
    size_t len;
    char *json;

    if (d == NULL) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    json = read_file(path, &len, err, errsz);
    if (json == NULL) {
        free(d);
        return NULL;
    }
    if (avro_schema_from_json_length(json, len, &d->schema) != 0) {
        snprintf(err, errsz, "%s: not a valid Avro schema: %s", path, avro_strerror());
        free(json);
        free(d);
        return NULL;
    }
    free(json);
    if (avro_typeof(d->schema) != AVRO_RECORD) {
        snprintf(err, errsz, "%s: the schema is not a record", path);
        goto fail;
    }
    if (resolve_field(d->schema, path, id_field, 1, &d->id, err, errsz) ||
        resolve_field(d->schema, path, time_field, 1, &d->time, err, errsz))
        goto fail;
    for (size_t i = 0; i < nfields; i++)
        if (resolve_field(d->schema, path, fields[i], 0, &d->fields[i], err, errsz))
            goto fail;
    d->nfields = nfields;
    d->needed = calloc(avro_schema_record_size(d->schema) + 1, 1);
    if (d->needed == NULL || compile_schema(d, d->schema) != 0) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    d->needed[d->id.index] = d->needed[d->time.index] = 1;
    for (size_t i = 0; i < nfields; i++)
        d->needed[d->fields[i].index] = 1;
    d->iface = avro_generic_class_from_schema(d->schema);
    if (d->iface == NULL || avro_generic_value_new(d->iface, &d->record) != 0) {
        snprintf(err, errsz, "%s: avro-c cannot build a reader: %s", path, avro_strerror());
        goto fail;
    }
    d->reader = avro_reader_memory("", 0);
    if (d->reader == NULL) {
        snprintf(err, errsz, "out of memory");
        avro_value_decref(&d->record);
        goto fail;
    }
    return d;
fail:
    if (d->iface)
        avro_value_iface_decref(d->iface);
    decoder_free_nodes(d);
    avro_schema_decref(d->schema);
    free(d);
    return NULL;
}

/* Step into the field's value (through its union branch); *is_null when the
 * null branch is set. */
static int field_value(struct decoder *d, const struct field_ref *ref, avro_value_t *out, int *is_null)
{
    avro_value_t child;

    if (avro_value_get_by_index(&d->record, (size_t)ref->index, &child, NULL) != 0)
        return -1;
    if (ref->is_union) {
        if (avro_value_get_current_branch(&child, out) != 0)
            return -1;
        *is_null = avro_value_get_type(out) == AVRO_NULL;
        return 0;
    }
    *out = child;
    *is_null = 0;
    return 0;
}

static int string_value(struct decoder *d, const struct field_ref *ref, const char **s, size_t *len, int *has)
{
    avro_value_t v;
    int is_null;

    if (field_value(d, ref, &v, &is_null) != 0)
        return -1;
    *has = !is_null;
    if (is_null) {
        *s = NULL;
        *len = 0;
        return 0;
    }
    if (avro_value_get_string(&v, s, len) != 0)
        return -1;
    *len = *len ? *len - 1 : 0; /* avro-c counts the NUL */
    return 0;
}

static int number_value(struct decoder *d, const struct field_ref *ref, double *out, unsigned char *has)
{
    avro_value_t v;
    int is_null, rc = -1;

    if (field_value(d, ref, &v, &is_null) != 0)
        return -1;
    *has = !is_null;
    if (is_null)
        return 0;
    /* Zero-initialised: avro-c's getter macros return EINVAL without writing
     * when the value has no such method, and *out is copied before rc is
     * looked at (clang's -Wsometimes-uninitialized, an error under -Werror). */
    switch (ref->type) {
    case AVRO_FLOAT: { float f = 0; rc = avro_value_get_float(&v, &f); *out = f; break; }
    case AVRO_DOUBLE: rc = avro_value_get_double(&v, out); break;
    case AVRO_INT32: { int32_t i = 0; rc = avro_value_get_int(&v, &i); *out = i; break; }
    case AVRO_INT64: { int64_t i = 0; rc = avro_value_get_long(&v, &i); *out = (double)i; break; }
    default: break;
    }
    return rc;
}

/* A bounds-checking walk of one datum against the schema, run before
 * avro-c sees the bytes. Why: avro-c 1.11's binary reader trusts length
 * prefixes. A string shorter than its prefix leaks the buffer it allocated
 * for it (read_string() returns the error without freeing), a garbage
 * prefix of gigabytes is allocated before the read fails, and a negative one
 * is reported as "out of memory". After this walk every length is
 * non-negative and inside the message, every union and enum index exists,
 * and the datum ends where the message does, so avro-c's read cannot fail
 * half-way. */
/* Flatten s into d->nodes; returns its index, or -1 when out of memory.
 * Named types reached again (recursive schemas) reuse their node. */
static int compile_schema(struct decoder *d, avro_schema_t s)
{
    struct wnode *nodes;
    avro_schema_t *memo;
    avro_type_t t;
    int idx, nkids = 0;

    while (avro_typeof(s) == AVRO_LINK)
        s = avro_schema_link_target(s);
    for (size_t i = 0; i < d->nnodes; i++)
        if (d->memo[i] == s)
            return (int)i;
    nodes = realloc(d->nodes, (d->nnodes + 1) * sizeof *nodes);
    if (nodes == NULL)
        return -1;
    d->nodes = nodes;
    memo = realloc(d->memo, (d->nnodes + 1) * sizeof *memo);
    if (memo == NULL)
        return -1;
    d->memo = memo;
    idx = (int)d->nnodes++;
    t = avro_typeof(s);
    d->memo[idx] = s;
    d->nodes[idx] = (struct wnode){ .type = t };
    switch (t) {
    case AVRO_RECORD: nkids = (int)avro_schema_record_size(s); break;
    case AVRO_UNION: nkids = (int)avro_schema_union_size(s); break;
    case AVRO_ARRAY: case AVRO_MAP: nkids = 1; break;
    case AVRO_FIXED: d->nodes[idx].n = avro_schema_fixed_size(s); break;
    case AVRO_ENUM: d->nodes[idx].n = avro_schema_enum_number_of_symbols(s); break;
    default: break;
    }
    if (nkids == 0)
        return idx;
    int *kids = calloc((size_t)nkids, sizeof *kids);
    if (kids == NULL)
        return -1;
    d->nodes[idx].kids = kids;
    d->nodes[idx].n = t == AVRO_ARRAY || t == AVRO_MAP ? 0 : nkids;
    for (int i = 0; i < nkids; i++) {
        avro_schema_t kid = t == AVRO_RECORD  ? avro_schema_record_field_get_by_index(s, i)
                            : t == AVRO_UNION ? avro_schema_union_branch(s, i)
                            : t == AVRO_ARRAY ? avro_schema_array_items(s)
                                              : avro_schema_map_values(s);
        int k = compile_schema(d, kid);
        if (k < 0)
            return -1;
        d->nodes[idx].kids[i] = k; /* d->nodes may have moved: index again */
    }
    return idx;
}

struct walk {
    const unsigned char *p;
    size_t len, pos;
    size_t free_items; /* items so far that took no byte: see walk_datum() */
    char *err;
    size_t errsz;
};

/* Whether a value of node takes no byte at all: null, fixed of size 0, or a
 * record of only such fields. */
static int zero_width(const struct wnode *nodes, int node, int depth)
{
    const struct wnode *s = &nodes[node];

    if (depth > 64)
        return 0;
    if (s->type == AVRO_NULL || (s->type == AVRO_FIXED && s->n == 0))
        return 1;
    if (s->type != AVRO_RECORD)
        return 0;
    for (int64_t i = 0; i < s->n; i++)
        if (!zero_width(nodes, s->kids[i], depth + 1))
            return 0;
    return 1;
}

static int walk_fail(struct walk *w, const char *what)
{
    snprintf(w->err, w->errsz, "not a datum of the schema (%zu bytes): %s at byte %zu", w->len, what, w->pos);
    return -1;
}

static int walk_long(struct walk *w, int64_t *out)
{
    uint64_t v = 0;

    for (int shift = 0; shift < 64; shift += 7) {
        if (w->pos >= w->len)
            return walk_fail(w, "truncated number");
        unsigned char b = w->p[w->pos++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 0;
        }
    }
    return walk_fail(w, "number longer than 10 bytes");
}

static int walk_skip(struct walk *w, int64_t n, const char *what)
{
    if (n < 0)
        return walk_fail(w, what);
    if ((uint64_t)n > w->len - w->pos)
        return walk_fail(w, "truncated value");
    w->pos += (size_t)n;
    return 0;
}

static int walk_datum(struct walk *w, const struct wnode *nodes, int node, int depth)
{
    const struct wnode *s = &nodes[node];
    int64_t n;

    if (depth > 64)
        return walk_fail(w, "schema nested too deeply");
    switch (s->type) {
    case AVRO_NULL:
        return 0;
    case AVRO_BOOLEAN:
        if (w->pos >= w->len || w->p[w->pos] > 1)
            return walk_fail(w, "bad boolean");
        w->pos++;
        return 0;
    case AVRO_INT32:
        if (walk_long(w, &n) != 0)
            return -1;
        return n < INT32_MIN || n > INT32_MAX ? walk_fail(w, "int out of range") : 0;
    case AVRO_INT64:
        return walk_long(w, &n);
    case AVRO_FLOAT:
        return walk_skip(w, 4, "");
    case AVRO_DOUBLE:
        return walk_skip(w, 8, "");
    case AVRO_STRING:
    case AVRO_BYTES:
        if (walk_long(w, &n) != 0)
            return -1;
        return walk_skip(w, n, "negative length");
    case AVRO_FIXED:
        return walk_skip(w, s->n, "bad fixed size");
    case AVRO_ENUM:
        if (walk_long(w, &n) != 0)
            return -1;
        return n < 0 || n >= s->n ? walk_fail(w, "enum index out of range") : 0;
    case AVRO_UNION:
        if (walk_long(w, &n) != 0)
            return -1;
        if (n < 0 || n >= s->n)
            return walk_fail(w, "union branch out of range");
        return walk_datum(w, nodes, s->kids[n], depth + 1);
    case AVRO_RECORD:
        for (int64_t i = 0; i < s->n; i++)
            if (walk_datum(w, nodes, s->kids[i], depth + 1) != 0)
                return -1;
        return 0;
    case AVRO_ARRAY:
    case AVRO_MAP: {
        int is_map = s->type == AVRO_MAP;
        for (;;) {
            int64_t count, size;
            if (walk_long(w, &count) != 0)
                return -1;
            if (count == 0)
                return 0;
            if (count < 0) {
                if (count == INT64_MIN || walk_long(w, &size) != 0)
                    return count == INT64_MIN ? walk_fail(w, "bad block count") : -1;
                count = -count;
            }
            /* Every item takes at least a byte of what is left, but items
             * that take none (null, a record of nulls). Those are counted
             * against the message's length as if each took a byte, over all
             * of its blocks and arrays. Why: bounded per block only, 540
             * bytes of block headers stood for 129 million nulls, for which
             * avro-c asked for 320 MiB at once; and 64 KiB of headers of
             * records of nulls, bounded per block by what was left, cost
             * 4.5 s and 650 MiB. */
            if (is_map || !zero_width(nodes, s->kids[0], 0)) {
                if ((uint64_t)count > w->len - w->pos + 1)
                    return walk_fail(w, "block count larger than the message");
            } else {
                if ((uint64_t)count > w->len - w->free_items)
                    return walk_fail(w, "more items without bytes than the message has bytes");
                w->free_items += (size_t)count;
            }
            if ((uint64_t)count > (1u << 20))
                return walk_fail(w, "block count too large");
            for (int64_t i = 0; i < count; i++) {
                if (is_map && (walk_long(w, &n) != 0 || walk_skip(w, n, "negative length") != 0))
                    return -1;
                if (walk_datum(w, nodes, s->kids[0], depth + 1) != 0)
                    return -1;
            }
        }
    }
    default:
        return walk_fail(w, "unsupported schema type");
    }
}

/* The value of a needed field from its bytes (s, n: exactly the field,
 * already checked by the walk, so nothing here can run past them). */
static int64_t read_zigzag(const unsigned char *s, size_t n, size_t *at)
{
    uint64_t v = 0;

    for (int shift = 0; *at < n && shift < 64; shift += 7) {
        unsigned char b = s[(*at)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static uint64_t read_le(const unsigned char *s, int bytes)
{
    uint64_t v = 0;

    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | s[i];
    return v;
}

/* Where the field's own value starts, past its union branch; 0 when null. */
static int field_start(const struct field_ref *ref, const unsigned char *s, size_t n, size_t *at)
{
    *at = 0;
    if (ref->is_union)
        return read_zigzag(s, n, at) != ref->null_branch;
    return 1;
}

static void read_string_field(const struct field_ref *ref, const unsigned char *s, size_t n, const char **out,
                              size_t *len, int *has)
{
    size_t at;

    *out = NULL;
    *len = 0;
    if (!(*has = field_start(ref, s, n, &at)))
        return;
    *len = (size_t)read_zigzag(s, n, &at);
    *out = (const char *)s + at;
}

static void read_number_field(const struct field_ref *ref, const unsigned char *s, size_t n, double *out,
                              unsigned char *has)
{
    size_t at;

    *out = 0;
    if (!(*has = (unsigned char)field_start(ref, s, n, &at)))
        return;
    switch (ref->type) {
    case AVRO_FLOAT: {
        uint32_t bits = (uint32_t)read_le(s + at, 4);
        float f;
        memcpy(&f, &bits, sizeof f);
        *out = f;
        break;
    }
    case AVRO_DOUBLE: {
        uint64_t bits = read_le(s + at, 8);
        memcpy(out, &bits, sizeof *out);
        break;
    }
    case AVRO_INT32:
    case AVRO_INT64:
        *out = (double)read_zigzag(s, n, &at);
        break;
    default:
        break;
    }
}

/* Read a needed field of the top-level record from its bytes. */
static void capture(struct decoder *d, int field, const unsigned char *s, size_t n, struct decoded *out)
{
    if (field == d->id.index)
        read_string_field(&d->id, s, n, &out->id, &out->id_len, &out->has_id);
    if (field == d->time.index)
        read_string_field(&d->time, s, n, &out->time, &out->time_len, &out->has_time);
    for (size_t i = 0; i < d->nfields; i++)
        if (field == d->fields[i].index)
            read_number_field(&d->fields[i], s, n, &out->values[i], &out->present[i]);
}

/* The datum is walked field by field against the schema (see walk_datum());
 * the needed fields are read from their bytes as the walk passes them. */
int decode_message(struct decoder *d, const void *buf, size_t len, struct decoded *out, char *err,
                   size_t errsz)
{
    struct walk w = { .p = buf, .len = len, .err = err, .errsz = errsz };
    const struct wnode *root = &d->nodes[0];

    /* per message: clearing the whole struct (its 32 doubles) cost a sixth
     * of this function; values[i] means nothing unless present[i] */
    out->id = out->time = NULL;
    out->id_len = out->time_len = 0;
    out->has_id = out->has_time = 0;
    memset(out->present, 0, d->nfields);
    for (int64_t f = 0; f < root->n; f++) {
        size_t start = w.pos;
        if (walk_datum(&w, d->nodes, root->kids[f], 1) != 0)
            return -1;
        if (d->needed[f])
            capture(d, (int)f, w.p + start, w.pos - start, out);
    }
    if (w.pos != len) {
        snprintf(err, errsz, "not a datum of the schema: %zu trailing bytes after the record (%zu bytes)",
                 len - w.pos, len);
        return -1;
    }
    return 0;
}

int decode_message_avro(struct decoder *d, const void *buf, size_t len, struct decoded *out, char *err,
                        size_t errsz)
{
    struct walk w = { .p = buf, .len = len, .err = err, .errsz = errsz };

    /* avro-c's reader trusts length prefixes: the walk goes first here too */
    if (walk_datum(&w, d->nodes, 0, 0) != 0)
        return -1;
    if (w.pos != len) {
        snprintf(err, errsz, "not a datum of the schema: %zu trailing bytes after the record (%zu bytes)",
                 len - w.pos, len);
        return -1;
    }
    avro_reader_memory_set_source(d->reader, buf, (int64_t)len);
    if (avro_value_read(d->reader, &d->record) != 0) {
        const char *why = avro_strerror();
        /* avro-c leaves a newline on some messages */
        snprintf(err, errsz, "not a datum of the schema (%zu bytes): %.*s", len,
                 (int)strcspn(why, "\n"), why);
        return -1;
    }
    if (string_value(d, &d->id, &out->id, &out->id_len, &out->has_id) != 0 ||
        string_value(d, &d->time, &out->time, &out->time_len, &out->has_time) != 0) {
        snprintf(err, errsz, "cannot read the id or time field: %s", avro_strerror());
        return -1;
    }
    for (size_t i = 0; i < d->nfields; i++) {
        if (number_value(d, &d->fields[i], &out->values[i], &out->present[i]) != 0) {
            snprintf(err, errsz, "cannot read numeric field %zu: %s", i, avro_strerror());
            return -1;
        }
    }
    return 0;
}

void decoder_close(struct decoder *d)
{
    if (d == NULL)
        return;
    avro_reader_free(d->reader);
    avro_value_decref(&d->record);
    avro_value_iface_decref(d->iface);
    decoder_free_nodes(d);
    avro_schema_decref(d->schema);
    free(d);
}

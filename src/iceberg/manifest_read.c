/* manifest_read.c - manifests decoded with libavro's file reader (see
 * manifest_read.h). Fields are looked up by name, so writers that order
 * them differently or add optional ones decode alike. */
#define _GNU_SOURCE /* fmemopen */
#include "iceberg/manifest_read.h"

#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"

/* Field name of rec into *out, through an optional's branch. False when the
 * field is absent or null. */
static bool field(avro_value_t *rec, const char *name, avro_value_t *out)
{
    avro_value_t v;
    if (avro_value_get_by_name(rec, name, &v, NULL) != 0)
        return false;
    if (avro_value_get_type(&v) == AVRO_UNION) {
        if (avro_value_get_current_branch(&v, out) != 0)
            return false;
        return avro_value_get_type(out) != AVRO_NULL;
    }
    *out = v;
    return true;
}

static int64_t as_long(avro_value_t *v, int64_t dflt)
{
    int32_t i;
    int64_t l;
    if (avro_value_get_type(v) == AVRO_INT32 && avro_value_get_int(v, &i) == 0)
        return i;
    if (avro_value_get_type(v) == AVRO_INT64 && avro_value_get_long(v, &l) == 0)
        return l;
    return dflt;
}

static int64_t long_field(avro_value_t *rec, const char *name, int64_t dflt)
{
    avro_value_t v;
    return field(rec, name, &v) ? as_long(&v, dflt) : dflt;
}

static char *string_field(avro_value_t *rec, const char *name)
{
    avro_value_t v;
    const char *s = NULL;
    size_t len = 0;
    if (!field(rec, name, &v) || avro_value_get_string(&v, &s, &len) != 0 || !s)
        return NULL;
    return tw_xstrdup(s);
}

static void bytes_of(avro_value_t *v, tw_iceberg_bytes *out)
{
    const void *p;
    size_t len;
    *out = (tw_iceberg_bytes){0};
    if (avro_value_get_bytes(v, &p, &len) != 0)
        return;
    out->present = true;
    out->data = tw_xmalloc(len ? len : 1);
    if (len)
        memcpy(out->data, p, len);
    out->len = len;
}

static void bytes_field(avro_value_t *rec, const char *name, tw_iceberg_bytes *out)
{
    avro_value_t v;
    *out = (tw_iceberg_bytes){0};
    if (field(rec, name, &v))
        bytes_of(&v, out);
}

/* An Avro partition value as a tw_value (null, boolean, int, long, float,
 * double, string; dates, times and timestamps stay integers). */
static tw_value partition_value(avro_value_t *slot)
{
    avro_value_t v = *slot;
    tw_value out = {.type = TW_T_INT64, .is_null = true};
    if (avro_value_get_type(&v) == AVRO_UNION && avro_value_get_current_branch(slot, &v) != 0)
        return out;
    switch (avro_value_get_type(&v)) {
    case AVRO_BOOLEAN: {
        int b = 0;
        avro_value_get_boolean(&v, &b);
        return (tw_value){.type = TW_T_BOOL, .b = (uint8_t)(b != 0)};
    }
    case AVRO_INT32:
    case AVRO_INT64: return (tw_value){.type = TW_T_INT64, .i64 = as_long(&v, 0)};
    case AVRO_FLOAT: {
        float f = 0;
        avro_value_get_float(&v, &f);
        return (tw_value){.type = TW_T_FLOAT64, .f64 = f};
    }
    case AVRO_DOUBLE: {
        double d = 0;
        avro_value_get_double(&v, &d);
        return (tw_value){.type = TW_T_FLOAT64, .f64 = d};
    }
    case AVRO_STRING: {
        const char *s = NULL;
        size_t len = 0;
        if (avro_value_get_string(&v, &s, &len) != 0 || !s)
            return out;
        size_t n = strlen(s);
        char *copy = tw_xmalloc(n + 1);
        memcpy(copy, s, n + 1);
        return (tw_value){.type = TW_T_VARCHAR, .s = {copy, (uint32_t)n}};
    }
    default: return out;
    }
}

static tw_iceberg_bound *bound_slot(tw_iceberg_file_entry *e, int32_t id)
{
    for (uint32_t i = 0; i < e->nbounds; i++)
        if (e->bounds[i].field_id == id)
            return &e->bounds[i];
    e->bounds = tw_xrealloc(e->bounds, (e->nbounds + 1) * sizeof *e->bounds);
    tw_iceberg_bound *b = &e->bounds[e->nbounds++];
    *b = (tw_iceberg_bound){.field_id = id};
    return b;
}

/* lower_bounds / upper_bounds: Iceberg writes int-keyed maps as arrays of
 * {key, value} records; a genuine Avro map (string keys) is read too. */
static void read_bounds(avro_value_t *df, const char *name, bool upper, tw_iceberg_file_entry *e)
{
    avro_value_t m, item, k, v;
    size_t n = 0;
    if (!field(df, name, &m) || avro_value_get_size(&m, &n) != 0)
        return;
    bool is_map = avro_value_get_type(&m) == AVRO_MAP;
    for (size_t i = 0; i < n; i++) {
        const char *key_name = NULL;
        if (avro_value_get_by_index(&m, i, &item, is_map ? &key_name : NULL) != 0)
            continue;
        int32_t id;
        if (is_map) {
            if (!key_name)
                continue;
            id = (int32_t)atoi(key_name);
            v = item;
        } else {
            if (avro_value_get_by_name(&item, "key", &k, NULL) != 0 ||
                avro_value_get_by_name(&item, "value", &v, NULL) != 0)
                continue;
            id = (int32_t)as_long(&k, -1);
        }
        tw_iceberg_bound *b = bound_slot(e, id);
        tw_iceberg_bytes *dst = upper ? &b->upper : &b->lower;
        free(dst->data);
        bytes_of(&v, dst);
    }
}

static bool read_entry(avro_value_t *rec, tw_iceberg_file_entry *e, tw_err *err)
{
    avro_value_t df, part, slot;
    memset(e, 0, sizeof *e);
    e->status = (tw_iceberg_entry_status)long_field(rec, "status", 1);
    if (!field(rec, "data_file", &df))
        return tw_err_set(err, TW_ERR_IO, "manifest entry without data_file");
    e->content = (int32_t)long_field(&df, "content", 0);
    e->path = string_field(&df, "file_path");
    if (!e->path)
        return tw_err_set(err, TW_ERR_IO, "manifest entry without file_path");
    e->format = string_field(&df, "file_format");
    e->record_count = (uint64_t)long_field(&df, "record_count", 0);
    e->file_size_bytes = (uint64_t)long_field(&df, "file_size_in_bytes", 0);
    size_t np = 0;
    if (field(&df, "partition", &part) && avro_value_get_size(&part, &np) == 0 && np) {
        e->partition = tw_xcalloc(np, sizeof *e->partition);
        e->npartition = (uint32_t)np;
        for (size_t i = 0; i < np; i++) {
            e->partition[i] = (tw_value){.type = TW_T_INT64, .is_null = true};
            if (avro_value_get_by_index(&part, i, &slot, NULL) == 0)
                e->partition[i] = partition_value(&slot);
        }
    }
    read_bounds(&df, "lower_bounds", false, e);
    read_bounds(&df, "upper_bounds", true, e);
    return true;
}

static void entry_clear(tw_iceberg_file_entry *e)
{
    free(e->path);
    free(e->format);
    for (uint32_t i = 0; i < e->npartition; i++)
        if (e->partition[i].type == TW_T_VARCHAR && !e->partition[i].is_null)
            free((void *)e->partition[i].s.ptr);
    free(e->partition);
    for (uint32_t i = 0; i < e->nbounds; i++) {
        free(e->bounds[i].lower.data);
        free(e->bounds[i].upper.data);
    }
    free(e->bounds);
}

void tw_iceberg_file_entries_free(tw_iceberg_file_entry *entries, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        entry_clear(&entries[i]);
    free(entries);
}

const tw_iceberg_bound *tw_iceberg_file_entry_bound(const tw_iceberg_file_entry *e,
                                                    int32_t field_id)
{
    for (uint32_t i = 0; i < e->nbounds; i++)
        if (e->bounds[i].field_id == field_id)
            return &e->bounds[i];
    return NULL;
}

/* Calls each(rec, ctx, err) for every record of the Avro container file in
 * bytes[0..len), stopping at the first it refuses; `what` names the file in
 * messages. */
static bool for_each_record(const char *bytes, size_t len, const char *what,
                            bool (*each)(avro_value_t *rec, void *ctx, tw_err *err), void *ctx,
                            tw_err *err)
{
    FILE *f = fmemopen((void *)bytes, len, "rb");
    if (!f)
        return tw_err_set(err, TW_ERR_NOMEM, "out of memory");
    avro_file_reader_t reader;
    /* The reader takes over f (should_close = 1), also on failure. */
    if (avro_file_reader_fp(f, what, 1, &reader) != 0)
        return tw_err_set(err, TW_ERR_IO, "%s is not an Avro file: %s", what, avro_strerror());
    avro_schema_t schema = avro_file_reader_get_writer_schema(reader);
    avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
    avro_value_t rec;
    bool ok = iface && avro_generic_value_new(iface, &rec) == 0;
    if (!ok) {
        tw_err_set(err, TW_ERR_IO, "%s schema: %s", what, avro_strerror());
        goto cleanup;
    }
    int rc = EOF;
    while (ok && (rc = avro_file_reader_read_value(reader, &rec)) == 0) {
        ok = each(&rec, ctx, err);
        avro_value_reset(&rec);
    }
    if (ok && rc != EOF)
        ok = tw_err_set(err, TW_ERR_IO, "%s: %s", what, avro_strerror());
    avro_value_decref(&rec);
cleanup:
    if (iface)
        avro_value_iface_decref(iface);
    avro_schema_decref(schema);
    avro_file_reader_close(reader);
    return ok;
}

typedef struct entries {
    tw_iceberg_file_entry *list;
    uint32_t count, cap;
} entries;

static bool take_entry(avro_value_t *rec, void *ctx, tw_err *err)
{
    entries *es = ctx;
    if (es->count == es->cap) {
        es->cap = es->cap ? es->cap * 2 : 16;
        es->list = tw_xrealloc(es->list, es->cap * sizeof *es->list);
    }
    /* Counted even when it fails: read_entry leaves it freeable. */
    return read_entry(rec, &es->list[es->count++], err);
}

bool tw_iceberg_manifest_read(const char *bytes, size_t len, tw_iceberg_file_entry **out,
                              uint32_t *n, tw_err *err)
{
    entries es = {0};
    *out = NULL;
    *n = 0;
    if (!for_each_record(bytes, len, "manifest", take_entry, &es, err)) {
        tw_iceberg_file_entries_free(es.list, es.count);
        return false;
    }
    *out = es.list;
    *n = es.count;
    return true;
}

typedef struct manifest_files {
    tw_iceberg_manifest_file *list;
    uint32_t count, cap;
} manifest_files;

static bool take_manifest_file(avro_value_t *rec, void *ctx, tw_err *err)
{
    manifest_files *mf = ctx;
    avro_value_t v, arr, s;
    char *path = string_field(rec, "manifest_path");
    if (!path)
        return tw_err_set(err, TW_ERR_IO, "manifest list entry without manifest_path");
    if (mf->count == mf->cap) {
        mf->cap = mf->cap ? mf->cap * 2 : 8;
        mf->list = tw_xrealloc(mf->list, mf->cap * sizeof *mf->list);
    }
    tw_iceberg_manifest_file *m = &mf->list[mf->count++];
    memset(m, 0, sizeof *m);
    m->path = path;
    m->length = long_field(rec, "manifest_length", 0);
    m->spec_id = (int32_t)long_field(rec, "partition_spec_id", 0);
    m->content = (int32_t)long_field(rec, "content", 0);
    m->sequence_number = long_field(rec, "sequence_number", 0);
    m->min_sequence_number = long_field(rec, "min_sequence_number", 0);
    m->added_snapshot_id = long_field(rec, "added_snapshot_id", 0);
    m->added_files = (int32_t)long_field(rec, "added_files_count", 0);
    m->existing_files = (int32_t)long_field(rec, "existing_files_count", 0);
    m->deleted_files = (int32_t)long_field(rec, "deleted_files_count", 0);
    m->added_rows = long_field(rec, "added_rows_count", 0);
    m->existing_rows = long_field(rec, "existing_rows_count", 0);
    m->deleted_rows = long_field(rec, "deleted_rows_count", 0);
    bytes_field(rec, "key_metadata", &m->key_metadata);
    size_t np = 0;
    if (field(rec, "partitions", &arr) && avro_value_get_size(&arr, &np) == 0) {
        m->has_partitions = true;
        m->npartitions = (uint32_t)np;
        m->partitions = tw_xcalloc(np ? np : 1, sizeof *m->partitions);
        for (size_t i = 0; i < np; i++) {
            tw_iceberg_field_summary *fs = &m->partitions[i];
            int b = 0;
            avro_value_get_by_index(&arr, i, &s, NULL);
            if (field(&s, "contains_null", &v) && avro_value_get_boolean(&v, &b) == 0)
                fs->contains_null = b;
            fs->contains_nan = -1;
            if (field(&s, "contains_nan", &v) && avro_value_get_boolean(&v, &b) == 0)
                fs->contains_nan = b;
            bytes_field(&s, "lower_bound", &fs->lower);
            bytes_field(&s, "upper_bound", &fs->upper);
        }
    }
    return true;
}

bool tw_iceberg_manifest_list_decode(const char *bytes, size_t len,
                                     tw_iceberg_manifest_file **out, uint32_t *n, tw_err *err)
{
    manifest_files mf = {0};
    *out = NULL;
    *n = 0;
    if (!for_each_record(bytes, len, "manifest list", take_manifest_file, &mf, err)) {
        tw_iceberg_manifest_files_free(mf.list, mf.count);
        return false;
    }
    *out = mf.list;
    *n = mf.count;
    return true;
}

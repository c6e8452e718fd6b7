/* manifest.c - Avro manifests and manifest lists (see manifest.h). */
#include "iceberg/manifest.h"

#include <assert.h>
#include <avro.h>
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* ---- growable byte buffer ---- */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static void buf_put(buf *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n)
            cap *= 2;
        char *grown = realloc(b->p, cap);
        if (!grown)
            abort();
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

/* Avro long: zig-zag, then base-128 varint. */
static void buf_put_long(buf *b, int64_t v)
{
    uint64_t n = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    uint8_t out[10];
    size_t k = 0;
    do {
        uint8_t byte = n & 0x7f;
        n >>= 7;
        out[k++] = n ? (byte | 0x80) : byte;
    } while (n);
    buf_put(b, out, k);
}

static void buf_put_avro_bytes(buf *b, const void *data, size_t n)
{
    buf_put_long(b, (int64_t)n);
    buf_put(b, data, n);
}

/* ---- Avro object container files with Iceberg's key/value metadata ---- */

typedef struct container {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t record;
    buf block;
    int64_t count;
    char *schema_json;
    const char **meta_keys;
    const char **meta_values;
    size_t nmeta;
} container;

static bool avro_fail(tw_err *err, const char *what)
{
    return tw_err_set(err, TW_ERR_INTERNAL, "avro: %s: %s", what, avro_strerror());
}

static bool container_init(container *c, json_t *schema, tw_err *err)
{
    memset(c, 0, sizeof *c);
    c->schema_json = json_dumps(schema, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!c->schema_json)
        return tw_err_set(err, TW_ERR_NOMEM, "out of memory");
    if (avro_schema_from_json_length(c->schema_json, strlen(c->schema_json), &c->schema) != 0)
        return avro_fail(err, "manifest schema");
    c->iface = avro_generic_class_from_schema(c->schema);
    if (!c->iface || avro_generic_value_new(c->iface, &c->record) != 0)
        return avro_fail(err, "manifest record");
    return true;
}

static void container_clear(container *c)
{
    if (c->iface) {
        avro_value_decref(&c->record);
        avro_value_iface_decref(c->iface);
    }
    if (c->schema)
        avro_schema_decref(c->schema);
    free(c->schema_json);
    free(c->block.p);
    free(c->meta_keys);
    free(c->meta_values);
}

static void container_meta(container *c, const char *key, const char *value)
{
    c->meta_keys = realloc(c->meta_keys, (c->nmeta + 1) * sizeof *c->meta_keys);
    c->meta_values = realloc(c->meta_values, (c->nmeta + 1) * sizeof *c->meta_values);
    if (!c->meta_keys || !c->meta_values)
        abort();
    c->meta_keys[c->nmeta] = key;
    c->meta_values[c->nmeta++] = value;
}

/* Encodes c->record into the current block and resets it. */
static bool container_append(container *c, tw_err *err)
{
    size_t size = 0;
    if (avro_value_sizeof(&c->record, &size) != 0)
        return avro_fail(err, "sizing a record");
    char *tmp = malloc(size ? size : 1);
    if (!tmp)
        return tw_err_set(err, TW_ERR_NOMEM, "out of memory");
    avro_writer_t w = avro_writer_memory(tmp, (int64_t)size);
    int rc = avro_value_write(w, &c->record);
    avro_writer_free(w);
    if (rc != 0) {
        free(tmp);
        return avro_fail(err, "encoding a record");
    }
    buf_put(&c->block, tmp, size);
    free(tmp);
    c->count++;
    avro_value_reset(&c->record);
    return true;
}

static void container_finish(container *c, char **bytes, size_t *len)
{
    buf out = {0};
    uint8_t sync[16];
    if (getrandom(sync, sizeof sync, 0) != (ssize_t)sizeof sync)
        for (size_t i = 0; i < sizeof sync; i++)
            sync[i] = (uint8_t)(rand() & 0xff);
    buf_put(&out, "Obj\x01", 4);
    buf_put_long(&out, (int64_t)c->nmeta + 2);
    buf_put_avro_bytes(&out, "avro.schema", 11);
    buf_put_avro_bytes(&out, c->schema_json, strlen(c->schema_json));
    buf_put_avro_bytes(&out, "avro.codec", 10);
    buf_put_avro_bytes(&out, "null", 4);
    for (size_t i = 0; i < c->nmeta; i++) {
        buf_put_avro_bytes(&out, c->meta_keys[i], strlen(c->meta_keys[i]));
        buf_put_avro_bytes(&out, c->meta_values[i], strlen(c->meta_values[i]));
    }
    buf_put_long(&out, 0);
    buf_put(&out, sync, sizeof sync);
    if (c->count > 0) {
        buf_put_long(&out, c->count);
        buf_put_long(&out, (int64_t)c->block.len);
        buf_put(&out, c->block.p, c->block.len);
        buf_put(&out, sync, sizeof sync);
    }
    *bytes = out.p;
    *len = out.len;
}

/* ---- schema pieces ---- */

static json_t *field(const char *name, json_t *type, int id)
{
    return json_pack("{s:s, s:o, s:i}", "name", name, "type", type, "field-id", id);
}

static json_t *optional(const char *name, json_t *type, int id)
{
    return json_pack("{s:s, s:[s, o], s:n, s:i}", "name", name, "type", "null", type, "default",
                     "field-id", id);
}

static json_t *map_type(int key_id, const char *key_type, int value_id, const char *value_type)
{
    char name[32];
    snprintf(name, sizeof name, "k%d_v%d", key_id, value_id);
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:[o, o]}}", "type", "array", "logicalType", "map",
                     "items", "type", "record", "name", name, "fields",
                     field("key", json_string(key_type), key_id),
                     field("value", json_string(value_type), value_id));
}

static json_t *list_type(const char *items, int element_id)
{
    return json_pack("{s:s, s:s, s:i}", "type", "array", "items", items, "element-id", element_id);
}

static json_t *partition_value_type(tw_iceberg_type t)
{
    switch (t) {
    case TW_ICE_BOOLEAN: return json_string("boolean");
    case TW_ICE_INT: return json_string("int");
    case TW_ICE_LONG: return json_string("long");
    case TW_ICE_FLOAT: return json_string("float");
    case TW_ICE_DOUBLE: return json_string("double");
    case TW_ICE_STRING: return json_string("string");
    case TW_ICE_DATE: return json_pack("{s:s, s:s}", "type", "int", "logicalType", "date");
    case TW_ICE_TIMESTAMP:
    case TW_ICE_TIMESTAMPTZ:
        return json_pack("{s:s, s:s, s:b}", "type", "long", "logicalType", "timestamp-micros",
                         "adjust-to-utc", t == TW_ICE_TIMESTAMPTZ);
    }
    return json_string("null");
}

/* An Avro-legal name for a partition field: other characters become _xHH,
 * as Java's writers do. */
static char *avro_name(const char *name)
{
    size_t n = strlen(name);
    char *out = malloc(4 * n + 2), *p = out;
    if (!out)
        abort();
    if (n == 0 || isdigit((unsigned char)name[0]))
        *p++ = '_';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (isalnum(c) || c == '_')
            *p++ = (char)c;
        else
            p += sprintf(p, "_x%02X", c);
    }
    *p = '\0';
    return out;
}

static json_t *manifest_entry_schema(const tw_iceberg_partition_spec *spec)
{
    json_t *pfields = json_array();
    for (uint32_t i = 0; i < spec->nfields; i++) {
        char *name = avro_name(spec->fields[i].name);
        json_array_append_new(pfields, optional(name, partition_value_type(spec->fields[i].result_type),
                                                spec->fields[i].field_id));
        free(name);
    }
    json_t *data_file = json_pack(
        "{s:s, s:s, s:[o, o, o, o, o, o, o, o, o, o, o, o, o, o, o, o, o]}", "type", "record", "name",
        "r2", "fields", field("content", json_string("int"), 134),
        field("file_path", json_string("string"), 100),
        field("file_format", json_string("string"), 101),
        field("partition", json_pack("{s:s, s:s, s:o}", "type", "record", "name", "r102", "fields", pfields),
              102),
        field("record_count", json_string("long"), 103),
        field("file_size_in_bytes", json_string("long"), 104),
        optional("column_sizes", map_type(117, "int", 118, "long"), 108),
        optional("value_counts", map_type(119, "int", 120, "long"), 109),
        optional("null_value_counts", map_type(121, "int", 122, "long"), 110),
        optional("nan_value_counts", map_type(138, "int", 139, "long"), 137),
        optional("lower_bounds", map_type(126, "int", 127, "bytes"), 125),
        optional("upper_bounds", map_type(129, "int", 130, "bytes"), 128),
        optional("key_metadata", json_string("bytes"), 131),
        optional("split_offsets", list_type("long", 133), 132),
        optional("equality_ids", list_type("int", 136), 135),
        optional("sort_order_id", json_string("int"), 140),
        optional("referenced_data_file", json_string("string"), 143));
    return json_pack("{s:s, s:s, s:[o, o, o, o, o]}", "type", "record", "name", "manifest_entry",
                     "fields", field("status", json_string("int"), 0),
                     optional("snapshot_id", json_string("long"), 1),
                     optional("sequence_number", json_string("long"), 3),
                     optional("file_sequence_number", json_string("long"), 4),
                     field("data_file", data_file, 2));
}

static json_t *manifest_file_schema(void)
{
    json_t *summary = json_pack(
        "{s:s, s:s, s:[o, o, o, o]}", "type", "record", "name", "r508", "fields",
        field("contains_null", json_string("boolean"), 509),
        optional("contains_nan", json_string("boolean"), 518),
        optional("lower_bound", json_string("bytes"), 510),
        optional("upper_bound", json_string("bytes"), 511));
    return json_pack(
        "{s:s, s:s, s:[o, o, o, o, o, o, o, o, o, o, o, o, o, o, o]}", "type", "record", "name",
        "manifest_file", "fields", field("manifest_path", json_string("string"), 500),
        field("manifest_length", json_string("long"), 501),
        field("partition_spec_id", json_string("int"), 502), field("content", json_string("int"), 517),
        field("sequence_number", json_string("long"), 515),
        field("min_sequence_number", json_string("long"), 516),
        field("added_snapshot_id", json_string("long"), 503),
        field("added_files_count", json_string("int"), 504),
        field("existing_files_count", json_string("int"), 505),
        field("deleted_files_count", json_string("int"), 506),
        field("added_rows_count", json_string("long"), 512),
        field("existing_rows_count", json_string("long"), 513),
        field("deleted_rows_count", json_string("long"), 514),
        optional("partitions",
                 json_pack("{s:s, s:o, s:i}", "type", "array", "items", summary, "element-id", 508),
                 507),
        optional("key_metadata", json_string("bytes"), 519));
}

/* ---- value setters ---- */

static bool get(avro_value_t *rec, const char *name, avro_value_t *out, tw_err *err)
{
    if (avro_value_get_by_name(rec, name, out, NULL) != 0)
        return tw_err_set(err, TW_ERR_INTERNAL, "avro: no field %s", name);
    return true;
}

/* Selects the non-null branch of an optional field into *out. */
static bool get_opt(avro_value_t *rec, const char *name, avro_value_t *out, tw_err *err)
{
    avro_value_t u;
    return get(rec, name, &u, err) && avro_value_set_branch(&u, 1, out) == 0;
}

static bool set_null(avro_value_t *rec, const char *name, tw_err *err)
{
    avro_value_t u, branch;
    if (!get(rec, name, &u, err) || avro_value_set_branch(&u, 0, &branch) != 0)
        return avro_fail(err, name);
    return avro_value_set_null(&branch) == 0;
}

static bool set_partition_value(avro_value_t *slot, tw_iceberg_type t, const tw_value *v)
{
    avro_value_t branch;
    if (v->is_null)
        return avro_value_set_branch(slot, 0, &branch) == 0 && avro_value_set_null(&branch) == 0;
    if (avro_value_set_branch(slot, 1, &branch) != 0)
        return false;
    switch (t) {
    case TW_ICE_BOOLEAN: return avro_value_set_boolean(&branch, v->b) == 0;
    case TW_ICE_INT:
    case TW_ICE_DATE: return avro_value_set_int(&branch, (int32_t)v->i64) == 0;
    case TW_ICE_LONG:
    case TW_ICE_TIMESTAMP:
    case TW_ICE_TIMESTAMPTZ: return avro_value_set_long(&branch, v->i64) == 0;
    case TW_ICE_FLOAT: return avro_value_set_float(&branch, (float)v->f64) == 0;
    case TW_ICE_DOUBLE: return avro_value_set_double(&branch, v->f64) == 0;
    case TW_ICE_STRING: {
        /* avro's string length counts the terminating NUL. */
        char *s = malloc(v->s.len + 1);
        if (!s)
            return false;
        memcpy(s, v->s.ptr, v->s.len);
        s[v->s.len] = '\0';
        bool ok = avro_value_set_string_len(&branch, s, v->s.len + 1) == 0;
        free(s);
        return ok;
    }
    }
    return false;
}

static bool value_type_matches(tw_iceberg_type t, const tw_value *v)
{
    if (v->is_null)
        return true;
    return tw_type_phys(v->type) == tw_type_phys(tw_iceberg_type_tw(t));
}

typedef enum map_kind { MAP_SIZES, MAP_VALUES, MAP_NULLS, MAP_NANS } map_kind;

static bool set_count_map(avro_value_t *df, const char *name, const tw_iceberg_data_file *f,
                          map_kind kind, const tw_iceberg_schema *schema, tw_err *err)
{
    avro_value_t arr, entry, k, v;
    if (!get_opt(df, name, &arr, err))
        return avro_fail(err, name);
    for (uint32_t i = 0; i < f->ncolumns; i++) {
        const tw_iceberg_column_metrics *m = &f->columns[i];
        uint64_t n = 0;
        switch (kind) {
        case MAP_SIZES: n = m->column_size_bytes; break;
        case MAP_VALUES: n = m->value_count; break;
        case MAP_NULLS: n = m->null_count; break;
        case MAP_NANS: {
            bool is_float = false;
            for (uint32_t c = 0; c < schema->nfields; c++)
                if (schema->fields[c].id == m->field_id)
                    is_float = tw_type_phys(schema->fields[c].type) == TW_PHYS_F64;
            if (!is_float)
                continue;
            n = m->nan_count;
            break;
        }
        }
        if (avro_value_append(&arr, &entry, NULL) != 0 || avro_value_get_by_index(&entry, 0, &k, NULL) != 0 ||
            avro_value_get_by_index(&entry, 1, &v, NULL) != 0 || avro_value_set_int(&k, m->field_id) != 0 ||
            avro_value_set_long(&v, (int64_t)n) != 0)
            return avro_fail(err, name);
    }
    return true;
}

static bool column_type(const tw_iceberg_schema *schema, int32_t field_id, tw_iceberg_type *t)
{
    for (uint32_t c = 0; c < schema->nfields; c++)
        if (schema->fields[c].id == field_id)
            return tw_iceberg_type_of(schema->fields[c].type, t);
    return false;
}

static bool set_bounds_map(avro_value_t *df, const char *name, const tw_iceberg_data_file *f,
                           bool upper, const tw_iceberg_schema *schema, tw_err *err)
{
    avro_value_t arr, entry, k, v;
    if (!get_opt(df, name, &arr, err))
        return avro_fail(err, name);
    for (uint32_t i = 0; i < f->ncolumns; i++) {
        const tw_iceberg_column_metrics *m = &f->columns[i];
        const tw_value *bound = upper ? &m->upper : &m->lower;
        if (!m->has_bounds || bound->is_null)
            continue;
        tw_iceberg_type t;
        if (!column_type(schema, m->field_id, &t))
            return tw_err_set(err, TW_ERR_INTERNAL, "%s: metrics for unknown field id %d", f->location,
                              (int)m->field_id);
        if (!value_type_matches(t, bound))
            return tw_err_set(err, TW_ERR_INTERNAL, "%s: bound of field %d has the wrong type",
                              f->location, (int)m->field_id);
        uint8_t scratch[8];
        const uint8_t *bytes;
        size_t len = tw_iceberg_value_bytes(t, bound, scratch, &bytes);
        if (avro_value_append(&arr, &entry, NULL) != 0 || avro_value_get_by_index(&entry, 0, &k, NULL) != 0 ||
            avro_value_get_by_index(&entry, 1, &v, NULL) != 0 || avro_value_set_int(&k, m->field_id) != 0 ||
            avro_value_set_bytes(&v, (void *)bytes, len) != 0)
            return avro_fail(err, name);
    }
    return true;
}

/* ---- partition field summaries ---- */

static int compare_values(tw_iceberg_type t, const tw_value *a, const tw_value *b)
{
    switch (t) {
    case TW_ICE_BOOLEAN: return (int)a->b - (int)b->b;
    case TW_ICE_FLOAT:
    case TW_ICE_DOUBLE: return a->f64 < b->f64 ? -1 : a->f64 > b->f64;
    case TW_ICE_STRING: {
        uint32_t n = a->s.len < b->s.len ? a->s.len : b->s.len;
        int c = memcmp(a->s.ptr, b->s.ptr, n);
        return c ? c : (a->s.len < b->s.len ? -1 : a->s.len > b->s.len);
    }
    default: return a->i64 < b->i64 ? -1 : a->i64 > b->i64;
    }
}

static void bytes_set(tw_iceberg_bytes *b, tw_iceberg_type t, const tw_value *v)
{
    uint8_t scratch[8];
    const uint8_t *p;
    size_t len = tw_iceberg_value_bytes(t, v, scratch, &p);
    b->present = true;
    b->data = malloc(len ? len : 1);
    if (!b->data)
        abort();
    memcpy(b->data, p, len);
    b->len = len;
}

static void summarize_partitions(const tw_iceberg_partition_spec *spec,
                                 const tw_iceberg_data_file *files, uint32_t n,
                                 tw_iceberg_manifest_file *mf)
{
    mf->has_partitions = true;
    mf->npartitions = spec->nfields;
    mf->partitions = calloc(spec->nfields ? spec->nfields : 1, sizeof *mf->partitions);
    if (!mf->partitions)
        abort();
    for (uint32_t p = 0; p < spec->nfields; p++) {
        tw_iceberg_type t = spec->fields[p].result_type;
        tw_iceberg_field_summary *s = &mf->partitions[p];
        bool is_float = t == TW_ICE_FLOAT || t == TW_ICE_DOUBLE;
        s->contains_nan = is_float ? 0 : -1;
        const tw_value *lo = NULL, *hi = NULL;
        for (uint32_t i = 0; i < n; i++) {
            const tw_value *v = &files[i].partition[p];
            if (v->is_null) {
                s->contains_null = true;
                continue;
            }
            if (is_float && isnan(v->f64)) {
                s->contains_nan = 1;
                continue;
            }
            if (!lo || compare_values(t, v, lo) < 0)
                lo = v;
            if (!hi || compare_values(t, v, hi) > 0)
                hi = v;
        }
        if (lo) {
            bytes_set(&s->lower, t, lo);
            bytes_set(&s->upper, t, hi);
        }
    }
}

/* ---- manifests ---- */

static bool encode_entry(container *c, const tw_iceberg_metadata *md, const tw_iceberg_data_file *f,
                         int64_t snapshot_id, tw_err *err)
{
    avro_value_t *rec = &c->record, v, df, part, slot;
    const tw_iceberg_partition_spec *spec = &md->spec;
    if (!get(rec, "status", &v, err) || avro_value_set_int(&v, 1) != 0 ||
        !get_opt(rec, "snapshot_id", &v, err) || avro_value_set_long(&v, snapshot_id) != 0 ||
        !set_null(rec, "sequence_number", err) || !set_null(rec, "file_sequence_number", err) ||
        !get(rec, "data_file", &df, err))
        return avro_fail(err, "manifest entry");
    if (!get(&df, "content", &v, err) || avro_value_set_int(&v, (int)f->content) != 0 ||
        !get(&df, "file_path", &v, err) || avro_value_set_string(&v, f->location) != 0 ||
        !get(&df, "file_format", &v, err) || avro_value_set_string(&v, "PARQUET") != 0 ||
        !get(&df, "record_count", &v, err) || avro_value_set_long(&v, (int64_t)f->record_count) != 0 ||
        !get(&df, "file_size_in_bytes", &v, err) ||
        avro_value_set_long(&v, (int64_t)f->file_size_bytes) != 0 || !get(&df, "partition", &part, err))
        return avro_fail(err, "data_file");
    for (uint32_t p = 0; p < spec->nfields; p++) {
        const tw_value *pv = &f->partition[p];
        if (!value_type_matches(spec->fields[p].result_type, pv))
            return tw_err_set(err, TW_ERR_INTERNAL, "%s: partition value %s has the wrong type",
                              f->location, spec->fields[p].name);
        if (avro_value_get_by_index(&part, p, &slot, NULL) != 0 ||
            !set_partition_value(&slot, spec->fields[p].result_type, pv))
            return avro_fail(err, "partition value");
    }
    if (!set_count_map(&df, "column_sizes", f, MAP_SIZES, &md->schema, err) ||
        !set_count_map(&df, "value_counts", f, MAP_VALUES, &md->schema, err) ||
        !set_count_map(&df, "null_value_counts", f, MAP_NULLS, &md->schema, err) ||
        !set_count_map(&df, "nan_value_counts", f, MAP_NANS, &md->schema, err) ||
        !set_bounds_map(&df, "lower_bounds", f, false, &md->schema, err) ||
        !set_bounds_map(&df, "upper_bounds", f, true, &md->schema, err) ||
        !set_null(&df, "key_metadata", err) || !set_null(&df, "referenced_data_file", err))
        return false;
    if (f->nsplit_offsets > 0) {
        if (!get_opt(&df, "split_offsets", &v, err))
            return avro_fail(err, "split_offsets");
        for (uint32_t i = 0; i < f->nsplit_offsets; i++) {
            avro_value_t e;
            if (avro_value_append(&v, &e, NULL) != 0 || avro_value_set_long(&e, (int64_t)f->split_offsets[i]) != 0)
                return avro_fail(err, "split_offsets");
        }
    } else if (!set_null(&df, "split_offsets", err)) {
        return false;
    }
    if (f->content == TW_ICEBERG_EQUALITY_DELETES) {
        if (f->nequality_ids == 0)
            return tw_err_set(err, TW_ERR_INTERNAL, "%s: an equality delete file needs equality ids",
                              f->location);
        if (!get_opt(&df, "equality_ids", &v, err))
            return avro_fail(err, "equality_ids");
        for (uint32_t i = 0; i < f->nequality_ids; i++) {
            avro_value_t e;
            if (avro_value_append(&v, &e, NULL) != 0 || avro_value_set_int(&e, f->equality_ids[i]) != 0)
                return avro_fail(err, "equality_ids");
        }
    } else if (!set_null(&df, "equality_ids", err)) {
        return false;
    }
    if (!get_opt(&df, "sort_order_id", &v, err) || avro_value_set_int(&v, f->sort_order_id) != 0)
        return avro_fail(err, "sort_order_id");
    return container_append(c, err);
}

bool tw_iceberg_manifest_encode(const tw_iceberg_metadata *md, const tw_iceberg_data_file *files,
                                uint32_t n, int64_t snapshot_id, char **bytes, size_t *len,
                                tw_iceberg_manifest_file *mf, tw_err *err)
{
    assert(n > 0);
    memset(mf, 0, sizeof *mf);
    bool deletes = files[0].content != TW_ICEBERG_DATA;
    container c;
    bool ok = false;
    char *spec_json = NULL, schema_id[16], spec_id[16];
    json_t *schema = manifest_entry_schema(&md->spec);
    if (!container_init(&c, schema, err))
        goto cleanup;
    json_t *spec_fields = tw_iceberg_partition_fields_to_json(&md->spec);
    spec_json = json_dumps(spec_fields, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(spec_fields);
    snprintf(schema_id, sizeof schema_id, "%d", (int)md->current_schema_id);
    snprintf(spec_id, sizeof spec_id, "%d", (int)md->spec.spec_id);
    container_meta(&c, "schema", md->schema_json);
    container_meta(&c, "schema-id", schema_id);
    container_meta(&c, "partition-spec", spec_json);
    container_meta(&c, "partition-spec-id", spec_id);
    container_meta(&c, "format-version", "2");
    container_meta(&c, "content", deletes ? "deletes" : "data");
    for (uint32_t i = 0; i < n; i++) {
        if ((files[i].content != TW_ICEBERG_DATA) != deletes) {
            tw_err_set(err, TW_ERR_INTERNAL, "a manifest holds data or delete files, not both");
            goto cleanup;
        }
        if (!encode_entry(&c, md, &files[i], snapshot_id, err))
            goto cleanup;
        mf->added_rows += (int64_t)files[i].record_count;
    }
    container_finish(&c, bytes, len);
    mf->length = (int64_t)*len;
    mf->spec_id = md->spec.spec_id;
    mf->content = deletes ? 1 : 0;
    mf->added_snapshot_id = snapshot_id;
    mf->added_files = (int32_t)n;
    summarize_partitions(&md->spec, files, n, mf);
    ok = true;
cleanup:
    json_decref(schema);
    free(spec_json);
    container_clear(&c);
    return ok;
}

/* ---- manifest lists ---- */

static bool set_opt_bytes(avro_value_t *rec, const char *name, const tw_iceberg_bytes *b, tw_err *err)
{
    avro_value_t v;
    if (!b->present)
        return set_null(rec, name, err);
    return get_opt(rec, name, &v, err) && avro_value_set_bytes(&v, b->data, b->len) == 0;
}

static bool encode_manifest_file(container *c, const tw_iceberg_manifest_file *m, tw_err *err)
{
    avro_value_t *rec = &c->record, v, arr, s;
    if (!get(rec, "manifest_path", &v, err) || avro_value_set_string(&v, m->path) != 0 ||
        !get(rec, "manifest_length", &v, err) || avro_value_set_long(&v, m->length) != 0 ||
        !get(rec, "partition_spec_id", &v, err) || avro_value_set_int(&v, m->spec_id) != 0 ||
        !get(rec, "content", &v, err) || avro_value_set_int(&v, m->content) != 0 ||
        !get(rec, "sequence_number", &v, err) || avro_value_set_long(&v, m->sequence_number) != 0 ||
        !get(rec, "min_sequence_number", &v, err) || avro_value_set_long(&v, m->min_sequence_number) != 0 ||
        !get(rec, "added_snapshot_id", &v, err) || avro_value_set_long(&v, m->added_snapshot_id) != 0 ||
        !get(rec, "added_files_count", &v, err) || avro_value_set_int(&v, m->added_files) != 0 ||
        !get(rec, "existing_files_count", &v, err) || avro_value_set_int(&v, m->existing_files) != 0 ||
        !get(rec, "deleted_files_count", &v, err) || avro_value_set_int(&v, m->deleted_files) != 0 ||
        !get(rec, "added_rows_count", &v, err) || avro_value_set_long(&v, m->added_rows) != 0 ||
        !get(rec, "existing_rows_count", &v, err) || avro_value_set_long(&v, m->existing_rows) != 0 ||
        !get(rec, "deleted_rows_count", &v, err) || avro_value_set_long(&v, m->deleted_rows) != 0)
        return avro_fail(err, "manifest_file");
    if (m->has_partitions) {
        if (!get_opt(rec, "partitions", &arr, err))
            return avro_fail(err, "partitions");
        for (uint32_t i = 0; i < m->npartitions; i++) {
            const tw_iceberg_field_summary *fs = &m->partitions[i];
            if (avro_value_append(&arr, &s, NULL) != 0 || !get(&s, "contains_null", &v, err) ||
                avro_value_set_boolean(&v, fs->contains_null) != 0)
                return avro_fail(err, "field_summary");
            if (fs->contains_nan < 0) {
                if (!set_null(&s, "contains_nan", err))
                    return false;
            } else if (!get_opt(&s, "contains_nan", &v, err) ||
                       avro_value_set_boolean(&v, fs->contains_nan) != 0) {
                return avro_fail(err, "contains_nan");
            }
            if (!set_opt_bytes(&s, "lower_bound", &fs->lower, err) ||
                !set_opt_bytes(&s, "upper_bound", &fs->upper, err))
                return avro_fail(err, "field_summary bounds");
        }
    } else if (!set_null(rec, "partitions", err)) {
        return false;
    }
    if (!set_opt_bytes(rec, "key_metadata", &m->key_metadata, err))
        return avro_fail(err, "key_metadata");
    return container_append(c, err);
}

bool tw_iceberg_manifest_list_encode(const tw_iceberg_manifest_file *manifests, uint32_t n,
                                     int64_t snapshot_id, int64_t parent_snapshot_id,
                                     int64_t sequence_number, char **bytes, size_t *len,
                                     tw_err *err)
{
    container c;
    bool ok = false;
    char sid[24], pid[24], seq[24];
    json_t *schema = manifest_file_schema();
    if (!container_init(&c, schema, err))
        goto cleanup;
    snprintf(sid, sizeof sid, "%" PRId64, snapshot_id);
    snprintf(pid, sizeof pid, "%" PRId64, parent_snapshot_id);
    snprintf(seq, sizeof seq, "%" PRId64, sequence_number);
    container_meta(&c, "snapshot-id", sid);
    if (parent_snapshot_id != -1)
        container_meta(&c, "parent-snapshot-id", pid);
    container_meta(&c, "sequence-number", seq);
    container_meta(&c, "format-version", "2");
    for (uint32_t i = 0; i < n; i++)
        if (!encode_manifest_file(&c, &manifests[i], err))
            goto cleanup;
    container_finish(&c, bytes, len);
    ok = true;
cleanup:
    json_decref(schema);
    container_clear(&c);
    return ok;
}

static void bytes_copy(tw_iceberg_bytes *dst, const tw_iceberg_bytes *src)
{
    *dst = *src;
    if (src->present) {
        dst->data = malloc(src->len ? src->len : 1);
        if (!dst->data)
            abort();
        memcpy(dst->data, src->data, src->len);
    }
}

void tw_iceberg_manifest_file_copy(tw_iceberg_manifest_file *dst, const tw_iceberg_manifest_file *src)
{
    *dst = *src;
    dst->path = src->path ? strdup(src->path) : NULL;
    bytes_copy(&dst->key_metadata, &src->key_metadata);
    if (src->partitions) {
        dst->partitions = calloc(src->npartitions ? src->npartitions : 1, sizeof *dst->partitions);
        if (!dst->partitions)
            abort();
        for (uint32_t i = 0; i < src->npartitions; i++) {
            dst->partitions[i] = src->partitions[i];
            bytes_copy(&dst->partitions[i].lower, &src->partitions[i].lower);
            bytes_copy(&dst->partitions[i].upper, &src->partitions[i].upper);
        }
    }
}

void tw_iceberg_manifest_file_clear(tw_iceberg_manifest_file *mf)
{
    free(mf->path);
    free(mf->key_metadata.data);
    for (uint32_t i = 0; i < mf->npartitions; i++) {
        free(mf->partitions[i].lower.data);
        free(mf->partitions[i].upper.data);
    }
    free(mf->partitions);
    memset(mf, 0, sizeof *mf);
}

void tw_iceberg_manifest_files_free(tw_iceberg_manifest_file *mfs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        tw_iceberg_manifest_file_clear(&mfs[i]);
    free(mfs);
}

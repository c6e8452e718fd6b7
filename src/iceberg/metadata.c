/* metadata.c - Iceberg table metadata JSON (see metadata.h). */
#include "iceberg/metadata.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* The metadata-log keeps this many previous files, as Java's default
 * write.metadata.previous-versions-max does. */
#define METADATA_LOG_MAX 100

json_t *tw_iceberg_schema_to_json(const tw_iceberg_schema *schema, int32_t schema_id)
{
    json_t *fields = json_array();
    for (uint32_t i = 0; i < schema->nfields; i++) {
        const tw_iceberg_field *f = &schema->fields[i];
        tw_iceberg_type t;
        const char *type_name = tw_iceberg_type_of(f->type, &t) ? tw_iceberg_type_name(t) : "unknown";
        json_array_append_new(fields, json_pack("{s:i, s:s, s:b, s:s}", "id", (int)f->id, "name",
                                                f->name, "required", f->required, "type",
                                                type_name));
    }
    json_t *ids = json_array();
    for (uint32_t i = 0; i < schema->nidentifier_field_ids; i++)
        json_array_append_new(ids, json_integer(schema->identifier_field_ids[i]));
    return json_pack("{s:s, s:i, s:o, s:o}", "type", "struct", "schema-id", (int)schema_id,
                     "identifier-field-ids", ids, "fields", fields);
}

json_t *tw_iceberg_partition_fields_to_json(const tw_iceberg_partition_spec *spec)
{
    json_t *fields = json_array();
    for (uint32_t i = 0; i < spec->nfields; i++) {
        const tw_iceberg_partition_field *f = &spec->fields[i];
        char transform[48];
        tw_iceberg_transform_name(f, transform, sizeof transform);
        json_array_append_new(fields, json_pack("{s:i, s:i, s:s, s:s}", "source-id",
                                                (int)f->source_id, "field-id", (int)f->field_id,
                                                "name", f->name, "transform", transform));
    }
    return fields;
}

static void schema_clear(tw_iceberg_schema *s)
{
    for (uint32_t i = 0; i < s->nfields; i++)
        free((char *)s->fields[i].name);
    free((tw_iceberg_field *)s->fields);
    free((int32_t *)s->identifier_field_ids);
    memset(s, 0, sizeof *s);
}

void tw_iceberg_metadata_free(tw_iceberg_metadata *md)
{
    if (!md)
        return;
    schema_clear(&md->schema);
    tw_iceberg_partition_spec_clear(&md->spec);
    free(md->schema_json);
    free(md->snapshots);
    json_decref(md->root);
    free(md);
}

static bool get_int(json_t *obj, const char *key, int64_t *out, bool required, tw_err *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required)
            return tw_err_set(err, TW_ERR_IO, "table metadata lacks \"%s\"", key);
        return true;
    }
    if (!json_is_integer(v))
        return tw_err_set(err, TW_ERR_IO, "table metadata: \"%s\" is not an integer", key);
    *out = json_integer_value(v);
    return true;
}

static bool parse_schema(json_t *js, tw_iceberg_schema *out, tw_err *err)
{
    json_t *fields = json_object_get(js, "fields");
    if (!json_is_array(fields))
        return tw_err_set(err, TW_ERR_IO, "table metadata: schema without fields");
    size_t n = json_array_size(fields);
    tw_iceberg_field *fs = calloc(n ? n : 1, sizeof *fs);
    out->fields = fs;
    out->nfields = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        json_t *f = json_array_get(fields, i);
        json_t *id = json_object_get(f, "id"), *name = json_object_get(f, "name");
        json_t *type = json_object_get(f, "type");
        if (!json_is_integer(id) || !json_is_string(name))
            return tw_err_set(err, TW_ERR_IO, "table metadata: schema field %zu lacks id or name", i);
        fs[i].id = (int32_t)json_integer_value(id);
        fs[i].name = strdup(json_string_value(name));
        fs[i].required = json_is_true(json_object_get(f, "required"));
        tw_iceberg_type t;
        /* Types tidewatch cannot produce (date, decimal, nested) stay
         * TW_T_NULL: the table can hold them only as optional columns. */
        fs[i].type = TW_T_NULL;
        if (json_is_string(type) && tw_iceberg_type_parse(json_string_value(type), &t) &&
            t != TW_ICE_DATE)
            fs[i].type = tw_iceberg_type_tw(t);
    }
    json_t *ids = json_object_get(js, "identifier-field-ids");
    size_t nids = json_is_array(ids) ? json_array_size(ids) : 0;
    int32_t *idv = calloc(nids ? nids : 1, sizeof *idv);
    for (size_t i = 0; i < nids; i++)
        idv[i] = (int32_t)json_integer_value(json_array_get(ids, i));
    out->identifier_field_ids = idv;
    out->nidentifier_field_ids = (uint32_t)nids;
    return true;
}

static bool parse_spec(json_t *fields, const tw_iceberg_schema *schema, tw_iceberg_partition_spec *out,
                       tw_err *err)
{
    size_t n = json_array_size(fields);
    out->fields = calloc(n ? n : 1, sizeof *out->fields);
    for (size_t i = 0; i < n; i++) {
        json_t *f = json_array_get(fields, i);
        tw_iceberg_partition_field *pf = &out->fields[out->nfields];
        json_t *src = json_object_get(f, "source-id"), *fid = json_object_get(f, "field-id");
        json_t *name = json_object_get(f, "name"), *tr = json_object_get(f, "transform");
        if (!json_is_integer(src) || !json_is_string(name) || !json_is_string(tr))
            return tw_err_set(err, TW_ERR_IO, "table metadata: bad partition field %zu", i);
        pf->source_id = (int32_t)json_integer_value(src);
        pf->field_id = json_is_integer(fid) ? (int32_t)json_integer_value(fid) : 1000 + (int32_t)i;
        pf->name = strdup(json_string_value(name));
        out->nfields++;
        uint32_t k;
        for (k = 0; k < schema->nfields; k++)
            if (schema->fields[k].id == pf->source_id)
                break;
        if (k == schema->nfields || !tw_iceberg_type_of(schema->fields[k].type, &pf->source_type))
            return tw_err_set(err, TW_ERR_UNSUPPORTED,
                              "table metadata: partition field '%s' has a source column tidewatch "
                              "cannot write",
                              pf->name);
        pf->source_index = k;
        if (!tw_iceberg_transform_parse(json_string_value(tr), pf, err))
            return false;
    }
    return true;
}

/* Fills md's decoded fields from md->root. */
static bool derive(tw_iceberg_metadata *md, tw_err *err)
{
    json_t *root = md->root;
    int64_t version = 0, v;
    if (!get_int(root, "format-version", &version, true, err))
        return false;
    if (version < 1 || version > 2)
        return tw_err_set(err, TW_ERR_UNSUPPORTED,
                          "table metadata has format-version %lld; tidewatch writes v2 tables",
                          (long long)version);
    md->table_uuid = json_string_value(json_object_get(root, "table-uuid"));
    md->location = json_string_value(json_object_get(root, "location"));
    if (!md->location)
        return tw_err_set(err, TW_ERR_IO, "table metadata lacks \"location\"");
    if (!md->table_uuid)
        return tw_err_set(err, TW_ERR_IO, "table metadata lacks \"table-uuid\"");
    md->last_sequence_number = 0;
    if (!get_int(root, "last-sequence-number", &md->last_sequence_number, version == 2, err) ||
        !get_int(root, "last-updated-ms", &md->last_updated_ms, true, err))
        return false;
    v = 0;
    if (!get_int(root, "last-column-id", &v, true, err))
        return false;
    md->last_column_id = (int32_t)v;
    v = 0;
    if (!get_int(root, "current-schema-id", &v, false, err))
        return false;
    md->current_schema_id = (int32_t)v;
    json_t *schemas = json_object_get(root, "schemas"), *schema = NULL, *it;
    size_t i;
    json_array_foreach(schemas, i, it)
    {
        json_t *sid = json_object_get(it, "schema-id");
        if (json_is_integer(sid) && json_integer_value(sid) == md->current_schema_id)
            schema = it;
    }
    if (!schema)
        schema = json_object_get(root, "schema");
    if (!schema)
        return tw_err_set(err, TW_ERR_IO, "table metadata lacks the current schema (id %d)",
                          (int)md->current_schema_id);
    if (!parse_schema(schema, &md->schema, err))
        return false;
    md->schema_json = json_dumps(schema, JSON_COMPACT);

    v = 0;
    if (!get_int(root, "default-spec-id", &v, false, err))
        return false;
    md->spec.spec_id = (int32_t)v;
    json_t *spec_fields = NULL;
    json_array_foreach(json_object_get(root, "partition-specs"), i, it)
    {
        json_t *sid = json_object_get(it, "spec-id");
        if (json_is_integer(sid) && json_integer_value(sid) == md->spec.spec_id)
            spec_fields = json_object_get(it, "fields");
    }
    if (!spec_fields)
        spec_fields = json_object_get(root, "partition-spec");
    if (!parse_spec(spec_fields, &md->schema, &md->spec, err))
        return false;
    v = 999;
    if (!get_int(root, "last-partition-id", &v, false, err))
        return false;
    md->last_partition_id = (int32_t)v;

    md->current_snapshot_id = -1;
    if (!get_int(root, "current-snapshot-id", &md->current_snapshot_id, false, err))
        return false;
    json_t *snaps = json_object_get(root, "snapshots");
    size_t nsnaps = json_is_array(snaps) ? json_array_size(snaps) : 0;
    md->snapshots = calloc(nsnaps ? nsnaps : 1, sizeof *md->snapshots);
    md->current = NULL;
    json_array_foreach(snaps, i, it)
    {
        tw_iceberg_snapshot *s = &md->snapshots[md->nsnapshots++];
        s->parent_snapshot_id = -1;
        if (!get_int(it, "snapshot-id", &s->snapshot_id, true, err) ||
            !get_int(it, "parent-snapshot-id", &s->parent_snapshot_id, false, err) ||
            !get_int(it, "sequence-number", &s->sequence_number, false, err) ||
            !get_int(it, "timestamp-ms", &s->timestamp_ms, true, err))
            return false;
        s->manifest_list = json_string_value(json_object_get(it, "manifest-list"));
        s->summary = json_object_get(it, "summary");
        if (s->snapshot_id == md->current_snapshot_id)
            md->current = s;
    }
    if (md->current_snapshot_id != -1 && !md->current)
        return tw_err_set(err, TW_ERR_IO, "table metadata: current snapshot %lld is not listed",
                          (long long)md->current_snapshot_id);
    if (md->current && !md->current->manifest_list)
        return tw_err_set(err, TW_ERR_UNSUPPORTED,
                          "table metadata: the current snapshot has no manifest-list (v1 "
                          "manifests are not supported)");
    return true;
}

static tw_iceberg_metadata *from_root(json_t *root, tw_err *err)
{
    tw_iceberg_metadata *md = calloc(1, sizeof *md);
    if (!md) {
        json_decref(root);
        tw_err_set(err, TW_ERR_NOMEM, "out of memory");
        return NULL;
    }
    md->root = root;
    if (!derive(md, err)) {
        tw_iceberg_metadata_free(md);
        return NULL;
    }
    return md;
}

tw_iceberg_metadata *tw_iceberg_metadata_parse(const char *text, size_t len, tw_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        tw_err_set(err, TW_ERR_IO, "table metadata is not a JSON object (line %d: %s)", jerr.line,
                   jerr.text);
        return NULL;
    }
    return from_root(root, err);
}

tw_iceberg_metadata *tw_iceberg_metadata_create(const char *table_uuid, const char *location,
                                                const tw_iceberg_schema *schema,
                                                const tw_iceberg_partition_spec *spec,
                                                int64_t now_ms, tw_err *err)
{
    int32_t last_column_id = 0;
    for (uint32_t i = 0; i < schema->nfields; i++) {
        tw_iceberg_type t;
        if (!tw_iceberg_type_of(schema->fields[i].type, &t)) {
            tw_err_set(err, TW_ERR_UNSUPPORTED, "column '%s' has type %s, which Iceberg cannot hold",
                       schema->fields[i].name, tw_type_short_name(schema->fields[i].type));
            return NULL;
        }
        if (schema->fields[i].id > last_column_id)
            last_column_id = schema->fields[i].id;
    }
    int32_t last_partition_id = 999;
    for (uint32_t i = 0; i < spec->nfields; i++)
        if (spec->fields[i].field_id > last_partition_id)
            last_partition_id = spec->fields[i].field_id;
    json_t *root = json_pack(
        "{s:i, s:s, s:s, s:I, s:I, s:i, s:i, s:[o], s:i, s:[{s:i, s:o}], s:i, s:i, "
        "s:[{s:i, s:[]}], s:{s:s, s:s}, s:I, s:{}, s:[], s:[], s:[]}",
        "format-version", 2, "table-uuid", table_uuid, "location", location,
        "last-sequence-number", (json_int_t)0, "last-updated-ms", (json_int_t)now_ms,
        "last-column-id", (int)last_column_id, "current-schema-id", 0, "schemas",
        tw_iceberg_schema_to_json(schema, 0), "default-spec-id", 0, "partition-specs", "spec-id",
        0, "fields", tw_iceberg_partition_fields_to_json(spec), "last-partition-id",
        (int)last_partition_id, "default-sort-order-id", 0, "sort-orders", "order-id", 0,
        "fields", "properties", "write.format.default", "parquet", "write.parquet.compression-codec",
        "zstd", "current-snapshot-id", (json_int_t)-1, "refs", "snapshots", "snapshot-log",
        "metadata-log");
    if (!root) {
        tw_err_set(err, TW_ERR_INTERNAL, "cannot build table metadata JSON");
        return NULL;
    }
    return from_root(root, err);
}

json_t *tw_iceberg_snapshot_to_json(const tw_iceberg_new_snapshot *s, int64_t parent_snapshot_id,
                                    int32_t schema_id)
{
    json_t *snap = json_pack("{s:I, s:I, s:I, s:s, s:O, s:i}", "snapshot-id",
                             (json_int_t)s->snapshot_id, "sequence-number",
                             (json_int_t)s->sequence_number, "timestamp-ms",
                             (json_int_t)s->timestamp_ms, "manifest-list", s->manifest_list,
                             "summary", s->summary, "schema-id", (int)schema_id);
    if (snap && parent_snapshot_id != -1)
        json_object_set_new(snap, "parent-snapshot-id", json_integer(parent_snapshot_id));
    return snap;
}

tw_iceberg_metadata *tw_iceberg_metadata_add_snapshot(const tw_iceberg_metadata *base,
                                                      const char *base_location,
                                                      const tw_iceberg_new_snapshot *s,
                                                      tw_err *err)
{
    assert(s->sequence_number > base->last_sequence_number);
    json_t *root = json_deep_copy(base->root);
    json_t *snap = tw_iceberg_snapshot_to_json(s, base->current_snapshot_id, base->current_schema_id);
    if (!root || !snap) {
        json_decref(root);
        json_decref(snap);
        tw_err_set(err, TW_ERR_NOMEM, "cannot build the new table metadata");
        return NULL;
    }

    json_t *snaps = json_object_get(root, "snapshots");
    if (!json_is_array(snaps)) {
        snaps = json_array();
        json_object_set_new(root, "snapshots", snaps);
    }
    json_array_append_new(snaps, snap);
    json_object_set_new(root, "current-snapshot-id", json_integer(s->snapshot_id));
    json_object_set_new(root, "last-sequence-number", json_integer(s->sequence_number));
    json_object_set_new(root, "last-updated-ms", json_integer(s->timestamp_ms));

    json_t *refs = json_object_get(root, "refs");
    if (!json_is_object(refs)) {
        refs = json_object();
        json_object_set_new(root, "refs", refs);
    }
    json_object_set_new(refs, "main", json_pack("{s:I, s:s}", "snapshot-id",
                                                (json_int_t)s->snapshot_id, "type", "branch"));

    json_t *slog = json_object_get(root, "snapshot-log");
    if (!json_is_array(slog)) {
        slog = json_array();
        json_object_set_new(root, "snapshot-log", slog);
    }
    json_array_append_new(slog, json_pack("{s:I, s:I}", "timestamp-ms", (json_int_t)s->timestamp_ms,
                                          "snapshot-id", (json_int_t)s->snapshot_id));
    if (base_location) {
        json_t *mlog = json_object_get(root, "metadata-log");
        if (!json_is_array(mlog)) {
            mlog = json_array();
            json_object_set_new(root, "metadata-log", mlog);
        }
        json_array_append_new(mlog, json_pack("{s:I, s:s}", "timestamp-ms",
                                              (json_int_t)base->last_updated_ms, "metadata-file",
                                              base_location));
        while (json_array_size(mlog) > METADATA_LOG_MAX)
            json_array_remove(mlog, 0);
    }
    return from_root(root, err);
}

char *tw_iceberg_metadata_to_json(const tw_iceberg_metadata *md)
{
    return json_dumps(md->root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}

const char *tw_iceberg_metadata_summary(const tw_iceberg_metadata *md, const char *key)
{
    if (!md->current || !json_is_object(md->current->summary))
        return NULL;
    return json_string_value(json_object_get(md->current->summary, key));
}

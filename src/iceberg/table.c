/* table.c - open, create and commit Iceberg tables (see iceberg.h). */
#include "iceberg/iceberg.h"

#include <stdarg.h>

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/arena.h"
#include "common/timeutil.h"
#include "iceberg/manifest.h"
#include "iceberg/manifest_read.h"
#include "iceberg/metadata.h"
#include "iceberg/partition.h"

#define COMMIT_ATTEMPTS 8

struct tw_iceberg_table {
    tw_catalog *cat;
    tw_fileio *io;
    char *ns;
    char *name;
    char *metadata_location;
    tw_iceberg_metadata *md;
};

static void random_bytes(void *p, size_t n)
{
    if (getrandom(p, n, 0) != (ssize_t)n) {
        uint8_t *b = p;
        for (size_t i = 0; i < n; i++)
            b[i] = (uint8_t)rand();
    }
}

static void uuid4(char out[37])
{
    uint8_t b[16];
    random_bytes(b, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

static int64_t now_ms(void)
{
    return tw_now_wall_us() / 1000;
}

/* A positive id below 2^53 (exact in JSON readers that use doubles) that no
 * snapshot of md has. */
static int64_t new_snapshot_id(const tw_iceberg_metadata *md)
{
    for (;;) {
        uint64_t r;
        random_bytes(&r, sizeof r);
        int64_t id = (int64_t)(r & ((UINT64_C(1) << 53) - 1));
        bool taken = id == 0;
        for (uint32_t i = 0; md && i < md->nsnapshots && !taken; i++)
            taken = md->snapshots[i].snapshot_id == id;
        if (!taken)
            return id;
    }
}

/* Loads the metadata file at location. */
static tw_iceberg_metadata *read_metadata(tw_fileio *io, const char *location, tw_err *err)
{
    char *text = NULL;
    size_t len = 0;
    if (!tw_fileio_read(io, location, &text, &len, NULL, err))
        return NULL;
    tw_iceberg_metadata *md = tw_iceberg_metadata_parse(text, len, err);
    if (!md)
        tw_err_prefix(err, "%s", location);
    free(text);
    return md;
}

/* Makes t current with the catalog: reloads when the pointer moved. */
static bool refresh(tw_iceberg_table *t, tw_err *err)
{
    char *location = NULL, *json = NULL;
    if (t->cat->ops->load_table) {
        if (!t->cat->ops->load_table(t->cat, t->ns, t->name, &location, &json, err))
            return false;
    } else if (!t->cat->ops->load(t->cat, t->ns, t->name, &location, err)) {
        return false;
    }
    if (!location) {
        free(json);
        return tw_err_set(err, TW_ERR_IO, "table %s.%s no longer exists in the catalog", t->ns,
                          t->name);
    }
    if (t->metadata_location && strcmp(location, t->metadata_location) == 0) {
        free(location);
        free(json);
        return true;
    }
    tw_iceberg_metadata *md = json ? tw_iceberg_metadata_parse(json, strlen(json), err)
                                   : read_metadata(t->io, location, err);
    if (!md && json)
        tw_err_prefix(err, "metadata of %s.%s (%s) from the catalog", t->ns, t->name, location);
    free(json);
    if (!md) {
        free(location);
        return false;
    }
    if (t->md && strcmp(t->md->table_uuid, md->table_uuid) != 0) {
        tw_err_set(err, TW_ERR_IO, "table %s.%s was replaced (table-uuid %s, expected %s)", t->ns,
                   t->name, md->table_uuid, t->md->table_uuid);
        tw_iceberg_metadata_free(md);
        free(location);
        return false;
    }
    tw_iceberg_metadata_free(t->md);
    free(t->metadata_location);
    t->md = md;
    t->metadata_location = location;
    return true;
}

bool tw_iceberg_table_reload(tw_iceberg_table *t, tw_err *err)
{
    return refresh(t, err);
}

/* Says what differs between the sink's schema and spec and the table's. */
static bool check_compatible(const tw_iceberg_table *t, const tw_iceberg_schema *want,
                             const char *partition_by, tw_err *err)
{
    const tw_iceberg_schema *have = &t->md->schema;
    for (uint32_t i = 0; i < want->nfields; i++) {
        const tw_iceberg_field *w = &want->fields[i];
        const tw_iceberg_field *h = NULL;
        for (uint32_t k = 0; k < have->nfields && !h; k++)
            if (strcmp(have->fields[k].name, w->name) == 0)
                h = &have->fields[k];
        if (!h)
            return tw_err_set(err, TW_ERR_BIND, "table %s.%s has no column '%s'", t->ns, t->name,
                              w->name);
        tw_iceberg_type wt, ht;
        if (!tw_iceberg_type_of(w->type, &wt))
            return tw_err_set(err, TW_ERR_UNSUPPORTED, "column '%s': type %s cannot be stored in Iceberg",
                              w->name, tw_type_short_name(w->type));
        if (!tw_iceberg_type_of(h->type, &ht) || ht != wt)
            return tw_err_set(err, TW_ERR_BIND,
                              "column '%s' of table %s.%s is not %s as the sink's column is", w->name,
                              t->ns, t->name, tw_iceberg_type_name(wt));
        if (h->required && !w->required)
            return tw_err_set(err, TW_ERR_BIND,
                              "column '%s' is required in table %s.%s but the sink may write NULL",
                              w->name, t->ns, t->name);
    }
    for (uint32_t k = 0; k < have->nfields; k++) {
        bool found = false;
        for (uint32_t i = 0; i < want->nfields && !found; i++)
            found = strcmp(have->fields[k].name, want->fields[i].name) == 0;
        if (!found && have->fields[k].required)
            return tw_err_set(err, TW_ERR_BIND,
                              "table %s.%s has a required column '%s' the sink does not write", t->ns,
                              t->name, have->fields[k].name);
    }
    if (partition_by && *partition_by) {
        tw_iceberg_partition_spec spec;
        if (!tw_iceberg_partition_spec_parse(partition_by, have, 1000, &spec, err))
            return false;
        bool same = tw_iceberg_partition_spec_equivalent(&spec, &t->md->spec);
        tw_iceberg_partition_spec_clear(&spec);
        if (!same) {
            json_t *fields = tw_iceberg_partition_fields_to_json(&t->md->spec);
            char *text = json_dumps(fields, JSON_COMPACT);
            tw_err_set(err, TW_ERR_BIND,
                       "table %s.%s is partitioned differently from partition_by '%s' (its spec: %s)",
                       t->ns, t->name, partition_by, text ? text : "?");
            free(text);
            json_decref(fields);
            return false;
        }
    }
    return true;
}

/* Writes new table metadata and registers it. *created is false when
 * another writer created the table first. */
static bool create_table(tw_iceberg_table *t, const char *location, const tw_iceberg_schema *schema,
                         const char *partition_by, bool *created, tw_err *err)
{
    tw_iceberg_partition_spec spec;
    if (!tw_iceberg_partition_spec_parse(partition_by, schema, 1000, &spec, err))
        return false;
    if (t->cat->ops->create_table) {
        /* The catalog writes the first metadata file itself. */
        json_t *schema_json = tw_iceberg_schema_to_json(schema, 0);
        json_t *spec_json = json_pack("{s:i, s:o}", "spec-id", 0, "fields",
                                      tw_iceberg_partition_fields_to_json(&spec));
        tw_iceberg_partition_spec_clear(&spec);
        bool exists = false;
        bool ok = t->cat->ops->create_table(t->cat, t->ns, t->name, location, schema_json, spec_json,
                                            &exists, err);
        json_decref(schema_json);
        json_decref(spec_json);
        *created = ok && !exists;
        return ok;
    }
    char uuid[37], file_uuid[37];
    uuid4(uuid);
    uuid4(file_uuid);
    tw_iceberg_metadata *md = tw_iceberg_metadata_create(uuid, location, schema, &spec, now_ms(), err);
    tw_iceberg_partition_spec_clear(&spec);
    if (!md)
        return false;
    char *json = tw_iceberg_metadata_to_json(md);
    char *path = tw_xasprintf("%s/metadata/00000-%s.metadata.json", location, file_uuid);
    bool ok = tw_fileio_write_all(t->io, path, json, strlen(json), err);
    bool exists = false;
    if (ok)
        ok = t->cat->ops->create(t->cat, t->ns, t->name, path, &exists, err);
    if (ok && exists)
        tw_fileio_remove(t->io, path, NULL);
    *created = ok && !exists;
    free(path);
    free(json);
    tw_iceberg_metadata_free(md);
    return ok;
}

/* "file:///abs/wh" for a bare absolute path, else the location as given,
 * without trailing slashes. */
static char *normalize_location(const char *loc)
{
    char *s = loc[0] == '/' ? tw_xasprintf("file://%s", loc) : strdup(loc);
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/')
        s[--n] = '\0';
    return s;
}

tw_iceberg_table *tw_iceberg_table_open(tw_catalog *cat, tw_fileio *io,
                                        const char *warehouse_location, const char *ns,
                                        const char *name, const tw_iceberg_schema *schema,
                                        const char *partition_by, bool create_if_missing,
                                        tw_err *err)
{
    tw_iceberg_table *t = calloc(1, sizeof *t);
    if (!t) {
        tw_err_set(err, TW_ERR_NOMEM, "out of memory");
        return NULL;
    }
    t->cat = cat;
    t->io = io;
    t->ns = strdup(ns);
    t->name = strdup(name);
    assert(warehouse_location || cat->ops->create_table);
    char *location = NULL;
    if (warehouse_location) {
        char *warehouse = normalize_location(warehouse_location);
        char *ns_path = strdup(ns);
        for (char *p = ns_path; *p; p++)
            if (*p == '.')
                *p = '/';
        location = tw_xasprintf("%s/%s/%s", warehouse, ns_path, name);
        free(ns_path);
        free(warehouse);
    }
    bool ok = false;
    for (int attempt = 0; attempt < 3 && !ok; attempt++) {
        char *current = NULL;
        if (cat->ops->load_table) {
            char *json = NULL;
            if (!cat->ops->load_table(cat, ns, name, &current, &json, err))
                goto fail;
            free(json);
        } else if (!cat->ops->load(cat, ns, name, &current, err)) {
            goto fail;
        }
        if (current) {
            free(current);
            ok = refresh(t, err);
            if (!ok)
                goto fail;
            break;
        }
        if (!create_if_missing) {
            tw_err_set(err, TW_ERR_CONFIG,
                       "table %s.%s does not exist in catalog '%s' (set create_table_if_not_exists = "
                       "'true' to create it)",
                       ns, name, cat->name ? cat->name : "default");
            goto fail;
        }
        bool created = false;
        if (!create_table(t, location, schema, partition_by, &created, err))
            goto fail;
    }
    if (!ok) {
        tw_err_set(err, TW_ERR_IO, "table %s.%s: could not create or load it", ns, name);
        goto fail;
    }
    if (!check_compatible(t, schema, partition_by, err))
        goto fail;
    free(location);
    return t;
fail:
    free(location);
    tw_iceberg_table_free(t);
    return NULL;
}

void tw_iceberg_table_free(tw_iceberg_table *t)
{
    if (!t)
        return;
    tw_iceberg_metadata_free(t->md);
    free(t->metadata_location);
    free(t->ns);
    free(t->name);
    free(t);
}

const tw_iceberg_schema *tw_iceberg_table_schema(const tw_iceberg_table *t)
{
    return &t->md->schema;
}

const char *tw_iceberg_table_schema_json(const tw_iceberg_table *t)
{
    return t->md->schema_json;
}

uint32_t tw_iceberg_table_partition_fields(const tw_iceberg_table *t)
{
    return t->md->spec.nfields;
}

bool tw_iceberg_table_partition_of(const tw_iceberg_table *t, const tw_value *row, tw_value *out,
                                   tw_err *err)
{
    const tw_iceberg_partition_spec *spec = &t->md->spec;
    for (uint32_t i = 0; i < spec->nfields; i++) {
        const tw_iceberg_partition_field *f = &spec->fields[i];
        const tw_value *v = &row[f->source_index];
        if (!v->is_null && tw_type_phys(v->type) != tw_type_phys(tw_iceberg_type_tw(f->source_type)))
            return tw_err_set(err, TW_ERR_INTERNAL, "partition source '%s' has the wrong type",
                              t->md->schema.fields[f->source_index].name);
        tw_iceberg_partition_apply(f, v, &out[i]);
    }
    return true;
}

char *tw_iceberg_table_data_location(const tw_iceberg_table *t, const tw_value *partition)
{
    char uuid[37];
    uuid4(uuid);
    if (t->md->spec.nfields == 0)
        return tw_xasprintf("%s/data/%s.parquet", t->md->location, uuid);
    char *path = tw_iceberg_partition_path(&t->md->spec, partition);
    char *s = tw_xasprintf("%s/data/%s/%s.parquet", t->md->location, path, uuid);
    free(path);
    return s;
}

const char *tw_iceberg_table_snapshot_property(const tw_iceberg_table *t, const char *key)
{
    return tw_iceberg_metadata_summary(t->md, key);
}

const char *tw_iceberg_table_find_property(const tw_iceberg_table *t, const char *key)
{
    const tw_iceberg_metadata *md = t->md;
    int64_t id = md->current_snapshot_id;
    /* Bounded by the snapshot count, in case of a cycle in bad metadata. */
    for (uint32_t steps = 0; id >= 0 && steps <= md->nsnapshots; steps++) {
        const tw_iceberg_snapshot *snap = NULL;
        for (uint32_t i = 0; i < md->nsnapshots && !snap; i++)
            if (md->snapshots[i].snapshot_id == id)
                snap = &md->snapshots[i];
        if (!snap)
            return NULL;
        const char *v = json_is_object(snap->summary)
                            ? json_string_value(json_object_get(snap->summary, key))
                            : NULL;
        if (v)
            return v;
        id = snap->parent_snapshot_id;
    }
    return NULL;
}

int64_t tw_iceberg_table_current_snapshot_id(const tw_iceberg_table *t)
{
    return t->md->current_snapshot_id;
}

const char *tw_iceberg_table_location(const tw_iceberg_table *t)
{
    return t->md->location;
}

const char *tw_iceberg_table_metadata_location(const tw_iceberg_table *t)
{
    return t->metadata_location;
}

/* ---- commit ---- */

typedef struct added {
    uint64_t data_files, delete_files, records, deletes, size_bytes, partitions;
} added;

static void summary_set_u64(json_t *summary, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    json_object_set_new(summary, key, json_string(buf));
}

/* The parent's total for key plus delta; omitted when the parent has a
 * snapshot without that total (then it is unknown). */
static void summary_total(json_t *summary, const tw_iceberg_metadata *md, const char *key,
                          uint64_t delta)
{
    uint64_t base = 0;
    if (md->current) {
        const char *s = tw_iceberg_metadata_summary(md, key);
        if (!s)
            return;
        base = strtoull(s, NULL, 10);
    }
    summary_set_u64(summary, key, base + delta);
}

static json_t *build_summary(const tw_iceberg_metadata *md, const added *a, const tw_iceberg_kv *props,
                             uint32_t nprops)
{
    json_t *s = json_object();
    json_object_set_new(s, "operation", json_string(a->delete_files ? "overwrite" : "append"));
    if (a->data_files)
        summary_set_u64(s, "added-data-files", a->data_files);
    if (a->delete_files) {
        summary_set_u64(s, "added-equality-delete-files", a->delete_files);
        summary_set_u64(s, "added-delete-files", a->delete_files);
    }
    if (a->data_files)
        summary_set_u64(s, "added-records", a->records);
    if (a->delete_files)
        summary_set_u64(s, "added-equality-deletes", a->deletes);
    summary_set_u64(s, "added-files-size", a->size_bytes);
    summary_set_u64(s, "changed-partition-count", a->partitions);
    summary_total(s, md, "total-records", a->records);
    summary_total(s, md, "total-files-size", a->size_bytes);
    summary_total(s, md, "total-data-files", a->data_files);
    summary_total(s, md, "total-delete-files", a->delete_files);
    summary_total(s, md, "total-position-deletes", 0);
    summary_total(s, md, "total-equality-deletes", a->deletes);
    json_object_set_new(s, "engine-name", json_string("tidewatch"));
    json_object_set_new(s, "engine-version", json_string(TW_VERSION));
    for (uint32_t i = 0; i < nprops; i++)
        json_object_set_new(s, props[i].key, json_string(props[i].value));
    return s;
}

static int64_t metadata_version(const char *location)
{
    const char *base = strrchr(location, '/');
    base = base ? base + 1 : location;
    if (*base == 'v')
        base++;
    return strtoll(base, NULL, 10);
}

static void backoff(int attempt)
{
    uint32_t jitter;
    random_bytes(&jitter, sizeof jitter);
    int64_t us = (INT64_C(20000) << attempt) + (int64_t)(jitter % 20000);
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Counts distinct partition tuples (by their paths). */
static uint64_t count_partitions(const tw_iceberg_partition_spec *spec, const tw_iceberg_data_file *files,
                                 uint32_t n)
{
    if (n == 0)
        return 0;
    char **paths = calloc(n, sizeof *paths);
    if (!paths)
        abort();
    uint64_t distinct = 0;
    for (uint32_t i = 0; i < n; i++) {
        paths[i] = tw_iceberg_partition_path(spec, files[i].partition);
        bool seen = false;
        for (uint32_t k = 0; k < i && !seen; k++)
            seen = strcmp(paths[k], paths[i]) == 0;
        distinct += !seen;
    }
    for (uint32_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return distinct;
}

/* Writes one manifest for files[0..n) into *mf (path set). */
static bool write_manifest(tw_iceberg_table *t, const tw_iceberg_data_file *files, uint32_t n,
                           int64_t snapshot_id, int index, tw_iceberg_manifest_file *mf, tw_err *err)
{
    char *bytes = NULL;
    size_t len = 0;
    if (!tw_iceberg_manifest_encode(t->md, files, n, snapshot_id, &bytes, &len, mf, err))
        return false;
    char uuid[37];
    uuid4(uuid);
    mf->path = tw_xasprintf("%s/metadata/%s-m%d.avro", t->md->location, uuid, index);
    bool ok = tw_fileio_write_all(t->io, mf->path, bytes, len, err);
    free(bytes);
    return ok;
}

/* One attempt: manifest list + metadata on top of t's current metadata,
 * then the catalog swap. *written gets the attempt's own files. */
static tw_cas_result commit_attempt(tw_iceberg_table *t, const tw_iceberg_manifest_file *new_manifests,
                                    uint32_t nnew, int64_t snapshot_id, const added *a,
                                    const tw_iceberg_kv *props, uint32_t nprops, char **list_path,
                                    char **metadata_path, tw_iceberg_metadata **new_md, tw_err *err)
{
    tw_cas_result result = TW_CAS_ERROR;
    tw_iceberg_manifest_file *existing = NULL, *all = NULL;
    uint32_t nexisting = 0;
    char *bytes = NULL, *json = NULL, *text = NULL;
    size_t len = 0;
    json_t *summary = NULL;
    const tw_iceberg_metadata *md = t->md;
    int64_t seq = md->last_sequence_number + 1;

    if (md->current) {
        if (!tw_fileio_read(t->io, md->current->manifest_list, &text, &len, NULL, err) ||
            !tw_iceberg_manifest_list_decode(text, len, &existing, &nexisting, err))
            goto cleanup;
    }
    all = calloc(nnew + nexisting + 1, sizeof *all);
    if (!all)
        abort();
    for (uint32_t i = 0; i < nnew; i++) {
        all[i] = new_manifests[i];
        all[i].sequence_number = seq;
        all[i].min_sequence_number = seq;
    }
    for (uint32_t i = 0; i < nexisting; i++)
        all[nnew + i] = existing[i];
    if (!tw_iceberg_manifest_list_encode(all, nnew + nexisting, snapshot_id, md->current_snapshot_id,
                                         seq, &bytes, &len, err))
        goto cleanup;
    char uuid[37];
    uuid4(uuid);
    *list_path = tw_xasprintf("%s/metadata/snap-%" PRId64 "-%" PRId64 "-%s.avro", md->location,
                            snapshot_id, seq, uuid);
    if (!tw_fileio_write_all(t->io, *list_path, bytes, len, err))
        goto cleanup;

    summary = build_summary(md, a, props, nprops);
    tw_iceberg_new_snapshot snap = {
        .snapshot_id = snapshot_id,
        .sequence_number = seq,
        .timestamp_ms = now_ms(),
        .manifest_list = *list_path,
        .summary = summary,
    };
    if (snap.timestamp_ms <= md->last_updated_ms)
        snap.timestamp_ms = md->last_updated_ms + 1;
    if (t->cat->ops->commit) {
        /* The catalog writes the metadata and returns it. */
        json_t *snap_json = tw_iceberg_snapshot_to_json(&snap, md->current_snapshot_id,
                                                        md->current_schema_id);
        result = t->cat->ops->commit(t->cat, t->ns, t->name, md->table_uuid,
                                     md->current_snapshot_id, snap_json, metadata_path, &json, err);
        json_decref(snap_json);
        if (result == TW_CAS_OK) {
            *new_md = tw_iceberg_metadata_parse(json, strlen(json), err);
            if (!*new_md) {
                /* Committed, but unreadable: the caller keeps every file. */
                tw_err_prefix(err, "metadata the catalog returned for %s.%s", t->ns, t->name);
                result = TW_CAS_ERROR;
            }
        }
        goto cleanup;
    }
    *new_md = tw_iceberg_metadata_add_snapshot(md, t->metadata_location, &snap, err);
    if (!*new_md)
        goto cleanup;
    json = tw_iceberg_metadata_to_json(*new_md);
    uuid4(uuid);
    *metadata_path = tw_xasprintf("%s/metadata/%05" PRId64 "-%s.metadata.json", md->location,
                                metadata_version(t->metadata_location) + 1, uuid);
    if (!tw_fileio_write_all(t->io, *metadata_path, json, strlen(json), err))
        goto cleanup;
    result = t->cat->ops->swap(t->cat, t->ns, t->name, t->metadata_location, *metadata_path, err);
cleanup:
    free(all); /* shallow: entries belong to new_manifests and existing */
    tw_iceberg_manifest_files_free(existing, nexisting);
    free(text);
    free(bytes);
    free(json);
    json_decref(summary);
    return result;
}

bool tw_iceberg_table_commit(tw_iceberg_table *t, const tw_iceberg_data_file *files, uint32_t n,
                             const tw_iceberg_kv *props, uint32_t nprops, tw_err *err)
{
    if (!refresh(t, err))
        return false;
    int64_t snapshot_id = new_snapshot_id(t->md);
    added a = {0};
    uint32_t ndata = 0, ndeletes = 0;
    tw_iceberg_data_file *data = calloc(n + 1, sizeof *data), *deletes = calloc(n + 1, sizeof *deletes);
    tw_iceberg_manifest_file manifests[2];
    uint32_t nmanifests = 0;
    bool ok = false, keep_manifests = false;
    if (!data || !deletes)
        abort();
    for (uint32_t i = 0; i < n; i++) {
        if (files[i].content == TW_ICEBERG_DATA) {
            data[ndata++] = files[i];
            a.data_files++;
            a.records += files[i].record_count;
        } else {
            deletes[ndeletes++] = files[i];
            a.delete_files++;
            a.deletes += files[i].record_count;
        }
        a.size_bytes += files[i].file_size_bytes;
    }
    a.partitions = count_partitions(&t->md->spec, files, n);
    if (ndata > 0) {
        if (!write_manifest(t, data, ndata, snapshot_id, 0, &manifests[nmanifests], err))
            goto cleanup;
        nmanifests++;
    }
    if (ndeletes > 0) {
        if (!write_manifest(t, deletes, ndeletes, snapshot_id, 1, &manifests[nmanifests], err))
            goto cleanup;
        nmanifests++;
    }
    for (int attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
        if (attempt > 0) {
            backoff(attempt - 1);
            if (!refresh(t, err)) {
                keep_manifests = true;
                goto cleanup;
            }
            for (uint32_t i = 0; i < t->md->nsnapshots; i++)
                if (t->md->snapshots[i].snapshot_id == snapshot_id) {
                    tw_err_set(err, TW_ERR_IO, "snapshot id %" PRId64 " was taken by another writer",
                               snapshot_id);
                    goto cleanup;
                }
        }
        char *list_path = NULL, *metadata_path = NULL;
        tw_iceberg_metadata *new_md = NULL;
        tw_cas_result r = commit_attempt(t, manifests, nmanifests, snapshot_id, &a, props, nprops,
                                         &list_path, &metadata_path, &new_md, err);
        if (r == TW_CAS_OK) {
            tw_iceberg_metadata_free(t->md);
            free(t->metadata_location);
            t->md = new_md;
            t->metadata_location = metadata_path;
            free(list_path);
            ok = true;
            goto cleanup;
        }
        if (r == TW_CAS_ERROR) {
            /* The swap may have happened: every file stays. */
            keep_manifests = true;
            tw_iceberg_metadata_free(new_md);
            free(list_path);
            free(metadata_path);
            tw_err_prefix(err, "commit to %s.%s (outcome unknown: reload before retrying)", t->ns,
                          t->name);
            goto cleanup;
        }
        /* Conflict: this attempt's list and metadata are unreferenced. */
        if (metadata_path)
            tw_fileio_remove(t->io, metadata_path, NULL);
        tw_fileio_remove(t->io, list_path, NULL);
        tw_iceberg_metadata_free(new_md);
        free(list_path);
        free(metadata_path);
    }
    tw_err_set(err, TW_ERR_IO, "commit to %s.%s: gave up after %d conflicting commits by other writers",
               t->ns, t->name, COMMIT_ATTEMPTS);
cleanup:
    for (uint32_t i = 0; i < nmanifests; i++) {
        if (!ok && !keep_manifests)
            tw_fileio_remove(t->io, manifests[i].path, NULL);
        tw_iceberg_manifest_file_clear(&manifests[i]);
    }
    free(data);
    free(deletes);
    return ok;
}

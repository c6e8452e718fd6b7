/* iceberg_target.c - see iceberg_target.h. */
#include "sink/iceberg_target.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "exec/expr.h"
#include "iceberg/catalog.h"
#include "iceberg/catalog_rest.h"
#include "iceberg/fileio.h"
#include "iceberg/iceberg.h"
#include "iceberg/parquet.h"
#include "iceberg/s3.h"

/* Data files roll over at this size; row groups are capped below it. */
#define TARGET_FILE_BYTES (512ull << 20)
/* Summary keys, suffixed with the sink's name: writers sharing a table each
 * find their own last commit. */
#define WATERMARK_KEY "tidewatch.watermark-us."
#define POSITIONS_KEY "tidewatch.positions."

typedef struct open_file {
    tw_value *partition; /* one value per partition field; strings owned */
    char *location;
    tw_fileio_out *out;
    tw_parquet_writer *writer;
    tw_batch *staging;   /* rows of this partition, written when full */
} open_file;

typedef struct routing_fileio routing_fileio;

typedef struct target {
    char *watermark_key, *positions_key;
    tw_catalog *catalog;
    tw_fileio *io;
    routing_fileio *routing; /* io, under a REST catalog; else NULL */
    tw_iceberg_table *table;
    uint32_t ncols;
    tw_type *types;
    char **names;
    uint32_t *key_cols;
    uint32_t nkey_cols;
    uint32_t npart;
    tw_parquet_column *pq_cols; /* all columns */
    tw_parquet_column *pq_keys; /* key columns (equality deletes) */
    int32_t *key_ids;
} target;

static const char *opt(const tw_iceberg_target_opts *o, const char *key)
{
    for (uint32_t i = o->nopts; i-- > 0;)
        if (!strcmp(o->keys[i], key))
            return o->values[i];
    return NULL;
}

static bool opt_true(const tw_iceberg_target_opts *o, const char *key, bool dflt)
{
    const char *v = opt(o, key);
    if (!v)
        return dflt;
    return !strcasecmp(v, "true") || !strcmp(v, "1");
}


static const char *opt_lookup(void *ctx, const char *key)
{
    return opt(ctx, key);
}

static bool is_s3_location(const char *location)
{
    return !strncmp(location, "s3://", 5) || !strncmp(location, "s3a://", 6);
}

/* The S3 file IO for an s3:// warehouse, configured by the connection's
 * s3.* options (or the AWS_* environment when they name no keys). */
static tw_fileio *open_s3_fileio(const tw_iceberg_target_opts *o, tw_err *err)
{
    tw_s3_config cfg;
    if (!tw_s3_config_from_options(&cfg, opt_lookup, (void *)o, err))
        return NULL;
    return tw_fileio_open_s3(&cfg, err);
}

/* Under a REST catalog the S3 settings come from two places: the
 * connection's (and sink's) s3.* options, and the table configuration the
 * catalog returns with the table (LoadTableResult "config", e.g. Lakekeeper's
 * s3.endpoint, s3.region, s3.path-style-access and vended keys).
 * Precedence, per setting: the connection's option, then the catalog's
 * value, then (region and keys only) the AWS_* environment. Keys go as one
 * set: the catalog's s3.access-key-id, s3.secret-access-key and
 * s3.session-token are used only when the connection sets neither
 * s3.access.key nor s3.secret.key, so a connection's key is never paired
 * with a catalog's secret. */
static const struct {
    const char *option;       /* the connection's name */
    const char *table_config; /* the REST spec's name */
    const char *fallback;     /* another name catalogs use, or NULL */
} S3_SETTINGS[] = {
    {"s3.endpoint", "s3.endpoint", NULL},
    {"s3.region", "s3.region", "client.region"},
    {"s3.path.style.access", "s3.path-style-access", NULL},
    {"s3.access.key", "s3.access-key-id", NULL},
    {"s3.secret.key", "s3.secret-access-key", NULL},
};
#define N_S3_SETTINGS (sizeof S3_SETTINGS / sizeof S3_SETTINGS[0])

/* A REST catalog hands out table locations: the files go to S3 for s3://
 * locations and to the local disk otherwise. The S3 client is made on the
 * first s3:// use (the catalog has answered with the table's configuration
 * by then) and made again between commits when that configuration changed
 * (renewed vended credentials). */
struct routing_fileio {
    tw_fileio base;
    tw_fileio *local;
    tw_fileio *s3;                   /* NULL until first used */
    uint64_t s3_generation;          /* of the table configuration s3 was made from */
    tw_catalog *catalog;             /* borrowed from the target; NULL until opened */
    char *connection[N_S3_SETTINGS]; /* the connection's values; secrets never logged */
};

static bool connection_has_keys(const routing_fileio *r)
{
    for (size_t i = 0; i < N_S3_SETTINGS; i++)
        if ((!strcmp(S3_SETTINGS[i].option, "s3.access.key") ||
             !strcmp(S3_SETTINGS[i].option, "s3.secret.key")) &&
            r->connection[i])
            return true;
    return false;
}

static const char *routing_lookup(void *ctx, const char *key)
{
    routing_fileio *r = ctx;
    for (size_t i = 0; i < N_S3_SETTINGS; i++) {
        if (strcmp(S3_SETTINGS[i].option, key))
            continue;
        if (r->connection[i])
            return r->connection[i];
        bool is_key = !strcmp(key, "s3.access.key") || !strcmp(key, "s3.secret.key");
        if (is_key && connection_has_keys(r))
            return NULL;
        const char *v = tw_catalog_rest_table_config(r->catalog, S3_SETTINGS[i].table_config);
        if (!v && S3_SETTINGS[i].fallback)
            v = tw_catalog_rest_table_config(r->catalog, S3_SETTINGS[i].fallback);
        return v;
    }
    return NULL;
}

static bool routing_open_s3(routing_fileio *r, tw_err *err)
{
    assert(!r->s3);
    tw_s3_config cfg;
    if (!tw_s3_config_from_options(&cfg, routing_lookup, r, err))
        return false;
    if (!connection_has_keys(r) && cfg.access_key)
        cfg.session_token = tw_catalog_rest_table_config(r->catalog, "s3.session-token");
    r->s3 = tw_fileio_open_s3(&cfg, err);
    r->s3_generation = tw_catalog_rest_table_config_generation(r->catalog);
    return r->s3 != NULL;
}

/* Called between commits, when no file is open on the S3 client. */
static void routing_refresh(routing_fileio *r)
{
    if (r->s3 && tw_catalog_rest_table_config_generation(r->catalog) != r->s3_generation) {
        r->s3->ops->close(r->s3);
        r->s3 = NULL;
    }
}

static tw_fileio *route(routing_fileio *r, const char *location, tw_err *err)
{
    if (!is_s3_location(location))
        return r->local;
    tw_err scratch;
    if (!r->s3 && !routing_open_s3(r, err ? err : &scratch)) {
        tw_err_prefix(err,
                      "S3 for table location '%s' (s3.* options of the connection, then the "
                      "REST catalog's table config)",
                      location);
        return NULL;
    }
    return r->s3;
}

static tw_fileio_out *routing_create(tw_fileio *io, const char *location, tw_err *err)
{
    tw_fileio *to = route((routing_fileio *)io, location, err);
    return to ? to->ops->create(to, location, err) : NULL;
}

static bool routing_read(tw_fileio *io, const char *location, char **data, size_t *len,
                         bool *not_found, tw_err *err)
{
    tw_fileio *to = route((routing_fileio *)io, location, err);
    return to && to->ops->read(to, location, data, len, not_found, err);
}

static bool routing_remove(tw_fileio *io, const char *location, tw_err *err)
{
    tw_fileio *to = route((routing_fileio *)io, location, err);
    return to && to->ops->remove(to, location, err);
}

static void routing_close(tw_fileio *io)
{
    routing_fileio *r = (routing_fileio *)io;
    r->local->ops->close(r->local);
    if (r->s3)
        r->s3->ops->close(r->s3);
    for (size_t i = 0; i < N_S3_SETTINGS; i++)
        free(r->connection[i]);
    free(r);
}

static const tw_fileio_ops routing_ops = {
    .kind = "routing",
    .create = routing_create,
    .read = routing_read,
    .remove = routing_remove,
    .close = routing_close,
};

/* Copies the connection's s3.* values: the options do not outlive open. */
static routing_fileio *open_routing_fileio(const tw_iceberg_target_opts *o)
{
    routing_fileio *r = tw_xcalloc(1, sizeof *r);
    r->base.ops = &routing_ops;
    r->local = tw_fileio_open_local();
    for (size_t i = 0; i < N_S3_SETTINGS; i++) {
        const char *v = opt(o, S3_SETTINGS[i].option);
        r->connection[i] = v ? tw_xstrdup(v) : NULL;
    }
    return r;
}

static int fileio_write(void *ctx, const void *data, size_t len)
{
    tw_err err;
    return tw_fileio_out_write(ctx, data, len, &err) ? 0 : -1;
}

static tw_value value_copy(tw_value v)
{
    if (v.type == TW_T_VARCHAR && !v.is_null) {
        char *p = tw_xmalloc(v.s.len ? v.s.len : 1);
        memcpy(p, v.s.ptr, v.s.len);
        v.s.ptr = p;
    }
    return v;
}

static void file_free(target *t, open_file *f)
{
    if (f->out)
        f->out->ops->abort(f->out);
    tw_parquet_writer_free(f->writer);
    for (uint32_t i = 0; i < t->npart; i++)
        if (f->partition[i].type == TW_T_VARCHAR && !f->partition[i].is_null)
            free((char *)f->partition[i].s.ptr);
    free(f->partition);
    free(f->location);
    tw_batch_free(f->staging);
}

static bool file_start(target *t, open_file *f, const tw_parquet_column *cols, uint32_t ncols,
                       const tw_type *types, tw_err *err)
{
    f->location = tw_iceberg_table_data_location(t->table, t->npart ? f->partition : NULL);
    f->out = tw_fileio_create(t->io, f->location, err);
    if (!f->out)
        return false;
    tw_parquet_kv meta = {"iceberg.schema", tw_iceberg_table_schema_json(t->table)};
    tw_parquet_opts popts = {.metadata = &meta, .nmetadata = 1};
    f->writer = tw_parquet_writer_new(cols, ncols, &popts, fileio_write, f->out, err);
    f->staging = tw_batch_new(types, ncols, TW_BATCH_ROWS);
    return f->writer != NULL;
}

/* Closes the Parquet file and fills an Iceberg data file entry (whose
 * arrays are allocated here and freed by entry_free). */
static bool file_finish(target *t, open_file *f, tw_iceberg_content content,
                        tw_iceberg_data_file *entry, tw_parquet_file_stats *stats, tw_err *err)
{
    if (f->staging->nrows && !tw_parquet_writer_add_batch(f->writer, f->staging, err))
        return false;
    if (!tw_parquet_writer_close(f->writer, stats, err))
        return false;
    if (!f->out->ops->commit(f->out, err)) {
        f->out = NULL;
        return false;
    }
    f->out = NULL;
    tw_iceberg_column_metrics *m = tw_xcalloc(stats->ncols ? stats->ncols : 1, sizeof *m);
    for (uint32_t c = 0; c < stats->ncols; c++) {
        const tw_parquet_column_stats *cs = &stats->cols[c];
        m[c] = (tw_iceberg_column_metrics){
            .field_id = cs->field_id,
            .column_size_bytes = cs->compressed_bytes,
            .value_count = cs->value_count,
            .null_count = cs->null_count,
            .nan_count = cs->nan_count,
            .has_bounds = cs->has_bounds,
            .lower = cs->min,
            .upper = cs->max,
        };
    }
    *entry = (tw_iceberg_data_file){
        .content = content,
        .location = f->location,
        .record_count = stats->record_count,
        .file_size_bytes = stats->file_size_bytes,
        .partition = t->npart ? f->partition : NULL,
        .columns = m,
        .ncolumns = stats->ncols,
        .split_offsets = stats->split_offsets,
        .nsplit_offsets = stats->nsplits,
        .equality_ids = content == TW_ICEBERG_EQUALITY_DELETES ? t->key_ids : NULL,
        .nequality_ids = content == TW_ICEBERG_EQUALITY_DELETES ? t->nkey_cols : 0,
    };
    (void)t;
    return true;
}

static bool stage_row(open_file *f, const tw_batch *in, uint32_t r, tw_err *err)
{
    if (f->staging->nrows == f->staging->capacity) {
        if (!tw_parquet_writer_add_batch(f->writer, f->staging, err))
            return false;
        tw_batch_reset(f->staging);
    }
    tw_batch_append_row(f->staging, in, r, 0);
    return true;
}

typedef struct file_set {
    open_file *files;
    uint32_t n;
    tw_iceberg_data_file *entries;
    tw_parquet_file_stats *stats;
    uint32_t nentries, cap_entries;
} file_set;

static bool finish_into(target *t, file_set *fs, open_file *f, tw_iceberg_content content,
                        tw_err *err)
{
    if (fs->nentries == fs->cap_entries) {
        fs->cap_entries = fs->cap_entries ? fs->cap_entries * 2 : 8;
        fs->entries = tw_xrealloc(fs->entries, fs->cap_entries * sizeof *fs->entries);
        fs->stats = tw_xrealloc(fs->stats, fs->cap_entries * sizeof *fs->stats);
    }
    memset(&fs->stats[fs->nentries], 0, sizeof fs->stats[0]);
    if (!file_finish(t, f, content, &fs->entries[fs->nentries], &fs->stats[fs->nentries], err))
        return false;
    /* The entry borrows the location and partition: keep them alive. */
    fs->entries[fs->nentries].location = tw_xstrdup(f->location);
    if (t->npart) {
        tw_value *p = tw_xcalloc(t->npart, sizeof *p);
        for (uint32_t i = 0; i < t->npart; i++)
            p[i] = value_copy(f->partition[i]);
        fs->entries[fs->nentries].partition = p;
    }
    fs->nentries++;
    return true;
}

static void file_set_free(target *t, file_set *fs)
{
    for (uint32_t i = 0; i < fs->n; i++)
        file_free(t, &fs->files[i]);
    free(fs->files);
    for (uint32_t i = 0; i < fs->nentries; i++) {
        free((char *)fs->entries[i].location);
        free((void *)fs->entries[i].columns);
        if (fs->entries[i].partition) {
            for (uint32_t k = 0; k < t->npart; k++)
                if (fs->entries[i].partition[k].type == TW_T_VARCHAR &&
                    !fs->entries[i].partition[k].is_null)
                    free((char *)fs->entries[i].partition[k].s.ptr);
            free((void *)fs->entries[i].partition);
        }
        tw_parquet_file_stats_free(&fs->stats[i]);
    }
    free(fs->entries);
    free(fs->stats);
}

/* Writes rows into one file per partition (rolling at TARGET_FILE_BYTES). */
/* Finishes f, which has reached TARGET_FILE_BYTES, into fs and starts the
 * next file of the same partition. */
static bool roll_file(target *t, file_set *fs, open_file *f, tw_err *err)
{
    if (!finish_into(t, fs, f, TW_ICEBERG_DATA, err))
        return false;
    tw_parquet_writer_free(f->writer);
    f->writer = NULL;
    free(f->location);
    tw_batch_free(f->staging);
    return file_start(t, f, t->pq_cols, t->ncols, t->types, err);
}

static bool write_rows(target *t, file_set *fs, tw_batch *const *batches, uint32_t nb,
                       tw_err *err)
{
    tw_value row[256], part[16];
    if (t->npart == 0 && nb > 0) {
        /* Unpartitioned: whole batches go to one file (rolled by size). */
        fs->files = tw_xcalloc(1, sizeof *fs->files);
        fs->n = 1;
        open_file *f = &fs->files[0];
        f->partition = tw_xcalloc(1, sizeof *f->partition);
        if (!file_start(t, f, t->pq_cols, t->ncols, t->types, err))
            return false;
        for (uint32_t b = 0; b < nb; b++) {
            if (!tw_parquet_writer_add_batch(f->writer, batches[b], err))
                return false;
            if (tw_parquet_writer_bytes(f->writer) >= TARGET_FILE_BYTES && b + 1 < nb) {
                if (!roll_file(t, fs, f, err))
                    return false;
            }
        }
        return finish_into(t, fs, f, TW_ICEBERG_DATA, err);
    }
    for (uint32_t b = 0; b < nb; b++) {
        const tw_batch *in = batches[b];
        for (uint32_t r = 0; r < in->nrows; r++) {
            for (uint32_t c = 0; c < t->ncols; c++)
                row[c] = tw_column_get(&in->cols[c], r);
            if (t->npart && !tw_iceberg_table_partition_of(t->table, row, part, err))
                return false;
            open_file *f = NULL;
            for (uint32_t i = 0; i < fs->n && !f; i++) {
                bool same = true;
                for (uint32_t k = 0; k < t->npart && same; k++)
                    same = tw_value_equal(&fs->files[i].partition[k], &part[k]);
                if (same)
                    f = &fs->files[i];
            }
            if (!f) {
                fs->files = tw_xrealloc(fs->files, (fs->n + 1) * sizeof *fs->files);
                f = &fs->files[fs->n++];
                memset(f, 0, sizeof *f);
                f->partition = tw_xcalloc(t->npart ? t->npart : 1, sizeof *f->partition);
                for (uint32_t k = 0; k < t->npart; k++)
                    f->partition[k] = value_copy(part[k]);
                if (!file_start(t, f, t->pq_cols, t->ncols, t->types, err))
                    return false;
            }
            if (!stage_row(f, in, r, err))
                return false;
            if (tw_parquet_writer_bytes(f->writer) >= TARGET_FILE_BYTES) {
                if (!roll_file(t, fs, f, err))
                    return false;
            }
        }
    }
    for (uint32_t i = 0; i < fs->n; i++)
        if (!finish_into(t, fs, &fs->files[i], TW_ICEBERG_DATA, err))
            return false;
    return true;
}

static bool write_deletes(target *t, file_set *fs, tw_batch *const *batches, uint32_t nb,
                          tw_err *err)
{
    if (!nb)
        return true;
    tw_type key_types[64];
    for (uint32_t k = 0; k < t->nkey_cols; k++)
        key_types[k] = t->types[t->key_cols[k]];
    open_file f;
    memset(&f, 0, sizeof f);
    f.partition = tw_xcalloc(1, sizeof *f.partition);
    bool ok = file_start(t, &f, t->pq_keys, t->nkey_cols, key_types, err);
    for (uint32_t b = 0; ok && b < nb; b++)
        for (uint32_t r = 0; ok && r < batches[b]->nrows; r++)
            ok = stage_row(&f, batches[b], r, err);
    ok = ok && finish_into(t, fs, &f, TW_ICEBERG_EQUALITY_DELETES, err);
    file_free(t, &f);
    return ok;
}

static bool target_commit(void *ctx, const tw_sink_commit *c, tw_err *err)
{
    target *t = ctx;
    if (t->routing)
        routing_refresh(t->routing);
    file_set fs;
    memset(&fs, 0, sizeof fs);
    bool ok = write_deletes(t, &fs, c->delete_keys, c->ndelete_batches, err) &&
              write_rows(t, &fs, c->rows, c->nrows_batches, err);
    if (ok) {
        char wm[32];
        snprintf(wm, sizeof wm, "%lld", (long long)c->watermark_us);
        tw_iceberg_kv props[2] = {{t->watermark_key, wm}, {t->positions_key, c->positions}};
        ok = tw_iceberg_table_commit(t->table, fs.entries, fs.nentries, props, 2, err);
    }
    /* Files written for a failed commit stay: the outcome may be unknown,
     * and an unreferenced file is harmless where a deleted referenced one
     * is not. */
    file_set_free(t, &fs);
    return ok;
}

static bool target_last_commit(void *ctx, char **positions, int64_t *watermark_us, tw_err *err)
{
    target *t = ctx;
    (void)err;
    const char *p = tw_iceberg_table_find_property(t->table, t->positions_key);
    const char *w = tw_iceberg_table_find_property(t->table, t->watermark_key);
    *positions = p ? tw_xstrdup(p) : NULL;
    *watermark_us = w ? strtoll(w, NULL, 10) : INT64_MIN;
    return true;
}

static void target_close(void *ctx)
{
    target *t = ctx;
    tw_iceberg_table_free(t->table);
    if (t->catalog)
        t->catalog->ops->close(t->catalog);
    if (t->io)
        t->io->ops->close(t->io);
    for (uint32_t i = 0; i < t->ncols; i++)
        free(t->names[i]);
    free(t->names);
    free(t->types);
    free(t->key_cols);
    free(t->pq_cols);
    free(t->pq_keys);
    free(t->key_ids);
    free(t->watermark_key);
    free(t->positions_key);
    free(t);
}

bool tw_iceberg_target_open(const tw_iceberg_target_opts *o, tw_sink_target *out, tw_err *err)
{
    const char *cat_type = opt(o, "catalog.type");
    const char *table_name = opt(o, "table.name");
    const char *ns = opt(o, "database.name");
    const char *warehouse = opt(o, "warehouse.path");
    if (!table_name)
        return tw_err_set(err, TW_ERR_CONFIG, "table.name = '...' is required");
    if (!ns)
        ns = "public";
    if (!cat_type)
        return tw_err_set(err, TW_ERR_CONFIG,
                          "catalog.type is required: 'sql' (with catalog.uri = 'sqlite:PATH' or "
                          "a PostgreSQL URI), 'jdbc', or 'storage'");
    if (!strcmp(cat_type, "glue") || !strcmp(cat_type, "hive"))
        return tw_err_set(err, TW_ERR_UNSUPPORTED,
                          "catalog.type = '%s' is not supported yet (use 'rest', 'sql', 'jdbc' or "
                          "'storage')",
                          cat_type);
    bool rest = !strcmp(cat_type, "rest");
    if (!warehouse && !rest)
        return tw_err_set(err, TW_ERR_CONFIG,
                          "warehouse.path is required (a local directory or s3://bucket/prefix)");
    /* For a REST catalog warehouse.path names the catalog's warehouse and
     * the catalog chooses table locations: files go to S3 or the local disk
     * by their location (see routing_fileio). */
    bool s3 = !rest && is_s3_location(warehouse);
    if (s3 && !strcmp(cat_type, "storage"))
        return tw_err_set(err, TW_ERR_UNSUPPORTED,
                          "warehouse.path '%s': catalog.type = 'storage' needs a local warehouse "
                          "(use catalog.type = 'sql' with an S3 warehouse)",
                          warehouse);
    if (o->nkey_cols > 64 || o->ncols > 256)
        return tw_err_set(err, TW_ERR_CONFIG, "too many columns for an Iceberg sink");
    target *t = tw_xcalloc(1, sizeof *t);
    size_t kn = strlen(POSITIONS_KEY) + strlen(o->sink_name) + 1;
    t->positions_key = tw_xmalloc(kn);
    snprintf(t->positions_key, kn, "%s%s", POSITIONS_KEY, o->sink_name);
    kn = strlen(WATERMARK_KEY) + strlen(o->sink_name) + 1;
    t->watermark_key = tw_xmalloc(kn);
    snprintf(t->watermark_key, kn, "%s%s", WATERMARK_KEY, o->sink_name);
    char *wh = rest ? NULL : s3 ? tw_xstrdup(warehouse) : tw_fileio_resolve_local(o->data_dir, warehouse);
    char *uri = NULL;
    bool ok = false;
    if (rest) {
        t->routing = open_routing_fileio(o);
        t->io = &t->routing->base;
    } else {
        t->io = s3 ? open_s3_fileio(o, err) : tw_fileio_open_local();
    }
    if (!t->io) {
        tw_err_prefix(err, "warehouse.path '%s'", warehouse ? warehouse : "");
        goto done;
    }
    if (rest) {
        const char *timeout = opt(o, "catalog.timeout_ms");
        tw_catalog_rest_opts ro = {
            .uri = opt(o, "catalog.uri"),
            .warehouse = warehouse,
            .token = opt(o, "catalog.token") ? opt(o, "catalog.token") : opt(o, "token"),
            .credential = opt(o, "catalog.credential") ? opt(o, "catalog.credential")
                                                       : opt(o, "credential"),
            .oauth2_server_uri = opt(o, "catalog.oauth2-server-uri")
                                     ? opt(o, "catalog.oauth2-server-uri")
                                     : opt(o, "catalog.oauth2_server_uri"),
            .scope = opt(o, "catalog.scope"),
            .catalog_name = opt(o, "catalog.name"),
            .timeout_ms = timeout ? strtol(timeout, NULL, 10) : 0,
            .request_credentials = !connection_has_keys(t->routing),
        };
        if (!ro.uri) {
            tw_err_set(err, TW_ERR_CONFIG,
                       "catalog.uri is required for catalog.type = 'rest' (e.g. "
                       "'http://localhost:8181/catalog')");
            goto done;
        }
        t->catalog = tw_catalog_open_rest(&ro, err);
        t->routing->catalog = t->catalog;
    } else if (!strcmp(cat_type, "storage")) {
        t->catalog = tw_catalog_open_storage(wh, err);
    } else if (!strcmp(cat_type, "sql") || !strcmp(cat_type, "jdbc")) {
        const char *u = opt(o, "catalog.uri");
        if (!u) {
            tw_err_set(err, TW_ERR_CONFIG,
                       "catalog.uri is required for catalog.type = '%s' (e.g. 'sqlite:catalog.db')",
                       cat_type);
            goto done;
        }
        if (!strncmp(u, "sqlite:", 7) && u[7] != '/' && strncmp(u + 7, "//", 2)) {
            char *path = tw_fileio_resolve_local(o->data_dir, u + 7);
            size_t n = strlen(path) + 8;
            uri = tw_xmalloc(n);
            snprintf(uri, n, "sqlite:%s", path);
            free(path);
            u = uri;
        }
        t->catalog = tw_catalog_open_sql(u, opt(o, "catalog.jdbc.user"),
                                         opt(o, "catalog.jdbc.password"),
                                         opt(o, "catalog.name") ? opt(o, "catalog.name") : "default",
                                         err);
    } else {
        tw_err_set(err, TW_ERR_CONFIG, "unknown catalog.type '%s' (use 'rest', 'sql', 'jdbc' or 'storage')",
                   cat_type);
        goto done;
    }
    if (!t->catalog)
        goto done;
    t->ncols = o->ncols;
    t->types = tw_xmalloc(o->ncols * sizeof *t->types);
    t->names = tw_xcalloc(o->ncols, sizeof *t->names);
    tw_iceberg_field *fields = tw_xcalloc(o->ncols, sizeof *fields);
    t->key_cols = tw_xcalloc(o->nkey_cols ? o->nkey_cols : 1, sizeof *t->key_cols);
    t->key_ids = tw_xcalloc(o->nkey_cols ? o->nkey_cols : 1, sizeof *t->key_ids);
    t->nkey_cols = o->nkey_cols;
    for (uint32_t c = 0; c < o->ncols; c++) {
        t->types[c] = o->types[c];
        t->names[c] = tw_xstrdup(o->col_names[c]);
        fields[c] = (tw_iceberg_field){(int32_t)c + 1, t->names[c], o->types[c], false};
    }
    for (uint32_t k = 0; k < o->nkey_cols; k++) {
        t->key_cols[k] = o->key_cols[k];
        t->key_ids[k] = (int32_t)o->key_cols[k] + 1;
        fields[o->key_cols[k]].required = true; /* identifier fields must be */
    }
    tw_iceberg_schema schema = {fields, o->ncols, t->key_ids, o->nkey_cols};
    const char *partition_by = opt(o, "partition_by");
    if (partition_by && o->nkey_cols) {
        tw_err_set(err, TW_ERR_UNSUPPORTED,
                   "partition_by with type = 'upsert' is not supported yet");
        free(fields);
        goto done;
    }
    t->table = tw_iceberg_table_open(t->catalog, t->io, wh, ns, table_name, &schema, partition_by,
                                     opt_true(o, "create_table_if_not_exists", false), err);
    free(fields);
    if (!t->table)
        goto done;
    /* Write files with the ids the table has (an existing table may number
     * its fields differently). */
    const tw_iceberg_schema *ts = tw_iceberg_table_schema(t->table);
    t->pq_cols = tw_xcalloc(o->ncols, sizeof *t->pq_cols);
    t->pq_keys = tw_xcalloc(o->nkey_cols ? o->nkey_cols : 1, sizeof *t->pq_keys);
    for (uint32_t c = 0; c < o->ncols; c++) {
        /* The name is the target's own copy: the table's schema is freed
         * and reloaded by every commit. */
        const tw_iceberg_field *f = &ts->fields[c];
        t->pq_cols[c] = (tw_parquet_column){t->names[c], f->type, f->id, f->required};
    }
    for (uint32_t k = 0; k < o->nkey_cols; k++) {
        t->pq_keys[k] = t->pq_cols[o->key_cols[k]];
        t->key_ids[k] = t->pq_keys[k].field_id;
    }
    t->npart = tw_iceberg_table_partition_fields(t->table);
    if (t->npart > 16) {
        tw_err_set(err, TW_ERR_UNSUPPORTED, "more than 16 partition fields");
        goto done;
    }
    *out = (tw_sink_target){
        .commit = target_commit,
        .last_commit = target_last_commit,
        .close = target_close,
        .ctx = t,
    };
    ok = true;
done:
    free(wh);
    free(uri);
    if (!ok)
        target_close(t);
    return ok;
}

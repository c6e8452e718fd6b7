/* history.c - the history provider (see history.h).
 *
 * State under h->mu: the current snapshot (refcounted: queries keep the
 * one they started with), and the row group cache (a chained hash on
 * (file, row group) plus an LRU list). A snapshot is a list of manifests;
 * each manifest (immutable in Iceberg) is read once and shared by every
 * later snapshot that lists it, with its data files' pruning facts and,
 * once loaded, their row group statistics. Decoding row groups happens
 * outside the lock; the count and the ordered walk of a query read pinned
 * cache entries without any lock.
 */
#include "serve/history.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/hash.h"
#include "common/timeutil.h"
#include "iceberg/catalog.h"
#include "iceberg/fileio.h"
#include "iceberg/manifest.h"
#include "iceberg/manifest_read.h"
#include "iceberg/metadata.h"
#include "iceberg/parquet_read.h"
#include "iceberg/partition.h"

#define CACHE_BUCKETS 4096

/* ---- snapshot ----------------------------------------------------------- */

typedef struct file_info {
    char *path;
    uint64_t record_count;
    bool has_bounds;
    int64_t ws_lower_us, ws_upper_us;
    bool has_part;     /* the window_start partition value is known */
    int64_t part;
    /* row group facts, loaded once under h->mu */
    bool footer_loaded, footer_failed;
    uint32_t nrgs;
    uint64_t *rg_rows;
    bool *rg_has_ws;
    int64_t *rg_ws_min, *rg_ws_max;
} file_info;

typedef struct manifest_entry {
    char *path;
    int refs;
    int32_t spec_id;
    file_info *files;
    uint32_t nfiles;
} manifest_entry;

typedef struct schema_field {
    char *name;
    int32_t id;
} schema_field;

typedef struct snapshot {
    int refs;
    char *metadata_location; /* NULL: the table does not exist yet */
    int64_t snapshot_id;
    manifest_entry **manifests; /* sorted by path */
    uint32_t nmanifests;
    uint64_t nfiles;
    uint64_t delete_manifests;
    schema_field *fields;
    uint32_t nfields;
    int32_t ws_field_id;
    /* partition pruning: a field of the default spec over window_start */
    bool part_on_ws;
    int32_t part_spec_id;
    uint32_t part_index;
    tw_iceberg_partition_field part_field; /* name NULL */
} snapshot;

/* ---- cache -------------------------------------------------------------- */

typedef struct rg_entry {
    char *path;
    uint32_t rg;
    uint64_t hash;
    struct rg_entry *chain;
    struct rg_entry *lru_prev, *lru_next; /* head = most recent */
    int pins;
    bool in_cache;
    size_t bytes;
    tw_batch *batch;        /* the file's columns that the view has */
    int32_t *col_map;       /* view column -> batch column, or -1 */
    uint32_t nrows;
    const char **device;    /* NUL-terminated copies, in `strings` */
    int64_t *ws_us;
    uint64_t *types;
    uint32_t *order;        /* rows by (window_start, device_id) */
    tw_arena strings;
} rg_entry;

struct tw_history {
    pthread_mutex_t mu;
    tw_catalog *catalog;
    tw_fileio *io;
    char *ns, *table;
    int64_t poll_interval_us;
    int64_t last_poll_us;
    snapshot *snap;
    rg_entry *buckets[CACHE_BUCKETS];
    rg_entry *lru_head, *lru_tail;
    size_t cache_bytes, cache_limit;
    uint64_t cache_entries;
    tw_history_stats stats;
    bool warned_deletes;
};

struct tw_history_cursor {
    tw_history *h;
    snapshot *snap;
    tw_rowstore *live;
    uint32_t ncols;
    tw_type *types;
    rg_entry **entries;
    uint32_t n;
    uint32_t *lo, *hi, *pos;  /* per entry: range of order[], walk position */
    uint8_t **match;          /* per entry: bit per order[] position in [lo, hi) */
    uint32_t *heap;
    uint32_t nheap;
    bool desc;
    tw_value *values;
};

/* ---- options and catalog ------------------------------------------------ */

static const char *opt(const tw_history_opts *o, const char *key)
{
    for (uint32_t i = o->nopts; i-- > 0;)
        if (!strcmp(o->keys[i], key))
            return o->values[i];
    return NULL;
}


static tw_catalog *open_catalog(const tw_history_opts *o, tw_err *err)
{
    const char *type = opt(o, "catalog.type");
    const char *wh = opt(o, "warehouse.path");
    const char *dir = o->data_dir ? o->data_dir : ".";
    if (!type) {
        tw_err_set(err, TW_ERR_CONFIG, "history: the sink has no catalog.type");
        return NULL;
    }
    if (!strcmp(type, "storage")) {
        if (!wh) {
            tw_err_set(err, TW_ERR_CONFIG, "history: warehouse.path is required");
            return NULL;
        }
        char *path = tw_fileio_resolve_local(dir, wh);
        tw_catalog *c = tw_catalog_open_storage(path, err);
        free(path);
        return c;
    }
    if (strcmp(type, "sql") && strcmp(type, "jdbc")) {
        tw_err_set(err, TW_ERR_UNSUPPORTED, "history: catalog.type = '%s' cannot be read (use "
                   "'sql', 'jdbc' or 'storage')", type);
        return NULL;
    }
    const char *uri = opt(o, "catalog.uri");
    if (!uri) {
        tw_err_set(err, TW_ERR_CONFIG, "history: catalog.uri is required");
        return NULL;
    }
    char *owned = NULL;
    if (!strncmp(uri, "sqlite:", 7) && uri[7] != '/' && strncmp(uri + 7, "//", 2)) {
        char *path = tw_fileio_resolve_local(dir, uri + 7);
        size_t n = strlen(path) + 8;
        owned = tw_xmalloc(n);
        snprintf(owned, n, "sqlite:%s", path);
        free(path);
        uri = owned;
    }
    tw_catalog *c = tw_catalog_open_sql(uri, opt(o, "catalog.jdbc.user"),
                                        opt(o, "catalog.jdbc.password"),
                                        opt(o, "catalog.name") ? opt(o, "catalog.name") : "default",
                                        err);
    free(owned);
    return c;
}

tw_history *tw_history_open(const tw_history_opts *o, tw_err *err)
{
    const char *table = opt(o, "table.name");
    if (!table) {
        tw_err_set(err, TW_ERR_CONFIG, "history: the sink has no table.name");
        return NULL;
    }
    const char *wh = opt(o, "warehouse.path");
    if (wh && (!strncmp(wh, "s3://", 5) || !strncmp(wh, "s3a://", 6))) {
        tw_err_set(err, TW_ERR_UNSUPPORTED, "history: S3 warehouses cannot be read yet");
        return NULL;
    }
    tw_catalog *cat = open_catalog(o, err);
    if (!cat)
        return NULL;
    tw_history *h = tw_xcalloc(1, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    h->catalog = cat;
    h->io = tw_fileio_open_local();
    h->ns = tw_xstrdup(opt(o, "database.name") ? opt(o, "database.name") : "public");
    h->table = tw_xstrdup(table);
    h->poll_interval_us = (o->poll_interval_ms > 0 ? o->poll_interval_ms : 1000) * 1000;
    h->cache_limit = o->cache_bytes ? o->cache_bytes : (size_t)256 << 20;
    h->stats.snapshot_id = -1;
    return h;
}

/* ---- snapshots ---------------------------------------------------------- */

static void file_info_clear(file_info *f)
{
    free(f->path);
    free(f->rg_rows);
    free(f->rg_has_ws);
    free(f->rg_ws_min);
    free(f->rg_ws_max);
}

static void manifest_unref(manifest_entry *m)
{
    if (!m || --m->refs > 0)
        return;
    for (uint32_t i = 0; i < m->nfiles; i++)
        file_info_clear(&m->files[i]);
    free(m->files);
    free(m->path);
    free(m);
}

static void snapshot_unref(snapshot *s)
{
    if (!s || --s->refs > 0)
        return;
    for (uint32_t i = 0; i < s->nmanifests; i++)
        manifest_unref(s->manifests[i]);
    free(s->manifests);
    for (uint32_t i = 0; i < s->nfields; i++)
        free(s->fields[i].name);
    free(s->fields);
    free(s->metadata_location);
    free(s);
}

static int64_t le_i64(const tw_iceberg_bytes *b)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8 && i < b->len; i++)
        v |= (uint64_t)b->data[i] << (8 * i);
    return (int64_t)v;
}

static manifest_entry *manifest_load(tw_history *h, const snapshot *s,
                                     const tw_iceberg_manifest_file *mf, tw_err *err)
{
    char *bytes = NULL;
    size_t len = 0;
    if (!tw_fileio_read(h->io, mf->path, &bytes, &len, NULL, err))
        return NULL;
    tw_iceberg_file_entry *entries = NULL;
    uint32_t n = 0;
    bool ok = tw_iceberg_manifest_read(bytes, len, &entries, &n, err);
    free(bytes);
    if (!ok) {
        tw_err_prefix(err, "%s", mf->path);
        return NULL;
    }
    manifest_entry *m = tw_xcalloc(1, sizeof *m);
    m->path = tw_xstrdup(mf->path);
    m->refs = 1;
    m->spec_id = mf->spec_id;
    m->files = tw_xcalloc(n ? n : 1, sizeof *m->files);
    for (uint32_t i = 0; i < n; i++) {
        const tw_iceberg_file_entry *e = &entries[i];
        if (e->status == TW_ICEBERG_DELETED || e->content != 0 ||
            (e->format && strcasecmp(e->format, "PARQUET")))
            continue;
        file_info *f = &m->files[m->nfiles++];
        f->path = tw_xstrdup(e->path);
        f->record_count = e->record_count;
        const tw_iceberg_bound *b = s->ws_field_id > 0 ? tw_iceberg_file_entry_bound(e, s->ws_field_id)
                                                       : NULL;
        if (b && b->lower.present && b->upper.present && b->lower.len == 8 && b->upper.len == 8) {
            f->has_bounds = true;
            f->ws_lower_us = le_i64(&b->lower);
            f->ws_upper_us = le_i64(&b->upper);
        }
        if (s->part_on_ws && m->spec_id == s->part_spec_id && s->part_index < e->npartition &&
            !e->partition[s->part_index].is_null && e->partition[s->part_index].type == TW_T_INT64) {
            f->has_part = true;
            f->part = e->partition[s->part_index].i64;
        }
    }
    tw_iceberg_file_entries_free(entries, n);
    return m;
}

static int manifest_cmp(const void *a, const void *b)
{
    return strcmp((*(manifest_entry *const *)a)->path, (*(manifest_entry *const *)b)->path);
}

static manifest_entry *find_manifest(const snapshot *s, const char *path)
{
    if (!s || !s->nmanifests)
        return NULL;
    manifest_entry key = {.path = (char *)path}, *kp = &key;
    manifest_entry **hit = bsearch(&kp, s->manifests, s->nmanifests, sizeof *s->manifests,
                                   manifest_cmp);
    return hit ? *hit : NULL;
}

/* Builds the snapshot that metadata_location describes, sharing the old
 * snapshot's manifests. Called with h->mu held. */
static snapshot *snapshot_load(tw_history *h, const char *metadata_location, tw_err *err)
{
    snapshot *s = tw_xcalloc(1, sizeof *s);
    s->refs = 1;
    s->snapshot_id = -1;
    s->metadata_location = tw_xstrdup(metadata_location);
    char *text = NULL, *list = NULL;
    size_t len = 0;
    tw_iceberg_metadata *md = NULL;
    tw_iceberg_manifest_file *mfs = NULL;
    uint32_t nmfs = 0;
    bool ok = false;
    if (!tw_fileio_read(h->io, metadata_location, &text, &len, NULL, err))
        goto cleanup;
    md = tw_iceberg_metadata_parse(text, len, err);
    if (!md)
        goto cleanup;
    s->fields = tw_xcalloc(md->schema.nfields ? md->schema.nfields : 1, sizeof *s->fields);
    for (uint32_t i = 0; i < md->schema.nfields; i++) {
        s->fields[s->nfields++] = (schema_field){tw_xstrdup(md->schema.fields[i].name),
                                                 md->schema.fields[i].id};
        if (!strcmp(md->schema.fields[i].name, "window_start"))
            s->ws_field_id = md->schema.fields[i].id;
    }
    for (uint32_t i = 0; i < md->spec.nfields; i++) {
        const tw_iceberg_partition_field *pf = &md->spec.fields[i];
        bool time_transform = pf->transform == TW_ICE_IDENTITY || pf->transform == TW_ICE_YEAR ||
                              pf->transform == TW_ICE_MONTH || pf->transform == TW_ICE_DAY ||
                              pf->transform == TW_ICE_HOUR;
        if (pf->source_id == s->ws_field_id && s->ws_field_id > 0 && time_transform) {
            s->part_on_ws = true;
            s->part_spec_id = md->spec.spec_id;
            s->part_index = i;
            s->part_field = *pf;
            s->part_field.name = NULL;
            break;
        }
    }
    if (!md->current) {
        ok = true;
        goto cleanup;
    }
    s->snapshot_id = md->current->snapshot_id;
    if (!tw_fileio_read(h->io, md->current->manifest_list, &list, &len, NULL, err) ||
        !tw_iceberg_manifest_list_decode(list, len, &mfs, &nmfs, err))
        goto cleanup;
    s->manifests = tw_xcalloc(nmfs ? nmfs : 1, sizeof *s->manifests);
    for (uint32_t i = 0; i < nmfs; i++) {
        if (mfs[i].content != 0) {
            s->delete_manifests++;
            continue;
        }
        manifest_entry *m = find_manifest(h->snap, mfs[i].path);
        if (m && m->spec_id == mfs[i].spec_id) {
            m->refs++;
        } else if (!(m = manifest_load(h, s, &mfs[i], err))) {
            goto cleanup;
        }
        s->manifests[s->nmanifests++] = m;
        s->nfiles += m->nfiles;
    }
    qsort(s->manifests, s->nmanifests, sizeof *s->manifests, manifest_cmp);
    ok = true;
cleanup:
    free(text);
    free(list);
    tw_iceberg_manifest_files_free(mfs, nmfs);
    tw_iceberg_metadata_free(md);
    if (!ok) {
        snapshot_unref(s);
        return NULL;
    }
    return s;
}

/* Polls the catalog when the interval has passed. Called with h->mu held.
 * On failure the old snapshot stays and err is set. */
static bool maybe_reload(tw_history *h, tw_err *err)
{
    int64_t now = tw_now_mono_us();
    if (h->snap && now - h->last_poll_us < h->poll_interval_us)
        return true;
    h->last_poll_us = now;
    char *loc = NULL;
    if (!h->catalog->ops->load(h->catalog, h->ns, h->table, &loc, err))
        return false;
    const char *have = h->snap ? h->snap->metadata_location : NULL;
    if (h->snap && ((!loc && !have) || (loc && have && !strcmp(loc, have)))) {
        free(loc);
        return true;
    }
    snapshot *s;
    if (!loc) {
        s = tw_xcalloc(1, sizeof *s);
        s->refs = 1;
        s->snapshot_id = -1;
    } else {
        s = snapshot_load(h, loc, err);
        free(loc);
        if (!s)
            return false;
    }
    snapshot_unref(h->snap);
    h->snap = s;
    h->stats.reloads++;
    h->stats.snapshot_id = s->snapshot_id;
    h->stats.files = s->nfiles;
    h->stats.delete_manifests = s->delete_manifests;
    if (s->delete_manifests && !h->warned_deletes) {
        h->warned_deletes = true;
        fprintf(stderr, "tidewatch: history of %s.%s: %llu delete manifests are not applied; "
                "updated rows may show their older values\n", h->ns, h->table,
                (unsigned long long)s->delete_manifests);
    }
    return true;
}

void tw_history_invalidate(tw_history *h)
{
    pthread_mutex_lock(&h->mu);
    h->last_poll_us = INT64_MIN / 2;
    pthread_mutex_unlock(&h->mu);
}

/* Reads a file's footer for its row group sizes and window_start ranges.
 * Called with h->mu held; a failure leaves the file to be read whole. */
static void load_footer(const snapshot *s, file_info *f)
{
    if (f->footer_loaded || f->footer_failed)
        return;
    tw_err err;
    tw_parquet_reader *r = tw_parquet_reader_open_file(f->path, &err);
    if (!r) {
        f->footer_failed = true;
        fprintf(stderr, "tidewatch: history: %s\n", err.msg);
        return;
    }
    int col = s->ws_field_id > 0 ? tw_parquet_reader_find_field_id(r, s->ws_field_id) : -1;
    if (col < 0)
        col = tw_parquet_reader_find(r, "window_start");
    f->nrgs = tw_parquet_reader_num_row_groups(r);
    uint32_t n = f->nrgs ? f->nrgs : 1;
    f->rg_rows = tw_xcalloc(n, sizeof *f->rg_rows);
    f->rg_has_ws = tw_xcalloc(n, sizeof *f->rg_has_ws);
    f->rg_ws_min = tw_xcalloc(n, sizeof *f->rg_ws_min);
    f->rg_ws_max = tw_xcalloc(n, sizeof *f->rg_ws_max);
    for (uint32_t g = 0; g < f->nrgs; g++) {
        f->rg_rows[g] = tw_parquet_reader_row_group_rows(r, g);
        if (col < 0)
            continue;
        tw_parquet_chunk_stats st;
        tw_parquet_reader_chunk_stats(r, g, (uint32_t)col, &st);
        if (st.has_bounds && tw_type_is_time(st.min.type)) {
            f->rg_has_ws[g] = true;
            f->rg_ws_min[g] = st.min.i64;
            f->rg_ws_max[g] = st.max.i64;
        }
    }
    f->footer_loaded = true;
    tw_parquet_reader_free(r);
}

bool tw_history_bounds(tw_history *h, int64_t *min_us, int64_t *max_us)
{
    tw_err err;
    bool any = false;
    pthread_mutex_lock(&h->mu);
    maybe_reload(h, &err);
    const snapshot *s = h->snap;
    for (uint32_t i = 0; s && i < s->nmanifests; i++) {
        for (uint32_t k = 0; k < s->manifests[i]->nfiles; k++) {
            const file_info *f = &s->manifests[i]->files[k];
            if (!f->has_bounds || !f->record_count)
                continue;
            if (!any || f->ws_lower_us < *min_us)
                *min_us = f->ws_lower_us;
            if (!any || f->ws_upper_us > *max_us)
                *max_us = f->ws_upper_us;
            any = true;
        }
    }
    pthread_mutex_unlock(&h->mu);
    return any;
}

/* ---- cache -------------------------------------------------------------- */

static uint64_t rg_hash(const char *path, uint32_t rg)
{
    return tw_hash_bytes(path, strlen(path), tw_hash_u64(rg, 0x6869));
}

static void rg_entry_free(rg_entry *e)
{
    free(e->path);
    tw_batch_free(e->batch);
    free(e->col_map);
    free(e->device);
    free(e->ws_us);
    free(e->types);
    free(e->order);
    tw_arena_free(&e->strings);
    free(e);
}

static void lru_unlink(tw_history *h, rg_entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        h->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        h->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(tw_history *h, rg_entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = h->lru_head;
    if (h->lru_head)
        h->lru_head->lru_prev = e;
    h->lru_head = e;
    if (!h->lru_tail)
        h->lru_tail = e;
}

static rg_entry *cache_get(tw_history *h, const char *path, uint32_t rg, uint64_t hash)
{
    for (rg_entry *e = h->buckets[hash % CACHE_BUCKETS]; e; e = e->chain)
        if (e->hash == hash && e->rg == rg && !strcmp(e->path, path))
            return e;
    return NULL;
}

static void cache_remove(tw_history *h, rg_entry *e)
{
    rg_entry **pp = &h->buckets[e->hash % CACHE_BUCKETS];
    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
    lru_unlink(h, e);
    e->in_cache = false;
    h->cache_bytes -= e->bytes;
    h->cache_entries--;
}

/* Evicts unpinned entries, oldest first, until the cache fits its limit.
 * Pinned entries stay (a query is reading them); they go when unpinned. */
static void cache_trim(tw_history *h)
{
    rg_entry *e = h->lru_tail;
    while (e && h->cache_bytes > h->cache_limit) {
        rg_entry *prev = e->lru_prev;
        if (!e->pins) {
            cache_remove(h, e);
            rg_entry_free(e);
        }
        e = prev;
    }
}

static void cache_unpin(tw_history *h, rg_entry *e)
{
    assert(e->pins > 0);
    if (--e->pins == 0 && !e->in_cache)
        rg_entry_free(e);
}

void tw_history_flush(tw_history *h)
{
    pthread_mutex_lock(&h->mu);
    for (size_t b = 0; b < CACHE_BUCKETS; b++) {
        rg_entry *e = h->buckets[b];
        while (e) {
            rg_entry *next = e->chain;
            cache_remove(h, e);
            if (!e->pins)
                rg_entry_free(e); /* a pinned one goes at its last unpin */
            e = next;
        }
    }
    pthread_mutex_unlock(&h->mu);
}

/* The view's columns (live's) mapped onto a file's columns, by the table's
 * field id for the name, else by name. */
typedef struct view_cols {
    uint32_t ncols;
    const char **names;
    tw_type *types;
    int32_t *field_ids;
    int32_t device_col, ws_col;
    uint32_t ntypes;
    int32_t type_col[TW_ROWSTORE_MAX_TYPES];
} view_cols;

static int row_cmp_keys(int64_t a_ws, const char *a_dev, int64_t b_ws, const char *b_dev)
{
    if (a_ws != b_ws)
        return a_ws < b_ws ? -1 : 1;
    return strcmp(a_dev, b_dev);
}

typedef struct sort_item {
    int64_t ws;
    const char *dev;
    uint32_t row;
} sort_item;

static int sort_item_cmp(const void *a, const void *b)
{
    const sort_item *x = a, *y = b;
    return row_cmp_keys(x->ws, x->dev, y->ws, y->dev);
}

/* Decodes row group rg of r into a cache entry: the view's columns, device
 * strings NUL-terminated, type bits per row, and the rows' sorted order. */
static rg_entry *decode_rg(tw_parquet_reader *r, const char *path, uint32_t rg,
                           const view_cols *vc, tw_err *err)
{
    uint32_t *cols = tw_xcalloc(vc->ncols ? vc->ncols : 1, sizeof *cols);
    int32_t *map = tw_xcalloc(vc->ncols ? vc->ncols : 1, sizeof *map);
    uint32_t nread = 0;
    for (uint32_t c = 0; c < vc->ncols; c++) {
        int fc = vc->field_ids[c] > 0 ? tw_parquet_reader_find_field_id(r, vc->field_ids[c]) : -1;
        if (fc < 0)
            fc = tw_parquet_reader_find(r, vc->names[c]);
        map[c] = -1;
        if (fc < 0)
            continue;
        tw_type ft = tw_parquet_reader_column(r, (uint32_t)fc)->type;
        /* Same storage class, or the value cannot be shown as the view's type. */
        if (ft == TW_T_NULL || tw_type_phys(ft) != tw_type_phys(vc->types[c]))
            continue;
        map[c] = (int32_t)nread;
        cols[nread++] = (uint32_t)fc;
    }
    if (vc->device_col < 0 || vc->ws_col < 0 || map[vc->device_col] < 0 || map[vc->ws_col] < 0) {
        tw_err_set(err, TW_ERR_IO, "history: %s has no device_id or window_start column", path);
        free(cols);
        free(map);
        return NULL;
    }
    tw_batch *b = tw_parquet_reader_read(r, rg, cols, nread, err);
    free(cols);
    if (!b) {
        free(map);
        return NULL;
    }
    rg_entry *e = tw_xcalloc(1, sizeof *e);
    e->path = tw_xstrdup(path);
    e->rg = rg;
    e->hash = rg_hash(path, rg);
    e->batch = b;
    e->col_map = map;
    e->nrows = b->nrows;
    uint32_t n = b->nrows ? b->nrows : 1;
    e->device = tw_xcalloc(n, sizeof *e->device);
    e->ws_us = tw_xcalloc(n, sizeof *e->ws_us);
    e->types = tw_xcalloc(n, sizeof *e->types);
    e->order = tw_xcalloc(n, sizeof *e->order);
    tw_arena_init(&e->strings, 64 * 1024);
    const tw_column *dev = &b->cols[map[vc->device_col]];
    const tw_column *ws = &b->cols[map[vc->ws_col]];
    sort_item *items = tw_xcalloc(n, sizeof *items);
    /* Rows without a key are dropped, as the live store drops them: they
     * sort past the end and are not counted in nrows. */
    uint32_t kept = 0;
    for (uint32_t i = 0; i < b->nrows; i++) {
        if (!dev->valid[i] || !ws->valid[i])
            continue;
        e->device[i] = tw_arena_strndup(&e->strings, dev->s[i].ptr, dev->s[i].len);
        e->ws_us[i] = ws->i64[i];
        uint64_t bits = 0;
        for (uint32_t t = 0; t < vc->ntypes; t++) {
            int32_t vcol = vc->type_col[t];
            if (vcol < 0 || map[vcol] < 0)
                continue;
            const tw_column *tc = &b->cols[map[vcol]];
            if (tc->valid[i] && tc->b[i])
                bits |= UINT64_C(1) << t;
        }
        e->types[i] = bits;
        items[kept++] = (sort_item){e->ws_us[i], e->device[i], i};
    }
    qsort(items, kept, sizeof *items, sort_item_cmp);
    for (uint32_t i = 0; i < kept; i++)
        e->order[i] = items[i].row;
    e->nrows = kept;
    free(items);
    size_t bytes = sizeof *e + e->strings.used_bytes + b->arena.used_bytes;
    bytes += (size_t)n * (sizeof *e->device + sizeof *e->ws_us + sizeof *e->types + sizeof *e->order);
    for (uint32_t c = 0; c < b->ncols; c++)
        bytes += (size_t)n * (1 + (tw_type_phys(b->cols[c].type) == TW_PHYS_BOOL ? 1
                                   : tw_type_phys(b->cols[c].type) == TW_PHYS_STR ? sizeof(tw_str)
                                                                                  : 8));
    e->bytes = bytes;
    return e;
}

/* ---- queries ------------------------------------------------------------ */

typedef struct candidate {
    file_info *file;
    uint32_t rg;
    rg_entry *entry; /* pinned once found or loaded */
} candidate;

static bool view_cols_init(view_cols *vc, const snapshot *s, tw_rowstore *live)
{
    memset(vc, 0, sizeof *vc);
    vc->ncols = tw_rowstore_ncols(live);
    vc->names = tw_xcalloc(vc->ncols ? vc->ncols : 1, sizeof *vc->names);
    vc->types = tw_xcalloc(vc->ncols ? vc->ncols : 1, sizeof *vc->types);
    vc->field_ids = tw_xcalloc(vc->ncols ? vc->ncols : 1, sizeof *vc->field_ids);
    vc->device_col = vc->ws_col = -1;
    for (uint32_t c = 0; c < vc->ncols; c++) {
        vc->names[c] = tw_rowstore_column_name(live, c);
        vc->types[c] = tw_rowstore_column_type(live, c);
        for (uint32_t f = 0; f < s->nfields; f++)
            if (!strcmp(s->fields[f].name, vc->names[c]))
                vc->field_ids[c] = s->fields[f].id;
        if (!strcmp(vc->names[c], "device_id"))
            vc->device_col = (int32_t)c;
        if (!strcmp(vc->names[c], "window_start"))
            vc->ws_col = (int32_t)c;
    }
    vc->ntypes = tw_rowstore_ntypes(live);
    for (uint32_t t = 0; t < vc->ntypes; t++) {
        vc->type_col[t] = -1;
        const char *name = tw_rowstore_type_column(live, t);
        for (uint32_t c = 0; c < vc->ncols; c++)
            if (!strcmp(vc->names[c], name))
                vc->type_col[t] = (int32_t)c;
    }
    return vc->device_col >= 0 && vc->ws_col >= 0;
}

static void view_cols_clear(view_cols *vc)
{
    free(vc->names);
    free(vc->types);
    free(vc->field_ids);
}

/* The partition value range [lo, hi] that rows in [from, to] can have. */
static void part_range(const snapshot *s, const tw_rowstore_filter *f, int64_t *lo, int64_t *hi)
{
    *lo = INT64_MIN;
    *hi = INT64_MAX;
    tw_value in = {.type = TW_T_TIMESTAMPTZ}, out;
    if (f->from_us != INT64_MIN) {
        in.i64 = f->from_us;
        tw_iceberg_partition_apply(&s->part_field, &in, &out);
        if (!out.is_null)
            *lo = out.i64;
    }
    if (f->to_us != INT64_MAX) {
        in.i64 = f->to_us;
        tw_iceberg_partition_apply(&s->part_field, &in, &out);
        if (!out.is_null)
            *hi = out.i64;
    }
}

/* Lists the row groups that may hold rows in [from, to]. Called with
 * h->mu held (footers are loaded here, once per file). */
static candidate *plan(tw_history *h, const snapshot *s, const tw_rowstore_filter *f,
                       uint32_t *ncand)
{
    uint32_t n = 0, cap = 0;
    candidate *out = NULL;
    int64_t plo = INT64_MIN, phi = INT64_MAX;
    if (s->part_on_ws)
        part_range(s, f, &plo, &phi);
    h->stats.files_pruned_partition = h->stats.files_pruned_bounds = 0;
    h->stats.row_groups_pruned = 0;
    for (uint32_t i = 0; i < s->nmanifests; i++) {
        manifest_entry *m = s->manifests[i];
        for (uint32_t k = 0; k < m->nfiles; k++) {
            file_info *fi = &m->files[k];
            if (fi->has_part && (fi->part < plo || fi->part > phi)) {
                h->stats.files_pruned_partition++;
                continue;
            }
            if (fi->has_bounds && (fi->ws_upper_us < f->from_us || fi->ws_lower_us > f->to_us)) {
                h->stats.files_pruned_bounds++;
                continue;
            }
            load_footer(s, fi);
            if (!fi->footer_loaded)
                continue;
            for (uint32_t g = 0; g < fi->nrgs; g++) {
                if (!fi->rg_rows[g] || (fi->rg_has_ws[g] && (fi->rg_ws_max[g] < f->from_us ||
                                                             fi->rg_ws_min[g] > f->to_us))) {
                    h->stats.row_groups_pruned++;
                    continue;
                }
                if (n == cap) {
                    cap = cap ? cap * 2 : 64;
                    out = tw_xrealloc(out, cap * sizeof *out);
                }
                out[n++] = (candidate){fi, g, NULL};
            }
        }
    }
    *ncand = n;
    return out;
}

/* Pins every candidate's cache entry, decoding the missing ones outside
 * the lock (grouped by file, one footer read per file). */
static bool fetch(tw_history *h, candidate *cands, uint32_t n, const view_cols *vc, tw_err *err)
{
    pthread_mutex_lock(&h->mu);
    uint64_t hits = 0, reads = 0;
    for (uint32_t i = 0; i < n; i++) {
        rg_entry *e = cache_get(h, cands[i].file->path, cands[i].rg,
                                rg_hash(cands[i].file->path, cands[i].rg));
        if (e) {
            e->pins++;
            lru_unlink(h, e);
            lru_push_front(h, e);
            cands[i].entry = e;
            hits++;
        }
    }
    pthread_mutex_unlock(&h->mu);
    bool ok = true;
    for (uint32_t i = 0; i < n && ok; i++) {
        if (cands[i].entry)
            continue;
        tw_parquet_reader *r = tw_parquet_reader_open_file(cands[i].file->path, err);
        if (!r) {
            ok = false;
            break;
        }
        /* every missing row group of this file */
        for (uint32_t j = i; j < n && ok; j++) {
            if (cands[j].entry || cands[j].file != cands[i].file)
                continue;
            rg_entry *e = decode_rg(r, cands[j].file->path, cands[j].rg, vc, err);
            if (!e) {
                ok = false;
                break;
            }
            reads++;
            pthread_mutex_lock(&h->mu);
            rg_entry *other = cache_get(h, e->path, e->rg, e->hash);
            if (other) {
                /* another query decoded it meanwhile */
                rg_entry_free(e);
                e = other;
            } else {
                e->in_cache = true;
                e->chain = h->buckets[e->hash % CACHE_BUCKETS];
                h->buckets[e->hash % CACHE_BUCKETS] = e;
                h->cache_bytes += e->bytes;
                h->cache_entries++;
            }
            e->pins++;
            lru_unlink(h, e);
            lru_push_front(h, e);
            cands[j].entry = e;
            cache_trim(h);
            pthread_mutex_unlock(&h->mu);
        }
        tw_parquet_reader_free(r);
    }
    pthread_mutex_lock(&h->mu);
    h->stats.row_groups_cached = hits;
    h->stats.row_groups_read = reads;
    pthread_mutex_unlock(&h->mu);
    return ok;
}

/* First index in order[] whose window_start is >= ws (or > ws when after). */
static uint32_t bound_in(const rg_entry *e, int64_t ws, bool after)
{
    uint32_t lo = 0, hi = e->nrows;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t v = e->ws_us[e->order[mid]];
        if (v < ws || (after && v == ws))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static inline bool bit_get(const uint8_t *bits, uint32_t i) { return bits[i / 8] >> (i % 8) & 1; }

/* The cursor's current row of entry k: order[pos] (ascending) or
 * order[hi - 1 - (pos - lo)] (descending). */
static inline uint32_t cur_index(const tw_history_cursor *c, uint32_t k)
{
    return c->desc ? c->hi[k] - 1 - (c->pos[k] - c->lo[k]) : c->pos[k];
}

/* Moves entry k's position to its next matching row; false at the end. */
static bool advance_to_match(tw_history_cursor *c, uint32_t k)
{
    while (c->pos[k] < c->hi[k]) {
        uint32_t idx = cur_index(c, k);
        if (bit_get(c->match[k], idx - c->lo[k]))
            return true;
        c->pos[k]++;
    }
    return false;
}

static bool heap_less(const tw_history_cursor *c, uint32_t a, uint32_t b)
{
    const rg_entry *ea = c->entries[a], *eb = c->entries[b];
    uint32_t ra = ea->order[cur_index(c, a)], rb = eb->order[cur_index(c, b)];
    int cmp = row_cmp_keys(ea->ws_us[ra], ea->device[ra], eb->ws_us[rb], eb->device[rb]);
    return c->desc ? cmp > 0 : cmp < 0;
}

static void heap_down(tw_history_cursor *c, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < c->nheap && heap_less(c, c->heap[l], c->heap[m]))
            m = l;
        if (r < c->nheap && heap_less(c, c->heap[r], c->heap[m]))
            m = r;
        if (m == i)
            return;
        uint32_t t = c->heap[i];
        c->heap[i] = c->heap[m];
        c->heap[m] = t;
        i = m;
    }
}

tw_history_cursor *tw_history_query(tw_history *h, tw_rowstore *live,
                                    const tw_rowstore_filter *filter, bool desc,
                                    uint64_t *total, tw_err *err)
{
    *total = 0;
    pthread_mutex_lock(&h->mu);
    if (!maybe_reload(h, err) && !h->snap) {
        pthread_mutex_unlock(&h->mu);
        return NULL;
    }
    snapshot *s = h->snap;
    s->refs++;
    h->stats.queries++;
    uint32_t ncand = 0;
    candidate *cands = filter->from_us <= filter->to_us ? plan(h, s, filter, &ncand) : NULL;
    pthread_mutex_unlock(&h->mu);

    tw_history_cursor *c = tw_xcalloc(1, sizeof *c);
    c->h = h;
    c->snap = s;
    c->live = live;
    c->desc = desc;
    view_cols vc;
    bool ok = view_cols_init(&vc, s, live);
    if (!ok)
        tw_err_set(err, TW_ERR_CONFIG, "history: the view has no device_id or window_start");
    ok = ok && fetch(h, cands, ncand, &vc, err);
    c->ncols = vc.ncols;
    c->types = vc.types;
    vc.types = NULL;
    view_cols_clear(&vc);
    c->values = tw_xcalloc(c->ncols ? c->ncols : 1, sizeof *c->values);
    c->entries = tw_xcalloc(ncand ? ncand : 1, sizeof *c->entries);
    for (uint32_t i = 0; i < ncand; i++)
        if (cands[i].entry)
            c->entries[c->n++] = cands[i].entry;
    free(cands);
    if (!ok) {
        tw_history_cursor_free(c);
        return NULL;
    }
    c->lo = tw_xcalloc(c->n ? c->n : 1, sizeof *c->lo);
    c->hi = tw_xcalloc(c->n ? c->n : 1, sizeof *c->hi);
    c->pos = tw_xcalloc(c->n ? c->n : 1, sizeof *c->pos);
    c->match = tw_xcalloc(c->n ? c->n : 1, sizeof *c->match);
    c->heap = tw_xcalloc(c->n ? c->n : 1, sizeof *c->heap);
    int64_t live_min = 0, live_max = -1;
    bool live_any = live && tw_rowstore_bounds(live, &live_min, &live_max);
    bool row_filter = filter->match_types || filter->device_id || (filter->q && *filter->q);
    uint64_t count = 0;
    for (uint32_t k = 0; k < c->n; k++) {
        const rg_entry *e = c->entries[k];
        c->lo[k] = filter->from_us == INT64_MIN ? 0 : bound_in(e, filter->from_us, false);
        c->hi[k] = filter->to_us == INT64_MAX ? e->nrows : bound_in(e, filter->to_us, true);
        if (c->hi[k] < c->lo[k])
            c->hi[k] = c->lo[k];
        uint32_t span = c->hi[k] - c->lo[k];
        c->match[k] = tw_xcalloc(span / 8 + 1, 1);
        for (uint32_t p = c->lo[k]; p < c->hi[k]; p++) {
            uint32_t row = e->order[p];
            if (row_filter) {
                tw_rowstore_row rr = {e->ws_us[row], e->types[row], e->device[row], NULL};
                if (!tw_rowstore_row_matches(filter, &rr))
                    continue;
            }
            if (live_any && e->ws_us[row] >= live_min && e->ws_us[row] <= live_max &&
                tw_rowstore_contains(live, e->device[row], e->ws_us[row]))
                continue;
            c->match[k][(p - c->lo[k]) / 8] |= (uint8_t)(1u << ((p - c->lo[k]) % 8));
            count++;
        }
        c->pos[k] = c->lo[k];
        if (advance_to_match(c, k))
            c->heap[c->nheap++] = k;
    }
    for (uint32_t i = c->nheap / 2 + 1; i-- > 0;)
        heap_down(c, i);
    *total = count;
    return c;
}

bool tw_history_next(tw_history_cursor *c, tw_rowstore_row *row)
{
    if (!c->nheap)
        return false;
    uint32_t k = c->heap[0];
    const rg_entry *e = c->entries[k];
    uint32_t r = e->order[cur_index(c, k)];
    for (uint32_t col = 0; col < c->ncols; col++) {
        int32_t bc = e->col_map[col];
        if (bc < 0) {
            c->values[col] = tw_value_null(c->types[col]);
            continue;
        }
        c->values[col] = tw_column_get(&e->batch->cols[bc], r);
        c->values[col].type = c->types[col];
    }
    *row = (tw_rowstore_row){e->ws_us[r], e->types[r], e->device[r], c->values};
    c->pos[k]++;
    if (!advance_to_match(c, k))
        c->heap[0] = c->heap[--c->nheap];
    if (c->nheap)
        heap_down(c, 0);
    return true;
}

void tw_history_cursor_free(tw_history_cursor *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->h->mu);
    for (uint32_t k = 0; k < c->n; k++)
        cache_unpin(c->h, c->entries[k]);
    cache_trim(c->h);
    snapshot_unref(c->snap);
    pthread_mutex_unlock(&c->h->mu);
    for (uint32_t k = 0; c->match && k < c->n; k++)
        free(c->match[k]);
    free(c->match);
    free(c->entries);
    free(c->lo);
    free(c->hi);
    free(c->pos);
    free(c->heap);
    free(c->values);
    free(c->types);
    free(c);
}

void tw_history_get_stats(tw_history *h, tw_history_stats *stats)
{
    pthread_mutex_lock(&h->mu);
    *stats = h->stats;
    stats->cache_bytes = h->cache_bytes;
    stats->cache_entries = h->cache_entries;
    pthread_mutex_unlock(&h->mu);
}

void tw_history_free(tw_history *h)
{
    if (!h)
        return;
    for (uint32_t b = 0; b < CACHE_BUCKETS; b++) {
        for (rg_entry *e = h->buckets[b], *next; e; e = next) {
            next = e->chain;
            assert(!e->pins);
            rg_entry_free(e);
        }
    }
    snapshot_unref(h->snap);
    if (h->catalog)
        h->catalog->ops->close(h->catalog);
    tw_fileio_close(h->io);
    free(h->ns);
    free(h->table);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

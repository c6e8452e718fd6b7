/* rowstore.c - keyed, time-ordered copy of a windowed view (see rowstore.h). */
#define _GNU_SOURCE /* strcasestr */
#include "serve/rowstore.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/hash.h"
#include "common/timeutil.h"

/* Rows and dirty records both start with their key, so one hash map
 * implementation indexes both. */
typedef struct key_hdr {
    uint64_t hash;
    int64_t start_us;
    char *device; /* owned */
} key_hdr;

typedef struct srow {
    key_hdr key;
    uint64_t types;
    tw_value *values; /* ncols; VARCHAR bytes owned */
} srow;

typedef struct dirty_rec {
    key_hdr key;
    srow *before; /* owned snapshot of the row at the last barrier, or NULL */
} dirty_rec;

/* Open addressing, linear probing, backward-shift deletion. */
typedef struct keymap {
    key_hdr **slots;
    size_t cap; /* power of two */
    size_t count;
} keymap;

struct tw_rowstore {
    pthread_rwlock_t lock;
    atomic_uint_fast64_t generation;
    char *view;
    uint32_t ncols;
    char **names;
    tw_type *col_types;
    uint32_t device_col, start_col;
    uint32_t ntypes;
    char **type_names;
    uint32_t *type_cols;

    srow **sorted; /* by (start_us, device) ascending */
    size_t nsorted, sorted_cap;
    keymap rows;

    dirty_rec **dirty;
    size_t ndirty, dirty_cap;
    keymap dirty_map;
};

/* ---- key map ------------------------------------------------------------ */

static uint64_t key_hash(const char *device, size_t len, int64_t start_us)
{
    return tw_hash_bytes(device, len, tw_hash_u64((uint64_t)start_us, 0x7477));
}

static bool key_is(const key_hdr *k, uint64_t hash, const char *device, int64_t start_us)
{
    return k->hash == hash && k->start_us == start_us && !strcmp(k->device, device);
}

static void keymap_grow(keymap *m)
{
    size_t old_cap = m->cap;
    key_hdr **old = m->slots;
    m->cap = old_cap ? old_cap * 2 : 64;
    m->slots = tw_xcalloc(m->cap, sizeof *m->slots);
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i])
            continue;
        size_t j = old[i]->hash & (m->cap - 1);
        while (m->slots[j])
            j = (j + 1) & (m->cap - 1);
        m->slots[j] = old[i];
    }
    free(old);
}

static key_hdr *keymap_get(const keymap *m, uint64_t hash, const char *device, int64_t start_us)
{
    if (!m->cap)
        return NULL;
    for (size_t j = hash & (m->cap - 1); m->slots[j]; j = (j + 1) & (m->cap - 1))
        if (key_is(m->slots[j], hash, device, start_us))
            return m->slots[j];
    return NULL;
}

static void keymap_put(keymap *m, key_hdr *k)
{
    if ((m->count + 1) * 4 > m->cap * 3)
        keymap_grow(m);
    size_t j = k->hash & (m->cap - 1);
    while (m->slots[j])
        j = (j + 1) & (m->cap - 1);
    m->slots[j] = k;
    m->count++;
}

static void keymap_remove(keymap *m, const key_hdr *k)
{
    size_t mask = m->cap - 1, j = k->hash & mask;
    while (m->slots[j] != k) {
        assert(m->slots[j]);
        j = (j + 1) & mask;
    }
    /* Shift later members of the probe run back into the hole. */
    size_t hole = j;
    for (size_t i = (hole + 1) & mask; m->slots[i]; i = (i + 1) & mask) {
        size_t home = m->slots[i]->hash & mask;
        bool movable = hole <= i ? (home <= hole || home > i) : (home <= hole && home > i);
        if (movable) {
            m->slots[hole] = m->slots[i];
            hole = i;
        }
    }
    m->slots[hole] = NULL;
    m->count--;
}

static void keymap_clear(keymap *m)
{
    if (m->count)
        memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->count = 0;
}

/* ---- rows --------------------------------------------------------------- */

static void values_free(const tw_rowstore *s, tw_value *values)
{
    for (uint32_t c = 0; c < s->ncols; c++)
        if (s->col_types[c] == TW_T_VARCHAR && !values[c].is_null)
            free((void *)values[c].s.ptr);
}

static void row_free(const tw_rowstore *s, srow *r)
{
    if (!r)
        return;
    values_free(s, r->values);
    free(r->values);
    free(r->key.device);
    free(r);
}

static void values_set(const tw_rowstore *s, tw_value *dst, const tw_batch *b, uint32_t row)
{
    for (uint32_t c = 0; c < s->ncols; c++) {
        dst[c] = tw_column_get(&b->cols[c], row);
        if (s->col_types[c] == TW_T_VARCHAR && !dst[c].is_null) {
            char *copy = tw_xmalloc((size_t)dst[c].s.len + 1);
            memcpy(copy, dst[c].s.ptr, dst[c].s.len);
            copy[dst[c].s.len] = '\0';
            dst[c].s.ptr = copy;
        }
    }
}

static uint64_t types_of(const tw_rowstore *s, const tw_value *values)
{
    uint64_t mask = 0;
    for (uint32_t t = 0; t < s->ntypes; t++) {
        const tw_value *v = &values[s->type_cols[t]];
        if (!v->is_null && v->b)
            mask |= UINT64_C(1) << t;
    }
    return mask;
}

static srow *row_copy(const tw_rowstore *s, const srow *src)
{
    srow *r = tw_xcalloc(1, sizeof *r);
    r->key = src->key;
    r->key.device = tw_xstrdup(src->key.device);
    r->types = src->types;
    r->values = tw_xcalloc(s->ncols, sizeof *r->values);
    for (uint32_t c = 0; c < s->ncols; c++) {
        r->values[c] = src->values[c];
        if (s->col_types[c] == TW_T_VARCHAR && !src->values[c].is_null) {
            char *copy = tw_xmalloc((size_t)src->values[c].s.len + 1);
            memcpy(copy, src->values[c].s.ptr, src->values[c].s.len + 1);
            r->values[c].s.ptr = copy;
        }
    }
    return r;
}

static bool rows_equal(const tw_rowstore *s, const srow *a, const srow *b)
{
    for (uint32_t c = 0; c < s->ncols; c++)
        if (!tw_value_equal(&a->values[c], &b->values[c]))
            return false;
    return true;
}

/* Compares a key with a row's key in (start, device) order. */
static int key_cmp(int64_t start_us, const char *device, const srow *r)
{
    if (start_us != r->key.start_us)
        return start_us < r->key.start_us ? -1 : 1;
    return strcmp(device, r->key.device);
}

/* First index whose row is not below (start_us, device); device NULL means
 * the smallest device at that start. */
static size_t lower_bound(const tw_rowstore *s, int64_t start_us, const char *device)
{
    size_t lo = 0, hi = s->nsorted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const srow *r = s->sorted[mid];
        int c = device ? key_cmp(start_us, device, r)
                       : (r->key.start_us < start_us ? 1 : -1);
        if (c > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First index whose window_start is greater than start_us. */
static size_t upper_bound_time(const tw_rowstore *s, int64_t start_us)
{
    size_t lo = 0, hi = s->nsorted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->sorted[mid]->key.start_us <= start_us)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void sorted_insert(tw_rowstore *s, srow *r)
{
    if (s->nsorted == s->sorted_cap) {
        s->sorted_cap = s->sorted_cap ? s->sorted_cap * 2 : 256;
        s->sorted = tw_xrealloc(s->sorted, s->sorted_cap * sizeof *s->sorted);
    }
    size_t at = lower_bound(s, r->key.start_us, r->key.device);
    memmove(&s->sorted[at + 1], &s->sorted[at], (s->nsorted - at) * sizeof *s->sorted);
    s->sorted[at] = r;
    s->nsorted++;
}

static void sorted_remove(tw_rowstore *s, const srow *r)
{
    size_t at = lower_bound(s, r->key.start_us, r->key.device);
    assert(at < s->nsorted && s->sorted[at] == r);
    memmove(&s->sorted[at], &s->sorted[at + 1], (s->nsorted - at - 1) * sizeof *s->sorted);
    s->nsorted--;
}

/* Remembers the row a key had at the last barrier, the first time the key
 * changes after it. With take_row, `current` is handed over instead of
 * copied (it is being removed). Returns true when current was taken. */
static bool mark_dirty(tw_rowstore *s, uint64_t hash, const char *device, int64_t start_us,
                       srow *current, bool take_row)
{
    if (keymap_get(&s->dirty_map, hash, device, start_us))
        return false;
    dirty_rec *d = tw_xcalloc(1, sizeof *d);
    d->key.hash = hash;
    d->key.start_us = start_us;
    d->key.device = tw_xstrdup(device);
    d->before = current ? (take_row ? current : row_copy(s, current)) : NULL;
    if (s->ndirty == s->dirty_cap) {
        s->dirty_cap = s->dirty_cap ? s->dirty_cap * 2 : 64;
        s->dirty = tw_xrealloc(s->dirty, s->dirty_cap * sizeof *s->dirty);
    }
    s->dirty[s->ndirty++] = d;
    keymap_put(&s->dirty_map, &d->key);
    return current && take_row;
}

static void row_replace_values(tw_rowstore *s, srow *r, const tw_batch *b, uint32_t row)
{
    values_free(s, r->values);
    values_set(s, r->values, b, row);
    r->types = types_of(s, r->values);
}

static void apply_insert(tw_rowstore *s, const tw_batch *b, uint32_t row, uint64_t hash,
                         const char *device, int64_t start_us)
{
    srow *r = (srow *)keymap_get(&s->rows, hash, device, start_us);
    if (r) {
        /* A second copy of a key replaces the first: the API shows one row
         * per (device, window). */
        mark_dirty(s, hash, device, start_us, r, false);
        row_replace_values(s, r, b, row);
        return;
    }
    r = tw_xcalloc(1, sizeof *r);
    r->key.hash = hash;
    r->key.start_us = start_us;
    r->key.device = tw_xstrdup(device);
    r->values = tw_xcalloc(s->ncols, sizeof *r->values);
    values_set(s, r->values, b, row);
    r->types = types_of(s, r->values);
    mark_dirty(s, hash, device, start_us, NULL, false);
    keymap_put(&s->rows, &r->key);
    sorted_insert(s, r);
}

static void apply_delete(tw_rowstore *s, uint64_t hash, const char *device, int64_t start_us)
{
    srow *r = (srow *)keymap_get(&s->rows, hash, device, start_us);
    if (!r)
        return;
    keymap_remove(&s->rows, &r->key);
    sorted_remove(s, r);
    if (!mark_dirty(s, hash, device, start_us, r, true))
        row_free(s, r);
}

/* The key of a changelog row; false when a key column is NULL. device points
 * into buf (NUL-terminated) or is heap-allocated into *heap for long ids. */
static bool row_key(const tw_rowstore *s, const tw_batch *b, uint32_t row, char *buf,
                    size_t cap, char **heap, const char **device, size_t *len,
                    int64_t *start_us)
{
    const tw_column *dc = &b->cols[s->device_col], *tc = &b->cols[s->start_col];
    if (!dc->valid[row] || !tc->valid[row])
        return false;
    tw_str str = dc->s[row];
    char *dst = buf;
    if ((size_t)str.len + 1 > cap)
        dst = *heap = tw_xmalloc((size_t)str.len + 1);
    memcpy(dst, str.ptr, str.len);
    dst[str.len] = '\0';
    *device = dst;
    *len = str.len;
    *start_us = tc->i64[row];
    return true;
}

void tw_rowstore_apply(tw_rowstore *s, const tw_batch *b)
{
    assert(b->ncols == s->ncols);
    pthread_rwlock_wrlock(&s->lock);
    for (uint32_t i = 0; i < b->nrows; i++) {
        char buf[256], *heap = NULL;
        const char *device;
        size_t len;
        int64_t start_us;
        uint8_t op = b->ops ? b->ops[i] : TW_OP_INSERT;
        if (!row_key(s, b, i, buf, sizeof buf, &heap, &device, &len, &start_us))
            continue;
        uint64_t hash = key_hash(device, len, start_us);
        if (op == TW_OP_UPDATE_DELETE && i + 1 < b->nrows &&
            b->ops[i + 1] == TW_OP_UPDATE_INSERT) {
            /* An update pair on one key changes the row in place, keeping its
             * place in the time order. */
            char buf2[256], *heap2 = NULL;
            const char *device2;
            size_t len2;
            int64_t start2_us;
            bool same = row_key(s, b, i + 1, buf2, sizeof buf2, &heap2, &device2, &len2,
                                &start2_us) &&
                        start2_us == start_us && !strcmp(device, device2);
            free(heap2);
            srow *r = same ? (srow *)keymap_get(&s->rows, hash, device, start_us) : NULL;
            if (r) {
                mark_dirty(s, hash, device, start_us, r, false);
                row_replace_values(s, r, b, i + 1);
                i++;
                free(heap);
                continue;
            }
        }
        if (tw_op_sign(op) < 0)
            apply_delete(s, hash, device, start_us);
        else
            apply_insert(s, b, i, hash, device, start_us);
        free(heap);
    }
    pthread_rwlock_unlock(&s->lock);
}

void tw_rowstore_take_changes(tw_rowstore *s,
                              void (*fn)(void *ctx, tw_change_kind kind,
                                         const tw_rowstore_row *row),
                              void *ctx)
{
    pthread_rwlock_wrlock(&s->lock);
    /* Bumped before fn runs: whoever hears of a change (an SSE event) and
     * then asks sees a new generation, so never a reply cached before it. */
    atomic_fetch_add_explicit(&s->generation, 1, memory_order_release);
    for (size_t i = 0; i < s->ndirty; i++) {
        dirty_rec *d = s->dirty[i];
        const srow *now =
            (const srow *)keymap_get(&s->rows, d->key.hash, d->key.device, d->key.start_us);
        const srow *show = NULL;
        tw_change_kind kind = TW_CHANGE_NEW;
        if (d->before && !now) {
            kind = TW_CHANGE_CLEARED;
            show = d->before;
        } else if (!d->before && now) {
            kind = TW_CHANGE_NEW;
            show = now;
        } else if (d->before && now && !rows_equal(s, d->before, now)) {
            kind = TW_CHANGE_UPDATED;
            show = now;
        }
        if (show && fn) {
            tw_rowstore_row row = {.window_start_us = show->key.start_us,
                                   .types = show->types,
                                   .device_id = show->key.device,
                                   .values = show->values};
            fn(ctx, kind, &row);
        }
        row_free(s, d->before);
        free(d->key.device);
        free(d);
    }
    s->ndirty = 0;
    keymap_clear(&s->dirty_map);
    pthread_rwlock_unlock(&s->lock);
}

uint64_t tw_rowstore_generation(const tw_rowstore *s)
{
    return atomic_load_explicit(&((tw_rowstore *)s)->generation, memory_order_acquire);
}

/* ---- queries ------------------------------------------------------------ */

size_t tw_rowstore_display_time(int64_t us, int32_t tz_offset_min, char *buf)
{
    char iso[48];
    size_t n = tw_timestamp_format(us + (int64_t)tz_offset_min * 60 * TW_USEC_PER_SEC, iso, "");
    /* "YYYY-MM-DDTHH:MM:SS[.ffffff]" -> "YYYY-MM-DD HH:MM:SS" */
    size_t len = n < 19 ? n : 19;
    memcpy(buf, iso, len);
    buf[len] = '\0';
    if (len > 10 && buf[10] == 'T')
        buf[10] = ' ';
    return len;
}

static bool key_matches(int64_t start_us, const char *device, uint64_t types,
                        const tw_rowstore_filter *f)
{
    if (f->match_types && !(types & f->types))
        return false;
    if (f->device_id && strcmp(device, f->device_id))
        return false;
    if (f->q && *f->q) {
        if (strcasestr(device, f->q))
            return true;
        char shown[32];
        tw_rowstore_display_time(start_us, f->tz_offset_min, shown);
        if (strcasestr(shown, f->q))
            return true;
        shown[10] = 'T';
        shown[19] = 'Z';
        shown[20] = '\0';
        return strcasestr(shown, f->q) != NULL;
    }
    return true;
}

static bool row_matches(const srow *r, const tw_rowstore_filter *f)
{
    return key_matches(r->key.start_us, r->key.device, r->types, f);
}

bool tw_rowstore_row_matches(const tw_rowstore_filter *f, const tw_rowstore_row *row)
{
    return row->window_start_us >= f->from_us && row->window_start_us <= f->to_us &&
           key_matches(row->window_start_us, row->device_id, row->types, f);
}

bool tw_rowstore_contains(tw_rowstore *s, const char *device_id, int64_t window_start_us)
{
    uint64_t hash = key_hash(device_id, strlen(device_id), window_start_us);
    pthread_rwlock_rdlock(&s->lock);
    bool found = keymap_get(&s->rows, hash, device_id, window_start_us) != NULL;
    pthread_rwlock_unlock(&s->lock);
    return found;
}

uint64_t tw_rowstore_types_of(const tw_rowstore *s, const tw_value *values)
{
    return types_of(s, values);
}

void tw_rowstore_filter_init(tw_rowstore_filter *f)
{
    memset(f, 0, sizeof *f);
    f->from_us = INT64_MIN;
    f->to_us = INT64_MAX;
}

uint64_t tw_rowstore_query(tw_rowstore *s, const tw_rowstore_filter *f, bool desc,
                           uint64_t offset, uint64_t limit,
                           void (*visit)(void *ctx, const tw_rowstore_row *row), void *ctx)
{
    uint64_t total = 0;
    pthread_rwlock_rdlock(&s->lock);
    size_t lo = f->from_us == INT64_MIN ? 0 : lower_bound(s, f->from_us, NULL);
    size_t hi = f->to_us == INT64_MAX ? s->nsorted : upper_bound_time(s, f->to_us);
    if (f->from_us > f->to_us)
        hi = lo;
    bool filtered = f->match_types || f->device_id || (f->q && *f->q);
    if (!filtered && hi > lo) {
        /* No row filter: the page is an index range, the total its size. */
        total = hi - lo;
        for (uint64_t k = offset; k < total && k - offset < limit; k++) {
            const srow *r = s->sorted[desc ? hi - 1 - k : lo + k];
            tw_rowstore_row row = {r->key.start_us, r->types, r->key.device, r->values};
            visit(ctx, &row);
        }
    } else {
        for (size_t k = 0; k < hi - lo; k++) {
            const srow *r = s->sorted[desc ? hi - 1 - k : lo + k];
            if (!row_matches(r, f))
                continue;
            if (total >= offset && total - offset < limit) {
                tw_rowstore_row row = {r->key.start_us, r->types, r->key.device, r->values};
                visit(ctx, &row);
            }
            total++;
        }
    }
    pthread_rwlock_unlock(&s->lock);
    return total;
}

uint64_t tw_rowstore_count(tw_rowstore *s)
{
    pthread_rwlock_rdlock(&s->lock);
    uint64_t n = s->nsorted;
    pthread_rwlock_unlock(&s->lock);
    return n;
}

bool tw_rowstore_bounds(tw_rowstore *s, int64_t *min_us, int64_t *max_us)
{
    pthread_rwlock_rdlock(&s->lock);
    bool any = s->nsorted > 0;
    if (any) {
        *min_us = s->sorted[0]->key.start_us;
        *max_us = s->sorted[s->nsorted - 1]->key.start_us;
    }
    pthread_rwlock_unlock(&s->lock);
    return any;
}

/* ---- schema ------------------------------------------------------------- */

static char *type_name_for(const char *column)
{
    if (!strcmp(column, "is_high_latency"))
        return tw_xstrdup("latency");
    if (!strcmp(column, "is_high_packet_loss"))
        return tw_xstrdup("loss");
    if (!strcmp(column, "is_bandwidth_saturation"))
        return tw_xstrdup("bandwidth");
    return tw_xstrdup(column + 3);
}

tw_rowstore *tw_rowstore_new(const char *view, const char *const *names, const tw_type *types,
                             uint32_t ncols, tw_err *err)
{
    int device_col = -1, start_col = -1;
    uint32_t ntypes = 0;
    for (uint32_t c = 0; c < ncols; c++) {
        if (!strcmp(names[c], "device_id") && types[c] == TW_T_VARCHAR)
            device_col = (int)c;
        else if (!strcmp(names[c], "window_start") && tw_type_is_time(types[c]))
            start_col = (int)c;
        else if (types[c] == TW_T_BOOL && !strncmp(names[c], "is_", 3) && names[c][3])
            ntypes++;
    }
    if (device_col < 0 || start_col < 0) {
        tw_err_set(err, TW_ERR_CONFIG,
                   "view '%s' cannot be served: it needs a varchar column device_id and a "
                   "timestamp column window_start",
                   view);
        return NULL;
    }
    if (ntypes > TW_ROWSTORE_MAX_TYPES) {
        tw_err_set(err, TW_ERR_CONFIG, "view '%s' has %u is_* columns; at most %d are served",
                   view, ntypes, TW_ROWSTORE_MAX_TYPES);
        return NULL;
    }
    tw_rowstore *s = tw_xcalloc(1, sizeof *s);
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    atomic_init(&s->generation, 0);
    s->view = tw_xstrdup(view);
    s->ncols = ncols;
    s->names = tw_xcalloc(ncols ? ncols : 1, sizeof *s->names);
    s->col_types = tw_xcalloc(ncols ? ncols : 1, sizeof *s->col_types);
    s->type_names = tw_xcalloc(ntypes ? ntypes : 1, sizeof *s->type_names);
    s->type_cols = tw_xcalloc(ntypes ? ntypes : 1, sizeof *s->type_cols);
    s->device_col = (uint32_t)device_col;
    s->start_col = (uint32_t)start_col;
    for (uint32_t c = 0; c < ncols; c++) {
        s->names[c] = tw_xstrdup(names[c]);
        s->col_types[c] = types[c];
        if (types[c] == TW_T_BOOL && !strncmp(names[c], "is_", 3) && names[c][3]) {
            s->type_cols[s->ntypes] = c;
            s->type_names[s->ntypes++] = type_name_for(names[c]);
        }
    }
    return s;
}

void tw_rowstore_free(tw_rowstore *s)
{
    if (!s)
        return;
    tw_rowstore_take_changes(s, NULL, NULL);
    for (size_t i = 0; i < s->nsorted; i++)
        row_free(s, s->sorted[i]);
    free(s->sorted);
    free(s->rows.slots);
    free(s->dirty);
    free(s->dirty_map.slots);
    for (uint32_t c = 0; c < s->ncols; c++)
        free(s->names[c]);
    for (uint32_t t = 0; t < s->ntypes; t++)
        free(s->type_names[t]);
    free(s->names);
    free(s->col_types);
    free(s->type_names);
    free(s->type_cols);
    free(s->view);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

uint32_t tw_rowstore_ncols(const tw_rowstore *s) { return s->ncols; }
const char *tw_rowstore_column_name(const tw_rowstore *s, uint32_t c) { return s->names[c]; }
tw_type tw_rowstore_column_type(const tw_rowstore *s, uint32_t c) { return s->col_types[c]; }
uint32_t tw_rowstore_ntypes(const tw_rowstore *s) { return s->ntypes; }
const char *tw_rowstore_type_name(const tw_rowstore *s, uint32_t t) { return s->type_names[t]; }
const char *tw_rowstore_type_column(const tw_rowstore *s, uint32_t t)
{
    return s->names[s->type_cols[t]];
}

int tw_rowstore_type_find(const tw_rowstore *s, const char *name, size_t len)
{
    for (uint32_t t = 0; t < s->ntypes; t++)
        if (strlen(s->type_names[t]) == len && !memcmp(s->type_names[t], name, len))
            return (int)t;
    return -1;
}

/* hashagg.c - incremental hash aggregation over windows.
 *
 * Groups live in an open-addressing table (linear probing, backward-shift
 * deletion). Rows are processed a batch at a time: hash every key row, find
 * or create each row's group, then update one aggregate at a time over the
 * whole batch. Changed groups are remembered in a dirty list and emitted as
 * a changelog at the next barrier (RisingWave does the same), so a million
 * rows into five groups cost five U-/U+ pairs per barrier, not a million.
 *
 * Windowed groups are also linked into a bucket per window end, sorted by
 * end, so closing windows (by watermark or retention) walks only the groups
 * being released.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "exec/operators.h"

typedef struct acc {
    int64_t count;
    union {
        int64_t i;
        double f;
    } sum;
    tw_value mm; /* min/max; a string value is malloc-owned */
    uint8_t overflow;
} acc;

typedef struct group {
    uint64_t hash;
    struct group *win_next;
    int64_t window_end;
    uint8_t dirty;
    uint8_t emitted;
    tw_value *keys; /* nkeys; strings point into this allocation */
    acc *accs;      /* naggs */
    tw_value *prev; /* naggs: values last emitted; strings malloc-owned */
} group;

typedef struct window_bucket {
    int64_t end;
    group *head;
} window_bucket;

typedef struct agg_node {
    tw_node base;
    tw_hashagg_config cfg;
    tw_type *out_types;
    group **slots;
    uint64_t nslots; /* power of two */
    uint64_t ngroups;
    window_bucket *buckets;
    uint32_t nbuckets, cap_buckets;
    group **dirty;
    uint64_t ndirty, cap_dirty;
    bool have_closed;
    int64_t closed_through_us;
    bool have_max_start;
    int64_t max_start_us;
    uint64_t late_rows;
    /* Memory the pending output batch may still point at: freed after the
     * batch has been emitted. */
    void **garbage;
    uint64_t ngarbage, cap_garbage;
    group **dead_groups;
    uint64_t ndead, cap_dead;
    tw_batch *out;
    tw_arena scratch;
    tw_eval_ctx ctx;
    uint64_t hashes[TW_BATCH_ROWS];
    group *row_group[TW_BATCH_ROWS];
} agg_node;

static bool is_windowed(const agg_node *a)
{
    return a->cfg.window_end_key >= 0 || a->cfg.window_start_key >= 0;
}

static int64_t group_window_end(const agg_node *a, const tw_value *keys)
{
    if (a->cfg.window_end_key >= 0)
        return keys[a->cfg.window_end_key].i64;
    return keys[a->cfg.window_start_key].i64 + a->cfg.window_size_us;
}

/* ---- table ---------------------------------------------------------------- */

static void table_grow(agg_node *a)
{
    uint64_t n = a->nslots ? a->nslots * 2 : 1024;
    group **slots = tw_xcalloc(n, sizeof *slots);
    for (uint64_t i = 0; i < a->nslots; i++) {
        group *g = a->slots[i];
        if (!g)
            continue;
        uint64_t j = g->hash & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = g;
    }
    free(a->slots);
    a->slots = slots;
    a->nslots = n;
}

static void table_remove(agg_node *a, group *g)
{
    uint64_t mask = a->nslots - 1, i = g->hash & mask;
    while (a->slots[i] != g)
        i = (i + 1) & mask;
    /* Backward-shift deletion keeps probe chains intact without tombstones. */
    uint64_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        group *h = a->slots[j];
        if (!h)
            break;
        uint64_t home = h->hash & mask;
        bool movable = (j > i) ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            a->slots[i] = h;
            i = j;
        }
    }
    a->slots[i] = NULL;
    a->ngroups--;
}

static bool keys_equal(const agg_node *a, const group *g, const tw_column **kc, uint32_t row)
{
    for (uint32_t k = 0; k < a->cfg.nkeys; k++) {
        const tw_column *c = kc[k];
        const tw_value *v = &g->keys[k];
        if (!c->valid[row] || v->is_null) {
            if ((c->valid[row] != 0) != !v->is_null)
                return false; /* one NULL, one not */
            continue;
        }
        switch (tw_type_phys(c->type)) {
        case TW_PHYS_I64:
            if (c->i64[row] != v->i64)
                return false;
            break;
        case TW_PHYS_STR:
            if (c->s[row].len != v->s.len || memcmp(c->s[row].ptr, v->s.ptr, v->s.len))
                return false;
            break;
        case TW_PHYS_F64: {
            tw_value x = tw_column_get(c, row);
            if (!tw_value_equal(&x, v))
                return false;
            break;
        }
        case TW_PHYS_BOOL:
            if (c->b[row] != v->b)
                return false;
            break;
        }
    }
    return true;
}

static void free_value(tw_value *v)
{
    if (v->type == TW_T_VARCHAR && !v->is_null)
        free((char *)v->s.ptr);
    v->is_null = true;
}

static void defer_free(agg_node *a, void *p)
{
    if (a->ngarbage == a->cap_garbage) {
        a->cap_garbage = a->cap_garbage ? a->cap_garbage * 2 : 256;
        a->garbage = tw_xrealloc(a->garbage, a->cap_garbage * sizeof *a->garbage);
    }
    a->garbage[a->ngarbage++] = p;
}

static void set_owned_value(tw_value *dst, const tw_value *src)
{
    free_value(dst);
    *dst = *src;
    if (src->type == TW_T_VARCHAR && !src->is_null) {
        char *copy = tw_xmalloc(src->s.len ? src->s.len : 1);
        memcpy(copy, src->s.ptr, src->s.len);
        dst->s.ptr = copy;
    }
}

static void group_free(agg_node *a, group *g)
{
    for (uint32_t i = 0; i < a->cfg.naggs; i++) {
        free_value(&g->accs[i].mm);
        free_value(&g->prev[i]);
    }
    free(g);
}

static void bucket_add(agg_node *a, group *g)
{
    int64_t end = g->window_end;
    uint32_t lo = 0, hi = a->nbuckets;
    if (hi && a->buckets[hi - 1].end < end) {
        lo = hi; /* the common case: a new, later window */
    } else {
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (a->buckets[mid].end < end)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    if (lo == a->nbuckets || a->buckets[lo].end != end) {
        if (a->nbuckets == a->cap_buckets) {
            a->cap_buckets = a->cap_buckets ? a->cap_buckets * 2 : 64;
            a->buckets = tw_xrealloc(a->buckets, a->cap_buckets * sizeof *a->buckets);
        }
        memmove(&a->buckets[lo + 1], &a->buckets[lo], (a->nbuckets - lo) * sizeof *a->buckets);
        a->buckets[lo].end = end;
        a->buckets[lo].head = NULL;
        a->nbuckets++;
    }
    g->win_next = a->buckets[lo].head;
    a->buckets[lo].head = g;
}

static group *group_new(agg_node *a, const tw_column **kc, uint32_t row, uint64_t hash)
{
    uint32_t nk = a->cfg.nkeys, na = a->cfg.naggs;
    size_t str_bytes = 0;
    for (uint32_t k = 0; k < nk; k++)
        if (kc[k]->type == TW_T_VARCHAR && kc[k]->valid[row])
            str_bytes += kc[k]->s[row].len;
    size_t size = sizeof(group) + nk * sizeof(tw_value) + na * sizeof(acc) + na * sizeof(tw_value);
    group *g = tw_xcalloc(1, size + str_bytes);
    g->hash = hash;
    g->keys = (tw_value *)(g + 1);
    g->accs = (acc *)(g->keys + nk);
    g->prev = (tw_value *)(g->accs + na);
    char *strings = (char *)(g->prev + na);
    for (uint32_t k = 0; k < nk; k++) {
        g->keys[k] = tw_column_get(kc[k], row);
        if (g->keys[k].type == TW_T_VARCHAR && !g->keys[k].is_null) {
            memcpy(strings, g->keys[k].s.ptr, g->keys[k].s.len);
            g->keys[k].s.ptr = strings;
            strings += g->keys[k].s.len;
        }
    }
    for (uint32_t i = 0; i < na; i++) {
        g->accs[i].mm = tw_value_null(a->cfg.aggs[i].result_type);
        g->prev[i] = tw_value_null(a->cfg.aggs[i].result_type);
    }
    if (a->ngroups * 2 >= a->nslots)
        table_grow(a);
    uint64_t mask = a->nslots - 1, j = hash & mask;
    while (a->slots[j])
        j = (j + 1) & mask;
    a->slots[j] = g;
    a->ngroups++;
    if (is_windowed(a)) {
        g->window_end = group_window_end(a, g->keys);
        bucket_add(a, g);
    }
    return g;
}

/* ---- output --------------------------------------------------------------- */

static tw_value agg_result(const agg_node *a, const group *g, uint32_t i)
{
    const tw_agg_call *call = &a->cfg.aggs[i];
    const acc *s = &g->accs[i];
    tw_value v = tw_value_null(call->result_type);
    switch (call->kind) {
    case TW_AGG_COUNT_STAR:
    case TW_AGG_COUNT:
        v.is_null = false;
        v.i64 = s->count;
        break;
    case TW_AGG_SUM:
        if (s->count == 0 || s->overflow)
            break;
        v.is_null = false;
        if (tw_type_phys(call->result_type) == TW_PHYS_F64)
            v.f64 = call->result_type == TW_T_FLOAT32 ? (double)(float)s->sum.f : s->sum.f;
        else
            v.i64 = s->sum.i;
        break;
    case TW_AGG_AVG:
        if (s->count == 0)
            break;
        v.is_null = false;
        if (tw_type_is_integer(call->arg->type))
            v.f64 = (double)s->sum.i / (double)s->count;
        else
            v.f64 = s->sum.f / (double)s->count;
        break;
    case TW_AGG_MIN:
    case TW_AGG_MAX: v = s->mm; break;
    }
    return v;
}

static void out_row(agg_node *a, const group *g, const tw_value *vals, uint8_t op)
{
    tw_batch *out = a->out;
    uint32_t r = out->nrows++;
    for (uint32_t k = 0; k < a->cfg.nkeys; k++)
        tw_column_put(&out->cols[k], r, &g->keys[k]);
    for (uint32_t i = 0; i < a->cfg.naggs; i++)
        tw_column_put(&out->cols[a->cfg.nkeys + i], r, &vals[i]);
    out->ops[r] = op;
}

static void out_flush(agg_node *a)
{
    tw_node_emit(&a->base, a->out);
    tw_batch_reset(a->out);
    tw_batch_ensure_ops(a->out);
    for (uint64_t i = 0; i < a->ngarbage; i++)
        free(a->garbage[i]);
    a->ngarbage = 0;
    for (uint64_t i = 0; i < a->ndead; i++)
        group_free(a, a->dead_groups[i]);
    a->ndead = 0;
}

/* Frees g once the pending output no longer needs its keys. */
static void retire_group(agg_node *a, group *g)
{
    if (a->ndead == a->cap_dead) {
        a->cap_dead = a->cap_dead ? a->cap_dead * 2 : 256;
        a->dead_groups = tw_xrealloc(a->dead_groups, a->cap_dead * sizeof *a->dead_groups);
    }
    a->dead_groups[a->ndead++] = g;
}

/* Emits the change of one group since it was last emitted; updates prev. */
static void emit_group(agg_node *a, group *g, bool only_insert)
{
    uint32_t na = a->cfg.naggs;
    tw_value now[64] = {{0}};
    tw_value *vals = na <= 64 ? now : tw_xmalloc(na * sizeof *vals);
    for (uint32_t i = 0; i < na; i++)
        vals[i] = agg_result(a, g, i);
    bool changed = !g->emitted;
    for (uint32_t i = 0; i < na && !changed; i++)
        changed = !tw_value_equal(&vals[i], &g->prev[i]) || vals[i].is_null != g->prev[i].is_null;
    if (changed) {
        if (a->out->nrows + 2 > a->out->capacity)
            out_flush(a);
        if (g->emitted && !only_insert) {
            out_row(a, g, g->prev, TW_OP_UPDATE_DELETE);
            out_row(a, g, vals, TW_OP_UPDATE_INSERT);
        } else {
            out_row(a, g, vals, TW_OP_INSERT);
        }
        /* The output batch points at prev's strings: they are freed only
         * after the batch has gone out. */
        for (uint32_t i = 0; i < na; i++) {
            if (g->prev[i].type == TW_T_VARCHAR && !g->prev[i].is_null) {
                defer_free(a, (char *)g->prev[i].s.ptr);
                g->prev[i].is_null = true;
            }
            set_owned_value(&g->prev[i], &vals[i]);
        }
        g->emitted = 1;
    }
    if (vals != now)
        free(vals);
}

static void flush_dirty(agg_node *a)
{
    for (uint64_t i = 0; i < a->ndirty; i++) {
        group *g = a->dirty[i];
        g->dirty = 0;
        emit_group(a, g, false);
    }
    a->ndirty = 0;
    if (a->out->nrows)
        out_flush(a);
}

/* Releases every window whose end <= through_us; with EMIT ON WINDOW CLOSE
 * their final rows are emitted first. */
static void close_windows(agg_node *a, int64_t through_us)
{
    if (!is_windowed(a))
        return;
    if (!a->cfg.emit_on_window_close && a->ndirty)
        flush_dirty(a);
    uint32_t closed = 0;
    while (closed < a->nbuckets && a->buckets[closed].end <= through_us) {
        group *g = a->buckets[closed].head;
        while (g) {
            group *next = g->win_next;
            if (a->cfg.emit_on_window_close)
                emit_group(a, g, true);
            table_remove(a, g);
            retire_group(a, g);
            g = next;
        }
        closed++;
    }
    if (a->out->nrows)
        out_flush(a);
    memmove(a->buckets, a->buckets + closed, (a->nbuckets - closed) * sizeof *a->buckets);
    a->nbuckets -= closed;
    if (!a->have_closed || through_us > a->closed_through_us) {
        a->closed_through_us = through_us;
        a->have_closed = true;
    }
}

/* ---- input ---------------------------------------------------------------- */

static void mark_dirty(agg_node *a, group *g)
{
    if (g->dirty || a->cfg.emit_on_window_close)
        return;
    g->dirty = 1;
    if (a->ndirty == a->cap_dirty) {
        a->cap_dirty = a->cap_dirty ? a->cap_dirty * 2 : 256;
        a->dirty = tw_xrealloc(a->dirty, a->cap_dirty * sizeof *a->dirty);
    }
    a->dirty[a->ndirty++] = g;
}

static void update_aggs(agg_node *a, const tw_batch *in)
{
    uint32_t n = in->nrows;
    for (uint32_t i = 0; i < a->cfg.naggs; i++) {
        const tw_agg_call *call = &a->cfg.aggs[i];
        if (call->kind == TW_AGG_COUNT_STAR) {
            for (uint32_t r = 0; r < n; r++)
                if (a->row_group[r])
                    a->row_group[r]->accs[i].count++;
            continue;
        }
        const tw_column *c = tw_expr_eval(call->arg, in, &a->ctx);
        tw_phys phys = tw_type_phys(c->type);
        for (uint32_t r = 0; r < n; r++) {
            group *g = a->row_group[r];
            if (!g || !c->valid[r])
                continue;
            acc *s = &g->accs[i];
            switch (call->kind) {
            case TW_AGG_COUNT: s->count++; break;
            case TW_AGG_SUM:
            case TW_AGG_AVG:
                s->count++;
                if (phys == TW_PHYS_F64)
                    s->sum.f += c->f64[r];
                else if (__builtin_add_overflow(s->sum.i, c->i64[r], &s->sum.i))
                    s->overflow = 1;
                break;
            case TW_AGG_MIN:
            case TW_AGG_MAX: {
                tw_value v = tw_column_get(c, r);
                int cmp = s->mm.is_null ? 0 : tw_value_cmp(&v, &s->mm);
                if (s->mm.is_null || (call->kind == TW_AGG_MIN ? cmp < 0 : cmp > 0))
                    set_owned_value(&s->mm, &v);
                break;
            }
            case TW_AGG_COUNT_STAR: break;
            }
        }
    }
    for (uint32_t i = 0; i < a->cfg.naggs; i++)
        if (a->cfg.aggs[i].kind == TW_AGG_SUM)
            for (uint32_t r = 0; r < n; r++)
                if (a->row_group[r] && a->row_group[r]->accs[i].overflow == 1) {
                    a->row_group[r]->accs[i].overflow = 2; /* count once */
                    a->ctx.errors++;
                    a->ctx.last_error = "sum out of range";
                }
}

static void agg_push(tw_node *node, const tw_batch *in)
{
    agg_node *a = (agg_node *)node;
    assert(!in->ops && "aggregation over an updating input is refused by the binder");
    tw_arena_reset(&a->scratch);
    uint32_t n = in->nrows, nk = a->cfg.nkeys;
    const tw_column *kc[64];
    for (uint32_t k = 0; k < nk; k++)
        kc[k] = tw_expr_eval(a->cfg.keys[k], in, &a->ctx);
    for (uint32_t r = 0; r < n; r++)
        a->hashes[r] = 0x243f6a8885a308d3ull;
    for (uint32_t k = 0; k < nk; k++) {
        const tw_column *c = kc[k];
        switch (tw_type_phys(c->type)) {
        case TW_PHYS_I64:
            for (uint32_t r = 0; r < n; r++)
                a->hashes[r] = tw_hash_u64(c->valid[r] ? (uint64_t)c->i64[r] : 0x6e756c6c,
                                           a->hashes[r] + k);
            break;
        case TW_PHYS_STR:
            /* Must agree with tw_value_hash, which group_new does not use:
             * only this loop hashes keys, so any stable function works. */
            for (uint32_t r = 0; r < n; r++)
                a->hashes[r] = c->valid[r]
                                   ? tw_hash_bytes(c->s[r].ptr, c->s[r].len, a->hashes[r] + k)
                                   : tw_hash_u64(0x6e756c6c, a->hashes[r] + k);
            break;
        default:
            for (uint32_t r = 0; r < n; r++) {
                tw_value v = tw_column_get(c, r);
                a->hashes[r] = tw_value_hash(&v, a->hashes[r] + k);
            }
            break;
        }
    }
    bool windowed = is_windowed(a);
    int32_t start_key = a->cfg.window_start_key, end_key = a->cfg.window_end_key;
    group *last = NULL;
    for (uint32_t r = 0; r < n; r++) {
        uint64_t h = a->hashes[r];
        group *g = NULL;
        if (last && last->hash == h && keys_equal(a, last, kc, r)) {
            g = last; /* consecutive rows of one group: skip the probe */
        } else if (a->nslots) {
            uint64_t mask = a->nslots - 1;
            for (uint64_t j = h & mask; a->slots[j]; j = (j + 1) & mask) {
                group *cand = a->slots[j];
                if (cand->hash == h && keys_equal(a, cand, kc, r)) {
                    g = cand;
                    break;
                }
            }
        }
        if (windowed) {
            int64_t start = start_key >= 0 ? kc[start_key]->i64[r]
                                           : kc[end_key]->i64[r] - a->cfg.window_size_us;
            int64_t end = start + a->cfg.window_size_us;
            if (end_key >= 0)
                end = kc[end_key]->i64[r];
            /* Lateness is judged row by row against the retention as it
             * stands after the rows before this one, so the answer does not
             * depend on where batches happen to be cut. */
            bool late = a->have_closed && end <= a->closed_through_us;
            if (a->cfg.retention_us > 0 && a->have_max_start &&
                end <= a->max_start_us - a->cfg.retention_us)
                late = true;
            if (late) {
                a->late_rows++;
                a->row_group[r] = NULL;
                continue;
            }
            if (!a->have_max_start || start > a->max_start_us) {
                a->max_start_us = start;
                a->have_max_start = true;
            }
        }
        if (!g)
            g = group_new(a, kc, r, h);
        a->row_group[r] = g;
        last = g;
        mark_dirty(a, g);
    }
    update_aggs(a, in);
    if (windowed && a->cfg.retention_us > 0 && a->have_max_start) {
        int64_t through = a->max_start_us - a->cfg.retention_us;
        if (!a->have_closed || through > a->closed_through_us)
            close_windows(a, through);
    }
}

static void agg_watermark(tw_node *node, int64_t wm_us)
{
    agg_node *a = (agg_node *)node;
    if (is_windowed(a) && !a->cfg.ignore_watermark &&
        (!a->have_closed || wm_us > a->closed_through_us))
        close_windows(a, wm_us);
    tw_node_forward_watermark(node, wm_us);
}

static void agg_barrier(tw_node *node)
{
    agg_node *a = (agg_node *)node;
    if (!a->cfg.emit_on_window_close)
        flush_dirty(a);
}

static void agg_finish(tw_node *node)
{
    agg_node *a = (agg_node *)node;
    if (a->cfg.emit_on_window_close) {
        if (is_windowed(a))
            close_windows(a, INT64_MAX);
    } else {
        flush_dirty(a);
    }
    tw_node_forward_finish(node);
}

static void agg_destroy(tw_node *node)
{
    agg_node *a = (agg_node *)node;
    for (uint64_t i = 0; i < a->nslots; i++)
        if (a->slots[i])
            group_free(a, a->slots[i]);
    free(a->slots);
    free(a->buckets);
    free(a->dirty);
    for (uint64_t i = 0; i < a->ngarbage; i++)
        free(a->garbage[i]);
    free(a->garbage);
    for (uint64_t i = 0; i < a->ndead; i++)
        group_free(a, a->dead_groups[i]);
    free(a->dead_groups);
    for (uint32_t k = 0; k < a->cfg.nkeys; k++)
        tw_expr_free(a->cfg.keys[k]);
    free(a->cfg.keys);
    for (uint32_t i = 0; i < a->cfg.naggs; i++)
        tw_expr_free(a->cfg.aggs[i].arg);
    free(a->cfg.aggs);
    free(a->out_types);
    tw_batch_free(a->out);
    tw_arena_free(&a->scratch);
    free(a);
}

static const tw_node_ops agg_ops = {
    .kind = "hash_agg",
    .push = agg_push,
    .watermark = agg_watermark,
    .barrier = agg_barrier,
    .finish = agg_finish,
    .destroy = agg_destroy,
};

tw_node *tw_hashagg_new(tw_hashagg_config *config)
{
    agg_node *a = tw_xcalloc(1, sizeof *a);
    tw_node_init(&a->base, &agg_ops);
    a->cfg = *config;
    assert(config->nkeys <= 64);
    uint32_t ncols = config->nkeys + config->naggs;
    a->out_types = tw_xmalloc((ncols ? ncols : 1) * sizeof *a->out_types);
    for (uint32_t k = 0; k < config->nkeys; k++)
        a->out_types[k] = config->keys[k]->type;
    for (uint32_t i = 0; i < config->naggs; i++)
        a->out_types[config->nkeys + i] = config->aggs[i].result_type;
    a->out = tw_batch_new(a->out_types, ncols, TW_BATCH_ROWS);
    tw_batch_ensure_ops(a->out);
    tw_arena_init(&a->scratch, 16 * 1024);
    a->ctx.strings = &a->scratch;
    if (config->nkeys == 0) {
        /* An aggregate without GROUP BY has its one row from the start:
         * count(*) over nothing is 0, not no row (as in SQL). The hash
         * matches what agg_push computes for a key of no columns. */
        group *g = group_new(a, NULL, 0, 0x243f6a8885a308d3ull);
        mark_dirty(a, g);
    }
    return &a->base;
}

void tw_hashagg_get_stats(const tw_node *node, tw_hashagg_stats *stats)
{
    const agg_node *a = (const agg_node *)node;
    stats->groups = a->ngroups;
    stats->late_rows = a->late_rows;
    stats->eval_errors = a->ctx.errors;
    stats->closed_through_us = a->have_closed ? a->closed_through_us : INT64_MIN;
}

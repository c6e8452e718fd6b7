/* mv.c - see mv.h. */
#include "mv/mv.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exec/expr.h"
#include "mv/rowbag.h"

typedef struct mv_node {
    tw_node base;
    tw_mv *mv;
} mv_node;

struct tw_mv {
    char *name;
    char **column_names;
    tw_type *types;
    uint32_t ncols;
    tw_rowbag *rows;
    tw_mv_stats stats;
    pthread_rwlock_t lock;
    mv_node node;
    uint64_t row_hashes[TW_BATCH_ROWS];
};

static void apply_batch(tw_mv *mv, const tw_batch *b)
{
    for (uint32_t r = 0; r < b->nrows; r++)
        mv->row_hashes[r] = tw_rowbag_hash_row(mv->rows, b, r);
    pthread_rwlock_wrlock(&mv->lock);
    for (uint32_t r = 0; r < b->nrows; r++) {
        int sign = b->ops ? tw_op_sign(b->ops[r]) : 1;
        if (!tw_rowbag_apply(mv->rows, b, r, mv->row_hashes[r], sign))
            mv->stats.missing_deletes++;
        else if (sign > 0)
            mv->stats.inserts++;
        else
            mv->stats.deletes++;
    }
    mv->stats.rows = tw_rowbag_count(mv->rows);
    pthread_rwlock_unlock(&mv->lock);
}

static void mv_push(tw_node *node, const tw_batch *in)
{
    mv_node *n = (mv_node *)node;
    apply_batch(n->mv, in);
    tw_node_emit(node, in);
}

static void mv_node_destroy(tw_node *node)
{
    (void)node; /* embedded in tw_mv: freed with it */
}

static const tw_node_ops mv_ops = {
    .kind = "materialize",
    .push = mv_push,
    .destroy = mv_node_destroy,
};

tw_mv *tw_mv_new(const char *name, const char *const *column_names, const tw_type *types,
                 uint32_t ncols)
{
    tw_mv *mv = tw_xcalloc(1, sizeof *mv);
    mv->name = tw_xstrdup(name);
    mv->ncols = ncols;
    mv->column_names = tw_xcalloc(ncols ? ncols : 1, sizeof *mv->column_names);
    mv->types = tw_xmalloc((ncols ? ncols : 1) * sizeof *mv->types);
    for (uint32_t c = 0; c < ncols; c++) {
        mv->column_names[c] = tw_xstrdup(column_names[c]);
        mv->types[c] = types[c];
    }
    mv->rows = tw_rowbag_new(types, ncols);
    pthread_rwlock_init(&mv->lock, NULL);
    tw_node_init(&mv->node.base, &mv_ops);
    mv->node.mv = mv;
    return mv;
}

void tw_mv_free(tw_mv *mv)
{
    if (!mv)
        return;
    tw_rowbag_free(mv->rows);
    for (uint32_t c = 0; c < mv->ncols; c++)
        free(mv->column_names[c]);
    free(mv->column_names);
    free(mv->types);
    free(mv->name);
    free(mv->node.base.down);
    pthread_rwlock_destroy(&mv->lock);
    free(mv);
}

tw_node *tw_mv_node(tw_mv *mv)
{
    return &mv->node.base;
}

const char *tw_mv_name(const tw_mv *mv)
{
    return mv->name;
}

uint32_t tw_mv_ncols(const tw_mv *mv)
{
    return mv->ncols;
}

const char *tw_mv_column_name(const tw_mv *mv, uint32_t col)
{
    return mv->column_names[col];
}

tw_type tw_mv_column_type(const tw_mv *mv, uint32_t col)
{
    return mv->types[col];
}

void tw_mv_get_stats(tw_mv *mv, tw_mv_stats *stats)
{
    pthread_rwlock_rdlock(&mv->lock);
    *stats = mv->stats;
    pthread_rwlock_unlock(&mv->lock);
}

typedef struct scan_state {
    tw_mv *mv;
    tw_batch *batch;
    void (*fn)(void *ctx, const tw_batch *rows);
    void *ctx;
} scan_state;

static bool scan_row(void *arg, const tw_value *row, uint64_t count)
{
    scan_state *st = arg;
    tw_batch *b = st->batch;
    for (uint64_t k = 0; k < count; k++) {
        if (b->nrows == b->capacity) {
            st->fn(st->ctx, b);
            b->nrows = 0;
        }
        uint32_t r = b->nrows++;
        for (uint32_t c = 0; c < st->mv->ncols; c++)
            tw_column_put(&b->cols[c], r, &row[c]);
    }
    return false;
}

void tw_mv_scan(tw_mv *mv, void (*fn)(void *ctx, const tw_batch *rows), void *ctx)
{
    scan_state st = {mv, tw_batch_new(mv->types, mv->ncols, TW_BATCH_ROWS), fn, ctx};
    pthread_rwlock_rdlock(&mv->lock);
    tw_rowbag_scan(mv->rows, scan_row, &st);
    if (st.batch->nrows)
        fn(ctx, st.batch);
    pthread_rwlock_unlock(&mv->lock);
    tw_batch_free(st.batch);
}

static void backfill_push(void *ctx, const tw_batch *rows)
{
    tw_node_push(ctx, rows);
}

typedef struct snapshot {
    tw_mv *mv;
    tw_batch **batches;
    uint32_t nbatches;
} snapshot;

/* Copies a scan batch (valid only during the scan) into the snapshot. */
static void snapshot_keep(void *ctx, const tw_batch *rows)
{
    snapshot *snap = ctx;
    tw_batch *copy = tw_batch_new(snap->mv->types, snap->mv->ncols, TW_BATCH_ROWS);
    for (uint32_t r = 0; r < rows->nrows; r++)
        tw_batch_append_row(copy, rows, r, 1);
    snap->batches = tw_xrealloc(snap->batches, (snap->nbatches + 1) * sizeof *snap->batches);
    snap->batches[snap->nbatches++] = copy;
}

typedef struct row_ref {
    int64_t key; /* INT64_MIN for NULL: NULLs first */
    uint32_t batch, row;
} row_ref;

static int row_ref_cmp(const void *a, const void *b)
{
    const row_ref *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->batch != y->batch)
        return x->batch < y->batch ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* Feeds the rows in order of column order_col. The snapshot is taken first
 * (under the read lock), so the pushes run without holding it. */
static uint64_t backfill_ordered(tw_mv *mv, tw_node *into, uint32_t order_col)
{
    snapshot snap = {mv, NULL, 0};
    tw_mv_scan(mv, snapshot_keep, &snap);
    uint64_t nrows = 0;
    for (uint32_t i = 0; i < snap.nbatches; i++)
        nrows += snap.batches[i]->nrows;
    row_ref *refs = tw_xmalloc((nrows ? nrows : 1) * sizeof *refs);
    uint64_t n = 0;
    for (uint32_t i = 0; i < snap.nbatches; i++) {
        const tw_column *col = &snap.batches[i]->cols[order_col];
        for (uint32_t r = 0; r < snap.batches[i]->nrows; r++)
            refs[n++] = (row_ref){col->valid[r] ? col->i64[r] : INT64_MIN, i, r};
    }
    assert(n == nrows);
    qsort(refs, nrows, sizeof *refs, row_ref_cmp);
    tw_batch *out = tw_batch_new(mv->types, mv->ncols, TW_BATCH_ROWS);
    for (uint64_t k = 0; k < nrows; k++) {
        /* Strings point into the snapshot, which outlives every push. */
        tw_batch_append_row(out, snap.batches[refs[k].batch], refs[k].row, 0);
        if (out->nrows == out->capacity || k + 1 == nrows) {
            tw_node_push(into, out);
            tw_batch_reset(out);
        }
    }
    tw_batch_free(out);
    free(refs);
    for (uint32_t i = 0; i < snap.nbatches; i++)
        tw_batch_free(snap.batches[i]);
    free(snap.batches);
    return nrows;
}

uint64_t tw_mv_backfill(tw_mv *mv, tw_node *into, int32_t order_col)
{
    assert(order_col < (int32_t)mv->ncols);
    if (order_col >= 0) {
        assert(tw_type_phys(mv->types[order_col]) == TW_PHYS_I64);
        return backfill_ordered(mv, into, (uint32_t)order_col);
    }
    tw_mv_stats before;
    tw_mv_get_stats(mv, &before);
    /* The scan holds the read lock while `into` runs: `into` is new and
     * downstream of this view, so it never writes it. */
    tw_mv_scan(mv, backfill_push, into);
    return before.rows;
}

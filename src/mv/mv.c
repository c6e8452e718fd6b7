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

/* collect.c - keeps every inserted row, for batch query results. */
#include <assert.h>
#include <stdlib.h>

#include "exec/operators.h"

typedef struct collect_node {
    tw_node base;
    tw_type *types;
    uint32_t ncols;
    tw_batch **batches;
    uint32_t nbatches;
} collect_node;

static void collect_push(tw_node *node, const tw_batch *in)
{
    collect_node *c = (collect_node *)node;
    for (uint32_t r = 0; r < in->nrows; r++) {
        /* A batch query emits each result row once, as an insert. */
        assert(!in->ops || in->ops[r] == TW_OP_INSERT);
        tw_batch *b = c->nbatches ? c->batches[c->nbatches - 1] : NULL;
        if (!b || b->nrows == b->capacity) {
            b = tw_batch_new(c->types, c->ncols, TW_BATCH_ROWS);
            c->batches = tw_xrealloc(c->batches, (c->nbatches + 1) * sizeof *c->batches);
            c->batches[c->nbatches++] = b;
        }
        uint32_t dst = b->nrows++;
        for (uint32_t col = 0; col < c->ncols; col++) {
            tw_value v = tw_column_get(&in->cols[col], r);
            if (v.type == TW_T_VARCHAR && !v.is_null)
                v.s = tw_batch_strdup(b, v.s.ptr, v.s.len);
            tw_column_put(&b->cols[col], dst, &v);
        }
    }
}

static void collect_destroy(tw_node *node)
{
    collect_node *c = (collect_node *)node;
    for (uint32_t i = 0; i < c->nbatches; i++)
        tw_batch_free(c->batches[i]);
    free(c->batches);
    free(c->types);
    free(c);
}

static const tw_node_ops collect_ops = {
    .kind = "collect",
    .push = collect_push,
    .destroy = collect_destroy,
};

tw_node *tw_collect_new(const tw_type *types, uint32_t ncols)
{
    collect_node *c = tw_xcalloc(1, sizeof *c);
    tw_node_init(&c->base, &collect_ops);
    c->types = tw_xcalloc(ncols ? ncols : 1, sizeof *c->types);
    for (uint32_t i = 0; i < ncols; i++)
        c->types[i] = types[i];
    c->ncols = ncols;
    return &c->base;
}

uint32_t tw_collect_batches(tw_node *node, tw_batch ***batches)
{
    collect_node *c = (collect_node *)node;
    *batches = c->batches;
    return c->nbatches;
}

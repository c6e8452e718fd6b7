/* map.c - filter and project, the stateless operator. */
#include <stdlib.h>
#include <string.h>

#include "exec/operators.h"

typedef struct map_node {
    tw_node base;
    tw_expr *filter;
    tw_expr **exprs;
    uint32_t nexprs;
    tw_batch *out;   /* output when rows are dropped (gathered copy) */
    tw_column *view; /* output columns when every row passes (borrowed) */
    tw_arena scratch;
    tw_eval_ctx ctx;
    uint32_t sel[TW_BATCH_ROWS];
} map_node;

static void gather(tw_column *dst, const tw_column *src, const uint32_t *sel, uint32_t n)
{
    switch (tw_type_phys(src->type)) {
    case TW_PHYS_BOOL:
        for (uint32_t i = 0; i < n; i++)
            dst->b[i] = src->b[sel[i]];
        break;
    case TW_PHYS_I64:
        for (uint32_t i = 0; i < n; i++)
            dst->i64[i] = src->i64[sel[i]];
        break;
    case TW_PHYS_F64:
        for (uint32_t i = 0; i < n; i++)
            dst->f64[i] = src->f64[sel[i]];
        break;
    case TW_PHYS_STR:
        for (uint32_t i = 0; i < n; i++)
            dst->s[i] = src->s[sel[i]];
        break;
    }
    for (uint32_t i = 0; i < n; i++)
        dst->valid[i] = src->valid[sel[i]];
}

static void map_push(tw_node *node, const tw_batch *in)
{
    map_node *m = (map_node *)node;
    tw_arena_reset(&m->scratch);
    uint32_t n = in->nrows, nsel = n;
    if (m->filter) {
        const tw_column *pred = tw_expr_eval(m->filter, in, &m->ctx);
        nsel = 0;
        for (uint32_t i = 0; i < n; i++) {
            m->sel[nsel] = i;
            nsel += pred->valid[i] & pred->b[i];
        }
        if (nsel == 0)
            return;
    }
    tw_batch view;
    memset(&view, 0, sizeof view);
    view.ncols = m->nexprs;
    view.capacity = TW_BATCH_ROWS;
    view.cols = m->view;
    for (uint32_t c = 0; c < m->nexprs; c++)
        m->view[c] = *tw_expr_eval(m->exprs[c], in, &m->ctx);
    if (nsel == n) {
        view.nrows = n;
        view.ops = in->ops;
        tw_node_emit(node, &view);
        return;
    }
    tw_batch *out = m->out;
    tw_batch_reset(out);
    for (uint32_t c = 0; c < m->nexprs; c++)
        gather(&out->cols[c], &m->view[c], m->sel, nsel);
    out->nrows = nsel;
    if (in->ops) {
        /* Keep update pairs well-formed: a lone half becomes insert/delete. */
        tw_batch_ensure_ops(out);
        for (uint32_t i = 0; i < nsel; i++) {
            uint32_t r = m->sel[i];
            uint8_t op = in->ops[r];
            if (op == TW_OP_UPDATE_DELETE && !(i + 1 < nsel && m->sel[i + 1] == r + 1))
                op = TW_OP_DELETE;
            else if (op == TW_OP_UPDATE_INSERT && !(i > 0 && m->sel[i - 1] == r - 1))
                op = TW_OP_INSERT;
            out->ops[i] = op;
        }
    }
    tw_node_emit(node, out);
}

static void map_destroy(tw_node *node)
{
    map_node *m = (map_node *)node;
    tw_expr_free(m->filter);
    for (uint32_t i = 0; i < m->nexprs; i++)
        tw_expr_free(m->exprs[i]);
    free(m->exprs);
    free(m->view);
    tw_batch_free(m->out);
    tw_arena_free(&m->scratch);
    free(m);
}

static const tw_node_ops map_ops = {
    .kind = "map",
    .push = map_push,
    .destroy = map_destroy,
};

tw_node *tw_map_new(tw_expr *filter, tw_expr **exprs, uint32_t nexprs)
{
    map_node *m = tw_xcalloc(1, sizeof *m);
    tw_node_init(&m->base, &map_ops);
    m->filter = filter;
    m->exprs = exprs;
    m->nexprs = nexprs;
    tw_type *types = tw_xmalloc((nexprs ? nexprs : 1) * sizeof *types);
    for (uint32_t i = 0; i < nexprs; i++)
        types[i] = exprs[i]->type;
    m->out = tw_batch_new(types, nexprs, TW_BATCH_ROWS);
    free(types);
    m->view = tw_xcalloc(nexprs ? nexprs : 1, sizeof *m->view);
    tw_arena_init(&m->scratch, 16 * 1024);
    m->ctx.strings = &m->scratch;
    return &m->base;
}

uint64_t tw_map_eval_errors(const tw_node *node)
{
    return ((const map_node *)node)->ctx.errors;
}

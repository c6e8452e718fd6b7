/* window.c - TUMBLE and HOP: assign each row to its time windows. */
#include <stdlib.h>
#include <string.h>

#include "exec/operators.h"

typedef struct window_node {
    tw_node base;
    uint32_t ncols_in;
    uint32_t time_col;
    int64_t size_us, slide_us, offset_us;
    uint64_t null_time_rows;
    tw_batch *out;     /* gathered output: input columns + start + end */
    tw_column *view;   /* borrowed input columns + out's start/end */
} window_node;

static int64_t floor_align(int64_t t, int64_t step, int64_t offset)
{
    int64_t x = t - offset;
    int64_t q = x / step;
    if (x % step < 0)
        q--;
    return q * step + offset;
}

static void copy_row(tw_batch *dst, uint32_t drow, const tw_batch *src, uint32_t srow, uint32_t ncols)
{
    for (uint32_t c = 0; c < ncols; c++) {
        tw_column *d = &dst->cols[c];
        const tw_column *s = &src->cols[c];
        d->valid[drow] = s->valid[srow];
        switch (tw_type_phys(s->type)) {
        case TW_PHYS_BOOL: d->b[drow] = s->b[srow]; break;
        case TW_PHYS_I64: d->i64[drow] = s->i64[srow]; break;
        case TW_PHYS_F64: d->f64[drow] = s->f64[srow]; break;
        case TW_PHYS_STR: d->s[drow] = s->s[srow]; break;
        }
    }
}

static void window_push(tw_node *node, const tw_batch *in)
{
    window_node *w = (window_node *)node;
    const tw_column *tc = &in->cols[w->time_col];
    tw_batch *out = w->out;
    tw_column *ws = &out->cols[w->ncols_in], *we = &out->cols[w->ncols_in + 1];
    uint32_t n = in->nrows;

    if (w->slide_us == w->size_us) {
        /* TUMBLE: one window per row. Share the input's columns when no row
         * is dropped; gather otherwise. */
        uint32_t nulls = 0;
        for (uint32_t i = 0; i < n; i++)
            nulls += !tc->valid[i];
        if (nulls == 0) {
            for (uint32_t i = 0; i < n; i++) {
                int64_t s = floor_align(tc->i64[i], w->size_us, w->offset_us);
                ws->i64[i] = s;
                we->i64[i] = s + w->size_us;
                ws->valid[i] = we->valid[i] = 1;
            }
            memcpy(w->view, in->cols, w->ncols_in * sizeof *w->view);
            w->view[w->ncols_in] = *ws;
            w->view[w->ncols_in + 1] = *we;
            tw_batch view;
            memset(&view, 0, sizeof view);
            view.nrows = n;
            view.capacity = TW_BATCH_ROWS;
            view.ncols = w->ncols_in + 2;
            view.cols = w->view;
            tw_node_emit(node, &view);
            return;
        }
    }
    tw_batch_reset(out);
    for (uint32_t i = 0; i < n; i++) {
        if (!tc->valid[i]) {
            w->null_time_rows++;
            continue;
        }
        int64_t t = tc->i64[i];
        int64_t last = floor_align(t, w->slide_us, w->offset_us);
        int64_t first = last;
        while (first - w->slide_us + w->size_us > t)
            first -= w->slide_us;
        for (int64_t s = first; s <= last; s += w->slide_us) {
            if (out->nrows == out->capacity) {
                tw_node_emit(node, out);
                tw_batch_reset(out);
            }
            uint32_t r = out->nrows++;
            copy_row(out, r, in, i, w->ncols_in);
            ws->i64[r] = s;
            we->i64[r] = s + w->size_us;
            ws->valid[r] = we->valid[r] = 1;
        }
    }
    tw_node_emit(node, out);
}

static void window_destroy(tw_node *node)
{
    window_node *w = (window_node *)node;
    tw_batch_free(w->out);
    free(w->view);
    free(w);
}

static const tw_node_ops window_ops = {
    .kind = "window",
    .push = window_push,
    .destroy = window_destroy,
};

tw_node *tw_window_new(const tw_type *in_types, uint32_t ncols_in, uint32_t time_col,
                       int64_t size_us, int64_t slide_us, int64_t offset_us)
{
    window_node *w = tw_xcalloc(1, sizeof *w);
    tw_node_init(&w->base, &window_ops);
    w->ncols_in = ncols_in;
    w->time_col = time_col;
    w->size_us = size_us;
    w->slide_us = slide_us;
    w->offset_us = offset_us;
    w->view = tw_xcalloc(ncols_in + 2, sizeof *w->view);
    tw_type *types = tw_xmalloc((ncols_in + 2) * sizeof *types);
    memcpy(types, in_types, ncols_in * sizeof *types);
    types[ncols_in] = types[ncols_in + 1] = in_types[time_col];
    w->out = tw_batch_new(types, ncols_in + 2, TW_BATCH_ROWS);
    free(types);
    return &w->base;
}

uint64_t tw_window_null_time_rows(const tw_node *node)
{
    return ((const window_node *)node)->null_time_rows;
}

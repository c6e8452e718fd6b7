/* batch.c - see batch.h. */
#include "exec/batch.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static size_t phys_size(tw_type t)
{
    switch (tw_type_phys(t)) {
    case TW_PHYS_BOOL: return 1;
    case TW_PHYS_I64: return sizeof(int64_t);
    case TW_PHYS_F64: return sizeof(double);
    case TW_PHYS_STR: return sizeof(tw_str);
    }
    return 8;
}

tw_batch *tw_batch_new(const tw_type *types, uint32_t ncols, uint32_t capacity)
{
    tw_batch *b = tw_xcalloc(1, sizeof *b);
    b->capacity = capacity;
    b->ncols = ncols;
    b->cols = tw_xcalloc(ncols ? ncols : 1, sizeof *b->cols);
    for (uint32_t i = 0; i < ncols; i++) {
        b->cols[i].type = types[i];
        b->cols[i].valid = tw_xcalloc(capacity, 1);
        b->cols[i].data = tw_xcalloc(capacity, phys_size(types[i]));
    }
    tw_arena_init(&b->arena, 64 * 1024);
    return b;
}

void tw_batch_free(tw_batch *batch)
{
    if (!batch)
        return;
    for (uint32_t i = 0; i < batch->ncols; i++) {
        free(batch->cols[i].valid);
        free(batch->cols[i].data);
    }
    free(batch->cols);
    free(batch->ops);
    tw_arena_free(&batch->arena);
    free(batch);
}

void tw_batch_reset(tw_batch *batch)
{
    batch->nrows = 0;
    if (batch->ops) {
        free(batch->ops);
        batch->ops = NULL;
    }
    tw_arena_reset(&batch->arena);
}

void tw_batch_ensure_ops(tw_batch *batch)
{
    if (!batch->ops)
        batch->ops = tw_xcalloc(batch->capacity, 1); /* TW_OP_INSERT == 0 */
}

tw_str tw_batch_strdup(tw_batch *batch, const char *ptr, size_t len)
{
    char *copy = tw_arena_alloc(&batch->arena, len ? len : 1);
    memcpy(copy, ptr, len);
    return (tw_str){copy, (uint32_t)len};
}

uint32_t tw_batch_append_row(tw_batch *dst, const tw_batch *src, uint32_t src_row, int copy_strings)
{
    assert(dst->nrows < dst->capacity);
    assert(dst->ncols == src->ncols);
    uint32_t r = dst->nrows++;
    for (uint32_t c = 0; c < dst->ncols; c++) {
        tw_column *d = &dst->cols[c];
        const tw_column *s = &src->cols[c];
        d->valid[r] = s->valid[src_row];
        switch (tw_type_phys(d->type)) {
        case TW_PHYS_BOOL: d->b[r] = s->b[src_row]; break;
        case TW_PHYS_I64: d->i64[r] = s->i64[src_row]; break;
        case TW_PHYS_F64: d->f64[r] = s->f64[src_row]; break;
        case TW_PHYS_STR:
            d->s[r] = copy_strings && s->valid[src_row]
                          ? tw_batch_strdup(dst, s->s[src_row].ptr, s->s[src_row].len)
                          : s->s[src_row];
            break;
        }
    }
    if (src->ops || dst->ops) {
        tw_batch_ensure_ops(dst);
        dst->ops[r] = src->ops ? src->ops[src_row] : TW_OP_INSERT;
    }
    return r;
}

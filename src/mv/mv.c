/* mv.c - see mv.h. */
#include "mv/mv.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "exec/expr.h"

typedef struct mv_row {
    uint64_t hash;
    uint64_t count;
    tw_value vals[]; /* ncols, then the bytes of string values */
} mv_row;

typedef struct mv_node {
    tw_node base;
    tw_mv *mv;
} mv_node;

struct tw_mv {
    char *name;
    char **column_names;
    tw_type *types;
    uint32_t ncols;
    mv_row **slots;
    uint64_t nslots, nrows_distinct;
    tw_mv_stats stats;
    pthread_rwlock_t lock;
    mv_node node;
    uint64_t row_hashes[TW_BATCH_ROWS];
};

static uint64_t row_hash(const tw_mv *mv, const tw_batch *b, uint32_t r)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (uint32_t c = 0; c < mv->ncols; c++) {
        tw_value v = tw_column_get(&b->cols[c], r);
        h = tw_value_hash(&v, h + c);
    }
    return h;
}

static bool row_equal(const tw_mv *mv, const mv_row *row, const tw_batch *b, uint32_t r)
{
    for (uint32_t c = 0; c < mv->ncols; c++) {
        tw_value v = tw_column_get(&b->cols[c], r);
        if (!tw_value_equal(&row->vals[c], &v))
            return false;
    }
    return true;
}

static void grow(tw_mv *mv)
{
    uint64_t n = mv->nslots ? mv->nslots * 2 : 256;
    mv_row **slots = tw_xcalloc(n, sizeof *slots);
    for (uint64_t i = 0; i < mv->nslots; i++) {
        mv_row *row = mv->slots[i];
        if (!row)
            continue;
        uint64_t j = row->hash & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = row;
    }
    free(mv->slots);
    mv->slots = slots;
    mv->nslots = n;
}

static void remove_slot(tw_mv *mv, uint64_t i)
{
    uint64_t mask = mv->nslots - 1, j = i;
    free(mv->slots[i]);
    for (;;) {
        j = (j + 1) & mask;
        mv_row *h = mv->slots[j];
        if (!h)
            break;
        uint64_t home = h->hash & mask;
        bool movable = (j > i) ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            mv->slots[i] = h;
            i = j;
        }
    }
    mv->slots[i] = NULL;
    mv->nrows_distinct--;
}

static mv_row *row_new(const tw_mv *mv, const tw_batch *b, uint32_t r, uint64_t hash)
{
    size_t str_bytes = 0;
    for (uint32_t c = 0; c < mv->ncols; c++)
        if (mv->types[c] == TW_T_VARCHAR && b->cols[c].valid[r])
            str_bytes += b->cols[c].s[r].len;
    mv_row *row = tw_xmalloc(sizeof *row + mv->ncols * sizeof(tw_value) + str_bytes);
    row->hash = hash;
    row->count = 0;
    char *strings = (char *)(row->vals + mv->ncols);
    for (uint32_t c = 0; c < mv->ncols; c++) {
        row->vals[c] = tw_column_get(&b->cols[c], r);
        row->vals[c].type = mv->types[c];
        if (mv->types[c] == TW_T_VARCHAR && !row->vals[c].is_null) {
            memcpy(strings, row->vals[c].s.ptr, row->vals[c].s.len);
            row->vals[c].s.ptr = strings;
            strings += row->vals[c].s.len;
        }
    }
    return row;
}

static void apply_batch(tw_mv *mv, const tw_batch *b)
{
    for (uint32_t r = 0; r < b->nrows; r++)
        mv->row_hashes[r] = row_hash(mv, b, r);
    pthread_rwlock_wrlock(&mv->lock);
    for (uint32_t r = 0; r < b->nrows; r++) {
        uint64_t h = mv->row_hashes[r];
        int sign = b->ops ? tw_op_sign(b->ops[r]) : 1;
        if (sign > 0 && mv->nrows_distinct * 2 >= mv->nslots)
            grow(mv);
        uint64_t mask = mv->nslots ? mv->nslots - 1 : 0, j = h & mask;
        mv_row *found = NULL;
        if (mv->nslots) {
            for (; mv->slots[j]; j = (j + 1) & mask) {
                if (mv->slots[j]->hash == h && row_equal(mv, mv->slots[j], b, r)) {
                    found = mv->slots[j];
                    break;
                }
            }
        }
        if (sign > 0) {
            if (!found) {
                found = row_new(mv, b, r, h);
                mv->slots[j] = found;
                mv->nrows_distinct++;
            }
            found->count++;
            mv->stats.inserts++;
            mv->stats.rows++;
        } else if (found) {
            mv->stats.deletes++;
            mv->stats.rows--;
            if (--found->count == 0)
                remove_slot(mv, j);
        } else {
            mv->stats.missing_deletes++;
        }
    }
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
    pthread_rwlock_init(&mv->lock, NULL);
    tw_node_init(&mv->node.base, &mv_ops);
    mv->node.mv = mv;
    return mv;
}

void tw_mv_free(tw_mv *mv)
{
    if (!mv)
        return;
    for (uint64_t i = 0; i < mv->nslots; i++)
        free(mv->slots[i]);
    free(mv->slots);
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

void tw_mv_scan(tw_mv *mv, void (*fn)(void *ctx, const tw_batch *rows), void *ctx)
{
    tw_batch *b = tw_batch_new(mv->types, mv->ncols, TW_BATCH_ROWS);
    pthread_rwlock_rdlock(&mv->lock);
    for (uint64_t i = 0; i < mv->nslots; i++) {
        mv_row *row = mv->slots[i];
        if (!row)
            continue;
        for (uint64_t k = 0; k < row->count; k++) {
            if (b->nrows == b->capacity) {
                fn(ctx, b);
                b->nrows = 0;
            }
            uint32_t r = b->nrows++;
            for (uint32_t c = 0; c < mv->ncols; c++)
                tw_column_put(&b->cols[c], r, &row->vals[c]);
        }
    }
    if (b->nrows)
        fn(ctx, b);
    pthread_rwlock_unlock(&mv->lock);
    tw_batch_free(b);
}

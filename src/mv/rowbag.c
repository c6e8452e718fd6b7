/* rowbag.c - see rowbag.h. Open addressing with linear probing and
 * backward-shift deletion; one allocation per distinct row. */
#include "mv/rowbag.h"

#include <stdlib.h>
#include <string.h>

#include "common/hash.h"

typedef struct bag_row {
    uint64_t hash;
    uint64_t count;
    tw_value vals[]; /* ncols, then the bytes of string values */
} bag_row;

struct tw_rowbag {
    tw_type *types;
    uint32_t ncols;
    bag_row **slots;
    uint64_t nslots, ndistinct, nrows;
};

tw_rowbag *tw_rowbag_new(const tw_type *types, uint32_t ncols)
{
    tw_rowbag *b = tw_xcalloc(1, sizeof *b);
    b->types = tw_xmalloc((ncols ? ncols : 1) * sizeof *b->types);
    memcpy(b->types, types, ncols * sizeof *b->types);
    b->ncols = ncols;
    return b;
}

void tw_rowbag_free(tw_rowbag *b)
{
    if (!b)
        return;
    for (uint64_t i = 0; i < b->nslots; i++)
        free(b->slots[i]);
    free(b->slots);
    free(b->types);
    free(b);
}

uint64_t tw_rowbag_hash_row(const tw_rowbag *b, const tw_batch *batch, uint32_t r)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (uint32_t c = 0; c < b->ncols; c++) {
        tw_value v = tw_column_get(&batch->cols[c], r);
        h = tw_value_hash(&v, h + c);
    }
    return h;
}

static bool row_equal(const tw_rowbag *b, const bag_row *row, const tw_batch *batch, uint32_t r)
{
    for (uint32_t c = 0; c < b->ncols; c++) {
        tw_value v = tw_column_get(&batch->cols[c], r);
        if (!tw_value_equal(&row->vals[c], &v))
            return false;
    }
    return true;
}

static void grow(tw_rowbag *b)
{
    uint64_t n = b->nslots ? b->nslots * 2 : 256;
    bag_row **slots = tw_xcalloc(n, sizeof *slots);
    for (uint64_t i = 0; i < b->nslots; i++) {
        bag_row *row = b->slots[i];
        if (!row)
            continue;
        uint64_t j = row->hash & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = row;
    }
    free(b->slots);
    b->slots = slots;
    b->nslots = n;
}

/* Frees slot i and closes the gap so later probes still find their rows. */
static void remove_slot(tw_rowbag *b, uint64_t i)
{
    uint64_t mask = b->nslots - 1, j = i;
    b->nrows -= b->slots[i]->count;
    free(b->slots[i]);
    for (;;) {
        j = (j + 1) & mask;
        bag_row *h = b->slots[j];
        if (!h)
            break;
        uint64_t home = h->hash & mask;
        bool movable = (j > i) ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            b->slots[i] = h;
            i = j;
        }
    }
    b->slots[i] = NULL;
    b->ndistinct--;
}

static bag_row *row_new(const tw_rowbag *b, const tw_batch *batch, uint32_t r, uint64_t hash)
{
    size_t str_bytes = 0;
    for (uint32_t c = 0; c < b->ncols; c++)
        if (b->types[c] == TW_T_VARCHAR && batch->cols[c].valid[r])
            str_bytes += batch->cols[c].s[r].len;
    bag_row *row = tw_xmalloc(sizeof *row + b->ncols * sizeof(tw_value) + str_bytes);
    row->hash = hash;
    row->count = 0;
    char *strings = (char *)(row->vals + b->ncols);
    for (uint32_t c = 0; c < b->ncols; c++) {
        row->vals[c] = tw_column_get(&batch->cols[c], r);
        row->vals[c].type = b->types[c];
        if (b->types[c] == TW_T_VARCHAR && !row->vals[c].is_null) {
            memcpy(strings, row->vals[c].s.ptr, row->vals[c].s.len);
            row->vals[c].s.ptr = strings;
            strings += row->vals[c].s.len;
        }
    }
    return row;
}

bool tw_rowbag_apply(tw_rowbag *b, const tw_batch *batch, uint32_t r, uint64_t hash, int sign)
{
    if (sign > 0 && b->ndistinct * 2 >= b->nslots)
        grow(b);
    if (!b->nslots)
        return false;
    uint64_t mask = b->nslots - 1, j = hash & mask;
    for (; b->slots[j]; j = (j + 1) & mask) {
        bag_row *row = b->slots[j];
        if (row->hash == hash && row_equal(b, row, batch, r)) {
            if (sign > 0) {
                row->count++;
                b->nrows++;
            } else if (row->count == 1) {
                remove_slot(b, j);
            } else {
                row->count--;
                b->nrows--;
            }
            return true;
        }
    }
    if (sign < 0)
        return false;
    bag_row *row = row_new(b, batch, r, hash);
    row->count = 1;
    b->slots[j] = row;
    b->ndistinct++;
    b->nrows++;
    return true;
}

uint64_t tw_rowbag_count(const tw_rowbag *b)
{
    return b->nrows;
}

void tw_rowbag_scan(tw_rowbag *b, bool (*fn)(void *ctx, const tw_value *row, uint64_t count),
                    void *ctx)
{
    for (uint64_t i = 0; i < b->nslots;) {
        bag_row *row = b->slots[i];
        if (row && fn(ctx, row->vals, row->count)) {
            /* Backward shift may move a later row into slot i: look again. */
            remove_slot(b, i);
            continue;
        }
        i++;
    }
}

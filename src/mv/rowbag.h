/* rowbag.h - a multiset of rows, hashed on their whole content.
 *
 * The state behind a view (mv.c) and a sink's pending rows (sink.c): an
 * insert adds one copy of a row, a delete removes one, so retractions need
 * no primary key. Rows are copied in (strings included) and owned by the
 * bag. Not thread-safe: the owner locks.
 */
#ifndef TW_MV_ROWBAG_H
#define TW_MV_ROWBAG_H

#include <stdbool.h>
#include <stdint.h>

#include "exec/batch.h"
#include "exec/expr.h"

typedef struct tw_rowbag tw_rowbag;

/* Types are copied. Never NULL. */
tw_rowbag *tw_rowbag_new(const tw_type *types, uint32_t ncols);
void tw_rowbag_free(tw_rowbag *bag);

/* Hash of row r of batch (whose columns are the bag's). */
uint64_t tw_rowbag_hash_row(const tw_rowbag *bag, const tw_batch *batch, uint32_t r);

/* Adds (sign > 0) or removes (sign < 0) one copy of row r. Returns false when
 * asked to remove a row the bag does not hold (nothing changes then). */
bool tw_rowbag_apply(tw_rowbag *bag, const tw_batch *batch, uint32_t r, uint64_t hash, int sign);

/* Rows held, counting duplicates. */
uint64_t tw_rowbag_count(const tw_rowbag *bag);

/* Calls fn for every distinct row (values owned by the bag) with its count.
 * When fn returns true, the row (all its copies) is removed; closing the gap
 * can bring a row fn already declined around again, so fn must decline
 * without side effects. */
void tw_rowbag_scan(tw_rowbag *bag, bool (*fn)(void *ctx, const tw_value *row, uint64_t count),
                    void *ctx);

#endif

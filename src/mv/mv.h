/* mv.h - materialized view state: the current rows of a view.
 *
 * An MV keeps the bag of rows its changelog input describes: an insert adds
 * one copy of a row, a delete removes one. Rows are hashed on their whole
 * content, so no primary key is needed to apply a retraction. The MV is also
 * a node: it applies each batch, then forwards the same changelog to the
 * views and sinks built on top of it, and it feeds its rows to a consumer
 * created later (backfill), so that consumer starts where it would be had
 * it existed from the start.
 *
 * Readers (batch queries, later the HTTP API) scan under a read lock; the
 * pipeline applies each batch under the write lock, so a reader never sees
 * half a batch. The MV owns copies of every row it holds.
 */
#ifndef TW_MV_MV_H
#define TW_MV_MV_H

#include <stdint.h>

#include "exec/batch.h"
#include "exec/node.h"

typedef struct tw_mv tw_mv;

/* Creates an empty MV. Names are copied. Never NULL. */
tw_mv *tw_mv_new(const char *name, const char *const *column_names, const tw_type *types,
                 uint32_t ncols);
void tw_mv_free(tw_mv *mv);

/* The node that applies a changelog to this MV; owned by the MV. */
tw_node *tw_mv_node(tw_mv *mv);

const char *tw_mv_name(const tw_mv *mv);
uint32_t tw_mv_ncols(const tw_mv *mv);
const char *tw_mv_column_name(const tw_mv *mv, uint32_t col);
tw_type tw_mv_column_type(const tw_mv *mv, uint32_t col);

typedef struct tw_mv_stats {
    uint64_t rows;            /* rows held now (with duplicates) */
    uint64_t inserts;         /* insert rows applied */
    uint64_t deletes;         /* delete rows applied */
    uint64_t missing_deletes; /* deletes of rows not held (an upstream bug) */
} tw_mv_stats;
void tw_mv_get_stats(tw_mv *mv, tw_mv_stats *stats);

/* Calls fn with batches (all inserts) holding a snapshot of every row, under
 * the read lock: fn must not call back into this MV's writers. Batches are
 * valid only during the call. */
void tw_mv_scan(tw_mv *mv, void (*fn)(void *ctx, const tw_batch *rows), void *ctx);

/* Feeds every row the view holds now, as inserts, to `into`, a node not yet
 * connected to this view's changelog, so a view or sink created over a view
 * starts where it would be had it existed from the start (backfill). With
 * order_col >= 0 (an integer or time column) rows go in ascending order of
 * it, NULLs first, so a window aggregate that judges lateness by event time
 * sees them as a time-ordered stream; otherwise in no particular order.
 * Call on the pipeline thread between batches, then connect `into`: a
 * change applied in between would be missed or counted twice. Returns the
 * number of rows fed. */
uint64_t tw_mv_backfill(tw_mv *mv, tw_node *into, int32_t order_col);

#endif

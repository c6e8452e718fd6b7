/* plan.h - what the binder produces: a bound, typed query over one relation.
 *
 * Shape (every part optional but the input and the outputs):
 *   input relation -> window (TUMBLE/HOP) -> where -> aggregate (keys, aggs)
 *   -> having -> outputs -> [batch only: order by, offset, limit]
 * Expressions in `where` and in the aggregate's keys and arguments read the
 * input columns followed by window_start and window_end when windowed.
 * With an aggregate, `having` and `outputs` read the keys followed by the
 * aggregate results; without one, they read what `where` reads.
 */
#ifndef TW_SQL_PLAN_H
#define TW_SQL_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "exec/expr.h"
#include "exec/operators.h"

typedef struct tw_relation tw_relation;

typedef enum tw_relation_kind {
    TW_REL_SOURCE,
    TW_REL_MV,
} tw_relation_kind;

/* A named relation a query can read: a source or a materialized view. */
struct tw_relation {
    char *name;
    tw_relation_kind kind;
    uint32_t ncols;
    char **col_names;
    tw_type *types;
    bool append_only;       /* only inserts flow out of it */
    int32_t watermark_col;  /* -1 when none */
    int64_t watermark_delay_us;
    /* Window lineage: the columns holding a window's start and end (-1 when
     * absent) and its size, so sinks can tell when a row is final. */
    int32_t window_start_col, window_end_col;
    int64_t window_size_us;
    struct tw_node *node;   /* produces this relation's changelog */
    struct tw_mv *mv;       /* TW_REL_MV only */
    void *owner;            /* the engine's entry for it */
};

typedef enum tw_window_kind {
    TW_WINDOW_NONE,
    TW_WINDOW_TUMBLE,
    TW_WINDOW_HOP,
} tw_window_kind;

typedef struct tw_order_key {
    uint32_t column; /* output column */
    bool desc;
    bool nulls_first;
} tw_order_key;

typedef struct tw_plan {
    tw_relation *input;
    tw_window_kind window;
    uint32_t time_col;
    int64_t size_us, slide_us, offset_us;
    tw_expr *where;

    bool has_agg;
    tw_expr **keys;
    uint32_t nkeys;
    tw_agg_call *aggs;
    uint32_t naggs;
    int32_t window_start_key, window_end_key;
    bool emit_on_window_close;
    bool use_watermark; /* the window is on the input's watermark column */

    tw_expr *having;
    tw_expr **outputs;
    char **names;
    uint32_t noutputs;  /* includes hidden sort columns */
    uint32_t nvisible;  /* outputs shown to the user */

    tw_order_key *order;
    uint32_t norder;
    int64_t limit;  /* -1: none */
    int64_t offset;
} tw_plan;

void tw_plan_free(tw_plan *plan);

#endif

/* operators.h - constructors of the stream operators (one file each).
 *
 * Every constructor returns a node owned by the caller (in practice the
 * pipeline graph), freed with tw_node_free. Expression and aggregate
 * arguments are taken over by the node.
 */
#ifndef TW_EXEC_OPERATORS_H
#define TW_EXEC_OPERATORS_H

#include <stdbool.h>
#include <stdint.h>

#include "exec/expr.h"
#include "exec/node.h"

/* ---- map.c: filter and project ------------------------------------------
 * Keeps rows where `filter` is true (filter may be NULL), then outputs the
 * projection exprs[0..nexprs). Changelog ops pass through; an update whose
 * one half is filtered out becomes a plain insert or delete. */
tw_node *tw_map_new(tw_expr *filter, tw_expr **exprs, uint32_t nexprs);
uint64_t tw_map_eval_errors(const tw_node *node);

/* ---- window.c: TUMBLE and HOP ------------------------------------------
 * Appends window_start and window_end columns to each input row, for every
 * window [s, s + size_us) containing the row's time column, s aligned to
 * slide_us (== size_us for TUMBLE) plus offset_us. Rows whose time is NULL
 * are dropped and counted. Append-only input only. */
tw_node *tw_window_new(const tw_type *in_types, uint32_t ncols_in, uint32_t time_col,
                       int64_t size_us, int64_t slide_us, int64_t offset_us);
uint64_t tw_window_null_time_rows(const tw_node *node);

/* ---- hashagg.c: incremental hash aggregation ------------------------------ */
typedef enum tw_agg_kind {
    TW_AGG_COUNT_STAR,
    TW_AGG_COUNT,
    TW_AGG_SUM,
    TW_AGG_AVG,
    TW_AGG_MIN,
    TW_AGG_MAX,
} tw_agg_kind;

typedef struct tw_agg_call {
    tw_agg_kind kind;
    tw_expr *arg;       /* NULL for count(*) */
    tw_type result_type;
} tw_agg_call;

typedef struct tw_hashagg_config {
    tw_expr **keys; /* group key expressions over the input */
    uint32_t nkeys;
    tw_agg_call *aggs;
    uint32_t naggs;
    /* Window bookkeeping: which key holds the window end (or the window
     * start, in which case end = start + window_size_us); -1 when the group
     * key has no window and state is only released at finish. */
    int32_t window_end_key;
    int32_t window_start_key;
    int64_t window_size_us;
    bool emit_on_window_close; /* emit each group once, when its window closes */
    /* Without a watermark, windows ending more than retention_us before the
     * newest window start seen are released (0 = never). */
    int64_t retention_us;
    /* The window is not on the input's watermark column: watermarks pass
     * through without closing windows. */
    bool ignore_watermark;
} tw_hashagg_config;

/* Output columns: keys (in order) then aggregates. The config's arrays are
 * taken over. Emits a changelog at each barrier (inserts for new groups,
 * U-/U+ pairs for changed ones) unless emit_on_window_close. */
tw_node *tw_hashagg_new(tw_hashagg_config *config);

typedef struct tw_hashagg_stats {
    uint64_t groups;     /* groups held now */
    uint64_t late_rows;  /* rows for windows already released */
    uint64_t eval_errors;
    int64_t closed_through_us; /* windows ending at or before this are released */
} tw_hashagg_stats;
void tw_hashagg_get_stats(const tw_node *node, tw_hashagg_stats *stats);

/* ---- collect.c: a sink that keeps every row it receives, for batch
 * queries (inserts and deletes are applied, so the result is a bag). */
tw_node *tw_collect_new(const tw_type *types, uint32_t ncols);
/* The collected rows as batches of up to TW_BATCH_ROWS rows, in arrival
 * order; owned by the node. */
uint32_t tw_collect_batches(tw_node *node, tw_batch ***batches);

#endif

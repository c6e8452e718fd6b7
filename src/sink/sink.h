/* sink.h - the streaming half of a sink: which rows to write, and when.
 *
 * A sink node consumes a view's changelog and decides what reaches the
 * external table, independently of how it is written (the target):
 *   append-only over a windowed view: each (row, window) is written once,
 *     with its final value, when the sink watermark passes the window's end
 *     (the source's WATERMARK, or else an implicit one: the newest window
 *     end seen minus one window and a lateness, advanced by wall-clock time
 *     while input is idle); rows retracted before that are never written;
 *   append-only over an append-only view: every row, as it comes;
 *   upsert (primary_key): the latest value per key, with a delete of the key
 *     for every key changed since the last commit.
 * Every `commit_every` barriers (and at the end of input) the finalized rows
 * go to the target in one commit, together with the sink watermark and the
 * source positions a replay must start from, so a restart neither loses nor
 * repeats a row.
 */
#ifndef TW_SINK_SINK_H
#define TW_SINK_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "exec/batch.h"
#include "exec/node.h"

/* What one commit carries. Batches are all inserts, in the view's columns;
 * delete_keys has the primary key columns only (upsert). */
typedef struct tw_sink_commit {
    tw_batch **rows;
    uint32_t nrows_batches;
    tw_batch **delete_keys;
    uint32_t ndelete_batches;
    int64_t watermark_us;    /* windows ending at or before this are complete */
    const char *positions;   /* JSON: where each source must resume */
} tw_sink_commit;

typedef struct tw_sink_target {
    /* Makes the commit durable (one atomic table commit). Returns false with
     * err set; the sink keeps the rows and retries at the next commit. */
    bool (*commit)(void *ctx, const tw_sink_commit *commit, tw_err *err);
    /* What the last commit before this run recorded: the replay positions
     * (JSON, malloc'ed; NULL when the table has no commit of ours) and the
     * watermark. Returns false with err set when the table cannot be read. */
    bool (*last_commit)(void *ctx, char **positions, int64_t *watermark_us, tw_err *err);
    void (*close)(void *ctx);
    void *ctx;
} tw_sink_target;

typedef enum tw_sink_mode {
    TW_SINK_APPEND,          /* final rows only, once */
    TW_SINK_UPSERT,          /* latest value per primary key */
} tw_sink_mode;

typedef struct tw_sink_config {
    const char *name;
    tw_sink_mode mode;
    const tw_type *types; /* the view's columns */
    uint32_t ncols;
    bool input_append_only;
    int32_t window_end_col;   /* -1: none; else the column holding the window end */
    int32_t window_start_col; /* used with window_size_us when there is no end column */
    int64_t window_size_us;
    int64_t lateness_us;      /* implicit watermark slack */
    const uint32_t *key_cols; /* upsert: primary key columns */
    uint32_t nkey_cols;
    uint32_t commit_every;    /* barriers between commits; >= 1 */
    /* Rows whose window ended at or before this were committed before a
     * restart: they are recomputed, not written again. INT64_MIN: none. */
    int64_t resume_watermark_us;
    /* Returns the replay positions for a commit at watermark wm (JSON text,
     * malloc'ed). */
    char *(*positions)(void *ctx, int64_t watermark_us, int64_t window_size_us);
    void *positions_ctx;
    /* The event time every input has reached (called with positions_ctx);
     * false while unknown. The implicit watermark is this minus the
     * lateness. NULL: the newest window seen stands in for it. */
    bool (*progress)(void *ctx, int64_t *event_time_us);
} tw_sink_config;

/* Creates the sink node; the target is taken over (closed on free). */
tw_node *tw_sink_new(const tw_sink_config *config, tw_sink_target target);

/* Commits what is final now, without closing open windows: for a clean
 * stop, after which a restart resumes exactly where this left off. */
void tw_sink_flush(tw_node *node);

typedef struct tw_sink_stats {
    uint64_t commits;
    uint64_t commit_failures;
    uint64_t rows_written;
    uint64_t pending_rows;   /* rows waiting for their window to close */
    uint64_t late_rows;      /* changes to windows already written */
    int64_t watermark_us;    /* INT64_MIN before the first */
    int64_t last_commit_mono_us;
    char last_error[256];
} tw_sink_stats;
void tw_sink_get_stats(const tw_node *node, tw_sink_stats *stats);

#endif

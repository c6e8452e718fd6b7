/* engine.h - the running pipeline: catalog, operator graph, sources, loop.
 *
 * The engine executes SQL statements (DDL builds sources, views and sinks
 * into one operator graph; SELECT runs a batch query over the views) and
 * drives the sources: read bytes, decode batches, drop late rows, push them
 * through the graph, send barriers every barrier_interval_ms and watermarks
 * as event time advances. One thread runs the pipeline; readers of views
 * take the views' read locks.
 */
#ifndef TW_EXEC_ENGINE_H
#define TW_EXEC_ENGINE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"
#include "exec/batch.h"

typedef struct tw_engine tw_engine;

typedef struct tw_engine_opts {
    bool no_sinks;              /* validate sinks but do not run them */
    int64_t barrier_interval_ms;
    int64_t retention_us;       /* window state bound when there is no watermark */
    FILE *dead_letter;          /* malformed lines go here when set; not owned */
    uint32_t decode_threads;    /* per file source; 0: one per core */
    const char *data_dir;       /* relative warehouse paths resolve here (default ".") */
    int64_t sink_lateness_us;   /* implicit sink watermark slack (default 5 s) */
    /* Called after each DDL statement (CREATE, DROP, SET) succeeds, with its
     * text (not NUL-terminated), e.g. to persist the catalog. */
    void (*on_ddl)(void *ctx, const char *stmt, size_t len);
    void *on_ddl_ctx;
    /* NAME=URI connector overrides, applied when the source is created. */
    const char **source_overrides;
    uint32_t nsource_overrides;
    bool bounded;               /* --exit-at-eof: Kafka sources stop at the run's end offsets */
} tw_engine_opts;

void tw_engine_opts_default(tw_engine_opts *opts);

/* Creates an engine with nothing in its catalog. Option strings are not
 * copied. Never NULL. */
tw_engine *tw_engine_new(const tw_engine_opts *opts);
void tw_engine_free(tw_engine *engine);

/* A batch query's result: column names and types, and rows in order. */
typedef struct tw_result {
    uint32_t ncols;
    char **names;
    tw_type *types;
    tw_batch **batches;
    uint32_t nbatches;
    uint64_t nrows;
} tw_result;
void tw_result_free(tw_result *result);

/* Executes every statement of a SQL script. A SELECT's result is handed to
 * on_result (which takes it over) when given, else dropped. Stops at the
 * first failing statement with err set (the message names the file, line
 * and column). */
bool tw_engine_exec(tw_engine *engine, const char *sql, size_t len, const char *filename,
                    void (*on_result)(void *ctx, tw_result *result), void *ctx, tw_err *err);

/* Thread-safe tw_engine_exec for other threads (the PostgreSQL server): the
 * script runs on the pipeline thread between batches while tw_engine_run is
 * running, or right away under the engine's lock when it is not, and the
 * call waits for the outcome. on_result runs on the executing thread. */
bool tw_engine_exec_sync(tw_engine *engine, const char *sql, size_t len, const char *filename,
                         void (*on_result)(void *ctx, tw_result *result), void *ctx, tw_err *err);

/* tw_engine_exec_sync that hands the statements' notices (things to know
 * that are not errors, e.g. that a new view over a source already read sees
 * only later rows) to on_notice, on the executing thread, rather than
 * printing them on stderr. */
bool tw_engine_exec_sync_notices(tw_engine *engine, const char *sql, size_t len,
                                 const char *filename,
                                 void (*on_result)(void *ctx, tw_result *result),
                                 void (*on_notice)(void *ctx, const char *message), void *ctx,
                                 tw_err *err);

/* Runs the sources until *stop becomes nonzero or, with exit_at_eof, until
 * every source is finite and exhausted (then closes every window and
 * flushes). Returns false with err set when a source fails. on_tick, when
 * given, is called about once a second from the pipeline thread. */
bool tw_engine_run(tw_engine *engine, volatile sig_atomic_t *stop, bool exit_at_eof,
                   void (*on_tick)(void *ctx, tw_engine *engine), void *tick_ctx, tw_err *err);

/* Runs one barrier now (flushes every aggregate into its views). */
void tw_engine_barrier(tw_engine *engine);

/* Prints the changes of view `mv_name` to `out` as they happen (for the
 * live terminal view). Returns false if there is no such view. */
bool tw_engine_watch(tw_engine *engine, const char *mv_name, FILE *out, tw_err *err);

typedef struct tw_engine_stats {
    uint64_t lines, rows, malformed, type_errors, late_rows, eval_errors;
    uint64_t bytes;
    /* Messages between the next offset to process and the high watermark,
     * summed over the assigned partitions of every Kafka source; -1 with no
     * Kafka source or no watermark known yet. */
    int64_t kafka_lag;
} tw_engine_stats;
void tw_engine_get_stats(tw_engine *engine, tw_engine_stats *stats);

/* Writes the per-source and per-view counters as JSON (see --stats-json);
 * a Kafka source adds "partitions": [{"partition", "lag", "messages"}]. */
bool tw_engine_write_stats_json(tw_engine *engine, FILE *out);

/* The view called `name`, or NULL. The view lives until it is dropped or
 * the engine is freed; its rows are read with tw_mv_scan (mv/mv.h), which
 * is safe from any thread. */
struct tw_mv *tw_engine_find_mv(tw_engine *engine, const char *name);

/* Calls fn(ctx, changes) from the pipeline thread with every changelog
 * batch applied to view `mv_name` (inserts, deletes, update pairs), right
 * after the view has applied it, and fn(ctx, NULL) after every barrier.
 * The batch is borrowed for the call. Returns false if there is no such
 * view. Install taps before tw_engine_run. */
bool tw_engine_tap(tw_engine *engine, const char *mv_name,
                   void (*fn)(void *ctx, const tw_batch *changes), void *ctx, tw_err *err);

/* Removes every tap installed with context ctx (not NULL), so a consumer can
 * go away while the engine lives on. Call from the thread that executes
 * DDL. Dropping a view removes its taps by itself. */
void tw_engine_untap(tw_engine *engine, void *ctx);

/* Calls fn(ctx, view, created) on the thread executing the statement right
 * after a CREATE MATERIALIZED VIEW (created true; the view can be tapped
 * from fn) or a DROP MATERIALIZED VIEW (created false; its taps are already
 * gone) succeeds, so a server can follow views defined while it runs. One
 * listener at a time; fn NULL removes it. */
void tw_engine_on_view_change(tw_engine *engine,
                              void (*fn)(void *ctx, const char *view, bool created), void *ctx);

/* Calls fn(ctx, sink, from) on the thread executing the statement right
 * after a CREATE SINK succeeds (from: the relation it reads), so a server
 * can read back the table of a sink defined while it runs
 * (tw_engine_sink_of works from fn). One listener; fn NULL removes it. */
void tw_engine_on_sink_created(tw_engine *engine,
                               void (*fn)(void *ctx, const char *sink, const char *from),
                               void *ctx);

/* The SELECT text view `name` was created with, as a malloc'd copy the
 * caller frees, or NULL when there is no such view. Call from the thread
 * that executes DDL. */
char *tw_engine_mv_definition(tw_engine *engine, const char *name);

/* A sink's name and options: its connection's options with the sink's own
 * WITH options on top (what the sink opened its table with). Strings are
 * malloc'ed copies; free with tw_engine_sink_info_free. */
typedef struct tw_engine_sink_info {
    char *name;
    char **keys;
    char **values;
    uint32_t nopts;
} tw_engine_sink_info;

/* Fills *out for the first sink FROM view `view` (e.g. to read the table
 * the view's history is written to). False, with *out zeroed, when no sink
 * reads the view. Call from the thread that executes DDL. */
bool tw_engine_sink_of(tw_engine *engine, const char *view, tw_engine_sink_info *out);
void tw_engine_sink_info_free(tw_engine_sink_info *info);

/* Number of rows held by a view, or -1 when there is no such view. */
int64_t tw_engine_mv_rows(tw_engine *engine, const char *mv_name);

#endif

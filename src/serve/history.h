/* history.h - the anomaly view's history, read back from its Iceberg table.
 *
 * The live row store (rowstore.h) holds the windows still in the view;
 * older windows live only in the Iceberg table the view's sink writes. A
 * history provider answers the API's queries over that table without full
 * scans: it follows the table's current snapshot (polling the catalog's
 * metadata pointer at most once per poll interval), keeps the snapshot's
 * data files with their window_start partition values and lower/upper
 * bounds, skips files and row groups whose window_start range misses the
 * query's from/to, reads only the view's columns of the rest, and keeps
 * decoded row groups (each sorted by window_start, device_id) in a cache
 * bounded in bytes and evicted least recently used first. A query
 * (tw_history_query) counts the matching rows that the live store does not
 * hold (live wins) and then streams them in time order.
 *
 * The provider owns its catalog connection, its snapshot and its cache;
 * every function is safe from many threads at once. Delete files (upsert
 * tables) are not applied: their manifests are skipped and counted.
 */
#ifndef TW_SERVE_HISTORY_H
#define TW_SERVE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "serve/rowstore.h"

typedef struct tw_history tw_history;
typedef struct tw_history_cursor tw_history_cursor;

typedef struct tw_history_opts {
    /* The sink's options (its connection's merged under its own):
     * catalog.type, catalog.uri, warehouse.path, database.name, table.name. */
    const char *const *keys;
    const char *const *values;
    uint32_t nopts;
    const char *data_dir;      /* relative paths resolve here (NULL: ".") */
    size_t cache_bytes;        /* 0 -> 256 MiB of decoded row groups */
    int64_t poll_interval_ms;  /* 0 -> 1000 */
} tw_history_opts;

/* Opens the table's catalog (the table itself may not exist yet: it is
 * looked up at every poll). Returns NULL with err set for options that name
 * no usable catalog (unknown or unsupported catalog.type, missing
 * table.name, unreachable database). */
tw_history *tw_history_open(const tw_history_opts *opts, tw_err *err);
void tw_history_free(tw_history *h);

/* Makes the next query check the catalog for a new snapshot at once (e.g.
 * after a sink commit). */
void tw_history_invalidate(tw_history *h);

/* Drops the decoded row groups, which are laid out for the view a query
 * passed: call when the served view is re-created (its columns may differ).
 * Entries a running query holds are freed when it lets them go. */
void tw_history_flush(tw_history *h);

/* Starts a query over the history for the rows of live's view (live gives
 * the columns, types and type bits; its rows are excluded from the
 * history's). Only rows passing filter count. *total is set to the number
 * of matching history rows. Returns NULL with err set when the table
 * cannot be read (the API then answers from the live store alone). */
tw_history_cursor *tw_history_query(tw_history *h, tw_rowstore *live,
                                    const tw_rowstore_filter *filter, bool desc,
                                    uint64_t *total, tw_err *err);

/* The next matching row in (window_start, device_id) order (descending when
 * the query was desc). The row and its values stay valid until the next
 * call or tw_history_cursor_free. False at the end. */
bool tw_history_next(tw_history_cursor *cursor, tw_rowstore_row *row);

void tw_history_cursor_free(tw_history_cursor *cursor);

/* The smallest and largest window_start in the current snapshot, from the
 * files' bounds (false when the table has no rows, or no bounds). Polls
 * like a query. */
bool tw_history_bounds(tw_history *h, int64_t *min_us, int64_t *max_us);

typedef struct tw_history_stats {
    int64_t snapshot_id;        /* -1: no snapshot yet */
    uint64_t files;             /* data files in the snapshot */
    uint64_t delete_manifests;  /* skipped: deletes are not applied */
    /* the last query */
    uint64_t files_pruned_partition;
    uint64_t files_pruned_bounds;
    uint64_t row_groups_pruned;
    uint64_t row_groups_cached;  /* found in the cache */
    uint64_t row_groups_read;    /* decoded from files */
    /* cumulative */
    uint64_t queries;
    uint64_t cache_bytes;
    uint64_t cache_entries;
    uint64_t reloads;
} tw_history_stats;

void tw_history_get_stats(tw_history *h, tw_history_stats *stats);

#endif

/* rowstore.h - the current rows of a windowed view, keyed and time-ordered.
 *
 * The HTTP API answers from a row store rather than by scanning a view: the
 * store follows a view's changelog (fed from a tw_engine_tap callback on the
 * pipeline thread) and keeps one row per (device_id, window_start), in an
 * array sorted by window_start (then device_id) plus a hash on the key, so a
 * time range is found by binary search and a row by its key in O(1). The
 * view must have a VARCHAR column device_id and a TIMESTAMP[TZ] column
 * window_start. Every BOOLEAN column named is_* is an anomaly type (see
 * tw_rowstore_type_name); a row's types are the is_* columns that are true.
 *
 * The store also remembers which keys changed since the last barrier and
 * reports them, once per barrier, as new / updated / cleared (for SSE).
 *
 * Locking: the writer (changelog and barrier) takes the write lock; queries
 * take the read lock and visit rows during the call only. The lock prefers
 * the writer, so a stream of queries cannot hold the pipeline back for
 * longer than the queries already running. The store owns copies of every
 * row and string it holds.
 */
#ifndef TW_SERVE_ROWSTORE_H
#define TW_SERVE_ROWSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "exec/batch.h"
#include "exec/expr.h"

#define TW_ROWSTORE_MAX_TYPES 64

typedef struct tw_rowstore tw_rowstore;

/* One row: its key, its types as a bit set (bit i = type i), every column's
 * value (strings owned by the store). Valid only inside a visit callback. */
typedef struct tw_rowstore_row {
    int64_t window_start_us;
    uint64_t types;
    const char *device_id; /* NUL-terminated */
    const tw_value *values;
} tw_rowstore_row;

/* Creates a store for a view with these columns (names and types are
 * copied). Returns NULL with err set when the view lacks a VARCHAR device_id
 * or a timestamp window_start, or has more than TW_ROWSTORE_MAX_TYPES is_*
 * columns. */
tw_rowstore *tw_rowstore_new(const char *view, const char *const *names, const tw_type *types,
                             uint32_t ncols, tw_err *err);
void tw_rowstore_free(tw_rowstore *store);

/* Schema (fixed after creation; safe from any thread without the lock). */
uint32_t tw_rowstore_ncols(const tw_rowstore *store);
const char *tw_rowstore_column_name(const tw_rowstore *store, uint32_t col);
tw_type tw_rowstore_column_type(const tw_rowstore *store, uint32_t col);
uint32_t tw_rowstore_ntypes(const tw_rowstore *store);
/* Type i's API name: is_high_latency -> latency, is_high_packet_loss ->
 * loss, is_bandwidth_saturation -> bandwidth (the seed's names), any other
 * is_X -> X. */
const char *tw_rowstore_type_name(const tw_rowstore *store, uint32_t type);
/* The is_* column of type i. */
const char *tw_rowstore_type_column(const tw_rowstore *store, uint32_t type);
/* The type index of an API name, or -1. */
int tw_rowstore_type_find(const tw_rowstore *store, const char *name, size_t len);

/* Applies one changelog batch of the view (pipeline thread). Rows whose key
 * columns are NULL are ignored. */
void tw_rowstore_apply(tw_rowstore *store, const tw_batch *changes);

typedef enum tw_change_kind { TW_CHANGE_NEW, TW_CHANGE_UPDATED, TW_CHANGE_CLEARED } tw_change_kind;

/* Reports every key changed since the previous call, with its row now (its
 * last row for CLEARED), then forgets them. Keys that appeared and vanished
 * in between, or whose row ended as it began, are not reported. Call once
 * per barrier from the writer thread; fn may be NULL to just forget. */
void tw_rowstore_take_changes(tw_rowstore *store,
                              void (*fn)(void *ctx, tw_change_kind kind,
                                         const tw_rowstore_row *row),
                              void *ctx);

/* A count that grows by one at every tw_rowstore_take_changes (once per
 * barrier), before the barrier's changes are reported: a reply computed
 * after reading generation g holds every change up to the barrier that
 * made it g, so a cached reply is current while the generation stays g.
 * Lock-free; any thread. */
uint64_t tw_rowstore_generation(const tw_rowstore *store);

/* A filter over the store. from/to bound window_start inclusively. */
typedef struct tw_rowstore_filter {
    int64_t from_us, to_us;  /* INT64_MIN / INT64_MAX when open */
    bool match_types;        /* false: types is ignored */
    uint64_t types;          /* match rows having any of these types */
    const char *device_id;   /* exact match, or NULL */
    const char *q;           /* case-insensitive substring, or NULL; see tw_rowstore_query */
    int32_t tz_offset_min;   /* the zone q's time text is shown in, minutes east of UTC */
} tw_rowstore_filter;

void tw_rowstore_filter_init(tw_rowstore_filter *filter);

/* Visits the rows matching filter in window_start order (descending when
 * desc; ties by device_id in the same direction), skipping the first
 * `offset` matches and stopping after `limit` visits; returns how many rows
 * match in all. q matches the device_id, or window_start written as
 * "YYYY-MM-DD HH:MM:SS" (the dashboard's format) or "YYYY-MM-DDTHH:MM:SSZ"
 * in the filter's zone. The time range is found by binary search. */
uint64_t tw_rowstore_query(tw_rowstore *store, const tw_rowstore_filter *filter, bool desc,
                           uint64_t offset, uint64_t limit,
                           void (*visit)(void *ctx, const tw_rowstore_row *row), void *ctx);

/* True when the store holds a row for (device_id, window_start_us): the
 * live row wins over a copy of it from elsewhere (the Iceberg history). */
bool tw_rowstore_contains(tw_rowstore *store, const char *device_id, int64_t window_start_us);

/* True when a row from outside the store (same columns) passes filter,
 * time range included, by the rules tw_rowstore_query applies. No lock. */
bool tw_rowstore_row_matches(const tw_rowstore_filter *filter, const tw_rowstore_row *row);

/* The type bit set of a row given its values in the store's column order. */
uint64_t tw_rowstore_types_of(const tw_rowstore *store, const tw_value *values);

/* Rows held, and the smallest and largest window_start (false when empty). */
uint64_t tw_rowstore_count(tw_rowstore *store);
bool tw_rowstore_bounds(tw_rowstore *store, int64_t *min_us, int64_t *max_us);

/* Writes window_start shifted by tz_offset_min as "YYYY-MM-DD HH:MM:SS" into
 * buf (at least 32 bytes): the text q matches. Returns the length. */
size_t tw_rowstore_display_time(int64_t us, int32_t tz_offset_min, char *buf);

#endif

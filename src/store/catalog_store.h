/* catalog_store.h - the persistent catalog: DDL that survives a restart.
 *
 * A SQLite file in the data directory (tidewatch-catalog.sqlite) holds the
 * text of every CREATE statement the engine applied (sources, tables,
 * materialized views, connections, sinks), in order; a DROP deletes the
 * statements that created what it drops. On startup the statements are
 * replayed through tw_engine_exec before the pipeline runs, so the same
 * objects come back (sinks then resume from their committed positions on
 * their own). SET is session state and is not stored. The store owns its
 * SQLite handle; it is used from one thread at a time (replay on the main
 * thread, recording from the engine's on_ddl hook on the pipeline thread).
 */
#ifndef TW_STORE_CATALOG_STORE_H
#define TW_STORE_CATALOG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "exec/engine.h"

#define TW_CATALOG_STORE_FILE "tidewatch-catalog.sqlite"

typedef struct tw_catalog_store tw_catalog_store;

/* Opens DATA_DIR/tidewatch-catalog.sqlite, creating it when missing.
 * Returns NULL with err set when the file cannot be opened or is not a
 * tidewatch catalog. */
tw_catalog_store *tw_catalog_store_open(const char *data_dir, tw_err *err);

/* Closes the file; NULL is a no-op. */
void tw_catalog_store_close(tw_catalog_store *store);

/* Records one statement the engine applied (text need not be
 * NUL-terminated): a CREATE is appended, a DROP removes the statements of
 * the object it names, anything else is ignored. Returns false with err set
 * when the statement does not parse or SQLite fails. Does nothing while
 * the store replays. */
bool tw_catalog_store_record(tw_catalog_store *store, const char *stmt, size_t len, tw_err *err);

/* An engine on_ddl hook (ctx is the store): tw_catalog_store_record, with
 * failures printed to stderr. */
void tw_catalog_store_on_ddl(void *ctx, const char *stmt, size_t len);

/* Executes every stored statement in order on engine (before tw_engine_run).
 * *count is the number replayed. Returns false with err naming the stored
 * statement that failed and the file. */
bool tw_catalog_store_replay(tw_catalog_store *store, tw_engine *engine, uint32_t *count,
                             tw_err *err);

/* The number of stored statements, or -1 on a SQLite error. */
int64_t tw_catalog_store_count(tw_catalog_store *store);

#endif

/* manifest_read.h - the files of an Iceberg snapshot, read from its manifests.
 *
 * A reader of a table (the history provider, src/serve/history.c) lists the
 * live files of a snapshot: it decodes the snapshot's manifest list with
 * tw_iceberg_manifest_list_decode and each manifest with
 * tw_iceberg_manifest_read, which uses libavro's file reader, so manifests
 * of any v1/v2 writer (Java, pyiceberg, iceberg-rust, DuckDB) decode, not
 * only tidewatch's. Each entry carries what pruning needs: the file's
 * path, content kind, record count, partition tuple and per-field-id
 * lower/upper bounds (raw single-value bytes, Appendix D). Entries and
 * everything they point to are malloc'ed and owned by the caller.
 */
#ifndef TW_ICEBERG_MANIFEST_READ_H
#define TW_ICEBERG_MANIFEST_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "exec/expr.h"
#include "iceberg/manifest.h"

typedef enum tw_iceberg_entry_status {
    TW_ICEBERG_EXISTING = 0,
    TW_ICEBERG_ADDED = 1,
    TW_ICEBERG_DELETED = 2,
} tw_iceberg_entry_status;

typedef struct tw_iceberg_bound {
    int32_t field_id;
    tw_iceberg_bytes lower; /* present = false when the file has none */
    tw_iceberg_bytes upper;
} tw_iceberg_bound;

typedef struct tw_iceberg_file_entry {
    tw_iceberg_entry_status status;
    int32_t content; /* 0 data, 1 position deletes, 2 equality deletes */
    char *path;
    char *format;    /* "PARQUET", "AVRO", "ORC" */
    uint64_t record_count;
    uint64_t file_size_bytes;
    uint32_t npartition;
    tw_value *partition; /* in the partition record's field order; strings owned, NUL-terminated */
    uint32_t nbounds;
    tw_iceberg_bound *bounds;
} tw_iceberg_file_entry;

/* Decodes the manifest file held in bytes[0..len). Entries whose status is
 * DELETED are kept (the caller skips them) so counts can be checked.
 * Returns false with err set for a file that is not an Avro manifest. */
bool tw_iceberg_manifest_read(const char *bytes, size_t len, tw_iceberg_file_entry **out,
                              uint32_t *n, tw_err *err);

/* Decodes a manifest list. Returns false with err set for a file that is not
 * an Avro manifest list. */
bool tw_iceberg_manifest_list_decode(const char *bytes, size_t len,
                                     tw_iceberg_manifest_file **out, uint32_t *n, tw_err *err);

/* The bounds of field_id in e, or NULL. */
const tw_iceberg_bound *tw_iceberg_file_entry_bound(const tw_iceberg_file_entry *e,
                                                    int32_t field_id);

void tw_iceberg_file_entries_free(tw_iceberg_file_entry *entries, uint32_t n);

#endif

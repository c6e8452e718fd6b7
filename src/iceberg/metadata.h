/* metadata.h - Iceberg v2 table metadata JSON (jansson): create, parse,
 * add a snapshot, write.
 *
 * A tw_iceberg_metadata keeps the whole parsed JSON document, so fields it
 * does not model (properties, statistics, other refs written by other
 * engines) survive a commit, plus the facts table code needs decoded: ids,
 * the current schema and default partition spec, the snapshots. Decoded
 * strings borrow from the document; the schema and spec are owned copies.
 */
#ifndef TW_ICEBERG_METADATA_H
#define TW_ICEBERG_METADATA_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "iceberg/iceberg.h"
#include "iceberg/partition.h"

typedef struct tw_iceberg_snapshot {
    int64_t snapshot_id;
    int64_t parent_snapshot_id; /* -1: none */
    int64_t sequence_number;
    int64_t timestamp_ms;
    const char *manifest_list;
    json_t *summary; /* borrowed object of strings */
} tw_iceberg_snapshot;

typedef struct tw_iceberg_metadata {
    json_t *root;
    const char *table_uuid;
    const char *location;
    int64_t last_sequence_number;
    int64_t last_updated_ms;
    int32_t last_column_id;
    int32_t current_schema_id;
    int32_t last_partition_id;
    tw_iceberg_schema schema; /* current schema; owned (see metadata.c) */
    char *schema_json;        /* current schema as compact JSON */
    tw_iceberg_partition_spec spec; /* default spec */
    int64_t current_snapshot_id;    /* -1: none */
    const tw_iceberg_snapshot *current;
    tw_iceberg_snapshot *snapshots;
    uint32_t nsnapshots;
} tw_iceberg_metadata;

/* A snapshot to add: the table code fills it for each commit attempt. */
typedef struct tw_iceberg_new_snapshot {
    int64_t snapshot_id;
    int64_t sequence_number;
    int64_t timestamp_ms;
    const char *manifest_list;
    json_t *summary; /* object of strings incl. "operation"; borrowed */
} tw_iceberg_new_snapshot;

/* Metadata for a new, empty table (format-version 2, no snapshot). The
 * schema's field ids are kept; the spec's field ids should start at 1000.
 * Returns NULL with err set for a column type Iceberg cannot hold. */
tw_iceberg_metadata *tw_iceberg_metadata_create(const char *table_uuid, const char *location,
                                                const tw_iceberg_schema *schema,
                                                const tw_iceberg_partition_spec *spec,
                                                int64_t now_ms, tw_err *err);

/* Parses a metadata JSON document. Returns NULL with err set (naming the
 * missing or bad field) for a document that is not valid v1/v2 metadata. */
tw_iceberg_metadata *tw_iceberg_metadata_parse(const char *text, size_t len, tw_err *err);

/* A new version: base plus snapshot s as the current snapshot of main,
 * with last-sequence-number, last-updated-ms, snapshot-log and
 * metadata-log (recording base_location, if not NULL) advanced. base is
 * unchanged. NULL with err set on failure. */
tw_iceberg_metadata *tw_iceberg_metadata_add_snapshot(const tw_iceberg_metadata *base,
                                                      const char *base_location,
                                                      const tw_iceberg_new_snapshot *s,
                                                      tw_err *err);

/* Snapshot s as a metadata "snapshots" entry (parent omitted when
 * parent_snapshot_id is -1), a new reference; NULL when out of memory. */
json_t *tw_iceberg_snapshot_to_json(const tw_iceberg_new_snapshot *s, int64_t parent_snapshot_id,
                                    int32_t schema_id);

/* The document as JSON text, malloc'ed. */
char *tw_iceberg_metadata_to_json(const tw_iceberg_metadata *md);

/* Schema JSON object (type struct, schema-id, identifier-field-ids,
 * fields) and a spec's fields array, as new references. */
json_t *tw_iceberg_schema_to_json(const tw_iceberg_schema *schema, int32_t schema_id);
json_t *tw_iceberg_partition_fields_to_json(const tw_iceberg_partition_spec *spec);

/* The summary string of the current snapshot for key, or NULL. */
const char *tw_iceberg_metadata_summary(const tw_iceberg_metadata *md, const char *key);

void tw_iceberg_metadata_free(tw_iceberg_metadata *md);

#endif

/* manifest.h - Iceberg v2 manifests and manifest lists as Avro files.
 *
 * Writes a manifest (the data or delete files a commit adds, with their
 * partition tuples and column metrics) and a manifest list (every manifest
 * of a snapshot) with the spec's exact Avro schemas, field ids and
 * key/value metadata; reads manifest lists back (any writer's) so a commit
 * can keep all existing manifests. Records are encoded with libavro; the
 * object container framing is written here because libavro's file writer
 * cannot add the key/value metadata Iceberg requires. Everything returned
 * is malloc'ed and owned by the caller.
 */
#ifndef TW_ICEBERG_MANIFEST_H
#define TW_ICEBERG_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "iceberg/iceberg.h"
#include "iceberg/metadata.h"

typedef struct tw_iceberg_bytes {
    bool present;
    uint8_t *data;
    size_t len;
} tw_iceberg_bytes;

typedef struct tw_iceberg_field_summary {
    bool contains_null;
    int contains_nan; /* -1: not recorded */
    tw_iceberg_bytes lower;
    tw_iceberg_bytes upper;
} tw_iceberg_field_summary;

/* One manifest_file record of a manifest list. */
typedef struct tw_iceberg_manifest_file {
    char *path;
    int64_t length;
    int32_t spec_id;
    int32_t content; /* 0 data, 1 deletes */
    int64_t sequence_number;
    int64_t min_sequence_number;
    int64_t added_snapshot_id;
    int32_t added_files, existing_files, deleted_files;
    int64_t added_rows, existing_rows, deleted_rows;
    bool has_partitions;
    uint32_t npartitions;
    tw_iceberg_field_summary *partitions;
    tw_iceberg_bytes key_metadata;
} tw_iceberg_manifest_file;

/* Encodes a manifest of files (all data, or all equality deletes) added by
 * snapshot_id, sequence numbers left to inheritance so the manifest can be
 * reused by commit retries. Fills *bytes and *len with the Avro file and mf
 * with its manifest-list record (path NULL, sequence numbers 0: the caller
 * sets them). Returns false with err set for a bad file description (a
 * partition tuple or bound of the wrong type). */
bool tw_iceberg_manifest_encode(const tw_iceberg_metadata *md, const tw_iceberg_data_file *files,
                                uint32_t n, int64_t snapshot_id, char **bytes, size_t *len,
                                tw_iceberg_manifest_file *mf, tw_err *err);

/* Encodes a manifest list holding manifests[0..n). */
bool tw_iceberg_manifest_list_encode(const tw_iceberg_manifest_file *manifests, uint32_t n,
                                     int64_t snapshot_id, int64_t parent_snapshot_id,
                                     int64_t sequence_number, char **bytes, size_t *len,
                                     tw_err *err);

/* Deep copy of src into dst. */
void tw_iceberg_manifest_file_copy(tw_iceberg_manifest_file *dst,
                                   const tw_iceberg_manifest_file *src);
void tw_iceberg_manifest_file_clear(tw_iceberg_manifest_file *mf);
void tw_iceberg_manifest_files_free(tw_iceberg_manifest_file *mfs, uint32_t n);

#endif

/* iceberg.h - an Iceberg v2 table as the sink sees it: open, place files, commit.
 *
 * A tw_iceberg_table is one writer's view of a table: its current metadata
 * (schema, partition spec, snapshots) loaded through a catalog and a
 * fileio. The sink writes Parquet data files (and equality delete files)
 * where tw_iceberg_table_data_location says, then hands their descriptions
 * to tw_iceberg_table_commit, which writes the manifests, the manifest list
 * and the new metadata JSON and swaps the catalog pointer, retrying on
 * conflict. The table owns its metadata and copies of the schema; it
 * borrows the catalog and the fileio, which must outlive it.
 * Spec: shared/specs/iceberg-table-spec.md.
 */
#ifndef TW_ICEBERG_ICEBERG_H
#define TW_ICEBERG_ICEBERG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "exec/expr.h"
#include "exec/types.h"
#include "iceberg/catalog.h"
#include "iceberg/fileio.h"

typedef struct tw_iceberg_field {
    int32_t id;       /* Iceberg field id, > 0 */
    const char *name;
    tw_type type;     /* BOOL, INT16/32/64, FLOAT32/64, VARCHAR, TIMESTAMP(TZ) */
    bool required;
} tw_iceberg_field;

typedef struct tw_iceberg_schema {
    const tw_iceberg_field *fields;
    uint32_t nfields;
    const int32_t *identifier_field_ids; /* the upsert key; may be empty */
    uint32_t nidentifier_field_ids;
} tw_iceberg_schema;

typedef enum tw_iceberg_content {
    TW_ICEBERG_DATA = 0,
    TW_ICEBERG_EQUALITY_DELETES = 2,
} tw_iceberg_content;

/* Metrics of one column of a file (Iceberg's per-field-id maps). */
typedef struct tw_iceberg_column_metrics {
    int32_t field_id;
    uint64_t column_size_bytes;
    uint64_t value_count; /* NULLs and NaNs included */
    uint64_t null_count;
    uint64_t nan_count;   /* written for float/double columns only */
    bool has_bounds;      /* false when every value is NULL or NaN */
    tw_value lower;       /* of the column's type; strings borrowed */
    tw_value upper;
} tw_iceberg_column_metrics;

/* One file to add. Everything is borrowed for the duration of the commit. */
typedef struct tw_iceberg_data_file {
    tw_iceberg_content content;
    const char *location; /* as returned by tw_iceberg_table_data_location */
    uint64_t record_count;
    uint64_t file_size_bytes;
    const tw_value *partition; /* one value per partition field (none when unpartitioned) */
    const tw_iceberg_column_metrics *columns;
    uint32_t ncolumns;
    const uint64_t *split_offsets; /* ascending row group offsets */
    uint32_t nsplit_offsets;
    const int32_t *equality_ids; /* delete files: the key field ids */
    uint32_t nequality_ids;
    int32_t sort_order_id; /* 0: unsorted */
} tw_iceberg_data_file;

typedef struct tw_iceberg_kv {
    const char *key;
    const char *value;
} tw_iceberg_kv;

typedef struct tw_iceberg_table tw_iceberg_table;

/* Opens ns.name: loads its current metadata through cat, or (when missing
 * and create_if_missing) creates it at WAREHOUSE/NS/NAME with a fresh
 * table-uuid, the given schema and the partition spec parsed from
 * partition_by (RisingWave's text, e.g. "region, day(ts), bucket(16, id)";
 * NULL or "" for none). An existing table must have every schema column
 * with the same type, no other required column, and an equivalent
 * partition spec; otherwise NULL with err naming what differs. cat and io
 * are borrowed. Returns NULL with err set on any failure. */
tw_iceberg_table *tw_iceberg_table_open(tw_catalog *cat, tw_fileio *io,
                                        const char *warehouse_location, const char *ns,
                                        const char *name, const tw_iceberg_schema *schema,
                                        const char *partition_by, bool create_if_missing,
                                        tw_err *err);

void tw_iceberg_table_free(tw_iceberg_table *t);

/* The table's current schema (ids as the table has them: use these field
 * ids when writing files). Valid until the next reload or commit. */
const tw_iceberg_schema *tw_iceberg_table_schema(const tw_iceberg_table *t);

/* The current schema as Iceberg schema JSON, for the Parquet
 * "iceberg.schema" key. Owned by the table; valid until the next reload. */
const char *tw_iceberg_table_schema_json(const tw_iceberg_table *t);

/* Number of partition fields of the default spec (0: unpartitioned). */
uint32_t tw_iceberg_table_partition_fields(const tw_iceberg_table *t);

/* Computes the partition tuple of a row given its values in schema order
 * (tw_iceberg_table_schema's fields). out has one slot per partition field;
 * string results point into row's strings. Returns false with err set when
 * a value has the wrong type. */
bool tw_iceberg_table_partition_of(const tw_iceberg_table *t, const tw_value *row,
                                   tw_value *out, tw_err *err);

/* A fresh location for a new data or delete file:
 * <table location>/data/<partition path>/<uuid>.parquet (the partition path
 * is omitted when unpartitioned). Malloc'ed; the caller frees it. */
char *tw_iceberg_table_data_location(const tw_iceberg_table *t, const tw_value *partition);

/* Commits files (data and/or equality deletes) as one new snapshot whose
 * summary also carries props (e.g. "tidewatch.positions"). Retries up to
 * 8 times with backoff when another writer committed first, reloading the
 * table and rebasing the snapshot on its latest state. On success the
 * table holds the new metadata. On failure nothing that a committed
 * snapshot might reference is deleted; err says whether the outcome is
 * unknown (the catalog may have applied the swap): then reload before
 * retrying. */
bool tw_iceberg_table_commit(tw_iceberg_table *t, const tw_iceberg_data_file *files, uint32_t n,
                             const tw_iceberg_kv *props, uint32_t nprops, tw_err *err);

/* Reloads the current metadata from the catalog. */
bool tw_iceberg_table_reload(tw_iceberg_table *t, tw_err *err);

/* The current snapshot's summary value for key, or NULL when there is no
 * snapshot or no such key. Owned by the table; valid until the next reload
 * or commit. */
/* The value of summary key `key` in the newest snapshot that has it,
 * walking back from the current snapshot through its ancestors (several
 * writers share a table: each finds its own last commit). NULL when none
 * has it. Owned by the table; valid until the next reload or commit. */
const char *tw_iceberg_table_find_property(const tw_iceberg_table *t, const char *key);

const char *tw_iceberg_table_snapshot_property(const tw_iceberg_table *t, const char *key);

/* The current snapshot id, or -1 when the table has no snapshot. */
int64_t tw_iceberg_table_current_snapshot_id(const tw_iceberg_table *t);

/* The table location and the current metadata file location (owned by the
 * table). */
const char *tw_iceberg_table_location(const tw_iceberg_table *t);
const char *tw_iceberg_table_metadata_location(const tw_iceberg_table *t);

#endif

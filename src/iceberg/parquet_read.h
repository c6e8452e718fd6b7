/* parquet_read.h - tidewatch's Parquet reader, for Iceberg data files.
 *
 * Reads flat Parquet files as tidewatch's writer (parquet.h) and other
 * Iceberg writers (DuckDB, pyiceberg, Spark with default settings) produce
 * them: the footer (decoded with thrift_read.h), row groups, column chunks,
 * data pages v1 and v2, dictionary pages, PLAIN and RLE_DICTIONARY /
 * PLAIN_DICTIONARY values, RLE / bit-packed definition levels, ZSTD, SNAPPY,
 * GZIP or no compression, and the column chunk statistics used to skip row
 * groups. Top-level primitive columns are exposed; a column whose physical
 * or logical type tidewatch cannot hold (nested groups, INT96, decimals,
 * fixed-length binary) is listed with type TW_T_NULL and cannot be read.
 * Reading fetches only the byte ranges of the column chunks asked for.
 * The reader owns a copy of the footer and, for files it opened, the file
 * descriptor; batches it returns are owned by the caller.
 * Spec: shared/specs/parquet.thrift, parquet-Encodings.md.
 */
#ifndef TW_ICEBERG_PARQUET_READ_H
#define TW_ICEBERG_PARQUET_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "exec/batch.h"
#include "exec/expr.h"

typedef struct tw_parquet_reader tw_parquet_reader;

typedef struct tw_parquet_read_column {
    const char *name; /* owned by the reader */
    tw_type type;     /* TW_T_NULL: not readable by tidewatch */
    int32_t field_id; /* Iceberg field id, or -1 when the file has none */
    bool required;
} tw_parquet_read_column;

/* Statistics of one column chunk. Strings point into the reader's footer. */
typedef struct tw_parquet_chunk_stats {
    uint64_t num_values;
    bool has_null_count;
    uint64_t null_count;
    bool has_bounds; /* min and max known (of the non-NULL values) */
    tw_value min, max;
} tw_parquet_chunk_stats;

/* Opens a Parquet file held in memory; data is borrowed and must outlive
 * the reader. Returns NULL with err set when the footer is missing or
 * malformed. */
tw_parquet_reader *tw_parquet_reader_open_memory(const void *data, size_t len, tw_err *err);

/* Opens a local file (a path or file:// URI) and reads its footer only.
 * Returns NULL with err naming the file on failure. */
tw_parquet_reader *tw_parquet_reader_open_file(const char *location, tw_err *err);

void tw_parquet_reader_free(tw_parquet_reader *r);

uint32_t tw_parquet_reader_ncols(const tw_parquet_reader *r);
const tw_parquet_read_column *tw_parquet_reader_column(const tw_parquet_reader *r, uint32_t col);
/* The column called name, or -1. */
int tw_parquet_reader_find(const tw_parquet_reader *r, const char *name);
/* The column with Iceberg field id id, or -1. */
int tw_parquet_reader_find_field_id(const tw_parquet_reader *r, int32_t id);

uint64_t tw_parquet_reader_num_rows(const tw_parquet_reader *r);
uint32_t tw_parquet_reader_num_row_groups(const tw_parquet_reader *r);
uint64_t tw_parquet_reader_row_group_rows(const tw_parquet_reader *r, uint32_t rg);

/* A key_value_metadata value (e.g. "iceberg.schema"), or NULL. Owned by the
 * reader. */
const char *tw_parquet_reader_metadata(const tw_parquet_reader *r, const char *key);

/* Fills *out with the statistics of column col in row group rg. Bounds are
 * reported only when the file's ordering for the type is one tidewatch
 * compares the same way (signed integers, floats, unsigned bytes). */
void tw_parquet_reader_chunk_stats(const tw_parquet_reader *r, uint32_t rg, uint32_t col,
                                   tw_parquet_chunk_stats *out);

/* Decodes columns cols[0..ncols) of row group rg into a new batch of
 * exactly the row group's rows (batch column i is file column cols[i], of
 * its reported type; strings live in the batch's arena). Returns NULL with
 * err set for an unreadable column, an unsupported encoding or codec, or
 * corrupt data. The caller frees the batch with tw_batch_free. */
tw_batch *tw_parquet_reader_read(tw_parquet_reader *r, uint32_t rg, const uint32_t *cols,
                                 uint32_t ncols, tw_err *err);

#endif

/* parquet.h - tidewatch's Parquet writer, for Iceberg data files.
 *
 * Writes flat (unnested) Parquet files from insert-only column batches:
 * data pages V1, PLAIN values or RLE_DICTIONARY indices with a PLAIN
 * dictionary page (strings), RLE/bit-packed definition levels for optional
 * columns, ZSTD / SNAPPY / GZIP / no compression, column chunk statistics,
 * Iceberg field ids on every schema element. A row group is buffered in
 * memory (encoded and compressed page by page) until its encoded size
 * reaches row_group_bytes, then handed to the output callback in one go;
 * the footer is written by tw_parquet_writer_close. The writer owns copies
 * of the column names, options and metadata; the caller owns the batches.
 * Spec: shared/specs/parquet.thrift, parquet-Encodings.md, iceberg-table-spec.md.
 */
#ifndef TW_ICEBERG_PARQUET_H
#define TW_ICEBERG_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "exec/batch.h"
#include "exec/expr.h"
#include "iceberg/thrift.h"

typedef struct tw_parquet_column {
    const char *name;
    tw_type type; /* any tw_type but NULL and INTERVAL */
    int32_t field_id;
    bool required; /* REQUIRED repetition: a NULL in a batch is an error */
} tw_parquet_column;

typedef enum tw_parquet_codec {
    TW_PARQUET_ZSTD = 0, /* the default (zero value) */
    TW_PARQUET_SNAPPY,
    TW_PARQUET_GZIP,
    TW_PARQUET_UNCOMPRESSED,
} tw_parquet_codec;

typedef struct tw_parquet_kv {
    const char *key;
    const char *value;
} tw_parquet_kv;

/* Options; a zeroed struct (or NULL) gives the defaults noted. */
typedef struct tw_parquet_opts {
    tw_parquet_codec codec;
    int zstd_level;              /* 0 -> 3 */
    size_t row_group_bytes;      /* 0 -> 128 MiB of encoded, compressed data */
    size_t page_bytes;           /* 0 -> 1 MiB of unencoded page data */
    bool no_dictionary;          /* true: strings are PLAIN from the start */
    size_t dictionary_max_bytes; /* 0 -> 1 MiB; a bigger dictionary falls back to PLAIN */
    uint32_t dictionary_max_entries; /* 0 -> 65536 distinct values, then PLAIN */
    const char *created_by;      /* NULL -> "tidewatch version X" */
    const tw_parquet_kv *metadata; /* key_value_metadata, e.g. iceberg.schema */
    size_t nmetadata;
} tw_parquet_opts;

/* Per-column figures for an Iceberg manifest entry. */
typedef struct tw_parquet_column_stats {
    int32_t field_id;
    uint64_t value_count; /* rows, NULLs included */
    uint64_t null_count;
    uint64_t nan_count;   /* FLOAT32 / FLOAT64 only */
    bool has_bounds;      /* false when every value is NULL (or NaN) */
    tw_value min;         /* NaN never; zero min is -0.0, zero max +0.0 */
    tw_value max;         /* strings: exact bytes, owned by the stats */
    uint64_t compressed_bytes; /* column chunks incl. page headers */
} tw_parquet_column_stats;

typedef struct tw_parquet_file_stats {
    uint64_t file_size_bytes;
    uint64_t record_count;
    uint32_t ncols;
    tw_parquet_column_stats *cols; /* ncols entries, schema order */
    uint32_t nsplits;
    uint64_t *split_offsets; /* start offset of each row group, ascending */
} tw_parquet_file_stats;

typedef int (*tw_parquet_write_fn)(void *ctx, const void *data, size_t len);

typedef struct tw_parquet_writer tw_parquet_writer;

/* Creates a writer for the given columns. Nothing is written yet. The write
 * callback returns 0 on success, nonzero on failure (the writer then fails
 * every later call). Returns NULL with err set for an unsupported column
 * type (INTERVAL), an empty schema or bad options. */
tw_parquet_writer *tw_parquet_writer_new(const tw_parquet_column *columns, uint32_t ncols,
                                         const tw_parquet_opts *opts, tw_parquet_write_fn write,
                                         void *ctx, tw_err *err);

/* Appends the rows of batch (columns in schema order with the schema's
 * types; ops NULL or all inserts). May write a finished row group through
 * the callback. Returns false with err set on a NULL in a required column,
 * a retraction row, a type mismatch or a write failure. */
bool tw_parquet_writer_add_batch(tw_parquet_writer *w, const tw_batch *batch, tw_err *err);

/* Bytes written so far plus bytes buffered for the open row group (encoded
 * and compressed), for rolling files at a target size. */
uint64_t tw_parquet_writer_bytes(const tw_parquet_writer *w);

/* Flushes the open row group and writes the footer. On success fills *out
 * (if not NULL; release with tw_parquet_file_stats_free). The writer must
 * still be freed. Returns false with err set on a write failure. */
bool tw_parquet_writer_close(tw_parquet_writer *w, tw_parquet_file_stats *out, tw_err *err);

void tw_parquet_writer_free(tw_parquet_writer *w);
void tw_parquet_file_stats_free(tw_parquet_file_stats *stats);

/* RLE / bit-packed hybrid encoding (parquet-Encodings.md) of n values of
 * bit_width bits (0..32), appended to out without a length prefix. Exposed
 * for tests. */
void tw_parquet_rle_encode(const uint32_t *values, size_t n, int bit_width, tw_thrift_buf *out);

#endif

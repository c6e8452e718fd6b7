/* thrift_read.h - Thrift compact protocol decoder over a byte range.
 *
 * The Parquet reader (parquet_read.c) decodes page headers and the footer
 * (FileMetaData) with it, field by field against shared/specs/parquet.thrift:
 * the caller loops over a struct's fields, reads those it knows and skips
 * the rest. The decoder never allocates: binary values point into the
 * input, which the caller keeps alive. Any malformed or truncated input
 * sets `failed` and every later read returns zero / false, so callers check
 * once at the end of a struct.
 */
#ifndef TW_ICEBERG_THRIFT_READ_H
#define TW_ICEBERG_THRIFT_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iceberg/thrift.h"

typedef struct tw_thrift_r {
    const uint8_t *p, *end;
    bool failed;
    int depth; /* nesting of skipped containers, bounded by TW_THRIFT_MAX_DEPTH */
} tw_thrift_r;

/* Starts decoding len bytes at data (borrowed). */
void tw_thrift_r_init(tw_thrift_r *r, const void *data, size_t len);

/* Bytes consumed since data. */
static inline size_t tw_thrift_r_offset(const tw_thrift_r *r, const void *data)
{
    return (size_t)(r->p - (const uint8_t *)data);
}

/* Reads the next field header of the struct being decoded; *last_id is the
 * struct's previous field id (start at 0) and is advanced. Returns false at
 * the struct's STOP byte or on malformed input (then r->failed). For a bool
 * field the value is in *type (TW_THRIFT_BOOL_TRUE / _FALSE). */
bool tw_thrift_r_field(tw_thrift_r *r, int16_t *last_id, int16_t *id, uint8_t *type);

/* An i8/i16/i32/i64 value (zigzag varint; i8 is a raw byte). */
int64_t tw_thrift_r_int(tw_thrift_r *r, uint8_t type);
/* A bool list element (one byte). */
bool tw_thrift_r_bool_elem(tw_thrift_r *r);
double tw_thrift_r_double(tw_thrift_r *r);
/* A binary / string value, pointing into the input. False on truncation. */
bool tw_thrift_r_binary(tw_thrift_r *r, const uint8_t **data, uint32_t *len);
/* A list or set header. */
bool tw_thrift_r_list(tw_thrift_r *r, uint8_t *elem_type, uint32_t *n);
/* Skips one value of the given type (structs and containers recursively). */
void tw_thrift_r_skip(tw_thrift_r *r, uint8_t type);
/* Unsigned LEB128 varint (also the length prefix of RLE runs). */
uint64_t tw_thrift_r_uvarint(tw_thrift_r *r);

#endif

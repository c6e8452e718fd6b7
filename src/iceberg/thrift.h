/* thrift.h - Thrift compact protocol encoder and a growable byte buffer.
 *
 * Parquet stores its page headers and footer (FileMetaData) as Thrift
 * structs in the compact protocol; this module writes that encoding and
 * nothing more (no reader, no IDL: the caller emits fields in increasing id
 * order by hand, as parquet.c does against shared/specs/parquet.thrift).
 * A tw_thrift_buf owns its bytes; a tw_thrift_w owns its buffer and tracks
 * the last field id of each open struct so field headers can carry deltas.
 * Allocation never fails (tw_xrealloc aborts on out-of-memory).
 */
#ifndef TW_ICEBERG_THRIFT_H
#define TW_ICEBERG_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tw_thrift_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} tw_thrift_buf;

/* Makes room for `extra` more bytes and returns a pointer to the end of the
 * data (the caller advances len after writing). */
uint8_t *tw_thrift_buf_reserve(tw_thrift_buf *buf, size_t extra);
void tw_thrift_buf_append(tw_thrift_buf *buf, const void *data, size_t len);
static inline void tw_thrift_buf_byte(tw_thrift_buf *buf, uint8_t byte)
{
    *tw_thrift_buf_reserve(buf, 1) = byte;
    buf->len++;
}
/* Releases the bytes; the buffer is empty and reusable afterwards. */
void tw_thrift_buf_free(tw_thrift_buf *buf);

/* Compact protocol element types (the 4-bit codes of field and list headers). */
typedef enum tw_thrift_type {
    TW_THRIFT_BOOL_TRUE = 1,
    TW_THRIFT_BOOL_FALSE = 2,
    TW_THRIFT_I8 = 3,
    TW_THRIFT_I16 = 4,
    TW_THRIFT_I32 = 5,
    TW_THRIFT_I64 = 6,
    TW_THRIFT_DOUBLE = 7,
    TW_THRIFT_BINARY = 8,
    TW_THRIFT_LIST = 9,
    TW_THRIFT_STRUCT = 12,
} tw_thrift_type;

#define TW_THRIFT_MAX_DEPTH 16

typedef struct tw_thrift_w {
    tw_thrift_buf out;
    int16_t last_id[TW_THRIFT_MAX_DEPTH]; /* last field id per open struct */
    int depth;                            /* open structs; 0 = top level */
} tw_thrift_w;

/* Starts an empty writer at top level (inside the outermost struct, whose
 * own begin is implicit: finish it with tw_thrift_stop). */
void tw_thrift_init(tw_thrift_w *w);
void tw_thrift_free(tw_thrift_w *w);

/* Unsigned LEB128 varint and zigzag helpers (exposed for tests and for
 * the RLE encoder in parquet.c, which uses the same varint). */
void tw_thrift_put_uvarint(tw_thrift_buf *buf, uint64_t v);
static inline uint64_t tw_thrift_zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

/* Field writers. Ids must increase within a struct (asserted). */
void tw_thrift_field_bool(tw_thrift_w *w, int16_t id, bool v);
void tw_thrift_field_i8(tw_thrift_w *w, int16_t id, int8_t v);
void tw_thrift_field_i16(tw_thrift_w *w, int16_t id, int16_t v);
void tw_thrift_field_i32(tw_thrift_w *w, int16_t id, int32_t v);
void tw_thrift_field_i64(tw_thrift_w *w, int16_t id, int64_t v);
void tw_thrift_field_binary(tw_thrift_w *w, int16_t id, const void *data, size_t len);
void tw_thrift_field_string(tw_thrift_w *w, int16_t id, const char *s);

/* Opens a struct-valued field (or a union: a struct with one field set);
 * close it with tw_thrift_stop. */
void tw_thrift_field_struct(tw_thrift_w *w, int16_t id);
/* Writes a list-valued field header for n elements of elem_type; then write
 * the elements with tw_thrift_elem_* (or tw_thrift_elem_struct + fields +
 * tw_thrift_stop for lists of structs). */
void tw_thrift_field_list(tw_thrift_w *w, int16_t id, tw_thrift_type elem_type, uint32_t n);
void tw_thrift_elem_i32(tw_thrift_w *w, int32_t v);
void tw_thrift_elem_i64(tw_thrift_w *w, int64_t v);
void tw_thrift_elem_binary(tw_thrift_w *w, const void *data, size_t len);
void tw_thrift_elem_struct(tw_thrift_w *w);

/* Ends the innermost open struct (writes the STOP byte). At depth 0 it
 * ends the outermost struct. */
void tw_thrift_stop(tw_thrift_w *w);

#endif

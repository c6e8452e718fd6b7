/* thrift.c - Thrift compact protocol encoder (see thrift.h). */
#include "iceberg/thrift.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"

uint8_t *tw_thrift_buf_reserve(tw_thrift_buf *buf, size_t extra)
{
    if (buf->cap - buf->len < extra) {
        size_t cap = buf->cap ? buf->cap : 256;
        while (cap - buf->len < extra)
            cap *= 2;
        buf->data = tw_xrealloc(buf->data, cap);
        buf->cap = cap;
    }
    return buf->data + buf->len;
}

void tw_thrift_buf_append(tw_thrift_buf *buf, const void *data, size_t len)
{
    if (len == 0)
        return;
    memcpy(tw_thrift_buf_reserve(buf, len), data, len);
    buf->len += len;
}

void tw_thrift_buf_free(tw_thrift_buf *buf)
{
    free(buf->data);
    *buf = (tw_thrift_buf){0};
}

void tw_thrift_init(tw_thrift_w *w)
{
    *w = (tw_thrift_w){0};
}

void tw_thrift_free(tw_thrift_w *w)
{
    tw_thrift_buf_free(&w->out);
}

void tw_thrift_put_uvarint(tw_thrift_buf *buf, uint64_t v)
{
    uint8_t *p = tw_thrift_buf_reserve(buf, 10);
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    buf->len += n;
}

/* A field header carries the id as a 4-bit delta from the previous field of
 * the same struct when it fits (1..15), otherwise the type alone followed by
 * the id as a zigzag varint. */
static void field_header(tw_thrift_w *w, int16_t id, tw_thrift_type type)
{
    int16_t *last = &w->last_id[w->depth];
    assert(id > *last);
    int delta = id - *last;
    if (delta <= 15) {
        tw_thrift_buf_byte(&w->out, (uint8_t)(delta << 4 | type));
    } else {
        tw_thrift_buf_byte(&w->out, (uint8_t)type);
        tw_thrift_put_uvarint(&w->out, tw_thrift_zigzag64(id));
    }
    *last = id;
}

void tw_thrift_field_bool(tw_thrift_w *w, int16_t id, bool v)
{
    field_header(w, id, v ? TW_THRIFT_BOOL_TRUE : TW_THRIFT_BOOL_FALSE);
}

void tw_thrift_field_i8(tw_thrift_w *w, int16_t id, int8_t v)
{
    field_header(w, id, TW_THRIFT_I8);
    tw_thrift_buf_byte(&w->out, (uint8_t)v);
}

void tw_thrift_field_i16(tw_thrift_w *w, int16_t id, int16_t v)
{
    field_header(w, id, TW_THRIFT_I16);
    tw_thrift_put_uvarint(&w->out, tw_thrift_zigzag64(v));
}

void tw_thrift_field_i32(tw_thrift_w *w, int16_t id, int32_t v)
{
    field_header(w, id, TW_THRIFT_I32);
    tw_thrift_put_uvarint(&w->out, tw_thrift_zigzag64(v));
}

void tw_thrift_field_i64(tw_thrift_w *w, int16_t id, int64_t v)
{
    field_header(w, id, TW_THRIFT_I64);
    tw_thrift_put_uvarint(&w->out, tw_thrift_zigzag64(v));
}

void tw_thrift_field_binary(tw_thrift_w *w, int16_t id, const void *data, size_t len)
{
    field_header(w, id, TW_THRIFT_BINARY);
    tw_thrift_elem_binary(w, data, len);
}

void tw_thrift_field_string(tw_thrift_w *w, int16_t id, const char *s)
{
    tw_thrift_field_binary(w, id, s, strlen(s));
}

static void push(tw_thrift_w *w)
{
    assert(w->depth + 1 < TW_THRIFT_MAX_DEPTH);
    w->last_id[++w->depth] = 0;
}

void tw_thrift_field_struct(tw_thrift_w *w, int16_t id)
{
    field_header(w, id, TW_THRIFT_STRUCT);
    push(w);
}

void tw_thrift_field_list(tw_thrift_w *w, int16_t id, tw_thrift_type elem_type, uint32_t n)
{
    field_header(w, id, TW_THRIFT_LIST);
    if (n < 15) {
        tw_thrift_buf_byte(&w->out, (uint8_t)(n << 4 | elem_type));
    } else {
        tw_thrift_buf_byte(&w->out, (uint8_t)(0xF0 | elem_type));
        tw_thrift_put_uvarint(&w->out, n);
    }
}

void tw_thrift_elem_i32(tw_thrift_w *w, int32_t v)
{
    tw_thrift_put_uvarint(&w->out, tw_thrift_zigzag64(v));
}

void tw_thrift_elem_i64(tw_thrift_w *w, int64_t v)
{
    tw_thrift_put_uvarint(&w->out, tw_thrift_zigzag64(v));
}

void tw_thrift_elem_binary(tw_thrift_w *w, const void *data, size_t len)
{
    tw_thrift_put_uvarint(&w->out, len);
    tw_thrift_buf_append(&w->out, data, len);
}

void tw_thrift_elem_struct(tw_thrift_w *w)
{
    push(w);
}

void tw_thrift_stop(tw_thrift_w *w)
{
    tw_thrift_buf_byte(&w->out, 0);
    if (w->depth > 0)
        w->depth--;
}

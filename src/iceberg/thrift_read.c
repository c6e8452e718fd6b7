/* thrift_read.c - Thrift compact protocol decoder (see thrift_read.h). */
#include "iceberg/thrift_read.h"

#include <string.h>

void tw_thrift_r_init(tw_thrift_r *r, const void *data, size_t len)
{
    r->p = data;
    r->end = r->p + len;
    r->failed = false;
    r->depth = 0;
}

static bool fail(tw_thrift_r *r)
{
    r->failed = true;
    r->p = r->end;
    return false;
}

uint64_t tw_thrift_r_uvarint(tw_thrift_r *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            fail(r);
            return 0;
        }
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    fail(r);
    return 0;
}

static int64_t zigzag_decode(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

int64_t tw_thrift_r_int(tw_thrift_r *r, uint8_t type)
{
    if (type == TW_THRIFT_I8) {
        if (r->p >= r->end) {
            fail(r);
            return 0;
        }
        return (int8_t)*r->p++;
    }
    if (type != TW_THRIFT_I16 && type != TW_THRIFT_I32 && type != TW_THRIFT_I64) {
        tw_thrift_r_skip(r, type);
        fail(r);
        return 0;
    }
    return zigzag_decode(tw_thrift_r_uvarint(r));
}

bool tw_thrift_r_bool_elem(tw_thrift_r *r)
{
    if (r->p >= r->end)
        return fail(r);
    return *r->p++ == TW_THRIFT_BOOL_TRUE;
}

double tw_thrift_r_double(tw_thrift_r *r)
{
    double d = 0;
    if (r->end - r->p < 8) {
        fail(r);
        return 0;
    }
    memcpy(&d, r->p, 8); /* little-endian on every platform tidewatch targets */
    r->p += 8;
    return d;
}

bool tw_thrift_r_binary(tw_thrift_r *r, const uint8_t **data, uint32_t *len)
{
    uint64_t n = tw_thrift_r_uvarint(r);
    if (r->failed || n > (uint64_t)(r->end - r->p) || n > UINT32_MAX) {
        *data = NULL;
        *len = 0;
        return fail(r);
    }
    *data = r->p;
    *len = (uint32_t)n;
    r->p += n;
    return true;
}

bool tw_thrift_r_list(tw_thrift_r *r, uint8_t *elem_type, uint32_t *n)
{
    *n = 0;
    *elem_type = 0;
    if (r->p >= r->end)
        return fail(r);
    uint8_t h = *r->p++;
    *elem_type = h & 0x0f;
    uint64_t size = h >> 4;
    if (size == 15)
        size = tw_thrift_r_uvarint(r);
    /* Every element takes at least one byte: a larger count is corrupt. */
    if (r->failed || size > (uint64_t)(r->end - r->p) + 1)
        return fail(r);
    *n = (uint32_t)size;
    return true;
}

bool tw_thrift_r_field(tw_thrift_r *r, int16_t *last_id, int16_t *id, uint8_t *type)
{
    if (r->failed || r->p >= r->end)
        return fail(r);
    uint8_t h = *r->p++;
    if (h == 0)
        return false; /* STOP */
    *type = h & 0x0f;
    uint8_t delta = h >> 4;
    if (delta)
        *id = (int16_t)(*last_id + delta);
    else
        *id = (int16_t)zigzag_decode(tw_thrift_r_uvarint(r));
    *last_id = *id;
    return !r->failed;
}

void tw_thrift_r_skip(tw_thrift_r *r, uint8_t type)
{
    if (r->failed)
        return;
    if (++r->depth > TW_THRIFT_MAX_DEPTH) {
        fail(r);
        return;
    }
    switch (type) {
    case TW_THRIFT_BOOL_TRUE:
    case TW_THRIFT_BOOL_FALSE:
        break; /* a field's bool lives in its header */
    case TW_THRIFT_I8:
        if (r->p >= r->end)
            fail(r);
        else
            r->p++;
        break;
    case TW_THRIFT_I16:
    case TW_THRIFT_I32:
    case TW_THRIFT_I64:
        tw_thrift_r_uvarint(r);
        break;
    case TW_THRIFT_DOUBLE:
        tw_thrift_r_double(r);
        break;
    case TW_THRIFT_BINARY: {
        const uint8_t *d;
        uint32_t n;
        tw_thrift_r_binary(r, &d, &n);
        break;
    }
    case TW_THRIFT_LIST:
    case 10: { /* set */
        uint8_t et;
        uint32_t n;
        if (!tw_thrift_r_list(r, &et, &n))
            break;
        for (uint32_t i = 0; i < n && !r->failed; i++) {
            if (et == TW_THRIFT_BOOL_TRUE || et == TW_THRIFT_BOOL_FALSE)
                tw_thrift_r_bool_elem(r);
            else
                tw_thrift_r_skip(r, et);
        }
        break;
    }
    case 11: { /* map */
        uint64_t n = tw_thrift_r_uvarint(r);
        if (r->failed || n == 0)
            break;
        if (r->p >= r->end || n > (uint64_t)(r->end - r->p)) {
            fail(r);
            break;
        }
        uint8_t kv = *r->p++;
        for (uint64_t i = 0; i < n && !r->failed; i++) {
            uint8_t kt = kv >> 4, vt = kv & 0x0f;
            if (kt == TW_THRIFT_BOOL_TRUE || kt == TW_THRIFT_BOOL_FALSE)
                tw_thrift_r_bool_elem(r);
            else
                tw_thrift_r_skip(r, kt);
            if (vt == TW_THRIFT_BOOL_TRUE || vt == TW_THRIFT_BOOL_FALSE)
                tw_thrift_r_bool_elem(r);
            else
                tw_thrift_r_skip(r, vt);
        }
        break;
    }
    case TW_THRIFT_STRUCT: {
        int16_t last = 0, id;
        uint8_t ft;
        while (tw_thrift_r_field(r, &last, &id, &ft))
            tw_thrift_r_skip(r, ft);
        break;
    }
    default:
        fail(r);
        break;
    }
    r->depth--;
}

/* parquet.c - Parquet writer (see parquet.h).
 *
 * Each column keeps, for the open row group, its finished pages (header +
 * compressed body) in memory, the open page's levels and values, and, for
 * strings, a dictionary. A page closes when its encoded size reaches
 * page_bytes; the row group closes after the batch that brings its buffered
 * size to row_group_bytes, and is then written column after column: the
 * dictionary page first (it must precede the data pages of its chunk), then
 * the data pages. Only offsets and statistics of written chunks are kept
 * for the footer.
 */
#include "iceberg/parquet.h"

#include <assert.h>
#include <math.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "common/arena.h"
#include "common/hash.h"

/* Enum values from parquet.thrift. */
enum { PQ_BOOLEAN = 0, PQ_INT32 = 1, PQ_INT64 = 2, PQ_FLOAT = 4, PQ_DOUBLE = 5, PQ_BYTE_ARRAY = 6 };
enum { PQ_CT_UTF8 = 0, PQ_CT_TIMESTAMP_MICROS = 10, PQ_CT_INT_16 = 16, PQ_CT_INT_32 = 17 };
enum { PQ_REQUIRED = 0, PQ_OPTIONAL = 1 };
enum { PQ_ENC_PLAIN = 0, PQ_ENC_RLE = 3, PQ_ENC_RLE_DICTIONARY = 8 };
enum { PQ_CODEC_UNCOMPRESSED = 0, PQ_CODEC_SNAPPY = 1, PQ_CODEC_GZIP = 2, PQ_CODEC_ZSTD = 6 };
enum { PQ_PAGE_DATA = 0, PQ_PAGE_DICTIONARY = 2 };

#define MiB ((size_t)1 << 20)
/* Bounds the levels buffered for one page whatever the value width. */
#define MAX_PAGE_ROWS ((uint32_t)1 << 20)

/* Min / max of the non-NULL, non-NaN values seen, by the column's order:
 * signed for integers and timestamps, false < true for booleans, numeric
 * for floats, unsigned bytewise for strings. */
typedef struct bounds {
    bool has;
    int64_t imin, imax;
    double fmin, fmax;
    tw_thrift_buf smin, smax;
} bounds;

typedef struct chunk_meta {
    uint32_t encodings; /* bit (1 << encoding) per encoding used */
    int64_t num_values;
    int64_t uncompressed_bytes;
    int64_t compressed_bytes;
    int64_t data_page_offset; /* relative to the chunk's first data page until written */
    int64_t dict_page_offset; /* -1: no dictionary page */
    uint64_t null_count;
    uint64_t nan_count;
    bounds bounds;
} chunk_meta;

typedef struct row_group_meta {
    int64_t num_rows;
    int64_t file_offset;
    int64_t uncompressed_bytes;
    int64_t compressed_bytes;
    chunk_meta *chunks; /* ncols */
} row_group_meta;

typedef struct col_writer {
    char *name;
    tw_type type;
    int32_t field_id;
    bool required;
    int phys; /* parquet physical type */

    /* open row group */
    tw_thrift_buf pages; /* finished data pages */
    chunk_meta chunk;

    /* open page */
    tw_thrift_buf values; /* PLAIN values (booleans: one byte each until packed) */
    uint8_t *levels;      /* definition levels (optional columns) */
    uint32_t *indices;    /* dictionary indices */
    uint32_t page_rows;
    uint32_t page_values; /* non-NULL values */

    /* dictionary of the open chunk (strings only) */
    bool dict_active;           /* new values go to the dictionary */
    tw_thrift_buf dict_plain;   /* PLAIN-encoded entries: the dictionary page body */
    uint32_t dict_count;
    int dict_bits;              /* index bit width for dict_count entries */
    uint32_t *dict_slots;       /* open addressing: entry + 1, 0 = empty */
    uint32_t dict_slot_mask;
    uint32_t *dict_offsets;     /* entry -> offset of its length prefix in dict_plain */
    uint32_t *dict_hashes;
    uint32_t dict_entries_cap;

    /* whole file */
    uint64_t value_count;
    uint64_t null_count;
    uint64_t nan_count;
    uint64_t compressed_bytes;
    bounds file_bounds;
} col_writer;

struct tw_parquet_writer {
    col_writer *cols;
    uint32_t ncols;
    tw_parquet_opts opts;      /* strings and metadata below are owned copies */
    char *created_by;
    tw_parquet_kv *metadata;
    tw_parquet_write_fn write;
    void *write_ctx;

    uint64_t offset; /* bytes handed to write */
    bool failed;     /* a write failed: the file is unusable */
    int64_t rg_rows;
    row_group_meta *row_groups;
    uint32_t nrow_groups;
    uint32_t row_groups_cap;
    uint64_t total_rows;

    tw_thrift_buf body;  /* scratch: an uncompressed page body */
    tw_thrift_buf zbody; /* scratch: a compressed page body */
    tw_thrift_w header;  /* scratch: a page header */
    ZSTD_CCtx *zstd;
    z_stream gz;
    bool gz_ready;
};

/* ---- RLE / bit-packed hybrid ---- */

static inline uint32_t value_at(const void *values, size_t elem_bytes, size_t i)
{
    return elem_bytes == 1 ? ((const uint8_t *)values)[i] : ((const uint32_t *)values)[i];
}

static void bitpack_run(const void *values, size_t elem_bytes, size_t start, size_t end,
                        int bit_width, tw_thrift_buf *out)
{
    size_t groups = (end - start + 7) / 8;
    tw_thrift_put_uvarint(out, (uint64_t)groups << 1 | 1);
    uint8_t *p = tw_thrift_buf_reserve(out, groups * (size_t)bit_width);
    uint64_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = start; i < start + groups * 8; i++) {
        uint64_t v = i < end ? value_at(values, elem_bytes, i) : 0;
        acc |= v << bits;
        bits += bit_width;
        while (bits >= 8) {
            p[n++] = (uint8_t)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
    assert(bits == 0 && n == groups * (size_t)bit_width);
    out->len += n;
}

static void rle_run(uint32_t value, size_t count, int bit_width, tw_thrift_buf *out)
{
    tw_thrift_put_uvarint(out, (uint64_t)count << 1);
    for (int b = 0; b < (bit_width + 7) / 8; b++)
        tw_thrift_buf_byte(out, (uint8_t)(value >> (8 * b)));
}

/* Runs of 8 or more equal values become RLE runs; everything else is
 * bit-packed in groups of 8. A run that follows literals first lends values
 * to round the literals up to a whole group, so no padding appears in the
 * middle of the data. */
static void rle_encode(const void *values, size_t elem_bytes, size_t n, int bit_width,
                       tw_thrift_buf *out)
{
    assert(bit_width >= 0 && bit_width <= 32);
    size_t lit_start = 0;
    size_t i = 0;
    while (i < n) {
        uint32_t v = value_at(values, elem_bytes, i);
        size_t run = 1;
        while (i + run < n && value_at(values, elem_bytes, i + run) == v)
            run++;
        if (run < 8) {
            i += run;
            continue;
        }
        size_t pending = i - lit_start;
        size_t lend = (8 - pending % 8) % 8;
        if (pending > 0 && run - lend < 8) {
            i += run;
            continue;
        }
        if (pending > 0) {
            i += lend;
            run -= lend;
            bitpack_run(values, elem_bytes, lit_start, i, bit_width, out);
        }
        rle_run(v, run, bit_width, out);
        i += run;
        lit_start = i;
    }
    if (lit_start < n)
        bitpack_run(values, elem_bytes, lit_start, n, bit_width, out);
}

void tw_parquet_rle_encode(const uint32_t *values, size_t n, int bit_width, tw_thrift_buf *out)
{
    rle_encode(values, sizeof *values, n, bit_width, out);
}

static int bits_for(uint32_t max_value)
{
    int bits = 0;
    while (bits < 32 && (max_value >> bits) != 0)
        bits++;
    return bits;
}

/* ---- statistics ---- */

static void bounds_free(bounds *b)
{
    tw_thrift_buf_free(&b->smin);
    tw_thrift_buf_free(&b->smax);
    b->has = false;
}

static void bounds_reset(bounds *b)
{
    b->has = false;
    b->smin.len = 0;
    b->smax.len = 0;
}

static inline void bounds_int(bounds *b, int64_t v)
{
    if (!b->has) {
        b->has = true;
        b->imin = b->imax = v;
        return;
    }
    if (v < b->imin)
        b->imin = v;
    if (v > b->imax)
        b->imax = v;
}

/* NaN never enters the bounds (the caller counts it). Zeros compare equal
 * here; the sign is fixed when the bounds are written out. */
static inline void bounds_float(bounds *b, double v)
{
    if (!b->has) {
        b->has = true;
        b->fmin = b->fmax = v;
        return;
    }
    if (v < b->fmin)
        b->fmin = v;
    if (v > b->fmax)
        b->fmax = v;
}

static int bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static void buf_set(tw_thrift_buf *buf, const void *data, size_t len)
{
    buf->len = 0;
    tw_thrift_buf_reserve(buf, len ? len : 1);
    tw_thrift_buf_append(buf, data, len);
}

static void bounds_bytes(bounds *b, const void *data, size_t len)
{
    if (!b->has) {
        b->has = true;
        buf_set(&b->smin, data, len);
        buf_set(&b->smax, data, len);
        return;
    }
    if (bytes_cmp(data, len, b->smin.data, b->smin.len) < 0)
        buf_set(&b->smin, data, len);
    if (bytes_cmp(data, len, b->smax.data, b->smax.len) > 0)
        buf_set(&b->smax, data, len);
}

static void bounds_merge(bounds *into, const bounds *from, tw_phys phys)
{
    if (!from->has)
        return;
    switch (phys) {
    case TW_PHYS_BOOL:
    case TW_PHYS_I64:
        bounds_int(into, from->imin);
        bounds_int(into, from->imax);
        break;
    case TW_PHYS_F64:
        bounds_float(into, from->fmin);
        bounds_float(into, from->fmax);
        break;
    case TW_PHYS_STR:
        bounds_bytes(into, from->smin.data, from->smin.len);
        bounds_bytes(into, from->smax.data, from->smax.len);
        break;
    }
}

/* The spec's rule for TYPE_ORDER floats: a zero min is written as -0.0 and
 * a zero max as +0.0, so readers never exclude a zero of the other sign. */
static double float_min_out(double v)
{
    return v == 0 ? -0.0 : v;
}

static double float_max_out(double v)
{
    return v == 0 ? 0.0 : v;
}

/* PLAIN encoding of one bound value (no length prefix for strings). */
static size_t plain_bound(const col_writer *c, const bounds *b, bool is_max, uint8_t out[8],
                          const void **data)
{
    *data = out;
    switch (c->phys) {
    case PQ_BOOLEAN:
        out[0] = (uint8_t)(is_max ? b->imax : b->imin);
        return 1;
    case PQ_INT32: {
        int32_t v = (int32_t)(is_max ? b->imax : b->imin);
        memcpy(out, &v, 4);
        return 4;
    }
    case PQ_INT64: {
        int64_t v = is_max ? b->imax : b->imin;
        memcpy(out, &v, 8);
        return 8;
    }
    case PQ_FLOAT: {
        float v = (float)(is_max ? float_max_out(b->fmax) : float_min_out(b->fmin));
        memcpy(out, &v, 4);
        return 4;
    }
    case PQ_DOUBLE: {
        double v = is_max ? float_max_out(b->fmax) : float_min_out(b->fmin);
        memcpy(out, &v, 8);
        return 8;
    }
    default:
        *data = is_max ? b->smax.data : b->smin.data;
        return is_max ? b->smax.len : b->smin.len;
    }
}

/* ---- output ---- */

static bool emit(tw_parquet_writer *w, const void *data, size_t len, tw_err *err)
{
    if (w->failed)
        return tw_err_set(err, TW_ERR_IO, "parquet: an earlier write failed; the file is unusable");
    if (len == 0)
        return true;
    if (w->write(w->write_ctx, data, len) != 0) {
        w->failed = true;
        return tw_err_set(err, TW_ERR_IO, "parquet: writing %zu bytes at offset %llu failed", len,
                          (unsigned long long)w->offset);
    }
    w->offset += len;
    return true;
}

/* Compresses src into w->zbody, or returns src itself when uncompressed. */
static bool compress_page(tw_parquet_writer *w, const uint8_t *src, size_t len, const uint8_t **out,
                     size_t *out_len, tw_err *err)
{
    tw_thrift_buf *z = &w->zbody;
    z->len = 0;
    switch (w->opts.codec) {
    case TW_PARQUET_UNCOMPRESSED:
        *out = src;
        *out_len = len;
        return true;
    case TW_PARQUET_ZSTD: {
        size_t cap = ZSTD_compressBound(len);
        tw_thrift_buf_reserve(z, cap);
        size_t n = ZSTD_compressCCtx(w->zstd, z->data, cap, src, len, w->opts.zstd_level);
        if (ZSTD_isError(n))
            return tw_err_set(err, TW_ERR_INTERNAL, "parquet: zstd: %s", ZSTD_getErrorName(n));
        z->len = n;
        break;
    }
    case TW_PARQUET_SNAPPY: {
        size_t n = snappy_max_compressed_length(len);
        tw_thrift_buf_reserve(z, n);
        if (snappy_compress((const char *)src, len, (char *)z->data, &n) != SNAPPY_OK)
            return tw_err_set(err, TW_ERR_INTERNAL, "parquet: snappy compression failed");
        z->len = n;
        break;
    }
    case TW_PARQUET_GZIP: {
        if (!w->gz_ready) {
            if (deflateInit2(&w->gz, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                             Z_DEFAULT_STRATEGY) != Z_OK)
                return tw_err_set(err, TW_ERR_NOMEM, "parquet: gzip initialisation failed");
            w->gz_ready = true;
        } else {
            deflateReset(&w->gz);
        }
        size_t cap = deflateBound(&w->gz, len);
        tw_thrift_buf_reserve(z, cap);
        w->gz.next_in = (Bytef *)src;
        w->gz.avail_in = (uInt)len;
        w->gz.next_out = z->data;
        w->gz.avail_out = (uInt)cap;
        if (deflate(&w->gz, Z_FINISH) != Z_STREAM_END)
            return tw_err_set(err, TW_ERR_INTERNAL, "parquet: gzip compression failed");
        z->len = cap - w->gz.avail_out;
        break;
    }
    }
    *out = z->data;
    *out_len = z->len;
    return true;
}

/* Appends header + compressed body of one page to dst and accounts it in
 * the chunk. dictionary: a dictionary page of nvalues entries; otherwise a
 * data page of nvalues levels in `encoding`. */
static bool append_page(tw_parquet_writer *w, col_writer *c, tw_thrift_buf *dst, bool dictionary,
                        int32_t nvalues, int encoding, tw_err *err)
{
    const uint8_t *zdata = NULL;
    size_t zlen = 0;
    if (!compress_page(w, w->body.data, w->body.len, &zdata, &zlen, err))
        return false;
    if (w->body.len > INT32_MAX || zlen > INT32_MAX)
        return tw_err_set(err, TW_ERR_UNSUPPORTED, "parquet: column '%s': a page exceeds 2 GiB",
                          c->name);
    tw_thrift_w *h = &w->header;
    h->out.len = 0;
    h->depth = 0;
    h->last_id[0] = 0;
    tw_thrift_field_i32(h, 1, dictionary ? PQ_PAGE_DICTIONARY : PQ_PAGE_DATA);
    tw_thrift_field_i32(h, 2, (int32_t)w->body.len);
    tw_thrift_field_i32(h, 3, (int32_t)zlen);
    if (dictionary) {
        tw_thrift_field_struct(h, 7);
        tw_thrift_field_i32(h, 1, nvalues);
        tw_thrift_field_i32(h, 2, PQ_ENC_PLAIN);
        tw_thrift_stop(h);
    } else {
        tw_thrift_field_struct(h, 5);
        tw_thrift_field_i32(h, 1, nvalues);
        tw_thrift_field_i32(h, 2, encoding);
        tw_thrift_field_i32(h, 3, PQ_ENC_RLE);
        tw_thrift_field_i32(h, 4, PQ_ENC_RLE);
        tw_thrift_stop(h);
    }
    tw_thrift_stop(h);
    tw_thrift_buf_append(dst, h->out.data, h->out.len);
    tw_thrift_buf_append(dst, zdata, zlen);
    c->chunk.uncompressed_bytes += (int64_t)(h->out.len + w->body.len);
    c->chunk.compressed_bytes += (int64_t)(h->out.len + zlen);
    c->chunk.encodings |= 1u << encoding;
    return true;
}

static bool close_page(tw_parquet_writer *w, col_writer *c, tw_err *err)
{
    if (c->page_rows == 0)
        return true;
    tw_thrift_buf *body = &w->body;
    body->len = 0;
    if (!c->required) {
        size_t at = body->len;
        tw_thrift_buf_reserve(body, 4);
        body->len += 4;
        rle_encode(c->levels, 1, c->page_rows, 1, body);
        uint32_t n = (uint32_t)(body->len - at - 4);
        for (int b = 0; b < 4; b++)
            body->data[at + b] = (uint8_t)(n >> (8 * b));
        c->chunk.encodings |= 1u << PQ_ENC_RLE;
    }
    int encoding = PQ_ENC_PLAIN;
    if (c->dict_active && c->dict_count > 0) {
        encoding = PQ_ENC_RLE_DICTIONARY;
        int bits = c->dict_bits ? c->dict_bits : 1;
        tw_thrift_buf_byte(body, (uint8_t)bits);
        rle_encode(c->indices, sizeof *c->indices, c->page_values, bits, body);
    } else if (c->phys == PQ_BOOLEAN) {
        size_t nbytes = (c->values.len + 7) / 8;
        uint8_t *p = tw_thrift_buf_reserve(body, nbytes);
        memset(p, 0, nbytes);
        for (size_t i = 0; i < c->values.len; i++)
            p[i / 8] |= (uint8_t)(c->values.data[i] << (i % 8));
        body->len += nbytes;
    } else {
        tw_thrift_buf_append(body, c->values.data, c->values.len);
    }
    if (c->chunk.data_page_offset < 0)
        c->chunk.data_page_offset = (int64_t)c->pages.len;
    if (!append_page(w, c, &c->pages, false, (int32_t)c->page_rows, encoding, err))
        return false;
    c->chunk.num_values += c->page_rows;
    c->page_rows = 0;
    c->page_values = 0;
    c->values.len = 0;
    return true;
}

/* Encoded size of the open page, before compression. */
static size_t page_size_bytes(const col_writer *c)
{
    size_t levels = c->required ? 0 : c->page_rows / 8;
    if (c->dict_active)
        return levels + (size_t)c->page_values * (size_t)(c->dict_bits ? c->dict_bits : 1) / 8;
    if (c->phys == PQ_BOOLEAN)
        return levels + c->values.len / 8;
    return levels + c->values.len;
}

static size_t buffered_bytes(const col_writer *c)
{
    return c->pages.len + c->dict_plain.len + page_size_bytes(c);
}

/* ---- dictionary ---- */

static void dict_reset(col_writer *c, const tw_parquet_opts *opts)
{
    c->dict_active = c->phys == PQ_BYTE_ARRAY && !opts->no_dictionary;
    c->dict_plain.len = 0;
    c->dict_count = 0;
    c->dict_bits = 0;
    if (c->dict_slots)
        memset(c->dict_slots, 0, ((size_t)c->dict_slot_mask + 1) * sizeof *c->dict_slots);
}

static void dict_grow_slots(col_writer *c)
{
    uint32_t cap = c->dict_slots ? (c->dict_slot_mask + 1) * 2 : 1024;
    free(c->dict_slots);
    c->dict_slots = tw_xcalloc(cap, sizeof *c->dict_slots);
    c->dict_slot_mask = cap - 1;
    for (uint32_t e = 0; e < c->dict_count; e++) {
        uint32_t s = c->dict_hashes[e] & c->dict_slot_mask;
        while (c->dict_slots[s])
            s = (s + 1) & c->dict_slot_mask;
        c->dict_slots[s] = e + 1;
    }
}

/* Finds or adds str; returns its index, or -1 when adding it would pass the
 * dictionary limits (the caller then falls back to PLAIN). A new entry also
 * updates the chunk bounds: a repeated value cannot move them. */
static int64_t dict_index(col_writer *c, const tw_parquet_opts *opts, const char *ptr, uint32_t len)
{
    if (!c->dict_slots)
        dict_grow_slots(c);
    uint32_t h = (uint32_t)tw_hash_bytes(ptr, len, 0);
    uint32_t s = h & c->dict_slot_mask;
    for (uint32_t e; (e = c->dict_slots[s]) != 0; s = (s + 1) & c->dict_slot_mask) {
        e--;
        if (c->dict_hashes[e] != h)
            continue;
        const uint8_t *entry = c->dict_plain.data + c->dict_offsets[e];
        uint32_t elen;
        memcpy(&elen, entry, 4);
        if (elen == len && memcmp(entry + 4, ptr, len) == 0)
            return e;
    }
    if (c->dict_count >= opts->dictionary_max_entries ||
        c->dict_plain.len + 4 + len > opts->dictionary_max_bytes)
        return -1;
    if (c->dict_count == c->dict_entries_cap) {
        c->dict_entries_cap = c->dict_entries_cap ? c->dict_entries_cap * 2 : 1024;
        c->dict_offsets = tw_xrealloc(c->dict_offsets, c->dict_entries_cap * sizeof(uint32_t));
        c->dict_hashes = tw_xrealloc(c->dict_hashes, c->dict_entries_cap * sizeof(uint32_t));
    }
    uint32_t e = c->dict_count++;
    c->dict_offsets[e] = (uint32_t)c->dict_plain.len;
    c->dict_hashes[e] = h;
    tw_thrift_buf_append(&c->dict_plain, &len, 4);
    tw_thrift_buf_append(&c->dict_plain, ptr, len);
    c->dict_slots[s] = e + 1;
    c->dict_bits = bits_for(c->dict_count - 1);
    if ((uint64_t)c->dict_count * 2 > c->dict_slot_mask)
        dict_grow_slots(c);
    bounds_bytes(&c->chunk.bounds, ptr, len);
    return e;
}

/* ---- encoding a batch column ---- */

static void chunk_reset(col_writer *c, const tw_parquet_opts *opts)
{
    c->pages.len = 0;
    bounds b = c->chunk.bounds;
    bounds_reset(&b);
    c->chunk = (chunk_meta){.data_page_offset = -1, .dict_page_offset = -1, .bounds = b};
    dict_reset(c, opts);
}

static inline bool page_full(const tw_parquet_writer *w, const col_writer *c)
{
    return c->page_rows >= MAX_PAGE_ROWS || page_size_bytes(c) >= w->opts.page_bytes;
}

/* Records the level of one row and returns whether it holds a value. */
static inline bool take_level(col_writer *c, const uint8_t *valid, uint32_t r)
{
    if (!c->required)
        c->levels[c->page_rows] = valid[r];
    c->page_rows++;
    if (!valid[r]) {
        c->chunk.null_count++;
        return false;
    }
    c->page_values++;
    return true;
}

/* Rows of fixed-width values encoded between two page-size checks: a page
 * overshoots page_bytes by at most this many values. */
#define FIXED_STRIDE 256u

/* Encodes rows [r, end) of a non-string column; the page has room for them. */
static void encode_fixed(col_writer *c, const tw_column *col, uint32_t r, uint32_t end)
{
    uint32_t cnt = end - r;
    const uint8_t *valid = col->valid + r;
    if (!c->required)
        memcpy(c->levels + c->page_rows, valid, cnt);
    c->page_rows += cnt;
    uint32_t present = 0;
    for (uint32_t i = 0; i < cnt; i++)
        present += valid[i] != 0;
    c->page_values += present;
    c->chunk.null_count += cnt - present;
    if (present == 0)
        return;
    bounds *b = &c->chunk.bounds;
    switch (c->phys) {
    case PQ_BOOLEAN: {
        uint8_t *p = tw_thrift_buf_reserve(&c->values, cnt);
        uint8_t seen[2] = {0, 0};
        for (uint32_t i = 0; i < cnt; i++) {
            if (valid[i]) {
                uint8_t v = col->b[r + i] != 0;
                *p++ = v;
                seen[v] = 1;
            }
        }
        c->values.len += present;
        if (seen[0])
            bounds_int(b, 0);
        if (seen[1])
            bounds_int(b, 1);
        break;
    }
    case PQ_INT32:
    case PQ_INT64: {
        const int64_t *src = col->i64 + r;
        size_t width = c->phys == PQ_INT32 ? 4 : 8;
        uint8_t *p = tw_thrift_buf_reserve(&c->values, (size_t)cnt * width);
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (uint32_t i = 0; i < cnt; i++) {
            if (!valid[i])
                continue;
            int64_t v = src[i];
            if (width == 4) {
                int32_t v32 = (int32_t)v;
                memcpy(p, &v32, 4);
            } else {
                memcpy(p, &v, 8);
            }
            p += width;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        c->values.len += (size_t)present * width;
        bounds_int(b, lo);
        bounds_int(b, hi);
        break;
    }
    case PQ_FLOAT:
    case PQ_DOUBLE: {
        const double *src = col->f64 + r;
        size_t width = c->phys == PQ_FLOAT ? 4 : 8;
        uint8_t *p = tw_thrift_buf_reserve(&c->values, (size_t)cnt * width);
        double lo = INFINITY, hi = -INFINITY;
        uint32_t nans = 0;
        for (uint32_t i = 0; i < cnt; i++) {
            if (!valid[i])
                continue;
            double v = src[i];
            if (width == 4) {
                float f = (float)v;
                memcpy(p, &f, 4);
            } else {
                memcpy(p, &v, 8);
            }
            p += width;
            if (isnan(v)) {
                nans++;
                continue;
            }
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        c->values.len += (size_t)present * width;
        c->chunk.nan_count += nans;
        if (nans < present) {
            bounds_float(b, lo);
            bounds_float(b, hi);
        }
        break;
    }
    default:
        assert(0);
    }
}

static bool encode_strings(tw_parquet_writer *w, col_writer *c, const tw_column *col, uint32_t n,
                           tw_err *err)
{
    if (c->dict_active && !c->indices)
        c->indices = tw_xmalloc(MAX_PAGE_ROWS * sizeof *c->indices);
    for (uint32_t r = 0; r < n; r++) {
        if (page_full(w, c) && !close_page(w, c, err))
            return false;
        if (!take_level(c, col->valid, r))
            continue;
        tw_str s = col->s[r];
        if (c->dict_active) {
            int64_t e = dict_index(c, &w->opts, s.ptr, s.len);
            if (e >= 0) {
                c->indices[c->page_values - 1] = (uint32_t)e;
                continue;
            }
            /* The dictionary is full: end its page without this row and
             * write the rest of the chunk PLAIN. */
            c->page_rows--;
            c->page_values--;
            if (!close_page(w, c, err))
                return false;
            c->dict_active = false;
            take_level(c, col->valid, r);
        }
        uint8_t *p = tw_thrift_buf_reserve(&c->values, 4 + (size_t)s.len);
        memcpy(p, &s.len, 4);
        if (s.len)
            memcpy(p + 4, s.ptr, s.len);
        c->values.len += 4 + (size_t)s.len;
        bounds_bytes(&c->chunk.bounds, s.ptr, s.len);
    }
    return true;
}

static bool encode_column(tw_parquet_writer *w, col_writer *c, const tw_column *col, uint32_t n,
                          tw_err *err)
{
    if (!c->levels && !c->required)
        c->levels = tw_xmalloc(MAX_PAGE_ROWS);
    if (c->phys == PQ_BYTE_ARRAY)
        return encode_strings(w, c, col, n, err);
    for (uint32_t r = 0; r < n;) {
        if (page_full(w, c) && !close_page(w, c, err))
            return false;
        uint32_t end = n - r < FIXED_STRIDE ? n : r + FIXED_STRIDE;
        if (end - r > MAX_PAGE_ROWS - c->page_rows)
            end = r + (MAX_PAGE_ROWS - c->page_rows);
        encode_fixed(c, col, r, end);
        r = end;
    }
    return true;
}

/* ---- row groups ---- */

static bool flush_row_group(tw_parquet_writer *w, tw_err *err)
{
    if (w->rg_rows == 0)
        return true;
    if (w->offset == 0 && !emit(w, "PAR1", 4, err))
        return false;
    if (w->nrow_groups == w->row_groups_cap) {
        w->row_groups_cap = w->row_groups_cap ? w->row_groups_cap * 2 : 8;
        w->row_groups = tw_xrealloc(w->row_groups, w->row_groups_cap * sizeof *w->row_groups);
    }
    row_group_meta *rg = &w->row_groups[w->nrow_groups];
    *rg = (row_group_meta){.num_rows = w->rg_rows, .file_offset = (int64_t)w->offset,
                           .chunks = tw_xcalloc(w->ncols, sizeof(chunk_meta))};
    w->nrow_groups++;
    for (uint32_t i = 0; i < w->ncols; i++) {
        col_writer *c = &w->cols[i];
        if (!close_page(w, c, err))
            return false;
        int64_t chunk_start = (int64_t)w->offset;
        if (c->dict_count > 0) {
            tw_thrift_buf dict_page = {0};
            w->body.len = 0;
            tw_thrift_buf_append(&w->body, c->dict_plain.data, c->dict_plain.len);
            bool ok = append_page(w, c, &dict_page, true, (int32_t)c->dict_count, PQ_ENC_PLAIN,
                                  err) &&
                      emit(w, dict_page.data, dict_page.len, err);
            tw_thrift_buf_free(&dict_page);
            if (!ok)
                return false;
            c->chunk.dict_page_offset = chunk_start;
        }
        assert(c->chunk.data_page_offset == 0);
        c->chunk.data_page_offset = (int64_t)w->offset;
        if (!emit(w, c->pages.data, c->pages.len, err))
            return false;
        assert((int64_t)w->offset - chunk_start == c->chunk.compressed_bytes);

        chunk_meta *m = &rg->chunks[i];
        *m = c->chunk;
        m->bounds = (bounds){0};
        bounds_merge(&m->bounds, &c->chunk.bounds, tw_type_phys(c->type));
        rg->uncompressed_bytes += c->chunk.uncompressed_bytes;
        rg->compressed_bytes += c->chunk.compressed_bytes;
        c->value_count += (uint64_t)c->chunk.num_values;
        c->null_count += c->chunk.null_count;
        c->nan_count += c->chunk.nan_count;
        c->compressed_bytes += (uint64_t)c->chunk.compressed_bytes;
        bounds_merge(&c->file_bounds, &c->chunk.bounds, tw_type_phys(c->type));
        chunk_reset(c, &w->opts);
    }
    w->total_rows += (uint64_t)w->rg_rows;
    w->rg_rows = 0;
    return true;
}

/* ---- public ---- */

static int parquet_phys(tw_type t)
{
    switch (t) {
    case TW_T_BOOL: return PQ_BOOLEAN;
    case TW_T_INT16:
    case TW_T_INT32: return PQ_INT32;
    case TW_T_INT64:
    case TW_T_TIMESTAMP:
    case TW_T_TIMESTAMPTZ: return PQ_INT64;
    case TW_T_FLOAT32: return PQ_FLOAT;
    case TW_T_FLOAT64: return PQ_DOUBLE;
    case TW_T_VARCHAR: return PQ_BYTE_ARRAY;
    default: return -1;
    }
}

tw_parquet_writer *tw_parquet_writer_new(const tw_parquet_column *columns, uint32_t ncols,
                                         const tw_parquet_opts *opts, tw_parquet_write_fn write,
                                         void *ctx, tw_err *err)
{
    assert(write != NULL);
    if (ncols == 0) {
        tw_err_set(err, TW_ERR_CONFIG, "parquet: a file needs at least one column");
        return NULL;
    }
    for (uint32_t i = 0; i < ncols; i++) {
        if (parquet_phys(columns[i].type) < 0) {
            tw_err_set(err, TW_ERR_UNSUPPORTED,
                       "parquet: column '%s' has type %s, which Iceberg cannot store; cast it "
                       "(e.g. an interval to bigint microseconds) before the sink",
                       columns[i].name, tw_type_short_name(columns[i].type));
            return NULL;
        }
    }
    tw_parquet_opts o = opts ? *opts : (tw_parquet_opts){0};
    if (o.zstd_level == 0)
        o.zstd_level = 3;
    if (o.row_group_bytes == 0)
        o.row_group_bytes = 128 * MiB;
    if (o.page_bytes == 0)
        o.page_bytes = MiB;
    if (o.dictionary_max_bytes == 0)
        o.dictionary_max_bytes = MiB;
    if (o.dictionary_max_entries == 0)
        o.dictionary_max_entries = 65536;
    if (o.dictionary_max_bytes > UINT32_MAX / 2)
        o.dictionary_max_bytes = UINT32_MAX / 2;

    tw_parquet_writer *w = tw_xcalloc(1, sizeof *w);
    w->opts = o;
    w->created_by = tw_xstrdup(o.created_by ? o.created_by : "tidewatch version " TW_VERSION);
    w->opts.created_by = w->created_by;
    if (o.nmetadata > 0) {
        w->metadata = tw_xcalloc(o.nmetadata, sizeof *w->metadata);
        for (size_t i = 0; i < o.nmetadata; i++) {
            w->metadata[i].key = tw_xstrdup(o.metadata[i].key);
            w->metadata[i].value = o.metadata[i].value ? tw_xstrdup(o.metadata[i].value) : NULL;
        }
    }
    w->opts.metadata = w->metadata;
    w->write = write;
    w->write_ctx = ctx;
    w->ncols = ncols;
    w->cols = tw_xcalloc(ncols, sizeof *w->cols);
    for (uint32_t i = 0; i < ncols; i++) {
        col_writer *c = &w->cols[i];
        c->name = tw_xstrdup(columns[i].name);
        c->type = columns[i].type;
        c->field_id = columns[i].field_id;
        c->required = columns[i].required;
        c->phys = parquet_phys(c->type);
        chunk_reset(c, &w->opts);
    }
    tw_thrift_init(&w->header);
    if (o.codec == TW_PARQUET_ZSTD)
        w->zstd = ZSTD_createCCtx();
    return w;
}

/* Everything that can be wrong with a batch is checked before any column
 * is encoded, so a rejected batch leaves the writer as it was. */
static bool check_batch(const tw_parquet_writer *w, const tw_batch *b, tw_err *err)
{
    if (b->ncols != w->ncols)
        return tw_err_set(err, TW_ERR_INTERNAL, "parquet: batch has %u columns, the file %u",
                          b->ncols, w->ncols);
    if (b->ops) {
        for (uint32_t r = 0; r < b->nrows; r++)
            if (b->ops[r] != TW_OP_INSERT)
                return tw_err_set(err, TW_ERR_UNSUPPORTED,
                                  "parquet: row %u is a retraction; data files take inserts only", r);
    }
    for (uint32_t i = 0; i < w->ncols; i++) {
        const col_writer *c = &w->cols[i];
        const tw_column *col = &b->cols[i];
        if (col->type != c->type)
            return tw_err_set(err, TW_ERR_INTERNAL, "parquet: column '%s' is %s in the batch, %s in the file",
                              c->name, tw_type_short_name(col->type), tw_type_short_name(c->type));
        if (c->required && memchr(col->valid, 0, b->nrows))
            return tw_err_set(err, TW_ERR_BIND, "parquet: column '%s' is required but a row holds NULL",
                              c->name);
        if (c->type == TW_T_INT16 || c->type == TW_T_INT32) {
            int64_t lo = c->type == TW_T_INT16 ? INT16_MIN : INT32_MIN;
            int64_t hi = c->type == TW_T_INT16 ? INT16_MAX : INT32_MAX;
            for (uint32_t r = 0; r < b->nrows; r++)
                if (col->valid[r] && (col->i64[r] < lo || col->i64[r] > hi))
                    return tw_err_set(err, TW_ERR_INTERNAL, "parquet: column '%s': %lld is out of range for %s",
                                      c->name, (long long)col->i64[r], tw_type_short_name(c->type));
        }
    }
    return true;
}

bool tw_parquet_writer_add_batch(tw_parquet_writer *w, const tw_batch *batch, tw_err *err)
{
    if (w->failed)
        return tw_err_set(err, TW_ERR_IO, "parquet: an earlier write failed; the file is unusable");
    if (!check_batch(w, batch, err))
        return false;
    if (batch->nrows == 0)
        return true;
    size_t buffered = 0;
    for (uint32_t i = 0; i < w->ncols; i++) {
        if (!encode_column(w, &w->cols[i], &batch->cols[i], batch->nrows, err)) {
            w->failed = true;
            return false;
        }
        buffered += buffered_bytes(&w->cols[i]);
    }
    w->rg_rows += batch->nrows;
    if (buffered >= w->opts.row_group_bytes && !flush_row_group(w, err)) {
        w->failed = true;
        return false;
    }
    return true;
}

uint64_t tw_parquet_writer_bytes(const tw_parquet_writer *w)
{
    uint64_t n = w->offset == 0 ? 4 : w->offset;
    for (uint32_t i = 0; i < w->ncols; i++)
        n += buffered_bytes(&w->cols[i]);
    return n;
}

static void write_statistics(tw_thrift_w *t, const col_writer *c, const chunk_meta *m)
{
    tw_thrift_field_struct(t, 12);
    tw_thrift_field_i64(t, 3, (int64_t)m->null_count);
    if (m->bounds.has) {
        uint8_t buf[8];
        const void *data;
        size_t len = plain_bound(c, &m->bounds, true, buf, &data);
        tw_thrift_field_binary(t, 5, data, len);
        len = plain_bound(c, &m->bounds, false, buf, &data);
        tw_thrift_field_binary(t, 6, data, len);
        tw_thrift_field_bool(t, 7, true);
        tw_thrift_field_bool(t, 8, true);
    }
    if (c->phys == PQ_FLOAT || c->phys == PQ_DOUBLE)
        tw_thrift_field_i64(t, 9, (int64_t)m->nan_count);
    tw_thrift_stop(t);
}

static void write_schema_element(tw_thrift_w *t, const col_writer *c)
{
    tw_thrift_elem_struct(t);
    tw_thrift_field_i32(t, 1, c->phys);
    tw_thrift_field_i32(t, 3, c->required ? PQ_REQUIRED : PQ_OPTIONAL);
    tw_thrift_field_string(t, 4, c->name);
    int converted = -1;
    switch (c->type) {
    case TW_T_INT16: converted = PQ_CT_INT_16; break;
    case TW_T_INT32: converted = PQ_CT_INT_32; break;
    case TW_T_VARCHAR: converted = PQ_CT_UTF8; break;
    case TW_T_TIMESTAMP:
    case TW_T_TIMESTAMPTZ: converted = PQ_CT_TIMESTAMP_MICROS; break;
    default: break;
    }
    if (converted >= 0)
        tw_thrift_field_i32(t, 6, converted);
    tw_thrift_field_i32(t, 9, c->field_id);
    if (converted >= 0) {
        tw_thrift_field_struct(t, 10); /* LogicalType union */
        switch (c->type) {
        case TW_T_INT16:
        case TW_T_INT32:
            tw_thrift_field_struct(t, 10); /* INTEGER */
            tw_thrift_field_i8(t, 1, c->type == TW_T_INT16 ? 16 : 32);
            tw_thrift_field_bool(t, 2, true);
            tw_thrift_stop(t);
            break;
        case TW_T_VARCHAR:
            tw_thrift_field_struct(t, 1); /* STRING */
            tw_thrift_stop(t);
            break;
        default:
            tw_thrift_field_struct(t, 8); /* TIMESTAMP */
            tw_thrift_field_bool(t, 1, c->type == TW_T_TIMESTAMPTZ);
            tw_thrift_field_struct(t, 2); /* TimeUnit */
            tw_thrift_field_struct(t, 2); /* MICROS */
            tw_thrift_stop(t);
            tw_thrift_stop(t);
            tw_thrift_stop(t);
            break;
        }
        tw_thrift_stop(t);
    }
    tw_thrift_stop(t);
}

static void write_footer(const tw_parquet_writer *w, tw_thrift_w *t)
{
    tw_thrift_field_i32(t, 1, 2);
    tw_thrift_field_list(t, 2, TW_THRIFT_STRUCT, w->ncols + 1);
    tw_thrift_elem_struct(t);
    tw_thrift_field_string(t, 4, "schema");
    tw_thrift_field_i32(t, 5, (int32_t)w->ncols);
    tw_thrift_stop(t);
    for (uint32_t i = 0; i < w->ncols; i++)
        write_schema_element(t, &w->cols[i]);
    tw_thrift_field_i64(t, 3, (int64_t)w->total_rows);
    tw_thrift_field_list(t, 4, TW_THRIFT_STRUCT, w->nrow_groups);
    for (uint32_t g = 0; g < w->nrow_groups; g++) {
        const row_group_meta *rg = &w->row_groups[g];
        tw_thrift_elem_struct(t);
        tw_thrift_field_list(t, 1, TW_THRIFT_STRUCT, w->ncols);
        for (uint32_t i = 0; i < w->ncols; i++) {
            const col_writer *c = &w->cols[i];
            const chunk_meta *m = &rg->chunks[i];
            tw_thrift_elem_struct(t);
            tw_thrift_field_i64(t, 2, m->dict_page_offset >= 0 ? m->dict_page_offset : m->data_page_offset);
            tw_thrift_field_struct(t, 3);
            tw_thrift_field_i32(t, 1, c->phys);
            uint32_t nenc = (uint32_t)__builtin_popcount(m->encodings);
            tw_thrift_field_list(t, 2, TW_THRIFT_I32, nenc);
            for (int e = 0; e < 32; e++)
                if (m->encodings & (1u << e))
                    tw_thrift_elem_i32(t, e);
            tw_thrift_field_list(t, 3, TW_THRIFT_BINARY, 1);
            tw_thrift_elem_binary(t, c->name, strlen(c->name));
            static const int codecs[] = {
                [TW_PARQUET_ZSTD] = PQ_CODEC_ZSTD, [TW_PARQUET_SNAPPY] = PQ_CODEC_SNAPPY,
                [TW_PARQUET_GZIP] = PQ_CODEC_GZIP, [TW_PARQUET_UNCOMPRESSED] = PQ_CODEC_UNCOMPRESSED};
            tw_thrift_field_i32(t, 4, codecs[w->opts.codec]);
            tw_thrift_field_i64(t, 5, m->num_values);
            tw_thrift_field_i64(t, 6, m->uncompressed_bytes);
            tw_thrift_field_i64(t, 7, m->compressed_bytes);
            tw_thrift_field_i64(t, 9, m->data_page_offset);
            if (m->dict_page_offset >= 0)
                tw_thrift_field_i64(t, 11, m->dict_page_offset);
            write_statistics(t, c, m);
            tw_thrift_stop(t); /* ColumnMetaData */
            tw_thrift_stop(t); /* ColumnChunk */
        }
        tw_thrift_field_i64(t, 2, rg->uncompressed_bytes);
        tw_thrift_field_i64(t, 3, rg->num_rows);
        tw_thrift_field_i64(t, 5, rg->file_offset);
        tw_thrift_field_i64(t, 6, rg->compressed_bytes);
        tw_thrift_field_i16(t, 7, (int16_t)g);
        tw_thrift_stop(t);
    }
    if (w->opts.nmetadata > 0) {
        tw_thrift_field_list(t, 5, TW_THRIFT_STRUCT, (uint32_t)w->opts.nmetadata);
        for (size_t i = 0; i < w->opts.nmetadata; i++) {
            tw_thrift_elem_struct(t);
            tw_thrift_field_string(t, 1, w->metadata[i].key);
            if (w->metadata[i].value)
                tw_thrift_field_string(t, 2, w->metadata[i].value);
            tw_thrift_stop(t);
        }
    }
    tw_thrift_field_string(t, 6, w->created_by);
    tw_thrift_field_list(t, 7, TW_THRIFT_STRUCT, w->ncols);
    for (uint32_t i = 0; i < w->ncols; i++) {
        tw_thrift_elem_struct(t);
        tw_thrift_field_struct(t, 1); /* TYPE_ORDER */
        tw_thrift_stop(t);
        tw_thrift_stop(t);
    }
    tw_thrift_stop(t);
    assert(t->depth == 0);
}

static tw_value bound_value(const col_writer *c, bool is_max)
{
    const bounds *b = &c->file_bounds;
    tw_value v = {.type = c->type};
    switch (tw_type_phys(c->type)) {
    case TW_PHYS_BOOL: v.b = (uint8_t)(is_max ? b->imax : b->imin); break;
    case TW_PHYS_I64: v.i64 = is_max ? b->imax : b->imin; break;
    case TW_PHYS_F64: v.f64 = is_max ? float_max_out(b->fmax) : float_min_out(b->fmin); break;
    case TW_PHYS_STR: {
        const tw_thrift_buf *s = is_max ? &b->smax : &b->smin;
        char *copy = tw_xmalloc(s->len ? s->len : 1);
        if (s->len)
            memcpy(copy, s->data, s->len);
        v.s = (tw_str){copy, (uint32_t)s->len};
        break;
    }
    }
    return v;
}

bool tw_parquet_writer_close(tw_parquet_writer *w, tw_parquet_file_stats *out, tw_err *err)
{
    if (!flush_row_group(w, err)) {
        w->failed = true;
        return false;
    }
    if (w->offset == 0 && !emit(w, "PAR1", 4, err))
        return false;
    tw_thrift_w t;
    tw_thrift_init(&t);
    write_footer(w, &t);
    uint8_t tail[8];
    uint32_t footer_len = (uint32_t)t.out.len;
    for (int b = 0; b < 4; b++)
        tail[b] = (uint8_t)(footer_len >> (8 * b));
    memcpy(tail + 4, "PAR1", 4);
    bool ok = emit(w, t.out.data, t.out.len, err) && emit(w, tail, 8, err);
    tw_thrift_free(&t);
    if (!ok)
        return false;
    if (out) {
        *out = (tw_parquet_file_stats){.file_size_bytes = w->offset,
                                       .record_count = w->total_rows,
                                       .ncols = w->ncols,
                                       .nsplits = w->nrow_groups};
        out->cols = tw_xcalloc(w->ncols, sizeof *out->cols);
        for (uint32_t i = 0; i < w->ncols; i++) {
            const col_writer *c = &w->cols[i];
            tw_parquet_column_stats *s = &out->cols[i];
            s->field_id = c->field_id;
            s->value_count = c->value_count;
            s->null_count = c->null_count;
            s->nan_count = c->nan_count;
            s->compressed_bytes = c->compressed_bytes;
            s->has_bounds = c->file_bounds.has;
            s->min = tw_value_null(c->type);
            s->max = tw_value_null(c->type);
            if (s->has_bounds) {
                s->min = bound_value(c, false);
                s->max = bound_value(c, true);
            }
        }
        out->split_offsets = tw_xcalloc(w->nrow_groups ? w->nrow_groups : 1, sizeof(uint64_t));
        for (uint32_t g = 0; g < w->nrow_groups; g++)
            out->split_offsets[g] = (uint64_t)w->row_groups[g].file_offset;
    }
    return true;
}

void tw_parquet_file_stats_free(tw_parquet_file_stats *stats)
{
    if (!stats)
        return;
    for (uint32_t i = 0; i < stats->ncols && stats->cols; i++) {
        tw_parquet_column_stats *s = &stats->cols[i];
        if (s->has_bounds && s->min.type == TW_T_VARCHAR) {
            free((void *)s->min.s.ptr);
            free((void *)s->max.s.ptr);
        }
    }
    free(stats->cols);
    free(stats->split_offsets);
    *stats = (tw_parquet_file_stats){0};
}

void tw_parquet_writer_free(tw_parquet_writer *w)
{
    if (!w)
        return;
    for (uint32_t i = 0; i < w->ncols; i++) {
        col_writer *c = &w->cols[i];
        free(c->name);
        tw_thrift_buf_free(&c->pages);
        tw_thrift_buf_free(&c->values);
        tw_thrift_buf_free(&c->dict_plain);
        free(c->levels);
        free(c->indices);
        free(c->dict_slots);
        free(c->dict_offsets);
        free(c->dict_hashes);
        bounds_free(&c->chunk.bounds);
        bounds_free(&c->file_bounds);
    }
    free(w->cols);
    for (uint32_t g = 0; g < w->nrow_groups; g++) {
        for (uint32_t i = 0; i < w->ncols; i++)
            bounds_free(&w->row_groups[g].chunks[i].bounds);
        free(w->row_groups[g].chunks);
    }
    free(w->row_groups);
    for (size_t i = 0; i < w->opts.nmetadata; i++) {
        free((void *)w->metadata[i].key);
        free((void *)w->metadata[i].value);
    }
    free(w->metadata);
    free(w->created_by);
    tw_thrift_buf_free(&w->body);
    tw_thrift_buf_free(&w->zbody);
    tw_thrift_free(&w->header);
    ZSTD_freeCCtx(w->zstd);
    if (w->gz_ready)
        deflateEnd(&w->gz);
    free(w);
}

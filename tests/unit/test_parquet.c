/* Unit tests for iceberg/thrift and iceberg/parquet: compact protocol bytes,
 * the RLE / bit-packed hybrid, file framing, statistics, dictionary
 * fallback, row-group rollover and the writer's errors. Reading the files
 * back with a real reader is the DuckDB integration test's job. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "iceberg/parquet.h"
#include "iceberg/thrift.h"

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static void assert_bytes(const tw_thrift_buf *buf, const uint8_t *want, size_t n)
{
    assert_int_equal(buf->len, n);
    assert_memory_equal(buf->data, want, n);
}

/* ---- thrift compact protocol ---- */

static void test_varint_edges(void **state)
{
    (void)state;
    tw_thrift_buf b = {0};
    tw_thrift_put_uvarint(&b, 0);
    tw_thrift_put_uvarint(&b, 127);
    tw_thrift_put_uvarint(&b, 128);
    tw_thrift_put_uvarint(&b, 300);
    tw_thrift_put_uvarint(&b, UINT64_MAX);
    assert_bytes(&b, BYTES(0x00, 0x7F, 0x80, 0x01, 0xAC, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                           0xFF, 0xFF, 0xFF, 0x01));
    tw_thrift_buf_free(&b);
}

static void test_zigzag(void **state)
{
    (void)state;
    assert_int_equal(tw_thrift_zigzag64(0), 0);
    assert_int_equal(tw_thrift_zigzag64(-1), 1);
    assert_int_equal(tw_thrift_zigzag64(1), 2);
    assert_int_equal(tw_thrift_zigzag64(-2), 3);
    assert_true(tw_thrift_zigzag64(INT64_MAX) == UINT64_MAX - 1);
    assert_true(tw_thrift_zigzag64(INT64_MIN) == UINT64_MAX);
}

static void test_field_delta_and_long_form(void **state)
{
    (void)state;
    tw_thrift_w w;
    tw_thrift_init(&w);
    tw_thrift_field_i32(&w, 1, 1);   /* delta 1, i32: 0x15, zigzag 2 */
    tw_thrift_field_i32(&w, 20, -1); /* delta 19: type byte, zigzag(20) = 40, value 1 */
    tw_thrift_field_i64(&w, 22, 300);
    tw_thrift_stop(&w);
    assert_bytes(&w.out, BYTES(0x15, 0x02, 0x05, 0x28, 0x01, 0x26, 0xD8, 0x04, 0x00));
    tw_thrift_free(&w);
}

static void test_bool_in_field_header(void **state)
{
    (void)state;
    tw_thrift_w w;
    tw_thrift_init(&w);
    tw_thrift_field_bool(&w, 1, true);
    tw_thrift_field_bool(&w, 2, false);
    tw_thrift_field_bool(&w, 40, true);
    tw_thrift_stop(&w);
    assert_bytes(&w.out, BYTES(0x11, 0x12, 0x01, 0x50, 0x00));
    tw_thrift_free(&w);
}

static void test_nested_struct_restores_field_ids(void **state)
{
    (void)state;
    tw_thrift_w w;
    tw_thrift_init(&w);
    tw_thrift_field_i32(&w, 1, 0);
    tw_thrift_field_struct(&w, 2);
    tw_thrift_field_i8(&w, 1, 16);
    tw_thrift_field_struct(&w, 5); /* empty struct two levels down */
    tw_thrift_stop(&w);
    tw_thrift_stop(&w);
    tw_thrift_field_binary(&w, 3, "ab", 2); /* delta from 2, not from 5 */
    tw_thrift_stop(&w);
    assert_bytes(&w.out, BYTES(0x15, 0x00, 0x1C, 0x13, 0x10, 0x4C, 0x00, 0x00, 0x18, 0x02, 'a', 'b', 0x00));
    assert_int_equal(w.depth, 0);
    tw_thrift_free(&w);
}

static void test_lists(void **state)
{
    (void)state;
    tw_thrift_w w;
    tw_thrift_init(&w);
    tw_thrift_field_list(&w, 1, TW_THRIFT_I32, 3);
    for (int i = 1; i <= 3; i++)
        tw_thrift_elem_i32(&w, i);
    tw_thrift_field_list(&w, 2, TW_THRIFT_STRUCT, 15); /* 15+ elements: long form */
    for (int i = 0; i < 15; i++) {
        tw_thrift_elem_struct(&w);
        tw_thrift_stop(&w);
    }
    tw_thrift_field_list(&w, 3, TW_THRIFT_BINARY, 1);
    tw_thrift_elem_binary(&w, "x", 1);
    tw_thrift_stop(&w);
    uint8_t want[64];
    size_t n = 0;
    const uint8_t head[] = {0x19, 0x35, 0x02, 0x04, 0x06, 0x19, 0xFC, 0x0F};
    memcpy(want, head, sizeof head);
    n = sizeof head;
    memset(want + n, 0, 15);
    n += 15;
    const uint8_t tail[] = {0x19, 0x18, 0x01, 'x', 0x00};
    memcpy(want + n, tail, sizeof tail);
    n += sizeof tail;
    assert_bytes(&w.out, want, n);
    tw_thrift_free(&w);
}

/* ---- RLE / bit-packed hybrid ---- */

static void test_rle_bitpacked_spec_example(void **state)
{
    (void)state; /* parquet-Encodings.md: 0..7 with bit width 3 */
    const uint32_t v[] = {0, 1, 2, 3, 4, 5, 6, 7};
    tw_thrift_buf b = {0};
    tw_parquet_rle_encode(v, 8, 3, &b);
    assert_bytes(&b, BYTES(0x03, 0x88, 0xC6, 0xFA));
    tw_thrift_buf_free(&b);
}

static void test_rle_run(void **state)
{
    (void)state;
    uint32_t v[10];
    for (int i = 0; i < 10; i++)
        v[i] = 1;
    tw_thrift_buf b = {0};
    tw_parquet_rle_encode(v, 10, 1, &b);
    assert_bytes(&b, BYTES(0x14, 0x01));
    b.len = 0;
    const uint32_t wide[8] = {300, 300, 300, 300, 300, 300, 300, 300};
    tw_parquet_rle_encode(wide, 8, 9, &b); /* value in 2 little-endian bytes */
    assert_bytes(&b, BYTES(0x10, 0x2C, 0x01));
    tw_thrift_buf_free(&b);
}

static void test_rle_literals_borrow_from_run(void **state)
{
    (void)state; /* 7 literals take one value of the following run to fill a group */
    uint32_t v[17] = {0, 1, 0, 1, 0, 1, 0};
    for (int i = 7; i < 17; i++)
        v[i] = 1;
    tw_thrift_buf b = {0};
    tw_parquet_rle_encode(v, 17, 1, &b);
    assert_bytes(&b, BYTES(0x03, 0xAA, 0x12, 0x01));
    tw_thrift_buf_free(&b);
}

static void test_rle_short_tail_padded(void **state)
{
    (void)state;
    const uint32_t v[] = {2, 2, 2};
    tw_thrift_buf b = {0};
    tw_parquet_rle_encode(v, 3, 2, &b);
    assert_bytes(&b, BYTES(0x03, 0x2A, 0x00));
    tw_thrift_buf_free(&b);
}

/* ---- writer ---- */

static int mem_write(void *ctx, const void *data, size_t len)
{
    tw_thrift_buf_append(ctx, data, len);
    return 0;
}

static int failing_write(void *ctx, const void *data, size_t len)
{
    (void)ctx;
    (void)data;
    (void)len;
    return -1;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Writes one batch per entry of `batches` and closes the file. */
static void write_file(const tw_parquet_column *cols, uint32_t ncols, const tw_parquet_opts *opts,
                       tw_batch **batches, size_t nbatches, tw_thrift_buf *file,
                       tw_parquet_file_stats *stats)
{
    tw_err err;
    tw_err_clear(&err);
    tw_parquet_writer *w = tw_parquet_writer_new(cols, ncols, opts, mem_write, file, &err);
    assert_non_null(w);
    for (size_t i = 0; i < nbatches; i++)
        assert_true(tw_parquet_writer_add_batch(w, batches[i], &err));
    assert_true(tw_parquet_writer_close(w, stats, &err));
    tw_parquet_writer_free(w);
}

static tw_batch *one_column(tw_type type, uint32_t nrows)
{
    tw_batch *b = tw_batch_new(&type, 1, TW_BATCH_ROWS);
    b->nrows = nrows;
    memset(b->cols[0].valid, 1, nrows);
    return b;
}

static void test_file_framing(void **state)
{
    (void)state;
    tw_parquet_column col = {"n", TW_T_INT64, 1, true};
    tw_batch *b = one_column(TW_T_INT64, 100);
    for (uint32_t r = 0; r < 100; r++)
        b->cols[0].i64[r] = r;
    tw_thrift_buf file = {0};
    tw_parquet_file_stats st;
    write_file(&col, 1, NULL, &b, 1, &file, &st);
    assert_true(file.len > 12);
    assert_memory_equal(file.data, "PAR1", 4);
    assert_memory_equal(file.data + file.len - 4, "PAR1", 4);
    uint32_t footer = le32(file.data + file.len - 8);
    assert_true(footer > 0 && footer < file.len - 12);
    const uint8_t *meta = file.data + file.len - 8 - footer;
    assert_int_equal(meta[0], 0x15); /* FileMetaData.version: field 1, i32 */
    assert_int_equal(meta[1], 0x04); /* = 2 */
    assert_int_equal(meta[footer - 1], 0x00); /* STOP of FileMetaData */
    assert_int_equal(st.file_size_bytes, file.len);
    assert_int_equal(st.record_count, 100);
    assert_int_equal(st.nsplits, 1);
    assert_int_equal(st.split_offsets[0], 4);
    assert_int_equal(st.cols[0].compressed_bytes, file.len - 12 - footer);
    tw_parquet_file_stats_free(&st);
    tw_thrift_buf_free(&file);
    tw_batch_free(b);
}

static void test_empty_file_is_valid(void **state)
{
    (void)state;
    tw_parquet_column col = {"n", TW_T_INT64, 1, false};
    tw_thrift_buf file = {0};
    tw_parquet_file_stats st;
    write_file(&col, 1, NULL, NULL, 0, &file, &st);
    assert_memory_equal(file.data, "PAR1", 4);
    assert_memory_equal(file.data + file.len - 4, "PAR1", 4);
    assert_int_equal(le32(file.data + file.len - 8), file.len - 12);
    assert_int_equal(st.record_count, 0);
    assert_int_equal(st.nsplits, 0);
    assert_false(st.cols[0].has_bounds);
    tw_parquet_file_stats_free(&st);
    tw_thrift_buf_free(&file);
}

static void test_stats_every_type(void **state)
{
    (void)state;
    static const tw_parquet_column cols[] = {
        {"b", TW_T_BOOL, 1, false},       {"s", TW_T_INT16, 2, false},  {"i", TW_T_INT32, 3, false},
        {"l", TW_T_INT64, 4, false},      {"f", TW_T_FLOAT32, 5, false}, {"d", TW_T_FLOAT64, 6, false},
        {"v", TW_T_VARCHAR, 7, false},    {"t", TW_T_TIMESTAMP, 8, false},
        {"z", TW_T_TIMESTAMPTZ, 9, false}};
    tw_type types[9];
    for (int c = 0; c < 9; c++)
        types[c] = cols[c].type;
    tw_batch *b = tw_batch_new(types, 9, TW_BATCH_ROWS);
    b->nrows = 4;
    const int64_t ints[] = {5, -300, 7, 0};
    const double floats[] = {2.5, NAN, -1.25, 8};
    const char *strs[] = {"pear", "apple", "\xc3\xa9t\xc3\xa9", "zoo"}; /* é sorts after z bytewise */
    for (uint32_t r = 0; r < 4; r++) {
        for (int c = 0; c < 9; c++)
            b->cols[c].valid[r] = 1;
        b->cols[0].b[r] = r == 2;
        for (int c = 1; c < 4; c++)
            b->cols[c].i64[r] = ints[r] * (c == 3 ? INT64_C(1000000000000) : 1);
        b->cols[4].f64[r] = floats[r];
        b->cols[5].f64[r] = floats[r];
        b->cols[6].s[r] = tw_batch_strdup(b, strs[r], strlen(strs[r]));
        b->cols[7].i64[r] = ints[r] * 1000000;
        b->cols[8].i64[r] = -ints[r];
    }
    for (int c = 0; c < 9; c++)
        tw_col_set_null(&b->cols[c], 3); /* row 3 NULL everywhere */
    tw_thrift_buf file = {0};
    tw_parquet_file_stats st;
    write_file(cols, 9, NULL, &b, 1, &file, &st);
    for (int c = 0; c < 9; c++) {
        assert_int_equal(st.cols[c].field_id, c + 1);
        assert_int_equal(st.cols[c].value_count, 4);
        assert_int_equal(st.cols[c].null_count, 1);
        assert_true(st.cols[c].has_bounds);
        assert_true(st.cols[c].compressed_bytes > 0);
    }
    assert_int_equal(st.cols[0].min.b, 0);
    assert_int_equal(st.cols[0].max.b, 1);
    assert_int_equal(st.cols[1].min.i64, -300);
    assert_int_equal(st.cols[1].max.i64, 7);
    assert_int_equal(st.cols[2].min.i64, -300);
    assert_true(st.cols[3].min.i64 == INT64_C(-300000000000000));
    assert_true(st.cols[4].min.f64 == -1.25 && st.cols[4].max.f64 == 2.5);
    assert_int_equal(st.cols[4].nan_count, 1);
    assert_true(st.cols[5].min.f64 == -1.25 && st.cols[5].max.f64 == 2.5);
    assert_int_equal(st.cols[5].nan_count, 1);
    assert_int_equal(st.cols[6].min.s.len, 5);
    assert_memory_equal(st.cols[6].min.s.ptr, "apple", 5);
    assert_int_equal(st.cols[6].max.s.len, 5);
    assert_memory_equal(st.cols[6].max.s.ptr, "\xc3\xa9t\xc3\xa9", 5);
    assert_true(st.cols[7].min.i64 == -300000000 && st.cols[7].max.i64 == 7000000);
    assert_true(st.cols[8].min.i64 == -7 && st.cols[8].max.i64 == 300);
    tw_parquet_file_stats_free(&st);
    tw_thrift_buf_free(&file);
    tw_batch_free(b);
}

static void test_stats_all_null_and_all_nan(void **state)
{
    (void)state;
    static const tw_parquet_column cols[] = {{"v", TW_T_VARCHAR, 1, false}, {"d", TW_T_FLOAT64, 2, false}};
    tw_type types[] = {TW_T_VARCHAR, TW_T_FLOAT64};
    tw_batch *b = tw_batch_new(types, 2, TW_BATCH_ROWS);
    b->nrows = 50;
    for (uint32_t r = 0; r < 50; r++) {
        tw_col_set_null(&b->cols[0], r);
        b->cols[1].valid[r] = 1;
        b->cols[1].f64[r] = NAN;
    }
    tw_thrift_buf file = {0};
    tw_parquet_file_stats st;
    write_file(cols, 2, NULL, &b, 1, &file, &st);
    assert_false(st.cols[0].has_bounds);
    assert_int_equal(st.cols[0].null_count, 50);
    assert_int_equal(st.cols[0].value_count, 50);
    assert_false(st.cols[1].has_bounds);
    assert_int_equal(st.cols[1].null_count, 0);
    assert_int_equal(st.cols[1].nan_count, 50);
    tw_parquet_file_stats_free(&st);
    tw_thrift_buf_free(&file);
    tw_batch_free(b);
}

static void test_stats_signed_zero_rule(void **state)
{
    (void)state; /* a zero min is written -0.0, a zero max +0.0, whatever the input */
    tw_parquet_column cols[] = {{"a", TW_T_FLOAT64, 1, true}, {"b", TW_T_FLOAT32, 2, true}};
    tw_type types[] = {TW_T_FLOAT64, TW_T_FLOAT32};
    tw_batch *b = tw_batch_new(types, 2, TW_BATCH_ROWS);
    b->nrows = 2;
    const double a[] = {0.0, 3.0}, bb[] = {-2.0, -0.0};
    for (uint32_t r = 0; r < 2; r++) {
        b->cols[0].valid[r] = b->cols[1].valid[r] = 1;
        b->cols[0].f64[r] = a[r];
        b->cols[1].f64[r] = bb[r];
    }
    tw_thrift_buf file = {0};
    tw_parquet_file_stats st;
    write_file(cols, 2, NULL, &b, 1, &file, &st);
    assert_true(st.cols[0].min.f64 == 0 && signbit(st.cols[0].min.f64));
    assert_true(st.cols[0].max.f64 == 3.0);
    assert_true(st.cols[1].min.f64 == -2.0);
    assert_true(st.cols[1].max.f64 == 0 && !signbit(st.cols[1].max.f64));
    tw_parquet_file_stats_free(&st);
    tw_thrift_buf_free(&file);
    tw_batch_free(b);
}

/* A test-only walk over the page headers of a one-column, uncompressed
 * file: reads each PageHeader's type, compressed size and data page
 * encoding, skipping every other field. */
typedef struct page_info {
    int type;
    int32_t compressed;
    int32_t num_values;
    int encoding;
} page_info;

static uint64_t rd_varint(const uint8_t **p)
{
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
        uint8_t byte = *(*p)++;
        v |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80))
            return v;
    }
}

static int64_t rd_zigzag(const uint8_t **p)
{
    uint64_t v = rd_varint(p);
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Reads a struct's fields; ints at `path` depth 0/1 land in info. */
static void rd_struct(const uint8_t **p, page_info *info, int depth)
{
    int16_t id = 0;
    for (;;) {
        uint8_t h = *(*p)++;
        if (h == 0)
            return;
        int type = h & 0x0F;
        id = (h >> 4) ? (int16_t)(id + (h >> 4)) : (int16_t)rd_zigzag(p);
        if (type == TW_THRIFT_I32 || type == TW_THRIFT_I64 || type == TW_THRIFT_I16) {
            int64_t v = rd_zigzag(p);
            if (depth == 0 && id == 1)
                info->type = (int)v;
            if (depth == 0 && id == 3)
                info->compressed = (int32_t)v;
            if (depth == 1 && id == 1)
                info->num_values = (int32_t)v;
            if (depth == 1 && id == 2)
                info->encoding = (int)v;
        } else if (type == TW_THRIFT_STRUCT) {
            rd_struct(p, info, depth + 1);
        } else {
            assert_true(type == TW_THRIFT_BOOL_TRUE || type == TW_THRIFT_BOOL_FALSE);
        }
    }
}

static size_t walk_pages(const tw_thrift_buf *file, page_info *pages, size_t max)
{
    size_t end = file->len - 8 - le32(file->data + file->len - 8);
    const uint8_t *p = file->data + 4;
    size_t n = 0;
    while ((size_t)(p - file->data) < end && n < max) {
        page_info info = {-1, -1, -1, -1};
        rd_struct(&p, &info, 0);
        p += info.compressed;
        pages[n++] = info;
    }
    assert_int_equal((size_t)(p - file->data), end);
    return n;
}

static tw_batch *cycling_strings(uint32_t distinct)
{
    tw_batch *b = one_column(TW_T_VARCHAR, TW_BATCH_ROWS);
    char s[16];
    for (uint32_t r = 0; r < TW_BATCH_ROWS; r++) {
        int n = snprintf(s, sizeof s, "value-%02u", r % distinct);
        b->cols[0].s[r] = tw_batch_strdup(b, s, (size_t)n);
    }
    return b;
}

static void test_dictionary_encoding(void **state)
{
    (void)state;
    tw_parquet_column col = {"v", TW_T_VARCHAR, 1, false};
    tw_parquet_opts opts = {.codec = TW_PARQUET_UNCOMPRESSED};
    tw_batch *b = cycling_strings(10);
    tw_thrift_buf file = {0};
    tw_parquet_file_stats st;
    write_file(&col, 1, &opts, &b, 1, &file, &st);
    page_info pages[8];
    size_t n = walk_pages(&file, pages, 8);
    assert_int_equal(n, 2);
    assert_int_equal(pages[0].type, 2); /* DICTIONARY_PAGE */
    assert_int_equal(pages[0].num_values, 10);
    assert_int_equal(pages[1].type, 0);
    assert_int_equal(pages[1].encoding, 8); /* RLE_DICTIONARY */
    assert_int_equal(pages[1].num_values, TW_BATCH_ROWS);
    tw_parquet_file_stats_free(&st);
    tw_thrift_buf_free(&file);
    tw_batch_free(b);
}

static void test_dictionary_fallback_to_plain(void **state)
{
    (void)state;
    tw_parquet_column col = {"v", TW_T_VARCHAR, 1, false};
    tw_parquet_opts opts = {.codec = TW_PARQUET_UNCOMPRESSED, .dictionary_max_entries = 4};
    tw_batch *b = cycling_strings(10);
    tw_thrift_buf file = {0};
    tw_parquet_file_stats st;
    write_file(&col, 1, &opts, &b, 1, &file, &st);
    page_info pages[8];
    size_t n = walk_pages(&file, pages, 8);
    assert_int_equal(n, 3);
    assert_int_equal(pages[0].type, 2);
    assert_int_equal(pages[0].num_values, 4);
    assert_int_equal(pages[1].encoding, 8);
    assert_int_equal(pages[1].num_values, 4); /* rows before the 5th distinct value */
    assert_int_equal(pages[2].encoding, 0);   /* PLAIN for the rest */
    assert_int_equal(pages[2].num_values, TW_BATCH_ROWS - 4);
    assert_memory_equal(st.cols[0].min.s.ptr, "value-00", 8);
    assert_memory_equal(st.cols[0].max.s.ptr, "value-09", 8);
    tw_parquet_file_stats_free(&st);
    tw_thrift_buf_free(&file);
    tw_batch_free(b);
}

static void test_row_group_rollover_by_bytes(void **state)
{
    (void)state;
    tw_parquet_column col = {"n", TW_T_INT64, 1, true};
    tw_parquet_opts opts = {.codec = TW_PARQUET_UNCOMPRESSED, .row_group_bytes = 20000, .page_bytes = 4096};
    tw_batch *b = one_column(TW_T_INT64, TW_BATCH_ROWS);
    tw_thrift_buf file = {0};
    tw_err err;
    tw_parquet_writer *w = tw_parquet_writer_new(&col, 1, &opts, mem_write, &file, &err);
    assert_non_null(w);
    uint64_t last_bytes = 0;
    for (int i = 0; i < 10; i++) { /* 8 KiB per batch: a row group every 3 batches */
        for (uint32_t r = 0; r < TW_BATCH_ROWS; r++)
            b->cols[0].i64[r] = i * TW_BATCH_ROWS + r;
        assert_true(tw_parquet_writer_add_batch(w, b, &err));
        assert_true(tw_parquet_writer_bytes(w) > last_bytes);
        last_bytes = tw_parquet_writer_bytes(w);
    }
    tw_parquet_file_stats st;
    assert_true(tw_parquet_writer_close(w, &st, &err));
    tw_parquet_writer_free(w);
    assert_int_equal(st.record_count, 10 * TW_BATCH_ROWS);
    assert_int_equal(st.nsplits, 4);
    assert_int_equal(st.split_offsets[0], 4);
    for (uint32_t g = 1; g < st.nsplits; g++)
        assert_true(st.split_offsets[g] > st.split_offsets[g - 1] + 3 * 8 * TW_BATCH_ROWS - 1);
    assert_true(st.cols[0].min.i64 == 0 && st.cols[0].max.i64 == 10 * TW_BATCH_ROWS - 1);
    tw_parquet_file_stats_free(&st);
    tw_thrift_buf_free(&file);
    tw_batch_free(b);
}

static void test_errors(void **state)
{
    (void)state;
    tw_err err;
    tw_parquet_column interval = {"gap", TW_T_INTERVAL, 1, false};
    assert_null(tw_parquet_writer_new(&interval, 1, NULL, mem_write, NULL, &err));
    assert_int_equal(err.code, TW_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "gap"));

    tw_parquet_column col = {"n", TW_T_INT64, 1, true};
    tw_thrift_buf file = {0};
    tw_parquet_writer *w = tw_parquet_writer_new(&col, 1, NULL, mem_write, &file, &err);
    tw_batch *b = one_column(TW_T_INT64, 3);
    tw_col_set_null(&b->cols[0], 1);
    assert_false(tw_parquet_writer_add_batch(w, b, &err));
    assert_non_null(strstr(err.msg, "required"));
    b->cols[0].valid[1] = 1;
    tw_batch_ensure_ops(b);
    b->ops[2] = TW_OP_DELETE;
    assert_false(tw_parquet_writer_add_batch(w, b, &err));
    assert_non_null(strstr(err.msg, "retraction"));
    b->ops[2] = TW_OP_INSERT;
    assert_true(tw_parquet_writer_add_batch(w, b, &err)); /* rejected batches left no trace */
    tw_parquet_file_stats st;
    assert_true(tw_parquet_writer_close(w, &st, &err));
    assert_int_equal(st.record_count, 3);
    tw_parquet_file_stats_free(&st);
    tw_parquet_writer_free(w);

    w = tw_parquet_writer_new(&col, 1, NULL, failing_write, NULL, &err);
    assert_true(tw_parquet_writer_add_batch(w, b, &err)); /* buffered, nothing written yet */
    assert_false(tw_parquet_writer_close(w, NULL, &err));
    assert_int_equal(err.code, TW_ERR_IO);
    assert_false(tw_parquet_writer_add_batch(w, b, &err));
    tw_parquet_writer_free(w);
    tw_thrift_buf_free(&file);
    tw_batch_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint_edges),
        cmocka_unit_test(test_zigzag),
        cmocka_unit_test(test_field_delta_and_long_form),
        cmocka_unit_test(test_bool_in_field_header),
        cmocka_unit_test(test_nested_struct_restores_field_ids),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_rle_bitpacked_spec_example),
        cmocka_unit_test(test_rle_run),
        cmocka_unit_test(test_rle_literals_borrow_from_run),
        cmocka_unit_test(test_rle_short_tail_padded),
        cmocka_unit_test(test_file_framing),
        cmocka_unit_test(test_empty_file_is_valid),
        cmocka_unit_test(test_stats_every_type),
        cmocka_unit_test(test_stats_all_null_and_all_nan),
        cmocka_unit_test(test_stats_signed_zero_rule),
        cmocka_unit_test(test_dictionary_encoding),
        cmocka_unit_test(test_dictionary_fallback_to_plain),
        cmocka_unit_test(test_row_group_rollover_by_bytes),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

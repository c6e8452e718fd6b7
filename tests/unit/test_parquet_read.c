/* Unit tests for iceberg/parquet_read: files written by tidewatch's own
 * writer (every type, NULLs, dictionary and plain strings, every codec,
 * several row groups) read back value for value; statistics; column
 * projection; a hand-built data page v2; corrupt input refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iceberg/parquet.h"
#include "iceberg/parquet_read.h"
#include "iceberg/thrift.h"

enum { NCOLS = 10 };

static const tw_parquet_column columns[NCOLS] = {
    {"b", TW_T_BOOL, 1, false},      {"i16", TW_T_INT16, 2, false},
    {"i32", TW_T_INT32, 3, false},   {"i64", TW_T_INT64, 4, true},
    {"f32", TW_T_FLOAT32, 5, false}, {"f64", TW_T_FLOAT64, 6, false},
    {"s", TW_T_VARCHAR, 7, false},   {"ts", TW_T_TIMESTAMP, 8, false},
    {"tstz", TW_T_TIMESTAMPTZ, 9, false}, {"u", TW_T_VARCHAR, 10, true},
};

static int mem_write(void *ctx, const void *data, size_t len)
{
    tw_thrift_buf_append(ctx, data, len);
    return 0;
}

/* Row r's value of column c; every 7th row is NULL in the optional columns.
 * "s" repeats a few values (dictionary-friendly), "u" is unique per row. */
static tw_value expected(uint32_t c, uint32_t r, char *buf)
{
    tw_value v = {.type = columns[c].type};
    if (!columns[c].required && r % 7 == 3) {
        v.is_null = true;
        return v;
    }
    switch (c) {
    case 0: v.b = r % 3 == 0; break;
    case 1: v.i64 = (int64_t)(r % 500) - 250; break;
    case 2: v.i64 = (int64_t)r * 7919 - 100000; break;
    case 3: v.i64 = (int64_t)r * INT64_C(1000003) - INT64_C(5000000000); break;
    case 4: v.f64 = (float)((double)r * 0.25 - 3.5); break;
    case 5: v.f64 = (double)r / 3.0 - 1000; break;
    case 6: {
        int n = snprintf(buf, 64, "dev-%02u", r % 13);
        v.s = (tw_str){buf, (uint32_t)n};
        break;
    }
    case 7: v.i64 = INT64_C(1769546833000000) + (int64_t)r * 10000000; break;
    case 8: v.i64 = INT64_C(1700000000000000) - (int64_t)r * 999; break;
    default: {
        int n = snprintf(buf, 64, "unique value %u with some length", r);
        v.s = (tw_str){buf, (uint32_t)n};
        break;
    }
    }
    return v;
}

/* Writes nrows rows with the given options into out. */
static void write_file(uint32_t nrows, const tw_parquet_opts *opts, tw_thrift_buf *out)
{
    tw_err err;
    tw_parquet_writer *w = tw_parquet_writer_new(columns, NCOLS, opts, mem_write, out, &err);
    assert_non_null(w);
    tw_type types[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        types[c] = columns[c].type;
    tw_batch *b = tw_batch_new(types, NCOLS, TW_BATCH_ROWS);
    char buf[64];
    for (uint32_t r = 0; r < nrows; r++) {
        for (uint32_t c = 0; c < NCOLS; c++) {
            tw_value v = expected(c, r, buf);
            if (v.type == TW_T_VARCHAR && !v.is_null)
                v.s = tw_batch_strdup(b, v.s.ptr, v.s.len);
            tw_column_put(&b->cols[c], b->nrows, &v);
        }
        if (++b->nrows == b->capacity) {
            assert_true(tw_parquet_writer_add_batch(w, b, &err));
            tw_batch_reset(b);
        }
    }
    if (b->nrows)
        assert_true(tw_parquet_writer_add_batch(w, b, &err));
    assert_true(tw_parquet_writer_close(w, NULL, &err));
    tw_parquet_writer_free(w);
    tw_batch_free(b);
}

static void check_value(const tw_column *col, uint32_t row, uint32_t c, uint32_t r)
{
    char buf[64];
    tw_value want = expected(c, r, buf);
    tw_value got = tw_column_get(col, row);
    assert_int_equal(got.type, want.type);
    assert_int_equal(got.is_null, want.is_null);
    if (want.is_null)
        return;
    switch (tw_type_phys(want.type)) {
    case TW_PHYS_BOOL: assert_int_equal(got.b, want.b); break;
    case TW_PHYS_I64: assert_int_equal(got.i64, want.i64); break;
    case TW_PHYS_F64: assert_true(got.f64 == want.f64); break;
    case TW_PHYS_STR:
        assert_int_equal(got.s.len, want.s.len);
        assert_memory_equal(got.s.ptr, want.s.ptr, want.s.len);
        break;
    }
}

/* Reads every column of every row group and compares with expected(). */
static void read_all_and_check(const tw_thrift_buf *file, uint32_t nrows, uint32_t min_groups)
{
    tw_err err;
    tw_parquet_reader *r = tw_parquet_reader_open_memory(file->data, file->len, &err);
    assert_non_null(r);
    assert_int_equal(tw_parquet_reader_ncols(r), NCOLS);
    assert_int_equal(tw_parquet_reader_num_rows(r), nrows);
    assert_true(tw_parquet_reader_num_row_groups(r) >= min_groups);
    uint32_t cols[NCOLS];
    for (uint32_t c = 0; c < NCOLS; c++) {
        const tw_parquet_read_column *rc = tw_parquet_reader_column(r, c);
        assert_string_equal(rc->name, columns[c].name);
        assert_int_equal(rc->type, columns[c].type);
        assert_int_equal(rc->field_id, columns[c].field_id);
        assert_int_equal(rc->required, columns[c].required);
        cols[c] = c;
    }
    uint32_t base = 0;
    for (uint32_t g = 0; g < tw_parquet_reader_num_row_groups(r); g++) {
        tw_batch *b = tw_parquet_reader_read(r, g, cols, NCOLS, &err);
        assert_non_null(b);
        assert_int_equal(b->nrows, tw_parquet_reader_row_group_rows(r, g));
        for (uint32_t row = 0; row < b->nrows; row++)
            for (uint32_t c = 0; c < NCOLS; c++)
                check_value(&b->cols[c], row, c, base + row);
        base += b->nrows;
        tw_batch_free(b);
    }
    assert_int_equal(base, nrows);
    tw_parquet_reader_free(r);
}

static void round_trip(tw_parquet_codec codec, bool no_dictionary)
{
    tw_thrift_buf file = {0};
    tw_parquet_opts opts = {.codec = codec, .no_dictionary = no_dictionary,
                            .row_group_bytes = 24 * 1024, .page_bytes = 4096};
    write_file(5000, &opts, &file);
    read_all_and_check(&file, 5000, 3);
    tw_thrift_buf_free(&file);
}

static void test_zstd_dictionary(void **state) { (void)state; round_trip(TW_PARQUET_ZSTD, false); }
static void test_snappy_dictionary(void **state) { (void)state; round_trip(TW_PARQUET_SNAPPY, false); }
static void test_gzip_plain(void **state) { (void)state; round_trip(TW_PARQUET_GZIP, true); }
static void test_uncompressed_plain(void **state) { (void)state; round_trip(TW_PARQUET_UNCOMPRESSED, true); }
static void test_uncompressed_dictionary(void **state)
{
    (void)state;
    round_trip(TW_PARQUET_UNCOMPRESSED, false);
}

static void test_single_row_group(void **state)
{
    (void)state;
    tw_thrift_buf file = {0};
    write_file(100, NULL, &file);
    read_all_and_check(&file, 100, 1);
    tw_thrift_buf_free(&file);
}

static void test_projection_reads_only_asked_columns(void **state)
{
    (void)state;
    tw_thrift_buf file = {0};
    write_file(300, NULL, &file);
    tw_err err;
    tw_parquet_reader *r = tw_parquet_reader_open_memory(file.data, file.len, &err);
    assert_non_null(r);
    int ts = tw_parquet_reader_find(r, "ts"), s = tw_parquet_reader_find(r, "s");
    assert_int_equal(ts, 7);
    assert_int_equal(s, 6);
    assert_int_equal(tw_parquet_reader_find(r, "missing"), -1);
    assert_int_equal(tw_parquet_reader_find_field_id(r, 10), 9);
    uint32_t cols[2] = {(uint32_t)ts, (uint32_t)s};
    tw_batch *b = tw_parquet_reader_read(r, 0, cols, 2, &err);
    assert_non_null(b);
    assert_int_equal(b->ncols, 2);
    assert_int_equal(b->cols[0].type, TW_T_TIMESTAMP);
    for (uint32_t row = 0; row < b->nrows; row++) {
        check_value(&b->cols[0], row, 7, row);
        check_value(&b->cols[1], row, 6, row);
    }
    tw_batch_free(b);
    tw_parquet_reader_free(r);
    tw_thrift_buf_free(&file);
}

static void test_statistics(void **state)
{
    (void)state;
    tw_thrift_buf file = {0};
    tw_parquet_opts opts = {.row_group_bytes = 16 * 1024};
    write_file(3000, &opts, &file);
    tw_err err;
    tw_parquet_reader *r = tw_parquet_reader_open_memory(file.data, file.len, &err);
    assert_non_null(r);
    uint32_t ngroups = tw_parquet_reader_num_row_groups(r);
    assert_true(ngroups >= 2);
    uint32_t base = 0;
    for (uint32_t g = 0; g < ngroups; g++) {
        uint32_t n = (uint32_t)tw_parquet_reader_row_group_rows(r, g);
        tw_parquet_chunk_stats st;
        /* ts grows with the row, and rows base+3 (mod 7) are NULL */
        tw_parquet_reader_chunk_stats(r, g, 7, &st);
        assert_true(st.has_bounds);
        char buf[64];
        uint32_t first = base, last = base + n - 1;
        while (expected(7, first, buf).is_null)
            first++;
        while (expected(7, last, buf).is_null)
            last--;
        assert_int_equal(st.min.i64, expected(7, first, buf).i64);
        assert_int_equal(st.max.i64, expected(7, last, buf).i64);
        assert_true(st.has_null_count);
        uint64_t nulls = 0;
        for (uint32_t k = base; k < base + n; k++)
            nulls += k % 7 == 3;
        assert_int_equal(st.null_count, nulls);
        /* strings: bytewise bounds */
        tw_parquet_reader_chunk_stats(r, g, 6, &st);
        assert_true(st.has_bounds);
        assert_true(st.min.s.len == 6 && !memcmp(st.min.s.ptr, "dev-00", 6));
        assert_true(st.max.s.len == 6 && !memcmp(st.max.s.ptr, "dev-12", 6));
        base += n;
    }
    tw_parquet_reader_free(r);
    tw_thrift_buf_free(&file);
}

/* A file with one optional INT64 column in a single DATA_PAGE_V2 (levels
 * outside the compressed section, as v2 requires), built by hand. */
static void test_data_page_v2(void **state)
{
    (void)state;
    tw_thrift_buf file = {0};
    tw_thrift_buf_append(&file, "PAR1", 4);
    /* levels: 4 values 1,0,1,1 as one bit-packed group, width 1 */
    uint8_t levels[] = {0x03, 0x0d};
    int64_t vals[3] = {42, -7, INT64_C(1) << 40};
    tw_thrift_w h;
    tw_thrift_init(&h);
    size_t body = sizeof levels + sizeof vals;
    tw_thrift_field_i32(&h, 1, 3); /* DATA_PAGE_V2 */
    tw_thrift_field_i32(&h, 2, (int32_t)body);
    tw_thrift_field_i32(&h, 3, (int32_t)body);
    tw_thrift_field_struct(&h, 8);
    tw_thrift_field_i32(&h, 1, 4); /* num_values */
    tw_thrift_field_i32(&h, 2, 1); /* num_nulls */
    tw_thrift_field_i32(&h, 3, 4); /* num_rows */
    tw_thrift_field_i32(&h, 4, 0); /* PLAIN */
    tw_thrift_field_i32(&h, 5, (int32_t)sizeof levels);
    tw_thrift_field_i32(&h, 6, 0);
    tw_thrift_field_bool(&h, 7, false);
    tw_thrift_stop(&h);
    tw_thrift_stop(&h);
    int64_t page_offset = (int64_t)file.len;
    tw_thrift_buf_append(&file, h.out.data, h.out.len);
    tw_thrift_buf_append(&file, levels, sizeof levels);
    tw_thrift_buf_append(&file, vals, sizeof vals);
    int64_t chunk_bytes = (int64_t)file.len - page_offset;
    tw_thrift_free(&h);

    tw_thrift_w f;
    tw_thrift_init(&f);
    tw_thrift_field_i32(&f, 1, 2);
    tw_thrift_field_list(&f, 2, TW_THRIFT_STRUCT, 2);
    tw_thrift_elem_struct(&f);
    tw_thrift_field_string(&f, 4, "schema");
    tw_thrift_field_i32(&f, 5, 1);
    tw_thrift_stop(&f);
    tw_thrift_elem_struct(&f);
    tw_thrift_field_i32(&f, 1, 2); /* INT64 */
    tw_thrift_field_i32(&f, 3, 1); /* OPTIONAL */
    tw_thrift_field_string(&f, 4, "v");
    tw_thrift_stop(&f);
    tw_thrift_field_i64(&f, 3, 4);
    tw_thrift_field_list(&f, 4, TW_THRIFT_STRUCT, 1);
    tw_thrift_elem_struct(&f);
    tw_thrift_field_list(&f, 1, TW_THRIFT_STRUCT, 1);
    tw_thrift_elem_struct(&f);
    tw_thrift_field_i64(&f, 2, page_offset);
    tw_thrift_field_struct(&f, 3);
    tw_thrift_field_i32(&f, 1, 2);
    tw_thrift_field_list(&f, 2, TW_THRIFT_I32, 1);
    tw_thrift_elem_i32(&f, 0);
    tw_thrift_field_list(&f, 3, TW_THRIFT_BINARY, 1);
    tw_thrift_elem_binary(&f, "v", 1);
    tw_thrift_field_i32(&f, 4, 0);
    tw_thrift_field_i64(&f, 5, 4);
    tw_thrift_field_i64(&f, 6, chunk_bytes);
    tw_thrift_field_i64(&f, 7, chunk_bytes);
    tw_thrift_field_i64(&f, 9, page_offset);
    tw_thrift_stop(&f);
    tw_thrift_stop(&f);
    tw_thrift_field_i64(&f, 2, chunk_bytes);
    tw_thrift_field_i64(&f, 3, 4);
    tw_thrift_stop(&f);
    tw_thrift_stop(&f);
    uint32_t flen = (uint32_t)f.out.len;
    tw_thrift_buf_append(&file, f.out.data, f.out.len);
    tw_thrift_buf_append(&file, &flen, 4);
    tw_thrift_buf_append(&file, "PAR1", 4);
    tw_thrift_free(&f);

    tw_err err;
    tw_parquet_reader *r = tw_parquet_reader_open_memory(file.data, file.len, &err);
    assert_non_null(r);
    uint32_t col = 0;
    tw_batch *b = tw_parquet_reader_read(r, 0, &col, 1, &err);
    assert_non_null(b);
    assert_int_equal(b->nrows, 4);
    assert_true(b->cols[0].valid[0] && !b->cols[0].valid[1] && b->cols[0].valid[2] &&
                b->cols[0].valid[3]);
    assert_int_equal(b->cols[0].i64[0], 42);
    assert_int_equal(b->cols[0].i64[2], -7);
    assert_int_equal(b->cols[0].i64[3], INT64_C(1) << 40);
    tw_batch_free(b);
    tw_parquet_reader_free(r);
    tw_thrift_buf_free(&file);
}

static void test_corrupt_input_is_refused(void **state)
{
    (void)state;
    tw_thrift_buf file = {0};
    write_file(200, NULL, &file);
    tw_err err;
    /* no trailer */
    assert_null(tw_parquet_reader_open_memory(file.data, file.len - 1, &err));
    assert_non_null(strstr(err.msg, "not a Parquet file"));
    /* footer length pointing outside the file */
    uint8_t *copy = malloc(file.len);
    memcpy(copy, file.data, file.len);
    copy[file.len - 5] = 0x7f;
    assert_null(tw_parquet_reader_open_memory(copy, file.len, &err));
    /* a page body damaged: the read fails instead of returning garbage */
    memcpy(copy, file.data, file.len);
    for (size_t i = 4; i < 64; i++)
        copy[i] ^= 0x5a;
    tw_parquet_reader *r = tw_parquet_reader_open_memory(copy, file.len, &err);
    assert_non_null(r);
    uint32_t cols[NCOLS];
    for (uint32_t c = 0; c < NCOLS; c++)
        cols[c] = c;
    assert_null(tw_parquet_reader_read(r, 0, cols, NCOLS, &err));
    tw_parquet_reader_free(r);
    free(copy);
    tw_thrift_buf_free(&file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zstd_dictionary),
        cmocka_unit_test(test_snappy_dictionary),
        cmocka_unit_test(test_gzip_plain),
        cmocka_unit_test(test_uncompressed_plain),
        cmocka_unit_test(test_uncompressed_dictionary),
        cmocka_unit_test(test_single_row_group),
        cmocka_unit_test(test_projection_reads_only_asked_columns),
        cmocka_unit_test(test_statistics),
        cmocka_unit_test(test_data_page_v2),
        cmocka_unit_test(test_corrupt_input_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* parquet_write - writes Parquet files with tidewatch's writer for the
 * DuckDB integration test and the benchmark.
 *
 *   parquet_write files DIR
 *       writes the test files into DIR, each X.parquet with X.ndjson (the
 *       expected rows, one JSON array per row: 64-bit integers and
 *       timestamps as decimal strings, non-finite floats as "NaN",
 *       "Infinity", "-Infinity"), and DIR/manifest.json describing each
 *       file (columns, options) and the writer's file statistics.
 *   parquet_write bench OUT ROWS
 *       builds ROWS rows shaped like the seed's network_anomalies in memory,
 *       then times writing them (ZSTD) to OUT; prints
 *       {"rows":N,"seconds":S,"bytes":B}.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/arena.h"
#include "common/err.h"
#include "exec/batch.h"
#include "iceberg/parquet.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double rng_unit(void)
{
    return (double)(rng() >> 11) / (double)(UINT64_C(1) << 53);
}

static int file_write(void *ctx, const void *data, size_t len)
{
    return fwrite(data, 1, len, ctx) == len ? 0 : -1;
}

static void die(const char *what, const tw_err *err)
{
    fprintf(stderr, "parquet_write: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

/* ---- JSON output ---- */

static void json_string(FILE *f, const char *p, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_value(FILE *f, const tw_value *v)
{
    if (v->is_null) {
        fputs("null", f);
        return;
    }
    switch (v->type) {
    case TW_T_BOOL: fputs(v->b ? "true" : "false", f); break;
    case TW_T_INT16:
    case TW_T_INT32: fprintf(f, "%" PRId64, v->i64); break;
    case TW_T_INT64:
    case TW_T_TIMESTAMP:
    case TW_T_TIMESTAMPTZ: fprintf(f, "\"%" PRId64 "\"", v->i64); break;
    case TW_T_FLOAT32:
    case TW_T_FLOAT64:
        if (isnan(v->f64))
            fputs("\"NaN\"", f);
        else if (isinf(v->f64))
            fputs(v->f64 > 0 ? "\"Infinity\"" : "\"-Infinity\"", f);
        else
            fprintf(f, "%.17g", v->f64);
        break;
    case TW_T_VARCHAR: json_string(f, v->s.ptr, v->s.len); break;
    default: fputs("null", f); break;
    }
}

/* ---- test files ---- */

typedef void (*fill_fn)(tw_batch *b, uint64_t row0);

typedef struct spec {
    const char *name;
    const tw_parquet_column *cols;
    uint32_t ncols;
    uint64_t rows;
    fill_fn fill;
    tw_parquet_opts opts;
} spec;

static const char *codec_name(tw_parquet_codec c)
{
    static const char *names[] = {"ZSTD", "SNAPPY", "GZIP", "UNCOMPRESSED"};
    return names[c];
}

static void put_str(tw_batch *b, uint32_t col, uint32_t row, const char *p, size_t len)
{
    b->cols[col].s[row] = tw_batch_strdup(b, p, len);
}

static const tw_parquet_column all_types[] = {
    {"id", TW_T_INT64, 1, true},           {"flag", TW_T_BOOL, 2, false},
    {"small", TW_T_INT16, 3, false},       {"num", TW_T_INT32, 4, false},
    {"big", TW_T_INT64, 5, false},         {"ratio", TW_T_FLOAT32, 6, false},
    {"score", TW_T_FLOAT64, 7, false},     {"label", TW_T_VARCHAR, 8, false},
    {"ts", TW_T_TIMESTAMP, 9, false},      {"tstz", TW_T_TIMESTAMPTZ, 10, false},
};

/* Every type with NULLs in every optional column and the edge values:
 * integer extremes, NaN and infinities, both zeros, empty and non-ASCII
 * strings, timestamps before 1970. */
static void fill_all_types(tw_batch *b, uint64_t row0)
{
    static const int64_t smalls[] = {INT16_MIN, INT16_MAX, 0, -1};
    static const int64_t nums[] = {INT32_MIN, INT32_MAX, 7, -7};
    static const int64_t bigs[] = {INT64_MIN, INT64_MAX, 0, 42};
    static const double ratios[] = {1.5f, -0.0f, 3.25e10f, -1e-3f};
    static const double scores[] = {-0.0, 0.0, 1e308, -2.5};
    static const char *labels[] = {"alpha", "", "ünïcødé ✓", "zeta", "a\0b", "Zulu"};
    for (uint32_t r = 0; r < b->nrows; r++) {
        uint64_t i = row0 + r;
        b->cols[0].i64[r] = (int64_t)i;
        b->cols[1].b[r] = (uint8_t)(i % 3 == 0);
        b->cols[2].i64[r] = i < 4 ? smalls[i] : (int64_t)(rng() % 2001) - 1000;
        b->cols[3].i64[r] = i < 4 ? nums[i] : (int64_t)(rng() % 200001) - 100000;
        b->cols[4].i64[r] = i < 4 ? bigs[i] : (int64_t)(rng() >> 1) - INT64_C(0x3fffffffffffffff);
        b->cols[5].f64[r] = i < 4 ? ratios[i] : (double)(float)(rng_unit() * 100 - 50);
        b->cols[6].f64[r] = i < 4 ? scores[i] : rng_unit() * 1e6;
        if (i == 10)
            b->cols[6].f64[r] = NAN;
        if (i == 11)
            b->cols[6].f64[r] = -INFINITY;
        const char *label = labels[i % 6];
        put_str(b, 7, r, label, i % 6 == 4 ? 3 : strlen(label));
        b->cols[8].i64[r] = INT64_C(1769546833482913) + (int64_t)i * 1000003 - (i == 5 ? INT64_C(1800000000000000) : 0);
        b->cols[9].i64[r] = -INT64_C(86400000000) + (int64_t)i * 999;
        for (uint32_t c = 1; c < b->ncols; c++) {
            b->cols[c].valid[r] = 1;
            if ((i + c) % 7 == 0)
                tw_col_set_null(&b->cols[c], r);
        }
        b->cols[0].valid[r] = 1;
    }
}

static void fill_all_null(tw_batch *b, uint64_t row0)
{
    for (uint32_t r = 0; r < b->nrows; r++) {
        b->cols[0].i64[r] = (int64_t)(row0 + r);
        b->cols[0].valid[r] = 1;
        for (uint32_t c = 1; c < b->ncols; c++)
            tw_col_set_null(&b->cols[c], r);
    }
}

/* NaN-only floats: bounds must be absent, nan_count set. */
static const tw_parquet_column nan_cols[] = {{"f", TW_T_FLOAT32, 1, false}, {"d", TW_T_FLOAT64, 2, false}};

static void fill_nan(tw_batch *b, uint64_t row0)
{
    for (uint32_t r = 0; r < b->nrows; r++) {
        for (uint32_t c = 0; c < 2; c++) {
            b->cols[c].valid[r] = 1;
            b->cols[c].f64[r] = NAN;
            if ((row0 + r) % 5 == 0)
                tw_col_set_null(&b->cols[c], r);
        }
    }
}

static const tw_parquet_column big_cols[] = {
    {"id", TW_T_INT64, 1, true}, {"ts", TW_T_TIMESTAMP, 2, false},
    {"device", TW_T_VARCHAR, 3, false}, {"value", TW_T_FLOAT64, 4, false}};

static void fill_big(tw_batch *b, uint64_t row0)
{
    char name[32];
    for (uint32_t r = 0; r < b->nrows; r++) {
        uint64_t i = row0 + r;
        b->cols[0].i64[r] = (int64_t)i;
        b->cols[1].i64[r] = INT64_C(1769546833000000) + (int64_t)(i / 100) * 10000000;
        int n = snprintf(name, sizeof name, "device_%03u", (unsigned)(rng() % 500));
        put_str(b, 2, r, name, (size_t)n);
        b->cols[3].f64[r] = rng_unit() * 200;
        for (uint32_t c = 0; c < 4; c++)
            b->cols[c].valid[r] = 1;
        if (i % 97 == 0)
            tw_col_set_null(&b->cols[1 + i % 3], r);
    }
}

static const tw_parquet_column string_cols[] = {
    {"id", TW_T_INT64, 1, true}, {"s", TW_T_VARCHAR, 2, false}, {"unique_s", TW_T_VARCHAR, 3, true}};

/* Unicode, embedded NULs, 100 KB values; unique_s has a distinct value per
 * row so a small dictionary limit forces the PLAIN fallback mid-chunk. */
static void fill_strings(tw_batch *b, uint64_t row0)
{
    static const char *words[] = {"日本語テキスト", "emoji 🎉🚀", "nul\0inside", "", "Ωmega", "plain ascii"};
    static const size_t lens[] = {21, 14, 10, 0, 6, 11};
    static char big[100 * 1024];
    if (!big[0])
        for (size_t k = 0; k < sizeof big; k++)
            big[k] = (char)('a' + k % 26);
    char buf[64];
    for (uint32_t r = 0; r < b->nrows; r++) {
        uint64_t i = row0 + r;
        b->cols[0].i64[r] = (int64_t)i;
        b->cols[0].valid[r] = b->cols[1].valid[r] = b->cols[2].valid[r] = 1;
        if (i % 50 == 7) {
            big[0] = (char)('A' + i % 26);
            put_str(b, 1, r, big, sizeof big);
        } else if (i % 13 == 0) {
            tw_col_set_null(&b->cols[1], r);
        } else {
            put_str(b, 1, r, words[i % 6], lens[i % 6]);
        }
        int n = snprintf(buf, sizeof buf, "unique-%08" PRIu64 "-\xc3\xa9", i * 7919 % 100003);
        put_str(b, 2, r, buf, (size_t)n);
    }
}

static void write_spec(const char *dir, const spec *s, FILE *manifest, bool first)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.parquet", dir, s->name);
    FILE *out = fopen(path, "wb");
    snprintf(path, sizeof path, "%s/%s.ndjson", dir, s->name);
    FILE *expected = fopen(path, "w");
    if (!out || !expected)
        die(path, NULL);
    tw_err err;
    tw_err_clear(&err);
    tw_parquet_kv kv[] = {{"iceberg.schema", "{\"type\":\"struct\",\"schema-id\":0}"}};
    tw_parquet_opts opts = s->opts;
    opts.metadata = kv;
    opts.nmetadata = 1;
    tw_parquet_writer *w = tw_parquet_writer_new(s->cols, s->ncols, &opts, file_write, out, &err);
    if (!w)
        die(s->name, &err);
    tw_type types[16];
    for (uint32_t c = 0; c < s->ncols; c++)
        types[c] = s->cols[c].type;
    tw_batch *b = tw_batch_new(types, s->ncols, TW_BATCH_ROWS);
    rng_state = 0x9e3779b97f4a7c15u;
    for (uint64_t row0 = 0; row0 < s->rows; row0 += TW_BATCH_ROWS) {
        tw_batch_reset(b);
        b->nrows = (uint32_t)(s->rows - row0 < TW_BATCH_ROWS ? s->rows - row0 : TW_BATCH_ROWS);
        s->fill(b, row0);
        for (uint32_t r = 0; r < b->nrows; r++) {
            fputc('[', expected);
            for (uint32_t c = 0; c < s->ncols; c++) {
                tw_value v = tw_column_get(&b->cols[c], r);
                if (c)
                    fputc(',', expected);
                json_value(expected, &v);
            }
            fputs("]\n", expected);
        }
        if (!tw_parquet_writer_add_batch(w, b, &err))
            die(s->name, &err);
    }
    tw_parquet_file_stats st;
    if (!tw_parquet_writer_close(w, &st, &err))
        die(s->name, &err);
    tw_parquet_writer_free(w);
    tw_batch_free(b);
    if (fclose(out) != 0 || fclose(expected) != 0)
        die(s->name, NULL);

    fprintf(manifest, "%s{\"name\":\"%s\",\"codec\":\"%s\",\"dictionary\":%s,\"columns\":[", first ? "" : ",\n",
            s->name, codec_name(s->opts.codec), s->opts.no_dictionary ? "false" : "true");
    for (uint32_t c = 0; c < s->ncols; c++)
        fprintf(manifest, "%s{\"name\":\"%s\",\"type\":\"%s\",\"field_id\":%d,\"required\":%s}", c ? "," : "",
                s->cols[c].name, tw_type_short_name(s->cols[c].type), s->cols[c].field_id,
                s->cols[c].required ? "true" : "false");
    fprintf(manifest, "],\"stats\":{\"file_size_bytes\":%" PRIu64 ",\"record_count\":%" PRIu64 ",\"split_offsets\":[",
            st.file_size_bytes, st.record_count);
    for (uint32_t g = 0; g < st.nsplits; g++)
        fprintf(manifest, "%s%" PRIu64, g ? "," : "", st.split_offsets[g]);
    fputs("],\"columns\":[", manifest);
    for (uint32_t c = 0; c < st.ncols; c++) {
        const tw_parquet_column_stats *cs = &st.cols[c];
        fprintf(manifest,
                "%s{\"field_id\":%d,\"value_count\":%" PRIu64 ",\"null_count\":%" PRIu64
                ",\"nan_count\":%" PRIu64 ",\"compressed_bytes\":%" PRIu64 ",\"min\":",
                c ? "," : "", cs->field_id, cs->value_count, cs->null_count, cs->nan_count,
                cs->compressed_bytes);
        json_value(manifest, &cs->min);
        fputs(",\"max\":", manifest);
        json_value(manifest, &cs->max);
        fputc('}', manifest);
    }
    fputs("]}}", manifest);
    tw_parquet_file_stats_free(&st);
}

static int cmd_files(const char *dir)
{
    static const tw_parquet_codec codecs[] = {TW_PARQUET_ZSTD, TW_PARQUET_SNAPPY, TW_PARQUET_GZIP,
                                              TW_PARQUET_UNCOMPRESSED};
    static const char *codec_files[] = {"types_zstd", "types_snappy", "types_gzip", "types_none"};
    spec specs[16];
    uint32_t n = 0;
    for (int i = 0; i < 4; i++)
        specs[n++] = (spec){codec_files[i], all_types, 10, 5000, fill_all_types,
                            {.codec = codecs[i], .page_bytes = 8192}};
    specs[n++] = (spec){"types_plain", all_types, 10, 3000, fill_all_types, {.no_dictionary = true}};
    specs[n++] = (spec){"all_null", all_types, 10, 1500, fill_all_null, {0}};
    specs[n++] = (spec){"nan_only", nan_cols, 2, 100, fill_nan, {0}};
    specs[n++] = (spec){"big", big_cols, 4, 1000000, fill_big, {.row_group_bytes = 4 << 20}};
    specs[n++] = (spec){"strings_dict", string_cols, 3, 3000, fill_strings,
                        {.dictionary_max_bytes = 16 << 10, .page_bytes = 64 << 10}};
    specs[n++] = (spec){"strings_plain", string_cols, 3, 3000, fill_strings,
                        {.no_dictionary = true, .codec = TW_PARQUET_SNAPPY}};
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    FILE *manifest = fopen(path, "w");
    if (!manifest)
        die(path, NULL);
    fputs("[\n", manifest);
    for (uint32_t i = 0; i < n; i++)
        write_spec(dir, &specs[i], manifest, i == 0);
    fputs("\n]\n", manifest);
    return fclose(manifest) == 0 ? 0 : 1;
}

/* ---- benchmark ---- */

static const tw_parquet_column anomaly_cols[] = {
    {"device_id", TW_T_VARCHAR, 1, false},          {"window_start", TW_T_TIMESTAMP, 2, false},
    {"window_end", TW_T_TIMESTAMP, 3, false},       {"avg_latency_ms", TW_T_FLOAT64, 4, false},
    {"avg_packet_loss_rate", TW_T_FLOAT64, 5, false}, {"avg_bandwidth_usage", TW_T_FLOAT64, 6, false},
    {"is_high_latency", TW_T_BOOL, 7, false},       {"is_high_packet_loss", TW_T_BOOL, 8, false},
    {"is_bandwidth_saturation", TW_T_BOOL, 9, false}};

/* Anomaly rows of 10-second windows over 1000 devices: in each window about
 * 300 devices are anomalous, in device order, with averages that are
 * arbitrary doubles (means of samples). */
static int cmd_bench(const char *out_path, uint64_t rows)
{
    enum { DEVICES = 1000 };
    static char names[DEVICES][16];
    for (int d = 0; d < DEVICES; d++)
        snprintf(names[d], sizeof names[d], "device_%04d", d);
    tw_type types[9];
    for (int c = 0; c < 9; c++)
        types[c] = anomaly_cols[c].type;
    uint32_t nbatches = (uint32_t)((rows + TW_BATCH_ROWS - 1) / TW_BATCH_ROWS);
    tw_batch **batches = tw_xcalloc(nbatches, sizeof *batches);
    int64_t window_us = INT64_C(1769546830000000);
    int device = 0;
    for (uint32_t bi = 0; bi < nbatches; bi++) {
        tw_batch *b = batches[bi] = tw_batch_new(types, 9, TW_BATCH_ROWS);
        b->nrows = (uint32_t)(rows - (uint64_t)bi * TW_BATCH_ROWS < TW_BATCH_ROWS ? rows - (uint64_t)bi * TW_BATCH_ROWS
                                                                                 : TW_BATCH_ROWS);
        for (uint32_t r = 0; r < b->nrows; r++) {
            device += 1 + (int)(rng() % 6);
            if (device >= DEVICES) {
                device %= DEVICES;
                window_us += 10000000;
            }
            double lat = 20 + rng_unit() * 120, loss = rng_unit() * 8, bw = 40 + rng_unit() * 60;
            b->cols[0].s[r] = (tw_str){names[device], 11};
            b->cols[1].i64[r] = window_us;
            b->cols[2].i64[r] = window_us + 10000000;
            b->cols[3].f64[r] = lat;
            b->cols[4].f64[r] = loss;
            b->cols[5].f64[r] = bw;
            b->cols[6].b[r] = lat > 100;
            b->cols[7].b[r] = loss > 5;
            b->cols[8].b[r] = bw > 90;
            for (int c = 0; c < 9; c++)
                b->cols[c].valid[r] = 1;
        }
    }
    FILE *out = fopen(out_path, "wb");
    if (!out)
        die(out_path, NULL);
    tw_err err;
    tw_err_clear(&err);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tw_parquet_writer *w = tw_parquet_writer_new(anomaly_cols, 9, NULL, file_write, out, &err);
    if (!w)
        die("bench", &err);
    for (uint32_t bi = 0; bi < nbatches; bi++)
        if (!tw_parquet_writer_add_batch(w, batches[bi], &err))
            die("bench", &err);
    tw_parquet_file_stats st;
    if (!tw_parquet_writer_close(w, &st, &err) || fflush(out) != 0)
        die("bench", &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"rows\":%" PRIu64 ",\"seconds\":%.4f,\"bytes\":%" PRIu64 "}\n", st.record_count, seconds,
           st.file_size_bytes);
    tw_parquet_file_stats_free(&st);
    tw_parquet_writer_free(w);
    fclose(out);
    for (uint32_t bi = 0; bi < nbatches; bi++)
        tw_batch_free(batches[bi]);
    free(batches);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "files"))
        return cmd_files(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "bench"))
        return cmd_bench(argv[2], strtoull(argv[3], NULL, 10));
    fprintf(stderr, "usage: parquet_write files DIR | parquet_write bench OUT ROWS\n");
    return 2;
}

/* json_decode_bench.c - throughput of the NDJSON decoder against jansson.
 *
 * Build and run from the project root (not part of the CMake build):
 *   gcc -O2 -std=gnu17 -Isrc -o /tmp/json_decode_bench bench/json_decode_bench.c \
 *       src/decode/json.c src/exec/batch.c src/exec/types.c src/common/arena.c \
 *       src/common/timeutil.c -ljansson -lm && /tmp/json_decode_bench [lines]
 *
 * Generates seed-like lines (the netsim's shape) in memory, decodes them into
 * 1024-row batches with tw_json_decode, then parses the same lines with
 * jansson's json_loadb and reads every field into the same batch, so both
 * sides do the same work: text to typed columns. Reports the best of three
 * runs of each.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/timeutil.h"
#include "decode/json.h"

static const char *const names[] = {"device_id", "timestamp",  "src_ip",
                                    "dst_ip",    "protocol",   "latency_ms",
                                    "packet_loss_rate", "bandwidth_usage_percent", "flow_bytes"};
static const tw_type types[] = {TW_T_VARCHAR, TW_T_TIMESTAMP, TW_T_VARCHAR, TW_T_VARCHAR, TW_T_VARCHAR,
                                TW_T_FLOAT64, TW_T_FLOAT64,   TW_T_FLOAT64, TW_T_INT64};
#define NCOLS 9

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *generate(size_t nlines, size_t *out_len)
{
    static const char *const protos[] = {"TCP", "UDP", "ICMP"};
    size_t cap = nlines * 300;
    char *buf = malloc(cap);
    size_t len = 0;
    uint64_t seed = 42;
    int64_t ts_us = INT64_C(1769546833482913);
    for (size_t i = 0; i < nlines; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        unsigned r = (unsigned)(seed >> 33);
        char ts[48];
        tw_timestamp_format(ts_us + (int64_t)i * 1013, ts, "Z");
        len += (size_t)snprintf(buf + len, cap - len,
                                "{\"device_id\":\"router-%02u\",\"timestamp\":\"%s\",\"src_ip\":\"192.168.%u.%u\","
                                "\"dst_ip\":\"10.0.%u.%u\",\"protocol\":\"%s\",\"latency_ms\":%u.%02u,"
                                "\"packet_loss_rate\":%u.%02u,\"bandwidth_usage_percent\":%u.%u,"
                                "\"flow_bytes\":%u}\n",
                                r % 20 + 1, ts, r % 7, r % 250, r % 3, r % 200, protos[r % 3], r % 90 + 1,
                                r % 100, r % 3, (r >> 8) % 100, r % 100, (r >> 4) % 10, (r >> 3) % 1000000);
    }
    *out_len = len;
    return buf;
}

static double run_decoder(const char *buf, size_t len, uint64_t *rows)
{
    tw_json_decoder *dec = tw_json_decoder_new(names, types, NCOLS);
    tw_batch *batch = tw_batch_new(types, NCOLS, TW_BATCH_ROWS);
    tw_decode_stats stats = {0};
    double t0 = now_s();
    size_t off = 0;
    while (off < len) {
        tw_batch_reset(batch);
        off += tw_json_decode(dec, buf + off, len - off, true, batch, &stats);
    }
    double dt = now_s() - t0;
    *rows = stats.rows;
    if (stats.malformed || stats.type_errors) {
        fprintf(stderr, "unexpected: %llu malformed, %llu type errors\n", (unsigned long long)stats.malformed,
                (unsigned long long)stats.type_errors);
        exit(1);
    }
    tw_batch_free(batch);
    tw_json_decoder_free(dec);
    return dt;
}

static double run_jansson(const char *buf, size_t len, uint64_t *rows)
{
    tw_batch *batch = tw_batch_new(types, NCOLS, TW_BATCH_ROWS);
    uint64_t n = 0;
    double t0 = now_s();
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        json_t *obj = json_loadb(p, (size_t)(eol - p), 0, NULL);
        if (!obj) {
            fprintf(stderr, "jansson rejected a line\n");
            exit(1);
        }
        if (batch->nrows == batch->capacity)
            tw_batch_reset(batch);
        uint32_t row = batch->nrows++;
        for (int c = 0; c < NCOLS; c++) {
            json_t *v = json_object_get(obj, names[c]);
            tw_column *col = &batch->cols[c];
            col->valid[row] = 1;
            switch (types[c]) {
            case TW_T_VARCHAR:
                col->s[row] = tw_batch_strdup(batch, json_string_value(v), json_string_length(v));
                break;
            case TW_T_TIMESTAMP:
                tw_timestamp_parse(json_string_value(v), json_string_length(v), &col->i64[row]);
                break;
            case TW_T_FLOAT64: col->f64[row] = json_number_value(v); break;
            default: col->i64[row] = json_integer_value(v); break;
            }
        }
        json_decref(obj);
        n++;
        p = eol + 1;
    }
    double dt = now_s() - t0;
    *rows = n;
    tw_batch_free(batch);
    return dt;
}

int main(int argc, char **argv)
{
    size_t nlines = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    size_t len;
    char *buf = generate(nlines, &len);
    double best_dec = 1e9, best_jan = 1e9;
    uint64_t rows = 0;
    for (int i = 0; i < 3; i++) {
        double t = run_decoder(buf, len, &rows);
        if (t < best_dec)
            best_dec = t;
    }
    if (rows != nlines) {
        fprintf(stderr, "decoded %llu rows of %zu\n", (unsigned long long)rows, nlines);
        return 1;
    }
    for (int i = 0; i < 3; i++) {
        double t = run_jansson(buf, len, &rows);
        if (t < best_jan)
            best_jan = t;
    }
    double mb = (double)len / 1e6;
    printf("input: %zu lines, %.1f MB (%.0f bytes/line)\n", nlines, mb, (double)len / (double)nlines);
    printf("tw_json_decode: %8.1f MB/s %10.0f rows/s\n", mb / best_dec, (double)nlines / best_dec);
    printf("jansson:        %8.1f MB/s %10.0f rows/s\n", mb / best_jan, (double)nlines / best_jan);
    printf("ratio: %.1fx\n", best_jan / best_dec);
    free(buf);
    return 0;
}

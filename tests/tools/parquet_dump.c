/* parquet_dump - prints a Parquet file's rows as read by tidewatch's reader,
 * for the test that checks the reader on files other writers made
 * (tests/integration/api_history.mjs reads DuckDB's COPY output with it).
 *
 *   parquet_dump FILE
 *       one JSON array per row, columns in file order: NULL as null,
 *       booleans, 64-bit integers and timestamps (microseconds) as decimal
 *       strings, floats with 17 significant digits. Exit 1 with the error
 *       on stderr when the file cannot be read.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "iceberg/parquet_read.h"

static void print_string(const tw_str *s)
{
    putchar('"');
    for (uint32_t i = 0; i < s->len; i++) {
        unsigned char ch = (unsigned char)s->ptr[i];
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: parquet_dump FILE\n");
        return 2;
    }
    tw_err err;
    tw_parquet_reader *r = tw_parquet_reader_open_file(argv[1], &err);
    if (!r) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    uint32_t ncols = tw_parquet_reader_ncols(r);
    uint32_t *cols = calloc(ncols ? ncols : 1, sizeof *cols);
    for (uint32_t c = 0; c < ncols; c++)
        cols[c] = c;
    int status = 0;
    for (uint32_t g = 0; g < tw_parquet_reader_num_row_groups(r) && !status; g++) {
        tw_batch *b = tw_parquet_reader_read(r, g, cols, ncols, &err);
        if (!b) {
            fprintf(stderr, "%s\n", err.msg);
            status = 1;
            break;
        }
        for (uint32_t row = 0; row < b->nrows; row++) {
            putchar('[');
            for (uint32_t c = 0; c < ncols; c++) {
                if (c)
                    putchar(',');
                tw_value v = tw_column_get(&b->cols[c], row);
                if (v.is_null) {
                    fputs("null", stdout);
                    continue;
                }
                switch (tw_type_phys(v.type)) {
                case TW_PHYS_BOOL: fputs(v.b ? "true" : "false", stdout); break;
                case TW_PHYS_I64: printf("\"%" PRId64 "\"", v.i64); break;
                case TW_PHYS_F64:
                    if (isfinite(v.f64))
                        printf("%.17g", v.f64);
                    else
                        printf("\"%s\"", isnan(v.f64) ? "NaN" : v.f64 > 0 ? "Infinity" : "-Infinity");
                    break;
                case TW_PHYS_STR: print_string(&v.s); break;
                }
            }
            puts("]");
        }
        tw_batch_free(b);
    }
    free(cols);
    tw_parquet_reader_free(r);
    return status;
}

/* output.c - see output.h. */
#include "cli/output.h"

#include <stdlib.h>
#include <string.h>

#include "exec/expr.h"

bool tw_output_format_parse(const char *name, tw_output_format *out)
{
    if (!strcmp(name, "csv"))
        *out = TW_OUT_CSV;
    else if (!strcmp(name, "json"))
        *out = TW_OUT_JSON;
    else if (!strcmp(name, "table"))
        *out = TW_OUT_TABLE;
    else
        return false;
    return true;
}

static void csv_field(FILE *out, const char *s, size_t n, bool is_string)
{
    bool quote = is_string && n == 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        fwrite(s, 1, n, out);
        return;
    }
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            fputc('"', out);
        fputc(s[i], out);
    }
    fputc('"', out);
}

static void json_str(FILE *out, const char *s, size_t n)
{
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

/* Formats into buf, or returns a pointer to a string value's own bytes. */
static const char *cell(const tw_value *v, char *buf, size_t cap, size_t *n)
{
    if (v->type == TW_T_VARCHAR && !v->is_null) {
        *n = v->s.len;
        return v->s.ptr;
    }
    *n = tw_value_format(v, buf, cap);
    return buf;
}

void tw_output_print(FILE *out, const tw_result *res, tw_output_format format)
{
    char buf[128];
    size_t n;
    if (format == TW_OUT_CSV) {
        for (uint32_t c = 0; c < res->ncols; c++) {
            if (c)
                fputc(',', out);
            csv_field(out, res->names[c], strlen(res->names[c]), false);
        }
        fputc('\n', out);
        for (uint32_t b = 0; b < res->nbatches; b++) {
            const tw_batch *batch = res->batches[b];
            for (uint32_t r = 0; r < batch->nrows; r++) {
                for (uint32_t c = 0; c < res->ncols; c++) {
                    if (c)
                        fputc(',', out);
                    tw_value v = tw_column_get(&batch->cols[c], r);
                    if (v.is_null)
                        continue;
                    const char *s = cell(&v, buf, sizeof buf, &n);
                    csv_field(out, s, n, v.type == TW_T_VARCHAR);
                }
                fputc('\n', out);
            }
        }
        return;
    }
    if (format == TW_OUT_JSON) {
        for (uint32_t b = 0; b < res->nbatches; b++) {
            const tw_batch *batch = res->batches[b];
            for (uint32_t r = 0; r < batch->nrows; r++) {
                fputc('{', out);
                for (uint32_t c = 0; c < res->ncols; c++) {
                    if (c)
                        fputs(", ", out);
                    json_str(out, res->names[c], strlen(res->names[c]));
                    fputs(": ", out);
                    tw_value v = tw_column_get(&batch->cols[c], r);
                    if (v.is_null) {
                        fputs("null", out);
                        continue;
                    }
                    const char *s = cell(&v, buf, sizeof buf, &n);
                    bool bare = tw_type_is_numeric(v.type) || v.type == TW_T_BOOL;
                    if (bare && ((v.type != TW_T_FLOAT32 && v.type != TW_T_FLOAT64) ||
                                 (strcmp(s, "NaN") && !strstr(s, "Infinity"))))
                        fwrite(s, 1, n, out);
                    else
                        json_str(out, s, n);
                }
                fputs("}\n", out);
            }
        }
        return;
    }
    /* table: measure, then print */
    size_t *width = calloc(res->ncols ? res->ncols : 1, sizeof *width);
    for (uint32_t c = 0; c < res->ncols; c++)
        width[c] = strlen(res->names[c]);
    for (uint32_t b = 0; b < res->nbatches; b++)
        for (uint32_t r = 0; r < res->batches[b]->nrows; r++)
            for (uint32_t c = 0; c < res->ncols; c++) {
                tw_value v = tw_column_get(&res->batches[b]->cols[c], r);
                cell(&v, buf, sizeof buf, &n);
                if (n > width[c])
                    width[c] = n;
            }
    for (uint32_t c = 0; c < res->ncols; c++)
        fprintf(out, "%s %-*s ", c ? "|" : "", (int)width[c], res->names[c]);
    fputc('\n', out);
    for (uint32_t c = 0; c < res->ncols; c++) {
        fputs(c ? "+" : "", out);
        for (size_t i = 0; i < width[c] + 2; i++)
            fputc('-', out);
    }
    fputc('\n', out);
    for (uint32_t b = 0; b < res->nbatches; b++)
        for (uint32_t r = 0; r < res->batches[b]->nrows; r++) {
            for (uint32_t c = 0; c < res->ncols; c++) {
                tw_value v = tw_column_get(&res->batches[b]->cols[c], r);
                const char *s = cell(&v, buf, sizeof buf, &n);
                bool right = tw_type_is_numeric(v.type);
                fprintf(out, "%s %*s%.*s%*s ", c ? "|" : "",
                        right ? (int)(width[c] - n) : 0, "", (int)n, s,
                        right ? 0 : (int)(width[c] - n), "");
            }
            fputc('\n', out);
        }
    fprintf(out, "(%llu row%s)\n", (unsigned long long)res->nrows, res->nrows == 1 ? "" : "s");
    free(width);
}

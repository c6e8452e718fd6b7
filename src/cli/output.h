/* output.h - printing batch query results: CSV, JSON lines, or a table. */
#ifndef TW_CLI_OUTPUT_H
#define TW_CLI_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "exec/engine.h"

typedef enum tw_output_format {
    TW_OUT_CSV,
    TW_OUT_JSON,
    TW_OUT_TABLE,
} tw_output_format;

/* Parses "csv" | "json" | "table". */
bool tw_output_format_parse(const char *name, tw_output_format *out);

/* Prints a result. CSV: a header row, NULL as an empty field, strings quoted
 * only when needed (and always when empty, to tell them from NULL). JSON:
 * one object per row. Table: aligned columns with a row count. */
void tw_output_print(FILE *out, const tw_result *result, tw_output_format format);

#endif

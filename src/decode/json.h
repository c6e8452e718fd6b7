/* json.h - schema-directed NDJSON decoder (FORMAT PLAIN ENCODE JSON).
 *
 * Turns newline-delimited JSON objects into rows of a column batch whose
 * columns are the source's declared columns, in one pass over the bytes.
 * Rules (docs/sql.md, "JSON input"):
 *   - each line must be exactly one JSON object (RFC 8259, UTF-8); leading
 *     and trailing whitespace is allowed; blank lines are skipped silently;
 *   - a line that is anything else (truncated, invalid UTF-8, NaN, trailing
 *     bytes, nesting deeper than TW_JSON_MAX_DEPTH, ...) is malformed: it is
 *     counted, handed to the dead-letter callback if one is set, and skipped;
 *     the rows around it are unaffected;
 *   - keys match column names exactly, else ASCII case-insensitively;
 *     unknown keys are ignored; when a key repeats, the last one wins;
 *   - a missing key or JSON null gives SQL NULL;
 *   - a value of the wrong type for its column gives NULL for that field and
 *     counts one type error; the row is kept.
 * Accepted per column type: BOOLEAN <- true/false; SMALLINT/INT/BIGINT <- an
 * integer number within range (no fraction or exponent); REAL/DOUBLE <- any
 * number; VARCHAR <- a string; TIMESTAMP/TIMESTAMPTZ <- a string that
 * tw_timestamp_parse accepts.
 */
#ifndef TW_DECODE_JSON_H
#define TW_DECODE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec/batch.h"

#define TW_JSON_MAX_DEPTH 512

typedef struct tw_decode_stats {
    uint64_t lines;       /* non-blank lines looked at */
    uint64_t rows;        /* rows produced */
    uint64_t malformed;   /* lines skipped as not one JSON object */
    uint64_t type_errors; /* fields set to NULL because the value had the wrong type */
} tw_decode_stats;

/* Called once per malformed line with the line's bytes (without the newline)
 * and a short reason ("truncated JSON", "invalid UTF-8", ...). */
typedef void (*tw_dead_letter_fn)(void *ctx, const char *line, size_t len, const char *reason);

typedef struct tw_json_decoder tw_json_decoder;

/* Creates a decoder for columns names[0..ncols) of the given types. The
 * names are copied. Never NULL. */
tw_json_decoder *tw_json_decoder_new(const char *const *names, const tw_type *types, uint32_t ncols);
void tw_json_decoder_free(tw_json_decoder *dec);

void tw_json_decoder_set_dead_letter(tw_json_decoder *dec, tw_dead_letter_fn fn, void *ctx);

/* Decodes complete lines of buf[0..len) into `out` (whose columns are the
 * decoder's, in order), appending rows until out->nrows == out->capacity or
 * the complete lines run out. A line is complete when it ends with '\n'; when
 * at_eof is true a final line without '\n' is complete too. Returns the
 * number of bytes consumed, always ending at a line boundary; the caller
 * keeps the rest for the next call.
 *
 * String values that needed no unescaping point into buf: the caller keeps
 * buf unchanged until it is done with the batch. Unescaped strings are copied
 * into out's arena. Counts are added to *stats. */
size_t tw_json_decode(tw_json_decoder *dec, const char *buf, size_t len, bool at_eof,
                      tw_batch *out, tw_decode_stats *stats);

/* Decodes one message buf[0..len) (a Kafka record: one JSON object, no
 * newline needed; newlines inside it are whitespace) into the next row of
 * `out`, which must have room (out->nrows < out->capacity). Returns true when
 * a row was appended. A blank message is skipped without counting; a
 * malformed one is counted, handed to the dead-letter callback and skipped.
 * Strings point into buf as with tw_json_decode. Counts are added to *stats. */
bool tw_json_decode_message(tw_json_decoder *dec, const char *buf, size_t len, tw_batch *out,
                            tw_decode_stats *stats);

#endif

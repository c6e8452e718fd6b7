/* fuzz_json.c - libFuzzer target for the NDJSON decoder (decode/json).
 *
 * Build and run from the project root (not part of the CMake build):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -o /tmp/fuzz_json \
 *       tests/fuzz/fuzz_json.c src/decode/json.c src/exec/batch.c src/exec/types.c \
 *       src/common/arena.c src/common/timeutil.c -ljansson -lm
 *   /tmp/fuzz_json -max_total_time=60 -max_len=4096 tests/data/json
 *
 * Checks, for any input: consumption stops only at line boundaries; every
 * non-blank line is either a row or a malformed line; NULL slots are zeroed;
 * every VARCHAR value is valid UTF-8 and points into the input or the
 * batch's arena. Then, line by line, the decoder's verdict is compared with
 * jansson's (an independent RFC 8259 parser): a line jansson accepts as an
 * object must decode, and a line that decodes must be a jansson object,
 * except where the two policies differ: jansson refuses numbers it cannot
 * hold, the decoder refuses nesting deeper than TW_JSON_MAX_DEPTH, and
 * jansson's reader takes a raw NUL byte for the end of the input.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/json.h"

static const char *const names[] = {"b", "s", "i", "l", "r", "d", "v", "t", "tz"};
static const tw_type types[] = {TW_T_BOOL,    TW_T_INT16,   TW_T_INT32,     TW_T_INT64,      TW_T_FLOAT32,
                                TW_T_FLOAT64, TW_T_VARCHAR, TW_T_TIMESTAMP, TW_T_TIMESTAMPTZ};
#define NCOLS 9

static bool utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n)
            return false;
        uint32_t cp = len == 1 ? c : c & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

static void check_batch(const tw_batch *b)
{
    for (uint32_t r = 0; r < b->nrows; r++) {
        for (uint32_t c = 0; c < b->ncols; c++) {
            const tw_column *col = &b->cols[c];
            if (!col->valid[r]) {
                switch (tw_type_phys(col->type)) {
                case TW_PHYS_BOOL: if (col->b[r]) abort(); break;
                case TW_PHYS_I64: if (col->i64[r]) abort(); break;
                case TW_PHYS_F64: if (col->f64[r] != 0) abort(); break;
                case TW_PHYS_STR: if (col->s[r].ptr || col->s[r].len) abort(); break;
                }
                continue;
            }
            if (col->type == TW_T_VARCHAR) {
                /* Outside the input means in the arena; utf8_ok reads every
                 * byte, so ASan flags a slice that points anywhere else. */
                if (!utf8_ok((const unsigned char *)col->s[r].ptr, col->s[r].len))
                    abort();
            }
        }
    }
}

static size_t count_containers(const uint8_t *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += p[i] == '[' || p[i] == '{';
    return k;
}

static bool blank(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

static void compare_with_jansson(tw_json_decoder *dec, tw_batch *one, const uint8_t *line, size_t len)
{
    if (blank(line, len) || memchr(line, '\0', len))
        return;
    tw_batch_reset(one);
    tw_decode_stats st = {0};
    if (tw_json_decode(dec, (const char *)line, len, true, one, &st) != len)
        abort();
    bool ours = st.rows == 1;
    json_error_t err;
    json_t *j = json_loadb((const char *)line, len, JSON_ALLOW_NUL, &err);
    bool theirs = j && json_is_object(j);
    json_decref(j);
    if (ours == theirs)
        return;
    if (ours && !j && (strstr(err.text, "too big") || strstr(err.text, "overflow")))
        return;
    if (theirs && count_containers(line, len) > TW_JSON_MAX_DEPTH)
        return;
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tw_json_decoder *dec;
    static tw_batch *batch, *one;
    if (!dec) {
        dec = tw_json_decoder_new(names, types, NCOLS);
        batch = tw_batch_new(types, NCOLS, 4);
        one = tw_batch_new(types, NCOLS, 1);
    }
    /* A private copy so reads past the input are caught by ASan exactly. */
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    tw_decode_stats st = {0};
    size_t off = 0;
    while (off < size) {
        tw_batch_reset(batch);
        size_t used = tw_json_decode(dec, (const char *)buf + off, size - off, true, batch, &st);
        if (used > size - off || (used == 0 && batch->nrows < batch->capacity))
            abort();
        off += used;
        if (off < size && buf[off - 1] != '\n')
            abort();
        check_batch(batch);
    }
    if (st.lines != st.rows + st.malformed)
        abort();
    const uint8_t *p = buf, *end = buf + size;
    while (p < end) {
        const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        compare_with_jansson(dec, one, p, (size_t)(eol - p));
        p = eol + 1;
    }
    free(buf);
    return 0;
}

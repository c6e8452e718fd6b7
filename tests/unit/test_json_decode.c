/* Unit tests for decode/json: the NDJSON decoder's grammar, types, dead
 * letters, batch boundaries and a seeded randomized round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "common/timeutil.h"
#include "decode/json.h"

/* Columns of every type, used by most tests. */
enum { C_B, C_S, C_I, C_L, C_R, C_D, C_V, C_T, C_TZ, NCOLS };
static const char *const names[NCOLS] = {"b", "s", "i", "l", "r", "d", "v", "t", "tz"};
static const tw_type types[NCOLS] = {TW_T_BOOL,    TW_T_INT16,   TW_T_INT32,     TW_T_INT64,      TW_T_FLOAT32,
                                     TW_T_FLOAT64, TW_T_VARCHAR, TW_T_TIMESTAMP, TW_T_TIMESTAMPTZ};

typedef struct fixture {
    tw_json_decoder *dec;
    tw_batch *batch;
    tw_decode_stats stats;
    int dead_count;
    char dead_reason[64];
    char *dead_line;
    size_t dead_len;
} fixture;

static void on_dead(void *ctx, const char *line, size_t len, const char *reason)
{
    fixture *f = ctx;
    f->dead_count++;
    snprintf(f->dead_reason, sizeof f->dead_reason, "%s", reason);
    free(f->dead_line);
    f->dead_line = malloc(len + 1);
    memcpy(f->dead_line, line, len);
    f->dead_line[len] = '\0';
    f->dead_len = len;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dec = tw_json_decoder_new(names, types, NCOLS);
    f->batch = tw_batch_new(types, NCOLS, 64);
    tw_json_decoder_set_dead_letter(f->dec, on_dead, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tw_json_decoder_free(f->dec);
    tw_batch_free(f->batch);
    free(f->dead_line);
    free(f);
    return 0;
}

/* Decodes all of text (at_eof) and checks everything was consumed. */
static void decode(fixture *f, const char *text)
{
    size_t len = strlen(text);
    assert_int_equal(tw_json_decode(f->dec, text, len, true, f->batch, &f->stats), len);
}

static tw_column *col(fixture *f, int c)
{
    return &f->batch->cols[c];
}

static void assert_str(const tw_column *c, uint32_t row, const char *want, size_t want_len)
{
    assert_int_equal(c->valid[row], 1);
    assert_int_equal(c->s[row].len, want_len);
    assert_memory_equal(c->s[row].ptr, want, want_len);
}

static void assert_sql_null(const tw_column *c, uint32_t row)
{
    assert_int_equal(c->valid[row], 0);
    switch (tw_type_phys(c->type)) {
    case TW_PHYS_BOOL: assert_int_equal(c->b[row], 0); break;
    case TW_PHYS_I64: assert_int_equal(c->i64[row], 0); break;
    case TW_PHYS_F64: assert_true(c->f64[row] == 0 && !signbit(c->f64[row])); break;
    case TW_PHYS_STR: assert_null(c->s[row].ptr); assert_int_equal(c->s[row].len, 0); break;
    }
}

static void test_all_types(void **state)
{
    fixture *f = *state;
    decode(f, "{\"b\":true,\"s\":-12,\"i\":123456,\"l\":-9000000000,\"r\":0.1,\"d\":23.41,"
              "\"v\":\"router-01\",\"t\":\"2026-01-27T20:47:13.482913Z\",\"tz\":\"1970-01-01 01:00:00+01:00\"}\n"
              "{\"b\":false}\n");
    assert_int_equal(f->batch->nrows, 2);
    assert_int_equal(col(f, C_B)->b[0], 1);
    assert_int_equal(col(f, C_S)->i64[0], -12);
    assert_int_equal(col(f, C_I)->i64[0], 123456);
    assert_int_equal(col(f, C_L)->i64[0], INT64_C(-9000000000));
    assert_true(col(f, C_R)->f64[0] == (double)0.1f);
    assert_true(col(f, C_D)->f64[0] == 23.41);
    assert_str(col(f, C_V), 0, "router-01", 9);
    assert_int_equal(col(f, C_T)->i64[0], INT64_C(1769546833482913));
    assert_int_equal(col(f, C_TZ)->i64[0], 0);
    for (int c = 0; c < NCOLS; c++)
        assert_int_equal(col(f, c)->valid[0], 1);
    assert_int_equal(col(f, C_B)->valid[1], 1);
    assert_int_equal(col(f, C_B)->b[1], 0);
    assert_int_equal(f->stats.lines, 2);
    assert_int_equal(f->stats.rows, 2);
    assert_int_equal(f->stats.malformed, 0);
    assert_int_equal(f->stats.type_errors, 0);
}

static void test_escapes_and_unicode(void **state)
{
    fixture *f = *state;
    decode(f, "{\"v\":\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\"}\n"
              "{\"v\":\"\\u00e9\\u20AC\\ud83d\\ude00\\u0000x\"}\n"
              "{\"v\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}\n");
    assert_int_equal(f->batch->nrows, 3);
    assert_str(col(f, C_V), 0, "a\"b\\c/d\be\ff\ng\rh\ti", 17);
    assert_str(col(f, C_V), 1, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0x", 11);
    assert_str(col(f, C_V), 2, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14);
}

static void test_zero_copy_and_copied_strings(void **state)
{
    fixture *f = *state;
    const char *text = "{\"v\":\"plain\"}\n{\"v\":\"esc\\n\"}\n";
    decode(f, text);
    const tw_str *s = col(f, C_V)->s;
    assert_ptr_equal(s[0].ptr, text + 6);
    assert_true(s[1].ptr < text || s[1].ptr >= text + strlen(text));
    assert_str(col(f, C_V), 1, "esc\n", 4);
}

typedef struct bad_line {
    const char *text;
    const char *reason;
} bad_line;

static void test_malformed_lines(void **state)
{
    fixture *f = *state;
    static const bad_line bad[] = {
        {"{\"l\":1", "truncated JSON"},
        {"{\"v\":\"abc", "truncated JSON"},
        {"{\"v\":\"abc\\", "truncated JSON"},
        {"{\"l\":tru", "truncated JSON"},
        {"{\"x\":[1,{\"y\":", "truncated JSON"},
        {"{", "truncated JSON"},
        {"{\"v\":\"\xff\"}", "invalid UTF-8"},
        {"{\"v\":\"\xc0\x80\"}", "invalid UTF-8"},         /* overlong NUL */
        {"{\"v\":\"\xe0\x80\xaf\"}", "invalid UTF-8"},     /* overlong '/' */
        {"{\"v\":\"\xed\xa0\x80\"}", "invalid UTF-8"},     /* surrogate D800 */
        {"{\"v\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8"}, /* above U+10FFFF */
        {"{\"v\":\"\x80\"}", "invalid UTF-8"},             /* lone continuation */
        {"{\"v\":\"\xc3\"}", "invalid UTF-8"},             /* cut sequence */
        {"{\"unknown\":[\"\xfe\"]}", "invalid UTF-8"},
        {"{\"\xff\":1}", "invalid UTF-8"},
        {"{\"l\":1} \xff", "invalid UTF-8"},
        {"{\"d\":NaN}", "invalid number"},
        {"{\"d\":Infinity}", "invalid number"},
        {"{\"d\":-Infinity}", "invalid number"},
        {"{\"l\":01}", "invalid number"},
        {"{\"l\":-01}", "invalid number"},
        {"{\"l\":+1}", "invalid number"},
        {"{\"d\":.5}", "invalid number"},
        {"{\"d\":1.}", "invalid number"},
        {"{\"d\":1e}", "invalid number"},
        {"{\"d\":1e+}", "invalid number"},
        {"{\"l\":0x10}", "invalid number"},
        {"{\"l\":-}", "invalid number"},
        {"{\"x\":[NaN]}", "invalid number"},
        {"{\"v\":\"\\ud800\"}", "invalid escape"},
        {"{\"v\":\"\\udc00\"}", "invalid escape"},
        {"{\"v\":\"\\ud800\\u0041\"}", "invalid escape"},
        {"{\"v\":\"\\x41\"}", "invalid escape"},
        {"{\"v\":\"\\u12g4\"}", "invalid escape"},
        {"{\"v\":\"a\tb\"}", "control character in string"},
        {"{\"l\":1}x", "trailing characters"},
        {"{\"l\":1}{\"l\":2}", "trailing characters"},
        {"[1,2]", "not a JSON object"},
        {"42", "not a JSON object"},
        {"\"str\"", "not a JSON object"},
        {"null", "not a JSON object"},
        {"{\"l\" 1}", "invalid JSON"},
        {"{\"l\":1,}", "invalid JSON"},
        {"{l:1}", "invalid JSON"},
        {"{'l':1}", "invalid JSON"},
        {"{\"l\":1 \"i\":2}", "invalid JSON"},
        {"{\"x\":[1 2]}", "invalid JSON"},
        {"{\"x\":{\"a\":1]}", "invalid JSON"},
        {"{\"b\":nul}", "invalid JSON"},
        {"{\"b\":True}", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "%s\n", bad[i].text);
        f->dead_count = 0;
        uint64_t malformed = f->stats.malformed;
        decode(f, text);
        if (f->dead_count != 1 || strcmp(f->dead_reason, bad[i].reason) != 0)
            fail_msg("line %zu '%s': got %d dead letters, reason '%s', want '%s'", i, bad[i].text, f->dead_count,
                     f->dead_reason, bad[i].reason);
        assert_int_equal(f->stats.malformed, malformed + 1);
        assert_string_equal(f->dead_line, bad[i].text);
    }
    assert_int_equal(f->batch->nrows, 0);
    assert_int_equal(f->stats.rows, 0);
}

static void test_malformed_line_does_not_disturb_neighbours(void **state)
{
    fixture *f = *state;
    decode(f, "{\"l\":1}\n{\"l\":2,\"v\":\"x\"\r\n{\"l\":3}\r\n");
    assert_int_equal(f->batch->nrows, 2);
    assert_int_equal(col(f, C_L)->i64[0], 1);
    assert_int_equal(col(f, C_L)->i64[1], 3);
    assert_sql_null(col(f, C_V), 1);
    assert_int_equal(f->stats.lines, 3);
    assert_int_equal(f->stats.malformed, 1);
    /* The dead letter gets the line without its "\r\n". */
    assert_string_equal(f->dead_line, "{\"l\":2,\"v\":\"x\"");
}

/* {"x":[[...[1]...]]}: the outer object plus depth - 1 arrays. */
static char *nested(size_t depth)
{
    char *s = malloc(depth * 2 + 16);
    size_t n = (size_t)sprintf(s, "{\"x\":");
    for (size_t i = 1; i < depth; i++)
        s[n++] = '[';
    s[n++] = '1';
    for (size_t i = 1; i < depth; i++)
        s[n++] = ']';
    memcpy(s + n, "}\n", 3);
    return s;
}

static void test_nesting_limit(void **state)
{
    fixture *f = *state;
    /* The outer object is level 1; TW_JSON_MAX_DEPTH levels in all are fine. */
    char *ok = nested(TW_JSON_MAX_DEPTH);
    decode(f, ok);
    assert_int_equal(f->batch->nrows, 1);
    assert_int_equal(f->dead_count, 0);
    char *over = nested(TW_JSON_MAX_DEPTH + 1);
    decode(f, over);
    assert_int_equal(f->batch->nrows, 1);
    assert_string_equal(f->dead_reason, "nesting too deep");
    free(ok);
    free(over);
}

static void test_deep_nesting_100000(void **state)
{
    fixture *f = *state;
    size_t depth = 100000;
    size_t len = 5 + depth * 7 + 16;
    char *s = malloc(len);
    size_t n = 0;
    n += (size_t)sprintf(s, "{\"l\":");
    for (size_t i = 0; i < depth; i++)
        n += (size_t)sprintf(s + n, i % 2 ? "{\"k\":" : "[");
    s[n++] = '\n';
    s[n] = '\0';
    decode(f, s);
    assert_int_equal(f->dead_count, 1);
    assert_string_equal(f->dead_reason, "nesting too deep");
    assert_int_equal(f->batch->nrows, 0);
    free(s);
}

static void test_huge_strings(void **state)
{
    fixture *f = *state;
    size_t big = 1 << 20;
    char *text = malloc(2 * big + 64);
    /* Line 1: a plain 1 MB string (zero-copy); line 2: 1 MB with an escape (copied). */
    size_t n = (size_t)sprintf(text, "{\"v\":\"");
    for (size_t i = 0; i < big; i++)
        text[n++] = (char)('a' + i % 26);
    n += (size_t)sprintf(text + n, "\"}\n{\"v\":\"\\t");
    memset(text + n, 'z', big);
    n += big;
    memcpy(text + n, "\"}\n", 4);
    decode(f, text);
    assert_int_equal(f->batch->nrows, 2);
    assert_int_equal(col(f, C_V)->s[0].len, big);
    assert_ptr_equal(col(f, C_V)->s[0].ptr, text + 6);
    assert_int_equal(col(f, C_V)->s[1].len, big + 1);
    assert_int_equal(col(f, C_V)->s[1].ptr[0], '\t');
    assert_int_equal(col(f, C_V)->s[1].ptr[big], 'z');
    free(text);
}

static void test_empty_object_is_a_null_row(void **state)
{
    fixture *f = *state;
    decode(f, "{}\n  { }  \n");
    assert_int_equal(f->batch->nrows, 2);
    for (int c = 0; c < NCOLS; c++) {
        assert_sql_null(col(f, c), 0);
        assert_sql_null(col(f, c), 1);
    }
    assert_int_equal(f->stats.malformed, 0);
}

static void test_blank_lines_skipped(void **state)
{
    fixture *f = *state;
    decode(f, "\n   \n\t\r\n{\"l\":5}\n\r\n\n");
    assert_int_equal(f->batch->nrows, 1);
    assert_int_equal(f->stats.lines, 1);
    assert_int_equal(f->stats.malformed, 0);
    assert_int_equal(f->dead_count, 0);
}

static void test_whitespace_everywhere(void **state)
{
    fixture *f = *state;
    decode(f, " \t{ \"l\" \t: \r 7 , \"v\" :\"x\" ,\"x\" : [ 1 , { \"a\" : null } ] } \t\r\n");
    assert_int_equal(f->batch->nrows, 1);
    assert_int_equal(col(f, C_L)->i64[0], 7);
    assert_str(col(f, C_V), 0, "x", 1);
}

static void test_missing_and_null(void **state)
{
    fixture *f = *state;
    /* Row 0 fills every slot so row 1's NULLs must be written, not left over. */
    decode(f, "{\"b\":true,\"s\":1,\"i\":1,\"l\":1,\"r\":1,\"d\":1,\"v\":\"a\",\"t\":\"2026-01-01 00:00:00\","
              "\"tz\":\"2026-01-01 00:00:00\"}\n"
              "{\"b\":true,\"s\":1,\"i\":1,\"l\":1,\"r\":1,\"d\":1,\"v\":\"a\",\"t\":\"2026-01-01 00:00:00\","
              "\"tz\":\"2026-01-01 00:00:00\"}\n");
    tw_batch_reset(f->batch);
    decode(f, "{\"b\":null,\"s\":null,\"i\":null,\"l\":null,\"r\":null,\"d\":null,\"v\":null,\"t\":null}\n"
              "{\"l\":3}\n");
    assert_int_equal(f->batch->nrows, 2);
    for (int c = 0; c < NCOLS; c++)
        assert_sql_null(col(f, c), 0);
    for (int c = 0; c < NCOLS; c++)
        if (c != C_L)
            assert_sql_null(col(f, c), 1);
    assert_int_equal(f->stats.type_errors, 0);
}

static void test_wrong_types_counted(void **state)
{
    fixture *f = *state;
    decode(f, "{\"b\":1,\"s\":\"1\",\"i\":1.5,\"l\":1e2,\"r\":true,\"d\":\"2\",\"v\":3,\"t\":\"yesterday\",\"tz\":5}\n"
              "{\"l\":{\"a\":[1,2]},\"v\":[\"x\"],\"d\":[],\"b\":{}}\n");
    assert_int_equal(f->batch->nrows, 2);
    for (int c = 0; c < NCOLS; c++)
        assert_sql_null(col(f, c), 0);
    assert_sql_null(col(f, C_L), 1);
    assert_sql_null(col(f, C_V), 1);
    assert_int_equal(f->stats.type_errors, 13);
    assert_int_equal(f->stats.malformed, 0);
}

static void test_duplicate_keys_last_wins(void **state)
{
    fixture *f = *state;
    decode(f, "{\"l\":1,\"l\":2}\n{\"l\":1,\"l\":null}\n{\"l\":1,\"l\":\"x\"}\n{\"v\":\"a\",\"V\":\"b\"}\n");
    assert_int_equal(f->batch->nrows, 4);
    assert_int_equal(col(f, C_L)->i64[0], 2);
    assert_sql_null(col(f, C_L), 1);
    assert_sql_null(col(f, C_L), 2);
    assert_str(col(f, C_V), 3, "b", 1);
    assert_int_equal(f->stats.type_errors, 1);
}

static void test_case_insensitive_keys(void **state)
{
    (void)state;
    const char *const cols[] = {"Device", "DEVICE", "ts"};
    const tw_type t[] = {TW_T_VARCHAR, TW_T_VARCHAR, TW_T_INT64};
    tw_json_decoder *dec = tw_json_decoder_new(cols, t, 3);
    tw_batch *b = tw_batch_new(t, 3, 8);
    const char *text = "{\"DEVICE\":\"exact\",\"TS\":1}\n{\"device\":\"folded\",\"Ts\":2}\n{\"dev\\u0069ce\":\"esc\"}\n";
    tw_decode_stats st = {0};
    assert_int_equal(tw_json_decode(dec, text, strlen(text), true, b, &st), strlen(text));
    assert_int_equal(b->nrows, 3);
    assert_int_equal(b->cols[0].valid[0], 0);
    assert_str(&b->cols[1], 0, "exact", 5);
    assert_int_equal(b->cols[2].i64[0], 1);
    assert_str(&b->cols[0], 1, "folded", 6);
    assert_int_equal(b->cols[1].valid[1], 0);
    assert_int_equal(b->cols[2].i64[1], 2);
    assert_str(&b->cols[0], 2, "esc", 3);
    tw_batch_free(b);
    tw_json_decoder_free(dec);
}

static void test_unknown_fields_skipped(void **state)
{
    fixture *f = *state;
    decode(f, "{\"meta\":{\"a\":[1,2.5e3,{\"b\":[true,false,null]},\"s\\u00e9\"],\"c\":{}},\"l\":9,"
              "\"tags\":[[],[[]],{}],\"n\":-0.0e-0,\"z\":\"\xe2\x82\xac\"}\n");
    assert_int_equal(f->batch->nrows, 1);
    assert_int_equal(col(f, C_L)->i64[0], 9);
    assert_int_equal(f->stats.type_errors, 0);
}

static void test_batch_full_returns_line_boundary(void **state)
{
    fixture *f = *state;
    tw_batch *small = tw_batch_new(types, NCOLS, 2);
    const char *text = "{\"l\":1}\n\n{\"l\":2}\n{\"l\":3}\nbad\n{\"l\":4}\n{\"l\":5}\n";
    size_t len = strlen(text);
    size_t used = tw_json_decode(f->dec, text, len, true, small, &f->stats);
    assert_int_equal(used, strlen("{\"l\":1}\n\n{\"l\":2}\n"));
    assert_int_equal(small->nrows, 2);
    tw_batch_reset(small);
    size_t used2 = tw_json_decode(f->dec, text + used, len - used, true, small, &f->stats);
    assert_int_equal(used2, strlen("{\"l\":3}\nbad\n{\"l\":4}\n"));
    assert_int_equal(small->cols[C_L].i64[0], 3);
    assert_int_equal(small->cols[C_L].i64[1], 4);
    /* A full batch takes nothing. */
    assert_int_equal(tw_json_decode(f->dec, text + used + used2, len - used - used2, true, small, &f->stats), 0);
    tw_batch_reset(small);
    used += used2;
    assert_int_equal(tw_json_decode(f->dec, text + used, len - used, true, small, &f->stats), len - used);
    assert_int_equal(small->nrows, 1);
    assert_int_equal(small->cols[C_L].i64[0], 5);
    assert_int_equal(f->stats.rows, 5);
    assert_int_equal(f->stats.malformed, 1);
    tw_batch_free(small);
}

static void test_final_line_without_newline(void **state)
{
    fixture *f = *state;
    const char *text = "{\"l\":1}\n{\"l\":2}";
    size_t len = strlen(text);
    assert_int_equal(tw_json_decode(f->dec, text, len, false, f->batch, &f->stats), 8);
    assert_int_equal(f->batch->nrows, 1);
    assert_int_equal(f->stats.lines, 1);
    assert_int_equal(tw_json_decode(f->dec, text + 8, len - 8, false, f->batch, &f->stats), 0);
    assert_int_equal(tw_json_decode(f->dec, text + 8, len - 8, true, f->batch, &f->stats), len - 8);
    assert_int_equal(f->batch->nrows, 2);
    assert_int_equal(col(f, C_L)->i64[1], 2);
    /* At EOF a cut line is malformed, not waited for. */
    const char *cut = "{\"l\":3";
    assert_int_equal(tw_json_decode(f->dec, cut, strlen(cut), true, f->batch, &f->stats), strlen(cut));
    assert_string_equal(f->dead_reason, "truncated JSON");
    assert_int_equal(f->batch->nrows, 2);
}

static void test_real_rounding(void **state)
{
    fixture *f = *state;
    static const char *const vals[] = {"0.1",       "16777217",     "3.4028235e38",      "1.17549435e-38",
                                       "1e-45",     "0.3333333333", "123456789.123456789", "2.5e-10",
                                       "8.589973e9", "1.00000005960464477539062499", "-7.0e-3",
                                       "1.00000005960464477539062501"};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char line[96];
        snprintf(line, sizeof line, "{\"r\":%s}\n", vals[i]);
        tw_batch_reset(f->batch);
        decode(f, line);
        double want = (double)strtof(vals[i], NULL);
        if (col(f, C_R)->f64[0] != want)
            fail_msg("REAL %s: got %.17g want %.17g", vals[i], col(f, C_R)->f64[0], want);
    }
    tw_batch_reset(f->batch);
    decode(f, "{\"r\":3.5e38,\"d\":3.5e38}\n{\"r\":1e-50}\n");
    assert_sql_null(col(f, C_R), 0);
    assert_true(col(f, C_D)->f64[0] == 3.5e38);
    assert_true(col(f, C_R)->f64[1] == 0);
    assert_int_equal(f->stats.type_errors, 1);
}

static void test_double_values(void **state)
{
    fixture *f = *state;
    static const char *const vals[] = {"0",   "-0.0", "23.41", "1.7976931348623157e308", "4.9e-324",
                                       "0.1", "9007199254740993", "123456789012345678901234567890",
                                       "1e22", "1e23", "-2.2250738585072014E-308", "0.000001234e+5",
                                       "5e-1000", "1E400"};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char line[96];
        snprintf(line, sizeof line, "{\"d\":%s}\n", vals[i]);
        tw_batch_reset(f->batch);
        uint64_t type_errors = f->stats.type_errors;
        decode(f, line);
        double want = strtod(vals[i], NULL);
        if (isinf(want)) {
            assert_int_equal(f->stats.type_errors, type_errors + 1);
            assert_sql_null(col(f, C_D), 0);
            continue;
        }
        double got = col(f, C_D)->f64[0];
        if (memcmp(&got, &want, sizeof got) != 0)
            fail_msg("DOUBLE %s: got %.17g want %.17g", vals[i], got, want);
    }
}

static void test_integer_ranges(void **state)
{
    fixture *f = *state;
    decode(f, "{\"s\":32767,\"i\":2147483647,\"l\":9223372036854775807}\n"
              "{\"s\":-32768,\"i\":-2147483648,\"l\":-9223372036854775808}\n"
              "{\"s\":32768,\"i\":2147483648,\"l\":9223372036854775808}\n"
              "{\"s\":-32769,\"i\":-2147483649,\"l\":-9223372036854775809}\n"
              "{\"s\":-0,\"i\":0,\"l\":100000000000000000000}\n");
    assert_int_equal(f->batch->nrows, 5);
    assert_int_equal(col(f, C_S)->i64[0], 32767);
    assert_int_equal(col(f, C_I)->i64[0], 2147483647);
    assert_int_equal(col(f, C_L)->i64[0], INT64_MAX);
    assert_int_equal(col(f, C_S)->i64[1], -32768);
    assert_int_equal(col(f, C_I)->i64[1], -2147483648LL);
    assert_int_equal(col(f, C_L)->i64[1], INT64_MIN);
    for (int c = C_S; c <= C_L; c++) {
        assert_sql_null(col(f, c), 2);
        assert_sql_null(col(f, c), 3);
    }
    assert_int_equal(col(f, C_S)->valid[4], 1);
    assert_int_equal(col(f, C_S)->i64[4], 0);
    assert_sql_null(col(f, C_L), 4);
    assert_int_equal(f->stats.type_errors, 7);
}

static void test_timestamps(void **state)
{
    fixture *f = *state;
    decode(f, "{\"t\":\"2026-01-27T20:47:13Z\",\"tz\":\"2026-01-27T21:47:13.5+01:00\"}\n"
              "{\"t\":\"2026-01-27 20:47:13\",\"tz\":\"2026-01-27T20:47:13\\u002e5Z\"}\n"
              "{\"t\":\"2026-02-30T00:00:00Z\"}\n");
    assert_int_equal(f->batch->nrows, 3);
    int64_t base = INT64_C(1769546833000000);
    assert_int_equal(col(f, C_T)->i64[0], base);
    assert_int_equal(col(f, C_TZ)->i64[0], base + 500000);
    assert_int_equal(col(f, C_T)->i64[1], base);
    assert_int_equal(col(f, C_TZ)->i64[1], base + 500000);
    assert_sql_null(col(f, C_T), 2);
    assert_int_equal(f->stats.type_errors, 1);
}

/* The fixed-layout fast path must agree with tw_timestamp_parse. */
static void test_timestamp_fast_path_matches_parser(void **state)
{
    fixture *f = *state;
    static const char *const vals[] = {
        "2024-02-29T00:00:00Z",        "2023-02-29T00:00:00Z",        "2100-02-29T00:00:00Z",
        "2000-02-29T12:00:00.000001Z", "0000-01-01T00:00:00Z",        "9999-12-31T23:59:59.999999Z",
        "2026-01-27t20:47:13Z",        "2026-13-01T00:00:00Z",        "2026-00-10T00:00:00Z",
        "2026-01-00T00:00:00Z",        "2026-04-31T00:00:00Z",        "2026-01-27T24:00:00Z",
        "2026-01-27T20:60:00Z",        "2026-01-27T20:47:60Z",        "2026-01-27T20:47:13.48291aZ",
        "2026-01-27T20:47:13.482913z", "2026-01-27 20:47:13.482913Z", "2026-01-27T20:47:13,482913Z",
        "2026+01-27T20:47:13Z",        "20a6-01-27T20:47:13Z"};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char line[96];
        snprintf(line, sizeof line, "{\"t\":\"%s\"}\n", vals[i]);
        tw_batch_reset(f->batch);
        decode(f, line);
        int64_t want = 0;
        bool ok = tw_timestamp_parse(vals[i], strlen(vals[i]), &want);
        if (col(f, C_T)->valid[0] != ok || (ok && col(f, C_T)->i64[0] != want))
            fail_msg("timestamp %s: decoder %d/%lld, parser %d/%lld", vals[i], col(f, C_T)->valid[0],
                     (long long)col(f, C_T)->i64[0], ok, (long long)want);
    }
}

/* ---- randomized round trip ---------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

typedef struct expect {
    bool present;
    bool b;
    int64_t i;
    double d;
    char s[64];
    size_t slen;
} expect;

static size_t put_ws(char *p)
{
    static const char *const ws[] = {"", "", "", " ", "\t", " \r ", "  "};
    const char *w = ws[rnd() % 7];
    size_t n = strlen(w);
    memcpy(p, w, n);
    return n;
}

/* Writes a random string value for column V: plain ASCII, escapes, \u
 * escapes and raw UTF-8, recording the decoded bytes. */
static size_t put_string(char *p, expect *e)
{
    size_t n = 0;
    e->slen = 0;
    p[n++] = '"';
    int parts = (int)(rnd() % 6);
    for (int k = 0; k < parts; k++) {
        switch (rnd() % 5) {
        case 0:
            p[n++] = (char)('a' + rnd() % 26);
            e->s[e->slen++] = p[n - 1];
            break;
        case 1:
            memcpy(p + n, "\\n", 2);
            n += 2;
            e->s[e->slen++] = '\n';
            break;
        case 2:
            memcpy(p + n, "\\u00e9", 6);
            n += 6;
            memcpy(e->s + e->slen, "\xc3\xa9", 2);
            e->slen += 2;
            break;
        case 3:
            memcpy(p + n, "\\ud83d\\ude00", 12);
            n += 12;
            memcpy(e->s + e->slen, "\xf0\x9f\x98\x80", 4);
            e->slen += 4;
            break;
        default:
            memcpy(p + n, "\xe2\x82\xac", 3);
            n += 3;
            memcpy(e->s + e->slen, "\xe2\x82\xac", 3);
            e->slen += 3;
            break;
        }
    }
    p[n++] = '"';
    return n;
}

static size_t put_value(char *p, int c, expect *e)
{
    e->present = true;
    switch (c) {
    case C_B:
        e->b = rnd() & 1;
        return (size_t)sprintf(p, e->b ? "true" : "false");
    case C_S:
        e->i = (int64_t)(rnd() % 65536) - 32768;
        return (size_t)sprintf(p, "%lld", (long long)e->i);
    case C_I:
        e->i = (int64_t)(int32_t)rnd();
        return (size_t)sprintf(p, "%lld", (long long)e->i);
    case C_L:
        e->i = (int64_t)rnd();
        return (size_t)sprintf(p, "%lld", (long long)e->i);
    case C_R:
    case C_D: {
        char text[40];
        switch (rnd() % 3) {
        case 0: snprintf(text, sizeof text, "%.17g", (double)(int64_t)rnd() / (double)(rnd() % 100000 + 1)); break;
        case 1: snprintf(text, sizeof text, "%u.%02u", (unsigned)(rnd() % 1000), (unsigned)(rnd() % 100)); break;
        default: snprintf(text, sizeof text, "%de%d", (int)(rnd() % 2000) - 1000, (int)(rnd() % 76) - 40); break;
        }
        e->d = c == C_R ? (double)strtof(text, NULL) : strtod(text, NULL);
        return (size_t)sprintf(p, "%s", text);
    }
    case C_V: return put_string(p, e);
    default: {
        e->i = (int64_t)(rnd() % (INT64_C(4000000000) * TW_USEC_PER_SEC));
        char ts[48];
        tw_timestamp_format(e->i, ts, "Z");
        return (size_t)sprintf(p, "\"%s\"", ts);
    }
    }
}

static void test_randomized_round_trip(void **state)
{
    fixture *f = *state;
    rng_state = 0x9e3779b97f4a7c15ULL;
    enum { LINES = 64 };
    char *text = malloc(LINES * 2048);
    expect *want = calloc(LINES * NCOLS, sizeof *want);
    for (int round = 0; round < 20; round++) {
        memset(want, 0, LINES * NCOLS * sizeof *want);
        size_t n = 0;
        for (int line = 0; line < LINES; line++) {
            int order[NCOLS];
            for (int c = 0; c < NCOLS; c++)
                order[c] = c;
            for (int c = NCOLS - 1; c > 0; c--) {
                int j = (int)(rnd() % (uint64_t)(c + 1));
                int t = order[c];
                order[c] = order[j];
                order[j] = t;
            }
            n += put_ws(text + n);
            text[n++] = '{';
            bool first = true;
            for (int k = 0; k < NCOLS; k++) {
                int c = order[k];
                if (rnd() % 4 == 0)
                    continue; /* missing */
                if (!first)
                    text[n++] = ',';
                first = false;
                if (rnd() % 5 == 0)
                    n += (size_t)sprintf(text + n, "\"extra%d\":[{\"q\":\"\\\"\"},-1.5e3,null],", k);
                n += put_ws(text + n);
                n += (size_t)sprintf(text + n, "\"%s\"", rnd() % 3 ? names[c] : (c == C_V ? "V" : names[c]));
                n += put_ws(text + n);
                text[n++] = ':';
                n += put_ws(text + n);
                if (rnd() % 8 == 0) {
                    n += (size_t)sprintf(text + n, "null");
                } else {
                    n += put_value(text + n, c, &want[line * NCOLS + c]);
                }
                n += put_ws(text + n);
            }
            text[n++] = '}';
            n += put_ws(text + n);
            text[n++] = '\n';
        }
        text[n] = '\0';
        tw_batch_reset(f->batch);
        decode(f, text);
        assert_int_equal(f->batch->nrows, LINES);
        for (int line = 0; line < LINES; line++) {
            for (int c = 0; c < NCOLS; c++) {
                const expect *e = &want[line * NCOLS + c];
                const tw_column *cl = col(f, c);
                if (!e->present) {
                    assert_sql_null(cl, (uint32_t)line);
                    continue;
                }
                assert_int_equal(cl->valid[line], 1);
                switch (c) {
                case C_B: assert_int_equal(cl->b[line], e->b); break;
                case C_R:
                case C_D:
                    if (cl->f64[line] != e->d)
                        fail_msg("round %d line %d col %d: %.17g != %.17g", round, line, c, cl->f64[line], e->d);
                    break;
                case C_V: assert_str(cl, (uint32_t)line, e->s, e->slen); break;
                default: assert_int_equal(cl->i64[line], e->i); break;
                }
            }
        }
    }
    assert_int_equal(f->stats.malformed, 0);
    assert_int_equal(f->stats.type_errors, 0);
    free(text);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_all_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escapes_and_unicode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_copy_and_copied_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_line_does_not_disturb_neighbours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_nesting_100000, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_object_is_a_null_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blank_lines_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whitespace_everywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_types_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_keys_last_wins, setup, teardown),
        cmocka_unit_test(test_case_insensitive_keys),
        cmocka_unit_test_setup_teardown(test_unknown_fields_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_full_returns_line_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_final_line_without_newline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_rounding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_double_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integer_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timestamps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timestamp_fast_path_matches_parser, setup, teardown),
        cmocka_unit_test_setup_teardown(test_randomized_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

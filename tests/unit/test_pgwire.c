/* test_pgwire.c - the PostgreSQL protocol layer: framing, message parsing,
 * parameter substitution, value formatting, error fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "serve/pgwire.h"

/* A message under construction: type byte, length, body. */
typedef struct msgbuf {
    uint8_t b[512];
    size_t n;
} msgbuf;

static void put(msgbuf *m, const void *p, size_t n)
{
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void put_i32(msgbuf *m, int32_t v)
{
    uint8_t b[4] = {(uint8_t)((uint32_t)v >> 24), (uint8_t)((uint32_t)v >> 16),
                    (uint8_t)((uint32_t)v >> 8), (uint8_t)v};
    put(m, b, 4);
}

static void put_i16(msgbuf *m, int16_t v)
{
    uint8_t b[2] = {(uint8_t)((uint16_t)v >> 8), (uint8_t)v};
    put(m, b, 2);
}

static void put_str(msgbuf *m, const char *s)
{
    put(m, s, strlen(s) + 1);
}

static void begin(msgbuf *m, char type)
{
    m->n = 0;
    m->b[m->n++] = (uint8_t)type;
    put_i32(m, 0);
}

static void end(msgbuf *m)
{
    uint32_t len = (uint32_t)(m->n - 1);
    m->b[1] = (uint8_t)(len >> 24);
    m->b[2] = (uint8_t)(len >> 16);
    m->b[3] = (uint8_t)(len >> 8);
    m->b[4] = (uint8_t)len;
}

static void frame_needs_whole_message(void **state)
{
    (void)state;
    msgbuf m;
    begin(&m, 'Q');
    put_str(&m, "SELECT 1");
    end(&m);
    size_t n = 0;
    assert_int_equal(tw_pgwire_frame(m.b, 3, false, &n, NULL), TW_PGWIRE_NEED_MORE);
    assert_int_equal(tw_pgwire_frame(m.b, m.n - 1, false, &n, NULL), TW_PGWIRE_NEED_MORE);
    assert_int_equal(tw_pgwire_frame(m.b, m.n, false, &n, NULL), TW_PGWIRE_FRAMED);
    assert_int_equal(n, m.n);
}

static void frame_rejects_bad_lengths(void **state)
{
    (void)state;
    tw_err err;
    size_t n;
    uint8_t small[5] = {'Q', 0, 0, 0, 3};
    assert_int_equal(tw_pgwire_frame(small, 5, false, &n, &err), TW_PGWIRE_BAD_FRAME);
    uint8_t huge[5] = {'Q', 0x7f, 0xff, 0xff, 0xff};
    assert_int_equal(tw_pgwire_frame(huge, 5, false, &n, &err), TW_PGWIRE_BAD_FRAME);
    uint8_t startup[4] = {0, 1, 0, 0}; /* 65536 > the startup bound */
    assert_int_equal(tw_pgwire_frame(startup, 4, true, &n, &err), TW_PGWIRE_BAD_FRAME);
}

static void parses_startup_packet(void **state)
{
    (void)state;
    msgbuf m = {0};
    put_i32(&m, 0);
    put_i32(&m, 196608);
    put_str(&m, "user");
    put_str(&m, "root");
    put_str(&m, "database");
    put_str(&m, "dev");
    put(&m, "", 1);
    m.b[3] = (uint8_t)m.n;
    tw_pgwire_msg msg;
    tw_err err;
    assert_true(tw_pgwire_parse(m.b, m.n, true, &msg, &err));
    assert_int_equal(msg.kind, TW_PGWIRE_STARTUP);
    assert_int_equal(msg.u.startup.nparams, 2);
    assert_string_equal(msg.u.startup.keys[1], "database");
    assert_string_equal(msg.u.startup.values[1], "dev");
    tw_pgwire_msg_free(&msg);
}

static void parses_ssl_request(void **state)
{
    (void)state;
    uint8_t b[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
    tw_pgwire_msg msg;
    assert_true(tw_pgwire_parse(b, 8, true, &msg, NULL));
    assert_int_equal(msg.kind, TW_PGWIRE_SSL_REQUEST);
}

static void rejects_old_protocol(void **state)
{
    (void)state;
    uint8_t b[9] = {0, 0, 0, 9, 0, 2, 0, 0, 0};
    tw_pgwire_msg msg;
    tw_err err;
    assert_false(tw_pgwire_parse(b, 9, true, &msg, &err));
    assert_non_null(strstr(err.msg, "protocol"));
}

static void parses_bind_with_null_and_text(void **state)
{
    (void)state;
    msgbuf m;
    begin(&m, 'B');
    put_str(&m, "");
    put_str(&m, "s1");
    put_i16(&m, 1);
    put_i16(&m, 0);
    put_i16(&m, 2);
    put_i32(&m, 3);
    put(&m, "abc", 3);
    put_i32(&m, -1);
    put_i16(&m, 0);
    end(&m);
    tw_pgwire_msg msg;
    assert_true(tw_pgwire_parse(m.b, m.n, false, &msg, NULL));
    assert_int_equal(msg.kind, TW_PGWIRE_BIND);
    assert_string_equal(msg.u.bind.stmt, "s1");
    assert_int_equal(msg.u.bind.nparams, 2);
    assert_int_equal(msg.u.bind.params[0].len, 3);
    assert_memory_equal(msg.u.bind.params[0].ptr, "abc", 3);
    assert_int_equal(msg.u.bind.params[1].len, -1);
    tw_pgwire_msg_free(&msg);
}

static void rejects_bind_value_past_the_end(void **state)
{
    (void)state;
    msgbuf m;
    begin(&m, 'B');
    put_str(&m, "");
    put_str(&m, "");
    put_i16(&m, 0);
    put_i16(&m, 1);
    put_i32(&m, 1000);
    put(&m, "ab", 2);
    end(&m);
    tw_pgwire_msg msg;
    tw_err err;
    assert_false(tw_pgwire_parse(m.b, m.n, false, &msg, &err));
}

static void rejects_query_without_terminator(void **state)
{
    (void)state;
    msgbuf m;
    begin(&m, 'Q');
    put(&m, "SELECT 1", 8);
    end(&m);
    tw_pgwire_msg msg;
    tw_err err;
    assert_false(tw_pgwire_parse(m.b, m.n, false, &msg, &err));
}

static void rejects_unknown_message_type(void **state)
{
    (void)state;
    msgbuf m;
    begin(&m, 'z');
    end(&m);
    tw_pgwire_msg msg;
    tw_err err;
    assert_false(tw_pgwire_parse(m.b, m.n, false, &msg, &err));
    assert_non_null(strstr(err.msg, "'z'"));
}

static void parses_parse_with_types(void **state)
{
    (void)state;
    msgbuf m;
    begin(&m, 'P');
    put_str(&m, "q");
    put_str(&m, "SELECT $1");
    put_i16(&m, 1);
    put_i32(&m, 23);
    end(&m);
    tw_pgwire_msg msg;
    assert_true(tw_pgwire_parse(m.b, m.n, false, &msg, NULL));
    assert_int_equal(msg.u.parse.nparam_types, 1);
    assert_int_equal(msg.u.parse.param_types[0], 23);
    assert_int_equal(msg.u.parse.sql_len, 9);
    tw_pgwire_msg_free(&msg);
}

static char *subst(const char *sql, const uint32_t *types, uint32_t ntypes,
                   const tw_pgwire_value *vals, uint32_t n, tw_err *err)
{
    size_t len;
    return tw_pgwire_substitute(sql, strlen(sql), types, ntypes, vals, n, &len, err);
}

static void substitute_quotes_strings(void **state)
{
    (void)state;
    tw_pgwire_value v[1] = {{"it's'; DROP SOURCE s; --", 24}};
    char *out = subst("SELECT * FROM t WHERE a = $1", NULL, 0, v, 1, NULL);
    assert_string_equal(out, "SELECT * FROM t WHERE a = 'it''s''; DROP SOURCE s; --'");
    free(out);
}

static void substitute_leaves_literals_and_comments(void **state)
{
    (void)state;
    tw_pgwire_value v[1] = {{"7", 1}};
    char *out = subst("SELECT '$1', \"$1\" -- $1\n, $1", NULL, 0, v, 1, NULL);
    assert_string_equal(out, "SELECT '$1', \"$1\" -- $1\n, '7'");
    free(out);
}

static void substitute_typed_numbers_and_null(void **state)
{
    (void)state;
    uint32_t types[3] = {23, 701, 16};
    tw_pgwire_value v[3] = {{"-5", 2}, {"1.5e3", 5}, {"yes", 3}};
    char *out = subst("SELECT a-$1, $2, $3, $4", types, 3,
                      (tw_pgwire_value[]){v[0], v[1], v[2], {NULL, -1}}, 4, NULL);
    assert_string_equal(out, "SELECT a-(-5), 1.5e3, TRUE, NULL");
    free(out);
}

static void substitute_untyped_limit_is_a_number(void **state)
{
    (void)state;
    tw_pgwire_value v[1] = {{"10", 2}};
    char *out = subst("SELECT * FROM t LIMIT $1", NULL, 0, v, 1, NULL);
    assert_string_equal(out, "SELECT * FROM t LIMIT 10");
    free(out);
}

static void substitute_rejects_bad_typed_value(void **state)
{
    (void)state;
    uint32_t types[1] = {20};
    tw_pgwire_value v[1] = {{"1; DROP", 7}};
    tw_err err;
    assert_null(subst("SELECT $1", types, 1, v, 1, &err));
    assert_string_equal(tw_pgwire_sqlstate(&err), "22P02");
}

static void substitute_rejects_missing_parameter(void **state)
{
    (void)state;
    tw_err err;
    assert_null(subst("SELECT $2", NULL, 0, (tw_pgwire_value[]){{"1", 1}}, 1, &err));
}

static void substitute_separates_adjacent_literals(void **state)
{
    (void)state;
    /* 'a''b' would read as one string holding a quote. */
    tw_pgwire_value v[1] = {{"b", 1}};
    char *out = subst("SELECT 'a'$1", NULL, 0, v, 1, NULL);
    assert_string_equal(out, "SELECT 'a' 'b'");
    free(out);
}

static void counts_parameters(void **state)
{
    (void)state;
    const char *sql = "SELECT $2, '$9', $1";
    assert_int_equal(tw_pgwire_param_count(sql, strlen(sql)), 2);
    assert_int_equal(tw_pgwire_param_count("SELECT 1", 8), 0);
}

static void formats_values_like_postgres(void **state)
{
    (void)state;
    char buf[64];
    tw_value ts = {.type = TW_T_TIMESTAMP, .i64 = 1769546833482913};
    tw_pgwire_format_value(&ts, buf, sizeof buf);
    assert_string_equal(buf, "2026-01-27 20:47:13.482913");
    tw_value tz = {.type = TW_T_TIMESTAMPTZ, .i64 = 1769546830000000};
    tw_pgwire_format_value(&tz, buf, sizeof buf);
    assert_string_equal(buf, "2026-01-27 20:47:10+00");
    tw_value b = {.type = TW_T_BOOL, .b = 1};
    tw_pgwire_format_value(&b, buf, sizeof buf);
    assert_string_equal(buf, "t");
    tw_value iv = {.type = TW_T_INTERVAL, .i64 = 10000000};
    tw_pgwire_format_value(&iv, buf, sizeof buf);
    assert_string_equal(buf, "00:00:10");
}

static void maps_type_oids(void **state)
{
    (void)state;
    assert_int_equal(tw_pgwire_type_oid(TW_T_BOOL), 16);
    assert_int_equal(tw_pgwire_type_oid(TW_T_INT16), 21);
    assert_int_equal(tw_pgwire_type_oid(TW_T_INT32), 23);
    assert_int_equal(tw_pgwire_type_oid(TW_T_INT64), 20);
    assert_int_equal(tw_pgwire_type_oid(TW_T_FLOAT32), 700);
    assert_int_equal(tw_pgwire_type_oid(TW_T_FLOAT64), 701);
    assert_int_equal(tw_pgwire_type_oid(TW_T_VARCHAR), 1043);
    assert_int_equal(tw_pgwire_type_oid(TW_T_TIMESTAMP), 1114);
    assert_int_equal(tw_pgwire_type_oid(TW_T_TIMESTAMPTZ), 1184);
    assert_int_equal(tw_pgwire_type_oid(TW_T_INTERVAL), 1186);
}

static void error_offset_from_line_and_column(void **state)
{
    (void)state;
    const char *sql = "SELECT 1,\n  é, nope";
    char text[128];
    uint32_t off = tw_pgwire_error_offset(
        "<pgwire>:2:6: error: column 'nope' does not exist\n  é, nope\n     ^", sql, strlen(sql),
        text, sizeof text);
    assert_string_equal(text, "column 'nope' does not exist");
    /* Line 2 starts at byte 10; five code points in, 'é' being two bytes. */
    assert_int_equal(off, 10 + 6 + 1);
    assert_int_equal(tw_pgwire_error_offset("no location here", sql, strlen(sql), text,
                                            sizeof text),
                     0);
    assert_string_equal(text, "no location here");
}

static void sqlstates(void **state)
{
    (void)state;
    tw_err e = {TW_ERR_SYNTAX, "x:1:1: error: expected a statement"};
    assert_string_equal(tw_pgwire_sqlstate(&e), "42601");
    e = (tw_err){TW_ERR_BIND, "x:1:15: error: relation 'nope' does not exist"};
    assert_string_equal(tw_pgwire_sqlstate(&e), "42P01");
    e = (tw_err){TW_ERR_BIND, "x:1:8: error: column 'nope' does not exist"};
    assert_string_equal(tw_pgwire_sqlstate(&e), "42703");
    e = (tw_err){TW_ERR_BIND, "x:1:15: error: relation 'a' already exists"};
    assert_string_equal(tw_pgwire_sqlstate(&e), "42710");
    e = (tw_err){TW_ERR_UNSUPPORTED, "x:1:1: error: views are not supported yet"};
    assert_string_equal(tw_pgwire_sqlstate(&e), "0A000");
    e = (tw_err){TW_ERR_INTERNAL, "boom"};
    assert_string_equal(tw_pgwire_sqlstate(&e), "XX000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frame_needs_whole_message),
        cmocka_unit_test(frame_rejects_bad_lengths),
        cmocka_unit_test(parses_startup_packet),
        cmocka_unit_test(parses_ssl_request),
        cmocka_unit_test(rejects_old_protocol),
        cmocka_unit_test(parses_bind_with_null_and_text),
        cmocka_unit_test(rejects_bind_value_past_the_end),
        cmocka_unit_test(rejects_query_without_terminator),
        cmocka_unit_test(rejects_unknown_message_type),
        cmocka_unit_test(parses_parse_with_types),
        cmocka_unit_test(substitute_quotes_strings),
        cmocka_unit_test(substitute_leaves_literals_and_comments),
        cmocka_unit_test(substitute_typed_numbers_and_null),
        cmocka_unit_test(substitute_untyped_limit_is_a_number),
        cmocka_unit_test(substitute_rejects_bad_typed_value),
        cmocka_unit_test(substitute_rejects_missing_parameter),
        cmocka_unit_test(substitute_separates_adjacent_literals),
        cmocka_unit_test(counts_parameters),
        cmocka_unit_test(formats_values_like_postgres),
        cmocka_unit_test(maps_type_oids),
        cmocka_unit_test(error_offset_from_line_and_column),
        cmocka_unit_test(sqlstates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

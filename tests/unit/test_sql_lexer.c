/* Unit tests for sql/lexer: token kinds, decoding, operators, comments and
 * lexical errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sql/lexer.h"

typedef struct fixture {
    tw_arena arena;
    tw_sql_tokens toks;
} fixture;

static int setup(void **state)
{
    static fixture fx;
    tw_arena_init(&fx.arena, 0);
    memset(&fx.toks, 0, sizeof fx.toks);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    tw_sql_tokens_free(&fx->toks);
    tw_arena_free(&fx->arena);
    return 0;
}

static void lex(fixture *fx, const char *sql)
{
    tw_sql_tokens_free(&fx->toks);
    tw_sql_lex(sql, strlen(sql), "t.sql", &fx->arena, &fx->toks);
}

static void test_kinds_and_strings(void **state)
{
    fixture *fx = *state;
    lex(fx, "SELECT \"Mixed\"\"Q\" , 'it''s' E'a\\nb' 42 1.5 .5 1e-3 $2 ( ) [ ] ; . : ::");
    const tw_sql_tok_kind kinds[] = {
        TW_SQL_TOK_IDENT,   TW_SQL_TOK_QIDENT,  TW_SQL_TOK_COMMA,    TW_SQL_TOK_STRING,
        TW_SQL_TOK_STRING,  TW_SQL_TOK_INTEGER, TW_SQL_TOK_DECIMAL,  TW_SQL_TOK_DECIMAL,
        TW_SQL_TOK_DECIMAL, TW_SQL_TOK_PARAM,   TW_SQL_TOK_LPAREN,   TW_SQL_TOK_RPAREN,
        TW_SQL_TOK_LBRACKET, TW_SQL_TOK_RBRACKET, TW_SQL_TOK_SEMI,   TW_SQL_TOK_DOT,
        TW_SQL_TOK_COLON,   TW_SQL_TOK_DCOLON,  TW_SQL_TOK_EOF,
    };
    assert_int_equal(fx->toks.count, sizeof kinds / sizeof kinds[0]);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        assert_int_equal(fx->toks.items[i].kind, kinds[i]);
    assert_string_equal(fx->toks.items[0].str, "select");
    assert_string_equal(fx->toks.items[1].str, "Mixed\"Q");
    assert_string_equal(fx->toks.items[3].str, "it's");
    assert_string_equal(fx->toks.items[4].str, "a\nb");
    assert_string_equal(fx->toks.items[8].str, "1e-3");
    assert_int_equal(fx->toks.items[1].loc, 7);
    assert_int_equal(fx->toks.items[1].end, 17);
}

static void test_operators(void **state)
{
    fixture *fx = *state;
    lex(fx, "a<>b!=c<=d>=e||f<-1 *-2 @@ x");
    const char *ops[] = {"<>", "!=", "<=", ">=", "||", "<", "-", "*", "-", "@@"};
    size_t k = 0;
    for (uint32_t i = 0; i < fx->toks.count; i++)
        if (fx->toks.items[i].kind == TW_SQL_TOK_OP) {
            assert_true(k < sizeof ops / sizeof ops[0]);
            assert_string_equal(fx->toks.items[i].str, ops[k++]);
        }
    assert_int_equal(k, sizeof ops / sizeof ops[0]);
}

static void test_comments_and_eof_location(void **state)
{
    fixture *fx = *state;
    lex(fx, "a -- line\n/* outer /* inner */ still */ b  \n -- tail\n");
    assert_int_equal(fx->toks.count, 3);
    assert_string_equal(fx->toks.items[1].str, "b");
    assert_int_equal(fx->toks.items[2].kind, TW_SQL_TOK_EOF);
    /* EOF sits just after the last token, not after trailing comments. */
    assert_int_equal(fx->toks.items[2].loc, fx->toks.items[1].end);
}

static void test_lexical_errors(void **state)
{
    fixture *fx = *state;
    static const struct {
        const char *sql;
        uint32_t loc;
        const char *first_line;
    } cases[] = {
        {"a 'open", 2, "t.sql:1:3: error: unterminated string literal"},
        {"a \"open", 2, "t.sql:1:3: error: unterminated quoted identifier"},
        {"a /* /* */", 2, "t.sql:1:3: error: unterminated block comment"},
        {"a { b", 2, "t.sql:1:3: error: unexpected character '{'"},
        {"a 12abc", 2, "t.sql:1:3: error: trailing junk after numeric literal"},
        {"a $$body$$", 2, "t.sql:1:3: error: dollar-quoted strings are not supported yet"},
        {"a E'x\\", 2, "t.sql:1:3: error: unterminated string literal"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lex(fx, cases[i].sql);
        const tw_sql_token *last = &fx->toks.items[fx->toks.count - 1];
        assert_int_equal(last->kind, TW_SQL_TOK_ERROR);
        assert_int_equal(last->loc, cases[i].loc);
        assert_int_equal(fx->toks.error.code, TW_ERR_SYNTAX);
        size_t n = strcspn(fx->toks.error.msg, "\n");
        if (strlen(cases[i].first_line) != n || strncmp(fx->toks.error.msg, cases[i].first_line, n) != 0)
            fail_msg("for %s: got %s", cases[i].sql, fx->toks.error.msg);
    }
}

static void test_describe(void **state)
{
    fixture *fx = *state;
    const char *sql = "WITH 'a string' ";
    lex(fx, sql);
    char buf[64];
    assert_string_equal(tw_sql_token_describe(&fx->toks.items[0], sql, buf, sizeof buf), "'WITH'");
    assert_string_equal(tw_sql_token_describe(&fx->toks.items[1], sql, buf, sizeof buf),
                        "string literal 'a string'");
    assert_string_equal(tw_sql_token_describe(&fx->toks.items[2], sql, buf, sizeof buf), "end of input");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kinds_and_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operators, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comments_and_eof_location, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lexical_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_describe, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

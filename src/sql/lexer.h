/* lexer.h - SQL text to tokens.
 *
 * Splits a whole script into tokens up front so that the parser can look
 * ahead freely. Comments (-- to end of line, nested block comments) and
 * whitespace are dropped. Token strings (lowercased identifiers, decoded
 * literals) are allocated in the caller's arena; the token array itself is
 * heap memory owned by the tw_sql_tokens and released by tw_sql_tokens_free.
 *
 * A lexical error does not stop tokenizing immediately for the caller:
 * the array ends with a TW_SQL_TOK_ERROR token at the bad spot and the
 * message is kept in tw_sql_tokens.error, so the parser reports it only if
 * it reaches that point (an earlier syntax error is reported first).
 */
#ifndef TW_SQL_LEXER_H
#define TW_SQL_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/err.h"

typedef enum tw_sql_tok_kind {
    TW_SQL_TOK_EOF,
    TW_SQL_TOK_ERROR,   /* lexical error; see tw_sql_tokens.error */
    TW_SQL_TOK_IDENT,   /* unquoted identifier or keyword; str lowercased */
    TW_SQL_TOK_QIDENT,  /* "quoted" identifier; str unescaped, case kept */
    TW_SQL_TOK_STRING,  /* 'text' or E'text'; str unescaped */
    TW_SQL_TOK_INTEGER, /* digits; str as written */
    TW_SQL_TOK_DECIMAL, /* 1.5, .5, 1e-3; str as written */
    TW_SQL_TOK_OP,      /* operator: + - * / % = < > <= >= <> != || and others */
    TW_SQL_TOK_PARAM,   /* $1 */
    TW_SQL_TOK_LPAREN,
    TW_SQL_TOK_RPAREN,
    TW_SQL_TOK_LBRACKET,
    TW_SQL_TOK_RBRACKET,
    TW_SQL_TOK_COMMA,
    TW_SQL_TOK_SEMI,
    TW_SQL_TOK_DOT,
    TW_SQL_TOK_COLON,
    TW_SQL_TOK_DCOLON, /* :: */
} tw_sql_tok_kind;

typedef struct tw_sql_token {
    tw_sql_tok_kind kind;
    uint32_t loc; /* byte offset of the first character */
    uint32_t end; /* byte offset just after the token */
    const char *str; /* NUL-terminated, in the arena; NULL for punctuation */
    uint32_t str_len;
} tw_sql_token;

typedef struct tw_sql_tokens {
    tw_sql_token *items;
    uint32_t count; /* >= 1; the last token is EOF or ERROR */
    tw_err error;   /* the lexical error when the last token is ERROR */
} tw_sql_tokens;

/* Tokenizes text[0..len) (len < 4 GiB; the caller checks). Never fails as a
 * call: lexical errors end the array with an ERROR token (see above). The
 * EOF token's loc is just after the last token, for "found end of input"
 * messages. Release with tw_sql_tokens_free. */
void tw_sql_lex(const char *text, size_t len, const char *filename, tw_arena *arena,
                tw_sql_tokens *out);

void tw_sql_tokens_free(tw_sql_tokens *tokens);

/* Short description of a token for "found X" in messages: "'WITH'",
 * "end of input", "string literal", "number 42", ... Written into buf. */
const char *tw_sql_token_describe(const tw_sql_token *tok, const char *text, char *buf, size_t size);

#endif

/* lexer.c - see lexer.h. */
#include "sql/lexer.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/sqlerr.h"

typedef struct lexer {
    const char *text;
    size_t len;
    const char *filename;
    tw_arena *arena;
    size_t pos;
    tw_sql_tokens *out;
    uint32_t cap;
} lexer;

static bool is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_ident_char(unsigned char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_op_char(unsigned char c)
{
    return c != '\0' && strchr("+-*/<>=~!@#%^&|`?", c) != NULL;
}

static int peek_at(const lexer *lx, size_t ahead)
{
    size_t i = lx->pos + ahead;
    return i < lx->len ? (unsigned char)lx->text[i] : -1;
}

static tw_sql_token *push(lexer *lx, tw_sql_tok_kind kind, size_t start, size_t end)
{
    tw_sql_tokens *out = lx->out;
    if (out->count == lx->cap) {
        lx->cap = lx->cap ? lx->cap * 2 : 64;
        out->items = tw_xrealloc(out->items, lx->cap * sizeof *out->items);
    }
    tw_sql_token *tok = &out->items[out->count++];
    tok->kind = kind;
    tok->loc = (uint32_t)start;
    tok->end = (uint32_t)end;
    tok->str = NULL;
    tok->str_len = 0;
    return tok;
}

static void set_str(lexer *lx, tw_sql_token *tok, const char *s, size_t n)
{
    tok->str = tw_arena_strndup(lx->arena, s, n);
    tok->str_len = (uint32_t)n;
}

/* Records a lexical error as the final token. Returns false so that the
 * scanning loop stops. */
static bool lex_error(lexer *lx, size_t loc, const char *message)
{
    push(lx, TW_SQL_TOK_ERROR, loc, loc + 1 <= lx->len ? loc + 1 : loc);
    tw_sql_error_at(&lx->out->error, TW_ERR_SYNTAX, lx->text, lx->len, lx->filename,
                    (uint32_t)loc, "%s", message);
    return false;
}

/* Skips whitespace and comments. Returns false on an unterminated block
 * comment (after recording the error). */
static bool skip_space(lexer *lx)
{
    for (;;) {
        int c = peek_at(lx, 0);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            lx->pos++;
        } else if (c == '-' && peek_at(lx, 1) == '-') {
            while (lx->pos < lx->len && lx->text[lx->pos] != '\n')
                lx->pos++;
        } else if (c == '/' && peek_at(lx, 1) == '*') {
            size_t start = lx->pos;
            unsigned depth = 0;
            do {
                if (lx->pos + 1 >= lx->len)
                    return lex_error(lx, start, "unterminated block comment");
                if (lx->text[lx->pos] == '/' && lx->text[lx->pos + 1] == '*') {
                    depth++;
                    lx->pos += 2;
                } else if (lx->text[lx->pos] == '*' && lx->text[lx->pos + 1] == '/') {
                    depth--;
                    lx->pos += 2;
                } else {
                    lx->pos++;
                }
            } while (depth > 0);
        } else {
            return true;
        }
    }
}

/* Bytes from lx->pos up to the closing quote (or the end of the text):
 * an upper bound on the unescaped length, so that each literal takes only
 * its own size from the arena. */
static size_t quoted_span(const lexer *lx, char quote, bool escapes)
{
    size_t i = lx->pos;
    while (i < lx->len) {
        if (lx->text[i] == quote) {
            if (i + 1 < lx->len && lx->text[i + 1] == quote) {
                i += 2;
                continue;
            }
            break;
        }
        i += (escapes && lx->text[i] == '\\') ? 2 : 1;
    }
    return (i < lx->len ? i : lx->len) - lx->pos;
}

/* 'text' with '' for a quote; with escapes, E'..' backslash sequences too.
 * lx->pos is at the opening quote. */
static bool lex_string(lexer *lx, size_t start, bool escapes)
{
    lx->pos++;
    char *buf = tw_arena_alloc(lx->arena, quoted_span(lx, '\'', escapes) + 1);
    size_t n = 0;
    for (;;) {
        if (lx->pos >= lx->len)
            return lex_error(lx, start, "unterminated string literal");
        char c = lx->text[lx->pos];
        if (c == '\'') {
            if (peek_at(lx, 1) == '\'') {
                buf[n++] = '\'';
                lx->pos += 2;
                continue;
            }
            lx->pos++;
            break;
        }
        if (c == '\\' && escapes) {
            if (lx->pos + 1 >= lx->len)
                return lex_error(lx, start, "unterminated string literal");
            char e = lx->text[lx->pos + 1];
            switch (e) {
            case 'n': buf[n++] = '\n'; break;
            case 't': buf[n++] = '\t'; break;
            case 'r': buf[n++] = '\r'; break;
            case 'b': buf[n++] = '\b'; break;
            case 'f': buf[n++] = '\f'; break;
            default: buf[n++] = e; break;
            }
            lx->pos += 2;
            continue;
        }
        buf[n++] = c;
        lx->pos++;
    }
    buf[n] = '\0';
    tw_sql_token *tok = push(lx, TW_SQL_TOK_STRING, start, lx->pos);
    tok->str = buf;
    tok->str_len = (uint32_t)n;
    return true;
}

static bool lex_quoted_ident(lexer *lx)
{
    size_t start = lx->pos;
    lx->pos++;
    char *buf = tw_arena_alloc(lx->arena, quoted_span(lx, '"', false) + 1);
    size_t n = 0;
    for (;;) {
        if (lx->pos >= lx->len)
            return lex_error(lx, start, "unterminated quoted identifier");
        char c = lx->text[lx->pos];
        if (c == '"') {
            if (peek_at(lx, 1) == '"') {
                buf[n++] = '"';
                lx->pos += 2;
                continue;
            }
            lx->pos++;
            break;
        }
        buf[n++] = c;
        lx->pos++;
    }
    if (n == 0)
        return lex_error(lx, start, "zero-length quoted identifier");
    buf[n] = '\0';
    tw_sql_token *tok = push(lx, TW_SQL_TOK_QIDENT, start, lx->pos);
    tok->str = buf;
    tok->str_len = (uint32_t)n;
    return true;
}

static bool lex_number(lexer *lx)
{
    size_t start = lx->pos;
    bool decimal = false;
    while (peek_at(lx, 0) >= 0 && is_digit((unsigned char)peek_at(lx, 0)))
        lx->pos++;
    /* "1..2" is not a number followed by ".2"; PostgreSQL treats ".." as
     * an operator context, so only take the dot when no second dot follows. */
    if (peek_at(lx, 0) == '.' && peek_at(lx, 1) != '.') {
        decimal = true;
        lx->pos++;
        while (peek_at(lx, 0) >= 0 && is_digit((unsigned char)peek_at(lx, 0)))
            lx->pos++;
    }
    if (peek_at(lx, 0) == 'e' || peek_at(lx, 0) == 'E') {
        size_t digits = 1;
        if (peek_at(lx, 1) == '+' || peek_at(lx, 1) == '-')
            digits = 2;
        int d = peek_at(lx, digits);
        if (d >= 0 && is_digit((unsigned char)d)) {
            decimal = true;
            lx->pos += digits;
            while (peek_at(lx, 0) >= 0 && is_digit((unsigned char)peek_at(lx, 0)))
                lx->pos++;
        }
    }
    int next = peek_at(lx, 0);
    if (next >= 0 && is_ident_start((unsigned char)next))
        return lex_error(lx, start, "trailing junk after numeric literal");
    tw_sql_token *tok = push(lx, decimal ? TW_SQL_TOK_DECIMAL : TW_SQL_TOK_INTEGER, start, lx->pos);
    set_str(lx, tok, lx->text + start, lx->pos - start);
    return true;
}

static void lex_ident(lexer *lx)
{
    size_t start = lx->pos;
    while (peek_at(lx, 0) >= 0 && is_ident_char((unsigned char)peek_at(lx, 0)))
        lx->pos++;
    size_t n = lx->pos - start;
    tw_sql_token *tok = push(lx, TW_SQL_TOK_IDENT, start, lx->pos);
    char *s = tw_arena_strndup(lx->arena, lx->text + start, n);
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] - 'A' + 'a');
    tok->str = s;
    tok->str_len = (uint32_t)n;
}

/* An operator is the longest run of operator characters, stopping before a
 * comment start; as in PostgreSQL, trailing + and - are split off unless
 * the operator contains a character only user-defined operators use, so
 * that "a<-1" is "a < -1". */
static void lex_operator(lexer *lx)
{
    size_t start = lx->pos;
    size_t end = start;
    while (end < lx->len && is_op_char((unsigned char)lx->text[end])) {
        if (end > start && ((lx->text[end] == '-' && end + 1 < lx->len && lx->text[end + 1] == '-') ||
                            (lx->text[end] == '/' && end + 1 < lx->len && lx->text[end + 1] == '*')))
            break;
        end++;
    }
    size_t n = end - start;
    if (n > 1) {
        bool special = false;
        for (size_t i = start; i < end; i++)
            if (strchr("~!@#%^&|`?", lx->text[i]))
                special = true;
        if (!special)
            while (n > 1 && (lx->text[start + n - 1] == '+' || lx->text[start + n - 1] == '-'))
                n--;
    }
    lx->pos = start + n;
    tw_sql_token *tok = push(lx, TW_SQL_TOK_OP, start, lx->pos);
    set_str(lx, tok, lx->text + start, n);
}

static bool lex_one(lexer *lx)
{
    size_t start = lx->pos;
    unsigned char c = (unsigned char)lx->text[start];
    tw_sql_tok_kind punct;
    switch (c) {
    case '(': punct = TW_SQL_TOK_LPAREN; break;
    case ')': punct = TW_SQL_TOK_RPAREN; break;
    case '[': punct = TW_SQL_TOK_LBRACKET; break;
    case ']': punct = TW_SQL_TOK_RBRACKET; break;
    case ',': punct = TW_SQL_TOK_COMMA; break;
    case ';': punct = TW_SQL_TOK_SEMI; break;
    case ':':
        if (peek_at(lx, 1) == ':') {
            lx->pos += 2;
            push(lx, TW_SQL_TOK_DCOLON, start, lx->pos);
            return true;
        }
        punct = TW_SQL_TOK_COLON;
        break;
    case '.':
        if (peek_at(lx, 1) >= 0 && is_digit((unsigned char)peek_at(lx, 1)))
            return lex_number(lx);
        punct = TW_SQL_TOK_DOT;
        break;
    case '\'':
        return lex_string(lx, start, false);
    case '"':
        return lex_quoted_ident(lx);
    case '$':
        if (peek_at(lx, 1) >= 0 && is_digit((unsigned char)peek_at(lx, 1))) {
            lx->pos++;
            while (peek_at(lx, 0) >= 0 && is_digit((unsigned char)peek_at(lx, 0)))
                lx->pos++;
            tw_sql_token *tok = push(lx, TW_SQL_TOK_PARAM, start, lx->pos);
            set_str(lx, tok, lx->text + start, lx->pos - start);
            return true;
        }
        return lex_error(lx, start, "dollar-quoted strings are not supported yet");
    default:
        if ((c == 'e' || c == 'E') && peek_at(lx, 1) == '\'') {
            lx->pos++;
            return lex_string(lx, start, true);
        }
        if (is_ident_start(c)) {
            lex_ident(lx);
            return true;
        }
        if (is_digit(c))
            return lex_number(lx);
        if (is_op_char(c)) {
            lex_operator(lx);
            return true;
        }
        if (c >= 0x20 && c < 0x7f) {
            char message[64];
            snprintf(message, sizeof message, "unexpected character '%c'", c);
            return lex_error(lx, start, message);
        } else {
            char message[64];
            snprintf(message, sizeof message, "unexpected character 0x%02X", c);
            return lex_error(lx, start, message);
        }
    }
    lx->pos++;
    push(lx, punct, start, lx->pos);
    return true;
}

void tw_sql_lex(const char *text, size_t len, const char *filename, tw_arena *arena,
                tw_sql_tokens *out)
{
    assert(len < UINT32_MAX);
    memset(out, 0, sizeof *out);
    lexer lx = {.text = text, .len = len, .filename = filename, .arena = arena, .out = out};
    for (;;) {
        if (!skip_space(&lx))
            return;
        if (lx.pos >= len)
            break;
        if (!lex_one(&lx))
            return;
    }
    uint32_t eof_loc = out->count ? out->items[out->count - 1].end : 0;
    push(&lx, TW_SQL_TOK_EOF, eof_loc, eof_loc);
}

void tw_sql_tokens_free(tw_sql_tokens *tokens)
{
    free(tokens->items);
    tokens->items = NULL;
    tokens->count = 0;
}

const char *tw_sql_token_describe(const tw_sql_token *tok, const char *text, char *buf, size_t size)
{
    switch (tok->kind) {
    case TW_SQL_TOK_EOF:
        snprintf(buf, size, "end of input");
        return buf;
    case TW_SQL_TOK_ERROR:
        snprintf(buf, size, "an invalid token");
        return buf;
    case TW_SQL_TOK_STRING: {
        uint32_t n = tok->end - tok->loc;
        snprintf(buf, size, "string literal %.*s%s", n > 32 ? 32 : (int)n, text + tok->loc,
                 n > 32 ? "..." : "");
        return buf;
    }
    default: {
        uint32_t n = tok->end - tok->loc;
        snprintf(buf, size, "'%.*s%s'", n > 32 ? 32 : (int)n, text + tok->loc, n > 32 ? "..." : "");
        return buf;
    }
    }
}

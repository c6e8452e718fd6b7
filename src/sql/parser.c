/* parser.c - see parser.h.
 *
 * One function per grammar rule, each returning false (with err filled) on
 * the first problem. Keywords are matched by their lowercased text; only a
 * small set of words is reserved, so that names such as "timestamp" or
 * "type" work as identifiers as they do in PostgreSQL.
 */
#include "sql/parser.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/lexer.h"
#include "sql/sqlerr.h"

/* Expression nesting beyond this is refused rather than risking the stack. */
#define MAX_EXPR_DEPTH 1000

typedef struct parser {
    const char *text;
    size_t len;
    const char *filename;
    tw_arena *arena;
    tw_sql_tokens toks;
    uint32_t pos;
    unsigned depth;
    tw_err *err;
} parser;

/* A growable array in the arena: doubling wastes at most half of it, and
 * the whole tree is freed with the arena anyway. */
typedef struct vec {
    void *items;
    uint32_t count;
    uint32_t cap;
} vec;

static void *vec_push(parser *p, vec *v, size_t elem_size)
{
    if (v->count == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 4;
        void *items = tw_arena_alloc(p->arena, cap * elem_size);
        if (v->count)
            memcpy(items, v->items, v->count * elem_size);
        v->items = items;
        v->cap = cap;
    }
    void *slot = (char *)v->items + v->count * elem_size;
    v->count++;
    memset(slot, 0, elem_size);
    return slot;
}

/* Words that cannot be column, table or alias names without quotes. */
static const char *const reserved_words[] = {
    "all", "and", "any", "array", "as", "asc", "between", "both", "case", "cast", "check",
    "collate", "column", "constraint", "create", "cross", "current_date", "current_time",
    "current_timestamp", "default", "desc", "distinct", "do", "drop", "else", "end", "except",
    "false", "fetch", "for", "foreign", "from", "full", "grant", "group", "having", "ilike", "in",
    "inner", "intersect", "into", "is", "join", "lateral", "leading", "left", "like", "limit",
    "localtime", "localtimestamp", "natural", "not", "null", "offset", "on", "only", "or", "order",
    "outer", "primary", "references", "returning", "right", "select", "some", "symmetric", "table",
    "then", "to", "trailing", "true", "union", "unique", "user", "using", "variadic", "when",
    "where", "window", "with",
};

static bool is_reserved(const char *word)
{
    for (size_t i = 0; i < sizeof reserved_words / sizeof reserved_words[0]; i++)
        if (strcmp(word, reserved_words[i]) == 0)
            return true;
    return false;
}

/* ---- token access ---------------------------------------------------------- */

static const tw_sql_token *peek(const parser *p, uint32_t ahead)
{
    uint32_t i = p->pos + ahead;
    if (i >= p->toks.count)
        i = p->toks.count - 1;
    return &p->toks.items[i];
}

static const tw_sql_token *cur(const parser *p)
{
    return peek(p, 0);
}

static const tw_sql_token *advance(parser *p)
{
    const tw_sql_token *tok = cur(p);
    if (p->pos + 1 < p->toks.count)
        p->pos++;
    return tok;
}

/* End offset of the last consumed token. */
static uint32_t prev_end(const parser *p)
{
    return p->pos > 0 ? p->toks.items[p->pos - 1].end : 0;
}

static bool tok_is_kw(const tw_sql_token *tok, const char *kw)
{
    return tok->kind == TW_SQL_TOK_IDENT && strcmp(tok->str, kw) == 0;
}

static bool is_kw(const parser *p, const char *kw)
{
    return tok_is_kw(cur(p), kw);
}

static bool accept_kw(parser *p, const char *kw)
{
    if (!is_kw(p, kw))
        return false;
    advance(p);
    return true;
}

static bool is_tok(const parser *p, tw_sql_tok_kind kind)
{
    return cur(p)->kind == kind;
}

static bool accept_tok(parser *p, tw_sql_tok_kind kind)
{
    if (!is_tok(p, kind))
        return false;
    advance(p);
    return true;
}

static bool tok_is_op(const tw_sql_token *tok, const char *op)
{
    return tok->kind == TW_SQL_TOK_OP && strcmp(tok->str, op) == 0;
}

/* ---- errors ---------------------------------------------------------------- */

static bool error_at(parser *p, tw_err_code code, uint32_t loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool error_at(parser *p, tw_err_code code, uint32_t loc, const char *fmt, ...)
{
    char message[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return tw_sql_error_at(p->err, code, p->text, p->len, p->filename, loc, "%s", message);
}

/* "expected WHAT, found X" at the current token; a lexical error at the
 * current token is reported instead, since it is the real cause. */
static bool expected(parser *p, const char *what)
{
    const tw_sql_token *tok = cur(p);
    if (tok->kind == TW_SQL_TOK_ERROR) {
        if (p->err)
            *p->err = p->toks.error;
        return false;
    }
    char found[80];
    tw_sql_token_describe(tok, p->text, found, sizeof found);
    return error_at(p, TW_ERR_SYNTAX, tok->loc, "expected %s, found %s", what, found);
}

static bool unsupported(parser *p, uint32_t loc, const char *feature)
{
    return error_at(p, TW_ERR_UNSUPPORTED, loc, "%s is not supported yet", feature);
}

static bool expect_tok(parser *p, tw_sql_tok_kind kind, const char *what)
{
    if (accept_tok(p, kind))
        return true;
    return expected(p, what);
}

static bool expect_kw(parser *p, const char *kw, const char *what)
{
    if (accept_kw(p, kw))
        return true;
    return expected(p, what);
}

static char *lowercase_dup(parser *p, const char *s)
{
    char *out = tw_arena_strdup(p->arena, s);
    for (char *c = out; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    return out;
}

/* Copies the source text of a token for messages, e.g. "VARCHR". */
static void token_text(const parser *p, const tw_sql_token *tok, char *buf, size_t size)
{
    uint32_t n = tok->end - tok->loc;
    if (n >= size)
        n = (uint32_t)size - 1;
    memcpy(buf, p->text + tok->loc, n);
    buf[n] = '\0';
}

/* ---- names ----------------------------------------------------------------- */

/* An identifier usable as a name: a non-reserved word or a quoted one. */
static bool at_name(const parser *p)
{
    const tw_sql_token *tok = cur(p);
    return tok->kind == TW_SQL_TOK_QIDENT || (tok->kind == TW_SQL_TOK_IDENT && !is_reserved(tok->str));
}

static bool parse_ident(parser *p, const char *what, const char **out)
{
    if (!at_name(p))
        return expected(p, what);
    *out = advance(p)->str;
    return true;
}

/* Any word, reserved or not, as PostgreSQL allows after a dot or AS. */
static bool at_label(const parser *p)
{
    return is_tok(p, TW_SQL_TOK_IDENT) || is_tok(p, TW_SQL_TOK_QIDENT);
}

static bool parse_qualified_name(parser *p, const char *what, tw_sql_name *out)
{
    out->loc = cur(p)->loc;
    out->schema = NULL;
    if (!parse_ident(p, what, &out->name))
        return false;
    if (is_tok(p, TW_SQL_TOK_DOT)) {
        advance(p);
        if (!at_label(p))
            return expected(p, "a name after '.'");
        out->schema = out->name;
        out->name = advance(p)->str;
        if (is_tok(p, TW_SQL_TOK_DOT))
            return unsupported(p, out->loc, "a name with more than two parts (database.schema.name)");
    }
    return true;
}

/* ---- types ----------------------------------------------------------------- */

static bool parse_paren_int(parser *p, int64_t *out)
{
    advance(p); /* ( */
    if (!is_tok(p, TW_SQL_TOK_INTEGER))
        return expected(p, "an integer");
    errno = 0;
    long long v = strtoll(advance(p)->str, NULL, 10);
    if (errno == ERANGE || v > INT32_MAX)
        v = INT32_MAX;
    *out = v;
    return expect_tok(p, TW_SQL_TOK_RPAREN, "')'");
}

static bool parse_type(parser *p, tw_sql_type_ref *out)
{
    const tw_sql_token *tok = cur(p);
    out->loc = tok->loc;
    out->length = -1;
    if (tok->kind != TW_SQL_TOK_IDENT)
        return expected(p, "a type name");
    const char *w = tok->str;
    char written[64];
    token_text(p, tok, written, sizeof written);
    advance(p);

    if (!strcmp(w, "varchar") || !strcmp(w, "text") || !strcmp(w, "string") ||
        (!strcmp(w, "character") && is_kw(p, "varying"))) {
        if (!strcmp(w, "character"))
            advance(p);
        out->type = TW_T_VARCHAR;
        if (is_tok(p, TW_SQL_TOK_LPAREN) && strcmp(w, "text") != 0 && strcmp(w, "string") != 0) {
            int64_t n;
            if (!parse_paren_int(p, &n))
                return false;
            if (n < 1)
                return error_at(p, TW_ERR_SYNTAX, out->loc, "length for type varchar must be at least 1");
            out->length = (int32_t)n;
        }
    } else if (!strcmp(w, "boolean") || !strcmp(w, "bool")) {
        out->type = TW_T_BOOL;
    } else if (!strcmp(w, "smallint") || !strcmp(w, "int2")) {
        out->type = TW_T_INT16;
    } else if (!strcmp(w, "int") || !strcmp(w, "integer") || !strcmp(w, "int4")) {
        out->type = TW_T_INT32;
    } else if (!strcmp(w, "bigint") || !strcmp(w, "int8")) {
        out->type = TW_T_INT64;
    } else if (!strcmp(w, "real") || !strcmp(w, "float4")) {
        out->type = TW_T_FLOAT32;
    } else if (!strcmp(w, "float")) {
        out->type = TW_T_FLOAT64;
        if (is_tok(p, TW_SQL_TOK_LPAREN)) {
            int64_t precision;
            if (!parse_paren_int(p, &precision))
                return false;
            if (precision < 1 || precision > 53)
                return error_at(p, TW_ERR_SYNTAX, out->loc,
                                "precision for type float must be between 1 and 53");
            if (precision <= 24)
                out->type = TW_T_FLOAT32;
        }
    } else if (!strcmp(w, "float8") || !strcmp(w, "double")) {
        if (!strcmp(w, "double"))
            accept_kw(p, "precision");
        out->type = TW_T_FLOAT64;
    } else if (!strcmp(w, "timestamp")) {
        out->type = TW_T_TIMESTAMP;
        if (is_kw(p, "with") && tok_is_kw(peek(p, 1), "time") && tok_is_kw(peek(p, 2), "zone")) {
            p->pos += 3;
            out->type = TW_T_TIMESTAMPTZ;
        } else if (is_kw(p, "without") && tok_is_kw(peek(p, 1), "time") && tok_is_kw(peek(p, 2), "zone")) {
            p->pos += 3;
        }
    } else if (!strcmp(w, "timestamptz")) {
        out->type = TW_T_TIMESTAMPTZ;
    } else if (!strcmp(w, "interval")) {
        out->type = TW_T_INTERVAL;
    } else {
        static const char *const known_unsupported[] = {
            "decimal", "numeric", "date", "time", "timetz", "jsonb", "json", "bytea", "struct",
            "map", "serial", "bigserial", "smallserial", "uuid", "character", "char", "bit",
            "varbit", "money", "int256", "rw_int256", "inet", "cidr", "oid", "regclass", "point",
        };
        for (size_t i = 0; i < sizeof known_unsupported / sizeof known_unsupported[0]; i++) {
            if (!strcmp(w, known_unsupported[i])) {
                char feature[96];
                snprintf(feature, sizeof feature, "type %s", written);
                return unsupported(p, out->loc, feature);
            }
        }
        return error_at(p, TW_ERR_SYNTAX, out->loc, "unknown type '%s'", written);
    }
    if (is_tok(p, TW_SQL_TOK_LBRACKET) || is_kw(p, "array"))
        return unsupported(p, cur(p)->loc, "array types");
    return true;
}

/* ---- expressions ----------------------------------------------------------- */

static bool parse_expr(parser *p, tw_sql_expr **out);
static bool parse_select_body(parser *p, tw_sql_select **out);

static tw_sql_expr *new_expr(parser *p, tw_sql_expr_kind kind, uint32_t loc)
{
    tw_sql_expr *e = tw_arena_calloc(p->arena, sizeof *e);
    e->kind = kind;
    e->loc = loc;
    return e;
}

static bool enter(parser *p)
{
    if (++p->depth > MAX_EXPR_DEPTH)
        return error_at(p, TW_ERR_SYNTAX, cur(p)->loc, "expression too deeply nested");
    return true;
}

static tw_sql_interval_unit interval_unit(const tw_sql_token *tok)
{
    static const struct {
        const char *word;
        tw_sql_interval_unit unit;
    } units[] = {
        {"year", TW_SQL_IU_YEAR}, {"month", TW_SQL_IU_MONTH},   {"day", TW_SQL_IU_DAY},
        {"hour", TW_SQL_IU_HOUR}, {"minute", TW_SQL_IU_MINUTE}, {"second", TW_SQL_IU_SECOND},
    };
    if (tok->kind != TW_SQL_TOK_IDENT)
        return TW_SQL_IU_NONE;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(tok->str, units[i].word))
            return units[i].unit;
    return TW_SQL_IU_NONE;
}

/* INTERVAL 'text' [unit [TO unit]]; the INTERVAL keyword is consumed. */
static bool parse_interval_literal(parser *p, uint32_t loc, tw_sql_expr **out)
{
    tw_sql_expr *e = new_expr(p, TW_SQL_E_INTERVAL, loc);
    e->u.interval.text = advance(p)->str;
    tw_sql_interval_unit unit = interval_unit(cur(p));
    if (unit != TW_SQL_IU_NONE) {
        advance(p);
        e->u.interval.unit = unit;
        if (is_kw(p, "to")) {
            advance(p);
            tw_sql_interval_unit to = interval_unit(cur(p));
            if (to == TW_SQL_IU_NONE)
                return expected(p, "an interval unit after TO");
            bool valid = (unit == TW_SQL_IU_YEAR && to == TW_SQL_IU_MONTH) ||
                         (unit >= TW_SQL_IU_DAY && to > unit);
            if (!valid)
                return error_at(p, TW_ERR_SYNTAX, cur(p)->loc, "invalid interval qualifier");
            advance(p);
            e->u.interval.to_unit = to;
        }
    }
    *out = e;
    return true;
}

static bool parse_expr_list(parser *p, tw_sql_expr ***items, uint32_t *count)
{
    vec v = {0};
    do {
        tw_sql_expr **slot = vec_push(p, &v, sizeof *slot);
        if (!parse_expr(p, slot))
            return false;
    } while (accept_tok(p, TW_SQL_TOK_COMMA));
    *items = v.items;
    *count = v.count;
    return true;
}

/* name ( [DISTINCT | ALL] args | * ); cur is at '('. */
static bool parse_func_call(parser *p, const char *schema, const char *name, uint32_t loc,
                            tw_sql_expr **out)
{
    tw_sql_expr *e = new_expr(p, TW_SQL_E_FUNC, loc);
    e->u.func.schema = schema;
    e->u.func.name = name;
    advance(p); /* ( */
    if (tok_is_op(cur(p), "*")) {
        advance(p);
        e->u.func.star = true;
    } else if (!is_tok(p, TW_SQL_TOK_RPAREN)) {
        if (accept_kw(p, "distinct"))
            e->u.func.distinct = true;
        else
            accept_kw(p, "all");
        if (is_kw(p, "variadic"))
            return unsupported(p, cur(p)->loc, "VARIADIC");
        if (!parse_expr_list(p, &e->u.func.args, &e->u.func.nargs))
            return false;
        if (is_kw(p, "order") && tok_is_kw(peek(p, 1), "by"))
            return unsupported(p, cur(p)->loc, "ORDER BY inside a function call");
    }
    if (!expect_tok(p, TW_SQL_TOK_RPAREN, "')' after the function arguments"))
        return false;
    if (is_kw(p, "over"))
        return unsupported(p, cur(p)->loc, "window functions (OVER)");
    if (is_kw(p, "filter") && peek(p, 1)->kind == TW_SQL_TOK_LPAREN)
        return unsupported(p, cur(p)->loc, "aggregate FILTER");
    if (is_kw(p, "within") && tok_is_kw(peek(p, 1), "group"))
        return unsupported(p, cur(p)->loc, "WITHIN GROUP");
    *out = e;
    return true;
}

static bool parse_case(parser *p, uint32_t loc, tw_sql_expr **out)
{
    tw_sql_expr *e = new_expr(p, TW_SQL_E_CASE, loc);
    if (!is_kw(p, "when") && !parse_expr(p, &e->u.case_.operand))
        return false;
    vec whens = {0};
    while (accept_kw(p, "when")) {
        tw_sql_case_when *w = vec_push(p, &whens, sizeof *w);
        if (!parse_expr(p, &w->when))
            return false;
        if (!expect_kw(p, "then", "THEN"))
            return false;
        if (!parse_expr(p, &w->then))
            return false;
    }
    if (whens.count == 0)
        return expected(p, "WHEN");
    e->u.case_.whens = whens.items;
    e->u.case_.nwhens = whens.count;
    if (accept_kw(p, "else") && !parse_expr(p, &e->u.case_.else_expr))
        return false;
    if (!expect_kw(p, "end", "WHEN, ELSE or END in CASE"))
        return false;
    *out = e;
    return true;
}

static bool parse_number(parser *p, tw_sql_expr **out)
{
    const tw_sql_token *tok = advance(p);
    if (tok->kind == TW_SQL_TOK_INTEGER) {
        errno = 0;
        char *end;
        long long v = strtoll(tok->str, &end, 10);
        if (errno == ERANGE) {
            tw_sql_expr *e = new_expr(p, TW_SQL_E_NUMERIC, tok->loc);
            e->u.text = tok->str;
            *out = e;
            return true;
        }
        tw_sql_expr *e = new_expr(p, TW_SQL_E_INT, tok->loc);
        e->u.int_lit = v;
        *out = e;
        return true;
    }
    tw_sql_expr *e = new_expr(p, TW_SQL_E_DECIMAL, tok->loc);
    e->u.decimal.text = tok->str;
    e->u.decimal.value = strtod(tok->str, NULL);
    *out = e;
    return true;
}

/* Column reference or function call starting at a name. */
static bool parse_name_expr(parser *p, tw_sql_expr **out)
{
    const tw_sql_token *first = advance(p);
    uint32_t loc = first->loc;
    const char *parts[3] = {first->str, NULL, NULL};
    unsigned nparts = 1;
    while (is_tok(p, TW_SQL_TOK_DOT)) {
        advance(p);
        if (tok_is_op(cur(p), "*"))
            return unsupported(p, cur(p)->loc, "'.*' inside an expression");
        if (!at_label(p))
            return expected(p, "a name after '.'");
        if (nparts == 3)
            return error_at(p, TW_ERR_SYNTAX, loc, "improper qualified name (too many dotted names)");
        parts[nparts++] = advance(p)->str;
    }
    if (is_tok(p, TW_SQL_TOK_LPAREN)) {
        if (nparts > 2)
            return error_at(p, TW_ERR_SYNTAX, loc, "improper qualified function name");
        return nparts == 2 ? parse_func_call(p, parts[0], parts[1], loc, out)
                           : parse_func_call(p, NULL, parts[0], loc, out);
    }
    tw_sql_expr *e = new_expr(p, TW_SQL_E_COLUMN, loc);
    e->u.column.name = parts[nparts - 1];
    if (nparts >= 2)
        e->u.column.table = parts[nparts - 2];
    if (nparts == 3)
        e->u.column.schema = parts[0];
    *out = e;
    return true;
}

static bool parse_primary(parser *p, tw_sql_expr **out)
{
    const tw_sql_token *tok = cur(p);
    uint32_t loc = tok->loc;
    switch (tok->kind) {
    case TW_SQL_TOK_INTEGER:
    case TW_SQL_TOK_DECIMAL:
        return parse_number(p, out);
    case TW_SQL_TOK_STRING: {
        tw_sql_expr *e = new_expr(p, TW_SQL_E_STRING, loc);
        e->u.text = advance(p)->str;
        *out = e;
        return true;
    }
    case TW_SQL_TOK_PARAM:
        return unsupported(p, loc, "query parameters ($n)");
    case TW_SQL_TOK_QIDENT:
        return parse_name_expr(p, out);
    case TW_SQL_TOK_LPAREN: {
        advance(p);
        if (is_kw(p, "select") || is_kw(p, "with") || is_kw(p, "values"))
            return unsupported(p, loc, "subqueries");
        if (!parse_expr(p, out))
            return false;
        if (is_tok(p, TW_SQL_TOK_COMMA))
            return unsupported(p, loc, "row constructors");
        return expect_tok(p, TW_SQL_TOK_RPAREN, "')'");
    }
    case TW_SQL_TOK_IDENT:
        break;
    default:
        return expected(p, "an expression");
    }

    const char *w = tok->str;
    const tw_sql_token *next = peek(p, 1);
    if (!strcmp(w, "null") || !strcmp(w, "true") || !strcmp(w, "false")) {
        advance(p);
        tw_sql_expr *e = new_expr(p, w[0] == 'n' ? TW_SQL_E_NULL : TW_SQL_E_BOOL, loc);
        e->u.bool_lit = w[0] == 't';
        *out = e;
        return true;
    }
    if (!strcmp(w, "case")) {
        advance(p);
        return parse_case(p, loc, out);
    }
    if (!strcmp(w, "cast") && next->kind == TW_SQL_TOK_LPAREN) {
        p->pos += 2;
        tw_sql_expr *e = new_expr(p, TW_SQL_E_CAST, loc);
        if (!parse_expr(p, &e->u.cast.arg) || !expect_kw(p, "as", "AS in CAST") ||
            !parse_type(p, &e->u.cast.type) || !expect_tok(p, TW_SQL_TOK_RPAREN, "')' after CAST"))
            return false;
        *out = e;
        return true;
    }
    if (!strcmp(w, "extract") && next->kind == TW_SQL_TOK_LPAREN) {
        p->pos += 2;
        tw_sql_expr *e = new_expr(p, TW_SQL_E_EXTRACT, loc);
        if (is_tok(p, TW_SQL_TOK_IDENT) || is_tok(p, TW_SQL_TOK_STRING) || is_tok(p, TW_SQL_TOK_QIDENT))
            e->u.extract.field = lowercase_dup(p, advance(p)->str);
        else
            return expected(p, "a field name in EXTRACT");
        if (!expect_kw(p, "from", "FROM in EXTRACT") || !parse_expr(p, &e->u.extract.arg) ||
            !expect_tok(p, TW_SQL_TOK_RPAREN, "')' after EXTRACT"))
            return false;
        *out = e;
        return true;
    }
    if (!strcmp(w, "interval") && next->kind == TW_SQL_TOK_STRING) {
        advance(p);
        return parse_interval_literal(p, loc, out);
    }
    if ((!strcmp(w, "timestamp") || !strcmp(w, "timestamptz") || !strcmp(w, "date")) &&
        next->kind == TW_SQL_TOK_STRING) {
        p->pos += 2;
        tw_sql_expr *e = new_expr(p, TW_SQL_E_TYPED_LIT, loc);
        e->u.typed.type = w[0] == 'd' ? TW_SQL_TL_DATE
                          : !strcmp(w, "timestamp") ? TW_SQL_TL_TIMESTAMP : TW_SQL_TL_TIMESTAMPTZ;
        e->u.typed.text = next->str;
        *out = e;
        return true;
    }
    if (!strcmp(w, "exists") && next->kind == TW_SQL_TOK_LPAREN)
        return unsupported(p, loc, "subqueries (EXISTS)");
    if (!strcmp(w, "array") && (next->kind == TW_SQL_TOK_LBRACKET || next->kind == TW_SQL_TOK_LPAREN))
        return unsupported(p, loc, "ARRAY constructors");
    if (!strcmp(w, "row") && next->kind == TW_SQL_TOK_LPAREN)
        return unsupported(p, loc, "row constructors");
    if ((!strcmp(w, "any") || !strcmp(w, "some") || !strcmp(w, "all")) && next->kind == TW_SQL_TOK_LPAREN)
        return unsupported(p, loc, "ANY/ALL/SOME comparisons");
    if (!strcmp(w, "current_timestamp") || !strcmp(w, "current_date") || !strcmp(w, "current_time") ||
        !strcmp(w, "localtime") || !strcmp(w, "localtimestamp")) {
        advance(p);
        if (is_tok(p, TW_SQL_TOK_LPAREN))
            return unsupported(p, loc, "a precision on the current time");
        tw_sql_expr *e = new_expr(p, TW_SQL_E_FUNC, loc);
        e->u.func.name = w;
        *out = e;
        return true;
    }
    /* left(s, n) and right(s, n) are functions even though the words are
     * reserved for joins. */
    if ((!strcmp(w, "left") || !strcmp(w, "right")) && next->kind == TW_SQL_TOK_LPAREN) {
        advance(p);
        return parse_func_call(p, NULL, w, loc, out);
    }
    if (is_reserved(w))
        return expected(p, "an expression");
    return parse_name_expr(p, out);
}

/* primary [:: type]... */
static bool parse_postfix(parser *p, tw_sql_expr **out)
{
    if (!parse_primary(p, out))
        return false;
    for (;;) {
        if (is_tok(p, TW_SQL_TOK_DCOLON)) {
            uint32_t loc = advance(p)->loc;
            tw_sql_expr *e = new_expr(p, TW_SQL_E_CAST, loc);
            e->u.cast.arg = *out;
            if (!parse_type(p, &e->u.cast.type))
                return false;
            *out = e;
        } else if (is_tok(p, TW_SQL_TOK_LBRACKET)) {
            return unsupported(p, cur(p)->loc, "array subscripts");
        } else if (is_kw(p, "at") && tok_is_kw(peek(p, 1), "time")) {
            return unsupported(p, cur(p)->loc, "AT TIME ZONE");
        } else if (is_kw(p, "collate")) {
            return unsupported(p, cur(p)->loc, "COLLATE");
        } else {
            return true;
        }
    }
}

static bool parse_unary(parser *p, tw_sql_expr **out)
{
    const tw_sql_token *tok = cur(p);
    if (tok_is_op(tok, "-") || tok_is_op(tok, "+")) {
        if (!enter(p))
            return false;
        advance(p);
        tw_sql_expr *e = new_expr(p, TW_SQL_E_UNARY, tok->loc);
        e->u.unary.op = tok->str[0] == '-' ? TW_SQL_U_NEG : TW_SQL_U_PLUS;
        if (!parse_unary(p, &e->u.unary.arg))
            return false;
        p->depth--;
        *out = e;
        return true;
    }
    return parse_postfix(p, out);
}

static tw_sql_expr *new_binary(parser *p, tw_sql_binary_op op, uint32_t loc, tw_sql_expr *left,
                               tw_sql_expr *right)
{
    tw_sql_expr *e = new_expr(p, TW_SQL_E_BINARY, loc);
    e->u.binary.op = op;
    e->u.binary.left = left;
    e->u.binary.right = right;
    return e;
}

/* Operators PostgreSQL has that tidewatch does not: refused by name. */
static bool unknown_operator(parser *p)
{
    const tw_sql_token *tok = cur(p);
    char feature[64];
    snprintf(feature, sizeof feature, "operator '%s'", tok->str);
    return unsupported(p, tok->loc, feature);
}

static bool parse_mul(parser *p, tw_sql_expr **out)
{
    if (!parse_unary(p, out))
        return false;
    for (;;) {
        const tw_sql_token *tok = cur(p);
        tw_sql_binary_op op;
        if (tok_is_op(tok, "*"))
            op = TW_SQL_B_MUL;
        else if (tok_is_op(tok, "/"))
            op = TW_SQL_B_DIV;
        else if (tok_is_op(tok, "%"))
            op = TW_SQL_B_MOD;
        else if (tok_is_op(tok, "^"))
            return unknown_operator(p);
        else
            return true;
        advance(p);
        tw_sql_expr *right;
        if (!parse_unary(p, &right))
            return false;
        *out = new_binary(p, op, tok->loc, *out, right);
    }
}

static bool parse_add(parser *p, tw_sql_expr **out)
{
    if (!parse_mul(p, out))
        return false;
    for (;;) {
        const tw_sql_token *tok = cur(p);
        tw_sql_binary_op op;
        if (tok_is_op(tok, "+"))
            op = TW_SQL_B_ADD;
        else if (tok_is_op(tok, "-"))
            op = TW_SQL_B_SUB;
        else
            return true;
        advance(p);
        tw_sql_expr *right;
        if (!parse_mul(p, &right))
            return false;
        *out = new_binary(p, op, tok->loc, *out, right);
    }
}

static bool is_comparison_op(const tw_sql_token *tok)
{
    static const char *const ops[] = {"=", "<>", "!=", "<", ">", "<=", ">="};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (tok_is_op(tok, ops[i]))
            return true;
    return false;
}

/* || and any other operator, left-associative. */
static bool parse_other_op(parser *p, tw_sql_expr **out)
{
    if (!parse_add(p, out))
        return false;
    for (;;) {
        const tw_sql_token *tok = cur(p);
        if (tok->kind != TW_SQL_TOK_OP || is_comparison_op(tok))
            return true;
        if (!tok_is_op(tok, "||"))
            return unknown_operator(p);
        advance(p);
        tw_sql_expr *right;
        if (!parse_add(p, &right))
            return false;
        *out = new_binary(p, TW_SQL_B_CONCAT, tok->loc, *out, right);
    }
}

/* [NOT] BETWEEN / IN / LIKE / ILIKE after an operand. */
static bool parse_predicate(parser *p, tw_sql_expr **out)
{
    if (!parse_other_op(p, out))
        return false;
    for (;;) {
        uint32_t loc = cur(p)->loc;
        bool negated = false;
        const tw_sql_token *kw = cur(p);
        if (tok_is_kw(kw, "not")) {
            const tw_sql_token *next = peek(p, 1);
            if (!tok_is_kw(next, "between") && !tok_is_kw(next, "in") && !tok_is_kw(next, "like") &&
                !tok_is_kw(next, "ilike") && !tok_is_kw(next, "similar"))
                return true;
            negated = true;
            kw = next;
        }
        if (tok_is_kw(kw, "between")) {
            p->pos += negated ? 2 : 1;
            if (is_kw(p, "symmetric") || is_kw(p, "asymmetric"))
                return unsupported(p, cur(p)->loc, "BETWEEN SYMMETRIC");
            tw_sql_expr *e = new_expr(p, TW_SQL_E_BETWEEN, loc);
            e->u.between.arg = *out;
            e->u.between.negated = negated;
            if (!parse_other_op(p, &e->u.between.low) || !expect_kw(p, "and", "AND in BETWEEN") ||
                !parse_other_op(p, &e->u.between.high))
                return false;
            *out = e;
        } else if (tok_is_kw(kw, "in")) {
            p->pos += negated ? 2 : 1;
            if (!is_tok(p, TW_SQL_TOK_LPAREN))
                return expected(p, "'(' after IN");
            if (tok_is_kw(peek(p, 1), "select") || tok_is_kw(peek(p, 1), "with") ||
                tok_is_kw(peek(p, 1), "values"))
                return unsupported(p, cur(p)->loc, "subqueries (IN (SELECT ...))");
            advance(p);
            tw_sql_expr *e = new_expr(p, TW_SQL_E_IN, loc);
            e->u.in.arg = *out;
            e->u.in.negated = negated;
            if (!parse_expr_list(p, &e->u.in.items, &e->u.in.nitems) ||
                !expect_tok(p, TW_SQL_TOK_RPAREN, "',' or ')' in the IN list"))
                return false;
            *out = e;
        } else if (tok_is_kw(kw, "like") || tok_is_kw(kw, "ilike")) {
            p->pos += negated ? 2 : 1;
            tw_sql_expr *e = new_expr(p, TW_SQL_E_LIKE, loc);
            e->u.like.arg = *out;
            e->u.like.negated = negated;
            e->u.like.case_insensitive = kw->str[0] == 'i';
            if (!parse_other_op(p, &e->u.like.pattern))
                return false;
            if (accept_kw(p, "escape") && !parse_other_op(p, &e->u.like.escape))
                return false;
            *out = e;
        } else if (tok_is_kw(kw, "similar")) {
            return unsupported(p, kw->loc, "SIMILAR TO");
        } else {
            return true;
        }
    }
}

static bool parse_comparison(parser *p, tw_sql_expr **out)
{
    if (!parse_predicate(p, out))
        return false;
    for (;;) {
        const tw_sql_token *tok = cur(p);
        if (!is_comparison_op(tok))
            return true;
        const char *s = tok->str;
        tw_sql_binary_op op = !strcmp(s, "=")    ? TW_SQL_B_EQ
                              : !strcmp(s, "<")  ? TW_SQL_B_LT
                              : !strcmp(s, ">")  ? TW_SQL_B_GT
                              : !strcmp(s, "<=") ? TW_SQL_B_LE
                              : !strcmp(s, ">=") ? TW_SQL_B_GE
                                                 : TW_SQL_B_NE;
        advance(p);
        if (is_kw(p, "any") || is_kw(p, "all") || is_kw(p, "some"))
            return unsupported(p, cur(p)->loc, "ANY/ALL/SOME comparisons");
        tw_sql_expr *right;
        if (!parse_predicate(p, &right))
            return false;
        *out = new_binary(p, op, tok->loc, *out, right);
    }
}

static bool parse_is(parser *p, tw_sql_expr **out)
{
    if (!parse_comparison(p, out))
        return false;
    for (;;) {
        const tw_sql_token *tok = cur(p);
        if (tok_is_kw(tok, "isnull") || tok_is_kw(tok, "notnull")) {
            advance(p);
            tw_sql_expr *e = new_expr(p, TW_SQL_E_IS, tok->loc);
            e->u.is.arg = *out;
            e->u.is.what = TW_SQL_IS_NULL;
            e->u.is.negated = tok->str[0] == 'n';
            *out = e;
            continue;
        }
        if (!tok_is_kw(tok, "is"))
            return true;
        advance(p);
        tw_sql_expr *e = new_expr(p, TW_SQL_E_IS, tok->loc);
        e->u.is.arg = *out;
        e->u.is.negated = accept_kw(p, "not");
        if (accept_kw(p, "null")) {
            e->u.is.what = TW_SQL_IS_NULL;
        } else if (accept_kw(p, "true")) {
            e->u.is.what = TW_SQL_IS_TRUE;
        } else if (accept_kw(p, "false")) {
            e->u.is.what = TW_SQL_IS_FALSE;
        } else if (accept_kw(p, "unknown")) {
            e->u.is.what = TW_SQL_IS_UNKNOWN;
        } else if (accept_kw(p, "distinct")) {
            e->u.is.what = TW_SQL_IS_DISTINCT_FROM;
            if (!expect_kw(p, "from", "FROM after IS DISTINCT") || !parse_comparison(p, &e->u.is.rhs))
                return false;
        } else {
            return expected(p, "NULL, TRUE, FALSE, UNKNOWN or DISTINCT FROM after IS");
        }
        *out = e;
    }
}

static bool parse_not(parser *p, tw_sql_expr **out)
{
    if (is_kw(p, "not")) {
        if (!enter(p))
            return false;
        uint32_t loc = advance(p)->loc;
        tw_sql_expr *e = new_expr(p, TW_SQL_E_UNARY, loc);
        e->u.unary.op = TW_SQL_U_NOT;
        if (!parse_not(p, &e->u.unary.arg))
            return false;
        p->depth--;
        *out = e;
        return true;
    }
    return parse_is(p, out);
}

static bool parse_and(parser *p, tw_sql_expr **out)
{
    if (!parse_not(p, out))
        return false;
    while (is_kw(p, "and")) {
        uint32_t loc = advance(p)->loc;
        tw_sql_expr *right;
        if (!parse_not(p, &right))
            return false;
        *out = new_binary(p, TW_SQL_B_AND, loc, *out, right);
    }
    return true;
}

static bool parse_expr(parser *p, tw_sql_expr **out)
{
    if (!enter(p))
        return false;
    if (!parse_and(p, out))
        return false;
    while (is_kw(p, "or")) {
        uint32_t loc = advance(p)->loc;
        tw_sql_expr *right;
        if (!parse_and(p, &right))
            return false;
        *out = new_binary(p, TW_SQL_B_OR, loc, *out, right);
    }
    p->depth--;
    return true;
}

/* ---- SELECT ---------------------------------------------------------------- */

/* Words that end a select item or FROM item, so never a bare alias. */
static bool ends_item(const tw_sql_token *tok)
{
    return tok_is_kw(tok, "emit") || tok_is_kw(tok, "over") || tok_is_kw(tok, "format");
}

static bool parse_opt_alias(parser *p, const char **alias)
{
    *alias = NULL;
    if (accept_kw(p, "as")) {
        if (!at_label(p))
            return expected(p, "an alias after AS");
        *alias = advance(p)->str;
    } else if (at_name(p) && !ends_item(cur(p))) {
        *alias = advance(p)->str;
    }
    return true;
}

static bool parse_select_item(parser *p, tw_sql_select_item *item)
{
    const tw_sql_token *tok = cur(p);
    item->loc = tok->loc;
    if (tok_is_op(tok, "*")) {
        advance(p);
        item->kind = TW_SQL_SEL_STAR;
        return true;
    }
    if ((tok->kind == TW_SQL_TOK_IDENT || tok->kind == TW_SQL_TOK_QIDENT) &&
        peek(p, 1)->kind == TW_SQL_TOK_DOT && tok_is_op(peek(p, 2), "*")) {
        p->pos += 3;
        item->kind = TW_SQL_SEL_QUAL_STAR;
        item->qualifier = tok->str;
        return true;
    }
    item->kind = TW_SQL_SEL_EXPR;
    return parse_expr(p, &item->expr) && parse_opt_alias(p, &item->alias);
}

static bool parse_window_tvf(parser *p, tw_sql_from *from, bool hop)
{
    advance(p); /* ( */
    if (is_tok(p, TW_SQL_TOK_LPAREN))
        return unsupported(p, cur(p)->loc, "a subquery as the window function's input");
    if (!parse_qualified_name(p, "the relation to window", &from->rel))
        return false;
    const char *fn = hop ? "HOP" : "TUMBLE";
    char what[96];
    snprintf(what, sizeof what, "',' and the time column in %s", fn);
    if (!expect_tok(p, TW_SQL_TOK_COMMA, what) || !parse_expr(p, &from->time_col))
        return false;
    snprintf(what, sizeof what, "',' and the window %s in %s", hop ? "slide" : "size", fn);
    if (!expect_tok(p, TW_SQL_TOK_COMMA, what) || !parse_expr(p, hop ? &from->hop : &from->size))
        return false;
    if (hop) {
        if (!expect_tok(p, TW_SQL_TOK_COMMA, "',' and the window size in HOP") ||
            !parse_expr(p, &from->size))
            return false;
    }
    if (accept_tok(p, TW_SQL_TOK_COMMA) && !parse_expr(p, &from->offset))
        return false;
    snprintf(what, sizeof what, "')' after the %s arguments", fn);
    return expect_tok(p, TW_SQL_TOK_RPAREN, what);
}

static bool is_join_word(const tw_sql_token *tok)
{
    static const char *const words[] = {"join", "inner", "left", "right", "full", "cross", "natural"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (tok_is_kw(tok, words[i]))
            return true;
    return false;
}

static bool parse_from_item(parser *p, tw_sql_from **out)
{
    tw_sql_from *from = tw_arena_calloc(p->arena, sizeof *from);
    from->loc = cur(p)->loc;
    if (is_tok(p, TW_SQL_TOK_LPAREN))
        return unsupported(p, from->loc, "subqueries in FROM");
    if (is_kw(p, "lateral"))
        return unsupported(p, from->loc, "LATERAL");
    if (is_kw(p, "only"))
        return unsupported(p, from->loc, "FROM ONLY");
    if (!parse_qualified_name(p, "a table, view or source name after FROM", &from->rel))
        return false;
    if (is_tok(p, TW_SQL_TOK_LPAREN)) {
        bool tumble = !from->rel.schema && !strcmp(from->rel.name, "tumble");
        bool hop = !from->rel.schema && !strcmp(from->rel.name, "hop");
        if (!tumble && !hop)
            return unsupported(p, from->loc, "table functions in FROM other than TUMBLE and HOP");
        from->kind = hop ? TW_SQL_FROM_HOP : TW_SQL_FROM_TUMBLE;
        if (!parse_window_tvf(p, from, hop))
            return false;
    }
    if (!parse_opt_alias(p, &from->alias))
        return false;
    if (from->alias && is_tok(p, TW_SQL_TOK_LPAREN))
        return unsupported(p, cur(p)->loc, "column aliases in FROM");
    if (is_tok(p, TW_SQL_TOK_COMMA))
        return unsupported(p, cur(p)->loc, "JOIN (several FROM items)");
    if (is_join_word(cur(p)))
        return unsupported(p, cur(p)->loc, "JOIN");
    *out = from;
    return true;
}

static bool parse_nonneg_int(parser *p, const char *clause, int64_t *out)
{
    if (!is_tok(p, TW_SQL_TOK_INTEGER)) {
        char what[64];
        snprintf(what, sizeof what, "a non-negative integer after %s", clause);
        return expected(p, what);
    }
    const tw_sql_token *tok = advance(p);
    errno = 0;
    long long v = strtoll(tok->str, NULL, 10);
    if (errno == ERANGE)
        return error_at(p, TW_ERR_SYNTAX, tok->loc, "%s value is too large", clause);
    *out = v;
    return true;
}

static bool parse_order_by(parser *p, tw_sql_select *s)
{
    vec items = {0};
    do {
        tw_sql_order_item *item = vec_push(p, &items, sizeof *item);
        item->loc = cur(p)->loc;
        if (!parse_expr(p, &item->expr))
            return false;
        if (accept_kw(p, "desc"))
            item->desc = true;
        else
            accept_kw(p, "asc");
        if (is_kw(p, "using"))
            return unsupported(p, cur(p)->loc, "ORDER BY ... USING");
        if (accept_kw(p, "nulls")) {
            if (accept_kw(p, "first"))
                item->nulls = TW_SQL_NULLS_FIRST;
            else if (accept_kw(p, "last"))
                item->nulls = TW_SQL_NULLS_LAST;
            else
                return expected(p, "FIRST or LAST after NULLS");
        }
    } while (accept_tok(p, TW_SQL_TOK_COMMA));
    s->order_by = items.items;
    s->norder_by = items.count;
    return true;
}

static bool reject_set_operation(parser *p)
{
    if (is_kw(p, "union"))
        return unsupported(p, cur(p)->loc, "UNION");
    if (is_kw(p, "intersect"))
        return unsupported(p, cur(p)->loc, "INTERSECT");
    if (is_kw(p, "except"))
        return unsupported(p, cur(p)->loc, "EXCEPT");
    return true;
}

/* SELECT ... up to (not including) what follows the query. */
static bool parse_select_body(parser *p, tw_sql_select **out)
{
    tw_sql_select *s = tw_arena_calloc(p->arena, sizeof *s);
    s->loc = cur(p)->loc;
    if (!expect_kw(p, "select", "SELECT"))
        return false;
    if (is_kw(p, "distinct"))
        return unsupported(p, cur(p)->loc,
                           tok_is_kw(peek(p, 1), "on") ? "DISTINCT ON" : "SELECT DISTINCT");
    accept_kw(p, "all");

    vec items = {0};
    do {
        tw_sql_select_item *item = vec_push(p, &items, sizeof *item);
        if (!parse_select_item(p, item))
            return false;
    } while (accept_tok(p, TW_SQL_TOK_COMMA));
    s->items = items.items;
    s->nitems = items.count;

    if (is_kw(p, "into"))
        return unsupported(p, cur(p)->loc, "SELECT INTO");
    if (accept_kw(p, "from") && !parse_from_item(p, &s->from))
        return false;
    if (accept_kw(p, "where") && !parse_expr(p, &s->where))
        return false;
    if (is_kw(p, "group")) {
        advance(p);
        if (!expect_kw(p, "by", "BY after GROUP"))
            return false;
        if (!parse_expr_list(p, &s->group_by, &s->ngroup_by))
            return false;
    }
    if (accept_kw(p, "having") && !parse_expr(p, &s->having))
        return false;
    if (is_kw(p, "window"))
        return unsupported(p, cur(p)->loc, "the WINDOW clause");
    if (is_kw(p, "emit")) {
        advance(p);
        if (!expect_kw(p, "on", "ON after EMIT") || !expect_kw(p, "window", "WINDOW after EMIT ON") ||
            !expect_kw(p, "close", "CLOSE after EMIT ON WINDOW"))
            return false;
        s->emit_on_window_close = true;
    }
    if (!reject_set_operation(p))
        return false;
    if (is_kw(p, "order")) {
        advance(p);
        if (!expect_kw(p, "by", "BY after ORDER") || !parse_order_by(p, s))
            return false;
    }
    for (;;) {
        if (!s->has_limit && is_kw(p, "limit")) {
            advance(p);
            if (!accept_kw(p, "all")) {
                if (!parse_nonneg_int(p, "LIMIT", &s->limit))
                    return false;
                s->has_limit = true;
            }
        } else if (!s->has_offset && is_kw(p, "offset")) {
            advance(p);
            if (!parse_nonneg_int(p, "OFFSET", &s->offset))
                return false;
            if (!accept_kw(p, "rows"))
                accept_kw(p, "row");
            s->has_offset = true;
        } else {
            break;
        }
    }
    if (is_kw(p, "fetch"))
        return unsupported(p, cur(p)->loc, "FETCH FIRST");
    if (is_kw(p, "for"))
        return unsupported(p, cur(p)->loc, "SELECT ... FOR UPDATE/SHARE");
    if (!reject_set_operation(p))
        return false;
    *out = s;
    return true;
}

static bool parse_query(parser *p, tw_sql_select **out)
{
    if (is_kw(p, "with"))
        return unsupported(p, cur(p)->loc, "WITH (common table expressions)");
    if (is_kw(p, "values"))
        return unsupported(p, cur(p)->loc, "VALUES");
    if (is_tok(p, TW_SQL_TOK_LPAREN) && tok_is_kw(peek(p, 1), "select"))
        return unsupported(p, cur(p)->loc, "parenthesized queries");
    if (!is_kw(p, "select"))
        return expected(p, "SELECT");
    return parse_select_body(p, out);
}

/* ---- options --------------------------------------------------------------- */

static bool parse_option_word(parser *p, vec *buf)
{
    const tw_sql_token *tok = cur(p);
    if (tok->kind != TW_SQL_TOK_IDENT && tok->kind != TW_SQL_TOK_QIDENT && tok->kind != TW_SQL_TOK_STRING)
        return expected(p, "an option name");
    advance(p);
    for (uint32_t i = 0; i < tok->str_len; i++) {
        char *c = vec_push(p, buf, 1);
        char ch = tok->str[i];
        *c = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    return true;
}

/* key: a dotted sequence of words or quoted names, lowercased and joined. */
static bool parse_option_key(parser *p, const char **out)
{
    vec buf = {0};
    if (!parse_option_word(p, &buf))
        return false;
    while (is_tok(p, TW_SQL_TOK_DOT)) {
        advance(p);
        *(char *)vec_push(p, &buf, 1) = '.';
        if (!parse_option_word(p, &buf))
            return false;
    }
    *(char *)vec_push(p, &buf, 1) = '\0';
    *out = buf.items;
    return true;
}

/* An option or SET value: 'string', [+-]number, TRUE/FALSE or a dotted name. */
static bool parse_value(parser *p, const char *what, const char **value, tw_sql_value_kind *kind)
{
    const tw_sql_token *tok = cur(p);
    if (tok->kind == TW_SQL_TOK_STRING) {
        *kind = TW_SQL_VAL_STRING;
        *value = advance(p)->str;
        return true;
    }
    if (tok_is_op(tok, "-") || tok_is_op(tok, "+")) {
        const tw_sql_token *num = peek(p, 1);
        if (num->kind != TW_SQL_TOK_INTEGER && num->kind != TW_SQL_TOK_DECIMAL) {
            advance(p);
            return expected(p, "a number after the sign");
        }
        p->pos += 2;
        *kind = TW_SQL_VAL_NUMBER;
        if (tok->str[0] == '-') {
            char *v = tw_arena_alloc(p->arena, num->str_len + 2);
            v[0] = '-';
            memcpy(v + 1, num->str, num->str_len + 1);
            *value = v;
        } else {
            *value = num->str;
        }
        return true;
    }
    if (tok->kind == TW_SQL_TOK_INTEGER || tok->kind == TW_SQL_TOK_DECIMAL) {
        *kind = TW_SQL_VAL_NUMBER;
        *value = advance(p)->str;
        return true;
    }
    if (tok_is_kw(tok, "true") || tok_is_kw(tok, "false")) {
        *kind = TW_SQL_VAL_BOOL;
        *value = advance(p)->str;
        return true;
    }
    if (tok->kind == TW_SQL_TOK_IDENT || tok->kind == TW_SQL_TOK_QIDENT) {
        vec buf = {0};
        for (;;) {
            const tw_sql_token *word = advance(p);
            for (uint32_t i = 0; i < word->str_len; i++)
                *(char *)vec_push(p, &buf, 1) = word->str[i];
            if (!is_tok(p, TW_SQL_TOK_DOT))
                break;
            advance(p);
            if (!at_label(p))
                return expected(p, "a name after '.'");
            *(char *)vec_push(p, &buf, 1) = '.';
        }
        *(char *)vec_push(p, &buf, 1) = '\0';
        *kind = TW_SQL_VAL_IDENT;
        *value = buf.items;
        return true;
    }
    return expected(p, what);
}

static bool parse_options(parser *p, tw_sql_options *out)
{
    if (!expect_tok(p, TW_SQL_TOK_LPAREN, "'(' to start the options"))
        return false;
    vec items = {0};
    if (!is_tok(p, TW_SQL_TOK_RPAREN)) {
        do {
            tw_sql_option *opt = vec_push(p, &items, sizeof *opt);
            opt->loc = cur(p)->loc;
            if (!parse_option_key(p, &opt->key))
                return false;
            if (!tok_is_op(cur(p), "="))
                return expected(p, "'=' after the option name");
            advance(p);
            opt->value_loc = cur(p)->loc;
            if (!parse_value(p, "an option value (a string, number, TRUE/FALSE or name)", &opt->value,
                             &opt->kind))
                return false;
        } while (accept_tok(p, TW_SQL_TOK_COMMA));
    }
    if (!expect_tok(p, TW_SQL_TOK_RPAREN, "',' or ')' after an option"))
        return false;
    out->items = items.items;
    out->count = items.count;
    return true;
}

/* [FORMAT word ENCODE word [( options )]] */
static bool parse_opt_format(parser *p, tw_sql_format *out)
{
    if (is_kw(p, "row") && tok_is_kw(peek(p, 1), "format"))
        return unsupported(p, cur(p)->loc, "ROW FORMAT (write FORMAT ... ENCODE ...)");
    if (!is_kw(p, "format"))
        return true;
    out->present = true;
    out->loc = advance(p)->loc;
    if (!is_tok(p, TW_SQL_TOK_IDENT))
        return expected(p, "a format after FORMAT (PLAIN, UPSERT, ...)");
    out->format = advance(p)->str;
    if (!expect_kw(p, "encode", "ENCODE after the format"))
        return false;
    if (!is_tok(p, TW_SQL_TOK_IDENT))
        return expected(p, "an encoding after ENCODE (JSON, ...)");
    out->encode = advance(p)->str;
    if (is_tok(p, TW_SQL_TOK_LPAREN) && !parse_options(p, &out->options))
        return false;
    if (is_kw(p, "key") && tok_is_kw(peek(p, 1), "encode"))
        return unsupported(p, cur(p)->loc, "KEY ENCODE");
    return true;
}

/* ---- statements ------------------------------------------------------------ */

static bool parse_if_not_exists(parser *p, bool *out)
{
    *out = false;
    if (!is_kw(p, "if"))
        return true;
    advance(p);
    if (!expect_kw(p, "not", "NOT after IF") || !expect_kw(p, "exists", "EXISTS after IF NOT"))
        return false;
    *out = true;
    return true;
}

static bool parse_column_constraints(parser *p, tw_sql_column_def *col)
{
    for (;;) {
        uint32_t loc = cur(p)->loc;
        if (is_kw(p, "not") && tok_is_kw(peek(p, 1), "null")) {
            p->pos += 2;
            col->not_null = true;
        } else if (accept_kw(p, "null")) {
            col->not_null = false;
        } else if (is_kw(p, "primary")) {
            advance(p);
            if (!expect_kw(p, "key", "KEY after PRIMARY"))
                return false;
            col->primary_key = true;
        } else if (is_kw(p, "default")) {
            return unsupported(p, loc, "column DEFAULT values");
        } else if (is_kw(p, "as")) {
            return unsupported(p, loc, "generated columns");
        } else if (is_kw(p, "constraint") || is_kw(p, "unique") || is_kw(p, "check") ||
                   is_kw(p, "references")) {
            return unsupported(p, loc, "column constraints other than NOT NULL and PRIMARY KEY");
        } else {
            return true;
        }
    }
}

static bool parse_column_list(parser *p, tw_sql_create_source *cs)
{
    advance(p); /* ( */
    vec columns = {0};
    if (is_tok(p, TW_SQL_TOK_RPAREN))
        return expected(p, "a column definition");
    do {
        uint32_t loc = cur(p)->loc;
        if (is_kw(p, "watermark") && tok_is_kw(peek(p, 1), "for")) {
            if (cs->watermark)
                return error_at(p, TW_ERR_SYNTAX, loc, "only one WATERMARK is allowed");
            p->pos += 2;
            tw_sql_watermark *wm = tw_arena_calloc(p->arena, sizeof *wm);
            wm->loc = loc;
            if (!parse_ident(p, "a column name after WATERMARK FOR", &wm->column) ||
                !expect_kw(p, "as", "AS after the watermark column") || !parse_expr(p, &wm->expr))
                return false;
            cs->watermark = wm;
        } else if (is_kw(p, "primary")) {
            if (cs->primary_key)
                return error_at(p, TW_ERR_SYNTAX, loc, "multiple primary keys are not allowed");
            advance(p);
            if (!expect_kw(p, "key", "KEY after PRIMARY") ||
                !expect_tok(p, TW_SQL_TOK_LPAREN, "'(' after PRIMARY KEY"))
                return false;
            vec names = {0};
            do {
                const char **slot = vec_push(p, &names, sizeof *slot);
                if (!parse_ident(p, "a column name", slot))
                    return false;
            } while (accept_tok(p, TW_SQL_TOK_COMMA));
            if (!expect_tok(p, TW_SQL_TOK_RPAREN, "')' after the primary key columns"))
                return false;
            cs->primary_key = names.items;
            cs->nprimary_key = names.count;
            cs->primary_key_loc = loc;
        } else if (is_kw(p, "constraint") || is_kw(p, "unique") || is_kw(p, "check") ||
                   is_kw(p, "foreign")) {
            return unsupported(p, loc, "table constraints other than PRIMARY KEY");
        } else {
            tw_sql_column_def *col = vec_push(p, &columns, sizeof *col);
            col->loc = loc;
            if (!parse_ident(p, "a column name", &col->name) || !parse_type(p, &col->type) ||
                !parse_column_constraints(p, col))
                return false;
        }
    } while (accept_tok(p, TW_SQL_TOK_COMMA));
    if (!expect_tok(p, TW_SQL_TOK_RPAREN, "')' after the column list"))
        return false;
    cs->columns = columns.items;
    cs->ncolumns = columns.count;
    return true;
}

static bool parse_create_source(parser *p, bool is_table, tw_sql_stmt *st)
{
    tw_sql_create_source *cs = tw_arena_calloc(p->arena, sizeof *cs);
    cs->is_table = is_table;
    st->kind = TW_SQL_STMT_CREATE_SOURCE;
    st->u.create_source = cs;
    if (!parse_if_not_exists(p, &cs->if_not_exists) ||
        !parse_qualified_name(p, is_table ? "a table name" : "a source name", &cs->name))
        return false;
    if (is_tok(p, TW_SQL_TOK_LPAREN) && !parse_column_list(p, cs))
        return false;
    if (is_kw(p, "include"))
        return unsupported(p, cur(p)->loc, "INCLUDE");
    if (is_kw(p, "append") && tok_is_kw(peek(p, 1), "only"))
        return unsupported(p, cur(p)->loc, "APPEND ONLY tables");
    if (is_kw(p, "as"))
        return unsupported(p, cur(p)->loc, "CREATE TABLE AS");
    if (accept_kw(p, "with") && !parse_options(p, &cs->with))
        return false;
    return parse_opt_format(p, &cs->format);
}

static bool parse_create_mv(parser *p, tw_sql_stmt *st)
{
    tw_sql_create_mv *mv = tw_arena_calloc(p->arena, sizeof *mv);
    st->kind = TW_SQL_STMT_CREATE_MV;
    st->u.create_mv = mv;
    if (!parse_if_not_exists(p, &mv->if_not_exists) ||
        !parse_qualified_name(p, "a materialized view name", &mv->name))
        return false;
    if (is_tok(p, TW_SQL_TOK_LPAREN))
        return unsupported(p, cur(p)->loc, "a column list on CREATE MATERIALIZED VIEW");
    if (is_kw(p, "with"))
        return unsupported(p, cur(p)->loc, "options on CREATE MATERIALIZED VIEW");
    if (!expect_kw(p, "as", "AS after the materialized view name"))
        return false;
    mv->select_start = cur(p)->loc;
    if (!parse_query(p, &mv->select))
        return false;
    mv->select_end = prev_end(p);
    return true;
}

static bool parse_create_connection(parser *p, tw_sql_stmt *st)
{
    tw_sql_create_connection *c = tw_arena_calloc(p->arena, sizeof *c);
    st->kind = TW_SQL_STMT_CREATE_CONNECTION;
    st->u.create_connection = c;
    return parse_if_not_exists(p, &c->if_not_exists) &&
           parse_qualified_name(p, "a connection name", &c->name) &&
           expect_kw(p, "with", "WITH after the connection name") && parse_options(p, &c->with);
}

static bool parse_create_sink(parser *p, tw_sql_stmt *st)
{
    tw_sql_create_sink *sk = tw_arena_calloc(p->arena, sizeof *sk);
    st->kind = TW_SQL_STMT_CREATE_SINK;
    st->u.create_sink = sk;
    if (!parse_if_not_exists(p, &sk->if_not_exists) || !parse_qualified_name(p, "a sink name", &sk->name))
        return false;
    if (is_kw(p, "into"))
        return unsupported(p, cur(p)->loc, "CREATE SINK ... INTO a table");
    if (accept_kw(p, "from")) {
        sk->has_from = true;
        if (!parse_qualified_name(p, "the materialized view, source or table to sink", &sk->from))
            return false;
    } else if (accept_kw(p, "as")) {
        if (!parse_query(p, &sk->select))
            return false;
    } else {
        return expected(p, "FROM or AS after the sink name");
    }
    if (!expect_kw(p, "with", "WITH ( options ) for the sink") || !parse_options(p, &sk->with))
        return false;
    return parse_opt_format(p, &sk->format);
}

static bool parse_create(parser *p, tw_sql_stmt *st)
{
    uint32_t create_loc = advance(p)->loc;
    if (is_kw(p, "or") && tok_is_kw(peek(p, 1), "replace"))
        return unsupported(p, create_loc, "CREATE OR REPLACE");
    if (accept_kw(p, "source"))
        return parse_create_source(p, false, st);
    if (accept_kw(p, "table"))
        return parse_create_source(p, true, st);
    if (is_kw(p, "materialized")) {
        advance(p);
        if (!expect_kw(p, "view", "VIEW after MATERIALIZED"))
            return false;
        return parse_create_mv(p, st);
    }
    if (accept_kw(p, "connection"))
        return parse_create_connection(p, st);
    if (accept_kw(p, "sink"))
        return parse_create_sink(p, st);
    static const struct {
        const char *word;
        const char *feature;
    } others[] = {
        {"view", "CREATE VIEW"},         {"index", "CREATE INDEX"},
        {"unique", "CREATE INDEX"},      {"function", "CREATE FUNCTION"},
        {"aggregate", "CREATE AGGREGATE"}, {"schema", "CREATE SCHEMA"},
        {"database", "CREATE DATABASE"}, {"user", "CREATE USER"},
        {"role", "CREATE ROLE"},         {"secret", "CREATE SECRET"},
        {"subscription", "CREATE SUBSCRIPTION"}, {"sequence", "CREATE SEQUENCE"},
        {"type", "CREATE TYPE"},         {"temporary", "temporary objects"},
        {"temp", "temporary objects"},   {"cluster", "CREATE CLUSTER"},
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        if (is_kw(p, others[i].word))
            return unsupported(p, create_loc, others[i].feature);
    return expected(p, "SOURCE, TABLE, MATERIALIZED VIEW, CONNECTION or SINK after CREATE");
}

static bool parse_drop(parser *p, tw_sql_stmt *st)
{
    uint32_t drop_loc = advance(p)->loc;
    tw_sql_drop *d = tw_arena_calloc(p->arena, sizeof *d);
    st->kind = TW_SQL_STMT_DROP;
    st->u.drop = d;
    if (accept_kw(p, "source")) {
        d->object = TW_SQL_OBJ_SOURCE;
    } else if (accept_kw(p, "table")) {
        d->object = TW_SQL_OBJ_TABLE;
    } else if (is_kw(p, "materialized")) {
        advance(p);
        if (!expect_kw(p, "view", "VIEW after MATERIALIZED"))
            return false;
        d->object = TW_SQL_OBJ_MATERIALIZED_VIEW;
    } else if (accept_kw(p, "view")) {
        d->object = TW_SQL_OBJ_VIEW;
    } else if (accept_kw(p, "sink")) {
        d->object = TW_SQL_OBJ_SINK;
    } else if (accept_kw(p, "connection")) {
        d->object = TW_SQL_OBJ_CONNECTION;
    } else {
        static const char *const others[] = {"index", "function", "schema", "database", "user",
                                             "secret", "subscription", "aggregate", "role", "type"};
        for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
            if (is_kw(p, others[i])) {
                char feature[64];
                char word[32];
                token_text(p, cur(p), word, sizeof word);
                for (char *c = word; *c; c++)
                    if (*c >= 'a' && *c <= 'z')
                        *c = (char)(*c - 'a' + 'A');
                snprintf(feature, sizeof feature, "DROP %s", word);
                return unsupported(p, drop_loc, feature);
            }
        }
        return expected(p, "SOURCE, TABLE, MATERIALIZED VIEW, VIEW, SINK or CONNECTION after DROP");
    }
    if (is_kw(p, "if")) {
        advance(p);
        if (!expect_kw(p, "exists", "EXISTS after IF"))
            return false;
        d->if_exists = true;
    }
    if (!parse_qualified_name(p, "a name to drop", &d->name))
        return false;
    if (is_tok(p, TW_SQL_TOK_COMMA))
        return unsupported(p, cur(p)->loc, "dropping several objects in one statement");
    if (accept_kw(p, "cascade"))
        d->cascade = true;
    else
        accept_kw(p, "restrict");
    return true;
}

/* SET TIME ZONE / SHOW TIME ZONE name the "timezone" parameter. */
static bool parse_param_name(parser *p, const char *what, const char **out)
{
    if (is_kw(p, "time") && tok_is_kw(peek(p, 1), "zone")) {
        p->pos += 2;
        *out = "timezone";
        return true;
    }
    if (!at_label(p))
        return expected(p, what);
    vec buf = {0};
    for (;;) {
        const tw_sql_token *word = advance(p);
        for (uint32_t i = 0; i < word->str_len; i++)
            *(char *)vec_push(p, &buf, 1) = word->str[i];
        if (!is_tok(p, TW_SQL_TOK_DOT))
            break;
        advance(p);
        if (!at_label(p))
            return expected(p, "a name after '.'");
        *(char *)vec_push(p, &buf, 1) = '.';
    }
    *(char *)vec_push(p, &buf, 1) = '\0';
    *out = buf.items;
    return true;
}

static bool parse_show(parser *p, tw_sql_stmt *st)
{
    uint32_t show_loc = advance(p)->loc;
    tw_sql_show *sh = tw_arena_calloc(p->arena, sizeof *sh);
    st->kind = TW_SQL_STMT_SHOW;
    st->u.show = sh;
    static const struct {
        const char *word;
        tw_sql_show_kind what;
    } lists[] = {
        {"sources", TW_SQL_SHOW_SOURCES}, {"sinks", TW_SQL_SHOW_SINKS},
        {"connections", TW_SQL_SHOW_CONNECTIONS}, {"tables", TW_SQL_SHOW_TABLES},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        if (accept_kw(p, lists[i].word)) {
            sh->what = lists[i].what;
            goto from_check;
        }
    }
    if (is_kw(p, "materialized") && tok_is_kw(peek(p, 1), "views")) {
        p->pos += 2;
        sh->what = TW_SQL_SHOW_MATERIALIZED_VIEWS;
        goto from_check;
    }
    static const char *const others[] = {"create", "views", "databases", "schemas", "columns",
                                         "indexes", "functions", "internal", "cluster", "jobs",
                                         "processlist", "subscriptions", "secrets", "cursors",
                                         "parameters"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        if (is_kw(p, others[i])) {
            char word[32], feature[64];
            token_text(p, cur(p), word, sizeof word);
            for (char *c = word; *c; c++)
                if (*c >= 'a' && *c <= 'z')
                    *c = (char)(*c - 'a' + 'A');
            snprintf(feature, sizeof feature, "SHOW %s", word);
            return unsupported(p, show_loc, feature);
        }
    }
    sh->what = TW_SQL_SHOW_PARAM;
    return parse_param_name(p, "what to show (SOURCES, MATERIALIZED VIEWS, SINKS, ... or a parameter)",
                            &sh->param);
from_check:
    if (is_kw(p, "from") || is_kw(p, "in") || is_kw(p, "like"))
        return unsupported(p, cur(p)->loc, "SHOW ... FROM/IN/LIKE");
    return true;
}

static bool parse_set(parser *p, tw_sql_stmt *st)
{
    advance(p);
    tw_sql_set *set = tw_arena_calloc(p->arena, sizeof *set);
    st->kind = TW_SQL_STMT_SET;
    st->u.set = set;
    if (is_kw(p, "local") || is_kw(p, "session")) {
        if (is_kw(p, "local"))
            return unsupported(p, cur(p)->loc, "SET LOCAL");
        advance(p);
    }
    bool time_zone = is_kw(p, "time") && tok_is_kw(peek(p, 1), "zone");
    if (!parse_param_name(p, "a parameter name after SET", &set->name))
        return false;
    if (!time_zone) {
        if (tok_is_op(cur(p), "="))
            advance(p);
        else if (!expect_kw(p, "to", "'=' or TO after the parameter name"))
            return false;
    }
    set->value_loc = cur(p)->loc;
    if (!parse_value(p, "a value", &set->value, &set->kind))
        return false;
    if (is_tok(p, TW_SQL_TOK_COMMA))
        return unsupported(p, cur(p)->loc, "list values in SET");
    return true;
}

static bool parse_statement(parser *p, tw_sql_stmt *st)
{
    const tw_sql_token *tok = cur(p);
    if (tok_is_kw(tok, "create"))
        return parse_create(p, st);
    if (tok_is_kw(tok, "drop"))
        return parse_drop(p, st);
    if (tok_is_kw(tok, "select") || tok_is_kw(tok, "with") || tok_is_kw(tok, "values") ||
        (tok->kind == TW_SQL_TOK_LPAREN && tok_is_kw(peek(p, 1), "select"))) {
        st->kind = TW_SQL_STMT_SELECT;
        return parse_query(p, &st->u.select);
    }
    if (tok_is_kw(tok, "show"))
        return parse_show(p, st);
    if (tok_is_kw(tok, "describe")) {
        advance(p);
        tw_sql_describe *d = tw_arena_calloc(p->arena, sizeof *d);
        st->kind = TW_SQL_STMT_DESCRIBE;
        st->u.describe = d;
        return parse_qualified_name(p, "a name after DESCRIBE", &d->name);
    }
    if (tok_is_kw(tok, "set"))
        return parse_set(p, st);
    static const char *const others[] = {
        "explain", "insert", "update", "delete", "alter", "grant", "revoke", "truncate", "copy",
        "begin", "start", "commit", "rollback", "abort", "flush", "cancel", "comment", "recover",
        "analyze", "vacuum", "refresh", "declare", "fetch", "close", "prepare", "execute",
        "deallocate", "reset", "use", "discard", "listen", "notify", "kill", "wait", "table", "merge",
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        if (tok_is_kw(tok, others[i])) {
            char word[32];
            token_text(p, tok, word, sizeof word);
            for (char *c = word; *c; c++)
                if (*c >= 'a' && *c <= 'z')
                    *c = (char)(*c - 'a' + 'A');
            return unsupported(p, tok->loc, word);
        }
    }
    return expected(p, "a statement (CREATE, DROP, SELECT, SHOW, DESCRIBE or SET)");
}

bool tw_sql_parse_script(const char *text, size_t len, const char *filename, tw_arena *arena,
                         tw_sql_script *out, tw_err *err)
{
    memset(out, 0, sizeof *out);
    out->text = text;
    out->len = len;
    out->filename = filename;
    if (len >= UINT32_MAX)
        return tw_err_set(err, TW_ERR_SYNTAX, "%s: script too large (%zu bytes; the limit is 4 GiB)",
                          filename ? filename : "<sql>", len);
    parser p = {.text = text, .len = len, .filename = filename, .arena = arena, .err = err};
    tw_sql_lex(text, len, filename, arena, &p.toks);
    vec stmts = {0};
    bool ok = true;
    for (;;) {
        while (accept_tok(&p, TW_SQL_TOK_SEMI))
            ;
        if (is_tok(&p, TW_SQL_TOK_EOF))
            break;
        tw_sql_stmt *st = vec_push(&p, &stmts, sizeof *st);
        st->start = cur(&p)->loc;
        p.depth = 0;
        if (!parse_statement(&p, st)) {
            ok = false;
            break;
        }
        st->end = prev_end(&p);
        if (!is_tok(&p, TW_SQL_TOK_SEMI) && !is_tok(&p, TW_SQL_TOK_EOF)) {
            ok = expected(&p, "';' or end of input after the statement");
            break;
        }
    }
    out->stmts = stmts.items;
    out->nstmts = stmts.count;
    tw_sql_tokens_free(&p.toks);
    return ok;
}

const char *tw_sql_stmt_kind_name(tw_sql_stmt_kind kind)
{
    switch (kind) {
    case TW_SQL_STMT_CREATE_SOURCE: return "CREATE SOURCE";
    case TW_SQL_STMT_CREATE_MV: return "CREATE MATERIALIZED VIEW";
    case TW_SQL_STMT_CREATE_CONNECTION: return "CREATE CONNECTION";
    case TW_SQL_STMT_CREATE_SINK: return "CREATE SINK";
    case TW_SQL_STMT_DROP: return "DROP";
    case TW_SQL_STMT_SELECT: return "SELECT";
    case TW_SQL_STMT_SHOW: return "SHOW";
    case TW_SQL_STMT_DESCRIBE: return "DESCRIBE";
    case TW_SQL_STMT_SET: return "SET";
    }
    return "?";
}

const char *tw_sql_object_kind_name(tw_sql_object_kind kind)
{
    switch (kind) {
    case TW_SQL_OBJ_SOURCE: return "SOURCE";
    case TW_SQL_OBJ_TABLE: return "TABLE";
    case TW_SQL_OBJ_MATERIALIZED_VIEW: return "MATERIALIZED VIEW";
    case TW_SQL_OBJ_VIEW: return "VIEW";
    case TW_SQL_OBJ_SINK: return "SINK";
    case TW_SQL_OBJ_CONNECTION: return "CONNECTION";
    }
    return "?";
}

const char *tw_sql_binary_op_name(tw_sql_binary_op op)
{
    switch (op) {
    case TW_SQL_B_OR: return "OR";
    case TW_SQL_B_AND: return "AND";
    case TW_SQL_B_EQ: return "=";
    case TW_SQL_B_NE: return "<>";
    case TW_SQL_B_LT: return "<";
    case TW_SQL_B_GT: return ">";
    case TW_SQL_B_LE: return "<=";
    case TW_SQL_B_GE: return ">=";
    case TW_SQL_B_ADD: return "+";
    case TW_SQL_B_SUB: return "-";
    case TW_SQL_B_MUL: return "*";
    case TW_SQL_B_DIV: return "/";
    case TW_SQL_B_MOD: return "%";
    case TW_SQL_B_CONCAT: return "||";
    }
    return "?";
}

/* binder.c - see binder.h. */
#include "sql/binder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/timeutil.h"
#include "sql/sqlerr.h"

/* Column scope: the names an expression can read, in batch column order. */
typedef struct scope {
    const char *qualifier; /* alias or relation name */
    const char **names;
    const tw_type *types;
    uint32_t ncols;
} scope;

typedef struct bind_ctx {
    tw_binder *b;
    tw_err *err;
    scope in;
    /* aggregate context */
    bool agg_mode;          /* binding over keys + aggs */
    tw_plan *plan;          /* where keys and aggs are collected */
    const tw_sql_select *sel;
} bind_ctx;

static bool fail_at(bind_ctx *c, tw_err_code code, uint32_t loc, const char *fmt, const char *a,
                    const char *b2)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b2 ? b2 : "");
    const tw_sql_script *s = c->b->script;
    return tw_sql_error_at(c->err, code, s->text, s->len, s->filename, loc, "%s", msg);
}

/* ---- types ---------------------------------------------------------------- */

static int numeric_rank(tw_type t)
{
    switch (t) {
    case TW_T_INT16: return 1;
    case TW_T_INT32: return 2;
    case TW_T_INT64: return 3;
    case TW_T_FLOAT32: return 4;
    case TW_T_FLOAT64: return 5;
    default: return 0;
    }
}

static tw_expr *cast_to(tw_expr *e, tw_type to)
{
    if (e->type == to)
        return e;
    if (e->kind == TW_EX_CONST) {
        tw_value out;
        tw_arena tmp;
        tw_arena_init(&tmp, 256);
        bool ok = tw_value_cast(&e->value, to, &tmp, &out);
        if (ok || e->value.is_null) {
            tw_expr *c = tw_expr_const(out); /* copies strings */
            tw_arena_free(&tmp);
            tw_expr_free(e);
            return c;
        }
        tw_arena_free(&tmp);
    }
    return tw_expr_call1(TW_FN_CAST, to, e);
}

/* Finds a common type for a comparison, CASE, COALESCE, IN: numerics widen;
 * untyped NULL and string literals adopt the other side's type. */
static bool common_type(tw_expr *a, tw_expr *b, tw_type *out)
{
    tw_type x = a->type, y = b->type;
    if (x == y) {
        *out = x;
        return true;
    }
    if (x == TW_T_NULL) {
        *out = y;
        return true;
    }
    if (y == TW_T_NULL) {
        *out = x;
        return true;
    }
    if (numeric_rank(x) && numeric_rank(y)) {
        *out = numeric_rank(x) > numeric_rank(y) ? x : y;
        return true;
    }
    if (tw_type_is_time(x) && tw_type_is_time(y)) {
        *out = TW_T_TIMESTAMPTZ;
        return true;
    }
    /* A string literal against a typed value: read the literal as that type. */
    if (x == TW_T_VARCHAR && a->kind == TW_EX_CONST) {
        *out = y;
        return true;
    }
    if (y == TW_T_VARCHAR && b->kind == TW_EX_CONST) {
        *out = x;
        return true;
    }
    return false;
}

/* ---- helpers -------------------------------------------------------------- */

static bool is_agg_name(const char *name)
{
    return !strcmp(name, "count") || !strcmp(name, "sum") || !strcmp(name, "avg") ||
           !strcmp(name, "min") || !strcmp(name, "max");
}

static bool ast_has_agg(const tw_sql_expr *e)
{
    if (!e)
        return false;
    switch (e->kind) {
    case TW_SQL_E_FUNC:
        if (is_agg_name(e->u.func.name))
            return true;
        for (uint32_t i = 0; i < e->u.func.nargs; i++)
            if (ast_has_agg(e->u.func.args[i]))
                return true;
        return false;
    case TW_SQL_E_UNARY: return ast_has_agg(e->u.unary.arg);
    case TW_SQL_E_BINARY: return ast_has_agg(e->u.binary.left) || ast_has_agg(e->u.binary.right);
    case TW_SQL_E_CASE:
        if (ast_has_agg(e->u.case_.operand) || ast_has_agg(e->u.case_.else_expr))
            return true;
        for (uint32_t i = 0; i < e->u.case_.nwhens; i++)
            if (ast_has_agg(e->u.case_.whens[i].when) || ast_has_agg(e->u.case_.whens[i].then))
                return true;
        return false;
    case TW_SQL_E_CAST: return ast_has_agg(e->u.cast.arg);
    case TW_SQL_E_IS: return ast_has_agg(e->u.is.arg) || ast_has_agg(e->u.is.rhs);
    case TW_SQL_E_BETWEEN:
        return ast_has_agg(e->u.between.arg) || ast_has_agg(e->u.between.low) ||
               ast_has_agg(e->u.between.high);
    case TW_SQL_E_IN:
        if (ast_has_agg(e->u.in.arg))
            return true;
        for (uint32_t i = 0; i < e->u.in.nitems; i++)
            if (ast_has_agg(e->u.in.items[i]))
                return true;
        return false;
    case TW_SQL_E_LIKE: return ast_has_agg(e->u.like.arg) || ast_has_agg(e->u.like.pattern);
    case TW_SQL_E_EXTRACT: return ast_has_agg(e->u.extract.arg);
    default: return false;
    }
}

static bool expr_equal(const tw_expr *a, const tw_expr *b)
{
    if (a->kind != b->kind || a->type != b->type)
        return false;
    switch (a->kind) {
    case TW_EX_COLUMN: return a->column == b->column;
    case TW_EX_CONST: return tw_value_equal(&a->value, &b->value);
    case TW_EX_CALL:
        if (a->fn != b->fn || a->nargs != b->nargs)
            return false;
        for (uint32_t i = 0; i < a->nargs; i++)
            if (!expr_equal(a->args[i], b->args[i]))
                return false;
        return true;
    }
    return false;
}

bool tw_bind_interval(tw_binder *b, const tw_sql_expr *e, int64_t *out_us, tw_err *err)
{
    const tw_sql_script *s = b->script;
    if (e->kind == TW_SQL_E_INTERVAL) {
        static const char *units[] = {NULL, "year", "month", "day", "hour", "minute", "second"};
        if (e->u.interval.unit == TW_SQL_IU_YEAR || e->u.interval.unit == TW_SQL_IU_MONTH)
            return tw_sql_error_at(err, TW_ERR_UNSUPPORTED, s->text, s->len, s->filename, e->loc,
                                   "intervals of months or years are not supported yet "
                                   "(they have no fixed length)");
        const char *text = e->u.interval.text;
        if (!tw_interval_parse(text, strlen(text), units[e->u.interval.unit], out_us))
            return tw_sql_error_at(err, TW_ERR_BIND, s->text, s->len, s->filename, e->loc,
                                   "invalid interval '%s' (write e.g. INTERVAL '10 seconds')",
                                   text);
        if (*out_us <= 0)
            return tw_sql_error_at(err, TW_ERR_BIND, s->text, s->len, s->filename, e->loc,
                                   "interval must be positive");
        return true;
    }
    if (e->kind == TW_SQL_E_INT && e->u.int_lit > 0) {
        *out_us = e->u.int_lit * TW_USEC_PER_SEC;
        return true;
    }
    return tw_sql_error_at(err, TW_ERR_BIND, s->text, s->len, s->filename, e->loc,
                           "expected an interval such as INTERVAL '10 seconds'");
}

bool tw_bind_watermark(tw_binder *b, const char *column, const tw_sql_expr *e, int64_t *delay_us,
                       tw_err *err)
{
    const tw_sql_script *s = b->script;
    if (e->kind == TW_SQL_E_COLUMN && !strcmp(e->u.column.name, column)) {
        *delay_us = 0;
        return true;
    }
    if (e->kind == TW_SQL_E_BINARY && e->u.binary.op == TW_SQL_B_SUB &&
        e->u.binary.left->kind == TW_SQL_E_COLUMN &&
        !strcmp(e->u.binary.left->u.column.name, column))
        return tw_bind_interval(b, e->u.binary.right, delay_us, err);
    return tw_sql_error_at(err, TW_ERR_UNSUPPORTED, s->text, s->len, s->filename, e->loc,
                           "WATERMARK expression must be '%s - INTERVAL ...'", column);
}

/* ---- expressions ---------------------------------------------------------- */

static tw_expr *bind(bind_ctx *c, const tw_sql_expr *e);

/* Levenshtein distance, capped: names are short. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 64;
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

static tw_expr *bind_column(bind_ctx *c, const tw_sql_expr *e)
{
    const char *name = e->u.column.name;
    if (e->u.column.table && c->in.qualifier && strcmp(e->u.column.table, c->in.qualifier)) {
        fail_at(c, TW_ERR_BIND, e->loc, "unknown relation '%s' (the query reads '%s')",
                e->u.column.table, c->in.qualifier);
        return NULL;
    }
    for (uint32_t i = 0; i < c->in.ncols; i++)
        if (!strcmp(c->in.names[i], name))
            return tw_expr_column(i, c->in.types[i]);
    for (uint32_t i = 0; i < c->in.ncols; i++)
        if (!strcasecmp(c->in.names[i], name))
            return tw_expr_column(i, c->in.types[i]);
    /* Suggest the closest name: a typo is the usual reason. */
    const char *best = NULL;
    size_t best_d = 3;
    for (uint32_t i = 0; i < c->in.ncols; i++) {
        size_t d = edit_distance(name, c->in.names[i]);
        if (d < best_d) {
            best_d = d;
            best = c->in.names[i];
        }
    }
    char hint[160] = "";
    if (best)
        snprintf(hint, sizeof hint, " (did you mean '%s'?)", best);
    else if (!c->in.qualifier)
        snprintf(hint, sizeof hint, " (the query has no FROM)");
    fail_at(c, TW_ERR_BIND, e->loc, "column '%s' does not exist%s", name, hint);
    return NULL;
}

static tw_expr *bind_literal(bind_ctx *c, const tw_sql_expr *e)
{
    tw_value v;
    memset(&v, 0, sizeof v);
    switch (e->kind) {
    case TW_SQL_E_INT:
        v.type = TW_T_INT64;
        v.i64 = e->u.int_lit;
        if (v.i64 >= INT32_MIN && v.i64 <= INT32_MAX)
            v.type = TW_T_INT32;
        break;
    case TW_SQL_E_NUMERIC:
    case TW_SQL_E_DECIMAL:
        v.type = TW_T_FLOAT64;
        v.f64 = e->kind == TW_SQL_E_DECIMAL ? e->u.decimal.value : strtod(e->u.text, NULL);
        break;
    case TW_SQL_E_STRING:
        v.type = TW_T_VARCHAR;
        v.s.ptr = e->u.text;
        v.s.len = (uint32_t)strlen(e->u.text);
        break;
    case TW_SQL_E_BOOL:
        v.type = TW_T_BOOL;
        v.b = e->u.bool_lit;
        break;
    case TW_SQL_E_NULL: v = tw_value_null(TW_T_NULL); break;
    case TW_SQL_E_INTERVAL:
        v.type = TW_T_INTERVAL;
        if (!tw_bind_interval(c->b, e, &v.i64, c->err))
            return NULL;
        break;
    case TW_SQL_E_TYPED_LIT:
        if (e->u.typed.type == TW_SQL_TL_DATE) {
            fail_at(c, TW_ERR_UNSUPPORTED, e->loc, "type DATE is not supported yet%s%s", "", "");
            return NULL;
        }
        v.type = e->u.typed.type == TW_SQL_TL_TIMESTAMP ? TW_T_TIMESTAMP : TW_T_TIMESTAMPTZ;
        if (!tw_timestamp_parse(e->u.typed.text, strlen(e->u.typed.text), &v.i64)) {
            fail_at(c, TW_ERR_BIND, e->loc, "invalid timestamp '%s'%s", e->u.typed.text, "");
            return NULL;
        }
        break;
    default: return NULL;
    }
    return tw_expr_const(v);
}

static tw_expr *arith(bind_ctx *c, tw_fn fn, tw_expr *l, tw_expr *r, uint32_t loc, const char *op)
{
    tw_type lt = l->type, rt = r->type;
    tw_type result;
    if (lt == TW_T_NULL)
        lt = l->type == rt ? rt : (numeric_rank(rt) ? rt : TW_T_FLOAT64), l = cast_to(l, lt);
    if (rt == TW_T_NULL)
        rt = numeric_rank(lt) ? lt : TW_T_FLOAT64, r = cast_to(r, rt);
    if (numeric_rank(lt) && numeric_rank(rt)) {
        result = numeric_rank(lt) > numeric_rank(rt) ? lt : rt;
        return tw_expr_call2(fn, result, cast_to(l, result), cast_to(r, result));
    }
    if (tw_type_is_time(lt) && rt == TW_T_INTERVAL && (fn == TW_FN_ADD || fn == TW_FN_SUB))
        return tw_expr_call2(fn, lt, l, r);
    if (lt == TW_T_INTERVAL && tw_type_is_time(rt) && fn == TW_FN_ADD)
        return tw_expr_call2(fn, rt, r, l);
    if (tw_type_is_time(lt) && tw_type_is_time(rt) && fn == TW_FN_SUB)
        return tw_expr_call2(fn, TW_T_INTERVAL, l, r);
    if (lt == TW_T_INTERVAL && rt == TW_T_INTERVAL && (fn == TW_FN_ADD || fn == TW_FN_SUB))
        return tw_expr_call2(fn, TW_T_INTERVAL, l, r);
    char types[160];
    snprintf(types, sizeof types, "%s %s %s", tw_type_short_name(lt), op, tw_type_short_name(rt));
    tw_expr_free(l);
    tw_expr_free(r);
    fail_at(c, TW_ERR_BIND, loc, "operator does not exist: %s%s", types, "");
    return NULL;
}

static tw_expr *compare(bind_ctx *c, tw_fn fn, tw_expr *l, tw_expr *r, uint32_t loc,
                        const char *op)
{
    tw_type t;
    if (!common_type(l, r, &t)) {
        char types[160];
        snprintf(types, sizeof types, "%s %s %s", tw_type_short_name(l->type), op,
                 tw_type_short_name(r->type));
        tw_expr_free(l);
        tw_expr_free(r);
        fail_at(c, TW_ERR_BIND, loc, "operator does not exist: %s%s", types, "");
        return NULL;
    }
    if (t == TW_T_NULL)
        t = TW_T_BOOL;
    return tw_expr_call2(fn, TW_T_BOOL, cast_to(l, t), cast_to(r, t));
}

static tw_expr *want_bool(bind_ctx *c, tw_expr *e, uint32_t loc, const char *what)
{
    if (!e)
        return NULL;
    if (e->type == TW_T_NULL)
        return cast_to(e, TW_T_BOOL);
    if (e->type != TW_T_BOOL) {
        fail_at(c, TW_ERR_BIND, loc, "argument of %s must be boolean, not %s", what,
                tw_type_short_name(e->type));
        tw_expr_free(e);
        return NULL;
    }
    return e;
}

/* Binds args[0..n) and coerces them to one common type. */
static tw_expr **bind_common(bind_ctx *c, tw_sql_expr *const *asts, uint32_t n, tw_type *type,
                             uint32_t loc, const char *what)
{
    tw_expr **args = tw_xcalloc(n ? n : 1, sizeof *args);
    tw_type t = TW_T_NULL;
    for (uint32_t i = 0; i < n; i++) {
        args[i] = bind(c, asts[i]);
        if (!args[i])
            goto fail;
        tw_type nt;
        tw_expr probe = {.kind = TW_EX_CONST, .type = t};
        if (!common_type(&probe, args[i], &nt) && !common_type(args[i], &probe, &nt)) {
            fail_at(c, TW_ERR_BIND, asts[i]->loc, "%s types do not match: %s", what,
                    tw_type_short_name(args[i]->type));
            goto fail;
        }
        if (t == TW_T_NULL || numeric_rank(nt) > numeric_rank(t) || args[i]->type == nt)
            t = t == TW_T_NULL ? args[i]->type : nt;
    }
    for (uint32_t i = 0; i < n; i++)
        args[i] = cast_to(args[i], t == TW_T_NULL ? TW_T_VARCHAR : t);
    *type = t == TW_T_NULL ? TW_T_VARCHAR : t;
    (void)loc;
    return args;
fail:
    for (uint32_t i = 0; i < n; i++)
        tw_expr_free(args[i]);
    free(args);
    return NULL;
}

static tw_expr *bind_agg(bind_ctx *c, const tw_sql_expr *e)
{
    const char *name = e->u.func.name;
    if (!c->agg_mode) {
        fail_at(c, TW_ERR_BIND, e->loc, "aggregate function %s is not allowed here%s", name, "");
        return NULL;
    }
    if (e->u.func.distinct) {
        fail_at(c, TW_ERR_UNSUPPORTED, e->loc, "%s(DISTINCT ...) is not supported yet%s", name,
                "");
        return NULL;
    }
    tw_agg_call call;
    memset(&call, 0, sizeof call);
    if (e->u.func.star || (!strcmp(name, "count") && e->u.func.nargs == 0)) {
        if (strcmp(name, "count")) {
            fail_at(c, TW_ERR_BIND, e->loc, "%s(*) is not a function; only count(*) is%s", name,
                    "");
            return NULL;
        }
        call.kind = TW_AGG_COUNT_STAR;
        call.result_type = TW_T_INT64;
    } else {
        if (e->u.func.nargs != 1) {
            fail_at(c, TW_ERR_BIND, e->loc, "%s takes exactly one argument%s", name, "");
            return NULL;
        }
        if (ast_has_agg(e->u.func.args[0])) {
            fail_at(c, TW_ERR_BIND, e->u.func.args[0]->loc,
                    "aggregate function calls cannot be nested%s%s", "", "");
            return NULL;
        }
        /* The argument reads the input, not the aggregate's output. */
        c->agg_mode = false;
        tw_expr *arg = bind(c, e->u.func.args[0]);
        c->agg_mode = true;
        if (!arg)
            return NULL;
        tw_type t = arg->type;
        if (!strcmp(name, "count")) {
            call.kind = TW_AGG_COUNT;
            call.result_type = TW_T_INT64;
        } else if (!strcmp(name, "sum") || !strcmp(name, "avg")) {
            if (t == TW_T_NULL)
                arg = cast_to(arg, TW_T_FLOAT64), t = TW_T_FLOAT64;
            if (!numeric_rank(t)) {
                fail_at(c, TW_ERR_BIND, e->loc, "function %s(%s) does not exist", name,
                        tw_type_short_name(t));
                tw_expr_free(arg);
                return NULL;
            }
            call.kind = !strcmp(name, "sum") ? TW_AGG_SUM : TW_AGG_AVG;
            call.result_type = call.kind == TW_AGG_AVG ? TW_T_FLOAT64
                               : tw_type_is_integer(t) ? TW_T_INT64
                                                       : t;
        } else {
            call.kind = !strcmp(name, "min") ? TW_AGG_MIN : TW_AGG_MAX;
            if (t == TW_T_NULL)
                arg = cast_to(arg, TW_T_VARCHAR), t = TW_T_VARCHAR;
            call.result_type = t;
        }
        call.arg = arg;
    }
    tw_plan *p = c->plan;
    p->aggs = tw_xrealloc(p->aggs, (p->naggs + 1) * sizeof *p->aggs);
    p->aggs[p->naggs] = call;
    return tw_expr_column(p->nkeys + p->naggs++, call.result_type);
}

static tw_expr *bind_func(bind_ctx *c, const tw_sql_expr *e)
{
    const char *name = e->u.func.name;
    uint32_t n = e->u.func.nargs;
    if (is_agg_name(name))
        return bind_agg(c, e);
    static const struct {
        const char *name;
        tw_fn fn;
        int min_args, max_args; /* -1: any */
    } fns[] = {
        {"abs", TW_FN_ABS, 1, 1},         {"round", TW_FN_ROUND, 1, 2},
        {"floor", TW_FN_FLOOR, 1, 1},     {"ceil", TW_FN_CEIL, 1, 1},
        {"ceiling", TW_FN_CEIL, 1, 1},    {"sqrt", TW_FN_SQRT, 1, 1},
        {"power", TW_FN_POWER, 2, 2},     {"pow", TW_FN_POWER, 2, 2},
        {"upper", TW_FN_UPPER, 1, 1},     {"lower", TW_FN_LOWER, 1, 1},
        {"length", TW_FN_LENGTH, 1, 1},   {"char_length", TW_FN_LENGTH, 1, 1},
        {"coalesce", TW_FN_COALESCE, 1, -1}, {"nullif", TW_FN_NULLIF, 2, 2},
        {"greatest", TW_FN_GREATEST, 1, -1}, {"least", TW_FN_LEAST, 1, -1},
        {"concat", TW_FN_CONCAT, 1, -1},
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        if (strcmp(fns[i].name, name))
            continue;
        if ((int)n < fns[i].min_args || (fns[i].max_args >= 0 && (int)n > fns[i].max_args)) {
            fail_at(c, TW_ERR_BIND, e->loc, "wrong number of arguments for %s%s", name, "");
            return NULL;
        }
        tw_fn fn = fns[i].fn;
        if (fn == TW_FN_COALESCE || fn == TW_FN_NULLIF || fn == TW_FN_GREATEST ||
            fn == TW_FN_LEAST) {
            tw_type t;
            tw_expr **args = bind_common(c, e->u.func.args, n, &t, e->loc, name);
            return args ? tw_expr_call(fn, t, args, n) : NULL;
        }
        tw_expr **args = tw_xcalloc(n, sizeof *args);
        for (uint32_t k = 0; k < n; k++) {
            args[k] = bind(c, e->u.func.args[k]);
            if (!args[k]) {
                for (uint32_t j = 0; j < k; j++)
                    tw_expr_free(args[j]);
                free(args);
                return NULL;
            }
        }
        tw_type t = args[0]->type;
        bool ok = true;
        switch (fn) {
        case TW_FN_ABS:
        case TW_FN_FLOOR:
        case TW_FN_CEIL:
        case TW_FN_ROUND:
            if (t == TW_T_NULL)
                args[0] = cast_to(args[0], TW_T_FLOAT64), t = TW_T_FLOAT64;
            ok = numeric_rank(t) > 0;
            if (fn == TW_FN_ROUND && n == 2) {
                args[0] = cast_to(args[0], TW_T_FLOAT64);
                ok = ok && tw_type_is_integer(args[1]->type);
                args[1] = cast_to(args[1], TW_T_INT64);
                fn = TW_FN_ROUND2;
                t = TW_T_FLOAT64;
            }
            break;
        case TW_FN_SQRT:
        case TW_FN_POWER:
            for (uint32_t k = 0; k < n; k++) {
                ok = ok && (numeric_rank(args[k]->type) || args[k]->type == TW_T_NULL);
                args[k] = cast_to(args[k], TW_T_FLOAT64);
            }
            t = TW_T_FLOAT64;
            break;
        case TW_FN_UPPER:
        case TW_FN_LOWER:
        case TW_FN_LENGTH:
            ok = t == TW_T_VARCHAR || t == TW_T_NULL;
            args[0] = cast_to(args[0], TW_T_VARCHAR);
            t = fn == TW_FN_LENGTH ? TW_T_INT32 : TW_T_VARCHAR;
            break;
        case TW_FN_CONCAT:
            /* concat() skips NULLs, unlike ||. */
            for (uint32_t k = 0; k < n; k++) {
                tw_expr *empty = tw_expr_const((tw_value){.type = TW_T_VARCHAR, .s = {"", 0}});
                args[k] = tw_expr_call2(TW_FN_COALESCE, TW_T_VARCHAR,
                                        cast_to(args[k], TW_T_VARCHAR), empty);
            }
            t = TW_T_VARCHAR;
            break;
        default: break;
        }
        if (!ok) {
            char sig[128];
            snprintf(sig, sizeof sig, "%s(%s%s)", name, tw_type_short_name(args[0]->type),
                     n > 1 ? ", ..." : "");
            for (uint32_t k = 0; k < n; k++)
                tw_expr_free(args[k]);
            free(args);
            fail_at(c, TW_ERR_BIND, e->loc, "function %s does not exist%s", sig, "");
            return NULL;
        }
        return tw_expr_call(fn, t, args, n);
    }
    fail_at(c, TW_ERR_UNSUPPORTED, e->loc, "function %s() is not supported yet%s", name, "");
    return NULL;
}

static tw_expr *bind_inner(bind_ctx *c, const tw_sql_expr *e)
{
    switch (e->kind) {
    case TW_SQL_E_INT:
    case TW_SQL_E_NUMERIC:
    case TW_SQL_E_DECIMAL:
    case TW_SQL_E_STRING:
    case TW_SQL_E_BOOL:
    case TW_SQL_E_NULL:
    case TW_SQL_E_INTERVAL:
    case TW_SQL_E_TYPED_LIT: return bind_literal(c, e);
    case TW_SQL_E_COLUMN: return bind_column(c, e);
    case TW_SQL_E_UNARY: {
        tw_expr *a = bind(c, e->u.unary.arg);
        if (!a)
            return NULL;
        if (e->u.unary.op == TW_SQL_U_NOT)
            return (a = want_bool(c, a, e->loc, "NOT")) ? tw_expr_call1(TW_FN_NOT, TW_T_BOOL, a)
                                                          : NULL;
        if (!numeric_rank(a->type) && a->type != TW_T_INTERVAL) {
            fail_at(c, TW_ERR_BIND, e->loc, "operator does not exist: -%s%s",
                    tw_type_short_name(a->type), "");
            tw_expr_free(a);
            return NULL;
        }
        return e->u.unary.op == TW_SQL_U_NEG ? tw_expr_call1(TW_FN_NEG, a->type, a) : a;
    }
    case TW_SQL_E_BINARY: {
        tw_sql_binary_op op = e->u.binary.op;
        tw_expr *l = bind(c, e->u.binary.left);
        if (!l)
            return NULL;
        tw_expr *r = bind(c, e->u.binary.right);
        if (!r) {
            tw_expr_free(l);
            return NULL;
        }
        const char *opname = tw_sql_binary_op_name(op);
        switch (op) {
        case TW_SQL_B_OR:
        case TW_SQL_B_AND:
            l = want_bool(c, l, e->u.binary.left->loc, opname);
            if (!l) {
                tw_expr_free(r);
                return NULL;
            }
            r = want_bool(c, r, e->u.binary.right->loc, opname);
            if (!r) {
                tw_expr_free(l);
                return NULL;
            }
            return tw_expr_call2(op == TW_SQL_B_OR ? TW_FN_OR : TW_FN_AND, TW_T_BOOL, l, r);
        case TW_SQL_B_EQ: return compare(c, TW_FN_EQ, l, r, e->loc, opname);
        case TW_SQL_B_NE: return compare(c, TW_FN_NE, l, r, e->loc, opname);
        case TW_SQL_B_LT: return compare(c, TW_FN_LT, l, r, e->loc, opname);
        case TW_SQL_B_GT: return compare(c, TW_FN_GT, l, r, e->loc, opname);
        case TW_SQL_B_LE: return compare(c, TW_FN_LE, l, r, e->loc, opname);
        case TW_SQL_B_GE: return compare(c, TW_FN_GE, l, r, e->loc, opname);
        case TW_SQL_B_ADD: return arith(c, TW_FN_ADD, l, r, e->loc, opname);
        case TW_SQL_B_SUB: return arith(c, TW_FN_SUB, l, r, e->loc, opname);
        case TW_SQL_B_MUL: return arith(c, TW_FN_MUL, l, r, e->loc, opname);
        case TW_SQL_B_DIV: return arith(c, TW_FN_DIV, l, r, e->loc, opname);
        case TW_SQL_B_MOD: return arith(c, TW_FN_MOD, l, r, e->loc, opname);
        case TW_SQL_B_CONCAT:
            return tw_expr_call2(TW_FN_CONCAT, TW_T_VARCHAR, cast_to(l, TW_T_VARCHAR),
                                 cast_to(r, TW_T_VARCHAR));
        }
        return NULL;
    }
    case TW_SQL_E_FUNC: return bind_func(c, e);
    case TW_SQL_E_CASE: {
        uint32_t nw = e->u.case_.nwhens;
        bool has_else = e->u.case_.else_expr != NULL;
        uint32_t n = 2 * nw + has_else;
        tw_expr **args = tw_xcalloc(n, sizeof *args);
        tw_type t = TW_T_NULL;
        bool ok = true;
        for (uint32_t i = 0; i < nw && ok; i++) {
            const tw_sql_case_when *w = &e->u.case_.whens[i];
            tw_expr *cond;
            if (e->u.case_.operand) {
                tw_expr *x = bind(c, e->u.case_.operand);
                tw_expr *y = x ? bind(c, w->when) : NULL;
                cond = y ? compare(c, TW_FN_EQ, x, y, w->when->loc, "=") : NULL;
                if (x && !y)
                    tw_expr_free(x);
            } else {
                cond = want_bool(c, bind(c, w->when), w->when->loc, "CASE/WHEN");
            }
            args[2 * i] = cond;
            args[2 * i + 1] = cond ? bind(c, w->then) : NULL;
            ok = args[2 * i] && args[2 * i + 1];
        }
        if (ok && has_else)
            ok = (args[n - 1] = bind(c, e->u.case_.else_expr)) != NULL;
        for (uint32_t i = 0; ok && i < n; i++) {
            if (i < 2 * nw && i % 2 == 0)
                continue;
            tw_expr probe = {.kind = TW_EX_CONST, .type = t};
            tw_type nt;
            if (!common_type(&probe, args[i], &nt) && !common_type(args[i], &probe, &nt)) {
                fail_at(c, TW_ERR_BIND, e->loc, "CASE types %s and %s cannot be matched",
                        tw_type_short_name(t), tw_type_short_name(args[i]->type));
                ok = false;
                break;
            }
            t = t == TW_T_NULL ? args[i]->type : nt;
        }
        if (!ok) {
            for (uint32_t i = 0; i < n; i++)
                tw_expr_free(args[i]);
            free(args);
            return NULL;
        }
        if (t == TW_T_NULL)
            t = TW_T_VARCHAR;
        for (uint32_t i = 0; i < n; i++)
            if (!(i < 2 * nw && i % 2 == 0))
                args[i] = cast_to(args[i], t);
        return tw_expr_call(TW_FN_CASE, t, args, n);
    }
    case TW_SQL_E_CAST: {
        tw_expr *a = bind(c, e->u.cast.arg);
        return a ? cast_to(a, e->u.cast.type.type) : NULL;
    }
    case TW_SQL_E_IS: {
        tw_expr *a = bind(c, e->u.is.arg);
        if (!a)
            return NULL;
        bool neg = e->u.is.negated;
        switch (e->u.is.what) {
        case TW_SQL_IS_NULL:
        case TW_SQL_IS_UNKNOWN:
            return tw_expr_call1(neg ? TW_FN_IS_NOT_NULL : TW_FN_IS_NULL, TW_T_BOOL, a);
        case TW_SQL_IS_TRUE:
        case TW_SQL_IS_FALSE: {
            a = want_bool(c, a, e->loc, "IS TRUE/FALSE");
            if (!a)
                return NULL;
            tw_fn fn = e->u.is.what == TW_SQL_IS_TRUE ? (neg ? TW_FN_IS_NOT_TRUE : TW_FN_IS_TRUE)
                                                      : (neg ? TW_FN_IS_NOT_FALSE : TW_FN_IS_FALSE);
            return tw_expr_call1(fn, TW_T_BOOL, a);
        }
        case TW_SQL_IS_DISTINCT_FROM: {
            tw_expr *b2 = bind(c, e->u.is.rhs);
            if (!b2) {
                tw_expr_free(a);
                return NULL;
            }
            return compare(c, neg ? TW_FN_IS_NOT_DISTINCT : TW_FN_IS_DISTINCT, a, b2, e->loc,
                           "IS DISTINCT FROM");
        }
        }
        return NULL;
    }
    case TW_SQL_E_BETWEEN: {
        tw_expr *x = bind(c, e->u.between.arg);
        tw_expr *lo = x ? bind(c, e->u.between.low) : NULL;
        tw_expr *hi = lo ? bind(c, e->u.between.high) : NULL;
        if (!hi) {
            tw_expr_free(x);
            tw_expr_free(lo);
            return NULL;
        }
        tw_expr *x2 = tw_expr_copy(x);
        tw_expr *ge = compare(c, TW_FN_GE, x, lo, e->loc, ">=");
        tw_expr *le = ge ? compare(c, TW_FN_LE, x2, hi, e->loc, "<=") : NULL;
        if (!le) {
            if (!ge)
                tw_expr_free(x2), tw_expr_free(hi);
            tw_expr_free(ge);
            return NULL;
        }
        tw_expr *both = tw_expr_call2(TW_FN_AND, TW_T_BOOL, ge, le);
        return e->u.between.negated ? tw_expr_call1(TW_FN_NOT, TW_T_BOOL, both) : both;
    }
    case TW_SQL_E_IN: {
        uint32_t n = e->u.in.nitems + 1;
        tw_sql_expr **all = tw_xmalloc(n * sizeof *all);
        all[0] = e->u.in.arg;
        memcpy(all + 1, e->u.in.items, e->u.in.nitems * sizeof *all);
        tw_type t;
        tw_expr **args = bind_common(c, all, n, &t, e->loc, "IN");
        free(all);
        return args ? tw_expr_call(e->u.in.negated ? TW_FN_NOT_IN : TW_FN_IN, TW_T_BOOL, args, n)
                    : NULL;
    }
    case TW_SQL_E_LIKE: {
        if (e->u.like.escape) {
            fail_at(c, TW_ERR_UNSUPPORTED, e->loc, "LIKE ... ESCAPE is not supported yet%s%s", "",
                    "");
            return NULL;
        }
        tw_expr *a = bind(c, e->u.like.arg);
        tw_expr *p = a ? bind(c, e->u.like.pattern) : NULL;
        if (!p) {
            tw_expr_free(a);
            return NULL;
        }
        tw_expr *m = tw_expr_call2(e->u.like.case_insensitive ? TW_FN_ILIKE : TW_FN_LIKE,
                                   TW_T_BOOL, cast_to(a, TW_T_VARCHAR), cast_to(p, TW_T_VARCHAR));
        return e->u.like.negated ? tw_expr_call1(TW_FN_NOT, TW_T_BOOL, m) : m;
    }
    case TW_SQL_E_EXTRACT:
        fail_at(c, TW_ERR_UNSUPPORTED, e->loc, "EXTRACT is not supported yet%s%s", "", "");
        return NULL;
    }
    return NULL;
}

/* In aggregate mode, an expression that matches a GROUP BY key reads that
 * key; anything else must be built from keys and aggregates. */
static tw_expr *bind(bind_ctx *c, const tw_sql_expr *e)
{
    if (!c->agg_mode)
        return bind_inner(c, e);
    if (!ast_has_agg(e)) {
        tw_err saved = *c->err;
        c->agg_mode = false;
        tw_expr *in = bind_inner(c, e);
        c->agg_mode = true;
        if (in) {
            for (uint32_t k = 0; k < c->plan->nkeys; k++) {
                if (expr_equal(in, c->plan->keys[k])) {
                    tw_type t = in->type;
                    tw_expr_free(in);
                    return tw_expr_column(k, t);
                }
            }
            bool is_const = tw_expr_is_const(in);
            tw_expr_free(in);
            if (is_const)
                return bind_inner(c, e);
            if (e->kind == TW_SQL_E_COLUMN) {
                fail_at(c, TW_ERR_BIND, e->loc,
                        "column '%s' must appear in the GROUP BY clause or be used in an "
                        "aggregate function%s",
                        e->u.column.name, "");
                return NULL;
            }
        } else {
            return NULL;
        }
        *c->err = saved;
    }
    return bind_inner(c, e);
}

/* ---- SELECT --------------------------------------------------------------- */

static char *output_name(const tw_sql_select_item *item)
{
    if (item->alias)
        return tw_xstrdup(item->alias);
    const tw_sql_expr *e = item->expr;
    if (e->kind == TW_SQL_E_COLUMN)
        return tw_xstrdup(e->u.column.name);
    if (e->kind == TW_SQL_E_FUNC)
        return tw_xstrdup(e->u.func.name);
    if (e->kind == TW_SQL_E_CAST && e->u.cast.arg->kind == TW_SQL_E_COLUMN)
        return tw_xstrdup(e->u.cast.arg->u.column.name);
    return tw_xstrdup("?column?");
}

static void add_output(tw_plan *p, tw_expr *e, char *name)
{
    p->outputs = tw_xrealloc(p->outputs, (p->noutputs + 1) * sizeof *p->outputs);
    p->names = tw_xrealloc(p->names, (p->noutputs + 1) * sizeof *p->names);
    p->outputs[p->noutputs] = e;
    p->names[p->noutputs] = name;
    p->noutputs++;
}

/* GROUP BY / ORDER BY may name an output alias or a 1-based position. */
static const tw_sql_expr *resolve_alias(const tw_sql_select *sel, const tw_sql_expr *e,
                                        const scope *in, bool *bad_position)
{
    *bad_position = false;
    if (e->kind == TW_SQL_E_INT) {
        if (e->u.int_lit < 1 || e->u.int_lit > sel->nitems ||
            sel->items[e->u.int_lit - 1].kind != TW_SQL_SEL_EXPR) {
            *bad_position = true;
            return e;
        }
        return sel->items[e->u.int_lit - 1].expr;
    }
    if (e->kind == TW_SQL_E_COLUMN && !e->u.column.table) {
        for (uint32_t i = 0; i < in->ncols; i++)
            if (!strcmp(in->names[i], e->u.column.name))
                return e; /* input columns win, as in PostgreSQL's GROUP BY */
        for (uint32_t i = 0; i < sel->nitems; i++)
            if (sel->items[i].alias && !strcmp(sel->items[i].alias, e->u.column.name))
                return sel->items[i].expr;
    }
    return e;
}

tw_plan *tw_bind_select(tw_binder *b, const tw_sql_select *sel, tw_err *err)
{
    tw_plan *p = tw_xcalloc(1, sizeof *p);
    p->limit = -1;
    p->window_start_key = p->window_end_key = -1;
    bind_ctx c = {.b = b, .err = err, .plan = p, .sel = sel};
    const char **names = NULL;
    tw_type *types = NULL;
    const tw_sql_script *s = b->script;

    if (sel->from) {
        const tw_sql_from *f = sel->from;
        tw_relation *rel = b->lookup(b->lookup_ctx, &f->rel);
        if (!rel) {
            tw_sql_error_at(err, TW_ERR_BIND, s->text, s->len, s->filename, f->rel.loc,
                            "relation '%s' does not exist (create it with CREATE SOURCE or "
                            "CREATE MATERIALIZED VIEW first)",
                            f->rel.name);
            goto fail;
        }
        p->input = rel;
        uint32_t n = rel->ncols + (f->kind != TW_SQL_FROM_REL ? 2 : 0);
        names = tw_xcalloc(n, sizeof *names);
        types = tw_xcalloc(n, sizeof *types);
        for (uint32_t i = 0; i < rel->ncols; i++) {
            names[i] = rel->col_names[i];
            types[i] = rel->types[i];
        }
        c.in = (scope){f->alias ? f->alias : f->rel.name, names, types, rel->ncols};
        if (f->kind != TW_SQL_FROM_REL) {
            const char *wname = f->kind == TW_SQL_FROM_TUMBLE ? "TUMBLE" : "HOP";
            if (!rel->append_only && !b->batch) {
                tw_sql_error_at(err, TW_ERR_UNSUPPORTED, s->text, s->len, s->filename, f->loc,
                                "%s over the updating view '%s' is not supported yet (window "
                                "a source or an append-only view)",
                                wname, rel->name);
                goto fail;
            }
            tw_expr *tc = bind(&c, f->time_col);
            if (!tc)
                goto fail;
            if (tc->kind != TW_EX_COLUMN || !tw_type_is_time(tc->type)) {
                tw_sql_error_at(err, TW_ERR_BIND, s->text, s->len, s->filename, f->time_col->loc,
                                "the time column of %s must be a TIMESTAMP or TIMESTAMPTZ column "
                                "of '%s'",
                                wname, rel->name);
                tw_expr_free(tc);
                goto fail;
            }
            p->time_col = tc->column;
            tw_expr_free(tc);
            p->window = f->kind == TW_SQL_FROM_TUMBLE ? TW_WINDOW_TUMBLE : TW_WINDOW_HOP;
            if (!tw_bind_interval(b, f->size, &p->size_us, err))
                goto fail;
            p->slide_us = p->size_us;
            if (f->hop && !tw_bind_interval(b, f->hop, &p->slide_us, err))
                goto fail;
            if (f->offset && !tw_bind_interval(b, f->offset, &p->offset_us, err))
                goto fail;
            if (p->window == TW_WINDOW_HOP && p->size_us % p->slide_us) {
                tw_sql_error_at(err, TW_ERR_BIND, s->text, s->len, s->filename, f->loc,
                                "HOP window size must be a multiple of the hop");
                goto fail;
            }
            names[rel->ncols] = "window_start";
            names[rel->ncols + 1] = "window_end";
            types[rel->ncols] = types[rel->ncols + 1] = rel->types[p->time_col];
            c.in.ncols = n;
            p->use_watermark = rel->watermark_col >= 0 && (uint32_t)rel->watermark_col == p->time_col;
        }
    } else {
        c.in = (scope){NULL, NULL, NULL, 0};
    }

    if (sel->where) {
        if (ast_has_agg(sel->where)) {
            tw_sql_error_at(err, TW_ERR_BIND, s->text, s->len, s->filename, sel->where->loc,
                            "aggregate functions are not allowed in WHERE (use HAVING)");
            goto fail;
        }
        p->where = want_bool(&c, bind(&c, sel->where), sel->where->loc, "WHERE");
        if (!p->where)
            goto fail;
    }

    bool any_agg = sel->ngroup_by > 0 || (sel->having != NULL);
    for (uint32_t i = 0; i < sel->nitems; i++)
        if (sel->items[i].kind == TW_SQL_SEL_EXPR && ast_has_agg(sel->items[i].expr))
            any_agg = true;
    p->has_agg = any_agg;
    if (any_agg) {
        if (p->input && !p->input->append_only && !b->batch) {
            tw_sql_error_at(err, TW_ERR_UNSUPPORTED, s->text, s->len, s->filename, sel->loc,
                            "aggregation over the updating view '%s' is not supported yet",
                            p->input->name);
            goto fail;
        }
        p->keys = tw_xcalloc(sel->ngroup_by ? sel->ngroup_by : 1, sizeof *p->keys);
        for (uint32_t i = 0; i < sel->ngroup_by; i++) {
            bool bad;
            const tw_sql_expr *g = resolve_alias(sel, sel->group_by[i], &c.in, &bad);
            if (bad) {
                tw_sql_error_at(err, TW_ERR_BIND, s->text, s->len, s->filename, g->loc,
                                "GROUP BY position %lld is not in the select list",
                                (long long)g->u.int_lit);
                goto fail;
            }
            if (ast_has_agg(g)) {
                tw_sql_error_at(err, TW_ERR_BIND, s->text, s->len, s->filename, g->loc,
                                "aggregate functions are not allowed in GROUP BY");
                goto fail;
            }
            tw_expr *k = bind(&c, g);
            if (!k)
                goto fail;
            p->keys[p->nkeys++] = k;
            if (p->window != TW_WINDOW_NONE && k->kind == TW_EX_COLUMN) {
                if (k->column == p->input->ncols)
                    p->window_start_key = (int32_t)i;
                else if (k->column == p->input->ncols + 1)
                    p->window_end_key = (int32_t)i;
            }
        }
        c.agg_mode = true;
    }

    for (uint32_t i = 0; i < sel->nitems; i++) {
        const tw_sql_select_item *item = &sel->items[i];
        if (item->kind != TW_SQL_SEL_EXPR) {
            if (any_agg) {
                tw_sql_error_at(err, TW_ERR_BIND, s->text, s->len, s->filename, item->loc,
                                "SELECT * cannot be used with GROUP BY; list the columns");
                goto fail;
            }
            if (!p->input) {
                tw_sql_error_at(err, TW_ERR_BIND, s->text, s->len, s->filename, item->loc,
                                "SELECT * needs a FROM clause");
                goto fail;
            }
            for (uint32_t k = 0; k < c.in.ncols; k++)
                add_output(p, tw_expr_column(k, c.in.types[k]), tw_xstrdup(c.in.names[k]));
            continue;
        }
        tw_expr *e = bind(&c, item->expr);
        if (!e)
            goto fail;
        if (e->type == TW_T_NULL)
            e = cast_to(e, TW_T_VARCHAR);
        add_output(p, e, output_name(item));
    }
    p->nvisible = p->noutputs;

    if (sel->having) {
        p->having = want_bool(&c, bind(&c, sel->having), sel->having->loc, "HAVING");
        if (!p->having)
            goto fail;
    }

    p->emit_on_window_close = sel->emit_on_window_close;
    if (p->emit_on_window_close) {
        if (b->batch) {
            tw_sql_error_at(err, TW_ERR_BIND, s->text, s->len, s->filename, sel->loc,
                            "EMIT ON WINDOW CLOSE only applies to materialized views");
            goto fail;
        }
        if (!p->has_agg || (p->window_start_key < 0 && p->window_end_key < 0)) {
            tw_sql_error_at(err, TW_ERR_BIND, s->text, s->len, s->filename, sel->loc,
                            "EMIT ON WINDOW CLOSE needs a GROUP BY on window_start or window_end "
                            "of a TUMBLE or HOP");
            goto fail;
        }
        if (!p->use_watermark) {
            tw_sql_error_at(err, TW_ERR_BIND, s->text, s->len, s->filename, sel->loc,
                            "EMIT ON WINDOW CLOSE needs a WATERMARK on the window's time column "
                            "(add WATERMARK FOR %s AS %s - INTERVAL '5' SECOND to CREATE SOURCE "
                            "%s)",
                            c.in.names[p->time_col], c.in.names[p->time_col], p->input->name);
            goto fail;
        }
    }

    if (sel->norder_by || sel->has_limit || sel->has_offset) {
        if (!b->batch) {
            tw_sql_error_at(err, TW_ERR_UNSUPPORTED, s->text, s->len, s->filename, sel->loc,
                            "ORDER BY / LIMIT in a materialized view is not supported yet "
                            "(use them when querying the view)");
            goto fail;
        }
        p->order = tw_xcalloc(sel->norder_by ? sel->norder_by : 1, sizeof *p->order);
        for (uint32_t i = 0; i < sel->norder_by; i++) {
            const tw_sql_order_item *o = &sel->order_by[i];
            int32_t col = -1;
            if (o->expr->kind == TW_SQL_E_INT) {
                if (o->expr->u.int_lit < 1 || o->expr->u.int_lit > p->nvisible) {
                    tw_sql_error_at(err, TW_ERR_BIND, s->text, s->len, s->filename, o->loc,
                                    "ORDER BY position %lld is not in the select list",
                                    (long long)o->expr->u.int_lit);
                    goto fail;
                }
                col = (int32_t)o->expr->u.int_lit - 1;
            } else if (o->expr->kind == TW_SQL_E_COLUMN && !o->expr->u.column.table) {
                for (uint32_t k = 0; k < p->nvisible && col < 0; k++)
                    if (!strcmp(p->names[k], o->expr->u.column.name))
                        col = (int32_t)k;
            }
            if (col < 0) {
                tw_expr *e = bind(&c, o->expr);
                if (!e)
                    goto fail;
                for (uint32_t k = 0; k < p->noutputs && col < 0; k++)
                    if (expr_equal(e, p->outputs[k]))
                        col = (int32_t)k;
                if (col < 0) {
                    add_output(p, e, tw_xstrdup("?order?"));
                    col = (int32_t)p->noutputs - 1;
                } else {
                    tw_expr_free(e);
                }
            }
            p->order[p->norder].column = (uint32_t)col;
            p->order[p->norder].desc = o->desc;
            /* PostgreSQL: NULLs are larger than any value. */
            p->order[p->norder].nulls_first =
                o->nulls == TW_SQL_NULLS_DEFAULT ? o->desc : o->nulls == TW_SQL_NULLS_FIRST;
            p->norder++;
        }
        p->limit = sel->has_limit ? sel->limit : -1;
        p->offset = sel->has_offset ? sel->offset : 0;
    }
    free(names);
    free(types);
    return p;
fail:
    free(names);
    free(types);
    tw_plan_free(p);
    return NULL;
}

void tw_plan_free(tw_plan *p)
{
    if (!p)
        return;
    tw_expr_free(p->where);
    for (uint32_t i = 0; i < p->nkeys; i++)
        tw_expr_free(p->keys[i]);
    free(p->keys);
    for (uint32_t i = 0; i < p->naggs; i++)
        tw_expr_free(p->aggs[i].arg);
    free(p->aggs);
    tw_expr_free(p->having);
    for (uint32_t i = 0; i < p->noutputs; i++) {
        if (p->outputs)
            tw_expr_free(p->outputs[i]);
        free(p->names[i]);
    }
    free(p->outputs);
    free(p->names);
    free(p->order);
    free(p);
}

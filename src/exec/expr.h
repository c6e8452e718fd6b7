/* expr.h - bound, typed scalar expressions and their vectorized evaluation.
 *
 * The binder builds expression trees whose types are already resolved and
 * coerced (every operand of a function has the type the function expects),
 * so evaluation dispatches once per node per batch, never per row. Each node
 * owns a result column of TW_BATCH_ROWS rows; tw_expr_eval returns a pointer
 * to it (or, for a column reference, to the input batch's column). Results
 * are valid until the next evaluation of the same tree.
 *
 * Runtime errors (division by zero, integer overflow, a cast that does not
 * fit) give NULL for that row and count one error in the context, the way a
 * stream must keep going; they never abort the batch.
 */
#ifndef TW_EXEC_EXPR_H
#define TW_EXEC_EXPR_H

#include <stdbool.h>
#include <stdint.h>

#include "common/arena.h"
#include "exec/batch.h"

/* A single SQL value. Strings are owned by whoever built the value. */
typedef struct tw_value {
    tw_type type;
    bool is_null;
    union {
        uint8_t b;
        int64_t i64;
        double f64;
        tw_str s;
    };
} tw_value;

typedef enum tw_fn {
    /* arithmetic: operands already of the result type (or ts/interval) */
    TW_FN_ADD, TW_FN_SUB, TW_FN_MUL, TW_FN_DIV, TW_FN_MOD, TW_FN_NEG,
    /* comparison: both operands of one type */
    TW_FN_EQ, TW_FN_NE, TW_FN_LT, TW_FN_LE, TW_FN_GT, TW_FN_GE,
    TW_FN_IS_DISTINCT, TW_FN_IS_NOT_DISTINCT,
    /* boolean, three-valued */
    TW_FN_AND, TW_FN_OR, TW_FN_NOT,
    TW_FN_IS_NULL, TW_FN_IS_NOT_NULL, TW_FN_IS_TRUE, TW_FN_IS_NOT_TRUE, TW_FN_IS_FALSE,
    TW_FN_IS_NOT_FALSE,
    /* args[0] IN (args[1..]) with SQL NULL rules */
    TW_FN_IN, TW_FN_NOT_IN,
    /* conditionals: CASE has args = when1, then1, when2, then2, ..., [else] */
    TW_FN_CASE, TW_FN_COALESCE, TW_FN_NULLIF, TW_FN_GREATEST, TW_FN_LEAST,
    /* scalar functions */
    TW_FN_ABS, TW_FN_ROUND, TW_FN_ROUND2, TW_FN_FLOOR, TW_FN_CEIL, TW_FN_SQRT, TW_FN_POWER,
    TW_FN_UPPER, TW_FN_LOWER, TW_FN_LENGTH, TW_FN_CONCAT, TW_FN_LIKE, TW_FN_ILIKE,
    TW_FN_CAST, /* to e->type from args[0]->type */
    /* window bucketing: args = ts, size, offset (constants) */
    TW_FN_TUMBLE_START,
    TW_FN_COUNT_
} tw_fn;

typedef enum tw_expr_kind {
    TW_EX_COLUMN, /* input column `column` */
    TW_EX_CONST,  /* `value` */
    TW_EX_CALL,   /* fn(args) */
} tw_expr_kind;

typedef struct tw_expr {
    tw_expr_kind kind;
    tw_type type;
    tw_fn fn;
    uint32_t column;
    tw_value value;
    struct tw_expr **args;
    uint32_t nargs;
    tw_column result; /* owned; TW_BATCH_ROWS rows (unused for columns) */
} tw_expr;

/* Per-evaluation context: scratch memory for string results, error count. */
typedef struct tw_eval_ctx {
    tw_arena *strings; /* string results live here; reset by the caller */
    uint64_t errors;   /* rows set to NULL by a runtime error */
    const char *last_error;
} tw_eval_ctx;

/* Constructors. Expressions are heap-allocated and owned by their parent;
 * args arrays are taken over. Never NULL. */
tw_expr *tw_expr_column(uint32_t column, tw_type type);
tw_expr *tw_expr_const(tw_value value); /* a string value is copied */
tw_expr *tw_expr_call(tw_fn fn, tw_type type, tw_expr **args, uint32_t nargs);
tw_expr *tw_expr_call1(tw_fn fn, tw_type type, tw_expr *a);
tw_expr *tw_expr_call2(tw_fn fn, tw_type type, tw_expr *a, tw_expr *b);
tw_expr *tw_expr_copy(const tw_expr *e);
void tw_expr_free(tw_expr *e);

/* Evaluates e over in->nrows rows. The returned column stays valid until the
 * next evaluation of e or a change to `in`. */
const tw_column *tw_expr_eval(tw_expr *e, const tw_batch *in, tw_eval_ctx *ctx);

/* Evaluates a constant expression (no column references) to one value.
 * String results point into ctx->strings. Returns false if e reads columns. */
bool tw_expr_eval_const(tw_expr *e, tw_eval_ctx *ctx, tw_value *out);

/* True when e reads no input column. */
bool tw_expr_is_const(const tw_expr *e);

/* Value helpers. */
tw_value tw_value_null(tw_type type);
tw_value tw_column_get(const tw_column *col, uint32_t row);
void tw_column_put(tw_column *col, uint32_t row, const tw_value *v);
/* Total order for ORDER BY and MIN/MAX: NULL sorts last; compares values of
 * the same physical type. */
int tw_value_cmp(const tw_value *a, const tw_value *b);
bool tw_value_equal(const tw_value *a, const tw_value *b); /* NULL equals NULL */
uint64_t tw_value_hash(const tw_value *v, uint64_t seed);

/* Casts one value; returns false (and leaves *out NULL) when it does not fit. */
bool tw_value_cast(const tw_value *in, tw_type to, tw_arena *strings, tw_value *out);

/* Writes v as text the way the CSV output and PostgreSQL show it. Returns the
 * length; buf is NUL-terminated when cap > 0. Strings are copied as-is. */
size_t tw_value_format(const tw_value *v, char *buf, size_t cap);

/* Shortest decimal text that reads back as the same double. buf >= 32 bytes. */
size_t tw_format_double(double d, char *buf);

const char *tw_fn_name(tw_fn fn);

#endif

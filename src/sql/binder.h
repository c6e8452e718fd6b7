/* binder.h - from syntax tree to plan: names resolved, types checked.
 *
 * The binder looks relations up through a callback (the engine's catalog),
 * resolves column names, infers and coerces types (inserting casts), finds
 * the aggregates and the window columns, and reports errors at the place in
 * the SQL text where they are, with tw_sql_error_at.
 */
#ifndef TW_SQL_BINDER_H
#define TW_SQL_BINDER_H

#include "common/err.h"
#include "sql/ast.h"
#include "sql/plan.h"

typedef struct tw_binder {
    const tw_sql_script *script; /* text and filename, for error positions */
    /* Returns the relation called `name`, or NULL. */
    tw_relation *(*lookup)(void *ctx, const tw_sql_name *name);
    void *lookup_ctx;
    bool batch; /* a one-off query: ORDER BY / LIMIT allowed, EOWC not */
} tw_binder;

/* Binds a SELECT. Returns a plan owned by the caller (tw_plan_free), or NULL
 * with err set. */
tw_plan *tw_bind_select(tw_binder *b, const tw_sql_select *sel, tw_err *err);

/* Evaluates a constant INTERVAL expression (INTERVAL '10 seconds',
 * INTERVAL '5' SECOND, or a number of seconds) to microseconds. */
bool tw_bind_interval(tw_binder *b, const tw_sql_expr *e, int64_t *out_us, tw_err *err);

/* Interprets WATERMARK FOR col AS <expr>: accepts `col`, `col - INTERVAL ...`.
 * Returns the delay in microseconds. */
bool tw_bind_watermark(tw_binder *b, const char *column, const tw_sql_expr *e, int64_t *delay_us,
                       tw_err *err);

#endif

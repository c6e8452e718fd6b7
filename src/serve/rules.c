/* rules.c - thresholds from the anomaly view's SELECT (see rules.h). */
#include "serve/rules.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "common/arena.h"
#include "sql/parser.h"

const char *tw_rule_op_text(tw_rule_op op)
{
    switch (op) {
    case TW_RULE_GT: return ">";
    case TW_RULE_GE: return ">=";
    case TW_RULE_LT: return "<";
    case TW_RULE_LE: return "<=";
    case TW_RULE_NONE: break;
    }
    return NULL;
}

/* A numeric literal, possibly signed, as a double. */
static bool constant_value(const tw_sql_expr *e, double *out)
{
    if (e->kind == TW_SQL_E_INT) {
        *out = (double)e->u.int_lit;
        return true;
    }
    if (e->kind == TW_SQL_E_DECIMAL) {
        *out = e->u.decimal.value;
        return true;
    }
    if (e->kind == TW_SQL_E_UNARY &&
        (e->u.unary.op == TW_SQL_U_NEG || e->u.unary.op == TW_SQL_U_PLUS) &&
        constant_value(e->u.unary.arg, out)) {
        if (e->u.unary.op == TW_SQL_U_NEG)
            *out = -*out;
        return true;
    }
    return false;
}

static tw_rule_op op_of(tw_sql_binary_op op, bool flipped)
{
    switch (op) {
    case TW_SQL_B_GT: return flipped ? TW_RULE_LT : TW_RULE_GT;
    case TW_SQL_B_GE: return flipped ? TW_RULE_LE : TW_RULE_GE;
    case TW_SQL_B_LT: return flipped ? TW_RULE_GT : TW_RULE_LT;
    case TW_SQL_B_LE: return flipped ? TW_RULE_GE : TW_RULE_LE;
    default: return TW_RULE_NONE;
    }
}

static void rule_of(const tw_sql_expr *e, tw_rule *rule)
{
    memset(rule, 0, sizeof *rule);
    if (e->kind != TW_SQL_E_BINARY)
        return;
    const tw_sql_expr *metric = e->u.binary.left, *constant = e->u.binary.right;
    bool flipped = false;
    if (metric->kind != TW_SQL_E_COLUMN) {
        metric = e->u.binary.right;
        constant = e->u.binary.left;
        flipped = true;
    }
    double threshold;
    tw_rule_op op = op_of(e->u.binary.op, flipped);
    if (op == TW_RULE_NONE || metric->kind != TW_SQL_E_COLUMN ||
        !constant_value(constant, &threshold) ||
        strlen(metric->u.column.name) >= sizeof rule->metric)
        return;
    rule->op = op;
    rule->threshold = threshold;
    snprintf(rule->metric, sizeof rule->metric, "%s", metric->u.column.name);
}

/* The name a select item gives its column: its alias, or a bare column's
 * own name. NULL when the binder would invent one. */
static const char *item_name(const tw_sql_select_item *item)
{
    if (item->kind != TW_SQL_SEL_EXPR)
        return NULL;
    if (item->alias)
        return item->alias;
    return item->expr->kind == TW_SQL_E_COLUMN ? item->expr->u.column.name : NULL;
}

bool tw_rules_from_select(const char *select_sql, const char *const *columns,
                          uint32_t ncolumns, tw_rule *rules, tw_err *err)
{
    memset(rules, 0, ncolumns * sizeof *rules);
    tw_arena arena;
    tw_arena_init(&arena, 16 * 1024);
    tw_sql_script script;
    bool ok = tw_sql_parse_script(select_sql, strlen(select_sql), "view definition", &arena,
                                  &script, err);
    if (ok && (script.nstmts != 1 || script.stmts[0].kind != TW_SQL_STMT_SELECT))
        ok = tw_err_set(err, TW_ERR_BIND, "view definition: expected one SELECT statement");
    for (uint32_t c = 0; ok && c < ncolumns; c++) {
        const tw_sql_select *sel = script.stmts[0].u.select;
        for (uint32_t i = 0; i < sel->nitems; i++) {
            const char *name = item_name(&sel->items[i]);
            if (name && !strcmp(name, columns[c])) {
                rule_of(sel->items[i].expr, &rules[c]);
                break;
            }
        }
        assert(rules[c].op == TW_RULE_NONE || rules[c].metric[0]);
    }
    tw_arena_free(&arena);
    return ok;
}

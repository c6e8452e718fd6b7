/* rules.h - the threshold behind each anomaly type, read from the view's SQL.
 *
 * The dashboard draws a threshold line and a banner for every anomaly type
 * (an is_* column of the anomaly view). Rather than assume the seed's
 * numbers, the server reads them from the SELECT the view was created with:
 * a type whose column is `metric OP constant` (or `constant OP metric`),
 * with OP one of > >= < <=, has that metric, operator and threshold; any
 * other expression (AND/OR, arithmetic, a function, a column passed through
 * from another view) has no rule, so nothing wrong is drawn. This module
 * owns nothing past a call: rules are plain values the caller keeps.
 */
#ifndef TW_SERVE_RULES_H
#define TW_SERVE_RULES_H

#include <stdint.h>

#include "common/err.h"

#define TW_RULE_METRIC_MAX 128

typedef enum tw_rule_op {
    TW_RULE_NONE, /* not a simple comparison: no threshold */
    TW_RULE_GT,
    TW_RULE_GE,
    TW_RULE_LT,
    TW_RULE_LE,
} tw_rule_op;

typedef struct tw_rule {
    tw_rule_op op;
    char metric[TW_RULE_METRIC_MAX]; /* the compared column, as the SELECT reads it */
    double threshold;
} tw_rule;

/* Fills rules[i] for the output column columns[i] of the SELECT in
 * select_sql (e.g. from tw_engine_mv_definition). Columns the SELECT does
 * not compute as a simple comparison get op TW_RULE_NONE. Returns false
 * with err set (and every rule TW_RULE_NONE) when the text is not one
 * SELECT statement. */
bool tw_rules_from_select(const char *select_sql, const char *const *columns,
                          uint32_t ncolumns, tw_rule *rules, tw_err *err);

/* ">", ">=", "<", "<=", or NULL for TW_RULE_NONE. */
const char *tw_rule_op_text(tw_rule_op op);

#endif

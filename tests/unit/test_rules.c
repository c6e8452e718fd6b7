/* Unit tests for serve/rules: thresholds read from an anomaly view's SELECT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "serve/rules.h"

static const char *const seed_columns[] = {"is_high_latency", "is_high_packet_loss",
                                           "is_bandwidth_saturation"};

static void test_seed_view(void **state)
{
    (void)state;
    const char *sql = "SELECT device_id, window_start, avg_latency_ms > 100 AS is_high_latency,\n"
                      "  avg_packet_loss_rate > 5 AS is_high_packet_loss,\n"
                      "  avg_bandwidth_usage > 90 AS is_bandwidth_saturation\n"
                      "FROM device_metrics_10s\n"
                      "WHERE avg_latency_ms > 100 OR avg_packet_loss_rate > 5 OR "
                      "avg_bandwidth_usage > 90";
    tw_rule rules[3];
    tw_err err;
    assert_true(tw_rules_from_select(sql, seed_columns, 3, rules, &err));
    assert_int_equal(rules[0].op, TW_RULE_GT);
    assert_string_equal(rules[0].metric, "avg_latency_ms");
    assert_true(rules[0].threshold == 100);
    assert_string_equal(rules[1].metric, "avg_packet_loss_rate");
    assert_true(rules[1].threshold == 5);
    assert_string_equal(rules[2].metric, "avg_bandwidth_usage");
    assert_true(rules[2].threshold == 90);
}

static void test_operators_and_sides(void **state)
{
    (void)state;
    const char *sql = "SELECT a >= 1.5 AS is_a, 20 > b AS is_b, (c <= -3) AS is_c, "
                      "-0.25 <= d AS is_d FROM t";
    const char *const cols[] = {"is_a", "is_b", "is_c", "is_d"};
    tw_rule rules[4];
    tw_err err;
    assert_true(tw_rules_from_select(sql, cols, 4, rules, &err));
    assert_int_equal(rules[0].op, TW_RULE_GE);
    assert_true(rules[0].threshold == 1.5);
    /* 20 > b is b < 20 */
    assert_int_equal(rules[1].op, TW_RULE_LT);
    assert_string_equal(rules[1].metric, "b");
    assert_true(rules[1].threshold == 20);
    assert_int_equal(rules[2].op, TW_RULE_LE);
    assert_true(rules[2].threshold == -3);
    assert_int_equal(rules[3].op, TW_RULE_GE);
    assert_string_equal(rules[3].metric, "d");
    assert_true(rules[3].threshold == -0.25);
    assert_string_equal(tw_rule_op_text(rules[3].op), ">=");
}

/* Anything but one comparison of a column with a constant has no rule. */
static void test_not_simple_has_no_rule(void **state)
{
    (void)state;
    const char *sql = "SELECT a > 1 AND b > 2 AS is_and, a + 1 > 2 AS is_sum, a = 3 AS is_eq, "
                      "a > b AS is_cols, abs(a) > 2 AS is_fn, is_old, "
                      "a BETWEEN 1 AND 2 AS is_between FROM t";
    const char *const cols[] = {"is_and",  "is_sum", "is_eq",     "is_cols",
                                "is_fn", "is_old", "is_between", "is_missing"};
    tw_rule rules[8];
    tw_err err;
    assert_true(tw_rules_from_select(sql, cols, 8, rules, &err));
    for (int i = 0; i < 8; i++) {
        assert_int_equal(rules[i].op, TW_RULE_NONE);
        assert_null(tw_rule_op_text(rules[i].op));
    }
}

static void test_bad_text_is_an_error(void **state)
{
    (void)state;
    tw_rule rules[1];
    tw_err err;
    const char *const cols[] = {"is_a"};
    assert_false(tw_rules_from_select("SELECT a > FROM", cols, 1, rules, &err));
    assert_int_equal(rules[0].op, TW_RULE_NONE);
    assert_false(tw_rules_from_select("DROP SOURCE s", cols, 1, rules, &err));
    assert_non_null(strstr(err.msg, "SELECT"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_view),
        cmocka_unit_test(test_operators_and_sides),
        cmocka_unit_test(test_not_simple_has_no_rule),
        cmocka_unit_test(test_bad_text_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for common/timeutil: timestamp parsing, formatting, intervals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/timeutil.h"

static int64_t parse_ok(const char *s)
{
    int64_t us = -1;
    assert_true(tw_timestamp_parse(s, strlen(s), &us));
    return us;
}

static void test_parse_forms(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1970-01-01T00:00:00"), 0);
    assert_int_equal(parse_ok("1970-01-01 00:00:01"), 1000000);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.5"), 500000);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.123456789"), 123456);
    assert_int_equal(parse_ok("1970-01-01T01:00:00+01:00"), 0);
    assert_int_equal(parse_ok("1970-01-01T00:00:00-0130"), 5400 * INT64_C(1000000));
    assert_int_equal(parse_ok("2026-01-27T20:47:13.482913Z"), INT64_C(1769546833482913));
    assert_int_equal(parse_ok("2024-02-29T00:00:00Z"), INT64_C(1709164800000000));
}

static void test_parse_rejects(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "2026-01-27",
                         "2026-13-01T00:00:00",
                         "2026-02-29T00:00:00",
                         "2026-01-01T24:00:00",
                         "2026-01-01T00:00:00.",
                         "2026-01-01T00:00:00Zx",
                         "2026-01-01T00:00:00+25:00",
                         "2026/01/01T00:00:00",
                         "not a time"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t us = 42;
        assert_false(tw_timestamp_parse(bad[i], strlen(bad[i]), &us));
        assert_int_equal(us, 42);
    }
}

static void test_format_roundtrip(void **state)
{
    (void)state;
    char buf[64];
    tw_timestamp_format(INT64_C(1769546833482913), buf, "");
    assert_string_equal(buf, "2026-01-27T20:47:13.482913");
    tw_timestamp_format(INT64_C(1769546830000000), buf, "Z");
    assert_string_equal(buf, "2026-01-27T20:47:10Z");
    tw_timestamp_format(-1, buf, "");
    assert_string_equal(buf, "1969-12-31T23:59:59.999999");
    for (int64_t us = -INT64_C(5000000000000); us < INT64_C(5000000000000000);
         us += INT64_C(777777777777)) {
        size_t n = tw_timestamp_format(us, buf, "Z");
        int64_t back;
        assert_true(tw_timestamp_parse(buf, n, &back));
        assert_int_equal(back, us);
    }
}

static void test_interval(void **state)
{
    (void)state;
    int64_t us;
    assert_true(tw_interval_parse("10 seconds", 10, NULL, &us));
    assert_int_equal(us, 10000000);
    assert_true(tw_interval_parse("5", 1, "second", &us));
    assert_int_equal(us, 5000000);
    assert_true(tw_interval_parse("1 minute 30 seconds", 19, NULL, &us));
    assert_int_equal(us, 90000000);
    assert_true(tw_interval_parse("01:00:00", 8, NULL, &us));
    assert_int_equal(us, INT64_C(3600000000));
    assert_true(tw_interval_parse("500 ms", 6, NULL, &us));
    assert_int_equal(us, 500000);
    assert_false(tw_interval_parse("1 month", 7, NULL, &us));
    assert_false(tw_interval_parse("ten seconds", 11, NULL, &us));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_format_roundtrip),
        cmocka_unit_test(test_interval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

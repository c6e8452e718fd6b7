/* Unit tests for serve/jsonout: shortest round-trip reals, escaping, shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "serve/jsonout.h"

static void expect_real(double d, const char *text)
{
    char buf[48];
    size_t n = tw_json_format_real(d, buf);
    assert_string_equal(buf, text);
    assert_int_equal(n, strlen(text));
}

static void test_real_is_shortest(void **state)
{
    (void)state;
    expect_real(21.89, "21.89");
    expect_real(0.1 + 0.2, "0.30000000000000004");
    expect_real(105.5, "105.5");
    expect_real(1.0 / 3.0, "0.3333333333333333");
    expect_real(-2.5e-7, "-2.5e-07");
}

static void test_real_stays_real(void **state)
{
    (void)state;
    expect_real(100, "100.0");
    expect_real(0, "0.0");
    expect_real(1e300, "1e+300");
    expect_real(123456789012345678.0, "1.2345678901234568e+17");
}

/* Averages of 2-decimal inputs, as the seed's views compute them. */
static void test_real_round_trips(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double sum = 0;
        int n = 1 + (int)(x % 7);
        for (int k = 0; k < n; k++)
            sum += (double)((x >> (k * 8)) % 20000) / 100.0;
        double d = sum / n * ((x & 1) ? 1 : -1e-3);
        char buf[48], shorter[400];
        tw_json_format_real(d, buf);
        assert_true(strtod(buf, NULL) == d);
        if (d == (double)(int64_t)d)
            continue;
        /* One significant digit fewer does not read back: the text is
         * the shortest. */
        int significant = 0;
        bool leading = true;
        for (const char *c = buf; *c && *c != 'e'; c++) {
            if (*c < '0' || *c > '9' || (leading && *c == '0'))
                continue;
            leading = false;
            significant++;
        }
        if (significant > 1) {
            snprintf(shorter, sizeof shorter, "%.*g", significant - 1, d);
            assert_false(strtod(shorter, NULL) == d);
        }
    }
}

/* The fewest digits by brute force (1..17), to check the formatter's
 * three-try shortcut against, on doubles of every magnitude. */
static int brute_shortest_digits(double d)
{
    char buf[48];
    for (int digits = 1; digits < 17; digits++) {
        snprintf(buf, sizeof buf, "%.*e", digits - 1, d);
        if (strtod(buf, NULL) == d)
            return digits;
    }
    return 17;
}

static void test_real_matches_brute_force(void **state)
{
    (void)state;
    uint64_t x = 0x2545f4914f6cdd1du;
    for (int i = 0; i < 50000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d;
        memcpy(&d, &x, sizeof d);
        if (!isfinite(d))
            continue;
        char buf[48], want[48];
        tw_json_format_real(d, buf);
        assert_true(strtod(buf, NULL) == d);
        snprintf(want, sizeof want, "%.*e", brute_shortest_digits(d) - 1, d);
        /* Same digits: compare the mantissas without dot, sign or zeros. */
        char a[32] = {0}, b[32] = {0};
        size_t na = 0, nb = 0;
        for (const char *c = buf; *c && *c != 'e' && na < 31; c++)
            if (*c >= '0' && *c <= '9' && (na || *c != '0'))
                a[na++] = *c;
        for (const char *c = want; *c && *c != 'e' && nb < 31; c++)
            if (*c >= '0' && *c <= '9' && (nb || *c != '0'))
                b[nb++] = *c;
        while (na > 1 && a[na - 1] == '0')
            a[--na] = '\0';
        while (nb > 1 && b[nb - 1] == '0')
            b[--nb] = '\0';
        if (strcmp(a, b))
            fail_msg("%.17g: formatted %s, shortest %s", d, buf, want);
    }
}

static void test_encode_shape_and_escapes(void **state)
{
    (void)state;
    json_t *o = json_object();
    json_object_set_new(o, "avg_latency_ms", json_real(21.89));
    json_object_set_new(o, "total", json_integer(-42));
    json_object_set_new(o, "device_id", json_string("a\"b\\c\n\t\x01/é<"));
    json_t *arr = json_array();
    json_array_append_new(arr, json_true());
    json_array_append_new(arr, json_false());
    json_array_append_new(arr, json_null());
    json_array_append_new(arr, json_object());
    json_array_append_new(arr, json_array());
    json_object_set_new(o, "list", arr);
    size_t len;
    char *text = tw_json_encode(o, &len);
    assert_string_equal(text, "{\"avg_latency_ms\":21.89,\"total\":-42,"
                              "\"device_id\":\"a\\\"b\\\\c\\n\\t\\u0001/é<\","
                              "\"list\":[true,false,null,{},[]]}");
    assert_int_equal(len, strlen(text));
    /* jansson reads back the same value. */
    json_t *back = json_loads(text, 0, NULL);
    assert_non_null(back);
    assert_true(json_equal(back, o));
    json_decref(back);
    free(text);
    json_decref(o);
}

static void test_encode_string_with_nul(void **state)
{
    (void)state;
    json_t *s = json_stringn("a\0b", 3);
    char *text = tw_json_encode(s, NULL);
    assert_string_equal(text, "\"a\\u0000b\"");
    free(text);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_is_shortest),
        cmocka_unit_test(test_real_matches_brute_force),
        cmocka_unit_test(test_real_stays_real),
        cmocka_unit_test(test_real_round_trips),
        cmocka_unit_test(test_encode_shape_and_escapes),
        cmocka_unit_test(test_encode_string_with_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

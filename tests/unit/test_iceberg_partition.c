/* Unit tests for iceberg/partition: single-value serialization, Murmur3
 * bucket hashes (spec Appendix B), partition_by parsing and transforms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iceberg/partition.h"

static tw_value ival(tw_type t, int64_t v)
{
    tw_value x = {.type = t};
    x.i64 = v;
    return x;
}

static tw_value fval(tw_type t, double v)
{
    tw_value x = {.type = t};
    x.f64 = v;
    return x;
}

static tw_value sval(const char *s)
{
    tw_value x = {.type = TW_T_VARCHAR};
    x.s = (tw_str){s, (uint32_t)strlen(s)};
    return x;
}

static void expect_bytes(tw_iceberg_type t, tw_value v, const char *hex)
{
    uint8_t scratch[8];
    const uint8_t *p;
    size_t n = tw_iceberg_value_bytes(t, &v, scratch, &p);
    char got[64] = {0};
    for (size_t i = 0; i < n; i++)
        snprintf(got + 2 * i, 3, "%02x", p[i]);
    assert_string_equal(got, hex);
}

static void test_single_value_serialization(void **state)
{
    (void)state;
    tw_value t = {.type = TW_T_BOOL, .b = 1}, f = {.type = TW_T_BOOL, .b = 0};
    expect_bytes(TW_ICE_BOOLEAN, t, "01");
    expect_bytes(TW_ICE_BOOLEAN, f, "00");
    expect_bytes(TW_ICE_INT, ival(TW_T_INT32, 34), "22000000");
    expect_bytes(TW_ICE_INT, ival(TW_T_INT32, -2), "feffffff");
    expect_bytes(TW_ICE_LONG, ival(TW_T_INT64, 34), "2200000000000000");
    expect_bytes(TW_ICE_LONG, ival(TW_T_INT64, INT64_MIN), "0000000000000080");
    expect_bytes(TW_ICE_FLOAT, fval(TW_T_FLOAT32, 1.0), "0000803f");
    expect_bytes(TW_ICE_FLOAT, fval(TW_T_FLOAT32, -0.0), "00000080");
    expect_bytes(TW_ICE_DOUBLE, fval(TW_T_FLOAT64, 1.0), "000000000000f03f");
    expect_bytes(TW_ICE_DATE, ival(TW_T_INT32, 17486), "4e440000");
    /* 2017-11-16T22:31:08 in microseconds */
    expect_bytes(TW_ICE_TIMESTAMP, ival(TW_T_TIMESTAMP, INT64_C(1510871468000000)), "00c3262d215e0500");
    expect_bytes(TW_ICE_TIMESTAMPTZ, ival(TW_T_TIMESTAMPTZ, 1), "0100000000000000");
    expect_bytes(TW_ICE_STRING, sval("iceberg"), "69636562657267");
    expect_bytes(TW_ICE_STRING, sval(""), "");
}

static void test_murmur3_spec_values(void **state)
{
    (void)state;
    /* Appendix B test values. */
    tw_value v = ival(TW_T_INT32, 34);
    assert_int_equal(tw_iceberg_hash_value(TW_ICE_INT, &v), 2017239379);
    v = ival(TW_T_INT64, 34);
    assert_int_equal(tw_iceberg_hash_value(TW_ICE_LONG, &v), 2017239379);
    v = ival(TW_T_INT32, 17486); /* 2017-11-16 */
    assert_int_equal(tw_iceberg_hash_value(TW_ICE_DATE, &v), -653330422);
    v = ival(TW_T_TIMESTAMP, INT64_C(1510871468000000));
    assert_int_equal(tw_iceberg_hash_value(TW_ICE_TIMESTAMP, &v), -2047944441);
    v = ival(TW_T_TIMESTAMPTZ, INT64_C(1510871468000001));
    assert_int_equal(tw_iceberg_hash_value(TW_ICE_TIMESTAMPTZ, &v), -1207196810);
    v = sval("iceberg");
    assert_int_equal(tw_iceberg_hash_value(TW_ICE_STRING, &v), 1210000089);
    static const uint8_t bin[] = {0, 1, 2, 3};
    assert_int_equal(tw_iceberg_murmur3_32(bin, 4), -188683207);
    v = (tw_value){.type = TW_T_BOOL, .b = 1};
    assert_int_equal(tw_iceberg_hash_value(TW_ICE_BOOLEAN, &v), 1392991556);
    v = fval(TW_T_FLOAT64, 1.0);
    assert_int_equal(tw_iceberg_hash_value(TW_ICE_DOUBLE, &v), -142385009);
    v = fval(TW_T_FLOAT64, -0.0);
    assert_int_equal(tw_iceberg_hash_value(TW_ICE_DOUBLE, &v), 1669671676);
}

static const tw_iceberg_field fields[] = {
    {1, "id", TW_T_INT64, true},
    {2, "name", TW_T_VARCHAR, false},
    {3, "ts", TW_T_TIMESTAMPTZ, false},
    {4, "score", TW_T_FLOAT64, false},
};
static const tw_iceberg_schema schema = {fields, 4, NULL, 0};

static void test_partition_by_parse(void **state)
{
    (void)state;
    tw_iceberg_partition_spec spec;
    tw_err err = {0};
    assert_true(tw_iceberg_partition_spec_parse(" name, day(ts),bucket(16, id), truncate(3,name), hour(ts)",
                                                &schema, 1000, &spec, &err));
    assert_int_equal(spec.nfields, 5);
    const char *names[] = {"name", "ts_day", "id_bucket", "name_trunc", "ts_hour"};
    const char *transforms[] = {"identity", "day", "bucket[16]", "truncate[3]", "hour"};
    for (uint32_t i = 0; i < 5; i++) {
        char buf[32];
        assert_string_equal(spec.fields[i].name, names[i]);
        tw_iceberg_transform_name(&spec.fields[i], buf, sizeof buf);
        assert_string_equal(buf, transforms[i]);
        assert_int_equal(spec.fields[i].field_id, 1000 + (int)i);
    }
    assert_int_equal(spec.fields[2].source_id, 1);
    assert_int_equal(spec.fields[1].result_type, TW_ICE_DATE);
    tw_iceberg_partition_spec_clear(&spec);

    assert_true(tw_iceberg_partition_spec_parse(NULL, &schema, 1000, &spec, &err));
    assert_int_equal(spec.nfields, 0);
}

static void test_partition_by_rejects(void **state)
{
    (void)state;
    const char *bad[] = {"nope", "day(id)", "bucket(id)", "bucket(0, id)", "truncate(2, score)",
                         "month(ts", "name,,id", "name, name", "hour(name)", "frob(ts)"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tw_iceberg_partition_spec spec;
        tw_err err = {0};
        assert_false(tw_iceberg_partition_spec_parse(bad[i], &schema, 1000, &spec, &err));
        assert_true(err.msg[0] != '\0');
    }
}

static tw_value apply(const char *text, tw_value v)
{
    tw_iceberg_partition_spec spec;
    tw_err err = {0};
    assert_true(tw_iceberg_partition_spec_parse(text, &schema, 1000, &spec, &err));
    tw_value out;
    tw_iceberg_partition_apply(&spec.fields[0], &v, &out);
    tw_iceberg_partition_spec_clear(&spec);
    return out;
}

static void test_transforms(void **state)
{
    (void)state;
    int64_t ts = INT64_C(1510871468000001); /* 2017-11-16T22:31:08.000001Z */
    int64_t before_epoch = -1;              /* 1969-12-31T23:59:59.999999Z */
    assert_int_equal(apply("year(ts)", ival(TW_T_TIMESTAMPTZ, ts)).i64, 47);
    assert_int_equal(apply("month(ts)", ival(TW_T_TIMESTAMPTZ, ts)).i64, 47 * 12 + 10);
    assert_int_equal(apply("day(ts)", ival(TW_T_TIMESTAMPTZ, ts)).i64, 17486);
    assert_int_equal(apply("hour(ts)", ival(TW_T_TIMESTAMPTZ, ts)).i64, 17486 * 24 + 22);
    assert_int_equal(apply("day(ts)", ival(TW_T_TIMESTAMPTZ, before_epoch)).i64, -1);
    assert_int_equal(apply("hour(ts)", ival(TW_T_TIMESTAMPTZ, before_epoch)).i64, -1);
    assert_int_equal(apply("month(ts)", ival(TW_T_TIMESTAMPTZ, before_epoch)).i64, -1);
    assert_int_equal(apply("year(ts)", ival(TW_T_TIMESTAMPTZ, before_epoch)).i64, -1);
    /* bucket: (hash & INT_MAX) % N; hash(34) = 2017239379 */
    assert_int_equal(apply("bucket(16, id)", ival(TW_T_INT64, 34)).i64, 2017239379 % 16);
    assert_int_equal(apply("bucket(100, name)", sval("iceberg")).i64, 1210000089 % 100);
    assert_int_equal(apply("truncate(10, id)", ival(TW_T_INT64, -1)).i64, -10);
    assert_int_equal(apply("truncate(10, id)", ival(TW_T_INT64, 1)).i64, 0);
    tw_value s = apply("truncate(3, name)", sval("iceberg"));
    assert_int_equal(s.s.len, 3);
    /* code points, not bytes: "ü" is two bytes */
    s = apply("truncate(2, name)", sval("\xc3\xbc" "ber"));
    assert_int_equal(s.s.len, 3);
    tw_value null = tw_value_null(TW_T_TIMESTAMPTZ);
    assert_true(apply("day(ts)", null).is_null);
    assert_true(apply("bucket(4, id)", tw_value_null(TW_T_INT64)).is_null);
}

static void test_partition_path(void **state)
{
    (void)state;
    tw_iceberg_partition_spec spec;
    tw_err err = {0};
    assert_true(tw_iceberg_partition_spec_parse("name, day(ts), hour(ts), bucket(4, id)", &schema, 1000,
                                                &spec, &err));
    tw_value row[] = {ival(TW_T_INT64, 34), sval("a b/c"), ival(TW_T_TIMESTAMPTZ, INT64_C(1510871468000001)),
                      tw_value_null(TW_T_FLOAT64)};
    tw_value part[4];
    for (uint32_t i = 0; i < 4; i++)
        tw_iceberg_partition_apply(&spec.fields[i], &row[spec.fields[i].source_index], &part[i]);
    char *path = tw_iceberg_partition_path(&spec, part);
    assert_string_equal(path, "name=a+b%2Fc/ts_day=2017-11-16/ts_hour=2017-11-16-22/id_bucket=3");
    free(path);
    part[0].is_null = true;
    path = tw_iceberg_partition_path(&spec, part);
    assert_true(strncmp(path, "name=null/", 10) == 0);
    free(path);
    tw_iceberg_partition_spec_clear(&spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_value_serialization),
        cmocka_unit_test(test_murmur3_spec_values),
        cmocka_unit_test(test_partition_by_parse),
        cmocka_unit_test(test_partition_by_rejects),
        cmocka_unit_test(test_transforms),
        cmocka_unit_test(test_partition_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

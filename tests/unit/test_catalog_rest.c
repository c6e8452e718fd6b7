/* Unit tests for iceberg/catalog_rest: the JSON of the REST catalog's
 * requests and responses and the paths, without a server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iceberg/catalog_rest.h"

static void test_config_overrides_win(void **state)
{
    (void)state;
    char *prefix = NULL, *warehouse = NULL;
    tw_err err;
    assert_true(tw_catalog_rest_parse_config(
        "{\"defaults\":{\"prefix\":\"d\",\"warehouse\":\"s3://bucket/wh\"},"
        "\"overrides\":{\"prefix\":\"0198-abc\"},\"endpoints\":[]}",
        &prefix, &warehouse, &err));
    assert_string_equal(prefix, "0198-abc");
    assert_string_equal(warehouse, "s3://bucket/wh");
    free(prefix);
    free(warehouse);
}

static void test_config_without_prefix(void **state)
{
    (void)state;
    char *prefix = NULL, *warehouse = NULL;
    tw_err err;
    assert_true(tw_catalog_rest_parse_config("{\"defaults\":{},\"overrides\":{}}", &prefix,
                                             &warehouse, &err));
    assert_null(prefix);
    assert_null(warehouse);
}

static void test_config_rejects_other_documents(void **state)
{
    (void)state;
    char *prefix = NULL, *warehouse = NULL;
    tw_err err;
    assert_false(tw_catalog_rest_parse_config("{\"overrides\":{}}", &prefix, &warehouse, &err));
    assert_non_null(strstr(err.msg, "CatalogConfig"));
    assert_false(tw_catalog_rest_parse_config("<html>", &prefix, &warehouse, &err));
}

static void test_paths_encode_parts(void **state)
{
    (void)state;
    char *p = tw_catalog_rest_path("wh-1", "public", "network_anomalies_history");
    assert_string_equal(p, "/v1/wh-1/namespaces/public/tables/network_anomalies_history");
    free(p);
    p = tw_catalog_rest_path(NULL, "a.b c", "t/x");
    assert_string_equal(p, "/v1/namespaces/a%1Fb%20c/tables/t%2Fx");
    free(p);
    p = tw_catalog_rest_path("", "public", NULL);
    assert_string_equal(p, "/v1/namespaces/public");
    free(p);
}

static void test_commit_body(void **state)
{
    (void)state;
    json_t *snap = json_pack("{s:I, s:I, s:I, s:s, s:{s:s}, s:i}", "snapshot-id", (json_int_t)77,
                             "sequence-number", (json_int_t)3, "timestamp-ms",
                             (json_int_t)1700000000000, "manifest-list", "file:///t/snap.avro",
                             "summary", "operation", "append", "schema-id", 0);
    char *text = tw_catalog_rest_commit_body("public", "t", "uuid-1", 42, snap);
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    json_t *reqs = json_object_get(doc, "requirements");
    assert_int_equal(json_array_size(reqs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(reqs, 0), "type")),
                        "assert-table-uuid");
    assert_string_equal(json_string_value(json_object_get(json_array_get(reqs, 0), "uuid")),
                        "uuid-1");
    json_t *ref = json_array_get(reqs, 1);
    assert_string_equal(json_string_value(json_object_get(ref, "type")), "assert-ref-snapshot-id");
    assert_string_equal(json_string_value(json_object_get(ref, "ref")), "main");
    assert_int_equal(json_integer_value(json_object_get(ref, "snapshot-id")), 42);
    json_t *ups = json_object_get(doc, "updates");
    assert_int_equal(json_array_size(ups), 2);
    json_t *add = json_array_get(ups, 0);
    assert_string_equal(json_string_value(json_object_get(add, "action")), "add-snapshot");
    assert_true(json_equal(json_object_get(add, "snapshot"), snap));
    json_t *set = json_array_get(ups, 1);
    assert_string_equal(json_string_value(json_object_get(set, "action")), "set-snapshot-ref");
    assert_string_equal(json_string_value(json_object_get(set, "ref-name")), "main");
    assert_string_equal(json_string_value(json_object_get(set, "type")), "branch");
    assert_int_equal(json_integer_value(json_object_get(set, "snapshot-id")), 77);
    json_decref(doc);
    free(text);
    json_decref(snap);
}

static void test_first_commit_asserts_no_main(void **state)
{
    (void)state;
    json_t *snap = json_pack("{s:I}", "snapshot-id", (json_int_t)5);
    char *text = tw_catalog_rest_commit_body("a.b", "t", "u", -1, snap);
    json_t *doc = json_loads(text, 0, NULL);
    json_t *ref = json_array_get(json_object_get(doc, "requirements"), 1);
    json_t *id = json_object_get(ref, "snapshot-id");
    assert_non_null(id);
    assert_true(json_is_null(id));
    json_t *ns = json_object_get(json_object_get(doc, "identifier"), "namespace");
    assert_int_equal(json_array_size(ns), 2);
    assert_string_equal(json_string_value(json_array_get(ns, 1)), "b");
    json_decref(doc);
    free(text);
    json_decref(snap);
}

static void test_create_body_leaves_location_to_server(void **state)
{
    (void)state;
    json_t *schema = json_pack("{s:s, s:i, s:[]}", "type", "struct", "schema-id", 0, "fields");
    json_t *spec = json_pack("{s:i, s:[]}", "spec-id", 0, "fields");
    char *text = tw_catalog_rest_create_body("t", NULL, schema, spec);
    json_t *doc = json_loads(text, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "name")), "t");
    assert_null(json_object_get(doc, "location"));
    assert_true(json_equal(json_object_get(doc, "schema"), schema));
    assert_true(json_equal(json_object_get(doc, "partition-spec"), spec));
    assert_true(json_is_false(json_object_get(doc, "stage-create")));
    json_decref(doc);
    free(text);
    text = tw_catalog_rest_create_body("t", "file:///wh/t", schema, spec);
    doc = json_loads(text, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "location")), "file:///wh/t");
    json_decref(doc);
    free(text);
    json_decref(schema);
    json_decref(spec);
}

static void test_load_result(void **state)
{
    (void)state;
    char *loc = NULL, *md = NULL;
    tw_err err;
    assert_true(tw_catalog_rest_parse_load(
        "{\"metadata-location\":\"s3://b/t/metadata/00001.json\",\"metadata\":{\"format-version\":2},"
        "\"config\":{}}",
        &loc, &md, &err));
    assert_string_equal(loc, "s3://b/t/metadata/00001.json");
    assert_string_equal(md, "{\"format-version\":2}");
    free(loc);
    free(md);
    assert_false(tw_catalog_rest_parse_load("{\"metadata\":{}}", &loc, &md, &err));
    assert_non_null(strstr(err.msg, "metadata-location"));
    assert_false(tw_catalog_rest_parse_load("{\"metadata-location\":null,\"metadata\":{}}", &loc,
                                            &md, &err));
}

/* The table config is "config" overlaid with the storage-credentials entry
 * whose prefix is the longest match of the table's location. */
static void test_table_config_longest_prefix_wins(void **state)
{
    (void)state;
    json_t *c = tw_catalog_rest_parse_table_config(
        "{\"metadata-location\":\"s3://lake/wh/t1/metadata/1.json\",\"metadata\":"
        "{\"location\":\"s3://lake/wh/t1\"},"
        "\"config\":{\"s3.endpoint\":\"http://minio:9000\",\"s3.access-key-id\":\"base\","
        "\"s3.path-style-access\":true},"
        "\"storage-credentials\":["
        "{\"prefix\":\"s3://lake/\",\"config\":{\"s3.access-key-id\":\"short\"}},"
        "{\"prefix\":\"s3://lake/wh/t1\",\"config\":{\"s3.access-key-id\":\"long\","
        "\"s3.secret-access-key\":\"sk\"}},"
        "{\"prefix\":\"s3://other/\",\"config\":{\"s3.access-key-id\":\"other\"}}]}");
    assert_non_null(c);
    assert_string_equal(json_string_value(json_object_get(c, "s3.access-key-id")), "long");
    assert_string_equal(json_string_value(json_object_get(c, "s3.secret-access-key")), "sk");
    assert_string_equal(json_string_value(json_object_get(c, "s3.endpoint")), "http://minio:9000");
    /* only string values are kept */
    assert_null(json_object_get(c, "s3.path-style-access"));
    json_decref(c);
}

static void test_table_config_absent_or_invalid(void **state)
{
    (void)state;
    json_t *c = tw_catalog_rest_parse_table_config("{\"metadata-location\":\"x\",\"metadata\":{}}");
    assert_non_null(c);
    assert_int_equal(json_object_size(c), 0);
    json_decref(c);
    assert_null(tw_catalog_rest_parse_table_config("not json"));
}

static void test_token(void **state)
{
    (void)state;
    char *token = NULL;
    tw_err err;
    assert_true(tw_catalog_rest_parse_token(
        "{\"access_token\":\"abc\",\"token_type\":\"bearer\",\"expires_in\":3600}", &token, &err));
    assert_string_equal(token, "abc");
    free(token);
    assert_false(tw_catalog_rest_parse_token("{\"token_type\":\"bearer\"}", &token, &err));
    assert_null(token);
}

static void test_error_messages(void **state)
{
    (void)state;
    char buf[128];
    tw_catalog_rest_error_message(
        "{\"error\":{\"message\":\"ref main moved\",\"type\":\"CommitFailedException\",\"code\":409}}",
        buf, sizeof buf);
    assert_string_equal(buf, "CommitFailedException: ref main moved");
    tw_catalog_rest_error_message("{\"error\":\"invalid_client\",\"error_description\":\"bad secret\"}",
                                  buf, sizeof buf);
    assert_string_equal(buf, "invalid_client: bad secret");
    tw_catalog_rest_error_message("Bad Gateway", buf, sizeof buf);
    assert_string_equal(buf, "Bad Gateway");
    tw_catalog_rest_error_message("", buf, sizeof buf);
    assert_string_equal(buf, "(empty body)");
}

static void test_find_snapshot(void **state)
{
    (void)state;
    const char *md = "{\"snapshots\":[{\"snapshot-id\":1},{\"snapshot-id\":2}],"
                     "\"refs\":{\"main\":{\"snapshot-id\":2,\"type\":\"branch\"}},"
                     "\"current-snapshot-id\":2}";
    bool has = false, at = false;
    assert_true(tw_catalog_rest_find_snapshot(md, 2, 1, &has, &at));
    assert_true(has); /* our commit applied */
    assert_false(at);
    assert_true(tw_catalog_rest_find_snapshot(md, 3, 2, &has, &at));
    assert_false(has); /* not applied, main unchanged: send again */
    assert_true(at);
    assert_true(tw_catalog_rest_find_snapshot(md, 3, 1, &has, &at));
    assert_false(has); /* not applied, main moved: a conflict */
    assert_false(at);
    assert_true(tw_catalog_rest_find_snapshot("{\"snapshots\":[]}", 3, -1, &has, &at));
    assert_true(at); /* no main yet */
    assert_false(tw_catalog_rest_find_snapshot("nope", 3, -1, &has, &at));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_overrides_win),
        cmocka_unit_test(test_config_without_prefix),
        cmocka_unit_test(test_config_rejects_other_documents),
        cmocka_unit_test(test_paths_encode_parts),
        cmocka_unit_test(test_commit_body),
        cmocka_unit_test(test_first_commit_asserts_no_main),
        cmocka_unit_test(test_create_body_leaves_location_to_server),
        cmocka_unit_test(test_load_result),
        cmocka_unit_test(test_table_config_longest_prefix_wins),
        cmocka_unit_test(test_table_config_absent_or_invalid),
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_find_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for iceberg/metadata, manifest lists and table commits:
 * metadata JSON round trip, snapshot ids below 2^53, manifest-list
 * encode/decode, and a commit that meets a conflicting writer and retries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "iceberg/catalog.h"
#include "iceberg/fileio.h"
#include "iceberg/iceberg.h"
#include "iceberg/manifest.h"
#include "iceberg/manifest_read.h"
#include "iceberg/metadata.h"

static const tw_iceberg_field fields[] = {
    {1, "id", TW_T_INT64, true}, {2, "name", TW_T_VARCHAR, false}, {3, "ts", TW_T_TIMESTAMPTZ, false}};
static const int32_t key_ids[] = {1};
static const tw_iceberg_schema schema = {fields, 3, key_ids, 1};

static void test_metadata_round_trip(void **state)
{
    (void)state;
    tw_err err = {0};
    tw_iceberg_partition_spec spec;
    assert_true(tw_iceberg_partition_spec_parse("day(ts), bucket(8, id)", &schema, 1000, &spec, &err));
    tw_iceberg_metadata *md = tw_iceberg_metadata_create("0b5e3c1a-2f4d-4e6b-8a9c-1d2e3f405162",
                                                         "file:///wh/ns/t", &schema, &spec, 1700000000000, &err);
    assert_non_null(md);
    json_t *summary = json_pack("{s:s, s:s}", "operation", "append", "tidewatch.positions", "p:42");
    tw_iceberg_new_snapshot s = {.snapshot_id = (INT64_C(1) << 53) - 1, .sequence_number = 1,
                                 .timestamp_ms = 1700000000001, .manifest_list = "file:///wh/ns/t/metadata/snap.avro",
                                 .summary = summary};
    tw_iceberg_metadata *md2 = tw_iceberg_metadata_add_snapshot(md, "file:///wh/ns/t/metadata/00000-a.metadata.json",
                                                                &s, &err);
    assert_non_null(md2);
    char *text = tw_iceberg_metadata_to_json(md2);
    tw_iceberg_metadata *back = tw_iceberg_metadata_parse(text, strlen(text), &err);
    assert_non_null(back);
    assert_string_equal(back->table_uuid, "0b5e3c1a-2f4d-4e6b-8a9c-1d2e3f405162");
    assert_string_equal(back->location, "file:///wh/ns/t");
    assert_int_equal(back->last_sequence_number, 1);
    assert_int_equal(back->last_column_id, 3);
    assert_int_equal(back->last_partition_id, 1001);
    assert_int_equal(back->schema.nfields, 3);
    assert_string_equal(back->schema.fields[2].name, "ts");
    assert_int_equal(back->schema.fields[2].type, TW_T_TIMESTAMPTZ);
    assert_true(back->schema.fields[0].required);
    assert_int_equal(back->schema.nidentifier_field_ids, 1);
    assert_true(tw_iceberg_partition_spec_equivalent(&back->spec, &spec));
    assert_int_equal(back->current_snapshot_id, (INT64_C(1) << 53) - 1);
    assert_int_equal(back->nsnapshots, 1);
    assert_int_equal(back->current->parent_snapshot_id, -1);
    assert_string_equal(tw_iceberg_metadata_summary(back, "tidewatch.positions"), "p:42");
    json_t *root = back->root;
    assert_int_equal(json_integer_value(json_object_get(root, "format-version")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(root, "refs"), "main"),
                                                        "snapshot-id")),
                     (INT64_C(1) << 53) - 1);
    assert_int_equal(json_array_size(json_object_get(root, "metadata-log")), 1);
    assert_int_equal(json_array_size(json_object_get(root, "snapshot-log")), 1);
    /* the base version is untouched */
    assert_int_equal(md->current_snapshot_id, -1);
    free(text);
    json_decref(summary);
    tw_iceberg_metadata_free(back);
    tw_iceberg_metadata_free(md2);
    tw_iceberg_metadata_free(md);
    tw_iceberg_partition_spec_clear(&spec);
}

static void test_metadata_parse_rejects(void **state)
{
    (void)state;
    const char *bad[] = {"[]", "{\"format-version\": 3}", "{\"format-version\": 2, \"location\": \"x\"}", "{"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tw_err err = {0};
        assert_null(tw_iceberg_metadata_parse(bad[i], strlen(bad[i]), &err));
        assert_true(err.msg[0] != '\0');
    }
}

static void test_manifest_list_round_trip(void **state)
{
    (void)state;
    uint8_t lo[] = {1, 0, 0, 0}, hi[] = {9, 0, 0, 0};
    tw_iceberg_field_summary fs = {.contains_null = true, .contains_nan = -1, .lower = {true, lo, 4},
                                   .upper = {true, hi, 4}};
    tw_iceberg_manifest_file m = {.path = "file:///x/m0.avro", .length = 1234, .spec_id = 0, .content = 1,
                                  .sequence_number = 7, .min_sequence_number = 5, .added_snapshot_id = 99,
                                  .added_files = 2, .added_rows = 30, .has_partitions = true,
                                  .npartitions = 1, .partitions = &fs};
    char *bytes = NULL;
    size_t len = 0;
    tw_err err = {0};
    assert_true(tw_iceberg_manifest_list_encode(&m, 1, 99, 98, 7, &bytes, &len, &err));
    tw_iceberg_manifest_file *back = NULL;
    uint32_t n = 0;
    assert_true(tw_iceberg_manifest_list_decode(bytes, len, &back, &n, &err));
    assert_int_equal(n, 1);
    assert_string_equal(back[0].path, "file:///x/m0.avro");
    assert_int_equal(back[0].length, 1234);
    assert_int_equal(back[0].content, 1);
    assert_int_equal(back[0].sequence_number, 7);
    assert_int_equal(back[0].min_sequence_number, 5);
    assert_int_equal(back[0].added_rows, 30);
    assert_int_equal(back[0].npartitions, 1);
    assert_true(back[0].partitions[0].contains_null);
    assert_int_equal(back[0].partitions[0].contains_nan, -1);
    assert_memory_equal(back[0].partitions[0].upper.data, hi, 4);
    assert_false(back[0].key_metadata.present);
    tw_iceberg_manifest_files_free(back, n);
    free(bytes);
}

/* A storage catalog whose first swap meets another writer's commit. */
typedef struct racing_catalog {
    tw_catalog base;
    tw_catalog *inner;
    tw_iceberg_table *other;
    int swaps;
} racing_catalog;

static bool rc_load(tw_catalog *c, const char *ns, const char *t, char **loc, tw_err *err)
{
    tw_catalog *inner = ((racing_catalog *)c)->inner;
    return inner->ops->load(inner, ns, t, loc, err);
}

static bool rc_create(tw_catalog *c, const char *ns, const char *t, const char *loc, bool *exists, tw_err *err)
{
    tw_catalog *inner = ((racing_catalog *)c)->inner;
    return inner->ops->create(inner, ns, t, loc, exists, err);
}

static tw_cas_result rc_swap(tw_catalog *c, const char *ns, const char *t, const char *expected,
                             const char *new_location, tw_err *err)
{
    racing_catalog *rc = (racing_catalog *)c;
    if (rc->swaps++ == 0)
        assert_true(tw_iceberg_table_commit(rc->other, NULL, 0, NULL, 0, err));
    return rc->inner->ops->swap(rc->inner, ns, t, expected, new_location, err);
}

static const tw_catalog_ops racing_ops = {.kind = "racing", .load = rc_load, .create = rc_create, .swap = rc_swap};

static void test_commit_retries_after_conflict(void **state)
{
    (void)state;
    char dir[] = "/tmp/tw_iceberg_test_XXXXXX";
    assert_non_null(mkdtemp(dir));
    tw_err err = {0};
    tw_catalog *storage = tw_catalog_open_storage(dir, &err);
    assert_non_null(storage);
    tw_fileio *io = tw_fileio_open_local();
    racing_catalog rc = {.base = {.ops = &racing_ops, .name = "default"}, .inner = storage};
    tw_iceberg_table *t = tw_iceberg_table_open(&rc.base, io, dir, "ns", "t", &schema, NULL, true, &err);
    assert_non_null(t);
    rc.other = tw_iceberg_table_open(storage, io, dir, "ns", "t", &schema, NULL, false, &err);
    assert_non_null(rc.other);
    tw_iceberg_kv props[] = {{"tidewatch.positions", "p:1"}};
    assert_true(tw_iceberg_table_commit(t, NULL, 0, props, 1, &err));
    assert_int_equal(rc.swaps, 2); /* one conflict, one success */
    int64_t id = tw_iceberg_table_current_snapshot_id(t);
    assert_true(id > 0 && id < (INT64_C(1) << 53));
    assert_string_equal(tw_iceberg_table_snapshot_property(t, "tidewatch.positions"), "p:1");
    assert_true(tw_iceberg_table_reload(rc.other, &err));
    assert_int_equal(tw_iceberg_table_current_snapshot_id(rc.other), id);
    /* both snapshots are there, the retried one on top of the other's */
    assert_string_equal(tw_iceberg_table_snapshot_property(rc.other, "operation"), "append");
    tw_iceberg_table_free(rc.other);
    tw_iceberg_table_free(t);
    tw_fileio_close(io);
    storage->ops->close(storage);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata_round_trip),
        cmocka_unit_test(test_metadata_parse_rejects),
        cmocka_unit_test(test_manifest_list_round_trip),
        cmocka_unit_test(test_commit_retries_after_conflict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

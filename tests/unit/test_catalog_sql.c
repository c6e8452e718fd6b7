/* Unit tests for the SQL catalog (iceberg/catalog_sql.c) on SQLite files in
 * a temporary directory: create/load/swap, conflicts, two handles on one
 * file, the shared schema, namespaces, and the URI forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "iceberg/catalog.h"

typedef struct fixture {
    char dir[64];
    char path[128];
    char uri[160];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/tw-catalog-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/catalog.db", f->dir);
    snprintf(f->uri, sizeof f->uri, "sqlite:%s", f->path);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static tw_catalog *open_ok(const char *uri, const char *name)
{
    tw_err err = {0};
    tw_catalog *c = tw_catalog_open_sql(uri, NULL, NULL, name, &err);
    if (!c)
        fail_msg("open %s: %s", uri, err.msg);
    return c;
}

static char *load_ok(tw_catalog *c, const char *ns, const char *table)
{
    tw_err err = {0};
    char *loc = (char *)1;
    if (!c->ops->load(c, ns, table, &loc, &err))
        fail_msg("load: %s", err.msg);
    return loc;
}

static void create_ok(tw_catalog *c, const char *ns, const char *table, const char *loc)
{
    tw_err err = {0};
    bool exists = true;
    assert_true(c->ops->create(c, ns, table, loc, &exists, &err));
    assert_false(exists);
}

static tw_cas_result swap(tw_catalog *c, const char *expected, const char *new_location)
{
    tw_err err = {0};
    tw_cas_result r = c->ops->swap(c, "public", "t", expected, new_location, &err);
    if (r == TW_CAS_ERROR)
        fail_msg("swap: %s", err.msg);
    return r;
}

static void assert_location(tw_catalog *c, const char *ns, const char *table, const char *want)
{
    char *loc = load_ok(c, ns, table);
    if (want)
        assert_string_equal(loc, want);
    else
        assert_null(loc);
    free(loc);
}

/* Runs a query on the file directly and returns its rows as "a|b;c|d;". */
static void query_rows(const char *path, const char *sql, char *out, size_t out_size)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    size_t used = 0;
    out[0] = '\0';
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(stmt); i++) {
            const unsigned char *v = sqlite3_column_text(stmt, i);
            used += (size_t)snprintf(out + used, out_size - used, "%s%s", i ? "|" : "",
                                     v ? (const char *)v : "NULL");
            assert_true(used < out_size);
        }
        used += (size_t)snprintf(out + used, out_size - used, ";");
        assert_true(used < out_size);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

static void exec_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static void test_create_load_swap(void **state)
{
    fixture *f = *state;
    tw_catalog *c = open_ok(f->uri, NULL);
    assert_string_equal(c->ops->kind, "sql");
    assert_string_equal(c->name, "default");
    assert_location(c, "public", "t", NULL);
    create_ok(c, "public", "t", "file:///w/t/metadata/v1.json");
    assert_location(c, "public", "t", "file:///w/t/metadata/v1.json");
    assert_int_equal(swap(c, "file:///w/t/metadata/v1.json", "file:///w/t/metadata/v2.json"),
                     TW_CAS_OK);
    assert_location(c, "public", "t", "file:///w/t/metadata/v2.json");
    c->ops->close(c);

    char rows[512];
    query_rows(f->path,
               "SELECT catalog_name, table_namespace, table_name, metadata_location, "
               "previous_metadata_location, iceberg_type FROM iceberg_tables",
               rows, sizeof rows);
    assert_string_equal(rows, "default|public|t|file:///w/t/metadata/v2.json|"
                              "file:///w/t/metadata/v1.json|TABLE;");
}

static void test_swap_conflict_changes_nothing(void **state)
{
    fixture *f = *state;
    tw_catalog *c = open_ok(f->uri, NULL);
    create_ok(c, "public", "t", "v1");
    assert_int_equal(swap(c, "v0", "v2"), TW_CAS_CONFLICT);
    assert_location(c, "public", "t", "v1");
    assert_int_equal(swap(c, "v1", "v2"), TW_CAS_OK);
    assert_int_equal(swap(c, "v1", "v3"), TW_CAS_CONFLICT);
    assert_location(c, "public", "t", "v2");
    c->ops->close(c);
}

static void test_swap_of_missing_table_conflicts(void **state)
{
    fixture *f = *state;
    tw_catalog *c = open_ok(f->uri, NULL);
    assert_int_equal(swap(c, "v1", "v2"), TW_CAS_CONFLICT);
    assert_location(c, "public", "t", NULL);
    c->ops->close(c);
}

static void test_create_twice_already_exists(void **state)
{
    fixture *f = *state;
    tw_catalog *c = open_ok(f->uri, NULL);
    create_ok(c, "public", "t", "v1");
    tw_err err = {0};
    bool exists = false;
    assert_true(c->ops->create(c, "public", "t", "other", &exists, &err));
    assert_true(exists);
    assert_location(c, "public", "t", "v1");
    c->ops->close(c);
}

static void test_two_handles_interleave(void **state)
{
    fixture *f = *state;
    tw_catalog *a = open_ok(f->uri, NULL);
    tw_catalog *b = open_ok(f->uri, NULL);
    create_ok(a, "public", "t", "v1");
    char *seen_by_a = load_ok(a, "public", "t");
    char *seen_by_b = load_ok(b, "public", "t");
    assert_string_equal(seen_by_b, "v1");
    assert_int_equal(swap(a, seen_by_a, "a2"), TW_CAS_OK);
    /* b lost the race: it must reload and retry on top of a's commit. */
    assert_int_equal(swap(b, seen_by_b, "b2"), TW_CAS_CONFLICT);
    free(seen_by_b);
    seen_by_b = load_ok(b, "public", "t");
    assert_string_equal(seen_by_b, "a2");
    assert_int_equal(swap(b, seen_by_b, "b2"), TW_CAS_OK);
    assert_int_equal(swap(a, "a2", "a3"), TW_CAS_CONFLICT);
    assert_location(a, "public", "t", "b2");
    free(seen_by_a);
    free(seen_by_b);
    a->ops->close(a);
    b->ops->close(b);

    char rows[256];
    query_rows(f->path, "SELECT previous_metadata_location FROM iceberg_tables", rows, sizeof rows);
    assert_string_equal(rows, "a2;");
}

static void test_schema_columns(void **state)
{
    fixture *f = *state;
    tw_catalog *c = open_ok(f->uri, NULL);
    c->ops->close(c);
    char rows[1024];
    query_rows(f->path,
               "SELECT name, type, \"notnull\", pk FROM pragma_table_info('iceberg_tables')", rows,
               sizeof rows);
    assert_string_equal(rows, "catalog_name|VARCHAR(255)|1|1;"
                              "table_namespace|VARCHAR(255)|1|2;"
                              "table_name|VARCHAR(255)|1|3;"
                              "metadata_location|VARCHAR(1000)|0|0;"
                              "previous_metadata_location|VARCHAR(1000)|0|0;"
                              "iceberg_type|VARCHAR(5)|0|0;");
    query_rows(f->path,
               "SELECT name, type, pk FROM pragma_table_info('iceberg_namespace_properties')", rows,
               sizeof rows);
    assert_string_equal(rows, "catalog_name|VARCHAR(255)|1;"
                              "namespace|VARCHAR(255)|2;"
                              "property_key|VARCHAR(255)|3;"
                              "property_value|VARCHAR(1000)|0;");
    query_rows(f->path, "PRAGMA journal_mode", rows, sizeof rows);
    assert_string_equal(rows, "wal;");
}

/* A file made by pyiceberg's SqlCatalog has no iceberg_type column; the
 * catalog must use it as it is. */
static void test_accepts_pyiceberg_schema(void **state)
{
    fixture *f = *state;
    exec_sql(f->path,
             "CREATE TABLE iceberg_tables (catalog_name VARCHAR(255) NOT NULL, "
             "table_namespace VARCHAR(255) NOT NULL, table_name VARCHAR(255) NOT NULL, "
             "metadata_location VARCHAR(1000), previous_metadata_location VARCHAR(1000), "
             "PRIMARY KEY (catalog_name, table_namespace, table_name));"
             "CREATE TABLE iceberg_namespace_properties (catalog_name VARCHAR(255) NOT NULL, "
             "namespace VARCHAR(255) NOT NULL, property_key VARCHAR(255) NOT NULL, "
             "property_value VARCHAR(1000) NOT NULL, "
             "PRIMARY KEY (catalog_name, namespace, property_key));"
             "INSERT INTO iceberg_tables VALUES ('default', 'db', 'old', 'm1', NULL);");
    tw_catalog *c = open_ok(f->uri, NULL);
    assert_location(c, "db", "old", "m1");
    create_ok(c, "db", "new", "n1");
    tw_err err = {0};
    assert_int_equal(c->ops->swap(c, "db", "old", "m1", "m2", &err), TW_CAS_OK);
    c->ops->close(c);
    char rows[256];
    query_rows(f->path, "SELECT table_name, metadata_location FROM iceberg_tables ORDER BY 1", rows,
               sizeof rows);
    assert_string_equal(rows, "new|n1;old|m2;");
}

/* In the JdbcCatalog V1 schema a view shares the table namespace: it is not
 * a table to load or swap. */
static void test_views_are_not_tables(void **state)
{
    fixture *f = *state;
    tw_catalog *c = open_ok(f->uri, NULL);
    exec_sql(f->path, "INSERT INTO iceberg_tables VALUES ('default', 'public', 't', 'view1', "
                      "NULL, 'VIEW')");
    assert_location(c, "public", "t", NULL);
    assert_int_equal(swap(c, "view1", "v2"), TW_CAS_CONFLICT);
    c->ops->close(c);
}

static void test_namespace_created_once(void **state)
{
    fixture *f = *state;
    tw_catalog *c = open_ok(f->uri, NULL);
    create_ok(c, "public", "a", "a1");
    create_ok(c, "public", "b", "b1");
    create_ok(c, "other", "a", "x1");
    c->ops->close(c);
    char rows[256];
    query_rows(f->path,
               "SELECT catalog_name, namespace, property_key, property_value "
               "FROM iceberg_namespace_properties ORDER BY namespace",
               rows, sizeof rows);
    assert_string_equal(rows, "default|other|exists|true;default|public|exists|true;");
}

/* A namespace someone created with its own properties keeps them and gets
 * no extra marker. */
static void test_existing_namespace_left_alone(void **state)
{
    fixture *f = *state;
    tw_catalog *c = open_ok(f->uri, NULL);
    exec_sql(f->path, "INSERT INTO iceberg_namespace_properties VALUES "
                      "('default', 'public', 'location', 'file:///w/public')");
    create_ok(c, "public", "t", "v1");
    c->ops->close(c);
    char rows[256];
    query_rows(f->path, "SELECT property_key FROM iceberg_namespace_properties", rows, sizeof rows);
    assert_string_equal(rows, "location;");
}

static void test_catalog_names_are_separate(void **state)
{
    fixture *f = *state;
    tw_catalog *a = open_ok(f->uri, "alpha");
    tw_catalog *b = open_ok(f->uri, "beta");
    create_ok(a, "public", "t", "a1");
    assert_location(b, "public", "t", NULL);
    create_ok(b, "public", "t", "b1");
    assert_location(a, "public", "t", "a1");
    a->ops->close(a);
    b->ops->close(b);
}

static void test_uri_forms(void **state)
{
    fixture *f = *state;
    char uri[200];
    snprintf(uri, sizeof uri, "sqlite://%s", f->path); /* sqlite:///abs/path */
    tw_catalog *c = open_ok(uri, NULL);
    create_ok(c, "public", "t", "v1");
    c->ops->close(c);
    snprintf(uri, sizeof uri, "sqlite:///%s", f->path); /* SQLAlchemy's sqlite:////abs */
    c = open_ok(uri, NULL);
    assert_location(c, "public", "t", "v1");
    c->ops->close(c);
}

static void test_bad_uris(void **state)
{
    fixture *f = *state;
    tw_err err = {0};
    assert_null(tw_catalog_open_sql("mysql://u:pw@h/db", NULL, NULL, NULL, &err));
    assert_int_equal(err.code, TW_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "mysql://u:***@h/db"));
    assert_null(strstr(err.msg, "pw@"));

    char uri[200];
    snprintf(uri, sizeof uri, "sqlite:%s/missing-dir/catalog.db", f->dir);
    assert_null(tw_catalog_open_sql(uri, NULL, NULL, NULL, &err));
    assert_int_equal(err.code, TW_ERR_IO);
    assert_non_null(strstr(err.msg, uri));
    assert_non_null(strstr(err.msg, "check"));
}

static void test_unreachable_postgres_hides_password(void **state)
{
    (void)state;
    tw_err err = {0};
    /* Port 1 on loopback: nothing listens, the refusal is immediate. */
    assert_null(
        tw_catalog_open_sql("postgresql://tw:s3cret@127.0.0.1:1/db", NULL, NULL, NULL, &err));
    assert_int_equal(err.code, TW_ERR_IO);
    assert_non_null(strstr(err.msg, "postgresql://tw:***@127.0.0.1:1/db"));
    assert_null(strstr(err.msg, "s3cret"));

    assert_null(tw_catalog_open_sql("jdbc:postgresql://127.0.0.1:1/db?user=tw&password=s3cret",
                                    NULL, NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "jdbc:postgresql://127.0.0.1:1/db?user=tw&password=***"));
    assert_null(strstr(err.msg, "s3cret"));
}

/* A file that is not a database is an error at open, not a silent reset. */
static void test_not_a_database(void **state)
{
    fixture *f = *state;
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("this is not an SQLite database, just a text file of some length......\n", fp);
    fclose(fp);
    tw_err err = {0};
    assert_null(tw_catalog_open_sql(f->uri, NULL, NULL, NULL, &err));
    assert_int_equal(err.code, TW_ERR_IO);
    assert_non_null(strstr(err.msg, f->path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_load_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swap_conflict_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swap_of_missing_table_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_twice_already_exists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_handles_interleave, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accepts_pyiceberg_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_views_are_not_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespace_created_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_namespace_left_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catalog_names_are_separate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uri_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_uris, setup, teardown),
        cmocka_unit_test(test_unreachable_postgres_hides_password),
        cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the engine: DDL lifecycle, incremental results, retention
 * and late rows, and the errors users see. Inputs are small NDJSON files
 * written to a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"
#include "exec/engine.h"
#include "exec/expr.h"
#include "sql/parser.h"

TW_TEST_TMPDIR("tw_engine_")

static const char *write_input(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

typedef struct results {
    tw_result *last;
} results;

static void keep_result(void *ctx, tw_result *r)
{
    results *rs = ctx;
    tw_result_free(rs->last);
    rs->last = r;
}

static tw_engine *engine_with(const char *sql, tw_engine_opts *opts)
{
    tw_engine_opts defaults;
    tw_engine_opts_default(&defaults);
    tw_engine *e = tw_engine_new(opts ? opts : &defaults);
    tw_err err;
    tw_err_clear(&err);
    if (!tw_engine_exec(e, sql, strlen(sql), "test.sql", NULL, NULL, &err))
        fail_msg("%s", err.msg);
    return e;
}

static void run_to_end(tw_engine *e)
{
    volatile sig_atomic_t stop = 0;
    tw_err err;
    tw_err_clear(&err);
    assert_true(tw_engine_run(e, &stop, true, NULL, NULL, &err));
}

static tw_result *query(tw_engine *e, const char *sql)
{
    results rs = {0};
    tw_err err;
    tw_err_clear(&err);
    if (!tw_engine_exec(e, sql, strlen(sql), "query", keep_result, &rs, &err))
        fail_msg("%s", err.msg);
    assert_non_null(rs.last);
    return rs.last;
}

static tw_value cell(const tw_result *r, uint64_t row, uint32_t col)
{
    uint32_t b = (uint32_t)(row / TW_BATCH_ROWS);
    return tw_column_get(&r->batches[b]->cols[col], (uint32_t)(row % TW_BATCH_ROWS));
}

static const char *source_sql(const char *path, const char *extra)
{
    static char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE SOURCE m (d VARCHAR, ts TIMESTAMP, v FLOAT%s) "
             "WITH (connector = 'file', path = '%s') FORMAT PLAIN ENCODE JSON;",
             extra, path);
    return sql;
}

/* A view over an aggregate gains and loses rows as averages cross the
 * threshold; the final view is the batch answer. */
static void test_retractions_through_views(void **state)
{
    (void)state;
    const char *path = write_input("r.ndjson",
                                   "{\"d\":\"a\",\"ts\":\"2026-01-01T00:00:01Z\",\"v\":200}\n"
                                   "{\"d\":\"a\",\"ts\":\"2026-01-01T00:00:02Z\",\"v\":0}\n"
                                   "{\"d\":\"b\",\"ts\":\"2026-01-01T00:00:03Z\",\"v\":50}\n"
                                   "{\"d\":\"b\",\"ts\":\"2026-01-01T00:00:04Z\",\"v\":250}\n");
    char sql[2048];
    snprintf(sql, sizeof sql,
             "%s CREATE MATERIALIZED VIEW agg AS SELECT d, window_start, avg(v) AS a "
             "FROM TUMBLE(m, ts, INTERVAL '10 seconds') GROUP BY d, window_start;"
             "CREATE MATERIALIZED VIEW hot AS SELECT d, a FROM agg WHERE a > 100;",
             source_sql(path, ""));
    tw_engine_opts opts;
    tw_engine_opts_default(&opts);
    /* One barrier per batch boundary is not guaranteed; a tiny interval
     * makes intermediate states flow through the filter view. */
    opts.barrier_interval_ms = 1;
    tw_engine *e = engine_with(sql, &opts);
    run_to_end(e);
    tw_result *r = query(e, "SELECT d, a FROM hot ORDER BY d");
    assert_int_equal(r->nrows, 1);
    tw_value d = cell(r, 0, 0), a = cell(r, 0, 1);
    assert_int_equal(d.s.len, 1);
    assert_memory_equal(d.s.ptr, "b", 1);
    assert_true(a.f64 == 150.0);
    tw_result_free(r);
    r = query(e, "SELECT count(*) AS n, sum(a) AS s FROM agg");
    assert_int_equal(cell(r, 0, 0).i64, 2);
    assert_true(cell(r, 0, 1).f64 == 250.0);
    tw_result_free(r);
    tw_engine_free(e);
}

/* The seed's DROP ... IF EXISTS preamble makes a script repeatable on one
 * engine: the second run drops what the first created. */
static void test_script_is_repeatable(void **state)
{
    (void)state;
    const char *path = write_input("s.ndjson", "{\"d\":\"a\",\"ts\":\"2026-01-01T00:00:01Z\",\"v\":1}\n");
    char sql[2048];
    snprintf(sql, sizeof sql,
             "DROP MATERIALIZED VIEW IF EXISTS hot; DROP MATERIALIZED VIEW IF EXISTS agg;"
             "DROP SOURCE IF EXISTS m; %s"
             "CREATE MATERIALIZED VIEW agg AS SELECT d, count(*) AS n FROM m GROUP BY d;"
             "CREATE MATERIALIZED VIEW hot AS SELECT d FROM agg WHERE n > 0;",
             source_sql(path, ""));
    tw_engine *e = engine_with(sql, NULL);
    tw_err err;
    tw_err_clear(&err);
    assert_true(tw_engine_exec(e, sql, strlen(sql), "again.sql", NULL, NULL, &err));
    run_to_end(e);
    tw_result *r = query(e, "SELECT * FROM hot");
    assert_int_equal(r->nrows, 1);
    tw_result_free(r);
    /* Dropping something another object depends on is refused. */
    const char *drop = "DROP SOURCE m;";
    assert_false(tw_engine_exec(e, drop, strlen(drop), "drop.sql", NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "'agg' depends on it"));
    tw_engine_free(e);
}

/* Without a watermark, windows are released after the retention; rows for a
 * released window are counted as late, not added. */
static void test_retention_releases_and_counts_late(void **state)
{
    (void)state;
    const char *path = write_input("late.ndjson",
                                   "{\"d\":\"a\",\"ts\":\"2026-01-01T00:00:01Z\",\"v\":1}\n"
                                   "{\"d\":\"a\",\"ts\":\"2026-01-01T02:00:00Z\",\"v\":1}\n"
                                   "{\"d\":\"a\",\"ts\":\"2026-01-01T00:00:02Z\",\"v\":1}\n"
                                   "{\"d\":\"a\",\"ts\":\"2026-01-01T01:59:00Z\",\"v\":1}\n");
    char sql[2048];
    snprintf(sql, sizeof sql,
             "%s CREATE MATERIALIZED VIEW c AS SELECT window_start, count(*) AS n "
             "FROM TUMBLE(m, ts, INTERVAL '1 minute') GROUP BY window_start;",
             source_sql(path, ""));
    tw_engine *e = engine_with(sql, NULL);
    run_to_end(e);
    tw_result *r = query(e, "SELECT window_start, n FROM c ORDER BY window_start");
    assert_int_equal(r->nrows, 3);
    assert_int_equal(cell(r, 0, 1).i64, 1); /* 00:00 keeps its first row only */
    tw_result_free(r);
    tw_engine_stats st;
    tw_engine_get_stats(e, &st);
    assert_int_equal(st.late_rows, 1);
    tw_engine_free(e);
}

/* EMIT ON WINDOW CLOSE emits each window once, when the watermark passes. */
static void test_emit_on_window_close(void **state)
{
    (void)state;
    const char *path = write_input("wm.ndjson",
                                   "{\"d\":\"a\",\"ts\":\"2026-01-01T00:00:01Z\",\"v\":1}\n"
                                   "{\"d\":\"a\",\"ts\":\"2026-01-01T00:00:12Z\",\"v\":2}\n"
                                   "{\"d\":\"a\",\"ts\":\"2026-01-01T00:00:03Z\",\"v\":4}\n"
                                   "{\"d\":\"a\",\"ts\":\"2026-01-01T00:00:09Z\",\"v\":8}\n");
    char sql[2048];
    snprintf(sql, sizeof sql,
             "CREATE SOURCE m (d VARCHAR, ts TIMESTAMP, v FLOAT, "
             "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) "
             "WITH (connector = 'file', path = '%s') FORMAT PLAIN ENCODE JSON;"
             "CREATE MATERIALIZED VIEW s AS SELECT window_start, sum(v) AS total "
             "FROM TUMBLE(m, ts, INTERVAL '10 seconds') GROUP BY window_start "
             "EMIT ON WINDOW CLOSE;",
             path);
    tw_engine *e = engine_with(sql, NULL);
    run_to_end(e);
    tw_result *r = query(e, "SELECT total FROM s ORDER BY window_start");
    assert_int_equal(r->nrows, 2);
    /* 00:00:03 is late (watermark 00:00:07 after 00:00:12); 00:00:09 is not. */
    assert_true(cell(r, 0, 0).f64 == 9.0);
    assert_true(cell(r, 1, 0).f64 == 2.0);
    tw_result_free(r);
    tw_engine_stats st;
    tw_engine_get_stats(e, &st);
    assert_int_equal(st.late_rows, 1);
    tw_engine_free(e);
}

/* An aggregate without GROUP BY answers over no rows too, as SQL does. */
static void test_global_aggregate_over_nothing(void **state)
{
    (void)state;
    const char *path = write_input("none.ndjson", "");
    char sql[2048];
    snprintf(sql, sizeof sql, "%s CREATE MATERIALIZED VIEW v AS SELECT d, v FROM m WHERE v > 0;",
             source_sql(path, ""));
    tw_engine *e = engine_with(sql, NULL);
    run_to_end(e);
    tw_result *r = query(e, "SELECT count(*) AS n, sum(v) AS s FROM v");
    assert_int_equal(r->nrows, 1);
    assert_int_equal(cell(r, 0, 0).i64, 0);
    assert_true(cell(r, 0, 1).is_null);
    tw_result_free(r);
    tw_engine_free(e);
}

static void expect_error(const char *sql, const char *needle)
{
    tw_engine_opts opts;
    tw_engine_opts_default(&opts);
    tw_engine *e = tw_engine_new(&opts);
    tw_err err;
    tw_err_clear(&err);
    bool ok = tw_engine_exec(e, sql, strlen(sql), "err.sql", NULL, NULL, &err);
    if (ok || !strstr(err.msg, needle))
        fail_msg("expected an error containing \"%s\", got: %s", needle, ok ? "success" : err.msg);
    tw_engine_free(e);
}

static void test_errors_name_the_problem(void **state)
{
    (void)state;
    const char *path = write_input("e.ndjson", "");
    char src[1024];
    snprintf(src, sizeof src, "%s", source_sql(path, ""));
    char sql[2048];
    snprintf(sql, sizeof sql, "%s CREATE MATERIALIZED VIEW x AS SELECT * FROM nope;", src);
    expect_error(sql, "relation 'nope' does not exist");
    snprintf(sql, sizeof sql, "%s CREATE MATERIALIZED VIEW x AS SELECT d, v FROM m GROUP BY d;",
             src);
    expect_error(sql, "column 'v' must appear in the GROUP BY clause");
    snprintf(sql, sizeof sql,
             "%s CREATE MATERIALIZED VIEW x AS SELECT window_start, count(*) AS n FROM "
             "TUMBLE(m, ts, INTERVAL '10 seconds') GROUP BY window_start EMIT ON WINDOW CLOSE;",
             src);
    expect_error(sql, "needs a WATERMARK");
    snprintf(sql, sizeof sql, "%s CREATE MATERIALIZED VIEW x AS SELECT d || 1 > 2 AS b FROM m;",
             src);
    expect_error(sql, "operator does not exist: varchar > integer");
    snprintf(sql, sizeof sql,
             "%s CREATE MATERIALIZED VIEW a AS SELECT d, count(*) AS n FROM m GROUP BY d;"
             "CREATE MATERIALIZED VIEW b AS SELECT n, count(*) AS k FROM a GROUP BY n;",
             src);
    expect_error(sql, "aggregation over the updating view 'a' is not supported yet");
    snprintf(sql, sizeof sql, "%s %s", src, src);
    expect_error(sql, "relation 'm' already exists");
    expect_error("CREATE SINK s FROM nothing WITH (connector = 'iceberg');",
                 "relation 'nothing' does not exist");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retractions_through_views),
        cmocka_unit_test(test_script_is_repeatable),
        cmocka_unit_test(test_retention_releases_and_counts_late),
        cmocka_unit_test(test_emit_on_window_close),
        cmocka_unit_test(test_global_aggregate_over_nothing),
        cmocka_unit_test(test_errors_name_the_problem),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

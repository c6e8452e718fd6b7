/* Unit tests for backfill: a view (or chain of operators) created over a
 * view that already holds rows starts with exactly the rows it would hold
 * had it existed from the start, and later changes keep it exact (nothing
 * delivered both by the backfill and by the live changelog). Each case is
 * checked against a fresh pipeline that had the view from the start, over
 * the same NDJSON input written to a temporary directory. */
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
#include "mv/mv.h"

TW_TEST_TMPDIR("tw_backfill_")

/* Writes (append: adds) `nrows` metrics rows for devices d0..d4 every
 * second from second `first_s`, with values from a fixed LCG seeded with
 * `seed`. Values are whole numbers, so sums do not depend on the order rows
 * are added in. Returns the file's path. */
static const char *write_metrics(const char *name, bool append, int first_s, int nrows,
                                 uint32_t seed)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, append ? "a" : "w");
    assert_non_null(f);
    uint32_t x = seed;
    for (int i = 0; i < nrows; i++) {
        x = x * 1103515245u + 12345u;
        int s = first_s + i / 5;
        fprintf(f, "{\"d\":\"d%d\",\"ts\":\"2026-01-01T00:%02d:%02dZ\",\"v\":%u}\n", i % 5, s / 60,
                s % 60, (x >> 16) % 200);
    }
    fclose(f);
    return path;
}

static tw_engine *engine_new(const tw_engine_opts *opts)
{
    tw_engine_opts defaults;
    tw_engine_opts_default(&defaults);
    return tw_engine_new(opts ? opts : &defaults);
}

static void exec_ok(tw_engine *e, const char *sql)
{
    tw_err err;
    tw_err_clear(&err);
    if (!tw_engine_exec(e, sql, strlen(sql), "test.sql", NULL, NULL, &err))
        fail_msg("%s", err.msg);
}

static void run_to_end(tw_engine *e)
{
    volatile sig_atomic_t stop = 0;
    tw_err err;
    tw_err_clear(&err);
    assert_true(tw_engine_run(e, &stop, true, NULL, NULL, &err));
}

typedef struct text {
    char *buf;
    size_t len;
    uint64_t rows;
} text;

static void text_result(void *ctx, tw_result *r)
{
    text *t = ctx;
    char cell[256];
    for (uint32_t b = 0; b < r->nbatches; b++) {
        for (uint32_t row = 0; row < r->batches[b]->nrows; row++) {
            for (uint32_t c = 0; c < r->ncols; c++) {
                tw_value v = tw_column_get(&r->batches[b]->cols[c], row);
                size_t n = tw_value_format(&v, cell, sizeof cell);
                t->buf = realloc(t->buf, t->len + n + 2);
                memcpy(t->buf + t->len, cell, n);
                t->len += n;
                t->buf[t->len++] = c + 1 < r->ncols ? '|' : '\n';
                t->buf[t->len] = '\0';
            }
            t->rows++;
        }
    }
    tw_result_free(r);
}

/* The rows of a query as text, one line a row; *rows gets their number. */
static char *query_text(tw_engine *e, const char *sql, uint64_t *rows)
{
    text t = {NULL, 0, 0};
    tw_err err;
    tw_err_clear(&err);
    if (!tw_engine_exec(e, sql, strlen(sql), "query", text_result, &t, &err))
        fail_msg("%s", err.msg);
    *rows = t.rows;
    return t.buf ? t.buf : strdup("");
}

static const char *source_sql(const char *path, bool follow)
{
    static char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE SOURCE m (d VARCHAR, ts TIMESTAMP, v FLOAT) WITH (connector = 'file', "
             "path = '%s'%s) FORMAT PLAIN ENCODE JSON;",
             path, follow ? ", follow = 'true'" : "");
    return sql;
}

static const char agg_sql[] =
    "CREATE MATERIALIZED VIEW agg AS SELECT d, window_start, window_end, avg(v) AS a, "
    "sum(v) AS s FROM TUMBLE(m, ts, INTERVAL '10 seconds') GROUP BY d, window_start, window_end;"
    "CREATE MATERIALIZED VIEW hot AS SELECT d, window_start, a FROM agg WHERE a > 120;";
static const char warm_sql[] =
    "CREATE MATERIALIZED VIEW warm AS SELECT d, window_start, a, a > 110 AS very "
    "FROM agg WHERE a > 90;";
static const char warm_query[] = "SELECT * FROM warm ORDER BY d, window_start";

/* The expected rows of `warm`: a pipeline that had it from the start, over
 * the file at `path` as it is now. */
static char *fresh_warm(const char *path, uint64_t *rows)
{
    tw_engine *e = engine_new(NULL);
    exec_ok(e, source_sql(path, false));
    exec_ok(e, agg_sql);
    exec_ok(e, warm_sql);
    run_to_end(e);
    char *t = query_text(e, warm_query, rows);
    tw_engine_free(e);
    return t;
}

/* A filter view created after the input was read holds the rows of the
 * view below that pass it, at once. */
static void test_view_over_view_starts_with_its_rows(void **state)
{
    (void)state;
    const char *path = write_metrics("a.ndjson", false, 0, 600, 7);
    tw_engine *e = engine_new(NULL);
    exec_ok(e, source_sql(path, false));
    exec_ok(e, agg_sql);
    run_to_end(e);
    exec_ok(e, warm_sql);
    uint64_t got_rows, want_rows, hot_rows;
    char *got = query_text(e, warm_query, &got_rows);
    char *want = fresh_warm(path, &want_rows);
    free(query_text(e, "SELECT * FROM hot", &hot_rows));
    assert_true(want_rows > hot_rows); /* the other threshold selects other rows */
    assert_int_equal(got_rows, want_rows);
    assert_string_equal(got, want);
    free(got);
    free(want);
    tw_engine_free(e);
}

typedef struct live_case {
    const char *path;
    int ticks;
    volatile sig_atomic_t stop;
    uint64_t rows_at_create;
} live_case;

/* Runs on the pipeline thread between batches, as DDL from psql does. */
static void live_tick(void *ctx, tw_engine *e)
{
    live_case *lc = ctx;
    if (++lc->ticks == 1) {
        exec_ok(e, warm_sql);
        lc->rows_at_create = (uint64_t)tw_engine_mv_rows(e, "warm");
        /* The same windows again, with other values: averages move across
         * the thresholds both ways, so the view gets inserts, deletes and
         * update pairs for rows the backfill gave it. */
        write_metrics("b.ndjson", true, 0, 600, 99);
    } else {
        lc->stop = 1;
    }
}

/* A view created while the pipeline runs starts from the view below it,
 * then follows its changes: no row is lost or counted twice. */
static void test_backfill_then_live_changes(void **state)
{
    (void)state;
    live_case lc = {.path = write_metrics("b.ndjson", false, 0, 600, 7)};
    uint64_t before_rows;
    char *before = fresh_warm(lc.path, &before_rows);
    free(before);
    tw_engine_opts opts;
    tw_engine_opts_default(&opts);
    opts.barrier_interval_ms = 5;
    tw_engine *e = engine_new(&opts);
    exec_ok(e, source_sql(lc.path, true));
    exec_ok(e, agg_sql);
    tw_err err;
    tw_err_clear(&err);
    assert_true(tw_engine_run(e, &lc.stop, false, live_tick, &lc, &err));
    assert_int_equal(lc.rows_at_create, before_rows);
    uint64_t got_rows, want_rows;
    char *got = query_text(e, warm_query, &got_rows);
    char *want = fresh_warm(lc.path, &want_rows);
    assert_int_equal(got_rows, want_rows);
    assert_string_equal(got, want);
    tw_mv_stats st;
    tw_mv_get_stats(tw_engine_find_mv(e, "warm"), &st);
    assert_int_equal(st.missing_deletes, 0);
    assert_true(st.deletes > 0); /* the live changes did retract backfilled rows */
    free(got);
    free(want);
    tw_engine_free(e);
}

/* A window aggregate over an append-only view is fed the view's rows in
 * event-time order, so a short retention releases windows as a time-ordered
 * stream would and counts no row late. */
static void test_window_over_append_only_view_in_time_order(void **state)
{
    (void)state;
    const char *path = write_metrics("c.ndjson", false, 0, 3000, 11);
    static const char raw_sql[] =
        "CREATE MATERIALIZED VIEW raw AS SELECT d, ts, v FROM m WHERE v >= 0;";
    static const char counts_sql[] =
        "CREATE MATERIALIZED VIEW counts AS SELECT d, window_start, count(*) AS n, sum(v) AS s "
        "FROM TUMBLE(raw, ts, INTERVAL '10 seconds') GROUP BY d, window_start;";
    static const char counts_query[] = "SELECT * FROM counts ORDER BY d, window_start";
    tw_engine_opts opts;
    tw_engine_opts_default(&opts);
    opts.retention_us = INT64_C(20) * 1000000;
    tw_engine *fresh = engine_new(&opts);
    exec_ok(fresh, source_sql(path, false));
    exec_ok(fresh, raw_sql);
    exec_ok(fresh, counts_sql);
    run_to_end(fresh);
    tw_engine *e = engine_new(&opts);
    exec_ok(e, source_sql(path, false));
    exec_ok(e, raw_sql);
    run_to_end(e);
    exec_ok(e, counts_sql);
    uint64_t got_rows, want_rows;
    char *got = query_text(e, counts_query, &got_rows);
    char *want = query_text(fresh, counts_query, &want_rows);
    assert_int_equal(got_rows, 600 / 10 * 5);
    assert_int_equal(got_rows, want_rows);
    assert_string_equal(got, want);
    tw_engine_stats st;
    tw_engine_get_stats(e, &st);
    assert_int_equal(st.late_rows, 0);
    free(got);
    free(want);
    tw_engine_free(e);
    tw_engine_free(fresh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_over_view_starts_with_its_rows),
        cmocka_unit_test(test_backfill_then_live_changes),
        cmocka_unit_test(test_window_over_append_only_view_in_time_order),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

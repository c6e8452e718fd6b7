/* Unit tests for sql/parser: the seed script, expressions, statements,
 * error messages, unsupported features and robustness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sql/parser.h"

/* ---- helpers ---------------------------------------------------------------- */

static char *read_data_file(const char *name, size_t *len)
{
    const char *dir = getenv("TW_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/sql/%s", dir ? dir : "tests/data", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

typedef struct fixture {
    tw_arena arena;
    tw_sql_script script;
    tw_err err;
    char *text; /* owned when read from a file */
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    tw_arena_init(&fx->arena, 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    tw_arena_free(&fx->arena);
    free(fx->text);
    free(fx);
    return 0;
}

static bool parse(fixture *fx, const char *sql)
{
    tw_arena_reset(&fx->arena);
    tw_err_clear(&fx->err);
    return tw_sql_parse_script(sql, strlen(sql), "t.sql", &fx->arena, &fx->script, &fx->err);
}

static void parse_ok(fixture *fx, const char *sql)
{
    if (!parse(fx, sql))
        fail_msg("parse failed: %s", fx->err.msg);
}

static void parse_seed(fixture *fx)
{
    size_t len;
    fx->text = read_data_file("seed.sql", &len);
    if (!tw_sql_parse_script(fx->text, len, "seed.sql", &fx->arena, &fx->script, &fx->err))
        fail_msg("seed.sql: %s", fx->err.msg);
}

static const tw_sql_option *find_option(const tw_sql_options *opts, const char *key)
{
    for (uint32_t i = 0; i < opts->count; i++)
        if (!strcmp(opts->items[i].key, key))
            return &opts->items[i];
    fail_msg("option %s not found", key);
    return NULL;
}

/* Prints an expression as an S-expression so that tree shapes are checked
 * in one comparison. */
static void dump(const tw_sql_expr *e, char *buf, size_t size);

static void dumpf(char *buf, size_t size, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
}

static const char *unit_name(tw_sql_interval_unit u)
{
    static const char *const names[] = {"", "year", "month", "day", "hour", "minute", "second"};
    return names[u];
}

static void dump(const tw_sql_expr *e, char *buf, size_t size)
{
    switch (e->kind) {
    case TW_SQL_E_INT: dumpf(buf, size, "%lld", (long long)e->u.int_lit); break;
    case TW_SQL_E_NUMERIC: dumpf(buf, size, "numeric:%s", e->u.text); break;
    case TW_SQL_E_DECIMAL: dumpf(buf, size, "%s", e->u.decimal.text); break;
    case TW_SQL_E_STRING: dumpf(buf, size, "'%s'", e->u.text); break;
    case TW_SQL_E_BOOL: dumpf(buf, size, e->u.bool_lit ? "true" : "false"); break;
    case TW_SQL_E_NULL: dumpf(buf, size, "null"); break;
    case TW_SQL_E_INTERVAL:
        dumpf(buf, size, "interval'%s'", e->u.interval.text);
        if (e->u.interval.unit)
            dumpf(buf, size, "%s", unit_name(e->u.interval.unit));
        if (e->u.interval.to_unit)
            dumpf(buf, size, "-%s", unit_name(e->u.interval.to_unit));
        break;
    case TW_SQL_E_TYPED_LIT: {
        static const char *const names[] = {"timestamp", "timestamptz", "date"};
        dumpf(buf, size, "%s'%s'", names[e->u.typed.type], e->u.typed.text);
        break;
    }
    case TW_SQL_E_COLUMN:
        if (e->u.column.schema)
            dumpf(buf, size, "%s.", e->u.column.schema);
        if (e->u.column.table)
            dumpf(buf, size, "%s.", e->u.column.table);
        dumpf(buf, size, "%s", e->u.column.name);
        break;
    case TW_SQL_E_UNARY:
        dumpf(buf, size, "(%s ", e->u.unary.op == TW_SQL_U_NOT ? "not" : e->u.unary.op == TW_SQL_U_NEG ? "neg" : "pos");
        dump(e->u.unary.arg, buf, size);
        dumpf(buf, size, ")");
        break;
    case TW_SQL_E_BINARY:
        dumpf(buf, size, "(%s ", tw_sql_binary_op_name(e->u.binary.op));
        dump(e->u.binary.left, buf, size);
        dumpf(buf, size, " ");
        dump(e->u.binary.right, buf, size);
        dumpf(buf, size, ")");
        break;
    case TW_SQL_E_FUNC:
        dumpf(buf, size, "%s%s%s(%s", e->u.func.schema ? e->u.func.schema : "", e->u.func.schema ? "." : "",
              e->u.func.name, e->u.func.distinct ? "distinct " : e->u.func.star ? "*" : "");
        for (uint32_t i = 0; i < e->u.func.nargs; i++) {
            if (i)
                dumpf(buf, size, " ");
            dump(e->u.func.args[i], buf, size);
        }
        dumpf(buf, size, ")");
        break;
    case TW_SQL_E_CASE:
        dumpf(buf, size, "(case");
        if (e->u.case_.operand) {
            dumpf(buf, size, " ");
            dump(e->u.case_.operand, buf, size);
        }
        for (uint32_t i = 0; i < e->u.case_.nwhens; i++) {
            dumpf(buf, size, " (when ");
            dump(e->u.case_.whens[i].when, buf, size);
            dumpf(buf, size, " ");
            dump(e->u.case_.whens[i].then, buf, size);
            dumpf(buf, size, ")");
        }
        if (e->u.case_.else_expr) {
            dumpf(buf, size, " (else ");
            dump(e->u.case_.else_expr, buf, size);
            dumpf(buf, size, ")");
        }
        dumpf(buf, size, ")");
        break;
    case TW_SQL_E_CAST:
        dumpf(buf, size, "(cast ");
        dump(e->u.cast.arg, buf, size);
        dumpf(buf, size, " %s", tw_type_short_name(e->u.cast.type.type));
        if (e->u.cast.type.length >= 0)
            dumpf(buf, size, "(%d)", e->u.cast.type.length);
        dumpf(buf, size, ")");
        break;
    case TW_SQL_E_IS: {
        static const char *const what[] = {"null", "true", "false", "unknown", "distinct-from"};
        dumpf(buf, size, "(is%s-%s ", e->u.is.negated ? "-not" : "", what[e->u.is.what]);
        dump(e->u.is.arg, buf, size);
        if (e->u.is.rhs) {
            dumpf(buf, size, " ");
            dump(e->u.is.rhs, buf, size);
        }
        dumpf(buf, size, ")");
        break;
    }
    case TW_SQL_E_BETWEEN:
        dumpf(buf, size, "(%sbetween ", e->u.between.negated ? "not-" : "");
        dump(e->u.between.arg, buf, size);
        dumpf(buf, size, " ");
        dump(e->u.between.low, buf, size);
        dumpf(buf, size, " ");
        dump(e->u.between.high, buf, size);
        dumpf(buf, size, ")");
        break;
    case TW_SQL_E_IN:
        dumpf(buf, size, "(%sin ", e->u.in.negated ? "not-" : "");
        dump(e->u.in.arg, buf, size);
        for (uint32_t i = 0; i < e->u.in.nitems; i++) {
            dumpf(buf, size, " ");
            dump(e->u.in.items[i], buf, size);
        }
        dumpf(buf, size, ")");
        break;
    case TW_SQL_E_LIKE:
        dumpf(buf, size, "(%s%s ", e->u.like.negated ? "not-" : "", e->u.like.case_insensitive ? "ilike" : "like");
        dump(e->u.like.arg, buf, size);
        dumpf(buf, size, " ");
        dump(e->u.like.pattern, buf, size);
        if (e->u.like.escape) {
            dumpf(buf, size, " escape ");
            dump(e->u.like.escape, buf, size);
        }
        dumpf(buf, size, ")");
        break;
    case TW_SQL_E_EXTRACT:
        dumpf(buf, size, "(extract %s ", e->u.extract.field);
        dump(e->u.extract.arg, buf, size);
        dumpf(buf, size, ")");
        break;
    }
}

static const char *dump_expr(const tw_sql_expr *e)
{
    static char buf[4096];
    buf[0] = '\0';
    dump(e, buf, sizeof buf);
    return buf;
}

/* Parses "SELECT <expr>" and returns the dump of the expression. */
static const char *expr_of(fixture *fx, const char *expr)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT %s", expr);
    parse_ok(fx, sql);
    assert_int_equal(fx->script.nstmts, 1);
    assert_int_equal(fx->script.stmts[0].kind, TW_SQL_STMT_SELECT);
    const tw_sql_select *s = fx->script.stmts[0].u.select;
    assert_int_equal(s->nitems, 1);
    assert_int_equal(s->items[0].kind, TW_SQL_SEL_EXPR);
    return dump_expr(s->items[0].expr);
}

static void expect_error(fixture *fx, const char *sql, tw_err_code code, const char *msg)
{
    assert_false(parse(fx, sql));
    if (fx->err.code != code || strcmp(fx->err.msg, msg) != 0)
        fail_msg("for %s\nexpected code %d:\n%s\ngot code %d:\n%s", sql, code, msg, fx->err.code, fx->err.msg);
}

/* The first line of the error message (FILE:LINE:COL: error: MESSAGE). */
static const char *first_line(const tw_err *err)
{
    static char buf[1024];
    size_t n = strcspn(err->msg, "\n");
    memcpy(buf, err->msg, n);
    buf[n] = '\0';
    return buf;
}

static void expect_unsupported(fixture *fx, const char *sql, const char *feature)
{
    assert_false(parse(fx, sql));
    if (fx->err.code != TW_ERR_UNSUPPORTED || !strstr(fx->err.msg, feature) ||
        !strstr(fx->err.msg, "is not supported yet"))
        fail_msg("for %s\nexpected unsupported '%s', got code %d:\n%s", sql, feature, fx->err.code, fx->err.msg);
}

static char *stmt_text(const fixture *fx, uint32_t i)
{
    static char buf[4096];
    const tw_sql_stmt *st = &fx->script.stmts[i];
    size_t n = st->end - st->start;
    memcpy(buf, fx->script.text + st->start, n);
    buf[n] = '\0';
    return buf;
}

/* ---- the seed script ------------------------------------------------------ */

static void test_seed_statement_kinds(void **state)
{
    fixture *fx = *state;
    parse_seed(fx);
    assert_int_equal(fx->script.nstmts, 10);
    const tw_sql_object_kind drops[] = {TW_SQL_OBJ_SINK, TW_SQL_OBJ_CONNECTION, TW_SQL_OBJ_MATERIALIZED_VIEW,
                                        TW_SQL_OBJ_MATERIALIZED_VIEW, TW_SQL_OBJ_SOURCE};
    const char *drop_names[] = {"sink_network_anomalies", "iceberg_minio_conn", "network_anomalies",
                                "device_metrics_10s", "network_metrics_source"};
    for (int i = 0; i < 5; i++) {
        const tw_sql_stmt *st = &fx->script.stmts[i];
        assert_int_equal(st->kind, TW_SQL_STMT_DROP);
        assert_int_equal(st->u.drop->object, drops[i]);
        assert_true(st->u.drop->if_exists);
        assert_false(st->u.drop->cascade);
        assert_null(st->u.drop->name.schema);
        assert_string_equal(st->u.drop->name.name, drop_names[i]);
    }
    assert_int_equal(fx->script.stmts[5].kind, TW_SQL_STMT_CREATE_SOURCE);
    assert_string_equal(fx->script.stmts[5].u.create_source->name.name, "network_metrics_source");
    assert_int_equal(fx->script.stmts[6].kind, TW_SQL_STMT_CREATE_MV);
    assert_string_equal(fx->script.stmts[6].u.create_mv->name.name, "device_metrics_10s");
    assert_int_equal(fx->script.stmts[7].kind, TW_SQL_STMT_CREATE_MV);
    assert_string_equal(fx->script.stmts[7].u.create_mv->name.name, "network_anomalies");
    assert_int_equal(fx->script.stmts[8].kind, TW_SQL_STMT_CREATE_CONNECTION);
    assert_string_equal(fx->script.stmts[8].u.create_connection->name.name, "iceberg_minio_conn");
    assert_int_equal(fx->script.stmts[9].kind, TW_SQL_STMT_CREATE_SINK);
    assert_string_equal(fx->script.stmts[9].u.create_sink->name.name, "sink_network_anomalies");
}

static void test_seed_statement_spans(void **state)
{
    fixture *fx = *state;
    parse_seed(fx);
    assert_string_equal(stmt_text(fx, 0), "DROP SINK IF EXISTS sink_network_anomalies");
    assert_string_equal(stmt_text(fx, 4), "DROP SOURCE IF EXISTS network_metrics_source");
    /* The comment before CREATE CONNECTION is not part of the statement. */
    assert_true(!strncmp(stmt_text(fx, 8), "CREATE CONNECTION iceberg_minio_conn WITH (", 43));
    const char *sink = stmt_text(fx, 9);
    assert_true(!strncmp(sink, "CREATE SINK sink_network_anomalies\nFROM", 39));
    assert_int_equal(sink[strlen(sink) - 1], ')');
    const tw_sql_create_mv *mv = fx->script.stmts[6].u.create_mv;
    assert_true(!strncmp(fx->text + mv->select_start, "SELECT\n", 7));
    assert_int_equal(fx->text[mv->select_end], ';');
    assert_true(!strncmp(fx->text + mv->select_end - 10, "window_end", 10));
}

static void test_seed_source(void **state)
{
    fixture *fx = *state;
    parse_seed(fx);
    const tw_sql_create_source *cs = fx->script.stmts[5].u.create_source;
    assert_false(cs->is_table);
    assert_false(cs->if_not_exists);
    assert_int_equal(cs->ncolumns, 9);
    const char *names[] = {"device_id", "timestamp", "src_ip", "dst_ip", "protocol", "latency_ms",
                           "packet_loss_rate", "bandwidth_usage_percent", "flow_bytes"};
    const tw_type types[] = {TW_T_VARCHAR, TW_T_TIMESTAMP, TW_T_VARCHAR, TW_T_VARCHAR, TW_T_VARCHAR,
                             TW_T_FLOAT64, TW_T_FLOAT64, TW_T_FLOAT64, TW_T_INT64};
    for (int i = 0; i < 9; i++) {
        assert_string_equal(cs->columns[i].name, names[i]);
        assert_int_equal(cs->columns[i].type.type, types[i]);
        assert_false(cs->columns[i].not_null);
    }
    assert_null(cs->watermark);
    assert_int_equal(cs->with.count, 4);
    const tw_sql_option *bs = find_option(&cs->with, "properties.bootstrap.server");
    assert_string_equal(bs->value, "localhost:9092");
    assert_int_equal(bs->kind, TW_SQL_VAL_STRING);
    assert_string_equal(find_option(&cs->with, "connector")->value, "kafka");
    assert_string_equal(find_option(&cs->with, "scan.startup.mode")->value, "earliest");
    assert_true(cs->format.present);
    assert_string_equal(cs->format.format, "plain");
    assert_string_equal(cs->format.encode, "json");
    assert_int_equal(cs->format.options.count, 0);
    /* loc points at the column name in the text */
    assert_true(!strncmp(fx->text + cs->columns[1].loc, "timestamp TIMESTAMP", 19));
}

static void test_seed_tumble_view(void **state)
{
    fixture *fx = *state;
    parse_seed(fx);
    const tw_sql_select *s = fx->script.stmts[6].u.create_mv->select;
    assert_int_equal(s->nitems, 7);
    assert_string_equal(dump_expr(s->items[0].expr), "device_id");
    assert_null(s->items[0].alias);
    assert_string_equal(dump_expr(s->items[3].expr), "avg(latency_ms)");
    assert_string_equal(s->items[3].alias, "avg_latency_ms");
    assert_string_equal(dump_expr(s->items[6].expr), "sum(flow_bytes)");
    assert_string_equal(s->items[6].alias, "total_flow_bytes");
    assert_non_null(s->from);
    assert_int_equal(s->from->kind, TW_SQL_FROM_TUMBLE);
    assert_string_equal(s->from->rel.name, "network_metrics_source");
    assert_string_equal(dump_expr(s->from->time_col), "timestamp");
    assert_string_equal(dump_expr(s->from->size), "interval'10 seconds'");
    assert_null(s->from->offset);
    assert_null(s->from->alias);
    assert_int_equal(s->ngroup_by, 3);
    assert_string_equal(dump_expr(s->group_by[2]), "window_end");
    assert_null(s->where);
    assert_false(s->emit_on_window_close);
}

static void test_seed_anomaly_view(void **state)
{
    fixture *fx = *state;
    parse_seed(fx);
    const tw_sql_select *s = fx->script.stmts[7].u.create_mv->select;
    assert_int_equal(s->nitems, 9);
    assert_string_equal(dump_expr(s->items[6].expr), "(> avg_latency_ms 100)");
    assert_string_equal(s->items[6].alias, "is_high_latency");
    assert_string_equal(s->items[8].alias, "is_bandwidth_saturation");
    assert_int_equal(s->from->kind, TW_SQL_FROM_REL);
    assert_string_equal(s->from->rel.name, "device_metrics_10s");
    assert_string_equal(dump_expr(s->where),
                        "(OR (OR (> avg_latency_ms 100) (> avg_packet_loss_rate 5)) (> avg_bandwidth_usage 90))");
}

static void test_seed_connection_and_sink(void **state)
{
    fixture *fx = *state;
    parse_seed(fx);
    const tw_sql_create_connection *c = fx->script.stmts[8].u.create_connection;
    assert_int_equal(c->with.count, 9);
    assert_string_equal(find_option(&c->with, "type")->value, "iceberg");
    assert_string_equal(find_option(&c->with, "catalog.uri")->value, "<http://localhost:8181/catalog>");
    assert_string_equal(find_option(&c->with, "s3.path.style.access")->value, "true");
    assert_int_equal(find_option(&c->with, "s3.path.style.access")->kind, TW_SQL_VAL_STRING);

    const tw_sql_create_sink *sk = fx->script.stmts[9].u.create_sink;
    assert_true(sk->has_from);
    assert_string_equal(sk->from.name, "network_anomalies");
    assert_null(sk->select);
    assert_int_equal(sk->with.count, 7);
    const tw_sql_option *conn = find_option(&sk->with, "connection");
    assert_int_equal(conn->kind, TW_SQL_VAL_IDENT);
    assert_string_equal(conn->value, "public.iceberg_minio_conn");
    assert_string_equal(find_option(&sk->with, "table.name")->value, "network_anomalies_history");
    assert_string_equal(find_option(&sk->with, "type")->value, "append-only");
    assert_false(sk->format.present);
}

static void test_connection_with_plain_urls(void **state)
{
    fixture *fx = *state;
    size_t len;
    fx->text = read_data_file("connection_plain.sql", &len);
    if (!tw_sql_parse_script(fx->text, len, "connection_plain.sql", &fx->arena, &fx->script, &fx->err))
        fail_msg("%s", fx->err.msg);
    assert_int_equal(fx->script.nstmts, 1);
    const tw_sql_create_connection *c = fx->script.stmts[0].u.create_connection;
    assert_string_equal(find_option(&c->with, "catalog.uri")->value, "http://localhost:8181/catalog");
    assert_string_equal(find_option(&c->with, "s3.endpoint")->value, "http://localhost:9000");
}

/* ---- statements ------------------------------------------------------------- */

static void test_watermark_hop_emit(void **state)
{
    fixture *fx = *state;
    parse_ok(fx, "CREATE SOURCE IF NOT EXISTS s (ts TIMESTAMP NOT NULL, v DOUBLE PRECISION, "
                 "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH (connector = 'netsim');\n"
                 "CREATE MATERIALIZED VIEW m AS SELECT window_start, count(*) AS n "
                 "FROM HOP(s, ts, INTERVAL '5 seconds', INTERVAL '1 minute') AS h "
                 "GROUP BY window_start EMIT ON WINDOW CLOSE;");
    assert_int_equal(fx->script.nstmts, 2);
    const tw_sql_create_source *cs = fx->script.stmts[0].u.create_source;
    assert_true(cs->if_not_exists);
    assert_int_equal(cs->ncolumns, 2);
    assert_true(cs->columns[0].not_null);
    assert_int_equal(cs->columns[1].type.type, TW_T_FLOAT64);
    assert_non_null(cs->watermark);
    assert_string_equal(cs->watermark->column, "ts");
    assert_string_equal(dump_expr(cs->watermark->expr), "(- ts interval'5'second)");
    assert_false(cs->format.present);

    const tw_sql_select *s = fx->script.stmts[1].u.create_mv->select;
    assert_int_equal(s->from->kind, TW_SQL_FROM_HOP);
    assert_string_equal(dump_expr(s->from->hop), "interval'5 seconds'");
    assert_string_equal(dump_expr(s->from->size), "interval'1 minute'");
    assert_null(s->from->offset);
    assert_string_equal(s->from->alias, "h");
    assert_string_equal(dump_expr(s->items[1].expr), "count(*)");
    assert_true(s->emit_on_window_close);
}

static void test_create_table_and_source_forms(void **state)
{
    fixture *fx = *state;
    parse_ok(fx, "CREATE TABLE public.t (id INT PRIMARY KEY, name VARCHAR(20), PRIMARY KEY (id, name));"
                 "CREATE SOURCE s2 WITH (connector = 'kafka', topic = 't') FORMAT PLAIN ENCODE JSON "
                 "(timestamptz.handling.mode = 'micro', \"Quoted\".x = 1);"
                 "CREATE TABLE t3 (a INT, b INT NULL);");
    const tw_sql_create_source *t = fx->script.stmts[0].u.create_source;
    assert_true(t->is_table);
    assert_string_equal(t->name.schema, "public");
    assert_string_equal(t->name.name, "t");
    assert_true(t->columns[0].primary_key);
    assert_int_equal(t->columns[1].type.length, 20);
    assert_int_equal(t->nprimary_key, 2);
    assert_string_equal(t->primary_key[1], "name");
    const tw_sql_create_source *s2 = fx->script.stmts[1].u.create_source;
    assert_int_equal(s2->ncolumns, 0);
    assert_int_equal(s2->with.count, 2);
    assert_int_equal(s2->format.options.count, 2);
    assert_string_equal(s2->format.options.items[0].key, "timestamptz.handling.mode");
    assert_string_equal(s2->format.options.items[1].key, "quoted.x");
    assert_int_equal(s2->format.options.items[1].kind, TW_SQL_VAL_NUMBER);
    assert_false(fx->script.stmts[2].u.create_source->columns[1].not_null);
}

static void test_option_values(void **state)
{
    fixture *fx = *state;
    parse_ok(fx, "CREATE CONNECTION c WITH ('Quoted.Key' = -1.5, flag = TRUE, n = 42, x = Foo.Bar, "
                 "e = E'a\\tb', q = 'it''s')");
    const tw_sql_options *o = &fx->script.stmts[0].u.create_connection->with;
    assert_string_equal(o->items[0].key, "quoted.key");
    assert_string_equal(o->items[0].value, "-1.5");
    assert_int_equal(o->items[0].kind, TW_SQL_VAL_NUMBER);
    assert_int_equal(o->items[1].kind, TW_SQL_VAL_BOOL);
    assert_string_equal(o->items[1].value, "true");
    assert_string_equal(o->items[2].value, "42");
    assert_int_equal(o->items[3].kind, TW_SQL_VAL_IDENT);
    assert_string_equal(o->items[3].value, "foo.bar");
    assert_string_equal(o->items[4].value, "a\tb");
    assert_string_equal(o->items[5].value, "it's");
}

static void test_sink_as_select(void **state)
{
    fixture *fx = *state;
    parse_ok(fx, "CREATE SINK IF NOT EXISTS k AS SELECT a, b FROM m WHERE a > 1 WITH (connector = 'iceberg') "
                 "FORMAT UPSERT ENCODE JSON");
    const tw_sql_create_sink *sk = fx->script.stmts[0].u.create_sink;
    assert_true(sk->if_not_exists);
    assert_false(sk->has_from);
    assert_non_null(sk->select);
    assert_int_equal(sk->select->nitems, 2);
    assert_string_equal(dump_expr(sk->select->where), "(> a 1)");
    assert_int_equal(sk->with.count, 1);
    assert_string_equal(sk->format.format, "upsert");
}

static void test_drop_show_describe_set(void **state)
{
    fixture *fx = *state;
    parse_ok(fx, "DROP TABLE t CASCADE; DROP VIEW v RESTRICT; DROP MATERIALIZED VIEW s.m;"
                 "SHOW SOURCES; SHOW MATERIALIZED VIEWS; SHOW SINKS; SHOW CONNECTIONS; SHOW TABLES;"
                 "SHOW streaming_parallelism; DESCRIBE public.network_anomalies;"
                 "SET timezone = 'UTC'; SET rw.x TO 4; SET TIME ZONE 'Europe/Paris'; SET a = DEFAULT");
    assert_int_equal(fx->script.nstmts, 14);
    const tw_sql_stmt *st = fx->script.stmts;
    assert_int_equal(st[0].u.drop->object, TW_SQL_OBJ_TABLE);
    assert_true(st[0].u.drop->cascade);
    assert_int_equal(st[1].u.drop->object, TW_SQL_OBJ_VIEW);
    assert_false(st[1].u.drop->if_exists);
    assert_string_equal(st[2].u.drop->name.schema, "s");
    assert_int_equal(st[3].u.show->what, TW_SQL_SHOW_SOURCES);
    assert_int_equal(st[4].u.show->what, TW_SQL_SHOW_MATERIALIZED_VIEWS);
    assert_int_equal(st[5].u.show->what, TW_SQL_SHOW_SINKS);
    assert_int_equal(st[6].u.show->what, TW_SQL_SHOW_CONNECTIONS);
    assert_int_equal(st[7].u.show->what, TW_SQL_SHOW_TABLES);
    assert_int_equal(st[8].u.show->what, TW_SQL_SHOW_PARAM);
    assert_string_equal(st[8].u.show->param, "streaming_parallelism");
    assert_int_equal(st[9].kind, TW_SQL_STMT_DESCRIBE);
    assert_string_equal(st[9].u.describe->name.schema, "public");
    assert_string_equal(st[10].u.set->name, "timezone");
    assert_string_equal(st[10].u.set->value, "UTC");
    assert_string_equal(st[11].u.set->name, "rw.x");
    assert_int_equal(st[11].u.set->kind, TW_SQL_VAL_NUMBER);
    assert_string_equal(st[12].u.set->name, "timezone");
    assert_string_equal(st[12].u.set->value, "Europe/Paris");
    assert_int_equal(st[13].u.set->kind, TW_SQL_VAL_IDENT);
    assert_string_equal(st[13].u.set->value, "default");
}

static void test_batch_select_clauses(void **state)
{
    fixture *fx = *state;
    parse_ok(fx, "SELECT t.*, *, device_id d FROM public.network_anomalies AS t WHERE is_high_latency "
                 "GROUP BY 1 HAVING count(*) > 1 ORDER BY window_start DESC NULLS LAST, 2, d ASC "
                 "LIMIT 15 OFFSET 30");
    const tw_sql_select *s = fx->script.stmts[0].u.select;
    assert_int_equal(s->nitems, 3);
    assert_int_equal(s->items[0].kind, TW_SQL_SEL_QUAL_STAR);
    assert_string_equal(s->items[0].qualifier, "t");
    assert_int_equal(s->items[1].kind, TW_SQL_SEL_STAR);
    assert_string_equal(s->items[2].alias, "d");
    assert_string_equal(s->from->rel.schema, "public");
    assert_string_equal(s->from->alias, "t");
    assert_string_equal(dump_expr(s->group_by[0]), "1");
    assert_string_equal(dump_expr(s->having), "(> count(*) 1)");
    assert_int_equal(s->norder_by, 3);
    assert_true(s->order_by[0].desc);
    assert_int_equal(s->order_by[0].nulls, TW_SQL_NULLS_LAST);
    assert_string_equal(dump_expr(s->order_by[1].expr), "2");
    assert_false(s->order_by[2].desc);
    assert_true(s->has_limit);
    assert_int_equal(s->limit, 15);
    assert_true(s->has_offset);
    assert_int_equal(s->offset, 30);
}

static void test_select_without_from(void **state)
{
    fixture *fx = *state;
    parse_ok(fx, "SELECT 1+1; ;; select 2 LIMIT ALL");
    assert_int_equal(fx->script.nstmts, 2);
    assert_null(fx->script.stmts[0].u.select->from);
    assert_string_equal(dump_expr(fx->script.stmts[0].u.select->items[0].expr), "(+ 1 1)");
    assert_false(fx->script.stmts[1].u.select->has_limit);
    assert_string_equal(stmt_text(fx, 1), "select 2 LIMIT ALL");
}

static void test_empty_script(void **state)
{
    fixture *fx = *state;
    parse_ok(fx, "  -- nothing here\n ; /* still /* nothing */ */ ;");
    assert_int_equal(fx->script.nstmts, 0);
}

/* ---- expressions ------------------------------------------------------------ */

static void test_precedence(void **state)
{
    fixture *fx = *state;
    assert_string_equal(expr_of(fx, "1 + 2 * 3 - 4 / 5 % 6"), "(- (+ 1 (* 2 3)) (% (/ 4 5) 6))");
    assert_string_equal(expr_of(fx, "a OR b AND NOT c = d"), "(OR a (AND b (not (= c d))))");
    assert_string_equal(expr_of(fx, "-a::int * +b"), "(* (neg (cast a integer)) (pos b))");
    assert_string_equal(expr_of(fx, "a || b = 'x' || 'y'"), "(= (|| a b) (|| 'x' 'y'))");
    assert_string_equal(expr_of(fx, "x = 1 IS NULL"), "(is-null (= x 1))");
    assert_string_equal(expr_of(fx, "a <> b AND c != d AND e <= f AND g >= h AND i < j"),
                        "(AND (AND (AND (AND (<> a b) (<> c d)) (<= e f)) (>= g h)) (< i j))");
    assert_string_equal(expr_of(fx, "a + 1 BETWEEN 2 AND 3 AND b"), "(AND (between (+ a 1) 2 3) b)");
    assert_string_equal(expr_of(fx, "(a OR b) AND c"), "(AND (OR a b) c)");
    assert_string_equal(expr_of(fx, "a<-1"), "(< a (neg 1))");
}

static void test_predicates(void **state)
{
    fixture *fx = *state;
    assert_string_equal(expr_of(fx, "x IN (1, 2, 3)"), "(in x 1 2 3)");
    assert_string_equal(expr_of(fx, "x NOT IN ('a')"), "(not-in x 'a')");
    assert_string_equal(expr_of(fx, "x NOT BETWEEN 1 AND 2"), "(not-between x 1 2)");
    assert_string_equal(expr_of(fx, "x IS NOT NULL"), "(is-not-null x)");
    assert_string_equal(expr_of(fx, "x ISNULL"), "(is-null x)");
    assert_string_equal(expr_of(fx, "x IS TRUE"), "(is-true x)");
    assert_string_equal(expr_of(fx, "x IS NOT FALSE"), "(is-not-false x)");
    assert_string_equal(expr_of(fx, "x IS DISTINCT FROM y + 1"), "(is-distinct-from x (+ y 1))");
    assert_string_equal(expr_of(fx, "x IS NOT DISTINCT FROM y"), "(is-not-distinct-from x y)");
    assert_string_equal(expr_of(fx, "d LIKE 'sw%'"), "(like d 'sw%')");
    assert_string_equal(expr_of(fx, "d NOT ILIKE 'R%' ESCAPE '!'"), "(not-ilike d 'R%' escape '!')");
}

static void test_case_cast_functions(void **state)
{
    fixture *fx = *state;
    assert_string_equal(expr_of(fx, "CASE WHEN a > 1 THEN 'hi' WHEN a > 0 THEN 'lo' ELSE NULL END"),
                        "(case (when (> a 1) 'hi') (when (> a 0) 'lo') (else null))");
    assert_string_equal(expr_of(fx, "CASE a WHEN 1 THEN true END"), "(case a (when 1 true))");
    assert_string_equal(expr_of(fx, "CAST(a AS VARCHAR(10))"), "(cast a varchar(10))");
    assert_string_equal(expr_of(fx, "'1.5'::float::bigint"), "(cast (cast '1.5' double) bigint)");
    assert_string_equal(expr_of(fx, "count(DISTINCT device_id)"), "count(distinct device_id)");
    assert_string_equal(expr_of(fx, "coalesce(a, 0, round(b, 2))"), "coalesce(a 0 round(b 2))");
    assert_string_equal(expr_of(fx, "pg_catalog.lower(x)"), "pg_catalog.lower(x)");
    assert_string_equal(expr_of(fx, "now()"), "now()");
    assert_string_equal(expr_of(fx, "left('abc', 2)"), "left('abc' 2)");
    assert_string_equal(expr_of(fx, "EXTRACT(EPOCH FROM ts)"), "(extract epoch ts)");
    assert_string_equal(expr_of(fx, "current_timestamp"), "current_timestamp()");
}

static void test_literals(void **state)
{
    fixture *fx = *state;
    assert_string_equal(expr_of(fx, "9223372036854775807"), "9223372036854775807");
    assert_string_equal(expr_of(fx, "9223372036854775808"), "numeric:9223372036854775808");
    assert_string_equal(expr_of(fx, "1.50"), "1.50");
    parse_ok(fx, "SELECT 2.5e3, .5");
    assert_true(fx->script.stmts[0].u.select->items[0].expr->u.decimal.value == 2500.0);
    assert_true(fx->script.stmts[0].u.select->items[1].expr->u.decimal.value == 0.5);
    assert_string_equal(expr_of(fx, "'it''s'"), "'it's'");
    assert_string_equal(expr_of(fx, "E'a\\'b\\n'"), "'a'b\n'");
    assert_string_equal(expr_of(fx, "INTERVAL '1' HOUR"), "interval'1'hour");
    assert_string_equal(expr_of(fx, "INTERVAL '1:30' HOUR TO MINUTE"), "interval'1:30'hour-minute");
    assert_string_equal(expr_of(fx, "TIMESTAMP '2026-01-27 20:47:13'"), "timestamp'2026-01-27 20:47:13'");
    assert_string_equal(expr_of(fx, "TIMESTAMPTZ '2026-01-27T20:47:13Z'"), "timestamptz'2026-01-27T20:47:13Z'");
    assert_string_equal(expr_of(fx, "DATE '2026-01-27'"), "date'2026-01-27'");
    assert_string_equal(expr_of(fx, "TRUE AND FALSE"), "(AND true false)");
}

static void test_identifiers(void **state)
{
    fixture *fx = *state;
    assert_string_equal(expr_of(fx, "\"Device \"\"ID\"\"\""), "Device \"ID\"");
    assert_string_equal(expr_of(fx, "T.Timestamp"), "t.timestamp");
    assert_string_equal(expr_of(fx, "s.\"T\".a"), "s.T.a");
    assert_string_equal(expr_of(fx, "interval"), "interval");
    assert_string_equal(expr_of(fx, "type + window_start"), "(+ type window_start)");
    parse_ok(fx, "SELECT \"from\" AS \"Select\" FROM \"My Table\"");
    const tw_sql_select *s = fx->script.stmts[0].u.select;
    assert_string_equal(s->items[0].alias, "Select");
    assert_string_equal(s->from->rel.name, "My Table");
    /* any word, even reserved, is an alias after AS */
    parse_ok(fx, "SELECT a AS from FROM t");
    assert_string_equal(fx->script.stmts[0].u.select->items[0].alias, "from");
}

static void test_comments(void **state)
{
    fixture *fx = *state;
    parse_ok(fx, "-- leading\nSELECT /* a /* nested */ comment */ a -- trailing\n + /**/ b\n-- end");
    assert_string_equal(dump_expr(fx->script.stmts[0].u.select->items[0].expr), "(+ a b)");
    assert_string_equal(stmt_text(fx, 0), "SELECT /* a /* nested */ comment */ a -- trailing\n + /**/ b");
}

static void test_types(void **state)
{
    fixture *fx = *state;
    static const struct {
        const char *name;
        tw_type type;
    } cases[] = {
        {"varchar", TW_T_VARCHAR},        {"character varying", TW_T_VARCHAR},
        {"text", TW_T_VARCHAR},           {"string", TW_T_VARCHAR},
        {"boolean", TW_T_BOOL},           {"bool", TW_T_BOOL},
        {"smallint", TW_T_INT16},         {"int2", TW_T_INT16},
        {"int", TW_T_INT32},              {"integer", TW_T_INT32},
        {"int4", TW_T_INT32},             {"bigint", TW_T_INT64},
        {"int8", TW_T_INT64},             {"real", TW_T_FLOAT32},
        {"float4", TW_T_FLOAT32},         {"float", TW_T_FLOAT64},
        {"float(24)", TW_T_FLOAT32},      {"float(25)", TW_T_FLOAT64},
        {"float8", TW_T_FLOAT64},         {"double precision", TW_T_FLOAT64},
        {"double", TW_T_FLOAT64},         {"timestamp", TW_T_TIMESTAMP},
        {"timestamp without time zone", TW_T_TIMESTAMP},
        {"timestamp with time zone", TW_T_TIMESTAMPTZ},
        {"timestamptz", TW_T_TIMESTAMPTZ}, {"interval", TW_T_INTERVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "CREATE TABLE t (c %s)", cases[i].name);
        parse_ok(fx, sql);
        if (fx->script.stmts[0].u.create_source->columns[0].type.type != cases[i].type)
            fail_msg("%s mapped to %d", cases[i].name, fx->script.stmts[0].u.create_source->columns[0].type.type);
    }
}

/* ---- errors ----------------------------------------------------------------- */

static void test_error_format(void **state)
{
    fixture *fx = *state;
    expect_error(fx, "CREATE SOURCE s (\n  a INT\n  WITH (x = 1)", TW_ERR_SYNTAX,
                 "t.sql:3:3: error: expected ')' after the column list, found 'WITH'\n"
                 "    WITH (x = 1)\n"
                 "    ^");
    expect_error(fx, "SELECT a +\n", TW_ERR_SYNTAX,
                 "t.sql:1:11: error: expected an expression, found end of input\n"
                 "  SELECT a +\n"
                 "            ^");
    expect_error(fx, "SELECT 1;\nSELECT 'abc", TW_ERR_SYNTAX,
                 "t.sql:2:8: error: unterminated string literal\n"
                 "  SELECT 'abc\n"
                 "         ^");
    expect_error(fx, "CREATE TABLE t (a VARCHR)", TW_ERR_SYNTAX,
                 "t.sql:1:19: error: unknown type 'VARCHR'\n"
                 "  CREATE TABLE t (a VARCHR)\n"
                 "                    ^");
    expect_error(fx, "SELECT a FROM t x y", TW_ERR_SYNTAX,
                 "t.sql:1:19: error: expected ';' or end of input after the statement, found 'y'\n"
                 "  SELECT a FROM t x y\n"
                 "                    ^");
    expect_error(fx, "/* open", TW_ERR_SYNTAX,
                 "t.sql:1:1: error: unterminated block comment\n"
                 "  /* open\n"
                 "  ^");
}

static void test_error_caret_after_tab_and_utf8(void **state)
{
    fixture *fx = *state;
    expect_error(fx, "SELECT\t'é' ||| x", TW_ERR_UNSUPPORTED,
                 "t.sql:1:12: error: operator '|||' is not supported yet\n"
                 "  SELECT\t'é' ||| x\n"
                 "        \t    ^");
    expect_error(fx, "SELECT '日本' AS \"名\",\n\t\t1 + ) 2", TW_ERR_SYNTAX,
                 "t.sql:2:7: error: expected an expression, found ')'\n"
                 "  \t\t1 + ) 2\n"
                 "  \t\t    ^");
    expect_error(fx, "SELECT '日本', 名 名 x", TW_ERR_SYNTAX,
                 "t.sql:1:18: error: expected ';' or end of input after the statement, found 'x'\n"
                 "  SELECT '日本', 名 名 x\n"
                 "                   ^");
}

static void test_syntax_errors_found(void **state)
{
    fixture *fx = *state;
    assert_false(parse(fx, "SELEC 1"));
    assert_int_equal(fx->err.code, TW_ERR_SYNTAX);
    assert_string_equal(first_line(&fx->err),
                        "t.sql:1:1: error: expected a statement (CREATE, DROP, SELECT, SHOW, DESCRIBE or SET), found 'SELEC'");
    assert_false(parse(fx, "CREATE SOURCE s (a INT) WITH (connector 'kafka')"));
    assert_string_equal(first_line(&fx->err),
                        "t.sql:1:41: error: expected '=' after the option name, found string literal 'kafka'");
    assert_false(parse(fx, "SELECT CASE END"));
    assert_string_equal(first_line(&fx->err), "t.sql:1:13: error: expected an expression, found 'END'");
    assert_false(parse(fx, "SELECT a FROM TUMBLE(s, ts)"));
    assert_string_equal(first_line(&fx->err),
                        "t.sql:1:27: error: expected ',' and the window size in TUMBLE, found ')'");
    assert_false(parse(fx, "SELECT 12abc"));
    assert_string_equal(first_line(&fx->err), "t.sql:1:8: error: trailing junk after numeric literal");
    assert_false(parse(fx, "SELECT a FROM t LIMIT -1"));
    assert_int_equal(fx->err.code, TW_ERR_SYNTAX);
    assert_false(parse(fx, "SELECT \"\""));
    assert_int_equal(fx->err.code, TW_ERR_SYNTAX);
    assert_false(parse(fx, "SELECT a b c"));
    assert_int_equal(fx->err.code, TW_ERR_SYNTAX);
}

static void test_first_error_wins(void **state)
{
    fixture *fx = *state;
    /* The syntax error in statement 1 is reported, not the lexical error after it. */
    assert_false(parse(fx, "SELECT FROM;\nSELECT 'unterminated"));
    assert_string_equal(first_line(&fx->err), "t.sql:1:8: error: expected an expression, found 'FROM'");
}

static void test_unsupported_features(void **state)
{
    fixture *fx = *state;
    static const struct {
        const char *sql;
        const char *feature;
    } cases[] = {
        {"INSERT INTO t VALUES (1)", "INSERT"},
        {"UPDATE t SET a = 1", "UPDATE"},
        {"DELETE FROM t", "DELETE"},
        {"ALTER TABLE t ADD COLUMN b INT", "ALTER"},
        {"EXPLAIN SELECT 1", "EXPLAIN"},
        {"CREATE VIEW v AS SELECT 1", "CREATE VIEW"},
        {"CREATE INDEX i ON t (a)", "CREATE INDEX"},
        {"CREATE FUNCTION f() RETURNS INT LANGUAGE sql AS $$ select 1 $$", "CREATE FUNCTION"},
        {"DROP INDEX i", "DROP INDEX"},
        {"SELECT a FROM t JOIN u ON t.a = u.a", "JOIN"},
        {"SELECT a FROM t LEFT JOIN u ON true", "JOIN"},
        {"SELECT a FROM t, u", "JOIN"},
        {"SELECT a FROM (SELECT 1) x", "subqueries in FROM"},
        {"SELECT a FROM t WHERE a IN (SELECT b FROM u)", "subqueries"},
        {"SELECT row_number() OVER (PARTITION BY a) FROM t", "window functions (OVER)"},
        {"SELECT 1 UNION SELECT 2", "UNION"},
        {"SELECT DISTINCT ON (a) a FROM t", "DISTINCT ON"},
        {"SELECT DISTINCT a FROM t", "SELECT DISTINCT"},
        {"WITH x AS (SELECT 1) SELECT * FROM x", "WITH (common table expressions)"},
        {"CREATE TABLE t (a DECIMAL)", "type DECIMAL"},
        {"CREATE TABLE t (a date)", "type date"},
        {"CREATE TABLE t (a JSONB)", "type JSONB"},
        {"CREATE TABLE t (a INT[])", "array types"},
        {"CREATE SOURCE s (a INT) INCLUDE key AS k WITH (connector = 'kafka')", "INCLUDE"},
        {"SELECT a[1] FROM t", "array subscripts"},
        {"SELECT $1", "query parameters"},
        {"SELECT a FROM generate_series(1, 3)", "table functions in FROM"},
        {"SELECT sum(a) FILTER (WHERE a > 0) FROM t", "aggregate FILTER"},
        {"SELECT a ~ 'x' FROM t", "operator '~'"},
        {"SELECT a FROM t WINDOW w AS (PARTITION BY a)", "WINDOW clause"},
        {"CREATE OR REPLACE MATERIALIZED VIEW m AS SELECT 1", "CREATE OR REPLACE"},
        {"SHOW CREATE TABLE t", "SHOW CREATE"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_unsupported(fx, cases[i].sql, cases[i].feature);
}

static void test_nesting_limit(void **state)
{
    fixture *fx = *state;
    enum { DEPTH = 5000 };
    char *sql = malloc(DEPTH * 2 + 16);
    strcpy(sql, "SELECT ");
    size_t n = strlen(sql);
    memset(sql + n, '(', DEPTH);
    sql[n + DEPTH] = '1';
    memset(sql + n + DEPTH + 1, ')', DEPTH);
    sql[n + 2 * DEPTH + 1] = '\0';
    assert_false(parse(fx, sql));
    assert_int_equal(fx->err.code, TW_ERR_SYNTAX);
    assert_non_null(strstr(fx->err.msg, "expression too deeply nested"));
    /* Deep but allowed nesting still parses. */
    sql[n + 500] = '\0';
    memset(sql + n, '(', 500);
    strcat(sql, "1");
    memset(sql + strlen(sql), ')', 500);
    sql[n + 1001] = '\0';
    parse_ok(fx, sql);
    free(sql);
    /* Unary chains count too ("- " because "--" starts a comment). */
    sql = malloc(DEPTH * 6 + 16);
    strcpy(sql, "SELECT ");
    for (int i = 0; i < DEPTH; i++)
        strcat(sql + n + 2 * i, i % 2 ? "- " : "+ ");
    for (int i = 0; i < DEPTH; i++)
        strcat(sql + n + 2 * DEPTH + 4 * i, "NOT ");
    strcat(sql, "1");
    assert_false(parse(fx, sql));
    assert_non_null(strstr(fx->err.msg, "expression too deeply nested"));
    strcpy(sql, "SELECT ");
    for (int i = 0; i < DEPTH; i++)
        strcat(sql + n + 4 * i, "NOT ");
    strcat(sql, "TRUE");
    assert_false(parse(fx, sql));
    assert_non_null(strstr(fx->err.msg, "expression too deeply nested"));
    free(sql);
}

/* Small deterministic PRNG (xorshift64*) so failures reproduce. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static void test_mutations_never_crash(void **state)
{
    fixture *fx = *state;
    size_t len;
    fx->text = read_data_file("seed.sql", &len);
    static const char *const snippets[] = {"(", ")", "'", "\"", ",", ";", "--", "/*", "*/", "::", "SELECT",
                                           "CASE", "WHEN", "END", "INTERVAL", "NOT", "IS", "IN", ".", "*",
                                           "E'\\", "$1", "\t", "é", "\n", "WITH", "FROM", "TUMBLE(", "1e"};
    char *buf = malloc(len + 64);
    uint64_t seed = UINT64_C(0x9E3779B97F4A7C15);
    unsigned parsed = 0, failed = 0;
    for (int iter = 0; iter < 10000; iter++) {
        memcpy(buf, fx->text, len);
        size_t n = len;
        unsigned edits = 1 + (unsigned)(rng_next(&seed) % 4);
        for (unsigned e = 0; e < edits && n > 0; e++) {
            size_t at = (size_t)(rng_next(&seed) % n);
            switch (rng_next(&seed) % 5) {
            case 0: /* truncate */
                n = at;
                break;
            case 1: /* delete a run */ {
                size_t k = 1 + (size_t)(rng_next(&seed) % 8);
                if (at + k > n)
                    k = n - at;
                memmove(buf + at, buf + at + k, n - at - k);
                n -= k;
                break;
            }
            case 2: /* random byte */
                buf[at] = (char)(rng_next(&seed) & 0xFF);
                break;
            default: /* insert a snippet, within the buffer's slack */ {
                const char *s = snippets[rng_next(&seed) % (sizeof snippets / sizeof snippets[0])];
                size_t k = strlen(s);
                if (n + k > len + 63)
                    break;
                memmove(buf + at + k, buf + at, n - at);
                memcpy(buf + at, s, k);
                n += k;
                break;
            }
            }
        }
        tw_arena_reset(&fx->arena);
        tw_err_clear(&fx->err);
        if (tw_sql_parse_script(buf, n, "fuzz.sql", &fx->arena, &fx->script, &fx->err)) {
            parsed++;
        } else {
            failed++;
            assert_true(fx->err.code == TW_ERR_SYNTAX || fx->err.code == TW_ERR_UNSUPPORTED);
            assert_non_null(strstr(fx->err.msg, "fuzz.sql:"));
            assert_non_null(strchr(fx->err.msg, '^'));
        }
    }
    free(buf);
    /* Both outcomes occur, so the mutations exercise errors and successes. */
    assert_true(parsed > 0);
    assert_true(failed > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seed_statement_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_statement_spans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_tumble_view, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_anomaly_view, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_connection_and_sink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_with_plain_urls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watermark_hop_emit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_table_and_source_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_option_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink_as_select, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_show_describe_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_select_clauses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_select_without_from, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_script, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_predicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_cast_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_literals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identifiers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_caret_after_tab_and_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_errors_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_error_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_features, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutations_never_crash, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

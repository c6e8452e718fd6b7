/* catalog_sql.c - the SQL catalog of catalog.h over SQLite or PostgreSQL.
 *
 * Tables are those pyiceberg's SqlCatalog, Java's JdbcCatalog and
 * iceberg-rust share, so any of them can read what tidewatch commits and the
 * other way round. The schema is created with the JdbcCatalog V1 column
 * iceberg_type; tables created without it (pyiceberg, JdbcCatalog V0) are
 * accepted as they are, and rows are then written without it. Every value
 * travels as a bound parameter: the SQL texts below are constants. Both
 * backends take the same text, with $1..$n parameters (SQLite binds them by
 * name).
 */
#include "iceberg/catalog.h"

#include <assert.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Long enough to ride out another writer's commit (milliseconds), short
 * enough that a stuck writer surfaces as an error rather than a hang. */
#define SQLITE_BUSY_TIMEOUT_MS 10000
#define PG_CONNECT_TIMEOUT_S "10"

typedef enum sql_backend { SQL_SQLITE, SQL_POSTGRES } sql_backend;

typedef struct sql_catalog {
    tw_catalog base; /* first, so a tw_catalog * is a sql_catalog * */
    sql_backend backend;
    char *shown_uri;       /* the URI with its password replaced by *** */
    bool has_iceberg_type; /* JdbcCatalog V1 schema: rows say TABLE or VIEW */
    sqlite3 *db;
    PGconn *pg;
} sql_catalog;

typedef enum run_result { RUN_OK, RUN_UNIQUE_VIOLATION, RUN_ERROR } run_result;

/* What one statement produced. */
typedef struct run_out {
    char *first_value; /* column 0 of row 0, malloc'ed; NULL if no row or NULL */
    bool has_row;      /* the statement returned at least one row */
    long long changes; /* rows inserted / updated */
    bool reconnected;  /* the PostgreSQL connection was re-established and
                          the statement sent again: a first attempt may have
                          been applied */
} run_out;

static const char CREATE_TABLES_SQL[] = "CREATE TABLE IF NOT EXISTS iceberg_tables ("
                                        "catalog_name VARCHAR(255) NOT NULL, "
                                        "table_namespace VARCHAR(255) NOT NULL, "
                                        "table_name VARCHAR(255) NOT NULL, "
                                        "metadata_location VARCHAR(1000), "
                                        "previous_metadata_location VARCHAR(1000), "
                                        "iceberg_type VARCHAR(5), "
                                        "PRIMARY KEY (catalog_name, table_namespace, table_name))";

static const char CREATE_NAMESPACES_SQL[] =
    "CREATE TABLE IF NOT EXISTS iceberg_namespace_properties ("
    "catalog_name VARCHAR(255) NOT NULL, "
    "namespace VARCHAR(255) NOT NULL, "
    "property_key VARCHAR(255), "
    "property_value VARCHAR(1000), "
    "PRIMARY KEY (catalog_name, namespace, property_key))";

static const char SQLITE_HAS_TYPE_SQL[] =
    "SELECT 1 FROM pragma_table_info('iceberg_tables') WHERE name = 'iceberg_type'";

static const char PG_HAS_TYPE_SQL[] =
    "SELECT 1 FROM information_schema.columns WHERE table_name = 'iceberg_tables' "
    "AND column_name = 'iceberg_type' AND table_schema = ANY (current_schemas(false))";

#define ROW_KEY "catalog_name = $1 AND table_namespace = $2 AND table_name = $3"
/* In the V1 schema a row may be a view; a NULL type is a table written by a
 * V0 writer. */
#define IS_TABLE " AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)"

static const char LOAD_SQL_V0[] = "SELECT metadata_location FROM iceberg_tables WHERE " ROW_KEY;
static const char LOAD_SQL_V1[] =
    "SELECT metadata_location FROM iceberg_tables WHERE " ROW_KEY IS_TABLE;

static const char SWAP_SQL_V0[] =
    "UPDATE iceberg_tables SET metadata_location = $5, previous_metadata_location = $4 "
    "WHERE " ROW_KEY " AND metadata_location = $4";
static const char SWAP_SQL_V1[] =
    "UPDATE iceberg_tables SET metadata_location = $5, previous_metadata_location = $4 "
    "WHERE " ROW_KEY " AND metadata_location = $4" IS_TABLE;

static const char INSERT_SQL_V0[] =
    "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, "
    "metadata_location, previous_metadata_location) VALUES ($1, $2, $3, $4, NULL)";
static const char INSERT_SQL_V1[] =
    "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, "
    "metadata_location, previous_metadata_location, iceberg_type) "
    "VALUES ($1, $2, $3, $4, NULL, 'TABLE')";

/* pyiceberg marks a namespace that has no other property with exists=true.
 * The casts give PostgreSQL one type for each parameter used twice. */
static const char INSERT_NAMESPACE_SQL[] =
    "INSERT INTO iceberg_namespace_properties "
    "(catalog_name, namespace, property_key, property_value) "
    "SELECT CAST($1 AS VARCHAR(255)), CAST($2 AS VARCHAR(255)), 'exists', 'true' "
    "WHERE NOT EXISTS ("
    "SELECT 1 FROM iceberg_namespace_properties WHERE catalog_name = $1 AND namespace = $2) "
    "ON CONFLICT DO NOTHING";

/* Returns a malloc'ed copy of uri in which the password (user:PASSWORD@ in
 * the authority, password=VALUE in the query) reads ***. */
static char *mask_uri(const char *uri)
{
    size_t len = strlen(uri);
    char *out = malloc(2 * len + 4); /* each *** replaces at least "@" or "&" */
    if (!out)
        return NULL;
    size_t o = 0;
    const char *p = uri;
    const char *authority = strstr(uri, "://");
    if (authority) {
        authority += 3;
        size_t auth_len = strcspn(authority, "/?");
        const char *at = NULL;
        for (const char *q = authority; q < authority + auth_len; q++)
            if (*q == '@')
                at = q;
        const char *colon = at ? memchr(authority, ':', (size_t)(at - authority)) : NULL;
        if (colon) {
            memcpy(out, uri, (size_t)(colon + 1 - uri));
            o = (size_t)(colon + 1 - uri);
            memcpy(out + o, "***", 3);
            o += 3;
            p = at;
        }
    }
    while (*p) {
        bool param_start = p > uri && (p[-1] == '?' || p[-1] == '&');
        if (param_start && strncmp(p, "password=", 9) == 0) {
            memcpy(out + o, "password=***", 12);
            o += 12;
            p += 9 + strcspn(p + 9, "&");
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
    return out;
}

static void trim_newline(char *msg)
{
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
}

static run_result run_sqlite(sql_catalog *c, const char *sql, int nparams,
                             const char *const *params, run_out *out, tw_err *err)
{
    sqlite3_stmt *stmt = NULL;
    run_result result = RUN_ERROR;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    for (int i = 0; i < nparams; i++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", i + 1);
        int index = sqlite3_bind_parameter_index(stmt, name);
        assert(index > 0);
        rc = sqlite3_bind_text(stmt, index, params[i], -1, SQLITE_STATIC);
        if (rc != SQLITE_OK)
            goto fail;
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (!out->has_row) {
            out->has_row = true;
            const unsigned char *text = sqlite3_column_text(stmt, 0);
            if (text && !(out->first_value = strdup((const char *)text))) {
                tw_err_set(err, TW_ERR_NOMEM, "catalog %s: out of memory", c->shown_uri);
                goto cleanup;
            }
        }
    }
    if (rc != SQLITE_DONE)
        goto fail;
    out->changes = sqlite3_changes64(c->db);
    result = RUN_OK;
    goto cleanup;
fail:
    rc = sqlite3_extended_errcode(c->db);
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        result = RUN_UNIQUE_VIOLATION;
    } else if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        tw_err_set(err, TW_ERR_IO,
                   "catalog %s: the database stayed locked by another process for %d ms; "
                   "check for a stuck writer holding a transaction open",
                   c->shown_uri, SQLITE_BUSY_TIMEOUT_MS);
    } else {
        tw_err_set(err, TW_ERR_IO,
                   "catalog %s: %s; check that the file is a writable SQLite "
                   "database on a local file system",
                   c->shown_uri, sqlite3_errmsg(c->db));
    }
cleanup:
    sqlite3_finalize(stmt);
    return result;
}

static bool pg_failed(const PGresult *res)
{
    ExecStatusType status = PQresultStatus(res);
    return status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK;
}

static run_result run_pg(sql_catalog *c, const char *sql, int nparams, const char *const *params,
                         run_out *out, tw_err *err)
{
    PGresult *res = PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
    if (pg_failed(res) && PQstatus(c->pg) == CONNECTION_BAD) {
        /* The server dropped the connection (restart, idle timeout): one new
         * connection, one more try. */
        PQclear(res);
        PQreset(c->pg);
        if (PQstatus(c->pg) != CONNECTION_OK) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", PQerrorMessage(c->pg));
            trim_newline(msg);
            tw_err_set(err, TW_ERR_IO,
                       "catalog %s: lost the connection and could not reconnect: %s; "
                       "check that the server is running",
                       c->shown_uri, msg);
            return RUN_ERROR;
        }
        out->reconnected = true;
        res = PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
    }
    run_result result = RUN_ERROR;
    if (pg_failed(res)) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (state && strcmp(state, "23505") == 0) {
            result = RUN_UNIQUE_VIOLATION;
        } else {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", PQerrorMessage(c->pg));
            trim_newline(msg);
            tw_err_set(err, TW_ERR_IO,
                       "catalog %s: %s; check that the user may read and write the "
                       "iceberg_tables and iceberg_namespace_properties tables",
                       c->shown_uri, msg);
        }
        goto cleanup;
    }
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0) {
        out->has_row = true;
        if (!PQgetisnull(res, 0, 0) && !(out->first_value = strdup(PQgetvalue(res, 0, 0)))) {
            tw_err_set(err, TW_ERR_NOMEM, "catalog %s: out of memory", c->shown_uri);
            goto cleanup;
        }
    }
    const char *tuples = PQcmdTuples(res);
    out->changes = tuples[0] ? atoll(tuples) : 0;
    result = RUN_OK;
cleanup:
    PQclear(res);
    return result;
}

/* Runs one statement with text parameters $1..$nparams. Fills *out (its
 * first_value is the caller's to free). RUN_ERROR sets err. */
static run_result run(sql_catalog *c, const char *sql, int nparams, const char *const *params,
                      run_out *out, tw_err *err)
{
    memset(out, 0, sizeof *out);
    if (c->backend == SQL_SQLITE)
        return run_sqlite(c, sql, nparams, params, out, err);
    return run_pg(c, sql, nparams, params, out, err);
}

static bool sql_load(tw_catalog *base, const char *ns, const char *table, char **metadata_location,
                     tw_err *err)
{
    sql_catalog *c = (sql_catalog *)base;
    assert(ns && table && metadata_location);
    *metadata_location = NULL;
    const char *params[] = {c->base.name, ns, table};
    run_out out;
    if (run(c, c->has_iceberg_type ? LOAD_SQL_V1 : LOAD_SQL_V0, 3, params, &out, err) != RUN_OK)
        return false;
    if (out.has_row && !out.first_value)
        return tw_err_set(err, TW_ERR_IO,
                          "catalog %s: table %s.%s is registered without a metadata_location; "
                          "check the row in iceberg_tables",
                          c->shown_uri, ns, table);
    *metadata_location = out.first_value;
    return true;
}

/* After a reconnect a statement may have been applied twice; the pointer
 * tells: metadata locations are unique, so if it already holds ours, the
 * first attempt landed. */
static bool pointer_is(sql_catalog *c, const char *ns, const char *table, const char *location,
                       bool *is, tw_err *err)
{
    char *current = NULL;
    if (!sql_load(&c->base, ns, table, &current, err))
        return false;
    *is = current && strcmp(current, location) == 0;
    free(current);
    return true;
}

static bool sql_create(tw_catalog *base, const char *ns, const char *table,
                       const char *metadata_location, bool *already_exists, tw_err *err)
{
    sql_catalog *c = (sql_catalog *)base;
    assert(ns && table && metadata_location && already_exists);
    *already_exists = false;
    run_out out;
    const char *ns_params[] = {c->base.name, ns};
    if (run(c, INSERT_NAMESPACE_SQL, 2, ns_params, &out, err) == RUN_ERROR)
        return false;
    free(out.first_value);

    const char *params[] = {c->base.name, ns, table, metadata_location};
    run_result r =
        run(c, c->has_iceberg_type ? INSERT_SQL_V1 : INSERT_SQL_V0, 4, params, &out, err);
    free(out.first_value);
    if (r == RUN_ERROR)
        return false;
    if (r == RUN_UNIQUE_VIOLATION) {
        bool ours = false;
        if (out.reconnected && !pointer_is(c, ns, table, metadata_location, &ours, err))
            return false;
        *already_exists = !ours;
    }
    return true;
}

static tw_cas_result sql_swap(tw_catalog *base, const char *ns, const char *table,
                              const char *expected_location, const char *new_location, tw_err *err)
{
    sql_catalog *c = (sql_catalog *)base;
    assert(ns && table && expected_location && new_location);
    const char *params[] = {c->base.name, ns, table, expected_location, new_location};
    run_out out;
    if (run(c, c->has_iceberg_type ? SWAP_SQL_V1 : SWAP_SQL_V0, 5, params, &out, err) != RUN_OK)
        return TW_CAS_ERROR;
    free(out.first_value);
    /* The primary key makes more than one row impossible. */
    assert(out.changes <= 1);
    if (out.changes == 1)
        return TW_CAS_OK;
    if (out.reconnected) {
        bool ours = false;
        if (!pointer_is(c, ns, table, new_location, &ours, err))
            return TW_CAS_ERROR;
        if (ours)
            return TW_CAS_OK;
    }
    return TW_CAS_CONFLICT;
}

static void sql_close(tw_catalog *base)
{
    sql_catalog *c = (sql_catalog *)base;
    if (!c)
        return;
    if (c->db)
        sqlite3_close_v2(c->db);
    if (c->pg)
        PQfinish(c->pg);
    free(c->shown_uri);
    free(c->base.name);
    free(c);
}

static const tw_catalog_ops SQL_OPS = {
    .kind = "sql",
    .load = sql_load,
    .create = sql_create,
    .swap = sql_swap,
    .close = sql_close,
};

/* "sqlite:PATH" gives PATH; "sqlite:///abs/path" (and SQLAlchemy's
 * "sqlite:////abs/path") give /abs/path. */
static const char *sqlite_path(const char *uri)
{
    const char *path = uri + strlen("sqlite:");
    if (strncmp(path, "//", 2) == 0) {
        path += 2;
        while (path[0] == '/' && path[1] == '/')
            path++;
    }
    return path;
}

static bool open_sqlite(sql_catalog *c, const char *uri, tw_err *err)
{
    const char *path = sqlite_path(uri);
    if (!*path)
        return tw_err_set(err, TW_ERR_CONFIG, "catalog.uri '%s' names no file; write sqlite:PATH",
                          c->shown_uri);
    int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK)
        return tw_err_set(err, TW_ERR_IO,
                          "catalog %s: cannot open %s: %s; check that its directory exists "
                          "and is writable",
                          c->shown_uri, path, c->db ? sqlite3_errmsg(c->db) : "out of memory");
    sqlite3_busy_timeout(c->db, SQLITE_BUSY_TIMEOUT_MS);
    /* WAL lets readers run beside the one writer, and several processes
     * commit to one file, each waiting its turn through the busy timeout. */
    run_out out;
    if (run(c, "PRAGMA journal_mode=WAL", 0, NULL, &out, err) != RUN_OK)
        return false;
    bool wal = out.first_value && strcmp(out.first_value, "wal") == 0;
    free(out.first_value);
    if (!wal)
        return tw_err_set(err, TW_ERR_IO,
                          "catalog %s: SQLite refused write-ahead logging on %s; "
                          "put the catalog file on a local file system",
                          c->shown_uri, path);
    return true;
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static bool open_pg(sql_catalog *c, const char *conn_uri, const char *user, const char *password,
                    tw_err *err)
{
    /* The URI goes to libpq as an expanded dbname; user and password given
     * separately come after it and so override what it says. */
    const char *keys[6];
    const char *values[6];
    int n = 0;
    keys[n] = "dbname", values[n++] = conn_uri;
    keys[n] = "connect_timeout", values[n++] = PG_CONNECT_TIMEOUT_S;
    keys[n] = "application_name", values[n++] = "tidewatch";
    if (user)
        keys[n] = "user", values[n++] = user;
    if (password)
        keys[n] = "password", values[n++] = password;
    keys[n] = NULL, values[n] = NULL;
    c->pg = PQconnectdbParams(keys, values, 1);
    if (!c->pg)
        return tw_err_set(err, TW_ERR_NOMEM, "catalog %s: out of memory", c->shown_uri);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(c->pg));
        trim_newline(msg);
        return tw_err_set(err, TW_ERR_IO,
                          "catalog %s: cannot connect: %s; check the host, port, database, "
                          "user and password, and that the server accepts TCP connections",
                          c->shown_uri, msg);
    }
    /* Errors are reported through tw_err; notices (such as "relation
     * already exists, skipping") are not for the user. */
    PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
    return true;
}

static bool ensure_schema(sql_catalog *c, tw_err *err)
{
    const char *creates[] = {CREATE_TABLES_SQL, CREATE_NAMESPACES_SQL};
    for (size_t i = 0; i < sizeof creates / sizeof creates[0]; i++) {
        run_out out;
        /* Two PostgreSQL sessions creating the same table at once can both
         * pass IF NOT EXISTS; the loser gets a unique violation on the
         * system catalog, and the table exists all the same. */
        if (run(c, creates[i], 0, NULL, &out, err) == RUN_ERROR)
            return false;
        free(out.first_value);
    }
    run_out out;
    if (run(c, c->backend == SQL_SQLITE ? SQLITE_HAS_TYPE_SQL : PG_HAS_TYPE_SQL, 0, NULL, &out,
            err) != RUN_OK)
        return false;
    free(out.first_value);
    c->has_iceberg_type = out.has_row;
    return true;
}

tw_catalog *tw_catalog_open_sql(const char *uri, const char *user, const char *password,
                                const char *catalog_name, tw_err *err)
{
    assert(uri);
    sql_catalog *c = calloc(1, sizeof *c);
    if (!c) {
        tw_err_set(err, TW_ERR_NOMEM, "catalog: out of memory");
        return NULL;
    }
    c->base.ops = &SQL_OPS;
    c->base.name = strdup(catalog_name ? catalog_name : "default");
    c->shown_uri = mask_uri(uri);
    if (!c->base.name || !c->shown_uri) {
        tw_err_set(err, TW_ERR_NOMEM, "catalog: out of memory");
        goto fail;
    }
    if (strncmp(uri, "sqlite:", 7) == 0) {
        c->backend = SQL_SQLITE;
        if (!open_sqlite(c, uri, err))
            goto fail;
    } else if (strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0 ||
               strncmp(uri, "jdbc:postgresql://", 18) == 0) {
        c->backend = SQL_POSTGRES;
        const char *conn_uri = strncmp(uri, "jdbc:", 5) == 0 ? uri + 5 : uri;
        if (!open_pg(c, conn_uri, user, password, err))
            goto fail;
    } else {
        tw_err_set(err, TW_ERR_CONFIG,
                   "catalog.uri '%s' is not a SQL catalog URI; use sqlite:PATH, "
                   "postgresql://user:password@host:port/db or jdbc:postgresql://host:port/db",
                   c->shown_uri);
        goto fail;
    }
    if (!ensure_schema(c, err))
        goto fail;
    return &c->base;
fail:
    sql_close(&c->base);
    return NULL;
}

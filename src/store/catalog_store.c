/* catalog_store.c - DDL statements in a SQLite file, replayed on startup. */
#include "store/catalog_store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "sql/parser.h"

struct tw_catalog_store {
    sqlite3 *db;
    char *path;
    bool replaying;
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS tidewatch_ddl ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " class TEXT NOT NULL," /* relation | sink | connection: one namespace each */
    " name TEXT NOT NULL,"
    " stmt TEXT NOT NULL);"
    "PRAGMA synchronous = FULL;";

tw_catalog_store *tw_catalog_store_open(const char *data_dir, tw_err *err)
{
    tw_catalog_store *s = tw_xcalloc(1, sizeof *s);
    size_t n = strlen(data_dir) + sizeof TW_CATALOG_STORE_FILE + 2;
    s->path = tw_xmalloc(n);
    snprintf(s->path, n, "%s/%s", data_dir, TW_CATALOG_STORE_FILE);
    char *msg = NULL;
    if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK ||
        sqlite3_exec(s->db, schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
        tw_err_set(err, TW_ERR_IO, "catalog '%s': %s", s->path,
                   msg ? msg : (s->db ? sqlite3_errmsg(s->db) : "cannot open"));
        sqlite3_free(msg);
        tw_catalog_store_close(s);
        return NULL;
    }
    return s;
}

void tw_catalog_store_close(tw_catalog_store *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

static const char *object_class(tw_sql_object_kind k)
{
    switch (k) {
    case TW_SQL_OBJ_SINK: return "sink";
    case TW_SQL_OBJ_CONNECTION: return "connection";
    default: return "relation";
    }
}

static bool run(tw_catalog_store *s, const char *sql, const char *cls, const char *name,
                const char *stmt, size_t len, tw_err *err)
{
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
              sqlite3_bind_text(st, 1, cls, -1, SQLITE_STATIC) == SQLITE_OK &&
              sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC) == SQLITE_OK &&
              (!stmt || sqlite3_bind_text(st, 3, stmt, (int)len, SQLITE_STATIC) == SQLITE_OK) &&
              sqlite3_step(st) == SQLITE_DONE;
    if (!ok)
        tw_err_set(err, TW_ERR_IO, "catalog '%s': %s", s->path, sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    return ok;
}

bool tw_catalog_store_record(tw_catalog_store *s, const char *stmt, size_t len, tw_err *err)
{
    if (s->replaying)
        return true;
    tw_arena arena;
    tw_arena_init(&arena, 16 * 1024);
    tw_sql_script script;
    bool ok = tw_sql_parse_script(stmt, len, "<catalog>", &arena, &script, err);
    for (uint32_t i = 0; ok && i < script.nstmts; i++) {
        const tw_sql_stmt *st = &script.stmts[i];
        const char *text = script.text + st->start;
        size_t tlen = st->end - st->start;
        switch (st->kind) {
        case TW_SQL_STMT_CREATE_SOURCE:
            ok = run(s, "INSERT INTO tidewatch_ddl (class, name, stmt) VALUES (?1, ?2, ?3)",
                     "relation", st->u.create_source->name.name, text, tlen, err);
            break;
        case TW_SQL_STMT_CREATE_MV:
            ok = run(s, "INSERT INTO tidewatch_ddl (class, name, stmt) VALUES (?1, ?2, ?3)",
                     "relation", st->u.create_mv->name.name, text, tlen, err);
            break;
        case TW_SQL_STMT_CREATE_CONNECTION:
            ok = run(s, "INSERT INTO tidewatch_ddl (class, name, stmt) VALUES (?1, ?2, ?3)",
                     "connection", st->u.create_connection->name.name, text, tlen, err);
            break;
        case TW_SQL_STMT_CREATE_SINK:
            ok = run(s, "INSERT INTO tidewatch_ddl (class, name, stmt) VALUES (?1, ?2, ?3)",
                     "sink", st->u.create_sink->name.name, text, tlen, err);
            break;
        case TW_SQL_STMT_DROP:
            ok = run(s, "DELETE FROM tidewatch_ddl WHERE class = ?1 AND name = ?2",
                     object_class(st->u.drop->object), st->u.drop->name.name, NULL, 0, err);
            break;
        default: break;
        }
    }
    tw_arena_free(&arena);
    return ok;
}

void tw_catalog_store_on_ddl(void *ctx, const char *stmt, size_t len)
{
    tw_err err;
    tw_err_clear(&err);
    if (!tw_catalog_store_record(ctx, stmt, len, &err))
        fprintf(stderr, "tidewatch: the statement ran but was not saved in the catalog: %s\n",
                err.msg);
}

bool tw_catalog_store_replay(tw_catalog_store *s, tw_engine *engine, uint32_t *count, tw_err *err)
{
    sqlite3_stmt *st = NULL;
    *count = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT seq, stmt FROM tidewatch_ddl ORDER BY seq", -1, &st,
                           NULL) != SQLITE_OK)
        return tw_err_set(err, TW_ERR_IO, "catalog '%s': %s", s->path, sqlite3_errmsg(s->db));
    bool ok = true;
    int rc;
    s->replaying = true;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        ok = tw_engine_exec(engine, text ? text : "", text ? len : 0, "<catalog>", NULL, NULL,
                            err);
        if (!ok)
            tw_err_prefix(err,
                          "catalog '%s': stored statement %lld no longer runs (drop the object "
                          "or remove the file to start empty)",
                          s->path, (long long)sqlite3_column_int64(st, 0));
        else
            (*count)++;
    }
    s->replaying = false;
    if (ok && rc != SQLITE_DONE)
        ok = tw_err_set(err, TW_ERR_IO, "catalog '%s': %s", s->path, sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    return ok;
}

int64_t tw_catalog_store_count(tw_catalog_store *s)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM tidewatch_ddl", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* pg_catalog_queries.c - canned answers to the catalog queries of psql.
 *
 * tidewatch has no pg_catalog. psql's \d, \dt and \dm lists (one query on
 * pg_class with a relkind list and an optional name pattern) are answered
 * from SHOW SOURCES and SHOW MATERIALIZED VIEWS; a few functions drivers
 * call on connect are answered with constants; every other catalog query
 * gets a feature_not_supported error naming what to use instead.
 */
#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "exec/expr.h"
#include "serve/pgwire.h"

typedef struct names {
    char **items;
    uint32_t count;
} names;

static void collect_names(void *ctx, tw_result *r)
{
    names *n = ctx;
    for (uint32_t b = 0; b < r->nbatches; b++) {
        for (uint32_t row = 0; row < r->batches[b]->nrows; row++) {
            tw_value v = tw_column_get(&r->batches[b]->cols[0], row);
            if (v.is_null)
                continue;
            n->items = tw_xrealloc(n->items, (n->count + 1) * sizeof *n->items);
            char *s = tw_xmalloc(v.s.len + 1);
            memcpy(s, v.s.ptr, v.s.len);
            s[v.s.len] = '\0';
            n->items[n->count++] = s;
        }
    }
    tw_result_free(r);
}

static void names_free(names *n)
{
    for (uint32_t i = 0; i < n->count; i++)
        free(n->items[i]);
    free(n->items);
}

/* A result of varchar columns built row by row. */
static tw_result *text_result(const char *const *cols, uint32_t ncols)
{
    tw_result *r = tw_xcalloc(1, sizeof *r);
    r->ncols = ncols;
    r->names = tw_xcalloc(ncols, sizeof *r->names);
    r->types = tw_xcalloc(ncols, sizeof *r->types);
    for (uint32_t c = 0; c < ncols; c++) {
        r->names[c] = tw_xstrdup(cols[c]);
        r->types[c] = TW_T_VARCHAR;
    }
    return r;
}

static void text_row(tw_result *r, const char *const *vals)
{
    tw_batch *b = r->nbatches ? r->batches[r->nbatches - 1] : NULL;
    if (!b || b->nrows == b->capacity) {
        b = tw_batch_new(r->types, r->ncols, 256);
        r->batches = tw_xrealloc(r->batches, (r->nbatches + 1) * sizeof *r->batches);
        r->batches[r->nbatches++] = b;
    }
    uint32_t row = b->nrows++;
    for (uint32_t c = 0; c < r->ncols; c++) {
        tw_value v = {.type = TW_T_VARCHAR, .is_null = false};
        v.s = tw_batch_strdup(b, vals[c], strlen(vals[c]));
        tw_column_put(&b->cols[c], row, &v);
    }
    r->nrows++;
}

/* The query lowercased with runs of blanks made one space, no trailing ';'. */
static char *normalize(const char *sql, size_t len)
{
    char *out = tw_xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)sql[i];
        if (isspace(ch)) {
            if (n && out[n - 1] != ' ')
                out[n++] = ' ';
            continue;
        }
        out[n++] = (char)tolower(ch);
    }
    while (n && (out[n - 1] == ' ' || out[n - 1] == ';'))
        n--;
    out[n] = '\0';
    return out;
}

typedef struct relation {
    const char *name, *type;
} relation;

static int relation_cmp(const void *a, const void *b)
{
    return strcmp(((const relation *)a)->name, ((const relation *)b)->name);
}

/* The `relname OPERATOR(pg_catalog.~) '^(pattern)$'` filter psql adds for
 * \dt NAME, compiled; false when there is none. */
static bool name_filter(const char *sql, regex_t *re)
{
    const char *op = strstr(sql, "OPERATOR(pg_catalog.~) '");
    if (!op)
        return false;
    const char *start = op + strlen("OPERATOR(pg_catalog.~) '");
    const char *end = strchr(start, '\'');
    if (!end || end - start > 512)
        return false;
    char pattern[520];
    memcpy(pattern, start, (size_t)(end - start));
    pattern[end - start] = '\0';
    return regcomp(re, pattern, REG_EXTENDED | REG_NOSUB) == 0;
}

static tw_result *relation_list(tw_engine *engine, const char *sql, const char *lower)
{
    const char *in = strstr(lower, "relkind in (");
    const char *close = in ? strchr(in, ')') : NULL;
    const char *r_kind = in ? strstr(in, "'r'") : NULL, *m_kind = in ? strstr(in, "'m'") : NULL;
    bool want_tables = close && r_kind && r_kind < close;
    bool want_mvs = close && m_kind && m_kind < close;
    names sources = {0}, mvs = {0};
    tw_err err;
    tw_err_clear(&err);
    if (want_tables) {
        static const char q[] = "SHOW SOURCES";
        tw_engine_exec_sync(engine, q, sizeof q - 1, "<pg_catalog>", collect_names, &sources, &err);
    }
    if (want_mvs) {
        static const char q[] = "SHOW MATERIALIZED VIEWS";
        tw_engine_exec_sync(engine, q, sizeof q - 1, "<pg_catalog>", collect_names, &mvs, &err);
    }
    uint32_t n = sources.count + mvs.count;
    relation *rels = tw_xcalloc((size_t)n + 1, sizeof *rels);
    for (uint32_t i = 0; i < sources.count; i++)
        rels[i] = (relation){sources.items[i], "source"};
    for (uint32_t i = 0; i < mvs.count; i++)
        rels[sources.count + i] = (relation){mvs.items[i], "materialized view"};
    qsort(rels, n, sizeof *rels, relation_cmp);
    regex_t re;
    bool filtered = name_filter(sql, &re);
    static const char *const cols[] = {"Schema", "Name", "Type", "Owner"};
    tw_result *r = text_result(cols, 4);
    for (uint32_t i = 0; i < n; i++) {
        if (filtered && regexec(&re, rels[i].name, 0, NULL, 0) != 0)
            continue;
        text_row(r, (const char *const[]){"public", rels[i].name, rels[i].type, "root"});
    }
    if (filtered)
        regfree(&re);
    free(rels);
    names_free(&sources);
    names_free(&mvs);
    return r;
}

tw_pgcat_outcome tw_pgcat_answer(tw_engine *engine, const char *sql, size_t len,
                                 tw_result **out, tw_err *err)
{
    static const struct {
        const char *query, *column, *value;
    } constants[] = {
        {"select version()", "version", "PostgreSQL 13.0.0 (tidewatch " TW_VERSION ")"},
        {"select pg_catalog.version()", "version", "PostgreSQL 13.0.0 (tidewatch " TW_VERSION ")"},
        {"select current_database()", "current_database", "dev"},
        {"select current_schema()", "current_schema", "public"},
        {"select current_schema", "current_schema", "public"},
    };
    char *lower = normalize(sql, len);
    tw_pgcat_outcome outcome = TW_PGCAT_NOT_MINE;
    for (size_t i = 0; i < sizeof constants / sizeof *constants; i++) {
        if (!strcmp(lower, constants[i].query)) {
            tw_result *r = text_result(&constants[i].column, 1);
            text_row(r, &constants[i].value);
            *out = r;
            outcome = TW_PGCAT_RESULT;
            goto done;
        }
    }
    bool catalog = strstr(lower, "pg_catalog.") || strstr(lower, "information_schema.") ||
                   strstr(lower, "pg_class") || strstr(lower, "pg_namespace") ||
                   strstr(lower, "pg_type") || strstr(lower, "pg_attribute");
    if (!catalog)
        goto done;
    if (strstr(lower, "from pg_catalog.pg_class c") && strstr(lower, "relkind in (") &&
        strstr(lower, "as \"schema\"") && strstr(lower, "as \"name\"")) {
        *out = relation_list(engine, sql, lower);
        outcome = TW_PGCAT_RESULT;
        goto done;
    }
    tw_err_set(err, TW_ERR_UNSUPPORTED,
               "this catalog query is not supported: tidewatch answers the \\d, \\dt and \\dm "
               "lists; use SHOW SOURCES, SHOW MATERIALIZED VIEWS, SHOW SINKS, SHOW CONNECTIONS "
               "or DESCRIBE name");
    outcome = TW_PGCAT_ERROR;
done:
    free(lower);
    return outcome;
}

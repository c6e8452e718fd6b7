/* engine.c - see engine.h. */
#include "exec/engine.h"

#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "common/timeutil.h"
#include "decode/json.h"
#include "exec/expr.h"
#include "exec/node.h"
#include "exec/operators.h"
#include "mv/mv.h"
#include "source/kafka.h"
#include "source/reader.h"
#include "source/source.h"
#include "sink/iceberg_target.h"
#include "sink/sink.h"
#include "sql/binder.h"
#include "sql/parser.h"
#include "sql/sqlerr.h"

#define MAX_LINE_BYTES (64u << 20)
/* Batches read from one source before the loop looks at the others. */
#define BATCHES_PER_PUMP 64

typedef struct kv {
    char *key;
    char *value;
} kv;

typedef struct options {
    kv *items;
    uint32_t count;
} options;

/* Where a run of input sits in event time: rows at or after `position`
 * (up to the next interval) have event times in [min_us, max_us]. */
typedef struct position_span {
    int64_t min_us, max_us;
    uint64_t position;
} position_span;

typedef struct partition_time {
    bool seen;
    int64_t max_event_us;       /* on the WATERMARK column */
    bool progress_seen;
    int64_t progress_us;        /* newest event time on the window column */
    int64_t last_data_mono_us;
    bool live;                  /* the driver lists it (or it has had data) */
    int64_t live_since_mono_us;
    /* Replay bookkeeping, oldest first (see replay_positions). */
    position_span *spans;
    uint32_t nspans, cap_spans;
} partition_time;

/* A partition without data for this long stops holding the watermark back. */
#define PARTITION_IDLE_US (INT64_C(5) * TW_USEC_PER_SEC)

typedef struct source_entry {
    tw_relation rel;
    tw_node node; /* emits decoded batches */
    options with;
    char *connector;
    tw_source_driver *driver;
    tw_decode_stats stats; /* as of the last read */
    bool eof, finite;
    /* Event time per partition (index partition + 1; 0 is "unpartitioned"):
     * the watermark is the minimum over partitions that are not idle. */
    partition_time *parts;
    uint32_t nparts;
    bool have_wm;
    int64_t last_wm_us;
    uint64_t late_rows;
    int32_t event_col; /* the time column windows use, for replay positions; -1 */
    bool consumed;     /* a batch has gone into the graph: it cannot be replayed into a
                          new consumer without counting it twice in the old ones */
} source_entry;

typedef struct mv_entry {
    tw_relation rel;
    tw_node **nodes; /* the chain feeding the view, owned */
    uint32_t nnodes;
    tw_node *parent;  /* the node the chain hangs from */
    tw_node *first;   /* first node of the chain */
    char *definition; /* the SELECT text it was created with */
} mv_entry;

typedef struct conn_entry {
    char *name;
    options with;
} conn_entry;

typedef struct sink_entry {
    char *name;
    char *from;
    options with;
    tw_node *node;   /* NULL with --no-sinks */
    tw_node *parent; /* the view's node it hangs from */
} sink_entry;

/* A script submitted from another thread (tw_engine_exec_sync). */
typedef struct exec_request {
    const char *sql;
    size_t len;
    const char *filename;
    void (*on_result)(void *ctx, tw_result *result);
    void (*on_notice)(void *ctx, const char *message);
    void *ctx;
    tw_err *err;
    bool done, ok;
    struct exec_request *next;
} exec_request;

struct tw_engine {
    tw_engine_opts opts;
    /* Where the notices of the statement being executed go (NULL: stderr). */
    void (*on_notice)(void *ctx, const char *message);
    void *notice_ctx;
    pthread_mutex_t exec_mu; /* guards requests and running */
    pthread_cond_t exec_done;
    pthread_cond_t exec_wake; /* signalled when a request is queued */
    exec_request *requests, **requests_tail;
    bool running;
    source_entry **sources;
    uint32_t nsources;
    mv_entry **mvs;
    uint32_t nmvs;
    conn_entry **conns;
    uint32_t nconns;
    sink_entry **sinks;
    uint32_t nsinks;
    tw_node **order; /* every stateful node in creation order, for barriers */
    uint32_t norder;
    tw_node **extra; /* watch and tap nodes, owned */
    uint32_t nextra;
    FILE *dead_letter;
    void (*on_view)(void *ctx, const char *view, bool created);
    void *on_view_ctx;
    void (*on_sink)(void *ctx, const char *sink, const char *from);
    void *on_sink_ctx;
};

/* ---- small helpers ------------------------------------------------------ */

/* Tells whoever runs the current statement something it should know but
 * that is not an error: over the PostgreSQL protocol a NOTICE, else a line
 * on stderr. */
static void notice(tw_engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notice(tw_engine *e, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (e->on_notice)
        e->on_notice(e->notice_ctx, msg);
    else
        fprintf(stderr, "tidewatch: %s\n", msg);
}

static void options_free(options *o)
{
    for (uint32_t i = 0; i < o->count; i++) {
        free(o->items[i].key);
        free(o->items[i].value);
    }
    free(o->items);
    o->items = NULL;
    o->count = 0;
}

static void options_put(options *o, const char *key, const char *value)
{
    for (uint32_t i = 0; i < o->count; i++) {
        if (!strcmp(o->items[i].key, key)) {
            free(o->items[i].value);
            o->items[i].value = tw_xstrdup(value);
            return;
        }
    }
    o->items = tw_xrealloc(o->items, (o->count + 1) * sizeof *o->items);
    o->items[o->count].key = tw_xstrdup(key);
    o->items[o->count].value = tw_xstrdup(value);
    o->count++;
}

static const char *options_get(const options *o, const char *key)
{
    for (uint32_t i = 0; i < o->count; i++)
        if (!strcmp(o->items[i].key, key))
            return o->items[i].value;
    return NULL;
}

static void options_from_sql(options *o, const tw_sql_options *in)
{
    for (uint32_t i = 0; i < in->count; i++)
        options_put(o, in->items[i].key, in->items[i].value);
}

static void add_order(tw_engine *e, tw_node *n)
{
    e->order = tw_xrealloc(e->order, (e->norder + 1) * sizeof *e->order);
    e->order[e->norder++] = n;
}

static void remove_order(tw_engine *e, tw_node *n)
{
    for (uint32_t i = 0; i < e->norder; i++) {
        if (e->order[i] == n) {
            memmove(&e->order[i], &e->order[i + 1], (e->norder - i - 1) * sizeof *e->order);
            e->norder--;
            return;
        }
    }
}

static void disconnect(tw_node *parent, tw_node *child)
{
    for (uint32_t i = 0; i < parent->ndown; i++) {
        if (parent->down[i] == child) {
            memmove(&parent->down[i], &parent->down[i + 1],
                    (parent->ndown - i - 1) * sizeof *parent->down);
            parent->ndown--;
            return;
        }
    }
}

static bool name_is(const char *a, const char *b)
{
    return !strcmp(a, b);
}

static tw_relation *lookup(void *ctx, const tw_sql_name *name)
{
    tw_engine *e = ctx;
    if (name->schema && strcmp(name->schema, "public"))
        return NULL;
    for (uint32_t i = 0; i < e->nsources; i++)
        if (name_is(e->sources[i]->rel.name, name->name))
            return &e->sources[i]->rel;
    for (uint32_t i = 0; i < e->nmvs; i++)
        if (name_is(e->mvs[i]->rel.name, name->name))
            return &e->mvs[i]->rel;
    return NULL;
}

static bool name_taken(tw_engine *e, const char *name)
{
    tw_sql_name n = {.name = name};
    if (lookup(e, &n))
        return true;
    for (uint32_t i = 0; i < e->nsinks; i++)
        if (name_is(e->sinks[i]->name, name))
            return true;
    return false;
}

/* ---- sources ---------------------------------------------------------- */

static void source_node_push(tw_node *node, const tw_batch *in)
{
    (void)node;
    (void)in;
    assert(0 && "a source has no input");
}

static void source_node_destroy(tw_node *node)
{
    (void)node; /* embedded in source_entry */
}

static const tw_node_ops source_node_ops = {
    .kind = "source",
    .push = source_node_push,
    .destroy = source_node_destroy,
};

static void dead_letter_write(void *ctx, const char *line, size_t len, const char *reason)
{
    FILE *f = ctx;
    (void)reason;
    fwrite(line, 1, len, f);
    fputc('\n', f);
}

/* Adds the key=value pairs of a URI's query (q points at '?', or is NULL). */
static bool put_query(options *with, const char *uri, const char *q, tw_err *err)
{
    char *query = tw_xstrdup(q ? q + 1 : "");
    bool ok = true;
    for (char *save = NULL, *tok = strtok_r(query, "&", &save); tok && ok;
         tok = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            ok = tw_err_set(err, TW_ERR_CONFIG, "--source %s: '%s' is not key=value", uri, tok);
            break;
        }
        *eq = '\0';
        options_put(with, tok, eq + 1);
    }
    free(query);
    return ok;
}

/* Applies a NAME=URI override: file:PATH, stdin:, netsim:?k=v&k=v. */
static bool apply_override(const char *uri, options *with, tw_err *err)
{
    const char *colon = strchr(uri, ':');
    if (!colon)
        return tw_err_set(err, TW_ERR_CONFIG,
                          "--source value '%s' has no connector: write file:PATH, stdin: or "
                          "netsim:?devices=5&rate=1000",
                          uri);
    size_t n = (size_t)(colon - uri);
    const char *rest = colon + 1;
    options_free(with);
    if (n == 4 && !strncmp(uri, "file", 4)) {
        if (!strncmp(rest, "//", 2))
            rest += 2;
        if (!*rest)
            return tw_err_set(err, TW_ERR_CONFIG, "--source %s: file: needs a path", uri);
        options_put(with, "connector", "file");
        options_put(with, "path", rest);
    } else if (n == 5 && !strncmp(uri, "stdin", 5)) {
        options_put(with, "connector", "stdin");
    } else if (n == 6 && !strncmp(uri, "netsim", 6)) {
        options_put(with, "connector", "netsim");
        const char *q = strchr(rest, '?');
        if (!put_query(with, uri, q, err))
            return false;
    } else if (n == 5 && !strncmp(uri, "kafka", 5)) {
        /* kafka://HOST:PORT[,HOST:PORT]/TOPIC[?key=value&...] */
        const char *hosts = !strncmp(rest, "//", 2) ? rest + 2 : rest;
        const char *slash = strchr(hosts, '/');
        const char *q = strchr(hosts, '?');
        size_t topic_len = !slash ? 0 : q ? (size_t)(q - slash - 1) : strlen(slash + 1);
        if (!slash || slash == hosts || (q && q < slash) || topic_len == 0)
            return tw_err_set(err, TW_ERR_CONFIG,
                              "--source %s: write kafka://HOST:PORT/TOPIC[?key=value&...]", uri);
        char *bootstrap = tw_xstrdup(hosts);
        bootstrap[slash - hosts] = '\0';
        char *topic = tw_xstrdup(slash + 1);
        if (q)
            topic[q - slash - 1] = '\0';
        options_put(with, "connector", "kafka");
        options_put(with, "properties.bootstrap.server", bootstrap);
        options_put(with, "topic", topic);
        free(bootstrap);
        free(topic);
        if (!put_query(with, uri, q, err))
            return false;
    } else {
        return tw_err_set(err, TW_ERR_CONFIG,
                          "--source: unknown connector '%.*s' (use file:, stdin:, netsim: or kafka://)",
                          (int)n, uri);
    }
    return true;
}

static bool source_open(tw_engine *e, source_entry *s, tw_err *err)
{
    const char *conn = options_get(&s->with, "connector");
    if (!conn)
        return tw_err_set(err, TW_ERR_CONFIG,
                          "source '%s' has no connector option (e.g. connector = 'file')",
                          s->rel.name);
    s->connector = tw_xstrdup(conn);
    tw_reader *reader = NULL;
    if (!strcmp(conn, "file")) {
        const char *path = options_get(&s->with, "path");
        if (!path)
            return tw_err_set(err, TW_ERR_CONFIG,
                              "source '%s': connector 'file' needs path = '...'", s->rel.name);
        const char *follow = options_get(&s->with, "follow");
        bool f = follow && (!strcasecmp(follow, "true") || !strcmp(follow, "1"));
        reader = tw_reader_open_file(path, f, err);
    } else if (!strcmp(conn, "stdin")) {
        reader = tw_reader_open_file("-", false, err);
    } else if (!strcmp(conn, "netsim")) {
        const char **keys = tw_xcalloc(s->with.count + 1, sizeof *keys);
        const char **vals = tw_xcalloc(s->with.count + 1, sizeof *vals);
        uint32_t n = 0;
        for (uint32_t i = 0; i < s->with.count; i++) {
            if (!strcmp(s->with.items[i].key, "connector"))
                continue;
            keys[n] = s->with.items[i].key;
            vals[n++] = s->with.items[i].value;
        }
        reader = tw_reader_open_netsim(keys, vals, n, err);
        free(keys);
        free(vals);
    } else if (!strcmp(conn, "kafka")) {
        const char **keys = tw_xcalloc(s->with.count + 1, sizeof *keys);
        const char **vals = tw_xcalloc(s->with.count + 1, sizeof *vals);
        for (uint32_t i = 0; i < s->with.count; i++) {
            keys[i] = s->with.items[i].key;
            vals[i] = s->with.items[i].value;
        }
        tw_source_schema kschema = {
            .names = (const char *const *)s->rel.col_names,
            .types = s->rel.types,
            .ncols = s->rel.ncols,
            .dead_letter = e->dead_letter ? dead_letter_write : NULL,
            .dead_letter_ctx = e->dead_letter,
        };
        s->driver = tw_kafka_driver_new(s->rel.name, keys, vals, s->with.count, &kschema,
                                        e->opts.bounded, err);
        free(keys);
        free(vals);
        if (!s->driver)
            return false;
        s->finite = s->driver->ops->is_finite(s->driver);
        return true;
    } else {
        return tw_err_set(err, TW_ERR_CONFIG,
                          "source '%s': unknown connector '%s' (known: file, stdin, netsim, "
                          "kafka)",
                          s->rel.name, conn);
    }
    if (!reader) {
        tw_err_prefix(err, "source '%s'", s->rel.name);
        return false;
    }
    tw_source_schema schema = {
        .names = (const char *const *)s->rel.col_names,
        .types = s->rel.types,
        .ncols = s->rel.ncols,
        .dead_letter = e->dead_letter ? dead_letter_write : NULL,
        .dead_letter_ctx = e->dead_letter,
    };
    s->driver = tw_lines_driver_new(reader, &schema, MAX_LINE_BYTES, e->opts.decode_threads);
    s->finite = s->driver->ops->is_finite(s->driver);
    return true;
}

static void source_free(source_entry *s)
{
    if (s->driver)
        s->driver->ops->close(s->driver);
    for (uint32_t i = 0; i < s->nparts; i++)
        free(s->parts[i].spans);
    free(s->parts);
    options_free(&s->with);
    free(s->connector);
    for (uint32_t i = 0; i < s->rel.ncols; i++)
        free(s->rel.col_names[i]);
    free(s->rel.col_names);
    free(s->rel.types);
    free(s->rel.name);
    free(s->node.down);
    free(s);
}

static bool exec_create_source(tw_engine *e, const tw_sql_script *script,
                               const tw_sql_create_source *cs, tw_err *err)
{
    if (name_taken(e, cs->name.name)) {
        if (cs->if_not_exists)
            return true;
        return tw_sql_error_at(err, TW_ERR_BIND, script->text, script->len, script->filename,
                               cs->name.loc, "relation '%s' already exists", cs->name.name);
    }
    if (cs->ncolumns == 0)
        return tw_sql_error_at(err, TW_ERR_UNSUPPORTED, script->text, script->len,
                               script->filename, cs->name.loc,
                               "a source without a column list (schema from a registry) is not "
                               "supported yet; list the columns");
    if (cs->format.present &&
        (strcmp(cs->format.format, "plain") || strcmp(cs->format.encode, "json")))
        return tw_sql_error_at(err, TW_ERR_UNSUPPORTED, script->text, script->len,
                               script->filename, cs->format.loc,
                               "FORMAT %s ENCODE %s is not supported yet (use FORMAT PLAIN "
                               "ENCODE JSON)",
                               cs->format.format, cs->format.encode);
    source_entry *s = tw_xcalloc(1, sizeof *s);
    s->rel.name = tw_xstrdup(cs->name.name);
    s->rel.kind = TW_REL_SOURCE;
    s->rel.ncols = cs->ncolumns;
    s->rel.col_names = tw_xcalloc(cs->ncolumns, sizeof *s->rel.col_names);
    s->rel.types = tw_xcalloc(cs->ncolumns, sizeof *s->rel.types);
    s->rel.append_only = true;
    s->rel.watermark_col = -1;
    s->rel.window_start_col = s->rel.window_end_col = -1;
    s->event_col = -1;
    s->rel.owner = s;
    for (uint32_t i = 0; i < cs->ncolumns; i++) {
        for (uint32_t k = 0; k < i; k++) {
            if (!strcmp(s->rel.col_names[k], cs->columns[i].name)) {
                tw_sql_error_at(err, TW_ERR_BIND, script->text, script->len, script->filename,
                                cs->columns[i].loc, "column '%s' is declared twice",
                                cs->columns[i].name);
                goto fail;
            }
        }
        s->rel.col_names[i] = tw_xstrdup(cs->columns[i].name);
        s->rel.types[i] = cs->columns[i].type.type;
    }
    if (cs->watermark) {
        int32_t col = -1;
        for (uint32_t i = 0; i < cs->ncolumns; i++)
            if (!strcmp(s->rel.col_names[i], cs->watermark->column))
                col = (int32_t)i;
        if (col < 0 || !tw_type_is_time(s->rel.types[col])) {
            tw_sql_error_at(err, TW_ERR_BIND, script->text, script->len, script->filename,
                            cs->watermark->loc,
                            "WATERMARK FOR '%s': it must be a TIMESTAMP column of the source",
                            cs->watermark->column);
            goto fail;
        }
        tw_binder b = {.script = script};
        if (!tw_bind_watermark(&b, cs->watermark->column, cs->watermark->expr,
                               &s->rel.watermark_delay_us, err))
            goto fail;
        s->rel.watermark_col = col;
    }
    options_from_sql(&s->with, &cs->with);
    for (uint32_t i = 0; i < e->opts.nsource_overrides; i++) {
        const char *o = e->opts.source_overrides[i];
        const char *eq = strchr(o, '=');
        if (eq && (size_t)(eq - o) == strlen(s->rel.name) && !strncmp(o, s->rel.name, eq - o) &&
            !apply_override(eq + 1, &s->with, err))
            goto fail;
    }
    tw_node_init(&s->node, &source_node_ops);
    s->rel.node = &s->node;
    if (!source_open(e, s, err))
        goto fail;
    e->sources = tw_xrealloc(e->sources, (e->nsources + 1) * sizeof *e->sources);
    e->sources[e->nsources++] = s;
    return true;
fail:
    source_free(s);
    return false;
}

/* ---- backfill -------------------------------------------------------------- */

/* The source a relation's rows come from, following views up to it. */
static source_entry *root_source(tw_engine *e, const tw_relation *rel)
{
    while (rel && rel->kind == TW_REL_MV) {
        const mv_entry *m = rel->owner;
        const tw_relation *up = NULL;
        for (uint32_t i = 0; i < e->nsources && !up; i++)
            if (&e->sources[i]->node == m->parent)
                up = &e->sources[i]->rel;
        for (uint32_t i = 0; i < e->nmvs && !up; i++)
            if (e->mvs[i]->rel.node == m->parent)
                up = &e->mvs[i]->rel;
        rel = up;
    }
    return rel ? rel->owner : NULL;
}

/* Brings a new consumer of view `from` (a chain's first node, or a sink)
 * up to date before it is connected: the view's rows as inserts (in event
 * time order when order_col >= 0), then the watermark its source has
 * reached, which the consumer would otherwise learn only when it next
 * moves. Runs where DDL runs, between batches (tw_engine_exec_sync). */
static void backfill(tw_engine *e, tw_relation *from, tw_node *into, int32_t order_col)
{
    assert(from->kind == TW_REL_MV);
    tw_mv_backfill(from->mv, into, order_col);
    source_entry *src = root_source(e, from);
    if (src && src->have_wm) {
        if (into->ops->watermark)
            into->ops->watermark(into, src->last_wm_us);
        else
            tw_node_forward_watermark(into, src->last_wm_us);
    }
}

/* ---- views ---------------------------------------------------------------- */

static void chain_add(tw_node ***nodes, uint32_t *n, tw_node *node)
{
    *nodes = tw_xrealloc(*nodes, (*n + 1) * sizeof **nodes);
    (*nodes)[(*n)++] = node;
}

/* Builds the operator chain of a plan below `parent`. The chain's nodes are
 * appended to *nodes (owned by the caller); returns the last node. */
static tw_node *build_chain(tw_engine *e, tw_plan *p, tw_node *parent, tw_node ***nodes,
                            uint32_t *nn, bool streaming, tw_node **first)
{
    tw_node *tail = parent;
    *first = NULL;
#define LINK(n)                                                                                    \
    do {                                                                                           \
        tw_node *n_ = (n);                                                                         \
        chain_add(nodes, nn, n_);                                                                  \
        if (tail != parent)                                                                        \
            tw_node_connect(tail, n_);                                                             \
        else                                                                                       \
            *first = n_;                                                                           \
        tail = n_;                                                                                 \
    } while (0)
    uint32_t in_cols = p->input ? p->input->ncols : 0;
    if (p->window != TW_WINDOW_NONE) {
        LINK(tw_window_new(p->input->types, in_cols, p->time_col, p->size_us, p->slide_us,
                           p->offset_us));
        in_cols += 2;
    }
    if (p->has_agg) {
        if (p->where) {
            /* Filter, keep every column: the aggregate reads them by index. */
            tw_expr **ids = tw_xcalloc(in_cols, sizeof *ids);
            for (uint32_t i = 0; i < in_cols; i++) {
                tw_type t = i < p->input->ncols ? p->input->types[i]
                                                : p->input->types[p->time_col];
                ids[i] = tw_expr_column(i, t);
            }
            LINK(tw_map_new(p->where, ids, in_cols));
            p->where = NULL;
        }
        tw_hashagg_config cfg = {
            .keys = p->keys,
            .nkeys = p->nkeys,
            .aggs = p->aggs,
            .naggs = p->naggs,
            .window_end_key = p->window_end_key,
            .window_start_key = p->window_start_key,
            .window_size_us = p->size_us,
            .emit_on_window_close = p->emit_on_window_close,
            .retention_us = streaming && !p->use_watermark ? e->opts.retention_us : 0,
            .ignore_watermark = !p->use_watermark,
        };
        p->keys = NULL;
        p->aggs = NULL;
        p->nkeys = p->naggs = 0;
        tw_node *agg = tw_hashagg_new(&cfg);
        LINK(agg);
        add_order(e, agg);
        LINK(tw_map_new(p->having, p->outputs, p->noutputs));
    } else {
        LINK(tw_map_new(p->where, p->outputs, p->noutputs));
        p->where = NULL;
    }
    p->having = NULL;
    p->outputs = NULL; /* taken by the map node; the names stay with the plan */
#undef LINK
    return tail;
}

static void mv_entry_free(tw_engine *e, mv_entry *m)
{
    if (m->parent && m->first)
        disconnect(m->parent, m->first);
    for (uint32_t i = 0; i < m->nnodes; i++) {
        remove_order(e, m->nodes[i]);
        tw_node_free(m->nodes[i]);
    }
    free(m->nodes);
    free(m->definition);
    tw_mv_free(m->rel.mv);
    for (uint32_t i = 0; i < m->rel.ncols; i++)
        free(m->rel.col_names[i]);
    free(m->rel.col_names);
    free(m->rel.types);
    free(m->rel.name);
    free(m);
}

/* Finds the output columns that carry the window's start and end: plain
 * references to the window keys (aggregates), to the window columns
 * (TUMBLE/HOP without aggregation), or to an input view's window columns. */
static void set_window_lineage(tw_relation *rel, const tw_plan *p)
{
    rel->window_start_col = rel->window_end_col = -1;
    rel->window_size_us = p->window != TW_WINDOW_NONE ? p->size_us : p->input->window_size_us;
    for (uint32_t i = 0; i < p->nvisible; i++) {
        const tw_expr *o = p->outputs[i];
        if (o->kind != TW_EX_COLUMN)
            continue;
        bool is_start, is_end;
        if (p->has_agg) {
            is_start = p->window_start_key >= 0 && o->column == (uint32_t)p->window_start_key;
            is_end = p->window_end_key >= 0 && o->column == (uint32_t)p->window_end_key;
        } else if (p->window != TW_WINDOW_NONE) {
            is_start = o->column == p->input->ncols;
            is_end = o->column == p->input->ncols + 1;
        } else {
            is_start = (int32_t)o->column == p->input->window_start_col;
            is_end = (int32_t)o->column == p->input->window_end_col;
        }
        if (is_start && rel->window_start_col < 0)
            rel->window_start_col = (int32_t)i;
        if (is_end && rel->window_end_col < 0)
            rel->window_end_col = (int32_t)i;
    }
}

static bool exec_create_mv(tw_engine *e, const tw_sql_script *script, const tw_sql_create_mv *cm,
                           tw_err *err)
{
    bool from_mv;
    int32_t backfill_order = -1;
    if (name_taken(e, cm->name.name)) {
        if (cm->if_not_exists)
            return true;
        return tw_sql_error_at(err, TW_ERR_BIND, script->text, script->len, script->filename,
                               cm->name.loc, "relation '%s' already exists", cm->name.name);
    }
    tw_binder b = {.script = script, .lookup = lookup, .lookup_ctx = e, .batch = false};
    tw_plan *p = tw_bind_select(&b, cm->select, err);
    if (!p)
        return false;
    if (!p->input) {
        tw_plan_free(p);
        return tw_sql_error_at(err, TW_ERR_UNSUPPORTED, script->text, script->len,
                               script->filename, cm->select->loc,
                               "a materialized view needs a FROM clause");
    }
    for (uint32_t i = 0; i < p->noutputs; i++) {
        for (uint32_t k = 0; k < i; k++) {
            if (!strcmp(p->names[i], p->names[k])) {
                char name[256];
                snprintf(name, sizeof name, "%s", p->names[i]);
                tw_plan_free(p);
                return tw_sql_error_at(err, TW_ERR_BIND, script->text, script->len,
                                       script->filename, cm->select->loc,
                                       "column name '%s' appears twice in the view; give one an "
                                       "alias with AS",
                                       name);
            }
        }
    }
    mv_entry *m = tw_xcalloc(1, sizeof *m);
    m->rel.name = tw_xstrdup(cm->name.name);
    m->rel.kind = TW_REL_MV;
    m->rel.ncols = p->noutputs;
    m->rel.col_names = tw_xcalloc(p->noutputs ? p->noutputs : 1, sizeof *m->rel.col_names);
    m->rel.types = tw_xcalloc(p->noutputs ? p->noutputs : 1, sizeof *m->rel.types);
    for (uint32_t i = 0; i < p->noutputs; i++) {
        m->rel.col_names[i] = tw_xstrdup(p->names[i]);
        m->rel.types[i] = p->outputs[i]->type;
    }
    /* Only inserts leave a view that neither aggregates (with updates) nor
     * reads an updating view. */
    m->rel.append_only = p->input->append_only && (!p->has_agg || p->emit_on_window_close);
    m->rel.watermark_col = -1;
    m->rel.owner = m;
    set_window_lineage(&m->rel, p);
    if (p->window != TW_WINDOW_NONE && p->input->kind == TW_REL_SOURCE) {
        source_entry *src = p->input->owner;
        if (src->event_col < 0)
            src->event_col = (int32_t)p->time_col;
    }
    m->rel.mv = tw_mv_new(m->rel.name, (const char *const *)m->rel.col_names, m->rel.types,
                          m->rel.ncols);
    m->parent = p->input->node;
    from_mv = p->input->kind == TW_REL_MV;
    if (p->window != TW_WINDOW_NONE)
        backfill_order = (int32_t)p->time_col; /* retention judges lateness in time order */
    if (!from_mv && ((source_entry *)p->input->owner)->consumed)
        notice(e,
                "view '%s' reads source '%s', which has already been read: it "
                "sees rows from now on (a source is not replayed for one new view; create "
                "views over a view to start from its rows)",
                m->rel.name, p->input->name);
    tw_node *tail = build_chain(e, p, m->parent, &m->nodes, &m->nnodes, true, &m->first);
    tw_node_connect(tail, tw_mv_node(m->rel.mv));
    if (from_mv) {
        backfill(e, p->input, m->first, backfill_order);
        /* Aggregates in the chain publish what the backfill gave them now,
         * so the view is complete when CREATE returns. */
        for (uint32_t i = 0; i < m->nnodes; i++)
            if (m->nodes[i]->ops->barrier)
                m->nodes[i]->ops->barrier(m->nodes[i]);
    }
    tw_node_connect(m->parent, m->first);
    m->rel.node = tw_mv_node(m->rel.mv);
    size_t def_len = cm->select_end - cm->select_start;
    m->definition = tw_xmalloc(def_len + 1);
    memcpy(m->definition, script->text + cm->select_start, def_len);
    m->definition[def_len] = '\0';
    tw_plan_free(p);
    e->mvs = tw_xrealloc(e->mvs, (e->nmvs + 1) * sizeof *e->mvs);
    e->mvs[e->nmvs++] = m;
    if (e->on_view)
        e->on_view(e->on_view_ctx, m->rel.name, true);
    return true;
}

/* ---- connections and sinks ------------------------------------------------ */

static bool exec_create_connection(tw_engine *e, const tw_sql_script *script,
                                   const tw_sql_create_connection *cc, tw_err *err)
{
    for (uint32_t i = 0; i < e->nconns; i++) {
        if (name_is(e->conns[i]->name, cc->name.name)) {
            if (cc->if_not_exists)
                return true;
            return tw_sql_error_at(err, TW_ERR_BIND, script->text, script->len,
                                   script->filename, cc->name.loc,
                                   "connection '%s' already exists", cc->name.name);
        }
    }
    conn_entry *c = tw_xcalloc(1, sizeof *c);
    c->name = tw_xstrdup(cc->name.name);
    options_from_sql(&c->with, &cc->with);
    const char *type = options_get(&c->with, "type");
    if (!type || strcmp(type, "iceberg")) {
        options_free(&c->with);
        free(c->name);
        free(c);
        return tw_sql_error_at(err, TW_ERR_UNSUPPORTED, script->text, script->len,
                               script->filename, cc->name.loc,
                               "connection '%s': type must be 'iceberg' (the only connection "
                               "type tidewatch knows)",
                               cc->name.name);
    }
    e->conns = tw_xrealloc(e->conns, (e->nconns + 1) * sizeof *e->conns);
    e->conns[e->nconns++] = c;
    return true;
}

static char *replay_positions(void *ctx, int64_t wm_us, int64_t window_us);
static bool min_event_time(source_entry *s, int64_t now_us, bool progress, int64_t *out_us);

/* Event time every source has reached (on the columns windows use): the
 * minimum over sources and their live partitions. False while one of them
 * cannot tell yet. */
static bool sources_progress(void *ctx, int64_t *event_time_us)
{
    tw_engine *e = ctx;
    int64_t now = tw_now_mono_us(), min = INT64_MAX;
    bool any = false;
    for (uint32_t i = 0; i < e->nsources; i++) {
        source_entry *s = e->sources[i];
        int64_t t;
        if (s->event_col < 0)
            continue;
        if (!min_event_time(s, now, true, &t))
            return false;
        min = t < min ? t : min;
        any = true;
    }
    if (any)
        *event_time_us = min;
    return any;
}

static void sink_entry_free(tw_engine *e, sink_entry *s)
{
    if (s->node) {
        disconnect(s->parent, s->node);
        remove_order(e, s->node);
        tw_node_free(s->node);
    }
    options_free(&s->with);
    free(s->name);
    free(s->from);
    free(s);
}

/* Restarts each source at the positions a previous run committed. */
static bool resume_sources(tw_engine *e, const char *positions, tw_err *err)
{
    json_error_t jerr;
    json_t *root = json_loads(positions, 0, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return tw_err_set(err, TW_ERR_IO, "the table's recorded positions are not valid JSON: %s",
                          jerr.text);
    }
    const char *src_name;
    json_t *parts;
    bool ok = true;
    json_object_foreach(root, src_name, parts)
    {
        source_entry *s = NULL;
        for (uint32_t i = 0; i < e->nsources; i++)
            if (name_is(e->sources[i]->rel.name, src_name))
                s = e->sources[i];
        if (!s || !json_is_object(parts))
            continue; /* a source no longer in the pipeline */
        const char *part;
        json_t *pos;
        json_object_foreach(parts, part, pos)
        {
            if (!s->driver->ops->seek || !json_is_integer(pos)) {
                ok = tw_err_set(err, TW_ERR_CONFIG,
                                "source '%s' cannot resume where the sink's last commit ended "
                                "(it cannot be replayed)",
                                src_name);
                break;
            }
            if (!s->driver->ops->seek(s->driver, (int32_t)atoi(part),
                                      (uint64_t)json_integer_value(pos), err)) {
                tw_err_prefix(err, "source '%s'", src_name);
                ok = false;
                break;
            }
        }
        if (!ok)
            break;
    }
    json_decref(root);
    return ok;
}

/* Creates the sink node over `from`. *backfill says whether the view's
 * current rows should be fed to it before it is connected. */
static tw_node *create_sink_node(tw_engine *e, const char *name, tw_relation *from,
                                 const options *o, bool *backfill, tw_err *err)
{
    const char *type = options_get(o, "type");
    bool upsert = type && !strcmp(type, "upsert");
    if (type && !upsert && strcmp(type, "append-only")) {
        tw_err_set(err, TW_ERR_CONFIG, "sink '%s': type must be 'append-only' or 'upsert', not '%s'",
                   name, type);
        return NULL;
    }
    if (!type) {
        tw_err_set(err, TW_ERR_CONFIG, "sink '%s': set type = 'append-only' or type = 'upsert'",
                   name);
        return NULL;
    }
    tw_sink_config cfg = {
        .name = name,
        .mode = upsert ? TW_SINK_UPSERT : TW_SINK_APPEND,
        .types = from->types,
        .ncols = from->ncols,
        .input_append_only = from->append_only,
        .window_end_col = from->window_end_col,
        .window_start_col = from->window_start_col,
        .window_size_us = from->window_size_us,
        .lateness_us = e->opts.sink_lateness_us,
        .commit_every = 10,
        .resume_watermark_us = INT64_MIN,
        .positions = replay_positions,
        .positions_ctx = e,
        .progress = sources_progress,
    };
    const char *every = options_get(o, "commit_checkpoint_interval");
    if (every) {
        char *end;
        long n = strtol(every, &end, 10);
        if (*end || n < 1 || n > 100000) {
            tw_err_set(err, TW_ERR_CONFIG,
                       "sink '%s': commit_checkpoint_interval must be a positive number of "
                       "barriers, not '%s'",
                       name, every);
            return NULL;
        }
        cfg.commit_every = (uint32_t)n;
    }
    uint32_t keys[64];
    uint32_t nkeys = 0;
    const char *pk = options_get(o, "primary_key");
    if (upsert) {
        if (!pk) {
            tw_err_set(err, TW_ERR_CONFIG,
                       "sink '%s': type = 'upsert' needs primary_key = 'col1,col2'", name);
            return NULL;
        }
        char *list = tw_xstrdup(pk);
        bool ok = true;
        for (char *save = NULL, *tok = strtok_r(list, ", ", &save); tok && ok;
             tok = strtok_r(NULL, ", ", &save)) {
            int32_t col = -1;
            for (uint32_t c = 0; c < from->ncols; c++)
                if (!strcmp(from->col_names[c], tok))
                    col = (int32_t)c;
            if (col < 0 || nkeys == 64)
                ok = tw_err_set(err, TW_ERR_CONFIG,
                                "sink '%s': primary_key column '%s' is not a column of '%s'",
                                name, tok, from->name);
            else
                keys[nkeys++] = (uint32_t)col;
        }
        free(list);
        if (!ok)
            return NULL;
        cfg.key_cols = keys;
        cfg.nkey_cols = nkeys;
    } else if (!from->append_only && from->window_end_col < 0 && from->window_start_col < 0) {
        tw_err_set(err, TW_ERR_CONFIG,
                   "sink '%s': '%s' is an updating view without window columns, so an "
                   "append-only sink would write every intermediate value; use type = "
                   "'upsert' with primary_key",
                   name, from->name);
        return NULL;
    }
    const char **keys_arr = tw_xcalloc(o->count + 1, sizeof *keys_arr);
    const char **vals_arr = tw_xcalloc(o->count + 1, sizeof *vals_arr);
    for (uint32_t i = 0; i < o->count; i++) {
        keys_arr[i] = o->items[i].key;
        vals_arr[i] = o->items[i].value;
    }
    tw_iceberg_target_opts topts = {
        .sink_name = name,
        .keys = keys_arr,
        .values = vals_arr,
        .nopts = o->count,
        .data_dir = e->opts.data_dir ? e->opts.data_dir : ".",
        .col_names = (const char *const *)from->col_names,
        .types = from->types,
        .ncols = from->ncols,
        .key_cols = keys,
        .nkey_cols = nkeys,
    };
    tw_sink_target target;
    bool ok = tw_iceberg_target_open(&topts, &target, err);
    free(keys_arr);
    free(vals_arr);
    if (!ok) {
        tw_err_prefix(err, "sink '%s'", name);
        /* The first thing a new user meets with the seed's SQL and no
         * catalog or object store running. */
        if (err && err->code == TW_ERR_IO) {
            size_t n = strlen(err->msg);
            snprintf(err->msg + n, sizeof err->msg - n,
                     "\n  (a sink's catalog and storage must be reachable when it is created; "
                     "`tidewatch run --no-sinks` runs the pipeline without its sinks)");
        }
        return NULL;
    }
    char *positions = NULL;
    int64_t wm = INT64_MIN;
    if (!target.last_commit(target.ctx, &positions, &wm, err)) {
        target.close(target.ctx);
        tw_err_prefix(err, "sink '%s'", name);
        return NULL;
    }
    /* Before the pipeline has read anything (a start or a restart), the
     * sources replay from where the table's last commit needs them. Once
     * they have been read, the views already hold those rows: replaying
     * would count them twice, so the sink is backfilled from its view
     * instead, and rows of windows ending at or before the committed
     * watermark are not written again (resume_watermark_us). */
    source_entry *src = root_source(e, from);
    bool consumed = src && src->consumed;
    if (positions && !consumed && !resume_sources(e, positions, err)) {
        free(positions);
        target.close(target.ctx);
        tw_err_prefix(err, "sink '%s'", name);
        return NULL;
    }
    /* An append-only sink over a view without windows cannot tell which of
     * the view's rows a table with earlier commits already has. */
    bool windowed = from->window_end_col >= 0 || from->window_start_col >= 0;
    *backfill = from->kind == TW_REL_MV && (upsert || windowed || !positions);
    if (consumed && !*backfill)
        notice(e, "sink '%s': %s: the sink writes rows from now on", name,
                from->kind != TW_REL_MV
                    ? "its source has already been read and a source is not replayed"
                    : "the table has rows of an earlier sink, and without window columns "
                      "the view cannot tell which");
    free(positions);
    cfg.resume_watermark_us = wm;
    return tw_sink_new(&cfg, target);
}

static bool exec_create_sink(tw_engine *e, const tw_sql_script *script,
                             const tw_sql_create_sink *cs, tw_err *err)
{
    if (name_taken(e, cs->name.name)) {
        if (cs->if_not_exists)
            return true;
        return tw_sql_error_at(err, TW_ERR_BIND, script->text, script->len, script->filename,
                               cs->name.loc, "'%s' already exists", cs->name.name);
    }
    if (!cs->has_from)
        return tw_sql_error_at(err, TW_ERR_UNSUPPORTED, script->text, script->len,
                               script->filename, cs->name.loc,
                               "CREATE SINK ... AS SELECT is not supported yet; create a "
                               "materialized view and sink FROM it");
    if (!lookup(e, &cs->from))
        return tw_sql_error_at(err, TW_ERR_BIND, script->text, script->len, script->filename,
                               cs->from.loc, "relation '%s' does not exist", cs->from.name);
    options with = {0};
    options_from_sql(&with, &cs->with);
    const char *connector = options_get(&with, "connector");
    const char *conn = options_get(&with, "connection");
    bool ok = true;
    if (!connector) {
        ok = tw_sql_error_at(err, TW_ERR_CONFIG, script->text, script->len, script->filename,
                             cs->name.loc, "sink '%s' has no connector option",
                             cs->name.name);
    } else if (conn) {
        const char *short_name = strrchr(conn, '.') ? strrchr(conn, '.') + 1 : conn;
        bool found = false;
        for (uint32_t i = 0; i < e->nconns; i++)
            found |= name_is(e->conns[i]->name, short_name);
        if (!found)
            ok = tw_sql_error_at(err, TW_ERR_BIND, script->text, script->len, script->filename,
                                 cs->name.loc, "sink '%s': connection '%s' does not exist",
                                 cs->name.name, conn);
    }
    if (ok && strcmp(connector, "iceberg"))
        ok = tw_sql_error_at(err, TW_ERR_UNSUPPORTED, script->text, script->len,
                             script->filename, cs->name.loc,
                             "sink '%s': connector '%s' is not supported (tidewatch sinks to "
                             "'iceberg'); run with --no-sinks to run the pipeline without it",
                             cs->name.name, connector);
    tw_node *node = NULL;
    bool backfill_rows = false;
    tw_relation *from = lookup(e, &cs->from);
    if (ok && !e->opts.no_sinks) {
        /* The connection's options first, the sink's own on top. */
        options merged = {0};
        if (conn) {
            const char *short_name = strrchr(conn, '.') ? strrchr(conn, '.') + 1 : conn;
            for (uint32_t i = 0; i < e->nconns; i++)
                if (name_is(e->conns[i]->name, short_name))
                    for (uint32_t k = 0; k < e->conns[i]->with.count; k++)
                        options_put(&merged, e->conns[i]->with.items[k].key,
                                    e->conns[i]->with.items[k].value);
        }
        for (uint32_t k = 0; k < with.count; k++)
            options_put(&merged, with.items[k].key, with.items[k].value);
        node = create_sink_node(e, cs->name.name, from, &merged, &backfill_rows, err);
        options_free(&merged);
        if (!node)
            tw_err_prefix(err, "%s", script->filename);
        ok = node != NULL;
    }
    if (!ok) {
        options_free(&with);
        return false;
    }
    sink_entry *s = tw_xcalloc(1, sizeof *s);
    s->name = tw_xstrdup(cs->name.name);
    s->from = tw_xstrdup(cs->from.name);
    s->with = with;
    if (node) {
        s->node = node;
        s->parent = from->node;
        if (backfill_rows)
            backfill(e, from, node, -1);
        tw_node_connect(from->node, node);
        add_order(e, node);
    }
    e->sinks = tw_xrealloc(e->sinks, (e->nsinks + 1) * sizeof *e->sinks);
    e->sinks[e->nsinks++] = s;
    if (e->on_sink)
        e->on_sink(e->on_sink_ctx, s->name, s->from);
    return true;
}

/* ---- DROP ------------------------------------------------------------- */

static void remove_taps(tw_engine *e, const tw_node *parent, const void *ctx);

static bool has_dependents(tw_engine *e, const char *name, const char **who)
{
    tw_sql_name n = {.name = name};
    tw_relation *rel = lookup(e, &n);
    for (uint32_t i = 0; rel && i < e->nmvs; i++) {
        if (e->mvs[i]->parent == rel->node) {
            *who = e->mvs[i]->rel.name;
            return true;
        }
    }
    for (uint32_t i = 0; i < e->nsinks; i++) {
        if (name_is(e->sinks[i]->from, name)) {
            *who = e->sinks[i]->name;
            return true;
        }
    }
    return false;
}

static bool exec_drop(tw_engine *e, const tw_sql_script *script, const tw_sql_drop *d,
                      tw_err *err)
{
    const char *name = d->name.name;
    const char *kind = tw_sql_object_kind_name(d->object);
    const char *who = NULL;
    switch (d->object) {
    case TW_SQL_OBJ_SOURCE:
    case TW_SQL_OBJ_TABLE:
        for (uint32_t i = 0; i < e->nsources; i++) {
            if (!name_is(e->sources[i]->rel.name, name))
                continue;
            if (has_dependents(e, name, &who))
                goto depends;
            source_free(e->sources[i]);
            memmove(&e->sources[i], &e->sources[i + 1], (e->nsources - i - 1) * sizeof(void *));
            e->nsources--;
            return true;
        }
        break;
    case TW_SQL_OBJ_MATERIALIZED_VIEW:
        for (uint32_t i = 0; i < e->nmvs; i++) {
            if (!name_is(e->mvs[i]->rel.name, name))
                continue;
            if (has_dependents(e, name, &who))
                goto depends;
            remove_taps(e, e->mvs[i]->rel.node, NULL);
            mv_entry_free(e, e->mvs[i]);
            memmove(&e->mvs[i], &e->mvs[i + 1], (e->nmvs - i - 1) * sizeof(void *));
            e->nmvs--;
            if (e->on_view)
                e->on_view(e->on_view_ctx, name, false);
            return true;
        }
        break;
    case TW_SQL_OBJ_SINK:
        for (uint32_t i = 0; i < e->nsinks; i++) {
            if (!name_is(e->sinks[i]->name, name))
                continue;
            sink_entry_free(e, e->sinks[i]);
            memmove(&e->sinks[i], &e->sinks[i + 1], (e->nsinks - i - 1) * sizeof(void *));
            e->nsinks--;
            return true;
        }
        break;
    case TW_SQL_OBJ_CONNECTION:
        for (uint32_t i = 0; i < e->nconns; i++) {
            if (!name_is(e->conns[i]->name, name))
                continue;
            options_free(&e->conns[i]->with);
            free(e->conns[i]->name);
            free(e->conns[i]);
            memmove(&e->conns[i], &e->conns[i + 1], (e->nconns - i - 1) * sizeof(void *));
            e->nconns--;
            return true;
        }
        break;
    case TW_SQL_OBJ_VIEW:
        return tw_sql_error_at(err, TW_ERR_UNSUPPORTED, script->text, script->len,
                               script->filename, d->name.loc,
                               "views are not supported yet (use MATERIALIZED VIEW)");
    }
    if (d->if_exists)
        return true;
    return tw_sql_error_at(err, TW_ERR_BIND, script->text, script->len, script->filename,
                           d->name.loc, "%s '%s' does not exist", kind, name);
depends:
    return tw_sql_error_at(err, TW_ERR_BIND, script->text, script->len, script->filename,
                           d->name.loc, "cannot drop %s '%s': '%s' depends on it (drop it first)",
                           kind, name, who);
}

/* ---- batch queries -------------------------------------------------------- */

typedef struct scan_ctx {
    tw_node *first;
} scan_ctx;

static void scan_push(void *ctx, const tw_batch *rows)
{
    scan_ctx *s = ctx;
    s->first->rows_in += rows->nrows;
    s->first->ops->push(s->first, rows);
}

static tw_result *run_query(tw_engine *e, tw_plan *p)
{
    tw_result *res = tw_xcalloc(1, sizeof *res);
    res->ncols = p->nvisible;
    res->names = tw_xcalloc(p->noutputs ? p->noutputs : 1, sizeof *res->names);
    tw_type *all_types = tw_xcalloc(p->noutputs ? p->noutputs : 1, sizeof *all_types);
    for (uint32_t i = 0; i < p->noutputs; i++) {
        res->names[i] = tw_xstrdup(p->names[i]);
        all_types[i] = p->outputs[i]->type;
    }
    uint32_t ncols_all = p->noutputs;
    tw_order_key *order = p->order;
    uint32_t norder = p->norder;
    p->order = NULL;
    int64_t limit = p->limit, offset = p->offset;
    tw_node **nodes = NULL;
    uint32_t nn = 0;
    tw_node *collect = tw_collect_new(all_types, ncols_all);
    tw_node *first;
    /* A parentless chain: scan batches are pushed into its first node. */
    tw_node anchor;
    tw_node_init(&anchor, NULL);
    tw_node *tail = build_chain(e, p, &anchor, &nodes, &nn, false, &first);
    tw_node_connect(tail, collect);
    if (p->input) {
        scan_ctx sc = {first};
        tw_mv *mv = p->input->mv;
        assert(mv);
        tw_mv_scan(mv, scan_push, &sc);
    } else {
        tw_batch *one = tw_batch_new(NULL, 0, 1);
        one->nrows = 1;
        first->ops->push(first, one);
        tw_batch_free(one);
    }
    for (uint32_t i = 0; i < nn; i++)
        if (nodes[i]->ops->barrier)
            nodes[i]->ops->barrier(nodes[i]);
    tw_batch **batches;
    uint32_t nb = tw_collect_batches(collect, &batches);
    /* Sort row references, then copy out the window [offset, offset+limit). */
    uint64_t total = 0;
    for (uint32_t i = 0; i < nb; i++)
        total += batches[i]->nrows;
    typedef struct {
        uint32_t b, r;
    } ref;
    ref *refs = tw_xmalloc((total ? total : 1) * sizeof *refs);
    uint64_t k = 0;
    for (uint32_t i = 0; i < nb; i++)
        for (uint32_t r = 0; r < batches[i]->nrows; r++)
            refs[k++] = (ref){i, r};
    if (norder) {
        /* Insertion into a merge sort: qsort has no context argument in C17. */
        ref *tmp = tw_xmalloc((total ? total : 1) * sizeof *tmp);
        for (uint64_t width = 1; width < total; width *= 2) {
            for (uint64_t lo = 0; lo < total; lo += 2 * width) {
                uint64_t mid = lo + width < total ? lo + width : total;
                uint64_t hi = lo + 2 * width < total ? lo + 2 * width : total;
                uint64_t a = lo, b2 = mid, o = lo;
                while (a < mid || b2 < hi) {
                    bool take_a;
                    if (a >= mid)
                        take_a = false;
                    else if (b2 >= hi)
                        take_a = true;
                    else {
                        int c = 0;
                        for (uint32_t q = 0; q < norder && !c; q++) {
                            uint32_t col = order[q].column;
                            tw_value x = tw_column_get(&batches[refs[a].b]->cols[col], refs[a].r);
                            tw_value y =
                                tw_column_get(&batches[refs[b2].b]->cols[col], refs[b2].r);
                            if (x.is_null != y.is_null)
                                c = (x.is_null ? 1 : -1) * (order[q].nulls_first ? -1 : 1);
                            else
                                c = tw_value_cmp(&x, &y) * (order[q].desc ? -1 : 1);
                        }
                        take_a = c <= 0;
                    }
                    tmp[o++] = take_a ? refs[a++] : refs[b2++];
                }
            }
            ref *swap = refs;
            refs = tmp;
            tmp = swap;
        }
        free(tmp);
    }
    uint64_t start = (uint64_t)(offset > 0 ? offset : 0);
    uint64_t end = limit >= 0 && start + (uint64_t)limit < total ? start + (uint64_t)limit : total;
    res->types = tw_xcalloc(res->ncols ? res->ncols : 1, sizeof *res->types);
    memcpy(res->types, all_types, res->ncols * sizeof *res->types);
    tw_batch *cur = NULL;
    for (uint64_t i = start; i < end; i++) {
        if (!cur || cur->nrows == cur->capacity) {
            cur = tw_batch_new(res->types, res->ncols, TW_BATCH_ROWS);
            res->batches = tw_xrealloc(res->batches, (res->nbatches + 1) * sizeof *res->batches);
            res->batches[res->nbatches++] = cur;
        }
        const tw_batch *src = batches[refs[i].b];
        uint32_t r = cur->nrows++;
        for (uint32_t c = 0; c < res->ncols; c++) {
            tw_value v = tw_column_get(&src->cols[c], refs[i].r);
            if (v.type == TW_T_VARCHAR && !v.is_null)
                v.s = tw_batch_strdup(cur, v.s.ptr, v.s.len);
            tw_column_put(&cur->cols[c], r, &v);
        }
        res->nrows++;
    }
    free(refs);
    free(order);
    for (uint32_t i = 0; i < nn; i++) {
        remove_order(e, nodes[i]);
        tw_node_free(nodes[i]);
    }
    free(nodes);
    free(anchor.down);
    tw_node_free(collect);
    for (uint32_t i = res->ncols; i < ncols_all; i++)
        free(res->names[i]);
    free(all_types);
    (void)limit;
    return res;
}

void tw_result_free(tw_result *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->ncols; i++)
        free(r->names[i]);
    free(r->names);
    free(r->types);
    for (uint32_t i = 0; i < r->nbatches; i++)
        tw_batch_free(r->batches[i]);
    free(r->batches);
    free(r);
}

static bool exec_select(tw_engine *e, const tw_sql_script *script, const tw_sql_select *sel,
                        void (*on_result)(void *, tw_result *), void *ctx, tw_err *err)
{
    tw_binder b = {.script = script, .lookup = lookup, .lookup_ctx = e, .batch = true};
    tw_plan *p = tw_bind_select(&b, sel, err);
    if (!p)
        return false;
    if (p->input && p->input->kind != TW_REL_MV) {
        tw_sql_error_at(err, TW_ERR_UNSUPPORTED, script->text, script->len, script->filename,
                        sel->from->rel.loc,
                        "'%s' is a source: a batch SELECT reads materialized views (create one "
                        "over the source)",
                        p->input->name);
        tw_plan_free(p);
        return false;
    }
    tw_result *res = run_query(e, p);
    tw_plan_free(p);
    if (on_result)
        on_result(ctx, res);
    else
        tw_result_free(res);
    return true;
}

/* A result of text columns, for SHOW and DESCRIBE. */
static tw_result *text_result(const char *const *names, uint32_t ncols)
{
    tw_result *r = tw_xcalloc(1, sizeof *r);
    r->ncols = ncols;
    r->names = tw_xcalloc(ncols, sizeof *r->names);
    r->types = tw_xcalloc(ncols, sizeof *r->types);
    for (uint32_t c = 0; c < ncols; c++) {
        r->names[c] = tw_xstrdup(names[c]);
        r->types[c] = TW_T_VARCHAR;
    }
    return r;
}

static void text_row(tw_result *r, const char *const *vals)
{
    tw_batch *b = r->nbatches ? r->batches[r->nbatches - 1] : NULL;
    if (!b || b->nrows == b->capacity) {
        b = tw_batch_new(r->types, r->ncols, TW_BATCH_ROWS);
        r->batches = tw_xrealloc(r->batches, (r->nbatches + 1) * sizeof *r->batches);
        r->batches[r->nbatches++] = b;
    }
    uint32_t row = b->nrows++;
    for (uint32_t c = 0; c < r->ncols; c++) {
        tw_value v = tw_value_null(TW_T_VARCHAR);
        if (vals[c]) {
            v.is_null = false;
            v.s = tw_batch_strdup(b, vals[c], strlen(vals[c]));
        }
        tw_column_put(&b->cols[c], row, &v);
    }
    r->nrows++;
}

static void deliver(tw_result *r, void (*on_result)(void *, tw_result *), void *ctx)
{
    if (on_result)
        on_result(ctx, r);
    else
        tw_result_free(r);
}

static bool exec_show(tw_engine *e, const tw_sql_script *script, const tw_sql_show *sh,
                      void (*on_result)(void *, tw_result *), void *ctx, tw_err *err)
{
    static const char *name_col[] = {"Name"};
    tw_result *r;
    switch (sh->what) {
    case TW_SQL_SHOW_SOURCES:
    case TW_SQL_SHOW_TABLES:
        r = text_result(name_col, 1);
        for (uint32_t i = 0; sh->what == TW_SQL_SHOW_SOURCES && i < e->nsources; i++)
            text_row(r, (const char *[]){e->sources[i]->rel.name});
        break;
    case TW_SQL_SHOW_MATERIALIZED_VIEWS:
        r = text_result(name_col, 1);
        for (uint32_t i = 0; i < e->nmvs; i++)
            text_row(r, (const char *[]){e->mvs[i]->rel.name});
        break;
    case TW_SQL_SHOW_SINKS:
        r = text_result(name_col, 1);
        for (uint32_t i = 0; i < e->nsinks; i++)
            text_row(r, (const char *[]){e->sinks[i]->name});
        break;
    case TW_SQL_SHOW_CONNECTIONS: {
        static const char *cols[] = {"Name", "Type", "Properties"};
        r = text_result(cols, 3);
        for (uint32_t i = 0; i < e->nconns; i++) {
            /* Secrets are never shown. */
            char props[1024] = "";
            size_t n = 0;
            for (uint32_t k = 0; k < e->conns[i]->with.count; k++) {
                const kv *o = &e->conns[i]->with.items[k];
                bool secret = strstr(o->key, "secret") || strstr(o->key, "password") ||
                              strstr(o->key, "token") || strstr(o->key, "credential");
                int w = snprintf(props + n, sizeof props - n, "%s%s = %s", k ? ", " : "", o->key,
                                 secret ? "'***'" : o->value);
                if (w < 0 || (size_t)w >= sizeof props - n)
                    break;
                n += (size_t)w;
            }
            text_row(r, (const char *[]){e->conns[i]->name, "iceberg", props});
        }
        break;
    }
    case TW_SQL_SHOW_PARAM:
    default:
        return tw_sql_error_at(err, TW_ERR_UNSUPPORTED, script->text, script->len,
                               script->filename, 0, "SHOW %s is not supported yet",
                               sh->param ? sh->param : "");
    }
    deliver(r, on_result, ctx);
    return true;
}

static bool exec_describe(tw_engine *e, const tw_sql_script *script, const tw_sql_describe *d,
                          void (*on_result)(void *, tw_result *), void *ctx, tw_err *err)
{
    tw_relation *rel = lookup(e, &d->name);
    if (!rel)
        return tw_sql_error_at(err, TW_ERR_BIND, script->text, script->len, script->filename,
                               d->name.loc, "relation '%s' does not exist", d->name.name);
    static const char *cols[] = {"Name", "Type", "Is Hidden", "Description"};
    tw_result *r = text_result(cols, 4);
    for (uint32_t c = 0; c < rel->ncols; c++)
        text_row(r, (const char *[]){rel->col_names[c], tw_type_name(rel->types[c]), "false", NULL});
    deliver(r, on_result, ctx);
    return true;
}

bool tw_engine_exec(tw_engine *e, const char *sql, size_t len, const char *filename,
                    void (*on_result)(void *ctx, tw_result *result), void *ctx, tw_err *err)
{
    tw_arena arena;
    tw_arena_init(&arena, 64 * 1024);
    tw_sql_script script;
    bool ok = tw_sql_parse_script(sql, len, filename, &arena, &script, err);
    for (uint32_t i = 0; ok && i < script.nstmts; i++) {
        const tw_sql_stmt *st = &script.stmts[i];
        switch (st->kind) {
        case TW_SQL_STMT_CREATE_SOURCE:
            ok = exec_create_source(e, &script, st->u.create_source, err);
            break;
        case TW_SQL_STMT_CREATE_MV: ok = exec_create_mv(e, &script, st->u.create_mv, err); break;
        case TW_SQL_STMT_CREATE_CONNECTION:
            ok = exec_create_connection(e, &script, st->u.create_connection, err);
            break;
        case TW_SQL_STMT_CREATE_SINK:
            ok = exec_create_sink(e, &script, st->u.create_sink, err);
            break;
        case TW_SQL_STMT_DROP: ok = exec_drop(e, &script, st->u.drop, err); break;
        case TW_SQL_STMT_SELECT:
            ok = exec_select(e, &script, st->u.select, on_result, ctx, err);
            break;
        case TW_SQL_STMT_SET: break; /* accepted; no session parameters matter yet */
        case TW_SQL_STMT_SHOW:
            ok = exec_show(e, &script, st->u.show, on_result, ctx, err);
            break;
        case TW_SQL_STMT_DESCRIBE:
            ok = exec_describe(e, &script, st->u.describe, on_result, ctx, err);
            break;
        }
        if (ok && e->opts.on_ddl && st->kind != TW_SQL_STMT_SELECT &&
            st->kind != TW_SQL_STMT_SHOW && st->kind != TW_SQL_STMT_DESCRIBE)
            e->opts.on_ddl(e->opts.on_ddl_ctx, script.text + st->start, st->end - st->start);
    }
    tw_arena_free(&arena);
    return ok;
}

/* ---- the loop --------------------------------------------------------- */

static partition_time *partition_slot(source_entry *s, int32_t partition)
{
    uint32_t idx = (uint32_t)(partition + 1);
    if (idx >= s->nparts) {
        uint32_t n = idx + 1;
        s->parts = tw_xrealloc(s->parts, n * sizeof *s->parts);
        memset(s->parts + s->nparts, 0, (n - s->nparts) * sizeof *s->parts);
        s->nparts = n;
    }
    return &s->parts[idx];
}

/* Refreshes which partitions event time must wait for: every partition the
 * driver lists; one that has had no data for PARTITION_IDLE_US stops
 * holding event time back. */
static void refresh_partitions(source_entry *s, int64_t now_us)
{
    if (!s->driver || !s->driver->ops->live_partitions)
        return;
    int32_t list[4096];
    uint32_t n = s->driver->ops->live_partitions(s->driver, list, 4096);
    for (uint32_t i = 0; i < s->nparts; i++)
        s->parts[i].live = false;
    for (uint32_t i = 0; i < n; i++) {
        partition_time *p = partition_slot(s, list[i]);
        if (!p->live_since_mono_us)
            p->live_since_mono_us = now_us;
        p->live = true;
    }
}

/* The smallest, over the partitions event time waits for, of their newest
 * event time (on the WATERMARK column, or with progress, the window
 * column). False while some partition has not been heard from yet. */
static bool min_event_time(source_entry *s, int64_t now_us, bool progress, int64_t *out_us)
{
    bool any = false, any_idle = false, listed = s->driver && s->driver->ops->live_partitions;
    int64_t min = INT64_MAX, idle_max = INT64_MIN;
    for (uint32_t i = 0; i < s->nparts; i++) {
        partition_time *p = &s->parts[i];
        bool seen = progress ? p->progress_seen : p->seen;
        int64_t t = progress ? p->progress_us : p->max_event_us;
        if (listed && !p->live)
            continue; /* revoked, or read to its end */
        if (!seen) {
            if (listed && now_us - p->live_since_mono_us <= PARTITION_IDLE_US)
                return false; /* not heard from yet: wait for it */
            continue;
        }
        if (s->nparts > 1 && now_us - p->last_data_mono_us > PARTITION_IDLE_US) {
            idle_max = t > idle_max ? t : idle_max;
            any_idle = true;
            continue;
        }
        if (t < min)
            min = t;
        any = true;
    }
    if (!any && any_idle) {
        /* Every partition is idle: what they had is all there is. */
        *out_us = idle_max;
        return true;
    }
    if (any)
        *out_us = min;
    return any;
}

/* The source's watermark: the smallest event-time maximum over partitions
 * that are not idle, minus the declared delay. */
static bool current_watermark(source_entry *s, int64_t now_us, int64_t *wm_us)
{
    int64_t min;
    if (!min_event_time(s, now_us, false, &min))
        return false;
    *wm_us = min - s->rel.watermark_delay_us;
    return true;
}

/* Drops rows older than the watermark and advances the partition's event
 * time; a row is late when it is older than the watermark as it stood
 * before the row. */
static void apply_watermark(source_entry *s, tw_batch *b, int32_t partition, int64_t now_us)
{
    int32_t wc = s->rel.watermark_col;
    const tw_column *tc = &b->cols[wc];
    partition_time *p = partition_slot(s, partition);
    int64_t wm = INT64_MIN;
    bool have_wm = current_watermark(s, now_us, &wm);
    if (s->have_wm && s->last_wm_us > wm)
        wm = s->last_wm_us, have_wm = true; /* a watermark never goes back */
    uint32_t keep = 0;
    uint32_t sel[TW_BATCH_ROWS];
    for (uint32_t r = 0; r < b->nrows; r++) {
        if (tc->valid[r]) {
            int64_t t = tc->i64[r];
            if (have_wm && t < wm) {
                s->late_rows++;
                continue;
            }
            if (!p->seen || t > p->max_event_us) {
                p->max_event_us = t;
                p->seen = true;
                if (partition < 0) {
                    /* One partition: the watermark follows every row. */
                    int64_t nwm = t - s->rel.watermark_delay_us;
                    if (!have_wm || nwm > wm)
                        wm = nwm, have_wm = true;
                }
            }
        }
        sel[keep++] = r;
    }
    p->last_data_mono_us = now_us;
    if (keep == b->nrows)
        return;
    for (uint32_t c = 0; c < b->ncols; c++) {
        tw_column *col = &b->cols[c];
        for (uint32_t i = 0; i < keep; i++) {
            uint32_t r = sel[i];
            col->valid[i] = col->valid[r];
            switch (tw_type_phys(col->type)) {
            case TW_PHYS_BOOL: col->b[i] = col->b[r]; break;
            case TW_PHYS_I64: col->i64[i] = col->i64[r]; break;
            case TW_PHYS_F64: col->f64[i] = col->f64[r]; break;
            case TW_PHYS_STR: col->s[i] = col->s[r]; break;
            }
        }
    }
    b->nrows = keep;
}

static void advance_watermark(source_entry *s, int64_t now_us)
{
    int64_t wm;
    if (s->rel.watermark_col < 0 || !current_watermark(s, now_us, &wm))
        return;
    if (!s->have_wm || wm > s->last_wm_us) {
        s->have_wm = true;
        s->last_wm_us = wm;
        tw_node_forward_watermark(&s->node, wm);
    }
}

/* Records where this batch sits in event time, merging it into the last
 * span when it starts at the same position (batches of one chunk). */
static void note_position(source_entry *s, const tw_batch *b, int32_t partition)
{
    if (s->event_col < 0)
        return;
    const tw_column *tc = &b->cols[s->event_col];
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (uint32_t r = 0; r < b->nrows; r++) {
        if (!tc->valid[r])
            continue;
        lo = tc->i64[r] < lo ? tc->i64[r] : lo;
        hi = tc->i64[r] > hi ? tc->i64[r] : hi;
    }
    if (lo > hi)
        return;
    partition_time *p = partition_slot(s, partition);
    if (!p->progress_seen || hi > p->progress_us) {
        p->progress_us = hi;
        p->progress_seen = true;
    }
    uint64_t pos;
    if (!s->driver->ops->batch_position || !s->driver->ops->batch_position(s->driver, &pos))
        return;
    position_span *last = p->nspans ? &p->spans[p->nspans - 1] : NULL;
    if (last && last->position == pos) {
        last->min_us = lo < last->min_us ? lo : last->min_us;
        last->max_us = hi > last->max_us ? hi : last->max_us;
        return;
    }
    if (p->nspans == p->cap_spans) {
        p->cap_spans = p->cap_spans ? p->cap_spans * 2 : 64;
        p->spans = tw_xrealloc(p->spans, p->cap_spans * sizeof *p->spans);
    }
    p->spans[p->nspans++] = (position_span){lo, hi, pos};
}

static void emit_batch(source_entry *s, tw_batch *b, int32_t partition, int64_t now_us)
{
    partition_slot(s, partition)->last_data_mono_us = now_us;
    note_position(s, b, partition);
    if (s->rel.watermark_col >= 0)
        apply_watermark(s, b, partition, now_us);
    s->consumed = true;
    tw_node_emit(&s->node, b);
    s->driver->ops->done(s->driver);
    advance_watermark(s, now_us);
}

/* Reads and processes up to BATCHES_PER_PUMP batches. Returns 1 when work
 * was done, 0 when the source had nothing, -1 on error. */
static int source_pump(source_entry *s, tw_err *err)
{
    /* Like a RisingWave source, one nothing reads yet is not consumed: a
     * view created later over the wire still sees the input from the start. */
    if (s->eof || !s->node.ndown)
        return 0;
    int64_t now = tw_now_mono_us();
    int worked = 0;
    refresh_partitions(s, now);
    for (int i = 0; i < BATCHES_PER_PUMP; i++) {
        int32_t partition = -1;
        tw_batch *batch = NULL;
        tw_read_status st = s->driver->ops->read(s->driver, &batch, &partition, err);
        if (st == TW_READ_ERROR) {
            tw_err_prefix(err, "source '%s'", s->rel.name);
            return -1;
        }
        if (st == TW_READ_DATA)
            emit_batch(s, batch, partition, now);
        s->driver->ops->stats(s->driver, &s->stats);
        if (st == TW_READ_EOF) {
            s->eof = true;
            return 1;
        }
        if (st == TW_READ_AGAIN)
            break;
        worked = 1;
    }
    return worked;
}

/* The replay positions for a commit at sink watermark wm_us: per source and
 * partition, the earliest position whose rows may still belong to a window
 * ending after wm_us (event time >= wm_us - window). Spans entirely older
 * are dropped: a later commit's watermark is never lower. Returns JSON
 * {"source": {"partition": position, ...}, ...}, malloc'ed. */
static char *replay_positions(void *ctx, int64_t wm_us, int64_t window_us)
{
    tw_engine *e = ctx;
    size_t cap = 256, len = 0;
    char *out = tw_xmalloc(cap);
#define APPEND(...)                                                                                \
    do {                                                                                           \
        int n_ = snprintf(out + len, cap - len, __VA_ARGS__);                                      \
        while ((size_t)n_ >= cap - len) {                                                          \
            cap *= 2;                                                                              \
            out = tw_xrealloc(out, cap);                                                           \
            n_ = snprintf(out + len, cap - len, __VA_ARGS__);                                      \
        }                                                                                          \
        len += (size_t)n_;                                                                         \
    } while (0)
    APPEND("{");
    bool first_source = true;
    int64_t needed_from = wm_us == INT64_MIN ? INT64_MIN : wm_us - window_us;
    for (uint32_t i = 0; i < e->nsources; i++) {
        source_entry *s = e->sources[i];
        if (s->event_col < 0 || !s->driver->ops->batch_position)
            continue;
        APPEND("%s\"%s\": {", first_source ? "" : ", ", s->rel.name);
        first_source = false;
        bool first_part = true;
        for (uint32_t k = 0; k < s->nparts; k++) {
            partition_time *p = &s->parts[k];
            if (!p->nspans)
                continue;
            /* Keep the last span even when old: it marks how far we read. */
            uint32_t drop = 0;
            while (drop + 1 < p->nspans && p->spans[drop].max_us < needed_from)
                drop++;
            uint64_t pos = p->spans[drop].position;
            for (uint32_t j = drop; j < p->nspans; j++)
                if (p->spans[j].max_us >= needed_from && p->spans[j].position < pos)
                    pos = p->spans[j].position;
            memmove(p->spans, p->spans + drop, (p->nspans - drop) * sizeof *p->spans);
            p->nspans -= drop;
            APPEND("%s\"%d\": %llu", first_part ? "" : ", ", (int)k - 1, (unsigned long long)pos);
            first_part = false;
        }
        APPEND("}");
    }
    APPEND("}");
#undef APPEND
    return out;
}

/* tw_engine_exec with the statements' notices handed to on_notice. */
static bool exec_noticed(tw_engine *e, const exec_request *r)
{
    e->on_notice = r->on_notice;
    e->notice_ctx = r->ctx;
    bool ok = tw_engine_exec(e, r->sql, r->len, r->filename, r->on_result, r->ctx, r->err);
    e->on_notice = NULL;
    e->notice_ctx = NULL;
    return ok;
}

bool tw_engine_exec_sync(tw_engine *e, const char *sql, size_t len, const char *filename,
                         void (*on_result)(void *ctx, tw_result *result), void *ctx, tw_err *err)
{
    return tw_engine_exec_sync_notices(e, sql, len, filename, on_result, NULL, ctx, err);
}

bool tw_engine_exec_sync_notices(tw_engine *e, const char *sql, size_t len, const char *filename,
                                 void (*on_result)(void *ctx, tw_result *result),
                                 void (*on_notice)(void *ctx, const char *message), void *ctx,
                                 tw_err *err)
{
    exec_request req = {sql, len, filename, on_result, on_notice, ctx, err, false, false, NULL};
    pthread_mutex_lock(&e->exec_mu);
    if (!e->running) {
        bool ok = exec_noticed(e, &req);
        pthread_mutex_unlock(&e->exec_mu);
        return ok;
    }
    *e->requests_tail = &req;
    e->requests_tail = &req.next;
    pthread_cond_signal(&e->exec_wake);
    while (!req.done)
        pthread_cond_wait(&e->exec_done, &e->exec_mu);
    pthread_mutex_unlock(&e->exec_mu);
    return req.ok;
}

/* Runs the scripts other threads submitted. Pipeline thread only. */
static void run_requests(tw_engine *e)
{
    pthread_mutex_lock(&e->exec_mu);
    while (e->requests) {
        exec_request *r = e->requests;
        e->requests = r->next;
        if (!e->requests)
            e->requests_tail = &e->requests;
        r->ok = exec_noticed(e, r);
        r->done = true;
    }
    pthread_cond_broadcast(&e->exec_done);
    pthread_mutex_unlock(&e->exec_mu);
}

static void set_running(tw_engine *e, bool running)
{
    pthread_mutex_lock(&e->exec_mu);
    e->running = running;
    pthread_mutex_unlock(&e->exec_mu);
    if (!running)
        run_requests(e); /* anyone who queued just before the end */
}

void tw_engine_barrier(tw_engine *e)
{
    for (uint32_t i = 0; i < e->norder; i++)
        if (e->order[i]->ops->barrier)
            e->order[i]->ops->barrier(e->order[i]);
}

bool tw_engine_run(tw_engine *e, volatile sig_atomic_t *stop, bool exit_at_eof,
                   void (*on_tick)(void *ctx, tw_engine *engine), void *tick_ctx, tw_err *err)
{
    int64_t next_barrier = tw_now_mono_us() + e->opts.barrier_interval_ms * 1000;
    int64_t next_tick = tw_now_mono_us() + 1000000;
    bool ok = true;
    set_running(e, true);
    while (!*stop) {
        run_requests(e);
        bool progress = false, all_done = true;
        for (uint32_t i = 0; i < e->nsources; i++) {
            source_entry *s = e->sources[i];
            int r = source_pump(s, err);
            if (r < 0) {
                ok = false;
                goto out;
            }
            progress |= r > 0;
            all_done &= (s->eof && s->finite) || !s->node.ndown;
        }
        int64_t now = tw_now_mono_us();
        if (now >= next_barrier) {
            tw_engine_barrier(e);
            next_barrier = now + e->opts.barrier_interval_ms * 1000;
        }
        if (on_tick && now >= next_tick) {
            on_tick(tick_ctx, e);
            next_tick = now + 1000000;
        }
        if (all_done && exit_at_eof)
            break;
        if (!progress) {
            /* Idle: wait up to 5 ms, or until another thread submits SQL. */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 5 * 1000 * 1000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            pthread_mutex_lock(&e->exec_mu);
            if (!e->requests)
                pthread_cond_timedwait(&e->exec_wake, &e->exec_mu, &until);
            pthread_mutex_unlock(&e->exec_mu);
        }
    }
out:
    if (ok && !*stop) {
        /* End of input: close every window, flush every aggregate and sink. */
        for (uint32_t i = 0; i < e->nsources; i++)
            tw_node_forward_finish(&e->sources[i]->node);
        tw_engine_barrier(e);
    } else {
        /* Stopped (or failed): publish what is final and commit it, but
         * close no window early: a restart resumes where this left off. */
        tw_engine_barrier(e);
        for (uint32_t i = 0; i < e->nsinks; i++)
            if (e->sinks[i]->node)
                tw_sink_flush(e->sinks[i]->node);
    }
    set_running(e, false);
    return ok;
}

/* ---- watch -------------------------------------------------------------- */

typedef struct watch_node {
    tw_node base;
    FILE *out;
    char **names;
    uint32_t ncols;
} watch_node;

static void watch_print(watch_node *w, const char *what, const tw_batch *in, uint32_t r)
{
    fprintf(w->out, "%-8s", what);
    for (uint32_t c = 0; c < w->ncols; c++) {
        char buf[256];
        tw_value v = tw_column_get(&in->cols[c], r);
        if (v.type == TW_T_BOOL) {
            if (!v.is_null && v.b)
                fprintf(w->out, " [%s]", w->names[c]);
            continue;
        }
        if (v.type == TW_T_FLOAT64 && !v.is_null)
            snprintf(buf, sizeof buf, "%.2f", v.f64);
        else
            tw_value_format(&v, buf, sizeof buf);
        if (tw_type_is_time(v.type) || c == 0)
            fprintf(w->out, " %s", v.is_null ? "NULL" : buf);
        else
            fprintf(w->out, " %s=%s", w->names[c], v.is_null ? "NULL" : buf);
    }
    fputc('\n', w->out);
}

/* Prints rows that appear (NEW), disappear (CLEARED), and updates that
 * change a boolean column (CHANGED): the moments an operator cares about,
 * not every moving average. */
static void watch_push(tw_node *node, const tw_batch *in)
{
    watch_node *w = (watch_node *)node;
    for (uint32_t r = 0; r < in->nrows; r++) {
        uint8_t op = in->ops ? in->ops[r] : TW_OP_INSERT;
        if (op == TW_OP_UPDATE_DELETE && r + 1 < in->nrows &&
            in->ops[r + 1] == TW_OP_UPDATE_INSERT) {
            bool flags_changed = false;
            for (uint32_t c = 0; c < w->ncols; c++) {
                if (in->cols[c].type != TW_T_BOOL)
                    continue;
                tw_value a = tw_column_get(&in->cols[c], r);
                tw_value b = tw_column_get(&in->cols[c], r + 1);
                flags_changed |= !tw_value_equal(&a, &b);
            }
            if (flags_changed)
                watch_print(w, "CHANGED", in, r + 1);
            r++;
            continue;
        }
        if (op == TW_OP_DELETE || op == TW_OP_UPDATE_DELETE)
            watch_print(w, "CLEARED", in, r);
        else
            watch_print(w, "NEW", in, r);
    }
    fflush(w->out);
}

static void watch_destroy(tw_node *node)
{
    watch_node *w = (watch_node *)node;
    for (uint32_t i = 0; i < w->ncols; i++)
        free(w->names[i]);
    free(w->names);
    free(w);
}

static const tw_node_ops watch_ops = {.kind = "watch", .push = watch_push, .destroy = watch_destroy};

bool tw_engine_watch(tw_engine *e, const char *mv_name, FILE *out, tw_err *err)
{
    for (uint32_t i = 0; i < e->nmvs; i++) {
        mv_entry *m = e->mvs[i];
        if (!name_is(m->rel.name, mv_name))
            continue;
        watch_node *w = tw_xcalloc(1, sizeof *w);
        tw_node_init(&w->base, &watch_ops);
        w->out = out;
        w->ncols = m->rel.ncols;
        w->names = tw_xcalloc(m->rel.ncols ? m->rel.ncols : 1, sizeof *w->names);
        for (uint32_t c = 0; c < m->rel.ncols; c++)
            w->names[c] = tw_xstrdup(m->rel.col_names[c]);
        tw_node_connect(m->rel.node, &w->base);
        e->extra = tw_xrealloc(e->extra, (e->nextra + 1) * sizeof *e->extra);
        e->extra[e->nextra++] = &w->base;
        return true;
    }
    return tw_err_set(err, TW_ERR_CONFIG, "no materialized view named '%s' to watch", mv_name);
}

/* ---- stats -------------------------------------------------------------- */

static void mv_late_rows(const mv_entry *m, uint64_t *late, uint64_t *errors)
{
    *late = *errors = 0;
    for (uint32_t i = 0; i < m->nnodes; i++) {
        const tw_node *n = m->nodes[i];
        if (!strcmp(n->ops->kind, "hash_agg")) {
            tw_hashagg_stats st;
            tw_hashagg_get_stats(n, &st);
            *late += st.late_rows;
            *errors += st.eval_errors;
        } else if (!strcmp(n->ops->kind, "map")) {
            *errors += tw_map_eval_errors(n);
        }
    }
}

/* Fills out[0..max) with the partitions of a Kafka source (see kafka.h)
 * and returns how many there are; 0 for other sources. */
static uint32_t kafka_partitions(const source_entry *s, tw_kafka_partition_stats *out, uint32_t max)
{
    if (!tw_kafka_driver_is(s->driver))
        return 0;
    uint32_t n = tw_kafka_driver_partitions(s->driver, out, max);
    return n < max ? n : max;
}

#define MAX_REPORTED_PARTITIONS 1024u

void tw_engine_get_stats(tw_engine *e, tw_engine_stats *st)
{
    memset(st, 0, sizeof *st);
    st->kafka_lag = -1;
    tw_kafka_partition_stats *parts = NULL;
    for (uint32_t i = 0; i < e->nsources; i++) {
        source_entry *s = e->sources[i];
        if (tw_kafka_driver_is(s->driver)) {
            if (!parts)
                parts = tw_xmalloc(MAX_REPORTED_PARTITIONS * sizeof *parts);
            uint32_t n = kafka_partitions(s, parts, MAX_REPORTED_PARTITIONS);
            for (uint32_t k = 0; k < n; k++)
                if (parts[k].lag >= 0)
                    st->kafka_lag = (st->kafka_lag < 0 ? 0 : st->kafka_lag) + parts[k].lag;
        }
        st->lines += s->stats.lines;
        st->rows += s->stats.rows;
        st->malformed += s->stats.malformed;
        st->type_errors += s->stats.type_errors;
        st->late_rows += s->late_rows;
        st->bytes += s->driver->ops->bytes(s->driver);
    }
    free(parts);
    for (uint32_t i = 0; i < e->nmvs; i++) {
        uint64_t late, errors;
        mv_late_rows(e->mvs[i], &late, &errors);
        st->late_rows += late;
        st->eval_errors += errors;
    }
}

static void put_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

bool tw_engine_write_stats_json(tw_engine *e, FILE *out)
{
    fputs("{\"sources\": {", out);
    for (uint32_t i = 0; i < e->nsources; i++) {
        source_entry *s = e->sources[i];
        fputs(i ? ", " : "", out);
        put_json_string(out, s->rel.name);
        fprintf(out,
                ": {\"lines\": %llu, \"rows\": %llu, \"malformed\": %llu, \"type_errors\": %llu, "
                "\"late_rows\": %llu, \"bytes\": %llu",
                (unsigned long long)s->stats.lines, (unsigned long long)s->stats.rows,
                (unsigned long long)s->stats.malformed, (unsigned long long)s->stats.type_errors,
                (unsigned long long)s->late_rows,
                (unsigned long long)s->driver->ops->bytes(s->driver));
        if (tw_kafka_driver_is(s->driver)) {
            tw_kafka_partition_stats *parts =
                tw_xmalloc(MAX_REPORTED_PARTITIONS * sizeof *parts);
            uint32_t n = kafka_partitions(s, parts, MAX_REPORTED_PARTITIONS);
            fputs(", \"partitions\": [", out);
            for (uint32_t k = 0; k < n; k++)
                fprintf(out, "%s{\"partition\": %d, \"lag\": %lld, \"messages\": %llu}",
                        k ? ", " : "", parts[k].partition, (long long)parts[k].lag,
                        (unsigned long long)parts[k].messages);
            fputc(']', out);
            free(parts);
        }
        fputc('}', out);
    }
    fputs("}, \"mvs\": {", out);
    for (uint32_t i = 0; i < e->nmvs; i++) {
        mv_entry *m = e->mvs[i];
        tw_mv_stats ms;
        tw_mv_get_stats(m->rel.mv, &ms);
        uint64_t late, errors;
        mv_late_rows(m, &late, &errors);
        fputs(i ? ", " : "", out);
        put_json_string(out, m->rel.name);
        fprintf(out, ": {\"rows\": %llu, \"late_rows\": %llu, \"eval_errors\": %llu}",
                (unsigned long long)ms.rows, (unsigned long long)late,
                (unsigned long long)errors);
    }
    fputs("}, \"sinks\": {", out);
    int64_t now_us = tw_now_mono_us();
    bool first = true;
    for (uint32_t i = 0; i < e->nsinks; i++) {
        const sink_entry *k = e->sinks[i];
        if (!k->node)
            continue; /* --no-sinks */
        tw_sink_stats ss;
        tw_sink_get_stats(k->node, &ss);
        fputs(first ? "" : ", ", out);
        first = false;
        put_json_string(out, k->name);
        fprintf(out,
                ": {\"commits\": %llu, \"commit_failures\": %llu, \"rows_written\": %llu, "
                "\"pending_rows\": %llu, \"late_rows\": %llu",
                (unsigned long long)ss.commits, (unsigned long long)ss.commit_failures,
                (unsigned long long)ss.rows_written, (unsigned long long)ss.pending_rows,
                (unsigned long long)ss.late_rows);
        if (ss.watermark_us != INT64_MIN)
            fprintf(out, ", \"watermark_us\": %lld", (long long)ss.watermark_us);
        if (ss.commits)
            fprintf(out, ", \"since_last_commit_ms\": %lld",
                    (long long)((now_us - ss.last_commit_mono_us) / 1000));
        fputc('}', out);
    }
    fputs("}}\n", out);
    return !ferror(out);
}

struct tw_mv *tw_engine_find_mv(tw_engine *e, const char *name)
{
    for (uint32_t i = 0; i < e->nmvs; i++)
        if (name_is(e->mvs[i]->rel.name, name))
            return e->mvs[i]->rel.mv;
    return NULL;
}

bool tw_engine_sink_of(tw_engine *e, const char *view, tw_engine_sink_info *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < e->nsinks; i++) {
        const sink_entry *s = e->sinks[i];
        if (!name_is(s->from, view))
            continue;
        /* The connection's options first, the sink's own on top, as the
         * sink itself merged them. */
        options merged = {0};
        const char *conn = options_get(&s->with, "connection");
        const char *short_name = conn && strrchr(conn, '.') ? strrchr(conn, '.') + 1 : conn;
        for (uint32_t c = 0; short_name && c < e->nconns; c++)
            if (name_is(e->conns[c]->name, short_name))
                for (uint32_t k = 0; k < e->conns[c]->with.count; k++)
                    options_put(&merged, e->conns[c]->with.items[k].key,
                                e->conns[c]->with.items[k].value);
        for (uint32_t k = 0; k < s->with.count; k++)
            options_put(&merged, s->with.items[k].key, s->with.items[k].value);
        out->name = tw_xstrdup(s->name);
        out->nopts = merged.count;
        out->keys = tw_xcalloc(merged.count + 1, sizeof *out->keys);
        out->values = tw_xcalloc(merged.count + 1, sizeof *out->values);
        for (uint32_t k = 0; k < merged.count; k++) {
            out->keys[k] = tw_xstrdup(merged.items[k].key);
            out->values[k] = tw_xstrdup(merged.items[k].value);
        }
        options_free(&merged);
        return true;
    }
    return false;
}

void tw_engine_sink_info_free(tw_engine_sink_info *info)
{
    for (uint32_t k = 0; k < info->nopts; k++) {
        free(info->keys[k]);
        free(info->values[k]);
    }
    free(info->keys);
    free(info->values);
    free(info->name);
    memset(info, 0, sizeof *info);
}

typedef struct tap_node {
    tw_node base;
    void (*fn)(void *ctx, const tw_batch *changes);
    void *ctx;
    tw_node *parent; /* the view's node */
} tap_node;

static void tap_push(tw_node *node, const tw_batch *in)
{
    tap_node *t = (tap_node *)node;
    t->fn(t->ctx, in);
}

static void tap_barrier(tw_node *node)
{
    tap_node *t = (tap_node *)node;
    t->fn(t->ctx, NULL);
}

static const tw_node_ops tap_ops = {.kind = "tap", .push = tap_push, .barrier = tap_barrier};

bool tw_engine_tap(tw_engine *e, const char *mv_name,
                   void (*fn)(void *ctx, const tw_batch *changes), void *ctx, tw_err *err)
{
    for (uint32_t i = 0; i < e->nmvs; i++) {
        mv_entry *m = e->mvs[i];
        if (!name_is(m->rel.name, mv_name))
            continue;
        tap_node *t = tw_xcalloc(1, sizeof *t);
        tw_node_init(&t->base, &tap_ops);
        t->fn = fn;
        t->ctx = ctx;
        t->parent = m->rel.node;
        tw_node_connect(m->rel.node, &t->base);
        e->extra = tw_xrealloc(e->extra, (e->nextra + 1) * sizeof *e->extra);
        e->extra[e->nextra++] = &t->base;
        add_order(e, &t->base); /* barriers reach taps after every aggregate */
        return true;
    }
    return tw_err_set(err, TW_ERR_CONFIG, "no materialized view named '%s'", mv_name);
}

/* Removes the taps hanging from `parent` (any view when NULL) whose context
 * is `ctx` (any context when NULL). */
static void remove_taps(tw_engine *e, const tw_node *parent, const void *ctx)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < e->nextra; i++) {
        tw_node *n = e->extra[i];
        tap_node *t = n->ops == &tap_ops ? (tap_node *)n : NULL;
        if (!t || (parent && t->parent != parent) || (ctx && t->ctx != ctx)) {
            e->extra[kept++] = n;
            continue;
        }
        disconnect(t->parent, n);
        remove_order(e, n);
        tw_node_free(n);
    }
    e->nextra = kept;
}

void tw_engine_untap(tw_engine *e, void *ctx)
{
    assert(ctx);
    remove_taps(e, NULL, ctx);
}

void tw_engine_on_view_change(tw_engine *e,
                              void (*fn)(void *ctx, const char *view, bool created), void *ctx)
{
    e->on_view = fn;
    e->on_view_ctx = ctx;
}

void tw_engine_on_sink_created(tw_engine *e,
                               void (*fn)(void *ctx, const char *sink, const char *from), void *ctx)
{
    e->on_sink = fn;
    e->on_sink_ctx = ctx;
}

char *tw_engine_mv_definition(tw_engine *e, const char *name)
{
    for (uint32_t i = 0; i < e->nmvs; i++)
        if (name_is(e->mvs[i]->rel.name, name))
            return tw_xstrdup(e->mvs[i]->definition);
    return NULL;
}

int64_t tw_engine_mv_rows(tw_engine *e, const char *mv_name)
{
    for (uint32_t i = 0; i < e->nmvs; i++) {
        if (name_is(e->mvs[i]->rel.name, mv_name)) {
            tw_mv_stats ms;
            tw_mv_get_stats(e->mvs[i]->rel.mv, &ms);
            return (int64_t)ms.rows;
        }
    }
    return -1;
}

/* ---- lifecycle ---------------------------------------------------------- */

void tw_engine_opts_default(tw_engine_opts *o)
{
    memset(o, 0, sizeof *o);
    o->barrier_interval_ms = 1000;
    o->retention_us = INT64_C(3600) * TW_USEC_PER_SEC;
    o->sink_lateness_us = 5 * TW_USEC_PER_SEC;
}

tw_engine *tw_engine_new(const tw_engine_opts *opts)
{
    tw_engine *e = tw_xcalloc(1, sizeof *e);
    e->opts = *opts;
    pthread_mutex_init(&e->exec_mu, NULL);
    pthread_cond_init(&e->exec_done, NULL);
    pthread_cond_init(&e->exec_wake, NULL);
    e->requests_tail = &e->requests;
    e->dead_letter = opts->dead_letter;
    return e;
}

void tw_engine_free(tw_engine *e)
{
    if (!e)
        return;
    for (uint32_t i = 0; i < e->nsinks; i++)
        sink_entry_free(e, e->sinks[i]);
    e->nsinks = 0;
    for (uint32_t i = e->nmvs; i-- > 0;)
        mv_entry_free(e, e->mvs[i]);
    free(e->mvs);
    for (uint32_t i = 0; i < e->nsources; i++)
        source_free(e->sources[i]);
    free(e->sources);
    for (uint32_t i = 0; i < e->nconns; i++) {
        options_free(&e->conns[i]->with);
        free(e->conns[i]->name);
        free(e->conns[i]);
    }
    free(e->conns);
    for (uint32_t i = 0; i < e->nsinks; i++)
        sink_entry_free(e, e->sinks[i]);
    free(e->sinks);
    for (uint32_t i = 0; i < e->nextra; i++)
        tw_node_free(e->extra[i]);
    free(e->extra);
    free(e->order);
    pthread_mutex_destroy(&e->exec_mu);
    pthread_cond_destroy(&e->exec_done);
    pthread_cond_destroy(&e->exec_wake);
    free(e);
}

/* api.c - routes of the HTTP API as functions of parameters (see api.h). */
#include "serve/api.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/timeutil.h"
#include "serve/history.h"
#include "serve/jsonout.h"

#define ANOMALIES_MAX_LIMIT 2000
#define ANOMALIES_DEFAULT_LIMIT 15
#define CSV_MAX_ROWS 100000
#define SERIES_MAX_ROWS 10000
#define DEVICES_MAX 10000
#define SUMMARY_MAX_BUCKETS 1000
#define Q_MAX_BYTES 200

static const char *const route_names[TW_ROUTE_COUNT_] = {
    "health", "meta",   "anomalies", "anomalies_csv", "devices", "series",
    "summary", "stream", "metrics",   "asset",         "other",
};

const char *tw_api_route_name(tw_api_route route) { return route_names[route]; }

/* ---- replies ------------------------------------------------------------ */

static void reply_json(tw_api_reply *reply, unsigned status, json_t *body)
{
    reply->status = status;
    reply->content_type = "application/json";
    reply->body = tw_json_encode(body, &reply->len);
    reply->attachment = NULL;
    json_decref(body);
}

void tw_api_error(tw_api_reply *reply, unsigned status, const char *message,
                  const char *parameter)
{
    json_t *o = json_object();
    json_object_set_new(o, "error", json_string(message));
    if (parameter)
        json_object_set_new(o, "parameter", json_string(parameter));
    reply_json(reply, status, o);
}

static bool bad_param(tw_api_reply *reply, const char *parameter, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool bad_param(tw_api_reply *reply, const char *parameter, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tw_api_error(reply, 400, msg, parameter);
    return false;
}

/* ---- parameters --------------------------------------------------------- */

typedef struct params {
    const tw_api_param *items;
    size_t n;
} params;

/* Refuses parameters the route does not take, and repeated ones. */
static bool params_check(const params *p, const char *const *allowed, tw_api_reply *reply)
{
    for (size_t i = 0; i < p->n; i++) {
        bool known = false;
        for (const char *const *a = allowed; *a; a++)
            known |= !strcmp(*a, p->items[i].name);
        if (!known) {
            char list[256] = "";
            for (const char *const *a = allowed; *a; a++) {
                if (a != allowed)
                    strncat(list, ", ", sizeof list - strlen(list) - 1);
                strncat(list, *a, sizeof list - strlen(list) - 1);
            }
            return bad_param(reply, p->items[i].name,
                             "unknown parameter '%.64s'; this route takes: %s",
                             p->items[i].name, *list ? list : "no parameters");
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(p->items[j].name, p->items[i].name))
                return bad_param(reply, p->items[i].name, "parameter '%s' is given twice",
                                 p->items[i].name);
    }
    return true;
}

static const char *param_get(const params *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->items[i].name, name))
            return p->items[i].value;
    return NULL;
}

static bool parse_int(const params *p, const char *name, int64_t min, int64_t max,
                      int64_t fallback, int64_t *out, tw_api_reply *reply)
{
    const char *v = param_get(p, name);
    *out = fallback;
    if (!v)
        return true;
    const char *s = v;
    bool neg = *s == '-';
    if (neg)
        s++;
    if (!*s || strlen(s) > 12)
        return bad_param(reply, name, "%s must be an integer from %lld to %lld", name,
                         (long long)min, (long long)max);
    int64_t n = 0;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return bad_param(reply, name, "%s must be an integer from %lld to %lld", name,
                             (long long)min, (long long)max);
        n = n * 10 + (*s - '0');
    }
    if (neg)
        n = -n;
    if (n < min || n > max)
        return bad_param(reply, name, "%s must be an integer from %lld to %lld", name,
                         (long long)min, (long long)max);
    *out = n;
    return true;
}

/* An absent or empty time leaves *out_us as it is (an open bound). */
static bool parse_time(const params *p, const char *name, int64_t *out_us, tw_api_reply *reply)
{
    const char *v = param_get(p, name);
    if (!v || !*v)
        return true;
    if (!tw_timestamp_parse(v, strlen(v), out_us))
        return bad_param(reply, name,
                         "%s must be an ISO 8601 instant such as 2026-01-27T20:47:10Z, not "
                         "'%.64s'",
                         name, v);
    return true;
}

/* A comma list of type names; all types when absent and all_when_absent. */
static bool parse_types(const params *p, const tw_rowstore *store, bool all_when_absent,
                        uint64_t *mask, tw_api_reply *reply)
{
    const char *v = param_get(p, "types");
    uint32_t ntypes = tw_rowstore_ntypes(store);
    *mask = 0;
    if (!v) {
        if (all_when_absent)
            *mask = ntypes >= 64 ? UINT64_MAX : (UINT64_C(1) << ntypes) - 1;
        return true;
    }
    while (*v) {
        const char *end = strchr(v, ',');
        size_t len = end ? (size_t)(end - v) : strlen(v);
        if (len) {
            int t = tw_rowstore_type_find(store, v, len);
            if (t < 0) {
                char known[512] = "";
                for (uint32_t i = 0; i < ntypes; i++) {
                    if (i)
                        strncat(known, ", ", sizeof known - strlen(known) - 1);
                    strncat(known, tw_rowstore_type_name(store, i),
                            sizeof known - strlen(known) - 1);
                }
                return bad_param(reply, "types", "unknown type '%.*s'; the types are: %s",
                                 (int)(len > 64 ? 64 : len), v, known);
            }
            *mask |= UINT64_C(1) << t;
        }
        v += len;
        if (*v == ',')
            v++;
    }
    return true;
}

static bool parse_sort(const params *p, bool *desc, tw_api_reply *reply)
{
    const char *v = param_get(p, "sort");
    *desc = true;
    if (!v || !strcmp(v, "time_desc"))
        return true;
    if (!strcmp(v, "time_asc")) {
        *desc = false;
        return true;
    }
    return bad_param(reply, "sort", "sort must be time_desc or time_asc, not '%.64s'", v);
}

/* q, from, to, tz: the filter shared by anomalies, the CSV export and the
 * summary. */
static bool parse_filter(const params *p, tw_rowstore_filter *f, tw_api_reply *reply)
{
    tw_rowstore_filter_init(f);
    const char *q = param_get(p, "q");
    if (q && strlen(q) > Q_MAX_BYTES)
        return bad_param(reply, "q", "q is longer than %d bytes", Q_MAX_BYTES);
    f->q = q && *q ? q : NULL;
    int64_t tz;
    if (!parse_time(p, "from", &f->from_us, reply) || !parse_time(p, "to", &f->to_us, reply) ||
        !parse_int(p, "tz", -840, 840, 0, &tz, reply))
        return false;
    f->tz_offset_min = (int32_t)tz;
    return true;
}

/* ---- rows as JSON ------------------------------------------------------- */

static json_t *string_json(const char *s, size_t len)
{
    json_t *j = json_stringn(s, len);
    if (j)
        return j;
    /* Not UTF-8: show the bytes that are ASCII, '?' for the rest. */
    char *copy = tw_xmalloc(len + 1);
    for (size_t i = 0; i < len; i++)
        copy[i] = (unsigned char)s[i] < 0x80 && s[i] ? s[i] : '?';
    j = json_stringn(copy, len);
    free(copy);
    return j;
}

static json_t *value_json(const tw_value *v)
{
    if (v->is_null)
        return json_null();
    switch (v->type) {
    case TW_T_BOOL: return json_boolean(v->b);
    case TW_T_FLOAT32:
    case TW_T_FLOAT64: return isfinite(v->f64) ? json_real(v->f64) : json_null();
    case TW_T_VARCHAR: return string_json(v->s.ptr, v->s.len);
    case TW_T_TIMESTAMP:
    case TW_T_TIMESTAMPTZ: {
        char buf[48];
        tw_timestamp_format(v->i64, buf, "Z");
        return json_string(buf);
    }
    default: return json_integer(v->i64);
    }
}

json_t *tw_api_row_json(const tw_rowstore *store, const tw_rowstore_row *row)
{
    json_t *o = json_object();
    uint32_t ncols = tw_rowstore_ncols(store);
    for (uint32_t c = 0; c < ncols; c++)
        json_object_set_new(o, tw_rowstore_column_name(store, c), value_json(&row->values[c]));
    if (!json_object_get(o, "types")) {
        json_t *types = json_array();
        for (uint32_t t = 0; t < tw_rowstore_ntypes(store); t++)
            if (row->types & (UINT64_C(1) << t))
                json_array_append_new(types, json_string(tw_rowstore_type_name(store, t)));
        json_object_set_new(o, "types", types);
    }
    return o;
}

/* ---- routes ------------------------------------------------------------- */

typedef struct rows_ctx {
    const tw_rowstore *store;
    json_t *rows;
} rows_ctx;

static void collect_row(void *ctx, const tw_rowstore_row *row)
{
    rows_ctx *rc = ctx;
    json_array_append_new(rc->rows, tw_api_row_json(rc->store, row));
}

/* ---- live rows merged with the Iceberg history --------------------------- */

/* Two streams in the same (window_start, device_id) order: the live store's
 * rows and the history's rows the live store does not hold. Positions are
 * counted over the merge, so offset and limit page across the boundary. */
typedef struct merge_ctx {
    tw_history_cursor *history;
    bool has_history_row;
    tw_rowstore_row history_row;
    bool desc;
    uint64_t pos, offset, limit;
    void (*visit)(void *ctx, const tw_rowstore_row *row);
    void *ctx;
} merge_ctx;

static void merge_emit(merge_ctx *m, const tw_rowstore_row *row)
{
    if (m->pos >= m->offset && m->pos - m->offset < m->limit)
        m->visit(m->ctx, row);
    m->pos++;
}

static bool history_first(const merge_ctx *m, const tw_rowstore_row *live)
{
    const tw_rowstore_row *h = &m->history_row;
    int cmp = h->window_start_us != live->window_start_us
                  ? (h->window_start_us < live->window_start_us ? -1 : 1)
                  : strcmp(h->device_id, live->device_id);
    return m->desc ? cmp > 0 : cmp < 0;
}

static void merge_history_until(merge_ctx *m, const tw_rowstore_row *live)
{
    while (m->has_history_row && (!live || history_first(m, live))) {
        if (!live && m->pos >= m->offset + m->limit)
            return;
        merge_emit(m, &m->history_row);
        m->has_history_row = tw_history_next(m->history, &m->history_row);
    }
}

static void merge_live_row(void *ctx, const tw_rowstore_row *row)
{
    merge_ctx *m = ctx;
    merge_history_until(m, row);
    merge_emit(m, row);
}

/* tw_rowstore_query over the anomaly store and its history (when the server
 * was given one): the same filter, order and paging, each
 * (device, window) once with the live row winning. Without history, or if
 * the table cannot be read, the live rows alone. */
static uint64_t query_anomalies(const tw_api *api, const tw_rowstore_filter *f, bool desc,
                                uint64_t offset, uint64_t limit,
                                void (*visit)(void *ctx, const tw_rowstore_row *row), void *ctx)
{
    tw_history *history = api->history;
    uint64_t history_total = 0;
    tw_history_cursor *cursor = NULL;
    if (history) {
        tw_err err;
        cursor = tw_history_query(history, api->anomalies, f, desc, &history_total, &err);
        if (!cursor)
            fprintf(stderr, "tidewatch: answering from live rows only: %s\n", err.msg);
    }
    if (!cursor || !history_total) {
        tw_history_cursor_free(cursor);
        return tw_rowstore_query(api->anomalies, f, desc, offset, limit, visit, ctx);
    }
    merge_ctx m = {.history = cursor, .desc = desc, .offset = offset,
                   .limit = limit > UINT64_MAX - offset ? UINT64_MAX - offset : limit,
                   .visit = visit, .ctx = ctx};
    m.has_history_row = tw_history_next(cursor, &m.history_row);
    /* A live row's merged position is at least its live position, so the
     * first offset + limit live rows are all a page can need. */
    uint64_t live_total = tw_rowstore_query(api->anomalies, f, desc, 0, m.offset + m.limit,
                                            merge_live_row, &m);
    merge_history_until(&m, NULL);
    tw_history_cursor_free(cursor);
    return live_total + history_total;
}

/* The anomaly store's window_start range widened by the history's. */
static bool anomaly_bounds(const tw_api *api, int64_t *min_us, int64_t *max_us)
{
    bool any = tw_rowstore_bounds(api->anomalies, min_us, max_us);
    tw_history *history = api->history;
    int64_t hmin, hmax;
    if (history && tw_history_bounds(history, &hmin, &hmax)) {
        if (!any || hmin < *min_us)
            *min_us = hmin;
        if (!any || hmax > *max_us)
            *max_us = hmax;
        any = true;
    }
    return any;
}

static bool need_store(const tw_rowstore *store, const char *view, const char *option,
                       tw_api_reply *reply)
{
    if (store)
        return true;
    char msg[384];
    snprintf(msg, sizeof msg,
             "materialized view '%s' does not exist (not created yet, or dropped); it is "
             "served as soon as it is created (or choose another view with %s)",
             view ? view : "", option);
    tw_api_error(reply, 503, msg, NULL);
    return false;
}

/* One page of the anomaly view (live and history) as /api/anomalies and
 * its CSV export ask for it: q, from, to, tz, types, sort, limit, offset. */
typedef struct anomaly_page {
    tw_rowstore_filter filter;
    bool desc;
    int64_t limit, offset;
} anomaly_page;

/* Validates the page's parameters (limit 1..max_limit, default
 * default_limit); false with reply filled when one is bad. */
static bool parse_anomaly_page(const tw_api *api, const params *p, int64_t max_limit,
                               int64_t default_limit, anomaly_page *page, tw_api_reply *reply)
{
    static const char *const allowed[] = {"q",     "from",   "to", "types", "sort",
                                          "limit", "offset", "tz", NULL};
    tw_rowstore_filter *f = &page->filter;
    if (!params_check(p, allowed, reply) ||
        !need_store(api->anomalies, api->anomaly_view, "--anomalies", reply) ||
        !parse_filter(p, f, reply) || !parse_types(p, api->anomalies, false, &f->types, reply) ||
        !parse_sort(p, &page->desc, reply) ||
        !parse_int(p, "limit", 1, max_limit, default_limit, &page->limit, reply) ||
        !parse_int(p, "offset", 0, INT64_C(1000000000), 0, &page->offset, reply))
        return false;
    f->match_types = true;
    return true;
}

/* Visits the page's rows; returns how many match in all. No type selected
 * matches nothing (the seed's rule). */
static uint64_t visit_anomaly_page(const tw_api *api, const anomaly_page *page,
                                   void (*visit)(void *ctx, const tw_rowstore_row *row), void *ctx)
{
    if (!page->filter.types)
        return 0;
    return query_anomalies(api, &page->filter, page->desc, (uint64_t)page->offset,
                           (uint64_t)page->limit, visit, ctx);
}

static void route_anomalies(const tw_api *api, const params *p, tw_api_reply *reply)
{
    anomaly_page page;
    if (!parse_anomaly_page(api, p, ANOMALIES_MAX_LIMIT, ANOMALIES_DEFAULT_LIMIT, &page, reply))
        return;
    rows_ctx rc = {api->anomalies, json_array()};
    uint64_t total = visit_anomaly_page(api, &page, collect_row, &rc);
    json_t *o = json_object();
    json_object_set_new(o, "total", json_integer((json_int_t)total));
    json_object_set_new(o, "limit", json_integer(page.limit));
    json_object_set_new(o, "offset", json_integer(page.offset));
    json_object_set_new(o, "rows", rc.rows);
    reply_json(reply, 200, o);
}

/* ---- CSV ---------------------------------------------------------------- */

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

static void buf_add(buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 4096;
        b->data = tw_xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* A text field, quoted when needed; a leading = + - @ is neutralised with a
 * quote so spreadsheets do not run it as a formula. */
static void csv_text(buf *b, const char *s, size_t n)
{
    bool formula = n && strchr("=+-@\t\r", s[0]);
    bool quote = formula || memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\n', n) ||
                 memchr(s, '\r', n);
    if (!quote) {
        buf_add(b, s, n);
        return;
    }
    buf_add(b, "\"", 1);
    if (formula)
        buf_add(b, "'", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            buf_add(b, "\"", 1);
        buf_add(b, &s[i], 1);
    }
    buf_add(b, "\"", 1);
}

typedef struct csv_ctx {
    const tw_rowstore *store;
    buf out;
} csv_ctx;

static void csv_row(void *ctx, const tw_rowstore_row *row)
{
    csv_ctx *cc = ctx;
    uint32_t ncols = tw_rowstore_ncols(cc->store);
    for (uint32_t c = 0; c < ncols; c++) {
        const tw_value *v = &row->values[c];
        char tmp[64];
        if (c)
            buf_add(&cc->out, ",", 1);
        if (v->is_null)
            continue;
        if (v->type == TW_T_VARCHAR) {
            csv_text(&cc->out, v->s.ptr, v->s.len);
        } else if (tw_type_is_time(v->type)) {
            buf_add(&cc->out, tmp, tw_timestamp_format(v->i64, tmp, "Z"));
        } else if (v->type == TW_T_BOOL) {
            buf_add(&cc->out, v->b ? "true" : "false", v->b ? 4 : 5);
        } else if (v->type == TW_T_FLOAT32 || v->type == TW_T_FLOAT64) {
            if (isfinite(v->f64))
                buf_add(&cc->out, tmp, tw_format_double(v->f64, tmp));
        } else {
            buf_add(&cc->out, tmp, (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)v->i64));
        }
    }
    buf_add(&cc->out, ",", 1);
    bool first = true;
    char types[1024] = "";
    for (uint32_t t = 0; t < tw_rowstore_ntypes(cc->store); t++) {
        if (!(row->types & (UINT64_C(1) << t)))
            continue;
        if (!first)
            strncat(types, " ", sizeof types - strlen(types) - 1);
        strncat(types, tw_rowstore_type_name(cc->store, t), sizeof types - strlen(types) - 1);
        first = false;
    }
    csv_text(&cc->out, types, strlen(types));
    buf_add(&cc->out, "\r\n", 2);
}

static void route_anomalies_csv(const tw_api *api, const params *p, tw_api_reply *reply)
{
    anomaly_page page;
    if (!parse_anomaly_page(api, p, CSV_MAX_ROWS, CSV_MAX_ROWS, &page, reply))
        return;
    csv_ctx cc = {.store = api->anomalies};
    for (uint32_t c = 0; c < tw_rowstore_ncols(api->anomalies); c++) {
        const char *name = tw_rowstore_column_name(api->anomalies, c);
        csv_text(&cc.out, name, strlen(name));
        buf_add(&cc.out, ",", 1);
    }
    buf_add(&cc.out, "types\r\n", 7);
    visit_anomaly_page(api, &page, csv_row, &cc);
    reply->status = 200;
    reply->content_type = "text/csv; charset=utf-8";
    reply->body = cc.out.data;
    reply->len = cc.out.len;
    reply->attachment = "anomalies.csv";
}

/* ---- devices ------------------------------------------------------------ */

typedef struct devices_ctx {
    const tw_rowstore *store;
    json_t *by_device; /* device_id -> object */
    bool series;
} devices_ctx;

static json_t *device_entry(devices_ctx *dc, const char *device_id)
{
    json_t *d = json_object_get(dc->by_device, device_id);
    if (d)
        return d;
    d = json_object();
    json_object_set_new(d, "device_id", string_json(device_id, strlen(device_id)));
    json_object_set_new(d, "anomalies", json_integer(0));
    json_object_set_new(d, "by_type", json_object());
    json_object_set_new(d, "last_anomaly", json_null());
    json_object_set_new(d, "last_seen", json_null());
    json_object_set_new(d, "current_types", json_array());
    json_object_set_new(d, "latest", json_null());
    json_object_set(dc->by_device, device_id, d);
    json_decref(d);
    return d;
}

static void device_anomaly(void *ctx, const tw_rowstore_row *row)
{
    devices_ctx *dc = ctx;
    json_t *d = device_entry(dc, row->device_id);
    json_t *n = json_object_get(d, "anomalies");
    json_integer_set(n, json_integer_value(n) + 1);
    json_t *by_type = json_object_get(d, "by_type");
    for (uint32_t t = 0; t < tw_rowstore_ntypes(dc->store); t++) {
        if (!(row->types & (UINT64_C(1) << t)))
            continue;
        const char *name = tw_rowstore_type_name(dc->store, t);
        json_t *c = json_object_get(by_type, name);
        json_object_set_new(by_type, name, json_integer(c ? json_integer_value(c) + 1 : 1));
    }
    /* Rows come in ascending time: the last one is the latest anomaly. */
    char iso[48];
    tw_timestamp_format(row->window_start_us, iso, "Z");
    json_object_set_new(d, "last_anomaly", json_string(iso));
    json_t *types = json_array();
    for (uint32_t t = 0; t < tw_rowstore_ntypes(dc->store); t++)
        if (row->types & (UINT64_C(1) << t))
            json_array_append_new(types, json_string(tw_rowstore_type_name(dc->store, t)));
    json_object_set_new(d, "last_anomaly_types", types);
}

static void device_series(void *ctx, const tw_rowstore_row *row)
{
    devices_ctx *dc = ctx;
    json_t *d = device_entry(dc, row->device_id);
    char iso[48];
    tw_timestamp_format(row->window_start_us, iso, "Z");
    json_object_set_new(d, "last_seen", json_string(iso));
    json_object_set_new(d, "latest", tw_api_row_json(dc->store, row));
}

static int device_cmp(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    json_int_t nx = json_integer_value(json_object_get(x, "anomalies"));
    json_int_t ny = json_integer_value(json_object_get(y, "anomalies"));
    if (nx != ny)
        return nx > ny ? -1 : 1;
    return strcmp(json_string_value(json_object_get(x, "device_id")),
                  json_string_value(json_object_get(y, "device_id")));
}

static void route_devices(const tw_api *api, const params *p, tw_api_reply *reply)
{
    static const char *const allowed[] = {"limit", NULL};
    int64_t limit;
    if (!params_check(p, allowed, reply) ||
        !parse_int(p, "limit", 1, DEVICES_MAX, 1000, &limit, reply))
        return;
    if (!api->anomalies && !api->series) {
        need_store(NULL, api->anomaly_view, "--anomalies or --series", reply);
        return;
    }
    devices_ctx dc = {.by_device = json_object()};
    tw_rowstore_filter all;
    tw_rowstore_filter_init(&all);
    if (api->series) {
        dc.store = api->series;
        tw_rowstore_query(api->series, &all, false, 0, UINT64_MAX, device_series, &dc);
    }
    if (api->anomalies) {
        dc.store = api->anomalies;
        tw_rowstore_query(api->anomalies, &all, false, 0, UINT64_MAX, device_anomaly, &dc);
    }
    /* A device is anomalous now when its latest anomaly is its latest window. */
    size_t n = json_object_size(dc.by_device), i = 0;
    json_t **list = tw_xcalloc(n ? n : 1, sizeof *list);
    const char *key;
    json_t *d;
    json_object_foreach(dc.by_device, key, d)
    {
        json_t *seen = json_object_get(d, "last_seen"), *last = json_object_get(d, "last_anomaly");
        bool now = json_is_string(last) &&
                   (!json_is_string(seen) || json_equal(seen, last));
        json_object_set_new(d, "anomalous_now", json_boolean(now));
        json_t *lt = json_object_get(d, "last_anomaly_types");
        json_object_set_new(d, "current_types", now && lt ? json_incref(lt) : json_array());
        json_object_del(d, "last_anomaly_types");
        list[i++] = d;
    }
    qsort(list, n, sizeof *list, device_cmp);
    json_t *arr = json_array();
    for (i = 0; i < n && i < (size_t)limit; i++)
        json_array_append(arr, list[i]);
    free(list);
    json_t *o = json_object();
    json_object_set_new(o, "total", json_integer((json_int_t)n));
    json_object_set_new(o, "devices", arr);
    json_decref(dc.by_device);
    reply_json(reply, 200, o);
}

/* ---- series ------------------------------------------------------------- */

static void route_series(const tw_api *api, const params *p, tw_api_reply *reply)
{
    static const char *const allowed[] = {"device", "from", "to", "limit", NULL};
    tw_rowstore_filter f;
    tw_rowstore_filter_init(&f);
    int64_t limit;
    if (!params_check(p, allowed, reply) ||
        !need_store(api->series, api->series_view, "--series", reply))
        return;
    const char *device = param_get(p, "device");
    if (!device || !*device) {
        bad_param(reply, "device", "device is required (a device_id)");
        return;
    }
    if (!parse_time(p, "from", &f.from_us, reply) || !parse_time(p, "to", &f.to_us, reply) ||
        !parse_int(p, "limit", 1, SERIES_MAX_ROWS, SERIES_MAX_ROWS, &limit, reply))
        return;
    f.device_id = device;
    /* The latest `limit` windows, returned oldest first for charting. */
    rows_ctx rc = {api->series, json_array()};
    uint64_t total = tw_rowstore_query(api->series, &f, true, 0, (uint64_t)limit, collect_row,
                                       &rc);
    size_t n = json_array_size(rc.rows);
    json_t *rows = json_array();
    for (size_t i = n; i-- > 0;)
        json_array_append(rows, json_array_get(rc.rows, i));
    json_decref(rc.rows);
    json_t *o = json_object();
    json_object_set_new(o, "device_id", string_json(device, strlen(device)));
    json_object_set_new(o, "total", json_integer((json_int_t)total));
    json_object_set_new(o, "truncated", json_boolean(total > n));
    json_object_set_new(o, "rows", rows);
    reply_json(reply, 200, o);
}

/* ---- summary ------------------------------------------------------------ */

typedef struct summary_ctx {
    const tw_rowstore *store;
    int64_t first_us, bucket_us;
    uint32_t nbuckets, ntypes;
    uint64_t *counts; /* nbuckets x (ntypes + 1); the last column is the row total */
} summary_ctx;

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static void summary_row(void *ctx, const tw_rowstore_row *row)
{
    summary_ctx *sc = ctx;
    int64_t k = floor_div(row->window_start_us, sc->bucket_us) - floor_div(sc->first_us, sc->bucket_us);
    if (k < 0 || k >= sc->nbuckets)
        return;
    uint64_t *c = &sc->counts[(size_t)k * (sc->ntypes + 1)];
    for (uint32_t t = 0; t < sc->ntypes; t++)
        if (row->types & (UINT64_C(1) << t))
            c[t]++;
    c[sc->ntypes]++;
}

static void route_summary(const tw_api *api, const params *p, tw_api_reply *reply)
{
    static const char *const allowed[] = {"q", "from", "to", "types", "tz", "bucket", NULL};
    static const int64_t nice_s[] = {10,   30,   60,    120,   300,   600,
                                     1800, 3600, 7200, 21600, 43200, 86400};
    tw_rowstore_filter f;
    int64_t bucket_s;
    if (!params_check(p, allowed, reply) ||
        !need_store(api->anomalies, api->anomaly_view, "--anomalies", reply) ||
        !parse_filter(p, &f, reply) || !parse_types(p, api->anomalies, true, &f.types, reply) ||
        !parse_int(p, "bucket", 1, 86400, 0, &bucket_s, reply))
        return;
    f.match_types = true;
    int64_t min_us, max_us;
    bool any = anomaly_bounds(api, &min_us, &max_us);
    int64_t lo_us = f.from_us != INT64_MIN ? f.from_us : min_us;
    int64_t hi_us = f.to_us != INT64_MAX ? f.to_us : max_us;
    uint32_t ntypes = tw_rowstore_ntypes(api->anomalies);
    summary_ctx sc = {.store = api->anomalies, .ntypes = ntypes};
    if (any && lo_us <= hi_us) {
        int64_t span_s = (hi_us - lo_us) / TW_USEC_PER_SEC + 1;
        if (!bucket_s) {
            bucket_s = nice_s[sizeof nice_s / sizeof *nice_s - 1];
            for (size_t i = 0; i < sizeof nice_s / sizeof *nice_s; i++) {
                if (span_s / nice_s[i] <= 60) {
                    bucket_s = nice_s[i];
                    break;
                }
            }
        }
        sc.bucket_us = bucket_s * TW_USEC_PER_SEC;
        int64_t nb = floor_div(hi_us, sc.bucket_us) - floor_div(lo_us, sc.bucket_us) + 1;
        if (nb > SUMMARY_MAX_BUCKETS) {
            bad_param(reply, "bucket",
                      "bucket of %lld s gives %lld buckets over this range; at most %d",
                      (long long)bucket_s, (long long)nb, SUMMARY_MAX_BUCKETS);
            return;
        }
        sc.first_us = floor_div(lo_us, sc.bucket_us) * sc.bucket_us;
        sc.nbuckets = (uint32_t)nb;
        sc.counts = tw_xcalloc((size_t)nb * (ntypes + 1), sizeof *sc.counts);
        if (f.types)
            query_anomalies(api, &f, false, 0, UINT64_MAX, summary_row, &sc);
    } else if (!bucket_s) {
        bucket_s = 60;
    }
    json_t *types = json_array();
    for (uint32_t t = 0; t < ntypes; t++)
        if (f.types & (UINT64_C(1) << t))
            json_array_append_new(types, json_string(tw_rowstore_type_name(api->anomalies, t)));
    json_t *buckets = json_array();
    for (uint32_t k = 0; k < sc.nbuckets; k++) {
        const uint64_t *c = &sc.counts[(size_t)k * (ntypes + 1)];
        json_t *b = json_object(), *counts = json_object();
        char iso[48];
        tw_timestamp_format(sc.first_us + (int64_t)k * sc.bucket_us, iso, "Z");
        json_object_set_new(b, "start", json_string(iso));
        for (uint32_t t = 0; t < ntypes; t++)
            if (f.types & (UINT64_C(1) << t))
                json_object_set_new(counts, tw_rowstore_type_name(api->anomalies, t),
                                    json_integer((json_int_t)c[t]));
        json_object_set_new(b, "counts", counts);
        json_object_set_new(b, "total", json_integer((json_int_t)c[ntypes]));
        json_array_append_new(buckets, b);
    }
    free(sc.counts);
    json_t *o = json_object();
    json_object_set_new(o, "bucket_seconds", json_integer(bucket_s));
    json_object_set_new(o, "types", types);
    json_object_set_new(o, "buckets", buckets);
    reply_json(reply, 200, o);
}

/* ---- meta and health ---------------------------------------------------- */

/* Display names of the seed's types (netops-demo-readme.md); any other
 * type is labelled from its name. */
static const struct {
    const char *type, *label;
} seed_labels[] = {
    {"latency", "High Latency"},
    {"loss", "High Packet Loss"},
    {"bandwidth", "Bandwidth Saturation"},
};

/* Units shown beside a threshold, by the metric's name: the seed's
 * percentages, then common suffixes. None when unknown. */
static const char *metric_unit(const char *metric)
{
    static const struct {
        const char *suffix, *unit;
    } units[] = {
        {"avg_packet_loss_rate", "%"}, {"avg_bandwidth_usage", "%"}, {"_percent", "%"},
        {"_pct", "%"},                 {"_ms", "ms"},                {"_us", "us"},
        {"_bytes", "B"},
    };
    size_t n = strlen(metric);
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        size_t k = strlen(units[i].suffix);
        if (n >= k && !strcmp(metric + n - k, units[i].suffix))
            return units[i].unit;
    }
    return NULL;
}

static json_t *type_json(const tw_api *api, uint32_t t)
{
    const char *name = tw_rowstore_type_name(api->anomalies, t);
    json_t *ty = json_object();
    json_object_set_new(ty, "name", json_string(name));
    json_object_set_new(ty, "column", json_string(tw_rowstore_type_column(api->anomalies, t)));
    const char *label = NULL;
    for (size_t i = 0; i < sizeof seed_labels / sizeof *seed_labels; i++)
        if (!strcmp(seed_labels[i].type, name))
            label = seed_labels[i].label;
    if (label) {
        json_object_set_new(ty, "label", json_string(label));
    } else {
        /* is_port_scan -> "Port scan" */
        char text[128];
        snprintf(text, sizeof text, "%s", name);
        for (char *c = text; *c; c++)
            if (*c == '_')
                *c = ' ';
        text[0] = (char)toupper((unsigned char)text[0]);
        json_object_set_new(ty, "label", json_string(text));
    }
    const tw_rule *rule = api->rules ? &api->rules[t] : NULL;
    if (rule && rule->op != TW_RULE_NONE) {
        json_object_set_new(ty, "metric", json_string(rule->metric));
        json_object_set_new(ty, "op", json_string(tw_rule_op_text(rule->op)));
        json_object_set_new(ty, "threshold", json_real(rule->threshold));
        const char *unit = metric_unit(rule->metric);
        if (unit)
            json_object_set_new(ty, "unit", json_string(unit));
    }
    return ty;
}

static void route_meta(const tw_api *api, const params *p, tw_api_reply *reply)
{
    static const char *const allowed[] = {NULL};
    if (!params_check(p, allowed, reply))
        return;
    json_t *o = json_object();
    json_object_set_new(o, "version", json_string(TW_VERSION));
    json_object_set_new(o, "anomaly_view",
                        api->anomalies ? json_string(api->anomaly_view) : json_null());
    json_object_set_new(o, "series_view", api->series ? json_string(api->series_view) : json_null());
    json_object_set_new(o, "barrier_interval_ms", json_integer(api->barrier_interval_ms));
    json_t *types = json_array(), *columns = json_array();
    for (uint32_t t = 0; api->anomalies && t < tw_rowstore_ntypes(api->anomalies); t++)
        json_array_append_new(types, type_json(api, t));
    for (uint32_t c = 0; api->anomalies && c < tw_rowstore_ncols(api->anomalies); c++) {
        json_t *col = json_object();
        json_object_set_new(col, "name", json_string(tw_rowstore_column_name(api->anomalies, c)));
        json_object_set_new(col, "type",
                            json_string(tw_type_short_name(tw_rowstore_column_type(api->anomalies, c))));
        json_array_append_new(columns, col);
    }
    json_object_set_new(o, "types", types);
    json_object_set_new(o, "columns", columns);
    reply_json(reply, 200, o);
}

void tw_api_handle(const tw_api *api, tw_api_route route, const tw_api_param *items,
                   size_t nitems, tw_api_reply *reply)
{
    params p = {items, nitems};
    switch (route) {
    case TW_ROUTE_HEALTH: {
        static const char *const allowed[] = {NULL};
        if (params_check(&p, allowed, reply)) {
            json_t *o = json_object();
            json_object_set_new(o, "ok", json_true());
            reply_json(reply, 200, o);
        }
        return;
    }
    case TW_ROUTE_META: route_meta(api, &p, reply); return;
    case TW_ROUTE_ANOMALIES: route_anomalies(api, &p, reply); return;
    case TW_ROUTE_ANOMALIES_CSV: route_anomalies_csv(api, &p, reply); return;
    case TW_ROUTE_DEVICES: route_devices(api, &p, reply); return;
    case TW_ROUTE_SERIES: route_series(api, &p, reply); return;
    case TW_ROUTE_SUMMARY: route_summary(api, &p, reply); return;
    default: tw_api_error(reply, 404, "no such route", NULL); return;
    }
}

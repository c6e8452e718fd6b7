/* server.c - libmicrohttpd wiring: routes, auth, SSE, /metrics, assets. */
#include "serve/server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "common/arena.h"
#include "common/hash.h"
#include "common/timeutil.h"
#include "mv/mv.h"
#include "serve/api.h"
#include "serve/assets.h"
#include "serve/jsonout.h"
#include "serve/rowstore.h"
#include "serve/rules.h"
#include "serve/sse.h"

#define MAX_CONNECTIONS 512
#define MAX_SSE_CLIENTS 64
#define MAX_EVENT_THREADS 8
#define SSE_QUEUE_BYTES (4u << 20)
#define SSE_KEEPALIVE_US (15 * TW_USEC_PER_SEC)
/* Per connection, for the request head and the reply headers; libmicrohttpd
 * zeroes it after every request, so it is kept at its default size. */
#define CONNECTION_MEMORY_BYTES (32u << 10)
#define TOKEN_MAX_BYTES 256
/* The reply cache: 64 entries in sets of 4, each at most 256 KiB (a
 * dashboard page is ~5 KiB; large CSV exports are not kept), so it holds at
 * most 16 MiB. */
#define CACHE_SETS 16
#define CACHE_WAYS 4
#define CACHE_MAX_BODY_BYTES (256u << 10)

/* Statuses counted per route in /metrics; anything else counts as "other". */
static const unsigned counted_status[] = {200, 303, 304, 400, 401, 404, 405, 500, 503};
#define NSTATUS (sizeof counted_status / sizeof *counted_status + 1)

/* What a reply was computed from: the views' binding and both stores'
 * generations. A reply stays current while all three are unchanged. */
typedef struct views_stamp {
    uint64_t epoch, anomaly_gen, series_gen;
} views_stamp;

/* One cached reply: the route, its canonical parameters (the key) and the
 * response, shared by reference among the connections sending it. While
 * filling, one request computes it and requests for the same key and
 * stamp wait for it rather than computing it again. */
typedef struct cache_entry {
    uint64_t hash;
    tw_api_route route;
    char *key; /* owned; NULL when the entry is free */
    size_t key_len;
    views_stamp stamp;
    unsigned status;
    struct MHD_Response *response; /* one reference owned; NULL while filling */
    bool filling;
    uint64_t last_used;
} cache_entry;

typedef struct reply_cache {
    pthread_mutex_t mu;
    pthread_cond_t filled;
    cache_entry sets[CACHE_SETS][CACHE_WAYS];
    uint64_t clock; /* for least-recently-used eviction */
    atomic_uint_fast64_t hits, misses;
} reply_cache;

typedef struct sse_conn sse_conn;

struct tw_serve {
    struct MHD_Daemon *daemon;
    tw_engine *engine;
    /* api's stores and rules change when their views are created or
     * dropped (on the thread executing DDL, under the write lock); request
     * threads read them under the read lock. The pipeline thread's taps
     * read them without it: only the thread executing DDL changes them,
     * and it is the pipeline thread whenever taps run. */
    pthread_rwlock_t views_lock;
    uint64_t views_epoch; /* grows at every rebinding, under views_lock */
    tw_api api;
    char *data_dir; /* relative warehouse paths of the history's table */
    reply_cache cache;
    tw_rule *anomaly_rules;
    tw_sse_hub *hub;
    /* Stream connections suspended until the hub has text for them (the
     * event threads serve many connections and must never wait on one). */
    pthread_mutex_t streams_mu;
    sse_conn *parked;
    char *token;
    char *anomaly_view, *series_view;
    char url[160];
    uint64_t event_seq; /* the thread executing DDL and running taps only */
    atomic_uint_fast64_t requests[TW_ROUTE_COUNT_][NSTATUS];
    atomic_int_fast64_t last_barrier_wall_us;

    pthread_mutex_t metrics_mu;
    char *engine_metrics; /* Prometheus text from the last tick; guarded */
    uint64_t last_rows;
    int64_t last_tick_us;
};

static void wake_streams(tw_serve *s, bool keepalive_only);

/* ---- taps (pipeline thread) --------------------------------------------- */

typedef struct sse_batch {
    tw_serve *serve;
    char *text;
    size_t len, cap;
} sse_batch;

static void sse_append(sse_batch *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        while (b->len + n > b->cap)
            b->cap = b->cap ? b->cap * 2 : 4096;
        b->text = tw_xrealloc(b->text, b->cap);
    }
    memcpy(b->text + b->len, s, n);
    b->len += n;
}

static void sse_change(void *ctx, tw_change_kind kind, const tw_rowstore_row *row)
{
    static const char *const names[] = {"new", "updated", "cleared"};
    sse_batch *b = ctx;
    char head[96];
    int n = snprintf(head, sizeof head, "id: %llu\nevent: %s\ndata: ",
                     (unsigned long long)++b->serve->event_seq, names[kind]);
    sse_append(b, head, (size_t)n);
    json_t *o = tw_api_row_json(b->serve->api.anomalies, row);
    /* Compact JSON has no newline, so it is one data: line. */
    size_t len;
    char *json = tw_json_encode(o, &len);
    json_decref(o);
    sse_append(b, json, len);
    free(json);
    sse_append(b, "\n\n", 2);
}

static void anomaly_tap(void *ctx, const tw_batch *changes)
{
    tw_serve *s = ctx;
    if (changes) {
        tw_rowstore_apply(s->api.anomalies, changes);
        return;
    }
    atomic_store(&s->last_barrier_wall_us, tw_now_wall_us());
    if (!tw_sse_has_clients(s->hub)) {
        tw_rowstore_take_changes(s->api.anomalies, NULL, NULL);
        return;
    }
    sse_batch b = {.serve = s};
    tw_rowstore_take_changes(s->api.anomalies, sse_change, &b);
    if (b.len) {
        tw_sse_publish(s->hub, b.text, b.len);
        wake_streams(s, false);
    }
    free(b.text);
}

static void series_tap(void *ctx, const tw_batch *changes)
{
    tw_serve *s = ctx;
    if (changes)
        tw_rowstore_apply(s->api.series, changes);
    else
        tw_rowstore_take_changes(s->api.series, NULL, NULL);
}

/* ---- metrics ------------------------------------------------------------ */

static void prom_label(FILE *f, const char *value)
{
    for (const char *c = value; *c; c++) {
        if (*c == '\\' || *c == '"')
            fprintf(f, "\\%c", *c);
        else if (*c == '\n')
            fputs("\\n", f);
        else
            fputc(*c, f);
    }
}

static void prom_help(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Per-source and per-view counters, as the engine writes them for
 * --stats-json, turned into Prometheus families. */
static void engine_families(FILE *f, json_t *stats)
{
    static const struct {
        const char *key, *name, *type, *help;
    } src_fields[] = {
        {"lines", "tidewatch_source_lines_total", "counter", "Input lines read."},
        {"rows", "tidewatch_source_rows_total", "counter", "Rows decoded."},
        {"bytes", "tidewatch_source_bytes_total", "counter", "Input bytes read."},
        {"malformed", "tidewatch_source_malformed_total", "counter",
         "Lines that are not JSON objects (decode errors)."},
        {"type_errors", "tidewatch_source_type_errors_total", "counter",
         "Values that do not fit their column type (decode errors)."},
        {"late_rows", "tidewatch_source_late_rows_total", "counter",
         "Rows dropped behind the watermark."},
    }, mv_fields[] = {
        {"rows", "tidewatch_view_rows", "gauge", "Rows held by a materialized view."},
        {"late_rows", "tidewatch_view_late_rows_total", "counter",
         "Rows for windows already released by a view's aggregate."},
        {"eval_errors", "tidewatch_view_eval_errors_total", "counter",
         "Expression errors (rows set to NULL) in a view."},
    };
    json_t *sources = json_object_get(stats, "sources"), *mvs = json_object_get(stats, "mvs");
    const char *name;
    json_t *v;
    for (size_t i = 0; i < sizeof src_fields / sizeof *src_fields; i++) {
        prom_help(f, src_fields[i].name, src_fields[i].type, src_fields[i].help);
        json_object_foreach(sources, name, v)
        {
            fprintf(f, "%s{source=\"", src_fields[i].name);
            prom_label(f, name);
            fprintf(f, "\"} %lld\n",
                    (long long)json_integer_value(json_object_get(v, src_fields[i].key)));
        }
    }
    static const struct {
        const char *key, *name, *type, *help;
    } part_fields[] = {
        {"lag", "tidewatch_kafka_consumer_lag", "gauge",
         "Messages between the next offset to process and the partition's high watermark."},
        {"messages", "tidewatch_kafka_messages_total", "counter",
         "Messages processed from a Kafka partition by this process."},
    };
    for (size_t i = 0; i < sizeof part_fields / sizeof *part_fields; i++) {
        bool helped = false;
        json_object_foreach(sources, name, v)
        {
            json_t *parts = json_object_get(v, "partitions"), *p;
            size_t k;
            json_array_foreach(parts, k, p)
            {
                json_int_t value = json_integer_value(json_object_get(p, part_fields[i].key));
                if (value < 0)
                    continue; /* lag not known yet */
                if (!helped)
                    prom_help(f, part_fields[i].name, part_fields[i].type, part_fields[i].help);
                helped = true;
                fprintf(f, "%s{source=\"", part_fields[i].name);
                prom_label(f, name);
                fprintf(f, "\",partition=\"%lld\"} %lld\n",
                        (long long)json_integer_value(json_object_get(p, "partition")),
                        (long long)value);
            }
        }
    }
    static const struct {
        const char *key, *name, *type, *help;
        double scale;
    } sink_fields[] = {
        {"commits", "tidewatch_sink_commits_total", "counter", "Snapshots a sink committed.", 1},
        {"commit_failures", "tidewatch_sink_commit_failures_total", "counter",
         "Commit attempts that failed (retried at the next barrier).", 1},
        {"rows_written", "tidewatch_sink_rows_written_total", "counter",
         "Rows a sink wrote in committed snapshots.", 1},
        {"pending_rows", "tidewatch_sink_pending_rows", "gauge",
         "Rows waiting for their window to close before a sink writes them.", 1},
        {"late_rows", "tidewatch_sink_late_rows_total", "counter",
         "Changes to windows a sink had already written (not written again).", 1},
        {"watermark_us", "tidewatch_sink_watermark_timestamp_seconds", "gauge",
         "Event time up to which a sink's windows are complete.", 1e-6},
        {"since_last_commit_ms", "tidewatch_sink_seconds_since_last_commit", "gauge",
         "Seconds since a sink's last commit.", 1e-3},
    };
    json_t *sinks = json_object_get(stats, "sinks");
    for (size_t i = 0; i < sizeof sink_fields / sizeof *sink_fields; i++) {
        bool helped = false;
        json_object_foreach(sinks, name, v)
        {
            json_t *value = json_object_get(v, sink_fields[i].key);
            if (!value)
                continue; /* no watermark or commit yet */
            if (!helped)
                prom_help(f, sink_fields[i].name, sink_fields[i].type, sink_fields[i].help);
            helped = true;
            fprintf(f, "%s{sink=\"", sink_fields[i].name);
            prom_label(f, name);
            if (sink_fields[i].scale == 1)
                fprintf(f, "\"} %lld\n", (long long)json_integer_value(value));
            else
                fprintf(f, "\"} %.3f\n", (double)json_integer_value(value) * sink_fields[i].scale);
        }
    }
    for (size_t i = 0; i < sizeof mv_fields / sizeof *mv_fields; i++) {
        prom_help(f, mv_fields[i].name, mv_fields[i].type, mv_fields[i].help);
        json_object_foreach(mvs, name, v)
        {
            fprintf(f, "%s{view=\"", mv_fields[i].name);
            prom_label(f, name);
            fprintf(f, "\"} %lld\n",
                    (long long)json_integer_value(json_object_get(v, mv_fields[i].key)));
        }
    }
}

void tw_serve_tick(tw_serve *s, tw_engine *engine)
{
    wake_streams(s, true);
    char *stats_text = NULL, *text = NULL;
    size_t stats_len = 0, len = 0;
    FILE *sf = open_memstream(&stats_text, &stats_len);
    FILE *f = open_memstream(&text, &len);
    if (!sf || !f) {
        if (sf)
            fclose(sf);
        if (f)
            fclose(f);
        free(stats_text);
        free(text);
        return;
    }
    tw_engine_write_stats_json(engine, sf);
    fclose(sf);
    json_t *stats = json_loadb(stats_text, stats_len, 0, NULL);
    free(stats_text);

    tw_engine_stats st;
    tw_engine_get_stats(engine, &st);
    int64_t now_us = tw_now_mono_us();
    double rate = 0;
    if (s->last_tick_us && now_us > s->last_tick_us)
        rate = (double)(st.rows - s->last_rows) * 1e6 / (double)(now_us - s->last_tick_us);
    s->last_rows = st.rows;
    s->last_tick_us = now_us;

    prom_help(f, "tidewatch_ingest_rows_total", "counter", "Rows decoded over all sources.");
    fprintf(f, "tidewatch_ingest_rows_total %llu\n", (unsigned long long)st.rows);
    prom_help(f, "tidewatch_ingest_rows_per_second", "gauge",
              "Rows decoded per second over the last second.");
    fprintf(f, "tidewatch_ingest_rows_per_second %.1f\n", rate);
    prom_help(f, "tidewatch_ingest_bytes_total", "counter", "Input bytes over all sources.");
    fprintf(f, "tidewatch_ingest_bytes_total %llu\n", (unsigned long long)st.bytes);
    prom_help(f, "tidewatch_decode_errors_total", "counter",
              "Input lines or values that could not be decoded, by kind.");
    fprintf(f, "tidewatch_decode_errors_total{kind=\"malformed\"} %llu\n",
            (unsigned long long)st.malformed);
    fprintf(f, "tidewatch_decode_errors_total{kind=\"type\"} %llu\n",
            (unsigned long long)st.type_errors);
    prom_help(f, "tidewatch_late_rows_total", "counter", "Late rows over all sources and views.");
    fprintf(f, "tidewatch_late_rows_total %llu\n", (unsigned long long)st.late_rows);
    prom_help(f, "tidewatch_eval_errors_total", "counter", "Expression errors over all views.");
    fprintf(f, "tidewatch_eval_errors_total %llu\n", (unsigned long long)st.eval_errors);
    if (stats)
        engine_families(f, stats);
    json_decref(stats);
    fclose(f);

    pthread_mutex_lock(&s->metrics_mu);
    free(s->engine_metrics);
    s->engine_metrics = text;
    pthread_mutex_unlock(&s->metrics_mu);
}

static char *metrics_text(tw_serve *s, size_t *out_len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, out_len);
    if (!f)
        return NULL;
    pthread_mutex_lock(&s->metrics_mu);
    if (s->engine_metrics)
        fputs(s->engine_metrics, f);
    pthread_mutex_unlock(&s->metrics_mu);
    prom_help(f, "tidewatch_http_requests_total", "counter", "HTTP requests by route and status.");
    for (int r = 0; r < TW_ROUTE_COUNT_; r++) {
        for (size_t k = 0; k < NSTATUS; k++) {
            uint64_t n = atomic_load(&s->requests[r][k]);
            if (!n)
                continue;
            char status[16];
            if (k < NSTATUS - 1)
                snprintf(status, sizeof status, "%u", counted_status[k]);
            else
                snprintf(status, sizeof status, "other");
            fprintf(f, "tidewatch_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                    tw_api_route_name((tw_api_route)r), status, (unsigned long long)n);
        }
    }
    tw_sse_stats sst;
    tw_sse_get_stats(s->hub, &sst);
    prom_help(f, "tidewatch_sse_clients", "gauge", "Connected /api/stream clients.");
    fprintf(f, "tidewatch_sse_clients %u\n", sst.clients);
    prom_help(f, "tidewatch_sse_dropped_total", "counter",
              "Stream clients dropped because they fell too far behind.");
    fprintf(f, "tidewatch_sse_dropped_total %llu\n", (unsigned long long)sst.dropped);
    prom_help(f, "tidewatch_sse_messages_total", "counter", "Barrier messages published.");
    fprintf(f, "tidewatch_sse_messages_total %llu\n", (unsigned long long)sst.published);
    prom_help(f, "tidewatch_http_cache_hits_total", "counter",
              "API replies sent from the reply cache (computed once per barrier).");
    fprintf(f, "tidewatch_http_cache_hits_total %llu\n",
            (unsigned long long)atomic_load(&s->cache.hits));
    prom_help(f, "tidewatch_http_cache_misses_total", "counter",
              "API replies computed because no current one was cached.");
    fprintf(f, "tidewatch_http_cache_misses_total %llu\n",
            (unsigned long long)atomic_load(&s->cache.misses));
    prom_help(f, "tidewatch_served_rows", "gauge", "Rows held by the API's stores, by view.");
    pthread_rwlock_rdlock(&s->views_lock);
    if (s->api.anomalies) {
        fputs("tidewatch_served_rows{view=\"", f);
        prom_label(f, s->anomaly_view);
        fprintf(f, "\"} %llu\n", (unsigned long long)tw_rowstore_count(s->api.anomalies));
    }
    if (s->api.series) {
        fputs("tidewatch_served_rows{view=\"", f);
        prom_label(f, s->series_view);
        fprintf(f, "\"} %llu\n", (unsigned long long)tw_rowstore_count(s->api.series));
    }
    pthread_rwlock_unlock(&s->views_lock);
    int64_t last = atomic_load(&s->last_barrier_wall_us);
    prom_help(f, "tidewatch_last_barrier_timestamp_seconds", "gauge",
              "Wall-clock time of the last barrier the API saw.");
    fprintf(f, "tidewatch_last_barrier_timestamp_seconds %.3f\n", (double)last / 1e6);
    fclose(f);
    return text;
}

/* ---- HTTP --------------------------------------------------------------- */

static void count_request(tw_serve *s, tw_api_route route, unsigned status)
{
    size_t k = NSTATUS - 1;
    for (size_t i = 0; i < NSTATUS - 1; i++)
        if (counted_status[i] == status)
            k = i;
    atomic_fetch_add(&s->requests[route][k], 1);
}

static void add_common_headers(struct MHD_Response *resp, bool page)
{
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    if (page) {
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'none'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'none'");
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
    } else {
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'none'; frame-ancestors 'none'");
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    }
}

/* The response for a computed reply: its body is handed over. NULL when
 * out of memory (the body is freed). */
static struct MHD_Response *reply_response(tw_api_reply *reply)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(reply->len, reply->body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(reply->body);
        return NULL;
    }
    MHD_add_response_header(resp, "Content-Type", reply->content_type);
    add_common_headers(resp, false);
    if (reply->attachment) {
        char disp[128];
        snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", reply->attachment);
        MHD_add_response_header(resp, "Content-Disposition", disp);
    }
    return resp;
}

static enum MHD_Result send_reply(tw_serve *s, struct MHD_Connection *conn, tw_api_route route,
                                  tw_api_reply *reply, const char *extra_name,
                                  const char *extra_value)
{
    unsigned status = reply->status;
    struct MHD_Response *resp = reply_response(reply);
    if (!resp)
        return MHD_NO;
    if (extra_name)
        MHD_add_response_header(resp, extra_name, extra_value);
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    count_request(s, route, status);
    return r;
}

static enum MHD_Result send_error(tw_serve *s, struct MHD_Connection *conn, tw_api_route route,
                                  unsigned status, const char *message, const char *parameter)
{
    tw_api_reply reply;
    tw_api_error(&reply, status, message, parameter);
    const char *name = NULL, *value = NULL;
    if (status == 401) {
        name = "WWW-Authenticate";
        value = "Bearer realm=\"tidewatch\"";
    } else if (status == 405) {
        name = "Allow";
        value = "GET, HEAD";
    }
    return send_reply(s, conn, route, &reply, name, value);
}

typedef struct param_list {
    tw_api_param items[TW_API_MAX_PARAMS];
    size_t n;
    const char *bad; /* the first parameter that broke a bound */
    const char *why;
} param_list;

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    param_list *pl = cls;
    if (pl->bad)
        return MHD_NO;
    if (pl->n == TW_API_MAX_PARAMS) {
        pl->bad = key;
        pl->why = "too many query parameters";
        return MHD_NO;
    }
    if (strlen(key) > 64 || (value && strlen(value) > TW_API_MAX_PARAM_BYTES)) {
        pl->bad = key;
        pl->why = "query parameter too long";
        return MHD_NO;
    }
    pl->items[pl->n].name = key;
    pl->items[pl->n].value = value ? value : "";
    pl->n++;
    return MHD_YES;
}

/* Constant-time comparison, so response times do not reveal the token. */
static bool token_equal(const char *given, const char *token)
{
    size_t a = strlen(given), b = strlen(token);
    unsigned char diff = (unsigned char)(a != b);
    for (size_t i = 0; i < b; i++)
        diff |= (unsigned char)(given[i < a ? i : 0] ^ token[i]);
    return diff == 0;
}

static bool authorized(tw_serve *s, struct MHD_Connection *conn)
{
    if (!s->token)
        return true;
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (auth && !strncasecmp(auth, "Bearer ", 7) && token_equal(auth + 7, s->token))
        return true;
    const char *cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "tw_token");
    return cookie && token_equal(cookie, s->token);
}

struct sse_conn {
    tw_serve *serve;
    tw_sse_client *client;
    struct MHD_Connection *conn;
    bool greeted, parked;
    int64_t last_sent_us;
    sse_conn *prev, *next; /* in serve->parked while parked */
};

static void unpark(tw_serve *s, sse_conn *sc)
{
    assert(sc->parked);
    if (sc->prev)
        sc->prev->next = sc->next;
    else
        s->parked = sc->next;
    if (sc->next)
        sc->next->prev = sc->prev;
    sc->prev = sc->next = NULL;
    sc->parked = false;
}

/* Resumes parked streams: all of them, or (keepalive_only) those due a
 * keepalive. Any thread; call after every tw_sse_publish and tw_sse_close. */
static void wake_streams(tw_serve *s, bool keepalive_only)
{
    int64_t now_us = tw_now_mono_us();
    pthread_mutex_lock(&s->streams_mu);
    for (sse_conn *sc = s->parked, *next; sc; sc = next) {
        next = sc->next;
        if (keepalive_only && now_us - sc->last_sent_us < SSE_KEEPALIVE_US)
            continue;
        unpark(s, sc);
        MHD_resume_connection(sc->conn);
    }
    pthread_mutex_unlock(&s->streams_mu);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sse_conn *sc = cls;
    tw_serve *s = sc->serve;
    int64_t now_us = tw_now_mono_us();
    if (!sc->greeted) {
        static const char hello[] = "retry: 2000\nevent: hello\ndata: {}\n\n";
        sc->greeted = true;
        sc->last_sent_us = now_us;
        if (max >= sizeof hello - 1) {
            memcpy(buf, hello, sizeof hello - 1);
            return (ssize_t)(sizeof hello - 1);
        }
    }
    /* Reading and parking under streams_mu: a publish that finds nothing
     * to read here wakes this stream once it is parked, so none is lost. */
    pthread_mutex_lock(&s->streams_mu);
    ssize_t n = tw_sse_read(s->hub, sc->client, buf, max, 0);
    if (n == 0 && now_us - sc->last_sent_us < SSE_KEEPALIVE_US) {
        sc->parked = true;
        sc->next = s->parked;
        if (s->parked)
            s->parked->prev = sc;
        s->parked = sc;
        MHD_suspend_connection(sc->conn);
        pthread_mutex_unlock(&s->streams_mu);
        return 0;
    }
    pthread_mutex_unlock(&s->streams_mu);
    if (n < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n == 0) {
        /* A comment line keeps proxies from closing an idle stream and
         * tells us when the browser has gone. */
        static const char ping[] = ": keepalive\n\n";
        if (max < sizeof ping - 1)
            return 0;
        memcpy(buf, ping, sizeof ping - 1);
        n = (ssize_t)(sizeof ping - 1);
    }
    sc->last_sent_us = now_us;
    return n;
}

static void sse_done(void *cls)
{
    sse_conn *sc = cls;
    tw_serve *s = sc->serve;
    pthread_mutex_lock(&s->streams_mu);
    if (sc->parked)
        unpark(s, sc);
    pthread_mutex_unlock(&s->streams_mu);
    tw_sse_unsubscribe(s->hub, sc->client);
    free(sc);
}

static enum MHD_Result serve_stream(tw_serve *s, struct MHD_Connection *conn,
                                    const param_list *pl)
{
    if (pl->n)
        return send_error(s, conn, TW_ROUTE_STREAM, 400, "/api/stream takes no parameters",
                          pl->items[0].name);
    /* Open even while the anomaly view does not exist: its changes flow
     * once it is created, announced by a meta event. */
    tw_sse_client *client = tw_sse_subscribe(s->hub);
    if (!client)
        return send_error(s, conn, TW_ROUTE_STREAM, 503, "too many stream clients", NULL);
    sse_conn *sc = tw_xcalloc(1, sizeof *sc);
    sc->serve = s;
    sc->client = client;
    sc->conn = conn;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, sc, sse_done);
    if (!resp) {
        sse_done(sc);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    add_common_headers(resp, false);
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    enum MHD_Result r = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp);
    count_request(s, TW_ROUTE_STREAM, 200);
    return r;
}

static enum MHD_Result serve_metrics(tw_serve *s, struct MHD_Connection *conn,
                                     const param_list *pl)
{
    if (pl->n)
        return send_error(s, conn, TW_ROUTE_METRICS, 400, "/metrics takes no parameters",
                          pl->items[0].name);
    tw_api_reply reply = {.status = 200, .content_type = "text/plain; version=0.0.4"};
    reply.body = metrics_text(s, &reply.len);
    if (!reply.body)
        return send_error(s, conn, TW_ROUTE_METRICS, 500, "out of memory", NULL);
    return send_reply(s, conn, TW_ROUTE_METRICS, &reply, NULL, NULL);
}

static enum MHD_Result serve_asset(tw_serve *s, struct MHD_Connection *conn, const char *url,
                                   const param_list *pl)
{
    const char *path = strcmp(url, "/") ? url : "/index.html";
    const tw_web_asset *a = tw_web_asset_find(path);
    if (!a)
        return send_error(s, conn, TW_ROUTE_OTHER, 404, "not found", NULL);
    /* Opening /?token=T sets the cookie the page's requests carry, then
     * drops the token from the address bar. */
    for (size_t i = 0; i < pl->n; i++) {
        if (strcmp(pl->items[i].name, "token"))
            continue;
        if (!s->token || !token_equal(pl->items[i].value, s->token))
            return send_error(s, conn, TW_ROUTE_ASSET, 401, "the token does not match", "token");
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        char cookie[TOKEN_MAX_BYTES + 64];
        snprintf(cookie, sizeof cookie, "tw_token=%s; Path=/; HttpOnly; SameSite=Strict",
                 s->token);
        MHD_add_response_header(resp, "Set-Cookie", cookie);
        MHD_add_response_header(resp, "Location", "/");
        add_common_headers(resp, true);
        enum MHD_Result r = MHD_queue_response(conn, 303, resp);
        MHD_destroy_response(resp);
        count_request(s, TW_ROUTE_ASSET, 303);
        return r;
    }
    char etag[32];
    snprintf(etag, sizeof etag, "\"%016llx\"",
             (unsigned long long)tw_hash_bytes(a->data, a->len, 1));
    const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    unsigned status = inm && !strcmp(inm, etag) ? 304 : 200;
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        status == 200 ? a->len : 0, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "Content-Type", a->content_type);
    MHD_add_response_header(resp, "ETag", etag);
    add_common_headers(resp, true);
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    count_request(s, TW_ROUTE_ASSET, status);
    return r;
}

static tw_api_route route_of(const char *url)
{
    static const struct {
        const char *path;
        tw_api_route route;
    } routes[] = {
        {"/api/health", TW_ROUTE_HEALTH},       {"/api/meta", TW_ROUTE_META},
        {"/api/anomalies", TW_ROUTE_ANOMALIES}, {"/api/anomalies.csv", TW_ROUTE_ANOMALIES_CSV},
        {"/api/devices", TW_ROUTE_DEVICES},     {"/api/series", TW_ROUTE_SERIES},
        {"/api/summary", TW_ROUTE_SUMMARY},     {"/api/stream", TW_ROUTE_STREAM},
        {"/metrics", TW_ROUTE_METRICS},
    };
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if (!strcmp(url, routes[i].path))
            return routes[i].route;
    return strncmp(url, "/api/", 5) ? TW_ROUTE_ASSET : TW_ROUTE_OTHER;
}

/* ---- reply cache -------------------------------------------------------- */

/* The stamp of what route reads, now; call under views_lock (read or
 * write). A store a route does not read stays 0, so its barriers do not
 * make the route's replies stale. */
static views_stamp stamp_now(const tw_serve *s, tw_api_route route)
{
    bool reads_anomalies = route != TW_ROUTE_SERIES && route != TW_ROUTE_HEALTH;
    bool reads_series = route == TW_ROUTE_SERIES || route == TW_ROUTE_DEVICES;
    return (views_stamp){
        .epoch = s->views_epoch,
        .anomaly_gen = reads_anomalies && s->api.anomalies
                           ? tw_rowstore_generation(s->api.anomalies) : 0,
        .series_gen = reads_series && s->api.series ? tw_rowstore_generation(s->api.series) : 0,
    };
}

static bool stamp_equal(const views_stamp *a, const views_stamp *b)
{
    return a->epoch == b->epoch && a->anomaly_gen == b->anomaly_gen &&
           a->series_gen == b->series_gen;
}

static int param_cmp(const void *a, const void *b)
{
    const tw_api_param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* The parameters in name order as "name\0value\0" pairs: two requests with
 * the same parameters in any order share a key. Only 200 replies are
 * cached, and those never depend on the order (repeated or unknown names
 * give 400). Returns the length written to key (at least
 * TW_API_MAX_PARAMS * (64 + TW_API_MAX_PARAM_BYTES + 2) bytes). */
static size_t canonical_key(const param_list *pl, char *key)
{
    tw_api_param sorted[TW_API_MAX_PARAMS];
    memcpy(sorted, pl->items, pl->n * sizeof *sorted);
    qsort(sorted, pl->n, sizeof *sorted, param_cmp);
    size_t len = 0;
    for (size_t i = 0; i < pl->n; i++) {
        size_t n = strlen(sorted[i].name) + 1, v = strlen(sorted[i].value) + 1;
        memcpy(key + len, sorted[i].name, n);
        memcpy(key + len + n, sorted[i].value, v);
        len += n + v;
    }
    return len;
}

static void entry_clear(cache_entry *e)
{
    assert(!e->filling);
    if (e->response)
        MHD_destroy_response(e->response);
    free(e->key);
    memset(e, 0, sizeof *e);
}

/* Drops every entry (the views were rebound). Call under views_lock's
 * write lock, so no request is filling. */
static void cache_flush(reply_cache *c)
{
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < CACHE_SETS; i++)
        for (size_t w = 0; w < CACHE_WAYS; w++)
            entry_clear(&c->sets[i][w]);
    pthread_mutex_unlock(&c->mu);
}

/* Answers a data route, from the cache when a reply for the same route
 * and parameters was computed since the views last changed (at most one
 * barrier ago). A miss computes the reply once; concurrent requests for it
 * wait for that one rather than each building the same JSON. Call under
 * views_lock's read lock. */
static enum MHD_Result serve_api(tw_serve *s, struct MHD_Connection *conn, tw_api_route route,
                                 const param_list *pl)
{
    reply_cache *c = &s->cache;
    if (route == TW_ROUTE_ANOMALIES_CSV) {
        /* Exports are rare and mostly too large to keep: built per request,
         * so identical exports never queue behind each other's fill on
         * the pool's few threads. */
        tw_api_reply reply;
        tw_api_handle(&s->api, route, pl->items, pl->n, &reply);
        unsigned status = reply.status;
        struct MHD_Response *resp = reply_response(&reply);
        enum MHD_Result r = resp ? MHD_queue_response(conn, status, resp) : MHD_NO;
        if (resp)
            MHD_destroy_response(resp);
        count_request(s, route, status);
        return r;
    }
    char key[TW_API_MAX_PARAMS * (64 + TW_API_MAX_PARAM_BYTES + 2)];
    size_t key_len = canonical_key(pl, key);
    uint64_t hash = tw_hash_bytes(key, key_len, (uint64_t)route + 1);
    views_stamp stamp = stamp_now(s, route);
    cache_entry *set = c->sets[hash % CACHE_SETS], *mine = NULL;
    enum MHD_Result r;

    pthread_mutex_lock(&c->mu);
    for (;;) {
        cache_entry *found = NULL, *victim = NULL;
        for (size_t w = 0; w < CACHE_WAYS; w++) {
            cache_entry *e = &set[w];
            if (e->key && e->hash == hash && e->route == route && e->key_len == key_len &&
                !memcmp(e->key, key, key_len))
                found = e;
            else if (!e->filling && (!victim || !e->key || e->last_used < victim->last_used))
                victim = e;
        }
        if (found && stamp_equal(&found->stamp, &stamp)) {
            if (found->filling) {
                pthread_cond_wait(&c->filled, &c->mu);
                continue; /* it may have been filled, dropped or replaced */
            }
            found->last_used = ++c->clock;
            unsigned status = found->status; /* the entry may be refilled once unlocked */
            r = MHD_queue_response(conn, status, found->response);
            pthread_mutex_unlock(&c->mu);
            atomic_fetch_add(&c->hits, 1);
            count_request(s, route, status);
            return r;
        }
        /* A stale entry is refilled in place; one being filled for another
         * stamp is left to its filler and this reply is not kept. */
        mine = found ? (found->filling ? NULL : found) : victim;
        if (mine) {
            entry_clear(mine);
            mine->hash = hash;
            mine->route = route;
            mine->key = tw_xmalloc(key_len ? key_len : 1);
            memcpy(mine->key, key, key_len);
            mine->key_len = key_len;
            mine->stamp = stamp;
            mine->filling = true;
            mine->last_used = ++c->clock;
        }
        break;
    }
    pthread_mutex_unlock(&c->mu);
    atomic_fetch_add(&c->misses, 1);

    tw_api_reply reply;
    tw_api_handle(&s->api, route, pl->items, pl->n, &reply);
    unsigned status = reply.status;
    bool keep = status == 200 && reply.len <= CACHE_MAX_BODY_BYTES;
    struct MHD_Response *resp = reply_response(&reply);

    pthread_mutex_lock(&c->mu);
    if (mine) {
        mine->filling = false;
        if (keep && resp) {
            mine->status = status;
            mine->response = resp;
        } else {
            entry_clear(mine);
        }
        pthread_cond_broadcast(&c->filled);
    }
    r = resp ? MHD_queue_response(conn, status, resp) : MHD_NO;
    pthread_mutex_unlock(&c->mu);
    if (resp && !(mine && keep))
        MHD_destroy_response(resp);
    count_request(s, route, status);
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_ctx)
{
    (void)version;
    (void)upload_data;
    static int headers_seen;
    tw_serve *s = cls;
    tw_api_route route = route_of(url);
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        *upload_data_size = 0;
        return send_error(s, conn, route, 405, "only GET and HEAD are served", NULL);
    }
    /* The first call comes with the headers alone. libmicrohttpd closes
     * the connection after a reply queued then (it will not read past an
     * unread body), so GETs answer on the second call and keep the
     * connection for the next request. */
    if (!*req_ctx) {
        *req_ctx = &headers_seen;
        return MHD_YES;
    }
    *upload_data_size = 0;
    param_list pl = {.n = 0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_param, &pl);
    if (pl.bad)
        return send_error(s, conn, route, 400, pl.why, pl.bad);
    if (route == TW_ROUTE_ASSET)
        return serve_asset(s, conn, url, &pl);
    if (!authorized(s, conn))
        return send_error(s, conn, route, 401,
                          "this server needs a token: send 'Authorization: Bearer TOKEN' or "
                          "open /?token=TOKEN once in the browser",
                          NULL);
    if (route == TW_ROUTE_STREAM)
        return serve_stream(s, conn, &pl);
    if (route == TW_ROUTE_METRICS)
        return serve_metrics(s, conn, &pl);
    if (route == TW_ROUTE_OTHER)
        return send_error(s, conn, route, 404, "no such API route; see docs/api.md", NULL);
    pthread_rwlock_rdlock(&s->views_lock);
    enum MHD_Result r = serve_api(s, conn, route, &pl);
    pthread_rwlock_unlock(&s->views_lock);
    return r;
}

/* ---- lifecycle ---------------------------------------------------------- */

void tw_serve_opts_default(tw_serve_opts *o)
{
    memset(o, 0, sizeof *o);
    o->addr = "127.0.0.1:8080";
    o->anomaly_view = "network_anomalies";
    o->series_view = "device_metrics_10s";
    o->barrier_interval_ms = 1000;
}

/* Parses HOST:PORT into a socket address; HOST is an IPv4 literal,
 * localhost, or an IPv6 literal in brackets. */
static bool parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *sslen,
                       bool *ipv6, tw_err *err)
{
    const char *colon = strrchr(addr, ':');
    char host[64];
    if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof host)
        return tw_err_set(err, TW_ERR_CONFIG,
                          "--http '%s': expected HOST:PORT such as 127.0.0.1:8080", addr);
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535)
        return tw_err_set(err, TW_ERR_CONFIG, "--http '%s': port must be 0..65535", addr);
    memset(ss, 0, sizeof *ss);
    size_t hl = strlen(host);
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        host[hl - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            return tw_err_set(err, TW_ERR_CONFIG, "--http '%s': bad IPv6 address", addr);
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *sslen = sizeof *a6;
        *ipv6 = true;
        return true;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        return tw_err_set(err, TW_ERR_CONFIG,
                          "--http '%s': host must be an IPv4 address, localhost or [IPv6]", addr);
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *sslen = sizeof *a4;
    *ipv6 = false;
    return true;
}

static bool token_ok(const char *token)
{
    size_t n = strlen(token);
    if (!n || n > TOKEN_MAX_BYTES)
        return false;
    for (const char *c = token; *c; c++)
        if (!(isalnum((unsigned char)*c) || strchr("-._~+/=", *c)))
            return false;
    return true;
}

/* A store with view mv's columns, or NULL with err set when the view has
 * not the columns the API needs. */
static tw_rowstore *store_new(struct tw_mv *mv, const char *name, tw_err *err)
{
    uint32_t ncols = tw_mv_ncols(mv);
    const char **names = tw_xcalloc(ncols ? ncols : 1, sizeof *names);
    tw_type *types = tw_xcalloc(ncols ? ncols : 1, sizeof *types);
    for (uint32_t c = 0; c < ncols; c++) {
        names[c] = tw_mv_column_name(mv, c);
        types[c] = tw_mv_column_type(mv, c);
    }
    tw_rowstore *store = tw_rowstore_new(name, names, types, ncols, err);
    free(names);
    free(types);
    return store;
}

/* The threshold of each of store's types, from the view's definition. */
static tw_rule *rules_new(tw_serve *s, const tw_rowstore *store)
{
    uint32_t ntypes = tw_rowstore_ntypes(store);
    tw_rule *rules = tw_xcalloc(ntypes ? ntypes : 1, sizeof *rules);
    const char **columns = tw_xcalloc(ntypes ? ntypes : 1, sizeof *columns);
    for (uint32_t t = 0; t < ntypes; t++)
        columns[t] = tw_rowstore_type_column(store, t);
    char *definition = tw_engine_mv_definition(s->engine, s->anomaly_view);
    tw_err err;
    if (definition && !tw_rules_from_select(definition, columns, ntypes, rules, &err))
        fprintf(stderr, "tidewatch: http: no thresholds for '%s': %s\n", s->anomaly_view,
                err.msg);
    free(definition);
    free(columns);
    return rules;
}

static void fill_store(void *ctx, const tw_batch *rows)
{
    tw_rowstore_apply(ctx, rows);
}

/* Binds the anomaly (or series) view as it is now: a store filled with the
 * view's rows and fed by a tap when the view exists and is servable, no
 * store (the routes answer 503) when not. Runs at start and on the thread
 * executing DDL. Returns false with err set only when required and the
 * view is missing or not servable. */
static bool bind_view(tw_serve *s, bool anomaly, bool required, tw_err *err)
{
    const char *name = anomaly ? s->anomaly_view : s->series_view;
    const char *option = anomaly ? "--anomalies" : "--series";
    struct tw_mv *mv = tw_engine_find_mv(s->engine, name);
    tw_rowstore *store = NULL;
    tw_rule *rules = NULL;
    tw_err local;
    if (!mv) {
        if (required)
            return tw_err_set(err, TW_ERR_CONFIG, "%s: no materialized view named '%s'", option,
                              name);
    } else if (!(store = store_new(mv, name, required ? err : &local))) {
        if (required)
            return false;
        fprintf(stderr, "tidewatch: http: %s; its routes answer 503\n", local.msg);
    }
    if (store) {
        tw_mv_scan(mv, fill_store, store);
        tw_rowstore_take_changes(store, NULL, NULL);
        if (anomaly)
            rules = rules_new(s, store);
        /* The view exists, so tapping it cannot fail. */
        bool tapped = tw_engine_tap(s->engine, name, anomaly ? anomaly_tap : series_tap, s, &local);
        assert(tapped);
        (void)tapped;
    }
    pthread_rwlock_wrlock(&s->views_lock);
    s->views_epoch++;
    cache_flush(&s->cache);
    /* The history's decoded row groups are laid out for the old view's
     * columns; no query holds them while the write lock is held. */
    if (anomaly && s->api.history)
        tw_history_flush(s->api.history);
    tw_rowstore **slot = anomaly ? &s->api.anomalies : &s->api.series;
    tw_rowstore *old_store = *slot;
    tw_rule *old_rules = anomaly ? s->anomaly_rules : NULL;
    *slot = store;
    if (anomaly)
        s->api.rules = s->anomaly_rules = rules;
    pthread_rwlock_unlock(&s->views_lock);
    tw_rowstore_free(old_store);
    free(old_rules);
    return true;
}

/* The anomaly view's sink's table becomes the history the API merges under
 * the live rows, from the next request on: at start, and when a sink is
 * created on the view while the server runs. Without a sink, or with a
 * table that cannot be read, the API serves live rows (the reason is
 * printed). */
static void open_history(tw_serve *s)
{
    tw_engine_sink_info info;
    if (!tw_engine_sink_of(s->engine, s->anomaly_view, &info))
        return;
    tw_history_opts hopts = {.keys = (const char *const *)info.keys,
                             .values = (const char *const *)info.values,
                             .nopts = info.nopts,
                             .data_dir = s->data_dir};
    tw_err err;
    tw_history *history = tw_history_open(&hopts, &err);
    if (!history)
        fprintf(stderr, "tidewatch: http: sink '%s': its table is not served as history: %s\n",
                info.name, err.msg);
    tw_engine_sink_info_free(&info);
    if (!history)
        return;
    pthread_rwlock_wrlock(&s->views_lock);
    tw_history *old = s->api.history;
    s->api.history = history;
    s->views_epoch++;
    cache_flush(&s->cache);
    pthread_rwlock_unlock(&s->views_lock);
    tw_history_free(old); /* no request holds it: they run under the read lock */
}

static void on_sink_created(void *ctx, const char *sink, const char *from)
{
    tw_serve *s = ctx;
    (void)sink;
    if (!strcmp(from, s->anomaly_view))
        open_history(s);
}

static void on_view_change(void *ctx, const char *view, bool created)
{
    tw_serve *s = ctx;
    bool changed = false;
    for (int anomaly = 1; anomaly >= 0; anomaly--) {
        if (strcmp(view, anomaly ? s->anomaly_view : s->series_view))
            continue;
        bind_view(s, anomaly, false, NULL);
        changed = true;
        fprintf(stderr, "tidewatch: http: view '%s' %s; %s\n", view,
                created ? "created" : "dropped",
                (anomaly ? s->api.anomalies : s->api.series) ? "serving it"
                                                             : "its routes answer 503");
    }
    if (!changed)
        return;
    /* Pages reload /api/meta (types, thresholds) and their rows. */
    char text[96];
    int n = snprintf(text, sizeof text, "id: %llu\nevent: meta\ndata: {}\n\n",
                     (unsigned long long)++s->event_seq);
    tw_sse_publish(s->hub, text, (size_t)n);
    wake_streams(s, false);
}

tw_serve *tw_serve_start(tw_engine *engine, const tw_serve_opts *opts, tw_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    bool ipv6 = false;
    if (!parse_addr(opts->addr, &ss, &sslen, &ipv6, err))
        return NULL;
    if (opts->token && !token_ok(opts->token)) {
        tw_err_set(err, TW_ERR_CONFIG,
                   "--http-token: use 1..%d characters from A-Z a-z 0-9 - . _ ~ + / =",
                   TOKEN_MAX_BYTES);
        return NULL;
    }
    tw_serve *s = tw_xcalloc(1, sizeof *s);
    s->engine = engine;
    pthread_mutex_init(&s->metrics_mu, NULL);
    /* Writers first: a DROP on the pipeline thread must not wait behind an
     * endless stream of requests. */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->views_lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&s->cache.mu, NULL);
    pthread_cond_init(&s->cache.filled, NULL);
    pthread_mutex_init(&s->streams_mu, NULL);
    s->hub = tw_sse_hub_new(MAX_SSE_CLIENTS, SSE_QUEUE_BYTES);
    s->token = opts->token ? tw_xstrdup(opts->token) : NULL;
    s->anomaly_view = tw_xstrdup(opts->anomaly_view);
    s->series_view = tw_xstrdup(opts->series_view);
    s->api.anomaly_view = s->anomaly_view;
    s->api.series_view = s->series_view;
    s->api.barrier_interval_ms = opts->barrier_interval_ms;
    s->data_dir = opts->data_dir ? tw_xstrdup(opts->data_dir) : NULL;
    tw_serve_tick(s, engine);

    /* A pool of epoll threads, one per core: a thread per connection put
     * a hundred busy connections on two cores' run queues. Handlers never
     * wait for the network, and streams park (suspend) between events. */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned pool_threads = cores < 1 ? 1 : cores > MAX_EVENT_THREADS ? MAX_EVENT_THREADS
                                                                      : (unsigned)cores;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    if (ipv6)
        flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)60, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY_BYTES,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_THREAD_POOL_SIZE,
        pool_threads, MHD_OPTION_END);
    if (!s->daemon) {
        tw_err_set(err, TW_ERR_IO,
                   "--http %s: cannot listen there (address in use or not local?); choose "
                   "another with --http HOST:PORT or turn it off with --http off",
                   opts->addr);
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : 0;
    char host[INET6_ADDRSTRLEN + 2] = "127.0.0.1";
    if (ipv6) {
        char a[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof a);
        snprintf(host, sizeof host, "[%s]", a);
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
    }
    snprintf(s->url, sizeof s->url, "http://%s:%u/", host, port);
    /* Views last: a failed bind untaps in tw_serve_stop, and from here on
     * the server follows the catalog. */
    if (!bind_view(s, true, opts->require_views, err) ||
        !bind_view(s, false, opts->require_views, err))
        goto fail;
    open_history(s);
    tw_engine_on_view_change(engine, on_view_change, s);
    tw_engine_on_sink_created(engine, on_sink_created, s);
    return s;
fail:
    tw_serve_stop(s);
    return NULL;
}

const char *tw_serve_url(const tw_serve *s) { return s->url; }

void tw_serve_stop(tw_serve *s)
{
    if (!s)
        return;
    tw_engine_on_view_change(s->engine, NULL, NULL);
    tw_engine_on_sink_created(s->engine, NULL, NULL);
    tw_engine_untap(s->engine, s);
    tw_sse_close(s->hub);
    wake_streams(s, false);
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    tw_sse_hub_free(s->hub);
    cache_flush(&s->cache);
    pthread_cond_destroy(&s->cache.filled);
    pthread_mutex_destroy(&s->cache.mu);
    tw_rowstore_free(s->api.anomalies);
    tw_rowstore_free(s->api.series);
    free(s->anomaly_rules);
    pthread_rwlock_destroy(&s->views_lock);
    free(s->engine_metrics);
    free(s->token);
    free(s->anomaly_view);
    free(s->series_view);
    tw_history_free(s->api.history);
    free(s->data_dir);
    pthread_mutex_destroy(&s->metrics_mu);
    pthread_mutex_destroy(&s->streams_mu);
    free(s);
}

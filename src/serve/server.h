/* server.h - the HTTP server: API, live stream, metrics, dashboard.
 *
 * tw_serve_start follows two views of a running engine (the anomaly view and
 * the windowed-metrics view) through engine taps into row stores, and serves
 * them on libmicrohttpd (a pool of epoll threads, one per core; replies are
 * cached per route and query until the stores they read change at a
 * barrier). It follows the catalog:
 * a served view created later (e.g. over the PostgreSQL protocol) is served
 * from then on, and a dropped one answers 503 until it comes back. Routes:
 *   /api/...      JSON API (api.h; docs/api.md), /api/stream Server-Sent Events
 *   /metrics      Prometheus text
 *   / and assets  the dashboard embedded from web/
 * When a token is set, every /api route and /metrics needs it, as
 * "Authorization: Bearer TOKEN" or the tw_token cookie that opening
 * /?token=TOKEN sets (the page and its assets hold no data and stay open).
 * No CORS headers are sent, so browsers keep other origins out. The server
 * owns its stores, its hub and its threads.
 */
#ifndef TW_SERVE_SERVER_H
#define TW_SERVE_SERVER_H

#include <stdbool.h>

#include "common/err.h"
#include "exec/engine.h"
#include "serve/history.h"

typedef struct tw_serve tw_serve;

typedef struct tw_serve_opts {
    const char *addr;         /* "HOST:PORT" (IPv4, [IPv6] or localhost); port 0 picks one */
    const char *token;        /* bearer token, or NULL for none */
    const char *anomaly_view; /* served as /api/anomalies, /api/stream, ... */
    const char *series_view;  /* served as /api/series */
    bool require_views;       /* false: a missing view is served as 503 until it is created */
    int64_t barrier_interval_ms;
    /* Where relative warehouse paths live: the server reads the anomaly
     * view's older windows back from its sink's Iceberg table (at start,
     * and when a sink is created on the view later) and merges them under
     * the live rows. */
    const char *data_dir;
} tw_serve_opts;

void tw_serve_opts_default(tw_serve_opts *opts);

/* Starts listening, taps the views that exist and follows the engine's
 * catalog from then on (it takes the engine's one view-change listener).
 * Call from the thread that executes DDL, before tw_engine_run. Returns
 * NULL with err set when the address is bad or taken, the token has
 * characters a header cannot carry, or a required view is missing or not
 * servable. Warnings go to stderr. */
tw_serve *tw_serve_start(tw_engine *engine, const tw_serve_opts *opts, tw_err *err);

/* The dashboard's URL, e.g. "http://127.0.0.1:8080/" (with the real port). */
const char *tw_serve_url(const tw_serve *serve);

/* Snapshots the engine's counters for /metrics. Call from the pipeline
 * thread (tw_engine_run's on_tick), about once a second. */
void tw_serve_tick(tw_serve *serve, tw_engine *engine);

/* Ends every stream, removes the server's taps and listener from the
 * engine, stops the server and frees it. Call after tw_engine_run has
 * returned, from the thread that executes DDL; the engine must still be
 * alive. NULL is a no-op. */
void tw_serve_stop(tw_serve *serve);

#endif

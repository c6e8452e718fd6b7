/* api.h - the JSON/CSV API over the row stores, independent of HTTP.
 *
 * Each route takes the request's query parameters (already URL-decoded),
 * validates every one of them (unknown, repeated, malformed or out-of-range
 * parameters give 400 with {"error": "...", "parameter": "name"}), answers
 * from the row stores and fills a reply whose body the caller takes over.
 * docs/api.md is the reference for routes, parameters and response shapes.
 * Safe to call from many threads at once: the stores take their own locks.
 */
#ifndef TW_SERVE_API_H
#define TW_SERVE_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "serve/history.h"
#include "serve/rowstore.h"
#include "serve/rules.h"

typedef enum tw_api_route {
    TW_ROUTE_HEALTH,
    TW_ROUTE_META,
    TW_ROUTE_ANOMALIES,
    TW_ROUTE_ANOMALIES_CSV,
    TW_ROUTE_DEVICES,
    TW_ROUTE_SERIES,
    TW_ROUTE_SUMMARY,
    TW_ROUTE_STREAM,
    TW_ROUTE_METRICS,
    TW_ROUTE_ASSET,
    TW_ROUTE_OTHER,
    TW_ROUTE_COUNT_
} tw_api_route;

/* The route name used in /metrics labels. */
const char *tw_api_route_name(tw_api_route route);

/* What the routes answer from; the server owns every pointer and swaps
 * them (under its own lock) as the views are created and dropped. */
typedef struct tw_api {
    tw_rowstore *anomalies; /* NULL while the anomaly view does not exist */
    const tw_rule *rules;   /* one per type of anomalies (tw_rowstore_ntypes) */
    tw_rowstore *series;    /* NULL while the series view does not exist */
    tw_history *history;    /* the anomaly view's Iceberg table, or NULL */
    const char *anomaly_view, *series_view;
    int64_t barrier_interval_ms;
} tw_api;

typedef struct tw_api_param {
    const char *name;
    const char *value; /* "" for a bare name */
} tw_api_param;

#define TW_API_MAX_PARAMS 16
#define TW_API_MAX_PARAM_BYTES 256

typedef struct tw_api_reply {
    unsigned status;
    const char *content_type; /* static */
    char *body;               /* malloc'd; the caller frees it */
    size_t len;
    const char *attachment;   /* static file name for Content-Disposition, or NULL */
} tw_api_reply;

/* Answers one request to a data route (health, meta, anomalies, anomalies
 * CSV, devices, series, summary). Always fills reply (status 200, 400, 404
 * or 503 with a JSON error). */
void tw_api_handle(const tw_api *api, tw_api_route route, const tw_api_param *params,
                   size_t nparams, tw_api_reply *reply);

/* Fills reply with {"error": message[, "parameter": parameter]}. */
void tw_api_error(tw_api_reply *reply, unsigned status, const char *message,
                  const char *parameter);

/* A row as a JSON object: every column by name (timestamps as UTC ISO 8601
 * with Z, NULL as null, non-finite floats as null) plus "types": [names].
 * Returns a new reference. */
json_t *tw_api_row_json(const tw_rowstore *store, const tw_rowstore_row *row);

#endif

/* catalog_rest.c - the Iceberg REST catalog client (see catalog_rest.h).
 * Contract: shared/specs/iceberg-rest-catalog-open-api.yaml. */
#include "iceberg/catalog_rest.h"

#include <assert.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/arena.h"

/* Reload-and-check rounds after commits whose outcome is unknown. */
#define UNKNOWN_OUTCOME_ROUNDS 6
#define DEFAULT_TIMEOUT_MS 30000L

typedef struct rest_catalog {
    tw_catalog base;
    CURL *curl;
    char *uri;            /* without a trailing '/' */
    char *prefix;         /* from /v1/config; NULL: none */
    char *warehouse;      /* the name sent as ?warehouse= */
    char *warehouse_location;
    char *token;          /* never logged */
    char *credential;     /* client_id:client_secret; never logged */
    char *oauth_uri;
    char *scope;
    long timeout_ms;
    bool request_credentials;
    json_t *table_config; /* of the last LoadTableResult; holds secrets: never logged */
    uint64_t table_config_generation;
} rest_catalog;

static const tw_catalog_ops REST_OPS;

/* Sent with table loads and creates when the connection has no S3 keys. */
#define DELEGATION_HEADER "X-Iceberg-Access-Delegation: vended-credentials"

typedef struct response {
    long status; /* 0: no HTTP answer (transport failure) */
    char *body;
    size_t len, cap;
} response;

static char *xstrdup_or_null(const char *s)
{
    return s ? tw_xstrdup(s) : NULL;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    response *r = ctx;
    size_t len = size * n;
    if (r->len + len + 1 > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4096;
        while (cap < r->len + len + 1)
            cap *= 2;
        char *p = realloc(r->body, cap);
        if (!p)
            return 0;
        r->body = p;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, len);
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

static void response_clear(response *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

static const char *body_text(const response *r)
{
    return r->body ? r->body : "";
}

/* ---- JSON pieces (public for the unit tests) ---- */

static const char *config_value(json_t *root, const char *key)
{
    const char *v = json_string_value(json_object_get(json_object_get(root, "overrides"), key));
    if (!v)
        v = json_string_value(json_object_get(json_object_get(root, "defaults"), key));
    return v;
}

bool tw_catalog_rest_parse_config(const char *body, char **prefix, char **warehouse, tw_err *err)
{
    *prefix = *warehouse = NULL;
    json_error_t jerr;
    json_t *root = json_loads(body, 0, &jerr);
    if (!json_is_object(root) || !json_is_object(json_object_get(root, "defaults")) ||
        !json_is_object(json_object_get(root, "overrides"))) {
        json_decref(root);
        return tw_err_set(err, TW_ERR_IO,
                          "GET /v1/config did not return a CatalogConfig (an object with "
                          "\"defaults\" and \"overrides\")");
    }
    *prefix = xstrdup_or_null(config_value(root, "prefix"));
    *warehouse = xstrdup_or_null(config_value(root, "warehouse"));
    json_decref(root);
    return true;
}

/* Appends s percent-encoded (RFC 3986 unreserved characters kept). */
static void append_encoded(char **out, size_t *len, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    *out = realloc(*out, *len + 3 * n + 1);
    if (!*out)
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        bool plain = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~';
        if (plain) {
            (*out)[(*len)++] = (char)ch;
        } else {
            (*out)[(*len)++] = '%';
            (*out)[(*len)++] = hex[ch >> 4];
            (*out)[(*len)++] = hex[ch & 15];
        }
    }
    (*out)[*len] = '\0';
}

static void append_raw(char **out, size_t *len, const char *s)
{
    size_t n = strlen(s);
    *out = realloc(*out, *len + n + 1);
    if (!*out)
        abort();
    memcpy(*out + *len, s, n + 1);
    *len += n;
}

char *tw_catalog_rest_path(const char *prefix, const char *ns, const char *table)
{
    char *out = NULL;
    size_t len = 0;
    append_raw(&out, &len, "/v1/");
    if (prefix && *prefix) {
        append_encoded(&out, &len, prefix, strlen(prefix));
        append_raw(&out, &len, "/");
    }
    append_raw(&out, &len, "namespaces/");
    for (const char *level = ns;;) {
        const char *dot = strchr(level, '.');
        size_t n = dot ? (size_t)(dot - level) : strlen(level);
        append_encoded(&out, &len, level, n);
        if (!dot)
            break;
        append_raw(&out, &len, "%1F"); /* the spec's namespace separator */
        level = dot + 1;
    }
    if (table) {
        append_raw(&out, &len, "/tables/");
        append_encoded(&out, &len, table, strlen(table));
    }
    return out;
}

static json_t *namespace_array(const char *ns)
{
    json_t *levels = json_array();
    for (const char *level = ns;;) {
        const char *dot = strchr(level, '.');
        size_t n = dot ? (size_t)(dot - level) : strlen(level);
        json_array_append_new(levels, json_stringn(level, n));
        if (!dot)
            break;
        level = dot + 1;
    }
    return levels;
}

static char *dump(json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    if (!text)
        abort();
    json_decref(doc);
    return text;
}

char *tw_catalog_rest_commit_body(const char *ns, const char *table, const char *table_uuid,
                                  int64_t expected_snapshot_id, json_t *snapshot)
{
    assert(json_is_object(snapshot));
    json_t *expected = expected_snapshot_id == -1 ? json_null()
                                                  : json_integer(expected_snapshot_id);
    json_int_t snapshot_id = json_integer_value(json_object_get(snapshot, "snapshot-id"));
    json_t *doc = json_pack(
        "{s:{s:o, s:s}, s:[{s:s, s:s}, {s:s, s:s, s:o}], s:[{s:s, s:O}, {s:s, s:s, s:s, s:I}]}",
        "identifier", "namespace", namespace_array(ns), "name", table,
        "requirements", "type", "assert-table-uuid", "uuid", table_uuid,
        "type", "assert-ref-snapshot-id", "ref", "main", "snapshot-id", expected,
        "updates", "action", "add-snapshot", "snapshot", snapshot,
        "action", "set-snapshot-ref", "ref-name", "main", "type", "branch", "snapshot-id",
        snapshot_id);
    if (!doc)
        abort();
    return dump(doc);
}

char *tw_catalog_rest_create_body(const char *table, const char *location, json_t *schema,
                                  json_t *spec)
{
    json_t *doc = json_pack("{s:s, s:O, s:O, s:{s:i, s:[]}, s:b, s:{s:s}}", "name", table,
                            "schema", schema, "partition-spec", spec, "write-order", "order-id", 0,
                            "fields", "stage-create", 0, "properties", "format-version", "2");
    if (!doc)
        abort();
    if (location)
        json_object_set_new(doc, "location", json_string(location));
    return dump(doc);
}

bool tw_catalog_rest_parse_load(const char *body, char **metadata_location, char **metadata_json,
                                tw_err *err)
{
    *metadata_location = *metadata_json = NULL;
    json_t *root = json_loads(body, 0, NULL);
    const char *location = json_string_value(json_object_get(root, "metadata-location"));
    json_t *metadata = json_object_get(root, "metadata");
    if (!location || !json_is_object(metadata)) {
        json_decref(root);
        return tw_err_set(err, TW_ERR_IO,
                          "the catalog's table response has no %s",
                          location ? "\"metadata\" object" : "\"metadata-location\"");
    }
    *metadata_location = xstrdup_or_null(location);
    *metadata_json = json_dumps(metadata, JSON_COMPACT);
    json_decref(root);
    if (!*metadata_json)
        abort();
    return true;
}

/* Copies the string members of from into to (replacing what is there). */
static void merge_strings(json_t *to, json_t *from)
{
    const char *key;
    json_t *value;
    json_object_foreach(from, key, value)
    {
        if (json_is_string(value))
            json_object_set(to, key, value);
    }
}

json_t *tw_catalog_rest_parse_table_config(const char *body)
{
    json_t *root = json_loads(body, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return NULL;
    }
    json_t *config = json_object();
    merge_strings(config, json_object_get(root, "config"));
    const char *location =
        json_string_value(json_object_get(json_object_get(root, "metadata"), "location"));
    json_t *best = NULL;
    size_t best_len = 0, i;
    json_t *cred;
    json_array_foreach(json_object_get(root, "storage-credentials"), i, cred)
    {
        const char *prefix = json_string_value(json_object_get(cred, "prefix"));
        size_t n = prefix ? strlen(prefix) : 0;
        if (prefix && location && !strncmp(location, prefix, n) && (!best || n > best_len)) {
            best = json_object_get(cred, "config");
            best_len = n;
        }
    }
    merge_strings(config, best);
    json_decref(root);
    return config;
}

bool tw_catalog_rest_parse_token(const char *body, char **token, tw_err *err)
{
    json_t *root = json_loads(body, 0, NULL);
    const char *t = json_string_value(json_object_get(root, "access_token"));
    *token = xstrdup_or_null(t);
    json_decref(root);
    if (!*token)
        return tw_err_set(err, TW_ERR_IO, "the OAuth2 token response has no access_token");
    return true;
}

void tw_catalog_rest_error_message(const char *body, char *buf, size_t size)
{
    assert(size > 0);
    json_t *root = json_loads(body ? body : "", 0, NULL);
    json_t *e = json_object_get(root, "error");
    if (json_is_object(e)) {
        const char *type = json_string_value(json_object_get(e, "type"));
        const char *message = json_string_value(json_object_get(e, "message"));
        snprintf(buf, size, "%s%s%s", type ? type : "", type && message ? ": " : "",
                 message ? message : "");
    } else if (json_is_string(e)) {
        const char *desc = json_string_value(json_object_get(root, "error_description"));
        snprintf(buf, size, "%s%s%s", json_string_value(e), desc ? ": " : "", desc ? desc : "");
    } else {
        snprintf(buf, size, "%.200s", body && *body ? body : "(empty body)");
    }
    json_decref(root);
}

bool tw_catalog_rest_find_snapshot(const char *metadata_json, int64_t snapshot_id,
                                   int64_t expected_snapshot_id, bool *has_snapshot,
                                   bool *main_at_expected)
{
    *has_snapshot = *main_at_expected = false;
    json_t *root = json_loads(metadata_json, 0, NULL);
    if (!json_is_object(root))
        return false;
    json_t *snaps = json_object_get(root, "snapshots");
    size_t i;
    json_t *s;
    json_array_foreach(snaps, i, s)
    {
        if (json_integer_value(json_object_get(s, "snapshot-id")) == snapshot_id)
            *has_snapshot = true;
    }
    json_t *main_ref = json_object_get(json_object_get(root, "refs"), "main");
    json_t *current = json_object_get(root, "current-snapshot-id");
    int64_t head = -1;
    if (json_is_object(main_ref))
        head = json_integer_value(json_object_get(main_ref, "snapshot-id"));
    else if (json_is_integer(current))
        head = json_integer_value(current); /* metadata written without refs */
    *main_at_expected = head == expected_snapshot_id;
    json_decref(root);
    return true;
}

/* ---- HTTP ---- */

static const char *catalog_label(const rest_catalog *c)
{
    return c->base.name ? c->base.name : "default";
}

/* One HTTP exchange. False (err set, r->status 0) only when no HTTP answer
 * came back: refused, timed out, reset. */
static bool http(rest_catalog *c, const char *method, const char *url, const char *body,
                 const char *content_type, bool auth, const char *extra_header, response *r,
                 tw_err *err)
{
    response_clear(r);
    CURL *h = c->curl;
    curl_easy_reset(h);
    struct curl_slist *headers = NULL;
    char *auth_header = NULL, *type_header = NULL;
    headers = curl_slist_append(headers, "Accept: application/json");
    if (body) {
        type_header = tw_xasprintf("Content-Type: %s", content_type);
        headers = curl_slist_append(headers, type_header);
    }
    if (auth && c->token) {
        auth_header = tw_xasprintf("Authorization: Bearer %s", c->token);
        headers = curl_slist_append(headers, auth_header);
    }
    if (extra_header)
        headers = curl_slist_append(headers, extra_header);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms < 10000 ? c->timeout_ms : 10000L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "tidewatch/" TW_VERSION);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(headers);
    free(auth_header);
    free(type_header);
    if (rc != CURLE_OK) {
        r->status = 0;
        return tw_err_set(err, TW_ERR_IO, "catalog '%s': %s %s: %s", catalog_label(c), method, url,
                          curl_easy_strerror(rc));
    }
    return true;
}

static bool status_error(rest_catalog *c, const char *method, const char *url, const response *r,
                         tw_err *err)
{
    char msg[512];
    tw_catalog_rest_error_message(body_text(r), msg, sizeof msg);
    return tw_err_set(err, TW_ERR_IO, "catalog '%s': %s %s returned HTTP %ld: %s",
                      catalog_label(c), method, url, r->status, msg);
}

/* OAuth2 client credentials: POST the token endpoint for a new token. */
static bool fetch_token(rest_catalog *c, tw_err *err)
{
    const char *colon = strchr(c->credential, ':');
    char *body = NULL;
    size_t len = 0;
    append_raw(&body, &len, "grant_type=client_credentials&client_id=");
    append_encoded(&body, &len, c->credential, colon ? (size_t)(colon - c->credential)
                                                     : strlen(c->credential));
    append_raw(&body, &len, "&client_secret=");
    if (colon)
        append_encoded(&body, &len, colon + 1, strlen(colon + 1));
    append_raw(&body, &len, "&scope=");
    append_encoded(&body, &len, c->scope, strlen(c->scope));
    response r = {0};
    bool ok = http(c, "POST", c->oauth_uri, body, "application/x-www-form-urlencoded", false, NULL,
                   &r, err);
    free(body); /* holds the secret: gone before any message is built */
    if (ok && r.status != 200)
        ok = status_error(c, "POST", c->oauth_uri, &r, err);
    char *token = NULL;
    if (ok)
        ok = tw_catalog_rest_parse_token(body_text(&r), &token, err);
    if (ok) {
        free(c->token);
        c->token = token;
    } else {
        tw_err_prefix(err, "OAuth2 client-credentials token");
    }
    response_clear(&r);
    return ok;
}

/* A request to the catalog API, with extra_header (or NULL); on 401 with a
 * credential, fetches a new token and tries once more. False only without
 * an HTTP answer. */
static bool api_with(rest_catalog *c, const char *method, const char *url, const char *body,
                     const char *extra_header, response *r, tw_err *err)
{
    if (!http(c, method, url, body, "application/json", true, extra_header, r, err))
        return false;
    if (r->status == 401 && c->credential) {
        if (!fetch_token(c, err)) {
            r->status = 401;
            return true;
        }
        return http(c, method, url, body, "application/json", true, extra_header, r, err);
    }
    return true;
}

static bool api(rest_catalog *c, const char *method, const char *url, const char *body,
                response *r, tw_err *err)
{
    return api_with(c, method, url, body, NULL, r, err);
}

static const char *delegation(const rest_catalog *c)
{
    return c->request_credentials ? DELEGATION_HEADER : NULL;
}

/* Keeps the table configuration of a LoadTableResult body, counting a
 * change (renewed vended credentials) as a new generation. */
static void keep_table_config(rest_catalog *c, const char *body)
{
    json_t *config = tw_catalog_rest_parse_table_config(body);
    if (!config)
        return;
    if (c->table_config && json_equal(c->table_config, config)) {
        json_decref(config);
        return;
    }
    json_decref(c->table_config);
    c->table_config = config;
    c->table_config_generation++;
}

const char *tw_catalog_rest_table_config(tw_catalog *base, const char *key)
{
    if (!base || base->ops != &REST_OPS)
        return NULL;
    rest_catalog *c = (rest_catalog *)base;
    return json_string_value(json_object_get(c->table_config, key));
}

uint64_t tw_catalog_rest_table_config_generation(tw_catalog *base)
{
    if (!base || base->ops != &REST_OPS)
        return 0;
    return ((rest_catalog *)base)->table_config_generation;
}

static char *url_of(rest_catalog *c, const char *ns, const char *table)
{
    char *path = tw_catalog_rest_path(c->prefix, ns, table);
    char *url = tw_xasprintf("%s%s", c->uri, path);
    free(path);
    return url;
}

/* ---- catalog ops ---- */

static bool rest_load_table(tw_catalog *base, const char *ns, const char *table,
                            char **metadata_location, char **metadata_json, tw_err *err)
{
    rest_catalog *c = (rest_catalog *)base;
    *metadata_location = *metadata_json = NULL;
    char *url = url_of(c, ns, table);
    response r = {0};
    bool ok = api_with(c, "GET", url, NULL, delegation(c), &r, err);
    if (ok && r.status == 404) {
        /* No such table, or no such namespace: either way, not there. */
    } else if (ok && r.status == 200) {
        ok = tw_catalog_rest_parse_load(body_text(&r), metadata_location, metadata_json, err);
        if (ok)
            keep_table_config(c, body_text(&r));
        else
            tw_err_prefix(err, "catalog '%s': GET %s", catalog_label(c), url);
    } else if (ok) {
        ok = status_error(c, "GET", url, &r, err);
    }
    response_clear(&r);
    free(url);
    return ok;
}

static bool rest_load(tw_catalog *base, const char *ns, const char *table,
                      char **metadata_location, tw_err *err)
{
    char *json = NULL;
    bool ok = rest_load_table(base, ns, table, metadata_location, &json, err);
    free(json);
    return ok;
}

/* Creates the namespace unless it exists (409 from a racing writer is
 * fine). */
static bool ensure_namespace(rest_catalog *c, const char *ns, tw_err *err)
{
    char *url = url_of(c, ns, NULL);
    response r = {0};
    bool ok = api(c, "GET", url, NULL, &r, err);
    if (ok && r.status == 404) {
        free(url);
        char *path = tw_catalog_rest_path(c->prefix, "x", NULL);
        path[strlen(path) - 2] = '\0'; /* ".../namespaces/x" -> ".../namespaces" */
        url = tw_xasprintf("%s%s", c->uri, path);
        free(path);
        char *body = dump(json_pack("{s:o, s:{}}", "namespace", namespace_array(ns), "properties"));
        ok = api(c, "POST", url, body, &r, err);
        free(body);
        if (ok && r.status != 200 && r.status != 409)
            ok = status_error(c, "POST", url, &r, err);
    } else if (ok && r.status != 200) {
        ok = status_error(c, "GET", url, &r, err);
    }
    response_clear(&r);
    free(url);
    return ok;
}

static bool rest_create_table(tw_catalog *base, const char *ns, const char *table,
                              const char *location, json_t *schema, json_t *spec,
                              bool *already_exists, tw_err *err)
{
    rest_catalog *c = (rest_catalog *)base;
    *already_exists = false;
    if (!ensure_namespace(c, ns, err))
        return false;
    char *url = url_of(c, ns, NULL);
    char *tables_url = tw_xasprintf("%s/tables", url);
    free(url);
    char *body = tw_catalog_rest_create_body(table, location, schema, spec);
    response r = {0};
    bool ok = api_with(c, "POST", tables_url, body, delegation(c), &r, err);
    if (ok && r.status == 200)
        keep_table_config(c, body_text(&r));
    else if (ok && r.status == 409)
        *already_exists = true;
    else if (ok && r.status != 200)
        ok = status_error(c, "POST", tables_url, &r, err);
    if (!ok)
        tw_err_prefix(err, "creating table %s.%s in warehouse '%s'%s%s%s", ns, table,
                      c->warehouse ? c->warehouse : "", c->warehouse_location ? " (" : "",
                      c->warehouse_location ? c->warehouse_location : "",
                      c->warehouse_location ? ")" : "");
    response_clear(&r);
    free(body);
    free(tables_url);
    return ok;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static tw_cas_result rest_commit(tw_catalog *base, const char *ns, const char *table,
                                 const char *table_uuid, int64_t expected_snapshot_id,
                                 json_t *snapshot, char **metadata_location, char **metadata_json,
                                 tw_err *err)
{
    rest_catalog *c = (rest_catalog *)base;
    *metadata_location = *metadata_json = NULL;
    int64_t snapshot_id = json_integer_value(json_object_get(snapshot, "snapshot-id"));
    char *url = url_of(c, ns, table);
    char *body = tw_catalog_rest_commit_body(ns, table, table_uuid, expected_snapshot_id, snapshot);
    response r = {0};
    tw_cas_result result = TW_CAS_ERROR;
    for (int round = 0;; round++) {
        bool answered = api(c, "POST", url, body, &r, err);
        if (answered && r.status == 200) {
            result = tw_catalog_rest_parse_load(body_text(&r), metadata_location, metadata_json, err)
                         ? TW_CAS_OK
                         : TW_CAS_ERROR;
            break;
        }
        if (answered && r.status == 409) {
            result = TW_CAS_CONFLICT;
            break;
        }
        if (answered && r.status < 500) {
            status_error(c, "POST", url, &r, err);
            break;
        }
        /* 5xx or no answer: the server may have applied the commit. Look. */
        if (answered)
            status_error(c, "POST", url, &r, err);
        fprintf(stderr, "tidewatch: %s; commit outcome unknown, reloading %s.%s to look for snapshot %" PRId64 "\n",
                err->msg, ns, table, snapshot_id);
        tw_err first;
        first = *err;
        bool settled = false;
        for (; round < UNKNOWN_OUTCOME_ROUNDS && !settled; round++) {
            sleep_ms((int64_t)100 << round);
            char *loc = NULL, *json = NULL;
            tw_err load_err;
            bool has = false, at_expected = false;
            if (!rest_load_table(base, ns, table, &loc, &json, &load_err) || !json ||
                !tw_catalog_rest_find_snapshot(json, snapshot_id, expected_snapshot_id, &has,
                                               &at_expected)) {
                free(loc);
                free(json);
                continue; /* the catalog is still failing: look again */
            }
            settled = true;
            fprintf(stderr, "tidewatch: catalog '%s': snapshot %" PRId64 " of %s.%s %s\n",
                    catalog_label(c), snapshot_id, ns, table,
                    has ? "is in the table: committed"
                        : at_expected ? "is not in the table: sending the commit again"
                                      : "is not in the table and main moved: rebasing");
            if (has) {
                *metadata_location = loc;
                *metadata_json = json;
                result = TW_CAS_OK;
            } else {
                free(loc);
                free(json);
                /* Not applied. Main moved: a late copy of our request would
                 * fail its requirement, so this is a plain conflict. */
                result = at_expected ? TW_CAS_ERROR : TW_CAS_CONFLICT;
            }
        }
        if (!settled) {
            *err = first;
            tw_err_prefix(err, "outcome unknown after %d reloads of %s.%s", UNKNOWN_OUTCOME_ROUNDS,
                          ns, table);
            result = TW_CAS_ERROR;
            break;
        }
        if (result != TW_CAS_ERROR)
            break;
        /* Not applied and main unchanged: send the same commit again. */
    }
    response_clear(&r);
    free(body);
    free(url);
    return result;
}

static void rest_close(tw_catalog *base)
{
    rest_catalog *c = (rest_catalog *)base;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->uri);
    free(c->prefix);
    free(c->warehouse);
    free(c->warehouse_location);
    free(c->token);
    free(c->credential);
    free(c->oauth_uri);
    free(c->scope);
    json_decref(c->table_config);
    free(c->base.name);
    free(c);
}

static const tw_catalog_ops REST_OPS = {
    .kind = "rest",
    .load = rest_load,
    .close = rest_close,
    .load_table = rest_load_table,
    .create_table = rest_create_table,
    .commit = rest_commit,
};

static bool fetch_config(rest_catalog *c, tw_err *err)
{
    char *url = NULL;
    size_t len = 0;
    append_raw(&url, &len, c->uri);
    append_raw(&url, &len, "/v1/config");
    if (c->warehouse) {
        append_raw(&url, &len, "?warehouse=");
        append_encoded(&url, &len, c->warehouse, strlen(c->warehouse));
    }
    response r = {0};
    bool ok = api(c, "GET", url, NULL, &r, err);
    if (ok && r.status != 200)
        ok = status_error(c, "GET", url, &r, err);
    if (ok) {
        ok = tw_catalog_rest_parse_config(body_text(&r), &c->prefix, &c->warehouse_location, err);
        if (!ok)
            tw_err_prefix(err, "catalog '%s' at %s", catalog_label(c), url);
    }
    response_clear(&r);
    free(url);
    return ok;
}

tw_catalog *tw_catalog_open_rest(const tw_catalog_rest_opts *o, tw_err *err)
{
    if (!o->uri || (strncmp(o->uri, "http", 4) != 0 && strncmp(o->uri, "<http", 5) != 0)) {
        tw_err_set(err, TW_ERR_CONFIG,
                   "catalog.uri '%s' is not an http:// or https:// URL (e.g. "
                   "'http://localhost:8181/catalog')",
                   o->uri ? o->uri : "");
        return NULL;
    }
    static bool curl_ready;
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = true;
    }
    rest_catalog *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->base.ops = &REST_OPS;
    c->base.name = xstrdup_or_null(o->catalog_name ? o->catalog_name : "default");
    /* The seed's markdown copy writes '<http://localhost:8181/catalog>'. */
    size_t uri_len = strlen(o->uri);
    bool bracketed = uri_len > 2 && o->uri[0] == '<' && o->uri[uri_len - 1] == '>';
    c->uri = bracketed ? strndup(o->uri + 1, uri_len - 2) : xstrdup_or_null(o->uri);
    if (!c->uri)
        abort();
    for (size_t n = strlen(c->uri); n > 0 && c->uri[n - 1] == '/'; n--)
        c->uri[n - 1] = '\0';
    c->warehouse = xstrdup_or_null(o->warehouse);
    c->token = xstrdup_or_null(o->token);
    c->credential = xstrdup_or_null(o->credential);
    c->oauth_uri = o->oauth2_server_uri ? xstrdup_or_null(o->oauth2_server_uri)
                                        : tw_xasprintf("%s/v1/oauth/tokens", c->uri);
    c->scope = xstrdup_or_null(o->scope ? o->scope : "catalog");
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
    c->request_credentials = o->request_credentials;
    c->curl = curl_easy_init();
    if (!c->curl) {
        tw_err_set(err, TW_ERR_NOMEM, "cannot start a curl handle");
        goto fail;
    }
    if (c->credential && !c->token && !fetch_token(c, err))
        goto fail;
    if (!fetch_config(c, err))
        goto fail;
    return &c->base;
fail:
    rest_close(&c->base);
    return NULL;
}

/* catalog_rest.h - an Iceberg REST catalog client (Lakekeeper, Polaris,
 * Nessie, ...), over libcurl with jansson.
 *
 * Unlike the SQL and storage catalogs, a REST catalog writes the metadata
 * files itself: tidewatch creates a table by sending its schema and
 * partition spec, and commits by sending requirements (assert-table-uuid,
 * assert-ref-snapshot-id on main) and updates (add-snapshot,
 * set-snapshot-ref); the server checks the requirements atomically. The
 * client owns one curl handle, the configuration GET /v1/config returned
 * (the path prefix; Lakekeeper selects the warehouse with ?warehouse=) and
 * the bearer token (given, or fetched by the OAuth2 client-credentials flow
 * and fetched again when the server answers 401), and the table
 * configuration of the last LoadTableResult (its "config" with the matching
 * "storage-credentials" over it: the S3 endpoint, region, path style and
 * vended credentials the sink's S3 file IO falls back on; never logged).
 * When a commit's outcome is
 * unknown (5xx, timeout, broken connection) the client reloads the table and
 * looks for its snapshot before deciding: it never reports a conflict (which
 * lets the caller delete the attempt's files) for a commit that applied.
 * The request builders and response parsers below are public for the unit
 * tests; tw_catalog_open_rest is what the sink uses.
 */
#ifndef TW_ICEBERG_CATALOG_REST_H
#define TW_ICEBERG_CATALOG_REST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "iceberg/catalog.h"

typedef struct tw_catalog_rest_opts {
    const char *uri;               /* catalog.uri, e.g. http://localhost:8181/catalog */
    const char *warehouse;         /* warehouse.path: sent as GET /v1/config?warehouse= */
    const char *token;             /* bearer token, or NULL */
    const char *credential;        /* "client_id:client_secret" for OAuth2, or NULL */
    const char *oauth2_server_uri; /* token endpoint; default {uri}/v1/oauth/tokens */
    const char *scope;             /* OAuth2 scope; default "catalog" */
    const char *catalog_name;      /* for messages; default "default" */
    long timeout_ms;               /* per request; 0: 30 s */
    /* Ask for vended storage credentials (X-Iceberg-Access-Delegation:
     * vended-credentials) on table loads and creates: set when the
     * connection names no S3 keys of its own. */
    bool request_credentials;
} tw_catalog_rest_opts;

/* Opens a REST catalog: fetches a token first when a credential is given,
 * then GET {uri}/v1/config. Strings in o are copied; a uri written inside
 * angle brackets ('<http://...>', as markdown copies of the seed have it)
 * is taken without them. Returns NULL with err
 * naming the URI, the HTTP status and the server's message when the catalog
 * cannot be reached or refuses. Close with c->ops->close. */
tw_catalog *tw_catalog_open_rest(const tw_catalog_rest_opts *o, tw_err *err);

/* Parses a CatalogConfig body: *prefix gets the "prefix" property with
 * overrides applied over defaults (NULL when neither has one), *warehouse
 * the "warehouse" property likewise. Both malloc'ed. False with err set
 * for a body that is not a CatalogConfig. */
bool tw_catalog_rest_parse_config(const char *body, char **prefix, char **warehouse, tw_err *err);

/* The path of a table (table NULL: of a namespace) below the catalog URI:
 * "/v1/{prefix}/namespaces/{ns}[/tables/{table}]" with each part
 * percent-encoded and namespace levels (split at '.') joined by %1F; the
 * prefix segment is left out when prefix is NULL or empty. Malloc'ed. */
char *tw_catalog_rest_path(const char *prefix, const char *ns, const char *table);

/* The CommitTableRequest body for adding snapshot as the new head of main
 * (expected_snapshot_id -1: main must not exist yet). Malloc'ed JSON. */
char *tw_catalog_rest_commit_body(const char *ns, const char *table, const char *table_uuid,
                                  int64_t expected_snapshot_id, json_t *snapshot);

/* The CreateTableRequest body (location NULL: left to the server).
 * Malloc'ed JSON. */
char *tw_catalog_rest_create_body(const char *table, const char *location, json_t *schema,
                                  json_t *spec);

/* Parses a LoadTableResult (or CommitTableResponse): *metadata_location
 * and *metadata_json (the "metadata" object as text) malloc'ed. False with
 * err set when either is missing. */
bool tw_catalog_rest_parse_load(const char *body, char **metadata_location, char **metadata_json,
                                tw_err *err);

/* The table configuration of a LoadTableResult body: its "config" map with,
 * over it, the config of the "storage-credentials" entry whose prefix is the
 * longest one the table's location starts with (the spec has clients look
 * there first). Only string values are kept. A new object (empty when the
 * body has neither), owned by the caller; NULL for a body that is not JSON. */
json_t *tw_catalog_rest_parse_table_config(const char *body);

/* The value of key in the table configuration the catalog returned with its
 * last successful table load or create (e.g. "s3.endpoint",
 * "s3.access-key-id"), or NULL: no such key, nothing loaded yet, or c is
 * not a REST catalog. Borrowed: valid until the next call on c. */
const char *tw_catalog_rest_table_config(tw_catalog *c, const char *key);

/* Counts the changes of that table configuration (0: none received yet; 0
 * for a catalog that is not REST), so a user of it can tell when vended
 * credentials were renewed. */
uint64_t tw_catalog_rest_table_config_generation(tw_catalog *c);

/* Parses an OAuthTokenResponse: *token malloc'ed. False with err set when
 * there is no access_token. */
bool tw_catalog_rest_parse_token(const char *body, char **token, tw_err *err);

/* The server's message for an error body ({"error": {"message", "type",
 * "code"}} per the spec, or OAuth's {"error", "error_description"}), as
 * "Type: message", written into buf (always NUL-terminated). Falls back to
 * the start of the body text. */
void tw_catalog_rest_error_message(const char *body, char *buf, size_t size);

/* Whether metadata_json has a snapshot with id snapshot_id, and whether main
 * points at expected_snapshot_id (-1: main absent). False for a document
 * that does not parse. */
bool tw_catalog_rest_find_snapshot(const char *metadata_json, int64_t snapshot_id,
                                   int64_t expected_snapshot_id, bool *has_snapshot,
                                   bool *main_at_expected);

#endif

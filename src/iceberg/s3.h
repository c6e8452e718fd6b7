/* s3.h - an S3 client over libcurl, and the tw_fileio that stores an Iceberg
 * table's files in S3 (or MinIO, or any S3-compatible server).
 *
 * Requests are signed with AWS Signature Version 4, computed here rather
 * than by libcurl: Debian's libcurl 7.88 neither sends x-amz-content-sha256
 * nor sorts and encodes the canonical query and path, so the client builds
 * the encoded path and query itself, signs exactly those, and sends exactly
 * those. Every payload is hashed and signed (no UNSIGNED-PAYLOAD): over plain
 * HTTP to a local MinIO that hash is the only integrity check a body gets.
 * Transient failures (connection errors, timeouts, HTTP 5xx and 429) are
 * retried with exponential backoff and full jitter, bounded in attempts and
 * in total time; giving up names the endpoint, the bucket and the key.
 * The client owns one curl handle (kept-alive connections), so one client is
 * used by one thread at a time. Secrets are never logged or put in errors.
 */
#ifndef TW_ICEBERG_S3_H
#define TW_ICEBERG_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "iceberg/fileio.h"

/* ---- Signature Version 4 ---- */

typedef struct tw_s3_kv {
    const char *name;
    const char *value;
} tw_s3_kv;

typedef struct tw_s3_sigv4_input {
    const char *method;
    const char *path;               /* raw (not encoded), starting with '/' */
    const tw_s3_kv *query;          /* raw names and values; value "" for a bare key */
    size_t nquery;
    const tw_s3_kv *headers;        /* every header to sign, host and x-amz-date included */
    size_t nheaders;
    const char *payload_sha256_hex; /* 64 lowercase hex digits */
    const char *access_key;
    const char *secret_key;
    const char *region;
    const char *service;            /* "s3" */
    const char *amz_date;           /* YYYYMMDDTHHMMSSZ */
} tw_s3_sigv4_input;

typedef struct tw_s3_sigv4 {
    char *encoded_path;      /* the path as it must be sent (each segment encoded once) */
    char *canonical_query;   /* the query as it must be sent, "" when none */
    char *canonical_request;
    char *string_to_sign;
    char *signed_headers;    /* "host;x-amz-date" */
    char *authorization;     /* the Authorization header's value */
} tw_s3_sigv4;

/* Signs a request: fills out with malloc'ed strings (free with
 * tw_s3_sigv4_free). Cannot fail (aborts on out of memory). Header names are
 * lowercased and values trimmed as SigV4 requires; names must be unique. */
void tw_s3_sigv4_sign(const tw_s3_sigv4_input *in, tw_s3_sigv4 *out);
void tw_s3_sigv4_free(tw_s3_sigv4 *sig);

/* The lowercase hex SHA-256 of len bytes into hex (65 bytes with the NUL). */
void tw_s3_sha256_hex(const void *data, size_t len, char hex[65]);

/* ---- the client ---- */

typedef struct tw_s3_config {
    const char *endpoint;      /* "http://host:port"; NULL: https://s3.REGION.amazonaws.com */
    const char *region;        /* NULL: AWS_REGION, AWS_DEFAULT_REGION, then us-east-1 */
    const char *access_key;    /* NULL: AWS_ACCESS_KEY_ID (+ AWS_SECRET_ACCESS_KEY, */
    const char *secret_key;    /*       AWS_SESSION_TOKEN) from the environment */
    const char *session_token; /* optional */
    bool path_style;           /* http://host/bucket/key instead of http://bucket.host/key */
    size_t part_size_bytes;    /* multipart part size and threshold; 0: 8 MiB (min 5 MiB) */
    uint32_t max_attempts;     /* per request; 0: 20 */
    uint32_t max_retry_ms;     /* total time one request may spend retrying; 0: 120 s */
    uint32_t base_backoff_ms;  /* first backoff cap, doubled per attempt; 0: 100 ms */
    uint32_t timeout_ms;       /* connect timeout, and the stall limit per transfer; 0: 10 s */
    bool quiet;                /* no stderr line per retry */
} tw_s3_config;

typedef struct tw_s3_client tw_s3_client;

/* Counters since the client was made (for reports and tests). */
typedef struct tw_s3_stats {
    uint64_t requests;      /* HTTP attempts, retries included */
    uint64_t retries;
    uint64_t bytes_sent;
    uint64_t bytes_received;
} tw_s3_stats;

/* Makes a client (strings copied; an endpoint inside angle brackets,
 * '<http://...>' as the seed's markdown copy has it, is taken without them).
 * NULL with err set when no credentials are configured or the endpoint is
 * not an http(s) URL. */
tw_s3_client *tw_s3_client_new(const tw_s3_config *cfg, tw_err *err);
void tw_s3_client_free(tw_s3_client *c);
tw_s3_stats tw_s3_client_stats(const tw_s3_client *c);
/* The endpoint requests go to, for messages ("http://127.0.0.1:9000"). */
const char *tw_s3_client_endpoint(const tw_s3_client *c);
/* The multipart part size in force. */
size_t tw_s3_client_part_size(const tw_s3_client *c);

/* Fills a config from connection options (s3.endpoint, s3.access.key,
 * s3.secret.key, s3.region, s3.path.style.access) read through lookup,
 * which returns NULL for a missing key; strings point into what lookup
 * returned. False with err set for a malformed value. */
bool tw_s3_config_from_options(tw_s3_config *cfg, const char *(*lookup)(void *ctx, const char *key),
                               void *ctx, tw_err *err);

/* Splits "s3://bucket/key" (also s3a:// and s3n://) into malloc'ed bucket and
 * key. False with err set when location is not such a URI or has no key. */
bool tw_s3_parse_location(const char *location, char **bucket, char **key, tw_err *err);

/* Uploads len bytes as the whole object (one PUT). */
bool tw_s3_put_object(tw_s3_client *c, const char *bucket, const char *key, const void *data,
                      size_t len, tw_err *err);

/* Reads length bytes from offset (length < 0: to the end) into *data
 * (malloc'ed, NUL-terminated past *len). A range past the end returns the
 * bytes there are. *not_found (if not NULL) tells a missing object apart. */
bool tw_s3_get_object(tw_s3_client *c, const char *bucket, const char *key, uint64_t offset,
                      int64_t length, char **data, size_t *len, bool *not_found, tw_err *err);

/* Reads a whole object: a HEAD for its size, then ranged GETs of one part
 * size each, so a failure retries one range, not the whole object. */
bool tw_s3_read_object(tw_s3_client *c, const char *bucket, const char *key, char **data,
                       size_t *len, bool *not_found, tw_err *err);

/* Sets *size_bytes to the object's size; *exists false (and true returned)
 * when there is none. */
bool tw_s3_head_object(tw_s3_client *c, const char *bucket, const char *key, bool *exists,
                       uint64_t *size_bytes, tw_err *err);

/* Deletes an object; a missing one is not an error. */
bool tw_s3_delete_object(tw_s3_client *c, const char *bucket, const char *key, tw_err *err);

/* Multipart upload: start sets *upload_id (malloc'ed); put_part uploads part
 * part_number (1-based) and sets *etag (malloc'ed); complete makes the
 * object visible from the parts in order; abort drops the upload and its
 * parts (best effort: the bucket's lifecycle rule is the backstop). */
bool tw_s3_multipart_start(tw_s3_client *c, const char *bucket, const char *key, char **upload_id,
                           tw_err *err);
bool tw_s3_multipart_put_part(tw_s3_client *c, const char *bucket, const char *key,
                              const char *upload_id, uint32_t part_number, const void *data,
                              size_t len, char **etag, tw_err *err);
bool tw_s3_multipart_complete(tw_s3_client *c, const char *bucket, const char *key,
                              const char *upload_id, char *const *etags, uint32_t nparts,
                              uint64_t total_bytes, tw_err *err);
bool tw_s3_multipart_abort(tw_s3_client *c, const char *bucket, const char *key,
                           const char *upload_id, tw_err *err);

/* ---- the file IO ---- */

/* Opens a tw_fileio over S3 for s3:// locations. Files are buffered in
 * memory up to one part; larger ones go up as a multipart upload part by
 * part, completed by commit and aborted by abort or a failed write. NULL
 * with err set as tw_s3_client_new. Close with tw_fileio_close. */
tw_fileio *tw_fileio_open_s3(const tw_s3_config *cfg, tw_err *err);

/* The client under an S3 fileio (for its stats), NULL for another kind. */
tw_s3_client *tw_fileio_s3_client(tw_fileio *io);

#endif

/* s3.c - SigV4 signing and the S3 client over libcurl (see s3.h). */
#include "iceberg/s3.h"

#include <assert.h>
#include <ctype.h>
#include <curl/curl.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "common/arena.h"

#define MIN_PART_BYTES (5u << 20)
#define DEFAULT_PART_BYTES (8u << 20)
/* One backoff never waits longer than this, however many attempts. */
#define MAX_BACKOFF_MS 5000u

/* ---- growable strings ---- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        b->p = tw_xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        sb_add(b, small, (size_t)n);
        return;
    }
    char *big = tw_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_add(b, big, (size_t)n);
    free(big);
}

static char *sb_take(sbuf *b)
{
    if (!b->p)
        return tw_xstrdup("");
    char *p = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

/* ---- SigV4 ---- */

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void tw_s3_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    hex_encode(md, sizeof md, hex);
}

static void hmac_sha256(const void *key, size_t key_len, const char *msg,
                        unsigned char out[SHA256_DIGEST_LENGTH])
{
    unsigned int n = SHA256_DIGEST_LENGTH;
    if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, strlen(msg), out, &n))
        abort(); /* only fails without memory or with a broken libcrypto */
}

/* RFC 3986 unreserved characters pass; every other byte is %XX (uppercase).
 * keep_slash: a path's separators stay as they are. */
static void uri_encode(sbuf *b, const char *s, bool keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
            (keep_slash && *p == '/')) {
            sb_add(b, p, 1);
        } else {
            char esc[3] = {'%', digits[*p >> 4], digits[*p & 15]};
            sb_add(b, esc, 3);
        }
    }
}

typedef struct pair {
    char *name, *value;
} pair;

static int pair_cmp(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* Header values: trimmed, inner runs of spaces collapsed to one. */
static char *canonical_header_value(const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    sbuf b = {0};
    bool space = false;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = true;
            continue;
        }
        if (space && b.len)
            sb_add(&b, " ", 1);
        space = false;
        sb_add(&b, v, 1);
    }
    return sb_take(&b);
}

void tw_s3_sigv4_sign(const tw_s3_sigv4_input *in, tw_s3_sigv4 *out)
{
    assert(in->path[0] == '/');
    assert(strlen(in->amz_date) == 16);
    memset(out, 0, sizeof *out);

    sbuf b = {0};
    uri_encode(&b, in->path, true);
    out->encoded_path = sb_take(&b);

    pair *q = tw_xcalloc(in->nquery ? in->nquery : 1, sizeof *q);
    for (size_t i = 0; i < in->nquery; i++) {
        uri_encode(&b, in->query[i].name, false);
        q[i].name = sb_take(&b);
        uri_encode(&b, in->query[i].value ? in->query[i].value : "", false);
        q[i].value = sb_take(&b);
    }
    /* Sorted by encoded name, then value: the order S3 recomputes. */
    qsort(q, in->nquery, sizeof *q, pair_cmp);
    for (size_t i = 0; i < in->nquery; i++)
        sb_printf(&b, "%s%s=%s", i ? "&" : "", q[i].name, q[i].value);
    out->canonical_query = sb_take(&b);

    pair *h = tw_xcalloc(in->nheaders ? in->nheaders : 1, sizeof *h);
    for (size_t i = 0; i < in->nheaders; i++) {
        h[i].name = tw_xstrdup(in->headers[i].name);
        for (char *p = h[i].name; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        h[i].value = canonical_header_value(in->headers[i].value);
    }
    qsort(h, in->nheaders, sizeof *h, pair_cmp);
    for (size_t i = 0; i < in->nheaders; i++) {
        assert(i == 0 || strcmp(h[i - 1].name, h[i].name) != 0);
        sb_printf(&b, "%s%s", i ? ";" : "", h[i].name);
    }
    out->signed_headers = sb_take(&b);

    sb_printf(&b, "%s\n%s\n%s\n", in->method, out->encoded_path, out->canonical_query);
    for (size_t i = 0; i < in->nheaders; i++)
        sb_printf(&b, "%s:%s\n", h[i].name, h[i].value);
    sb_printf(&b, "\n%s\n%s", out->signed_headers, in->payload_sha256_hex);
    out->canonical_request = sb_take(&b);

    char date[9];
    memcpy(date, in->amz_date, 8);
    date[8] = '\0';
    char creq_hex[65];
    tw_s3_sha256_hex(out->canonical_request, strlen(out->canonical_request), creq_hex);
    sb_printf(&b, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", in->amz_date, date,
              in->region, in->service, creq_hex);
    out->string_to_sign = sb_take(&b);

    /* The signing key: HMAC chain over date, region, service. */
    sb_printf(&b, "AWS4%s", in->secret_key);
    unsigned char k[SHA256_DIGEST_LENGTH];
    hmac_sha256(b.p, b.len, date, k);
    OPENSSL_cleanse(b.p, b.len);
    free(sb_take(&b));
    hmac_sha256(k, sizeof k, in->region, k);
    hmac_sha256(k, sizeof k, in->service, k);
    hmac_sha256(k, sizeof k, "aws4_request", k);
    unsigned char sig[SHA256_DIGEST_LENGTH];
    hmac_sha256(k, sizeof k, out->string_to_sign, sig);
    OPENSSL_cleanse(k, sizeof k);
    char sig_hex[65];
    hex_encode(sig, sizeof sig, sig_hex);
    sb_printf(&b, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
                  "Signature=%s",
              in->access_key, date, in->region, in->service, out->signed_headers, sig_hex);
    out->authorization = sb_take(&b);

    for (size_t i = 0; i < in->nquery; i++) {
        free(q[i].name);
        free(q[i].value);
    }
    for (size_t i = 0; i < in->nheaders; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(q);
    free(h);
}

void tw_s3_sigv4_free(tw_s3_sigv4 *sig)
{
    free(sig->encoded_path);
    free(sig->canonical_query);
    free(sig->canonical_request);
    free(sig->string_to_sign);
    free(sig->signed_headers);
    free(sig->authorization);
    memset(sig, 0, sizeof *sig);
}

/* ---- the client ---- */

struct tw_s3_client {
    CURL *curl;
    char *endpoint;   /* as given, without a trailing slash */
    char *scheme;     /* "http" / "https" */
    char *host;       /* host[:port] as sent in Host (default ports dropped) */
    char *region;
    char *access_key;
    char *secret_key;
    char *session_token;
    bool path_style;
    bool quiet;
    size_t part_size_bytes;
    uint32_t max_attempts, max_retry_ms, base_backoff_ms, timeout_ms;
    uint64_t rng;
    tw_s3_stats stats;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

tw_s3_client *tw_s3_client_new(const tw_s3_config *cfg, tw_err *err)
{
    const char *access = cfg->access_key, *secret = cfg->secret_key, *token = cfg->session_token;
    if (!access && !secret) {
        /* Environment credentials come as a set: an explicit key never
         * borrows the environment's session token. */
        access = env_nonempty("AWS_ACCESS_KEY_ID");
        secret = env_nonempty("AWS_SECRET_ACCESS_KEY");
        token = env_nonempty("AWS_SESSION_TOKEN");
    }
    if (!access || !secret) {
        tw_err_set(err, TW_ERR_CONFIG,
                   "S3: no credentials: set s3.access.key and s3.secret.key on the connection, "
                   "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");
        return NULL;
    }
    const char *region = cfg->region;
    if (!region)
        region = env_nonempty("AWS_REGION");
    if (!region)
        region = env_nonempty("AWS_DEFAULT_REGION");
    if (!region)
        region = "us-east-1";

    char default_endpoint[256];
    const char *endpoint = cfg->endpoint;
    if (!endpoint) {
        snprintf(default_endpoint, sizeof default_endpoint, "https://s3.%s.amazonaws.com", region);
        endpoint = default_endpoint;
    }
    /* The seed's markdown copy writes '<http://localhost:9000>'. */
    char unbracketed[512];
    size_t endpoint_len = strlen(endpoint);
    if (endpoint_len > 2 && endpoint_len < sizeof unbracketed && endpoint[0] == '<' &&
        endpoint[endpoint_len - 1] == '>') {
        memcpy(unbracketed, endpoint + 1, endpoint_len - 2);
        unbracketed[endpoint_len - 2] = '\0';
        endpoint = unbracketed;
    }
    const char *rest = NULL;
    if (!strncmp(endpoint, "http://", 7))
        rest = endpoint + 7;
    else if (!strncmp(endpoint, "https://", 8))
        rest = endpoint + 8;
    if (!rest || !*rest || *rest == '/') {
        tw_err_set(err, TW_ERR_CONFIG,
                   "s3.endpoint '%s' is not an http:// or https:// URL (e.g. 'http://localhost:9000')",
                   endpoint);
        return NULL;
    }
    pthread_once(&curl_once, curl_init_once);
    tw_s3_client *c = tw_xcalloc(1, sizeof *c);
    c->curl = curl_easy_init();
    if (!c->curl) {
        free(c);
        tw_err_set(err, TW_ERR_NOMEM, "S3: cannot make a curl handle");
        return NULL;
    }
    c->scheme = tw_xstrdup(endpoint[4] == 's' ? "https" : "http");
    size_t hn = strcspn(rest, "/");
    char *host = tw_xmalloc(hn + 1);
    memcpy(host, rest, hn);
    host[hn] = '\0';
    /* curl sends Host without a default port; the signed Host must match. */
    size_t l = strlen(host);
    if (!strcmp(c->scheme, "http") && l > 3 && !strcmp(host + l - 3, ":80"))
        host[l - 3] = '\0';
    if (!strcmp(c->scheme, "https") && l > 4 && !strcmp(host + l - 4, ":443"))
        host[l - 4] = '\0';
    c->host = host;
    c->endpoint = tw_xmalloc(strlen(c->scheme) + strlen(host) + 4);
    sprintf(c->endpoint, "%s://%s", c->scheme, host);
    c->region = tw_xstrdup(region);
    c->access_key = tw_xstrdup(access);
    c->secret_key = tw_xstrdup(secret);
    c->session_token = token ? tw_xstrdup(token) : NULL;
    c->path_style = cfg->path_style;
    c->quiet = cfg->quiet;
    c->part_size_bytes = cfg->part_size_bytes ? cfg->part_size_bytes : DEFAULT_PART_BYTES;
    if (c->part_size_bytes < MIN_PART_BYTES)
        c->part_size_bytes = MIN_PART_BYTES; /* S3 rejects smaller non-final parts */
    c->max_attempts = cfg->max_attempts ? cfg->max_attempts : 20;
    c->max_retry_ms = cfg->max_retry_ms ? cfg->max_retry_ms : 120000;
    c->base_backoff_ms = cfg->base_backoff_ms ? cfg->base_backoff_ms : 100;
    c->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 10000;
    if (getrandom(&c->rng, sizeof c->rng, 0) != (ssize_t)sizeof c->rng || !c->rng)
        c->rng = (uint64_t)time(NULL) * 2654435761u + 1;
    return c;
}

void tw_s3_client_free(tw_s3_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    if (c->secret_key)
        OPENSSL_cleanse(c->secret_key, strlen(c->secret_key));
    free(c->endpoint);
    free(c->scheme);
    free(c->host);
    free(c->region);
    free(c->access_key);
    free(c->secret_key);
    free(c->session_token);
    free(c);
}

tw_s3_stats tw_s3_client_stats(const tw_s3_client *c)
{
    return c->stats;
}

const char *tw_s3_client_endpoint(const tw_s3_client *c)
{
    return c->endpoint;
}

size_t tw_s3_client_part_size(const tw_s3_client *c)
{
    return c->part_size_bytes;
}

bool tw_s3_config_from_options(tw_s3_config *cfg, const char *(*lookup)(void *ctx, const char *key),
                               void *ctx, tw_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->endpoint = lookup(ctx, "s3.endpoint");
    cfg->region = lookup(ctx, "s3.region");
    cfg->access_key = lookup(ctx, "s3.access.key");
    cfg->secret_key = lookup(ctx, "s3.secret.key");
    if (!cfg->access_key != !cfg->secret_key)
        return tw_err_set(err, TW_ERR_CONFIG,
                          "s3.access.key and s3.secret.key go together: set both or neither");
    const char *ps = lookup(ctx, "s3.path.style.access");
    if (ps) {
        if (!strcasecmp(ps, "true") || !strcmp(ps, "1"))
            cfg->path_style = true;
        else if (strcasecmp(ps, "false") && strcmp(ps, "0"))
            return tw_err_set(err, TW_ERR_CONFIG, "s3.path.style.access = '%s': use 'true' or 'false'",
                              ps);
    }
    return true;
}

bool tw_s3_parse_location(const char *location, char **bucket, char **key, tw_err *err)
{
    const char *p = NULL;
    if (!strncmp(location, "s3://", 5))
        p = location + 5;
    else if (!strncmp(location, "s3a://", 6) || !strncmp(location, "s3n://", 6))
        p = location + 6;
    const char *slash = p ? strchr(p, '/') : NULL;
    if (!p || !slash || slash == p || !slash[1])
        return tw_err_set(err, TW_ERR_CONFIG, "'%s' is not an s3://bucket/key location", location);
    size_t bn = (size_t)(slash - p);
    *bucket = tw_xmalloc(bn + 1);
    memcpy(*bucket, p, bn);
    (*bucket)[bn] = '\0';
    *key = tw_xstrdup(slash + 1);
    return true;
}

/* ---- one request, with retries ---- */

typedef struct request {
    const char *method;
    const char *bucket;
    const char *key;       /* NULL: the bucket itself */
    const tw_s3_kv *query;
    size_t nquery;
    const void *body;
    size_t body_len;
    const char *range;     /* "bytes=a-b" or NULL */
    /* the answer */
    long status;
    sbuf response;
    char etag[256];
    uint64_t content_length;
    /* upload cursor */
    size_t sent;
} request;

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    request *r = ctx;
    sb_add(&r->response, data, size * n);
    return size * n;
}

static size_t on_upload(char *buf, size_t size, size_t n, void *ctx)
{
    request *r = ctx;
    size_t want = size * n, left = r->body_len - r->sent;
    if (want > left)
        want = left;
    memcpy(buf, (const char *)r->body + r->sent, want);
    r->sent += want;
    return want;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    request *r = ctx;
    size_t len = size * n;
    char line[512];
    if (len >= sizeof line)
        return len;
    memcpy(line, data, len);
    line[len] = '\0';
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        line[--len] = '\0';
    char *colon = strchr(line, ':');
    if (!colon)
        return size * n;
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ')
        v++;
    if (!strcasecmp(line, "etag")) {
        snprintf(r->etag, sizeof r->etag, "%s", v);
    } else if (!strcasecmp(line, "content-length")) {
        r->content_length = strtoull(v, NULL, 10);
    }
    return size * n;
}

static uint64_t next_random(tw_s3_client *c)
{
    /* xorshift64*: jitter needs spread, not secrecy. */
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return c->rng * 2685821657736338717ull;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* "<Code>X</Code>" and "<Message>Y</Message>" of an S3 error body. */
static void xml_text(const char *xml, const char *tag, char *out, size_t out_size)
{
    out[0] = '\0';
    if (!xml)
        return;
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = strstr(xml, open);
    if (!a)
        return;
    a += strlen(open);
    const char *b = strstr(a, close);
    if (!b)
        return;
    size_t n = (size_t)(b - a);
    if (n >= out_size)
        n = out_size - 1;
    memcpy(out, a, n);
    out[n] = '\0';
}

static const char *key_for_messages(const request *r)
{
    return r->key ? r->key : "";
}

/* One attempt: signs with the current time (a retry re-signs) and performs.
 * Returns the curl result; r->status holds the HTTP status when CURLE_OK. */
static CURLcode attempt(tw_s3_client *c, request *r, const char *payload_hex)
{
    char amz_date[17];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);

    sbuf path = {0}, host = {0};
    if (c->path_style) {
        sb_str(&host, c->host);
        sb_printf(&path, "/%s", r->bucket);
        if (r->key)
            sb_printf(&path, "/%s", r->key);
    } else {
        sb_printf(&host, "%s.%s", r->bucket, c->host);
        sb_printf(&path, "/%s", r->key ? r->key : "");
    }
    tw_s3_kv headers[5];
    size_t nh = 0;
    headers[nh++] = (tw_s3_kv){"host", host.p};
    headers[nh++] = (tw_s3_kv){"x-amz-content-sha256", payload_hex};
    headers[nh++] = (tw_s3_kv){"x-amz-date", amz_date};
    if (r->range)
        headers[nh++] = (tw_s3_kv){"range", r->range};
    if (c->session_token)
        headers[nh++] = (tw_s3_kv){"x-amz-security-token", c->session_token};
    tw_s3_sigv4_input in = {
        .method = r->method,
        .path = path.p,
        .query = r->query,
        .nquery = r->nquery,
        .headers = headers,
        .nheaders = nh,
        .payload_sha256_hex = payload_hex,
        .access_key = c->access_key,
        .secret_key = c->secret_key,
        .region = c->region,
        .service = "s3",
        .amz_date = amz_date,
    };
    tw_s3_sigv4 sig;
    tw_s3_sigv4_sign(&in, &sig);

    sbuf url = {0}, line = {0};
    sb_printf(&url, "%s://%s%s%s%s", c->scheme, host.p, sig.encoded_path,
              sig.canonical_query[0] ? "?" : "", sig.canonical_query);
    struct curl_slist *hl = NULL;
    for (size_t i = 0; i < nh; i++) {
        line.len = 0;
        sb_printf(&line, "%s: %s", headers[i].name, headers[i].value);
        hl = curl_slist_append(hl, line.p);
    }
    line.len = 0;
    sb_printf(&line, "Authorization: %s", sig.authorization);
    hl = curl_slist_append(hl, line.p);
    /* No 100-continue round trip, and no Content-Type curl would invent. */
    hl = curl_slist_append(hl, "Expect:");
    hl = curl_slist_append(hl, "Content-Type:");

    CURL *h = c->curl;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url.p);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "tidewatch/" TW_VERSION);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
    /* A transfer that stalls (under 1 byte/s for the timeout) is a timeout;
     * a slow but moving large part is not. */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)((c->timeout_ms + 999) / 1000));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    if (!strcmp(r->method, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (r->body) {
        r->sent = 0;
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_upload);
        curl_easy_setopt(h, CURLOPT_READDATA, r);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
        if (strcmp(r->method, "PUT"))
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
    } else if (strcmp(r->method, "GET")) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
    }
    r->response.len = 0;
    if (r->response.p)
        r->response.p[0] = '\0';
    r->etag[0] = '\0';
    r->content_length = 0;
    r->status = 0;
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    c->stats.requests++;
    c->stats.bytes_sent += r->sent;
    c->stats.bytes_received += r->response.len;

    curl_slist_free_all(hl);
    free(url.p);
    free(line.p);
    free(path.p);
    free(host.p);
    tw_s3_sigv4_free(&sig);
    return rc;
}

/* Performs r until it gets an answer that is not transient, or the retry
 * budget is spent. True: r->status is set (any status; the caller judges
 * it). False: err names the endpoint, bucket, key and the last failure. */
static bool perform(tw_s3_client *c, request *r, tw_err *err)
{
    char payload_hex[65];
    tw_s3_sha256_hex(r->body ? r->body : "", r->body ? r->body_len : 0, payload_hex);
    uint64_t start_ms = now_ms();
    char last[512] = "";
    for (uint32_t n = 1;; n++) {
        CURLcode rc = attempt(c, r, payload_hex);
        bool transient;
        if (rc != CURLE_OK) {
            snprintf(last, sizeof last, "%s", curl_easy_strerror(rc));
            transient = true;
        } else if (r->status >= 500 || r->status == 429) {
            char code[128];
            xml_text(r->response.p, "Code", code, sizeof code);
            snprintf(last, sizeof last, "HTTP %ld%s%s", r->status, code[0] ? " " : "", code);
            transient = true;
        } else {
            return true;
        }
        assert(transient);
        uint64_t elapsed = now_ms() - start_ms;
        /* Full jitter: uniform in [0, min(cap, base * 2^(n-1))]. */
        uint64_t cap = (uint64_t)c->base_backoff_ms << (n - 1 < 16 ? n - 1 : 16);
        if (cap > MAX_BACKOFF_MS)
            cap = MAX_BACKOFF_MS;
        uint64_t wait = next_random(c) % (cap + 1);
        if (n >= c->max_attempts || elapsed + wait > c->max_retry_ms) {
            return tw_err_set(err, TW_ERR_IO,
                              "S3 at %s, bucket '%s': %s '%s' failed after %u attempts over %.1f s: %s",
                              c->endpoint, r->bucket, r->method, key_for_messages(r), n,
                              (double)elapsed / 1000.0, last);
        }
        c->stats.retries++;
        if (!c->quiet)
            fprintf(stderr,
                    "tidewatch: S3 at %s, bucket '%s': %s '%s': %s; retrying in %llu ms "
                    "(attempt %u of %u)\n",
                    c->endpoint, r->bucket, r->method, key_for_messages(r), last,
                    (unsigned long long)wait, n + 1, c->max_attempts);
        sleep_ms(wait);
    }
}

/* An error for a final non-2xx answer. */
static bool http_error(tw_s3_client *c, const request *r, tw_err *err)
{
    char code[128], msg[256];
    xml_text(r->response.p, "Code", code, sizeof code);
    xml_text(r->response.p, "Message", msg, sizeof msg);
    const char *hint = "";
    if (r->status == 403)
        hint = " (check s3.access.key, s3.secret.key and s3.region)";
    else if (!strcmp(code, "NoSuchBucket"))
        hint = " (create the bucket, or check s3.path.style.access)";
    return tw_err_set(err, TW_ERR_IO, "S3 at %s, bucket '%s': %s '%s': HTTP %ld %s%s%s%s",
                      c->endpoint, r->bucket, r->method, key_for_messages(r), r->status,
                      code[0] ? code : "", msg[0] ? ": " : "", msg, hint);
}

static void request_done(request *r)
{
    free(r->response.p);
    r->response.p = NULL;
}

bool tw_s3_put_object(tw_s3_client *c, const char *bucket, const char *key, const void *data,
                      size_t len, tw_err *err)
{
    /* An empty body still needs a non-NULL pointer to be sent as a PUT. */
    request r = {.method = "PUT", .bucket = bucket, .key = key, .body = data ? data : "",
                 .body_len = len};
    bool ok = perform(c, &r, err);
    if (ok && (r.status < 200 || r.status >= 300))
        ok = http_error(c, &r, err);
    request_done(&r);
    return ok;
}

bool tw_s3_get_object(tw_s3_client *c, const char *bucket, const char *key, uint64_t offset,
                      int64_t length, char **data, size_t *len, bool *not_found, tw_err *err)
{
    *data = NULL;
    *len = 0;
    if (not_found)
        *not_found = false;
    char range[64] = "";
    if (offset || length >= 0) {
        if (length == 0) {
            *data = tw_xstrdup("");
            return true;
        }
        if (length > 0)
            snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)offset,
                     (unsigned long long)(offset + (uint64_t)length - 1));
        else
            snprintf(range, sizeof range, "bytes=%llu-", (unsigned long long)offset);
    }
    request r = {.method = "GET", .bucket = bucket, .key = key, .range = range[0] ? range : NULL};
    bool ok = perform(c, &r, err);
    if (ok && r.status == 416) {
        /* The range starts at or past the end: no bytes there. */
        request_done(&r);
        *data = tw_xstrdup("");
        return true;
    }
    if (ok && (r.status < 200 || r.status >= 300)) {
        if (not_found)
            *not_found = r.status == 404;
        ok = http_error(c, &r, err);
    }
    if (ok && r.range && r.status == 200 && offset) {
        /* A server that ignores Range sends the whole object. */
        size_t skip = offset < r.response.len ? (size_t)offset : r.response.len;
        memmove(r.response.p, r.response.p + skip, r.response.len - skip);
        r.response.len -= skip;
    }
    if (ok && length > 0 && r.response.len > (uint64_t)length)
        r.response.len = (size_t)length;
    if (!ok) {
        request_done(&r);
        return false;
    }
    if (!r.response.p)
        sb_add(&r.response, "", 0);
    r.response.p[r.response.len] = '\0';
    *data = r.response.p;
    *len = r.response.len;
    return true;
}

bool tw_s3_read_object(tw_s3_client *c, const char *bucket, const char *key, char **data,
                       size_t *len, bool *not_found, tw_err *err)
{
    *data = NULL;
    *len = 0;
    if (not_found)
        *not_found = false;
    /* The size first: a Range on an empty object is an error on S3 and
     * worse on some compatible servers, and the size bounds the loop. */
    bool exists;
    uint64_t size;
    if (!tw_s3_head_object(c, bucket, key, &exists, &size, err))
        return false;
    if (!exists) {
        if (not_found)
            *not_found = true;
        return tw_err_set(err, TW_ERR_IO, "S3 at %s, bucket '%s': '%s' does not exist", c->endpoint,
                          bucket, key);
    }
    char *buf = malloc(size + 1);
    if (!buf)
        return tw_err_set(err, TW_ERR_NOMEM, "out of memory reading s3://%s/%s (%llu bytes)",
                          bucket, key, (unsigned long long)size);
    uint64_t got = 0;
    while (got < size) {
        uint64_t n = size - got < c->part_size_bytes ? size - got : c->part_size_bytes;
        char *chunk;
        size_t chunk_len;
        if (!tw_s3_get_object(c, bucket, key, got, (int64_t)n, &chunk, &chunk_len, not_found, err)) {
            free(buf);
            return false;
        }
        bool short_read = chunk_len != n;
        memcpy(buf + got, chunk, short_read ? 0 : chunk_len);
        free(chunk);
        if (short_read) {
            free(buf);
            /* The object changed size under us: never return a mix. */
            return tw_err_set(err, TW_ERR_IO,
                              "S3 at %s, bucket '%s': '%s' changed while being read (%zu bytes at "
                              "offset %llu, expected %llu)",
                              c->endpoint, bucket, key, chunk_len, (unsigned long long)got,
                              (unsigned long long)n);
        }
        got += n;
    }
    buf[size] = '\0';
    *data = buf;
    *len = (size_t)size;
    return true;
}

bool tw_s3_head_object(tw_s3_client *c, const char *bucket, const char *key, bool *exists,
                       uint64_t *size_bytes, tw_err *err)
{
    *exists = false;
    *size_bytes = 0;
    request r = {.method = "HEAD", .bucket = bucket, .key = key};
    bool ok = perform(c, &r, err);
    if (ok && r.status >= 200 && r.status < 300) {
        *exists = true;
        *size_bytes = r.content_length;
    } else if (ok && r.status != 404) {
        ok = http_error(c, &r, err);
    }
    request_done(&r);
    return ok;
}

bool tw_s3_delete_object(tw_s3_client *c, const char *bucket, const char *key, tw_err *err)
{
    request r = {.method = "DELETE", .bucket = bucket, .key = key};
    bool ok = perform(c, &r, err);
    if (ok && (r.status < 200 || r.status >= 300) && r.status != 404)
        ok = http_error(c, &r, err);
    request_done(&r);
    return ok;
}

bool tw_s3_multipart_start(tw_s3_client *c, const char *bucket, const char *key, char **upload_id,
                           tw_err *err)
{
    *upload_id = NULL;
    tw_s3_kv q[] = {{"uploads", ""}};
    request r = {.method = "POST", .bucket = bucket, .key = key, .query = q, .nquery = 1,
                 .body = "", .body_len = 0};
    bool ok = perform(c, &r, err);
    if (ok && (r.status < 200 || r.status >= 300))
        ok = http_error(c, &r, err);
    if (ok) {
        char id[1024];
        xml_text(r.response.p, "UploadId", id, sizeof id);
        if (!id[0])
            ok = tw_err_set(err, TW_ERR_IO,
                            "S3 at %s, bucket '%s': starting a multipart upload of '%s': no UploadId "
                            "in the answer",
                            c->endpoint, bucket, key);
        else
            *upload_id = tw_xstrdup(id);
    }
    request_done(&r);
    return ok;
}

bool tw_s3_multipart_put_part(tw_s3_client *c, const char *bucket, const char *key,
                              const char *upload_id, uint32_t part_number, const void *data,
                              size_t len, char **etag, tw_err *err)
{
    assert(part_number >= 1 && part_number <= 10000);
    *etag = NULL;
    char pn[16];
    snprintf(pn, sizeof pn, "%u", part_number);
    tw_s3_kv q[] = {{"partNumber", pn}, {"uploadId", upload_id}};
    request r = {.method = "PUT", .bucket = bucket, .key = key, .query = q, .nquery = 2,
                 .body = data ? data : "", .body_len = len};
    bool ok = perform(c, &r, err);
    if (ok && (r.status < 200 || r.status >= 300))
        ok = http_error(c, &r, err);
    if (ok && !r.etag[0])
        ok = tw_err_set(err, TW_ERR_IO, "S3 at %s, bucket '%s': part %u of '%s': no ETag in the answer",
                        c->endpoint, bucket, part_number, key);
    if (ok)
        *etag = tw_xstrdup(r.etag);
    request_done(&r);
    return ok;
}

bool tw_s3_multipart_complete(tw_s3_client *c, const char *bucket, const char *key,
                              const char *upload_id, char *const *etags, uint32_t nparts,
                              uint64_t total_bytes, tw_err *err)
{
    sbuf body = {0};
    sb_str(&body, "<CompleteMultipartUpload>");
    for (uint32_t i = 0; i < nparts; i++)
        sb_printf(&body, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>", i + 1, etags[i]);
    sb_str(&body, "</CompleteMultipartUpload>");
    tw_s3_kv q[] = {{"uploadId", upload_id}};
    request r = {.method = "POST", .bucket = bucket, .key = key, .query = q, .nquery = 1,
                 .body = body.p, .body_len = body.len};
    uint64_t retries_before = c->stats.retries;
    bool ok = perform(c, &r, err);
    /* S3 may answer 200 and still fail: the error is in the body. */
    bool failed_in_body = ok && r.status == 200 && r.response.p && strstr(r.response.p, "<Error>");
    if (ok && r.status == 404 && c->stats.retries > retries_before) {
        /* A retried complete whose first try went through finds the upload
         * gone; the object being there with every byte is success. */
        bool exists = false;
        uint64_t size = 0;
        tw_err head_err;
        if (tw_s3_head_object(c, bucket, key, &exists, &size, &head_err) && exists &&
            size == total_bytes) {
            request_done(&r);
            free(body.p);
            return true;
        }
    }
    if (ok && (r.status < 200 || r.status >= 300 || failed_in_body)) {
        if (failed_in_body)
            r.status = 500;
        ok = http_error(c, &r, err);
    }
    request_done(&r);
    free(body.p);
    return ok;
}

bool tw_s3_multipart_abort(tw_s3_client *c, const char *bucket, const char *key,
                           const char *upload_id, tw_err *err)
{
    tw_s3_kv q[] = {{"uploadId", upload_id}};
    request r = {.method = "DELETE", .bucket = bucket, .key = key, .query = q, .nquery = 1};
    bool ok = perform(c, &r, err);
    if (ok && (r.status < 200 || r.status >= 300) && r.status != 404)
        ok = http_error(c, &r, err);
    request_done(&r);
    return ok;
}

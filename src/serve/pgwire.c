/* pgwire.c - PostgreSQL v3 protocol: framing, parsing, parameters, server. */
#include "serve/pgwire.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/timeutil.h"
#include "exec/expr.h"
#include "sql/lexer.h"

#define PG_PROTOCOL_3_0 196608u
#define PG_SSL_REQUEST 80877103u
#define PG_GSSENC_REQUEST 80877104u
#define PG_CANCEL_REQUEST 80877102u
#define STARTUP_MAX_BYTES 10000u

/* ---- reading big-endian fields -------------------------------------------- */

typedef struct reader {
    const uint8_t *p, *end;
    bool ok;
} reader;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int32_t rd_i32(reader *r)
{
    if (!r->ok || r->end - r->p < 4) {
        r->ok = false;
        return 0;
    }
    uint32_t v = be32(r->p);
    r->p += 4;
    return (int32_t)v;
}

static int16_t rd_i16(reader *r)
{
    if (!r->ok || r->end - r->p < 2) {
        r->ok = false;
        return 0;
    }
    uint16_t v = (uint16_t)(r->p[0] << 8 | r->p[1]);
    r->p += 2;
    return (int16_t)v;
}

static uint8_t rd_u8(reader *r)
{
    if (!r->ok || r->p >= r->end) {
        r->ok = false;
        return 0;
    }
    return *r->p++;
}

/* A NUL-terminated string inside the message. */
static const char *rd_str(reader *r)
{
    if (!r->ok)
        return NULL;
    const uint8_t *nul = memchr(r->p, 0, (size_t)(r->end - r->p));
    if (!nul) {
        r->ok = false;
        return NULL;
    }
    const char *s = (const char *)r->p;
    r->p = nul + 1;
    return s;
}

tw_pgwire_frame_status tw_pgwire_frame(const uint8_t *buf, size_t len, bool startup,
                                       size_t *msg_bytes, tw_err *err)
{
    size_t head = startup ? 4 : 5;
    if (len < head)
        return TW_PGWIRE_NEED_MORE;
    uint32_t n = be32(buf + head - 4);
    if (startup ? (n < 8 || n > STARTUP_MAX_BYTES) : (n < 4 || n > TW_PGWIRE_MAX_MESSAGE_BYTES - 1)) {
        tw_err_set(err, TW_ERR_IO, "invalid %s length %u", startup ? "startup packet" : "message",
                   n);
        return TW_PGWIRE_BAD_FRAME;
    }
    size_t total = (size_t)n + (startup ? 0 : 1);
    if (len < total)
        return TW_PGWIRE_NEED_MORE;
    *msg_bytes = total;
    return TW_PGWIRE_FRAMED;
}

static bool parse_startup(reader *r, tw_pgwire_msg *out, tw_err *err)
{
    uint32_t code = (uint32_t)rd_i32(r);
    if (code == PG_SSL_REQUEST || code == PG_GSSENC_REQUEST) {
        out->kind = code == PG_SSL_REQUEST ? TW_PGWIRE_SSL_REQUEST : TW_PGWIRE_GSSENC_REQUEST;
        return r->p == r->end || tw_err_set(err, TW_ERR_IO, "invalid encryption request");
    }
    if (code == PG_CANCEL_REQUEST) {
        out->kind = TW_PGWIRE_CANCEL;
        out->u.cancel.pid = rd_i32(r);
        out->u.cancel.secret = rd_i32(r);
        return (r->ok && r->p == r->end) || tw_err_set(err, TW_ERR_IO, "invalid cancel request");
    }
    if (code >> 16 != 3)
        return tw_err_set(err, TW_ERR_UNSUPPORTED,
                          "unsupported frontend protocol %u.%u: server supports 3.0", code >> 16,
                          code & 0xffff);
    out->kind = TW_PGWIRE_STARTUP;
    out->u.startup.version = code;
    /* Each pair takes at least two bytes, which bounds the arrays. */
    size_t max_pairs = (size_t)(r->end - r->p) / 2 + 1;
    const char **keys = tw_xcalloc(max_pairs * 2, sizeof *keys);
    uint32_t n = 0;
    for (;;) {
        const char *k = rd_str(r);
        if (!r->ok)
            break;
        if (!*k) {
            if (r->p != r->end)
                r->ok = false;
            break;
        }
        const char *v = rd_str(r);
        if (!r->ok)
            break;
        keys[n] = k;
        keys[max_pairs + n] = v;
        n++;
    }
    if (!r->ok) {
        free(keys);
        return tw_err_set(err, TW_ERR_IO, "invalid startup packet");
    }
    out->u.startup.keys = keys;
    out->u.startup.values = keys + max_pairs;
    out->u.startup.nparams = n;
    return true;
}

bool tw_pgwire_parse(const uint8_t *msg, size_t len, bool startup, tw_pgwire_msg *out,
                     tw_err *err)
{
    memset(out, 0, sizeof *out);
    if (startup) {
        assert(len >= 8);
        reader r = {msg + 4, msg + len, true};
        return parse_startup(&r, out, err);
    }
    assert(len >= 5);
    char type = (char)msg[0];
    reader r = {msg + 5, msg + len, true};
    switch (type) {
    case 'Q':
        out->kind = TW_PGWIRE_QUERY;
        out->u.query.sql = rd_str(&r);
        if (r.ok)
            out->u.query.len = strlen(out->u.query.sql);
        break;
    case 'P': {
        out->kind = TW_PGWIRE_PARSE;
        out->u.parse.name = rd_str(&r);
        out->u.parse.sql = rd_str(&r);
        int16_t n = rd_i16(&r);
        if (!r.ok || n < 0 || (size_t)n * 4 > (size_t)(r.end - r.p)) {
            r.ok = false;
            break;
        }
        out->u.parse.sql_len = strlen(out->u.parse.sql);
        out->u.parse.nparam_types = (uint16_t)n;
        out->u.parse.param_types = tw_xcalloc((size_t)n + 1, sizeof(uint32_t));
        for (int16_t i = 0; i < n; i++)
            out->u.parse.param_types[i] = (uint32_t)rd_i32(&r);
        break;
    }
    case 'B': {
        out->kind = TW_PGWIRE_BIND;
        out->u.bind.portal = rd_str(&r);
        out->u.bind.stmt = rd_str(&r);
        int16_t nf = rd_i16(&r);
        if (!r.ok || nf < 0 || (size_t)nf * 2 > (size_t)(r.end - r.p)) {
            r.ok = false;
            break;
        }
        out->u.bind.nparam_formats = (uint16_t)nf;
        out->u.bind.param_formats = tw_xcalloc((size_t)nf + 1, sizeof(int16_t));
        for (int16_t i = 0; i < nf; i++)
            out->u.bind.param_formats[i] = rd_i16(&r);
        int16_t np = rd_i16(&r);
        if (!r.ok || np < 0 || (size_t)np * 4 > (size_t)(r.end - r.p)) {
            r.ok = false;
            break;
        }
        out->u.bind.nparams = (uint16_t)np;
        out->u.bind.params = tw_xcalloc((size_t)np + 1, sizeof(tw_pgwire_value));
        for (int16_t i = 0; i < np && r.ok; i++) {
            int32_t vlen = rd_i32(&r);
            if (vlen < -1 || (vlen > 0 && (size_t)vlen > (size_t)(r.end - r.p))) {
                r.ok = false;
                break;
            }
            out->u.bind.params[i].len = vlen;
            out->u.bind.params[i].ptr = (const char *)r.p;
            if (vlen > 0)
                r.p += vlen;
        }
        int16_t nr = rd_i16(&r);
        if (!r.ok || nr < 0 || (size_t)nr * 2 > (size_t)(r.end - r.p)) {
            r.ok = false;
            break;
        }
        out->u.bind.nresult_formats = (uint16_t)nr;
        out->u.bind.result_formats = tw_xcalloc((size_t)nr + 1, sizeof(int16_t));
        for (int16_t i = 0; i < nr; i++)
            out->u.bind.result_formats[i] = rd_i16(&r);
        break;
    }
    case 'D':
    case 'C':
        out->kind = type == 'D' ? TW_PGWIRE_DESCRIBE : TW_PGWIRE_CLOSE;
        out->u.target.what = (char)rd_u8(&r);
        out->u.target.name = rd_str(&r);
        if (r.ok && out->u.target.what != 'S' && out->u.target.what != 'P')
            r.ok = false;
        break;
    case 'E':
        out->kind = TW_PGWIRE_EXECUTE;
        out->u.execute.portal = rd_str(&r);
        out->u.execute.max_rows = rd_i32(&r);
        if (out->u.execute.max_rows < 0)
            out->u.execute.max_rows = 0;
        break;
    case 'S': out->kind = TW_PGWIRE_SYNC; break;
    case 'H': out->kind = TW_PGWIRE_FLUSH; break;
    case 'X': out->kind = TW_PGWIRE_TERMINATE; break;
    case 'p':
        out->kind = TW_PGWIRE_PASSWORD;
        out->u.password.data = r.p;
        out->u.password.len = (size_t)(r.end - r.p);
        r.p = r.end;
        break;
    case 'F':
        return tw_err_set(err, TW_ERR_UNSUPPORTED, "function calls are not supported");
    case 'd':
    case 'c':
    case 'f':
        return tw_err_set(err, TW_ERR_UNSUPPORTED, "COPY is not supported");
    default:
        if (isprint((unsigned char)type))
            return tw_err_set(err, TW_ERR_IO, "invalid frontend message type '%c'", type);
        return tw_err_set(err, TW_ERR_IO, "invalid frontend message type %u", (unsigned)msg[0]);
    }
    if (!r.ok || r.p != r.end) {
        tw_pgwire_msg_free(out);
        return tw_err_set(err, TW_ERR_IO, "invalid message format ('%c')", type);
    }
    return true;
}

void tw_pgwire_msg_free(tw_pgwire_msg *m)
{
    switch (m->kind) {
    case TW_PGWIRE_STARTUP: free(m->u.startup.keys); break;
    case TW_PGWIRE_PARSE: free(m->u.parse.param_types); break;
    case TW_PGWIRE_BIND:
        free(m->u.bind.param_formats);
        free(m->u.bind.params);
        free(m->u.bind.result_formats);
        break;
    default: break;
    }
    memset(m, 0, sizeof *m);
}

/* ---- parameters ----------------------------------------------------------- */

/* $n's number, or 0 when it does not fit (more than 65535 is never bound). */
static uint32_t param_number(const tw_sql_token *t)
{
    uint32_t n = 0;
    for (uint32_t i = 1; i < t->str_len; i++) {
        n = n * 10 + (uint32_t)(t->str[i] - '0');
        if (n > 65535)
            return 0;
    }
    return n;
}

uint32_t tw_pgwire_param_count(const char *sql, size_t len)
{
    if (len >= UINT32_MAX)
        return 0;
    tw_arena arena;
    tw_arena_init(&arena, 4096);
    tw_sql_tokens toks;
    tw_sql_lex(sql, len, NULL, &arena, &toks);
    uint32_t max = 0;
    for (uint32_t i = 0; i < toks.count; i++) {
        if (toks.items[i].kind != TW_SQL_TOK_PARAM)
            continue;
        uint32_t n = param_number(&toks.items[i]);
        if (n > max)
            max = n;
    }
    tw_sql_tokens_free(&toks);
    tw_arena_free(&arena);
    return max;
}

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 256;
        b->p = tw_xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static bool word_eq(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && !strncasecmp(s, word, n);
}

/* Strict numeric syntax: [+-]digits[.digits][e[+-]digits]; integers only when asked. */
static bool is_number(const char *s, size_t n, bool integer)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && isdigit((unsigned char)s[i]))
        i++, digits++;
    if (!integer && i < n && s[i] == '.') {
        i++;
        while (i < n && isdigit((unsigned char)s[i]))
            i++, digits++;
    }
    if (!digits)
        return false;
    if (!integer && i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp_digits = 0;
        while (i < n && isdigit((unsigned char)s[i]))
            i++, exp_digits++;
        if (!exp_digits)
            return false;
    }
    return i == n;
}

enum { OID_BOOL = 16, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_TEXT = 25,
       OID_FLOAT4 = 700, OID_FLOAT8 = 701, OID_VARCHAR = 1043, OID_TIMESTAMP = 1114,
       OID_TIMESTAMPTZ = 1184, OID_INTERVAL = 1186, OID_NUMERIC = 1700 };

static bool append_literal(sbuf *out, uint32_t type, const tw_pgwire_value *v, bool count_context,
                           uint32_t index, tw_err *err)
{
    if (v->len < 0) {
        sb_puts(out, "NULL");
        return true;
    }
    const char *s = v->ptr;
    size_t n = (size_t)v->len;
    if (memchr(s, 0, n))
        return tw_err_set(err, TW_ERR_CONFIG, "parameter $%u holds a NUL byte", index);
    /* Surrounding spaces never change the meaning of a literal. */
    const char *t = s;
    size_t tn = n;
    while (tn && isspace((unsigned char)*t))
        t++, tn--;
    while (tn && isspace((unsigned char)t[tn - 1]))
        tn--;
    bool integer = type == OID_INT2 || type == OID_INT4 || type == OID_INT8;
    bool numeric = integer || type == OID_FLOAT4 || type == OID_FLOAT8 || type == OID_NUMERIC;
    if (numeric || (type == 0 && count_context)) {
        if (is_number(t, tn, integer || type == 0)) {
            bool neg = t[0] == '-';
            if (neg)
                sb_puts(out, "(");
            sb_put(out, t, tn);
            if (neg)
                sb_puts(out, ")");
            return true;
        }
        if (numeric && !(type != OID_NUMERIC && !integer &&
                         (word_eq(t, tn, "nan") || word_eq(t, tn, "infinity") ||
                          word_eq(t, tn, "-infinity"))))
            return tw_err_set(err, TW_ERR_CONFIG,
                              "invalid input syntax for type %s: \"%.*s\" (parameter $%u)",
                              integer ? "integer" : "double precision", (int)(n > 64 ? 64 : n), s,
                              index);
    }
    if (type == OID_BOOL) {
        static const char *const truthy[] = {"t", "true", "y", "yes", "on", "1"};
        static const char *const falsy[] = {"f", "false", "n", "no", "off", "0"};
        for (size_t i = 0; i < 6; i++) {
            if (word_eq(t, tn, truthy[i]))
                return sb_puts(out, "TRUE"), true;
            if (word_eq(t, tn, falsy[i]))
                return sb_puts(out, "FALSE"), true;
        }
        return tw_err_set(err, TW_ERR_CONFIG,
                          "invalid input syntax for type boolean: \"%.*s\" (parameter $%u)",
                          (int)(n > 64 ? 64 : n), s, index);
    }
    sb_puts(out, "'");
    for (size_t i = 0; i < n; i++) {
        const char *q = memchr(s + i, '\'', n - i);
        size_t run = q ? (size_t)(q - (s + i)) : n - i;
        sb_put(out, s + i, run);
        i += run;
        if (q)
            sb_puts(out, "''");
    }
    sb_puts(out, "'");
    return true;
}

static bool glues(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$' || c == '\'' || c == '"' ||
           (unsigned char)c >= 0x80;
}

char *tw_pgwire_substitute(const char *sql, size_t len, const uint32_t *types, uint32_t ntypes,
                           const tw_pgwire_value *params, uint32_t nparams, size_t *out_len,
                           tw_err *err)
{
    if (len >= UINT32_MAX) {
        tw_err_set(err, TW_ERR_CONFIG, "statement too long");
        return NULL;
    }
    tw_arena arena;
    tw_arena_init(&arena, 4096);
    tw_sql_tokens toks;
    tw_sql_lex(sql, len, NULL, &arena, &toks);
    sbuf out = {0};
    sb_put(&out, "", 0);
    size_t copied = 0;
    bool ok = true;
    for (uint32_t i = 0; i < toks.count && ok; i++) {
        const tw_sql_token *t = &toks.items[i];
        if (t->kind != TW_SQL_TOK_PARAM)
            continue;
        uint32_t n = param_number(t);
        if (n == 0 || n > nparams) {
            ok = tw_err_set(err, TW_ERR_BIND, "there is no parameter $%.*s (%u given)",
                            (int)(t->str_len > 1 ? t->str_len - 1 : 0), t->str + 1, nparams);
            break;
        }
        sb_put(&out, sql + copied, t->loc - copied);
        copied = t->end;
        if (out.len && glues(out.p[out.len - 1]))
            sb_puts(&out, " ");
        bool count_context = i > 0 && toks.items[i - 1].kind == TW_SQL_TOK_IDENT &&
                             (!strcmp(toks.items[i - 1].str, "limit") ||
                              !strcmp(toks.items[i - 1].str, "offset"));
        ok = append_literal(&out, n <= ntypes ? types[n - 1] : 0, &params[n - 1], count_context, n,
                            err);
        if (ok && t->end < len && glues(sql[t->end]))
            sb_puts(&out, " ");
    }
    tw_sql_tokens_free(&toks);
    tw_arena_free(&arena);
    if (!ok) {
        free(out.p);
        return NULL;
    }
    sb_put(&out, sql + copied, len - copied);
    *out_len = out.len;
    return out.p;
}

/* ---- values, errors ------------------------------------------------------- */

uint32_t tw_pgwire_type_oid(tw_type t)
{
    switch (t) {
    case TW_T_BOOL: return OID_BOOL;
    case TW_T_INT16: return OID_INT2;
    case TW_T_INT32: return OID_INT4;
    case TW_T_INT64: return OID_INT8;
    case TW_T_FLOAT32: return OID_FLOAT4;
    case TW_T_FLOAT64: return OID_FLOAT8;
    case TW_T_TIMESTAMP: return OID_TIMESTAMP;
    case TW_T_TIMESTAMPTZ: return OID_TIMESTAMPTZ;
    case TW_T_INTERVAL: return OID_INTERVAL;
    default: return OID_VARCHAR;
    }
}

static int16_t type_len(tw_type t)
{
    switch (t) {
    case TW_T_BOOL: return 1;
    case TW_T_INT16: return 2;
    case TW_T_INT32:
    case TW_T_FLOAT32: return 4;
    case TW_T_INT64:
    case TW_T_FLOAT64:
    case TW_T_TIMESTAMP:
    case TW_T_TIMESTAMPTZ: return 8;
    case TW_T_INTERVAL: return 16;
    default: return -1;
    }
}

size_t tw_pgwire_format_value(const tw_value *v, char *buf, size_t cap)
{
    char tmp[96];
    size_t n;
    if (v->is_null) {
        n = 0;
        tmp[0] = '\0';
    } else if (v->type == TW_T_BOOL) {
        n = 1;
        tmp[0] = v->b ? 't' : 'f';
        tmp[1] = '\0';
    } else if (tw_type_is_time(v->type)) {
        n = tw_timestamp_format(v->i64, tmp, v->type == TW_T_TIMESTAMPTZ ? "+00" : "");
        char *sep = strchr(tmp, 'T');
        if (sep)
            *sep = ' ';
    } else {
        n = tw_value_format(v, tmp, sizeof tmp);
    }
    if (cap) {
        size_t c = n < cap - 1 ? n : cap - 1;
        memcpy(buf, tmp, c);
        buf[c] = '\0';
    }
    return n;
}

/* The first line of the engine message's text, after "FILE:L:C: error: ". */
static const char *error_text(const char *msg)
{
    const char *e = strstr(msg, ": error: ");
    return e ? e + 9 : msg;
}

const char *tw_pgwire_sqlstate(const tw_err *err)
{
    const char *m = error_text(err->msg);
    switch (err->code) {
    case TW_ERR_SYNTAX: return "42601";
    case TW_ERR_UNSUPPORTED: return "0A000";
    case TW_ERR_BIND:
        if (!strncmp(m, "column ", 7) && strstr(m, "does not exist"))
            return "42703";
        if ((!strncmp(m, "relation ", 9) && strstr(m, "does not exist")) ||
            !strncmp(m, "unknown relation", 16))
            return "42P01";
        if (strstr(m, "already exists") || strstr(m, "declared twice"))
            return "42710";
        if (!strncmp(m, "function ", 9) || !strncmp(m, "operator does not exist", 23))
            return "42883";
        if (strstr(m, "GROUP BY"))
            return "42803";
        if (strstr(m, "does not exist"))
            return "42704";
        if (strstr(m, "parameter $"))
            return "08P01";
        return "XX000";
    case TW_ERR_CONFIG:
        if (strstr(m, "invalid input syntax"))
            return "22P02";
        return "22023";
    case TW_ERR_IO: return "58030";
    case TW_ERR_NOMEM: return "53200";
    default: return "XX000";
    }
}

uint32_t tw_pgwire_error_offset(const char *msg, const char *sql, size_t len, char *text,
                                size_t cap)
{
    const char *body = error_text(msg);
    size_t tl = strcspn(body, "\n");
    if (cap) {
        size_t c = tl < cap - 1 ? tl : cap - 1;
        memcpy(text, body, c);
        text[c] = '\0';
    }
    if (body == msg)
        return 0;
    /* body - 9 is the ": error: "; before it "...:LINE:COL". */
    const char *p = body - 9;
    unsigned long nums[2] = {0, 0};
    for (int k = 1; k >= 0; k--) {
        const char *digits_end = p;
        while (p > msg && isdigit((unsigned char)p[-1]))
            p--;
        if (p == digits_end || p == msg || p[-1] != ':' || digits_end - p > 9)
            return 0;
        nums[k] = strtoul(p, NULL, 10);
        p--;
    }
    unsigned long line = nums[0], col = nums[1];
    if (line == 0 || col == 0)
        return 0;
    size_t off = 0;
    for (unsigned long l = 1; l < line && off < len; off++)
        if (sql[off] == '\n')
            l++;
    for (unsigned long c = 1; c < col && off < len;) {
        off++;
        if (off >= len || ((unsigned char)sql[off] & 0xc0) != 0x80)
            c++;
    }
    if (off > len)
        off = len;
    return (uint32_t)off + 1;
}

/* ---- server: output buffer ---------------------------------------------- */

typedef struct prepared {
    char *name;
    char *sql;
    size_t len;
    uint32_t *types;
    uint32_t ntypes;
    uint32_t nparams;
} prepared;

typedef struct portal {
    char *name;
    char *sql;
    size_t len;
    bool executed;    /* the statement ran (rows are in result) */
    bool returns_rows;
    tw_result *result;
    uint32_t batch, row; /* next row to send */
    uint64_t sent;
    char tag[96];
} portal;

typedef struct param {
    char *name, *value;
} param;

typedef struct conn conn;

struct tw_pgwire {
    tw_engine *engine;
    int listen_fd;
    int wake[2];
    pthread_t accept_thread;
    pthread_mutex_t mu;
    conn *conns;
    uint32_t nconns, max_connections;
    uint32_t next_pid;
    char addr[80];
    bool scram;
    uint8_t salt[16];
    uint8_t stored_key[32], server_key[32];
};

struct conn {
    tw_pgwire *srv;
    int fd;
    pthread_t thread;
    bool finished; /* the thread has returned; guarded by srv->mu */
    conn *next;
    int32_t pid, secret;
    uint8_t *rbuf;
    size_t rlen, rcap;
    uint8_t *wbuf;
    size_t wlen, wcap, msg_start;
    bool io_failed;
    char txn; /* 'I' idle, 'T' in a block, 'E' failed block */
    bool skip_until_sync;
    prepared **stmts;
    uint32_t nstmts;
    portal **portals;
    uint32_t nportals;
    param *params;
    uint32_t nparams;
    char user[64];
};

static void out_reserve(conn *c, size_t n)
{
    if (c->wlen + n > c->wcap) {
        while (c->wlen + n > c->wcap)
            c->wcap = c->wcap ? c->wcap * 2 : 8192;
        c->wbuf = tw_xrealloc(c->wbuf, c->wcap);
    }
}

static void out_bytes(conn *c, const void *p, size_t n)
{
    out_reserve(c, n);
    memcpy(c->wbuf + c->wlen, p, n);
    c->wlen += n;
}

static void out_u8(conn *c, uint8_t v)
{
    out_bytes(c, &v, 1);
}

static void out_i16(conn *c, int16_t v)
{
    uint8_t b[2] = {(uint8_t)((uint16_t)v >> 8), (uint8_t)v};
    out_bytes(c, b, 2);
}

static void out_i32(conn *c, int32_t v)
{
    uint32_t u = (uint32_t)v;
    uint8_t b[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u};
    out_bytes(c, b, 4);
}

static void out_str(conn *c, const char *s)
{
    out_bytes(c, s, strlen(s) + 1);
}

static void msg_begin(conn *c, char type)
{
    out_u8(c, (uint8_t)type);
    c->msg_start = c->wlen;
    out_i32(c, 0);
}

static void msg_end(conn *c)
{
    uint32_t n = (uint32_t)(c->wlen - c->msg_start);
    uint8_t *p = c->wbuf + c->msg_start;
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
}

static void flush_out(conn *c)
{
    size_t off = 0;
    while (off < c->wlen && !c->io_failed) {
        ssize_t w = send(c->fd, c->wbuf + off, c->wlen - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            c->io_failed = true;
            break;
        }
        off += (size_t)w;
    }
    c->wlen = 0;
}

static void send_error(conn *c, const char *severity, const char *code, const char *text,
                       uint32_t position)
{
    msg_begin(c, 'E');
    out_u8(c, 'S');
    out_str(c, severity);
    out_u8(c, 'V');
    out_str(c, severity);
    out_u8(c, 'C');
    out_str(c, code);
    out_u8(c, 'M');
    out_str(c, text);
    if (position) {
        char pos[16];
        snprintf(pos, sizeof pos, "%u", position);
        out_u8(c, 'P');
        out_str(c, pos);
    }
    out_u8(c, 0);
    msg_end(c);
}

/* A NoticeResponse (severity NOTICE, SQLSTATE 00000). */
static void send_notice(conn *c, const char *text)
{
    msg_begin(c, 'N');
    out_u8(c, 'S');
    out_str(c, "NOTICE");
    out_u8(c, 'V');
    out_str(c, "NOTICE");
    out_u8(c, 'C');
    out_str(c, "00000");
    out_u8(c, 'M');
    out_str(c, text);
    out_u8(c, 0);
    msg_end(c);
}

static void send_param_status(conn *c, const char *name, const char *value)
{
    msg_begin(c, 'S');
    out_str(c, name);
    out_str(c, value);
    msg_end(c);
}

static void send_ready(conn *c)
{
    msg_begin(c, 'Z');
    out_u8(c, (uint8_t)c->txn);
    msg_end(c);
}

static void send_complete(conn *c, const char *tag)
{
    msg_begin(c, 'C');
    out_str(c, tag);
    msg_end(c);
}

static void send_row_description(conn *c, const tw_result *r)
{
    msg_begin(c, 'T');
    out_i16(c, (int16_t)r->ncols);
    for (uint32_t i = 0; i < r->ncols; i++) {
        out_str(c, r->names[i]);
        out_i32(c, 0);
        out_i16(c, 0);
        out_i32(c, (int32_t)tw_pgwire_type_oid(r->types[i]));
        out_i16(c, type_len(r->types[i]));
        out_i32(c, -1);
        out_i16(c, 0);
    }
    msg_end(c);
}

static void send_data_row(conn *c, const tw_batch *b, uint32_t row)
{
    msg_begin(c, 'D');
    out_i16(c, (int16_t)b->ncols);
    for (uint32_t col = 0; col < b->ncols; col++) {
        tw_value v = tw_column_get(&b->cols[col], row);
        if (v.is_null) {
            out_i32(c, -1);
        } else if (v.type == TW_T_VARCHAR) {
            out_i32(c, (int32_t)v.s.len);
            out_bytes(c, v.s.ptr, v.s.len);
        } else {
            char buf[128];
            size_t n = tw_pgwire_format_value(&v, buf, sizeof buf);
            if (n >= sizeof buf)
                n = sizeof buf - 1;
            out_i32(c, (int32_t)n);
            out_bytes(c, buf, n);
        }
    }
    msg_end(c);
    if (c->wlen > (256u << 10))
        flush_out(c);
}

/* ---- server: session parameters --------------------------------------------- */

static const char *const default_params[][2] = {
    {"application_name", ""},
    {"client_encoding", "UTF8"},
    {"DateStyle", "ISO, MDY"},
    {"integer_datetimes", "on"},
    {"IntervalStyle", "postgres"},
    {"is_superuser", "on"},
    {"server_encoding", "UTF8"},
    {"server_version", "13.0.0"},
    {"session_authorization", ""},
    {"standard_conforming_strings", "on"},
    {"TimeZone", "UTC"},
    {"search_path", "public"},
    {"transaction_isolation", "read committed"},
    {"extra_float_digits", "1"},
    {"max_identifier_length", "63"},
};
#define NDEFAULT_PARAMS (sizeof default_params / sizeof *default_params)
#define NREPORTED_PARAMS 11 /* the first ones are sent as ParameterStatus */

static param *find_param(conn *c, const char *name)
{
    for (uint32_t i = 0; i < c->nparams; i++)
        if (!strcasecmp(c->params[i].name, name))
            return &c->params[i];
    return NULL;
}

static void set_param(conn *c, const char *name, const char *value)
{
    param *p = find_param(c, name);
    if (!p) {
        c->params = tw_xrealloc(c->params, (c->nparams + 1) * sizeof *c->params);
        p = &c->params[c->nparams++];
        p->name = tw_xstrdup(name);
        p->value = NULL;
    }
    free(p->value);
    p->value = tw_xstrdup(value);
}

static bool is_reported(const char *name)
{
    for (size_t i = 0; i < NREPORTED_PARAMS; i++)
        if (!strcasecmp(default_params[i][0], name))
            return true;
    return false;
}

/* ---- server: statements ------------------------------------------------------ */

typedef struct outcome {
    tw_result *result; /* rows, when the statement returns some */
    bool returns_rows;
    char tag[96];
    char **notices; /* the engine's notices, sent after the statement ran */
    uint32_t nnotices;
} outcome;

/* A notice of the engine, kept (on the pipeline thread) for the connection's
 * thread to send ahead of the statement's rows or CommandComplete. */
static void collect_notice(void *ctx, const char *message)
{
    outcome *o = ctx;
    o->notices = tw_xrealloc(o->notices, (o->nnotices + 1) * sizeof *o->notices);
    o->notices[o->nnotices++] = tw_xstrdup(message);
}

static void collect_result(void *ctx, tw_result *r)
{
    outcome *o = ctx;
    if (o->result)
        tw_result_free(o->result);
    o->result = r;
}

/* Up to four leading words of a statement, lowercased ("" past the end). */
typedef struct lead {
    char w[4][32];
    tw_sql_tokens toks;
    tw_arena arena;
} lead;

static void lead_init(lead *l, const char *sql, size_t len)
{
    memset(l->w, 0, sizeof l->w);
    tw_arena_init(&l->arena, 4096);
    tw_sql_lex(sql, len < UINT32_MAX ? len : 0, NULL, &l->arena, &l->toks);
    for (uint32_t i = 0, k = 0; i < l->toks.count && k < 4; i++, k++) {
        const tw_sql_token *t = &l->toks.items[i];
        if (t->kind != TW_SQL_TOK_IDENT)
            break;
        snprintf(l->w[k], sizeof l->w[k], "%s", t->str);
    }
}

static void lead_free(lead *l)
{
    tw_sql_tokens_free(&l->toks);
    tw_arena_free(&l->arena);
}

static bool statement_returns_rows(const lead *l)
{
    static const char *const kinds[] = {"select", "show", "describe", "desc", "values", "with",
                                        "table", "explain"};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (!strcmp(l->w[0], kinds[i]))
            return true;
    return false;
}

/* "CREATE_MATERIALIZED_VIEW", "DROP_SINK", ... as RisingWave tags DDL. */
static void ddl_tag(const lead *l, char *tag, size_t cap)
{
    size_t n = 0;
    uint32_t words = 2;
    if (!strcmp(l->w[1], "materialized"))
        words = 3;
    for (uint32_t k = 0; k < words && l->w[k][0]; k++) {
        for (const char *p = l->w[k]; *p && n + 2 < cap; p++)
            tag[n++] = (char)toupper((unsigned char)*p);
        if (k + 1 < words && l->w[k + 1][0] && n + 2 < cap)
            tag[n++] = '_';
    }
    tag[n] = '\0';
}

static bool run_set(conn *c, const lead *l, const char *sql, tw_err *err)
{
    const tw_sql_token *t = l->toks.items;
    uint32_t n = l->toks.count, i = 1;
    if (i < n && t[i].kind == TW_SQL_TOK_IDENT &&
        (!strcmp(t[i].str, "session") || !strcmp(t[i].str, "local")))
        i++;
    char name[64] = "";
    if (i + 1 < n && t[i].kind == TW_SQL_TOK_IDENT && !strcmp(t[i].str, "time") &&
        t[i + 1].kind == TW_SQL_TOK_IDENT && !strcmp(t[i + 1].str, "zone")) {
        snprintf(name, sizeof name, "TimeZone");
        i += 2;
    } else {
        size_t nl = 0;
        while (i < n && (t[i].kind == TW_SQL_TOK_IDENT || t[i].kind == TW_SQL_TOK_QIDENT ||
                         t[i].kind == TW_SQL_TOK_DOT)) {
            const char *s = t[i].kind == TW_SQL_TOK_DOT ? "." : t[i].str;
            int w = snprintf(name + nl, sizeof name - nl, "%s", s);
            if (w < 0 || (size_t)w >= sizeof name - nl)
                return tw_err_set(err, TW_ERR_SYNTAX, "parameter name too long");
            nl += (size_t)w;
            i++;
            if (t[i - 1].kind != TW_SQL_TOK_DOT && (i >= n || t[i].kind != TW_SQL_TOK_DOT))
                break;
        }
        if (!nl)
            return tw_err_set(err, TW_ERR_SYNTAX, "SET needs a parameter name");
        if (i < n && ((t[i].kind == TW_SQL_TOK_OP && !strcmp(t[i].str ? t[i].str : "", "=")) ||
                      (t[i].kind == TW_SQL_TOK_IDENT && !strcmp(t[i].str, "to"))))
            i++;
        else
            return tw_err_set(err, TW_ERR_SYNTAX, "SET %s: expected = or TO", name);
    }
    /* The value: one or more words, numbers or strings, comma separated. */
    char value[256] = "";
    size_t vl = 0;
    for (; i < n && t[i].kind != TW_SQL_TOK_EOF && t[i].kind != TW_SQL_TOK_SEMI; i++) {
        const char *s;
        char tmp[2] = "";
        switch (t[i].kind) {
        case TW_SQL_TOK_IDENT:
        case TW_SQL_TOK_QIDENT:
        case TW_SQL_TOK_STRING:
        case TW_SQL_TOK_INTEGER:
        case TW_SQL_TOK_DECIMAL: s = t[i].str; break;
        case TW_SQL_TOK_COMMA: s = ", "; break;
        case TW_SQL_TOK_OP:
            if (t[i].str && !strcmp(t[i].str, "-")) {
                tmp[0] = '-';
                s = tmp;
                break;
            }
            return tw_err_set(err, TW_ERR_SYNTAX, "SET %s: unexpected operator", name);
        default: return tw_err_set(err, TW_ERR_SYNTAX, "SET %s: unexpected token", name);
        }
        int w = snprintf(value + vl, sizeof value - vl, "%s", s);
        if (w < 0 || (size_t)w >= sizeof value - vl)
            return tw_err_set(err, TW_ERR_CONFIG, "SET %s: value too long", name);
        vl += (size_t)w;
    }
    if (!vl)
        return tw_err_set(err, TW_ERR_SYNTAX, "SET %s needs a value", name);
    (void)sql;
    const char *canonical = name;
    for (size_t k = 0; k < NDEFAULT_PARAMS; k++)
        if (!strcasecmp(default_params[k][0], name))
            canonical = default_params[k][0];
    if (!strcasecmp(value, "default")) {
        for (size_t k = 0; k < NDEFAULT_PARAMS; k++)
            if (!strcasecmp(default_params[k][0], name))
                snprintf(value, sizeof value, "%s", default_params[k][1]);
    }
    if (!strcasecmp(canonical, "client_encoding") && strcasecmp(value, "utf8") &&
        strcasecmp(value, "unicode") && strcasecmp(value, "utf-8"))
        return tw_err_set(err, TW_ERR_UNSUPPORTED,
                          "client_encoding %s is not supported: tidewatch speaks UTF8", value);
    if (!strcasecmp(canonical, "client_encoding"))
        snprintf(value, sizeof value, "UTF8");
    set_param(c, canonical, value);
    if (is_reported(canonical))
        send_param_status(c, canonical, value);
    return true;
}

static tw_result *one_text_value(const char *name, const char *value)
{
    tw_type type = TW_T_VARCHAR;
    tw_result *r = tw_xcalloc(1, sizeof *r);
    r->ncols = 1;
    r->names = tw_xcalloc(1, sizeof *r->names);
    r->names[0] = tw_xstrdup(name);
    r->types = tw_xcalloc(1, sizeof *r->types);
    r->types[0] = type;
    tw_batch *b = tw_batch_new(&type, 1, 1);
    tw_value v = {.type = TW_T_VARCHAR, .is_null = false};
    v.s = tw_batch_strdup(b, value, strlen(value));
    tw_column_put(&b->cols[0], 0, &v);
    b->nrows = 1;
    r->batches = tw_xcalloc(1, sizeof *r->batches);
    r->batches[0] = b;
    r->nbatches = 1;
    r->nrows = 1;
    return r;
}

/* Runs one statement: transaction control, SET and SHOW of session
 * parameters and catalog queries here, everything else on the engine. */
static bool run_statement(conn *c, const char *sql, size_t len, outcome *o, tw_err *err)
{
    memset(o, 0, sizeof *o);
    lead l;
    lead_init(&l, sql, len);
    const char *w0 = l.w[0];
    bool ok = true;
    bool ends_block = !strcmp(w0, "commit") || !strcmp(w0, "end") || !strcmp(w0, "rollback") ||
                      !strcmp(w0, "abort");
    if (c->txn == 'E' && !ends_block) {
        ok = tw_err_set(err, TW_ERR_INTERNAL,
                        "current transaction is aborted, commands ignored until end of "
                        "transaction block");
        goto out;
    }
    if (!strcmp(w0, "begin") || !strcmp(w0, "start")) {
        c->txn = 'T';
        snprintf(o->tag, sizeof o->tag, "BEGIN");
    } else if (ends_block) {
        bool rollback = c->txn == 'E' || !strcmp(w0, "rollback") || !strcmp(w0, "abort");
        c->txn = 'I';
        snprintf(o->tag, sizeof o->tag, "%s", rollback ? "ROLLBACK" : "COMMIT");
    } else if (!strcmp(w0, "set")) {
        ok = run_set(c, &l, sql, err);
        snprintf(o->tag, sizeof o->tag, "SET");
    } else if (!strcmp(w0, "reset") && l.w[1][0]) {
        const char *name = !strcmp(l.w[1], "all") ? NULL : l.w[1];
        for (size_t k = 0; k < NDEFAULT_PARAMS; k++)
            if (!name || !strcasecmp(default_params[k][0], name))
                set_param(c, default_params[k][0], default_params[k][1]);
        snprintf(o->tag, sizeof o->tag, "RESET");
    } else if (!strcmp(w0, "discard")) {
        snprintf(o->tag, sizeof o->tag, "DISCARD ALL");
    } else if (!strcmp(w0, "show") && l.w[1][0] && strcmp(l.w[1], "sources") &&
               strcmp(l.w[1], "materialized") && strcmp(l.w[1], "sinks") &&
               strcmp(l.w[1], "connections") && strcmp(l.w[1], "tables")) {
        const char *name = l.w[1];
        if (!strcmp(name, "time") && !strcmp(l.w[2], "zone"))
            name = "timezone";
        param *p = find_param(c, name);
        if (!p) {
            ok = tw_err_set(err, TW_ERR_BIND, "unrecognized configuration parameter \"%s\"",
                            name);
            goto out;
        }
        o->result = one_text_value(p->name, p->value);
        o->returns_rows = true;
        snprintf(o->tag, sizeof o->tag, "SHOW");
    } else {
        o->returns_rows = statement_returns_rows(&l);
        tw_pgcat_outcome cat = TW_PGCAT_NOT_MINE;
        if (!strcmp(w0, "select"))
            cat = tw_pgcat_answer(c->srv->engine, sql, len, &o->result, err);
        if (cat == TW_PGCAT_ERROR) {
            ok = false;
        } else if (cat == TW_PGCAT_NOT_MINE) {
            o->notices = NULL;
            o->nnotices = 0;
            ok = tw_engine_exec_sync_notices(c->srv->engine, sql, len, "<pgwire>",
                                             collect_result, collect_notice, o, err);
            for (uint32_t k = 0; k < o->nnotices; k++) {
                send_notice(c, o->notices[k]);
                free(o->notices[k]);
            }
            free(o->notices);
            o->notices = NULL;
        }
        if (ok && o->returns_rows && !o->result)
            o->returns_rows = false;
        if (!ok) {
            if (o->result)
                tw_result_free(o->result);
            o->result = NULL;
        } else if (!strcmp(w0, "select") || !strcmp(w0, "values") || !strcmp(w0, "with") ||
                   !strcmp(w0, "table")) {
            snprintf(o->tag, sizeof o->tag, "SELECT %llu",
                     (unsigned long long)(o->result ? o->result->nrows : 0));
        } else if (!strcmp(w0, "create") || !strcmp(w0, "drop")) {
            ddl_tag(&l, o->tag, sizeof o->tag);
        } else {
            snprintf(o->tag, sizeof o->tag, "%s", w0);
            for (char *p = o->tag; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        }
    }
out:
    if (!ok && c->txn == 'T')
        c->txn = 'E';
    lead_free(&l);
    return ok;
}

/* Statement spans of a script: split at ';' tokens (outside strings and
 * comments); spans without tokens are dropped. After a lexical error the
 * rest is one span, so that the engine reports the error. */
typedef struct span {
    size_t start, end;
} span;

static span *split_statements(const char *sql, size_t len, uint32_t *count)
{
    tw_arena arena;
    tw_arena_init(&arena, 4096);
    tw_sql_tokens toks;
    tw_sql_lex(sql, len, NULL, &arena, &toks);
    span *spans = tw_xcalloc((size_t)toks.count + 1, sizeof *spans);
    uint32_t n = 0, tokens_in_span = 0;
    size_t start = 0;
    for (uint32_t i = 0; i < toks.count; i++) {
        const tw_sql_token *t = &toks.items[i];
        if (t->kind == TW_SQL_TOK_ERROR) {
            spans[n++] = (span){start, len};
            tokens_in_span = 0;
            break;
        }
        if (t->kind == TW_SQL_TOK_SEMI || t->kind == TW_SQL_TOK_EOF) {
            if (tokens_in_span)
                spans[n++] = (span){start, t->kind == TW_SQL_TOK_EOF ? len : t->loc};
            start = t->end;
            tokens_in_span = 0;
            continue;
        }
        tokens_in_span++;
    }
    tw_sql_tokens_free(&toks);
    tw_arena_free(&arena);
    *count = n;
    return spans;
}

static uint32_t char_offset(const char *s, size_t bytes)
{
    uint32_t n = 0;
    for (size_t i = 0; i < bytes; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

/* Sends the error for a statement at byte offset stmt_start of query. */
static void send_statement_error(conn *c, const tw_err *err, const char *query, size_t stmt_start,
                                 size_t stmt_len)
{
    char text[1024];
    uint32_t off = tw_pgwire_error_offset(err->msg, query + stmt_start, stmt_len, text,
                                          sizeof text);
    uint32_t pos = 0;
    if (off)
        pos = char_offset(query, stmt_start + off - 1) + 1;
    send_error(c, "ERROR", tw_pgwire_sqlstate(err), text, pos);
}

static void send_outcome_rows(conn *c, outcome *o)
{
    if (!o->result)
        return;
    for (uint32_t b = 0; b < o->result->nbatches && !c->io_failed; b++)
        for (uint32_t r = 0; r < o->result->batches[b]->nrows; r++)
            send_data_row(c, o->result->batches[b], r);
}

static void handle_query(conn *c, const char *sql, size_t len)
{
    uint32_t n;
    span *spans = split_statements(sql, len, &n);
    if (!n) {
        msg_begin(c, 'I');
        msg_end(c);
    }
    for (uint32_t i = 0; i < n && !c->io_failed; i++) {
        outcome o;
        tw_err err;
        tw_err_clear(&err);
        size_t slen = spans[i].end - spans[i].start;
        if (!run_statement(c, sql + spans[i].start, slen, &o, &err)) {
            send_statement_error(c, &err, sql, spans[i].start, slen);
            break;
        }
        if (o.returns_rows) {
            send_row_description(c, o.result);
            send_outcome_rows(c, &o);
        }
        send_complete(c, o.tag);
        if (o.result)
            tw_result_free(o.result);
    }
    free(spans);
    send_ready(c);
}

/* ---- server: extended query -------------------------------------------------- */

static void prepared_free(prepared *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->sql);
    free(p->types);
    free(p);
}

static void portal_free(portal *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->sql);
    if (p->result)
        tw_result_free(p->result);
    free(p);
}

static int find_stmt(conn *c, const char *name)
{
    for (uint32_t i = 0; i < c->nstmts; i++)
        if (!strcmp(c->stmts[i]->name, name))
            return (int)i;
    return -1;
}

static int find_portal(conn *c, const char *name)
{
    for (uint32_t i = 0; i < c->nportals; i++)
        if (!strcmp(c->portals[i]->name, name))
            return (int)i;
    return -1;
}

static void drop_stmt(conn *c, int i)
{
    prepared_free(c->stmts[i]);
    c->stmts[i] = c->stmts[--c->nstmts];
}

static void drop_portal(conn *c, int i)
{
    portal_free(c->portals[i]);
    c->portals[i] = c->portals[--c->nportals];
}

static void extended_error(conn *c, const char *code, const char *text)
{
    send_error(c, "ERROR", code, text, 0);
    c->skip_until_sync = true;
    if (c->txn == 'T')
        c->txn = 'E';
}

static void extended_engine_error(conn *c, const tw_err *err, const char *sql, size_t len)
{
    send_statement_error(c, err, sql, 0, len);
    c->skip_until_sync = true;
    if (c->txn == 'T')
        c->txn = 'E';
}

static void handle_parse(conn *c, const tw_pgwire_msg *m)
{
    const char *name = m->u.parse.name;
    int existing = find_stmt(c, name);
    if (existing >= 0) {
        if (*name) {
            char text[160];
            snprintf(text, sizeof text, "prepared statement \"%.64s\" already exists", name);
            extended_error(c, "42P05", text);
            return;
        }
        drop_stmt(c, existing);
    }
    uint32_t nspans;
    span *spans = split_statements(m->u.parse.sql, m->u.parse.sql_len, &nspans);
    free(spans);
    if (nspans > 1) {
        extended_error(c, "42601", "cannot insert multiple commands into a prepared statement");
        return;
    }
    prepared *p = tw_xcalloc(1, sizeof *p);
    p->name = tw_xstrdup(name);
    p->len = m->u.parse.sql_len;
    p->sql = tw_xmalloc(p->len + 1);
    memcpy(p->sql, m->u.parse.sql, p->len + 1);
    p->ntypes = m->u.parse.nparam_types;
    p->types = tw_xcalloc((size_t)p->ntypes + 1, sizeof *p->types);
    memcpy(p->types, m->u.parse.param_types, p->ntypes * sizeof *p->types);
    p->nparams = tw_pgwire_param_count(p->sql, p->len);
    if (p->ntypes > p->nparams)
        p->nparams = p->ntypes;
    c->stmts = tw_xrealloc(c->stmts, (c->nstmts + 1) * sizeof *c->stmts);
    c->stmts[c->nstmts++] = p;
    msg_begin(c, '1');
    msg_end(c);
}

static void handle_bind(conn *c, const tw_pgwire_msg *m)
{
    int si = find_stmt(c, m->u.bind.stmt);
    if (si < 0) {
        char text[160];
        snprintf(text, sizeof text, "prepared statement \"%.64s\" does not exist", m->u.bind.stmt);
        extended_error(c, "26000", text);
        return;
    }
    prepared *p = c->stmts[si];
    for (uint32_t i = 0; i < m->u.bind.nparam_formats; i++)
        if (m->u.bind.param_formats[i] != 0) {
            extended_error(c, "0A000", "binary parameters are not supported: send text");
            return;
        }
    for (uint32_t i = 0; i < m->u.bind.nresult_formats; i++)
        if (m->u.bind.result_formats[i] != 0) {
            extended_error(c, "0A000", "binary results are not supported: ask for text");
            return;
        }
    if (m->u.bind.nparams != p->nparams) {
        char text[160];
        snprintf(text, sizeof text,
                 "bind message supplies %u parameters, but prepared statement \"%.64s\" requires "
                 "%u",
                 m->u.bind.nparams, p->name, p->nparams);
        extended_error(c, "08P01", text);
        return;
    }
    tw_err err;
    tw_err_clear(&err);
    size_t len;
    char *sql = tw_pgwire_substitute(p->sql, p->len, p->types, p->ntypes, m->u.bind.params,
                                     m->u.bind.nparams, &len, &err);
    if (!sql) {
        extended_error(c, tw_pgwire_sqlstate(&err), err.msg);
        return;
    }
    int existing = find_portal(c, m->u.bind.portal);
    if (existing >= 0)
        drop_portal(c, existing);
    portal *po = tw_xcalloc(1, sizeof *po);
    po->name = tw_xstrdup(m->u.bind.portal);
    po->sql = sql;
    po->len = len;
    lead l;
    lead_init(&l, sql, len);
    po->returns_rows = statement_returns_rows(&l);
    lead_free(&l);
    c->portals = tw_xrealloc(c->portals, (c->nportals + 1) * sizeof *c->portals);
    c->portals[c->nportals++] = po;
    msg_begin(c, '2');
    msg_end(c);
}

static bool portal_run(conn *c, portal *po)
{
    if (po->executed)
        return true;
    outcome o;
    tw_err err;
    tw_err_clear(&err);
    if (!run_statement(c, po->sql, po->len, &o, &err)) {
        extended_engine_error(c, &err, po->sql, po->len);
        return false;
    }
    po->executed = true;
    po->result = o.result;
    po->returns_rows = o.returns_rows;
    snprintf(po->tag, sizeof po->tag, "%s", o.tag);
    return true;
}

static void send_parameter_description(conn *c, const prepared *p)
{
    msg_begin(c, 't');
    out_i16(c, (int16_t)p->nparams);
    for (uint32_t i = 0; i < p->nparams; i++)
        out_i32(c, (int32_t)(i < p->ntypes && p->types[i] ? p->types[i] : OID_VARCHAR));
    msg_end(c);
}

static void handle_describe(conn *c, const tw_pgwire_msg *m)
{
    char text[160];
    if (m->u.target.what == 'P') {
        int pi = find_portal(c, m->u.target.name);
        if (pi < 0) {
            snprintf(text, sizeof text, "portal \"%.64s\" does not exist", m->u.target.name);
            extended_error(c, "34000", text);
            return;
        }
        portal *po = c->portals[pi];
        /* Rows are only known by running the query: run it now, send at Execute. */
        if (po->returns_rows && !portal_run(c, po))
            return;
        if (po->returns_rows && po->result) {
            send_row_description(c, po->result);
        } else {
            msg_begin(c, 'n');
            msg_end(c);
        }
        return;
    }
    int si = find_stmt(c, m->u.target.name);
    if (si < 0) {
        snprintf(text, sizeof text, "prepared statement \"%.64s\" does not exist",
                 m->u.target.name);
        extended_error(c, "26000", text);
        return;
    }
    prepared *p = c->stmts[si];
    send_parameter_description(c, p);
    /* The columns: run the query with every parameter NULL (queries have no
     * side effects); when that fails, say there are no columns. */
    lead l;
    lead_init(&l, p->sql, p->len);
    bool rows = statement_returns_rows(&l) && strcmp(l.w[0], "explain");
    lead_free(&l);
    tw_result *res = NULL;
    if (rows) {
        tw_pgwire_value *nulls = tw_xcalloc((size_t)p->nparams + 1, sizeof *nulls);
        for (uint32_t i = 0; i < p->nparams; i++)
            nulls[i].len = -1;
        tw_err err;
        tw_err_clear(&err);
        size_t len;
        char *sql = tw_pgwire_substitute(p->sql, p->len, NULL, 0, nulls, p->nparams, &len, &err);
        free(nulls);
        char saved = c->txn;
        outcome o;
        if (sql && run_statement(c, sql, len, &o, &err))
            res = o.result;
        c->txn = saved;
        free(sql);
    }
    if (res) {
        send_row_description(c, res);
        tw_result_free(res);
    } else {
        msg_begin(c, 'n');
        msg_end(c);
    }
}

static void handle_execute(conn *c, const tw_pgwire_msg *m)
{
    int pi = find_portal(c, m->u.execute.portal);
    if (pi < 0) {
        char text[160];
        snprintf(text, sizeof text, "portal \"%.64s\" does not exist", m->u.execute.portal);
        extended_error(c, "34000", text);
        return;
    }
    portal *po = c->portals[pi];
    if (!po->executed) {
        if (!portal_run(c, po))
            return;
    }
    if (po->result) {
        uint64_t limit = m->u.execute.max_rows > 0 ? (uint64_t)m->u.execute.max_rows : UINT64_MAX;
        uint64_t sent = 0;
        while (po->batch < po->result->nbatches && sent < limit && !c->io_failed) {
            tw_batch *b = po->result->batches[po->batch];
            if (po->row >= b->nrows) {
                po->batch++;
                po->row = 0;
                continue;
            }
            send_data_row(c, b, po->row++);
            sent++;
        }
        po->sent += sent;
        while (po->batch < po->result->nbatches &&
               po->row >= po->result->batches[po->batch]->nrows) {
            po->batch++;
            po->row = 0;
        }
        if (po->batch < po->result->nbatches) {
            msg_begin(c, 's');
            msg_end(c);
            return;
        }
    }
    send_complete(c, po->tag);
}

static void handle_close(conn *c, const tw_pgwire_msg *m)
{
    if (m->u.target.what == 'S') {
        int si = find_stmt(c, m->u.target.name);
        if (si >= 0)
            drop_stmt(c, si);
    } else {
        int pi = find_portal(c, m->u.target.name);
        if (pi >= 0)
            drop_portal(c, pi);
    }
    msg_begin(c, '3');
    msg_end(c);
}

static void handle_sync(conn *c)
{
    c->skip_until_sync = false;
    if (c->txn == 'I')
        while (c->nportals)
            drop_portal(c, (int)c->nportals - 1);
    send_ready(c);
    flush_out(c);
}

/* ---- server: SCRAM-SHA-256 (RFC 5802, RFC 7677) ------------------------- */

typedef struct scram {
    char client_first_bare[512];
    char server_first[512];
    char nonce[256];
    char gs2_b64[16];
} scram;

static void hmac_sha256(const uint8_t *key, size_t klen, const void *data, size_t dlen,
                        uint8_t out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)klen, data, dlen, out, &n);
}

static void b64(const uint8_t *in, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static bool scram_keys(tw_pgwire *s, const char *password)
{
    uint8_t salted[32], client_key[32];
    if (RAND_bytes(s->salt, sizeof s->salt) != 1 ||
        PKCS5_PBKDF2_HMAC(password, (int)strlen(password), s->salt, sizeof s->salt, 4096,
                          EVP_sha256(), 32, salted) != 1)
        return false;
    hmac_sha256(salted, 32, "Client Key", 10, client_key);
    SHA256(client_key, 32, s->stored_key);
    hmac_sha256(salted, 32, "Server Key", 10, s->server_key);
    return true;
}

/* Reads the next message during authentication: 'p' only. */
static bool read_message(conn *c, bool startup, tw_pgwire_msg *m, size_t *consumed);

static void send_auth(conn *c, int32_t code, const char *data, size_t n)
{
    msg_begin(c, 'R');
    out_i32(c, code);
    if (data)
        out_bytes(c, data, n);
    msg_end(c);
}

/* The value of attribute `key` ("r", "p", ...) in a comma list, or NULL. */
static const char *scram_attr(const char *s, char key, char *out, size_t cap)
{
    for (const char *p = s; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        if (p[0] == key && p[1] == '=') {
            size_t n = strcspn(p + 2, ",");
            if (n >= cap)
                return NULL;
            memcpy(out, p + 2, n);
            out[n] = '\0';
            return out;
        }
    }
    return NULL;
}

static bool scram_exchange(conn *c)
{
    tw_pgwire *s = c->srv;
    scram sc;
    memset(&sc, 0, sizeof sc);
    static const char mech[] = "SCRAM-SHA-256\0";
    send_auth(c, 10, mech, sizeof mech);
    flush_out(c);
    tw_pgwire_msg m;
    size_t used;
    if (!read_message(c, false, &m, &used))
        return false;
    bool ok = false;
    char buf[1024];
    if (m.kind != TW_PGWIRE_PASSWORD)
        goto fail;
    {
        reader r = {m.u.password.data, m.u.password.data + m.u.password.len, true};
        const char *mechanism = rd_str(&r);
        int32_t n = rd_i32(&r);
        if (!r.ok || strcmp(mechanism, "SCRAM-SHA-256") || n < 0 || n >= (int32_t)sizeof buf ||
            (size_t)n != (size_t)(r.end - r.p))
            goto fail;
        memcpy(buf, r.p, (size_t)n);
        buf[n] = '\0';
    }
    /* gs2 header: "n,," or "y,,"; channel binding ("p=") is not offered. */
    if ((buf[0] != 'n' && buf[0] != 'y') || buf[1] != ',' || buf[2] != ',')
        goto fail;
    snprintf(sc.gs2_b64, sizeof sc.gs2_b64, "%s", buf[0] == 'n' ? "biws" : "eSws");
    if (strlen(buf + 3) >= sizeof sc.client_first_bare)
        goto fail;
    memcpy(sc.client_first_bare, buf + 3, strlen(buf + 3) + 1);
    char cnonce[200];
    if (!scram_attr(sc.client_first_bare, 'r', cnonce, sizeof cnonce) || !*cnonce)
        goto fail;
    uint8_t rnd[18];
    char snonce[32];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        goto fail;
    b64(rnd, sizeof rnd, snonce);
    snprintf(sc.nonce, sizeof sc.nonce, "%s%s", cnonce, snonce);
    char salt64[32];
    b64(s->salt, sizeof s->salt, salt64);
    snprintf(sc.server_first, sizeof sc.server_first, "r=%s,s=%s,i=4096", sc.nonce, salt64);
    tw_pgwire_msg_free(&m);
    memmove(c->rbuf, c->rbuf + used, c->rlen - used);
    c->rlen -= used;
    send_auth(c, 11, sc.server_first, strlen(sc.server_first));
    flush_out(c);
    if (!read_message(c, false, &m, &used))
        return false;
    if (m.kind != TW_PGWIRE_PASSWORD || m.u.password.len >= sizeof buf)
        goto fail;
    memcpy(buf, m.u.password.data, m.u.password.len);
    buf[m.u.password.len] = '\0';
    {
        char cb[32], nonce[256], proof64[128];
        const char *proof_at = strstr(buf, ",p=");
        if (!proof_at || !scram_attr(buf, 'c', cb, sizeof cb) ||
            !scram_attr(buf, 'r', nonce, sizeof nonce) ||
            !scram_attr(proof_at + 1, 'p', proof64, sizeof proof64) || strcmp(cb, sc.gs2_b64) ||
            strcmp(nonce, sc.nonce) || strlen(proof64) != 44)
            goto fail;
        char auth_message[1600];
        int an = snprintf(auth_message, sizeof auth_message, "%s,%s,%.*s", sc.client_first_bare,
                          sc.server_first, (int)(proof_at - buf), buf);
        if (an < 0 || (size_t)an >= sizeof auth_message)
            goto fail;
        uint8_t proof[36], signature[32], client_key[32], check[32];
        if (EVP_DecodeBlock(proof, (const unsigned char *)proof64, 44) != 33)
            goto fail;
        hmac_sha256(s->stored_key, 32, auth_message, (size_t)an, signature);
        for (int i = 0; i < 32; i++)
            client_key[i] = proof[i] ^ signature[i];
        SHA256(client_key, 32, check);
        if (CRYPTO_memcmp(check, s->stored_key, 32) != 0)
            goto fail;
        uint8_t server_sig[32];
        hmac_sha256(s->server_key, 32, auth_message, (size_t)an, server_sig);
        char final_msg[64] = "v=";
        b64(server_sig, 32, final_msg + 2);
        send_auth(c, 12, final_msg, strlen(final_msg));
        ok = true;
    }
fail:
    tw_pgwire_msg_free(&m);
    memmove(c->rbuf, c->rbuf + used, c->rlen - used);
    c->rlen -= used;
    if (!ok) {
        char text[160];
        snprintf(text, sizeof text, "password authentication failed for user \"%.64s\"",
                 c->user);
        send_error(c, "FATAL", "28P01", text, 0);
        flush_out(c);
    }
    return ok;
}

/* ---- server: connection loop ------------------------------------------------- */

/* Reads until one whole message is buffered and parses it; *consumed is
 * its size in rbuf. Returns false when the peer is gone or sent garbage (an
 * error has then been sent where the peer can read it). */
static bool read_message(conn *c, bool startup, tw_pgwire_msg *m, size_t *consumed)
{
    for (;;) {
        size_t n;
        tw_err err;
        tw_err_clear(&err);
        tw_pgwire_frame_status st = tw_pgwire_frame(c->rbuf, c->rlen, startup, &n, &err);
        if (st == TW_PGWIRE_BAD_FRAME) {
            send_error(c, "FATAL", "08P01", err.msg, 0);
            flush_out(c);
            return false;
        }
        if (st == TW_PGWIRE_FRAMED) {
            *consumed = n;
            if (tw_pgwire_parse(c->rbuf, n, startup, m, &err))
                return true;
            send_error(c, "FATAL", err.code == TW_ERR_UNSUPPORTED ? "0A000" : "08P01", err.msg,
                       0);
            flush_out(c);
            return false;
        }
        if (c->wlen)
            flush_out(c);
        if (c->io_failed)
            return false;
        if (c->rcap - c->rlen < 4096) {
            c->rcap = c->rcap ? c->rcap * 2 : 16384;
            c->rbuf = tw_xrealloc(c->rbuf, c->rcap);
        }
        ssize_t got = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        c->rlen += (size_t)got;
    }
}

static void consume(conn *c, size_t n)
{
    memmove(c->rbuf, c->rbuf + n, c->rlen - n);
    c->rlen -= n;
}

/* Startup: encryption requests answered 'N', the startup packet, auth. */
static bool startup(conn *c)
{
    for (;;) {
        tw_pgwire_msg m;
        size_t used;
        if (!read_message(c, true, &m, &used))
            return false;
        if (m.kind == TW_PGWIRE_SSL_REQUEST || m.kind == TW_PGWIRE_GSSENC_REQUEST) {
            consume(c, used);
            out_u8(c, 'N');
            flush_out(c);
            continue;
        }
        if (m.kind == TW_PGWIRE_CANCEL) {
            /* Statements run to completion on the pipeline thread: a cancel
             * is accepted and has no effect. */
            return false;
        }
        const char *app = "";
        for (uint32_t i = 0; i < m.u.startup.nparams; i++) {
            if (!strcmp(m.u.startup.keys[i], "user"))
                snprintf(c->user, sizeof c->user, "%s", m.u.startup.values[i]);
            else if (!strcmp(m.u.startup.keys[i], "application_name"))
                app = m.u.startup.values[i];
        }
        for (size_t i = 0; i < NDEFAULT_PARAMS; i++)
            set_param(c, default_params[i][0], default_params[i][1]);
        set_param(c, "application_name", app);
        set_param(c, "session_authorization", c->user);
        tw_pgwire_msg_free(&m);
        consume(c, used);
        break;
    }
    if (c->srv->scram && !scram_exchange(c))
        return false;
    send_auth(c, 0, NULL, 0);
    for (size_t i = 0; i < NREPORTED_PARAMS; i++)
        send_param_status(c, default_params[i][0], find_param(c, default_params[i][0])->value);
    msg_begin(c, 'K');
    out_i32(c, c->pid);
    out_i32(c, c->secret);
    msg_end(c);
    send_ready(c);
    flush_out(c);
    return !c->io_failed;
}

static void serve_connection(conn *c)
{
    if (!startup(c))
        return;
    for (;;) {
        tw_pgwire_msg m;
        size_t used;
        if (!read_message(c, false, &m, &used))
            return;
        bool terminate = m.kind == TW_PGWIRE_TERMINATE;
        if (c->skip_until_sync && m.kind != TW_PGWIRE_SYNC) {
            /* After an error in an extended-query batch, up to Sync. */
        } else {
            switch (m.kind) {
            case TW_PGWIRE_QUERY: handle_query(c, m.u.query.sql, m.u.query.len); break;
            case TW_PGWIRE_PARSE: handle_parse(c, &m); break;
            case TW_PGWIRE_BIND: handle_bind(c, &m); break;
            case TW_PGWIRE_DESCRIBE: handle_describe(c, &m); break;
            case TW_PGWIRE_EXECUTE: handle_execute(c, &m); break;
            case TW_PGWIRE_CLOSE: handle_close(c, &m); break;
            case TW_PGWIRE_SYNC: handle_sync(c); break;
            case TW_PGWIRE_FLUSH: flush_out(c); break;
            case TW_PGWIRE_TERMINATE: break;
            default:
                send_error(c, "FATAL", "08P01", "unexpected message during a session", 0);
                terminate = true;
            }
        }
        tw_pgwire_msg_free(&m);
        consume(c, used);
        if (terminate || c->io_failed)
            return;
    }
}

static void conn_free(conn *c)
{
    while (c->nstmts)
        drop_stmt(c, (int)c->nstmts - 1);
    while (c->nportals)
        drop_portal(c, (int)c->nportals - 1);
    for (uint32_t i = 0; i < c->nparams; i++) {
        free(c->params[i].name);
        free(c->params[i].value);
    }
    free(c->params);
    free(c->stmts);
    free(c->portals);
    free(c->rbuf);
    free(c->wbuf);
    free(c);
}

static void *conn_main(void *arg)
{
    conn *c = arg;
    serve_connection(c);
    flush_out(c);
    shutdown(c->fd, SHUT_RDWR);
    pthread_mutex_lock(&c->srv->mu);
    c->finished = true;
    pthread_mutex_unlock(&c->srv->mu);
    return NULL;
}

/* Joins and frees finished connections; with all, closes and joins every one. */
static void reap(tw_pgwire *s, bool all)
{
    pthread_mutex_lock(&s->mu);
    conn **link = &s->conns;
    while (*link) {
        conn *c = *link;
        if (!all && !c->finished) {
            link = &c->next;
            continue;
        }
        *link = c->next;
        s->nconns--;
        if (!c->finished)
            shutdown(c->fd, SHUT_RDWR);
        pthread_mutex_unlock(&s->mu);
        pthread_join(c->thread, NULL);
        close(c->fd);
        conn_free(c);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
}

static void refuse(int fd, const char *code, const char *text)
{
    conn tmp = {.fd = fd};
    send_error(&tmp, "FATAL", code, text, 0);
    flush_out(&tmp);
    free(tmp.wbuf);
    close(fd);
}

static void *accept_main(void *arg)
{
    tw_pgwire *s = arg;
    for (;;) {
        struct pollfd fds[2] = {{s->listen_fd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
        if (poll(fds, 2, 1000) < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        reap(s, false);
        if (!(fds[0].revents & POLLIN))
            continue;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_mutex_lock(&s->mu);
        bool full = s->nconns >= s->max_connections;
        pthread_mutex_unlock(&s->mu);
        if (full) {
            refuse(fd, "53300", "sorry, too many clients already");
            continue;
        }
        conn *c = tw_xcalloc(1, sizeof *c);
        c->srv = s;
        c->fd = fd;
        c->txn = 'I';
        RAND_bytes((unsigned char *)&c->secret, sizeof c->secret);
        pthread_mutex_lock(&s->mu);
        c->pid = (int32_t)++s->next_pid;
        if (pthread_create(&c->thread, NULL, conn_main, c) != 0) {
            pthread_mutex_unlock(&s->mu);
            refuse(fd, "53000", "cannot start a connection thread");
            conn_free(c);
            continue;
        }
        c->next = s->conns;
        s->conns = c;
        s->nconns++;
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

/* ---- server: start, stop ------------------------------------------------------ */

void tw_pgwire_opts_default(tw_pgwire_opts *o)
{
    memset(o, 0, sizeof *o);
    o->addr = "127.0.0.1:4566";
    o->max_connections = 64;
}

static bool parse_listen_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *sslen,
                              bool *loopback, tw_err *err)
{
    const char *colon = strrchr(addr, ':');
    char host[64];
    if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof host)
        return tw_err_set(err, TW_ERR_CONFIG,
                          "--pg '%s': expected HOST:PORT such as 127.0.0.1:4566", addr);
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535)
        return tw_err_set(err, TW_ERR_CONFIG, "--pg '%s': port must be 0..65535", addr);
    memset(ss, 0, sizeof *ss);
    size_t hl = strlen(host);
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            return tw_err_set(err, TW_ERR_CONFIG, "--pg '%s': bad IPv6 address", addr);
        *loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
        *sslen = sizeof *a6;
        return true;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (!strcmp(host, "localhost"))
        snprintf(host, sizeof host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        return tw_err_set(err, TW_ERR_CONFIG,
                          "--pg '%s': host must be an IPv4 address, localhost or [IPv6]", addr);
    *loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
    *sslen = sizeof *a4;
    return true;
}

tw_pgwire *tw_pgwire_start(tw_engine *engine, const tw_pgwire_opts *opts, tw_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    bool loopback = false;
    if (!parse_listen_addr(opts->addr, &ss, &sslen, &loopback, err))
        return NULL;
    bool has_password = opts->password && *opts->password;
    if (!loopback && !has_password) {
        tw_err_set(err, TW_ERR_CONFIG,
                   "--pg %s: listening beyond this machine needs a password (--pg-password or "
                   "TIDEWATCH_PG_PASSWORD)",
                   opts->addr);
        return NULL;
    }
    tw_pgwire *s = tw_xcalloc(1, sizeof *s);
    s->engine = engine;
    s->max_connections = opts->max_connections ? opts->max_connections : 64;
    s->wake[0] = s->wake[1] = -1;
    pthread_mutex_init(&s->mu, NULL);
    s->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (s->listen_fd >= 0)
        setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&ss, sslen) != 0 ||
        listen(s->listen_fd, 64) != 0) {
        tw_err_set(err, TW_ERR_IO,
                   "--pg %s: cannot listen there (%s); choose another address with --pg, or "
                   "--pg off",
                   opts->addr, strerror(errno));
        goto fail;
    }
    if (has_password) {
        s->scram = true;
        if (!scram_keys(s, opts->password)) {
            tw_err_set(err, TW_ERR_INTERNAL, "--pg-password: cannot derive the SCRAM keys");
            goto fail;
        }
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    getsockname(s->listen_fd, (struct sockaddr *)&bound, &blen);
    char host[INET6_ADDRSTRLEN];
    if (bound.ss_family == AF_INET6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&bound;
        inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof host);
        snprintf(s->addr, sizeof s->addr, "[%s]:%u", host, ntohs(a6->sin6_port));
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&bound;
        inet_ntop(AF_INET, &a4->sin_addr, host, sizeof host);
        snprintf(s->addr, sizeof s->addr, "%s:%u", host, ntohs(a4->sin_port));
    }
    if (pipe(s->wake) != 0 || pthread_create(&s->accept_thread, NULL, accept_main, s) != 0) {
        tw_err_set(err, TW_ERR_INTERNAL, "--pg: cannot start the server thread");
        goto fail;
    }
    return s;
fail:
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->wake[0] >= 0) {
        close(s->wake[0]);
        close(s->wake[1]);
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
    return NULL;
}

const char *tw_pgwire_addr(const tw_pgwire *s)
{
    return s->addr;
}

void tw_pgwire_stop(tw_pgwire *s)
{
    if (!s)
        return;
    ssize_t w;
    do
        w = write(s->wake[1], "x", 1);
    while (w < 0 && errno == EINTR);
    pthread_join(s->accept_thread, NULL);
    close(s->listen_fd);
    reap(s, true);
    close(s->wake[0]);
    close(s->wake[1]);
    pthread_mutex_destroy(&s->mu);
    OPENSSL_cleanse(s->server_key, sizeof s->server_key);
    OPENSSL_cleanse(s->stored_key, sizeof s->stored_key);
    free(s);
}

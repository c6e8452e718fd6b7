/* pgwire.h - the PostgreSQL v3 wire protocol: psql, libpq and drivers.
 *
 * Two layers. The protocol layer is pure: it frames bytes into messages,
 * parses each message into a tw_pgwire_msg, and substitutes text-format
 * parameters into SQL as literals; it owns nothing but the arrays it
 * allocates into a message, and the fuzzer (tests/fuzz/fuzz_pgwire.c) drives
 * it directly. The server layer (tw_pgwire_start) listens on a TCP address,
 * runs one thread per connection and executes statements on a running engine
 * through tw_engine_exec_sync; it owns its sockets, threads and session
 * state. docs/pgwire.md lists what is supported.
 */
#ifndef TW_SERVE_PGWIRE_H
#define TW_SERVE_PGWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "exec/engine.h"
#include "exec/expr.h"

/* Largest message accepted from a client (length word included). */
#define TW_PGWIRE_MAX_MESSAGE_BYTES (64u << 20)

/* ---- protocol ------------------------------------------------------------ */

typedef enum tw_pgwire_frame_status {
    TW_PGWIRE_NEED_MORE, /* not a whole message yet */
    TW_PGWIRE_FRAMED,    /* *msg_bytes bytes form one message */
    TW_PGWIRE_BAD_FRAME, /* a length no message can have: drop the connection */
} tw_pgwire_frame_status;

/* Finds the first message in buf[0..len). A startup-phase message (startup,
 * SSLRequest, GSSENCRequest, CancelRequest) has no type byte: pass startup
 * true before the startup packet was read. On TW_PGWIRE_FRAMED, *msg_bytes
 * is the message's whole size (type byte and length word included); on
 * TW_PGWIRE_BAD_FRAME err says why. */
tw_pgwire_frame_status tw_pgwire_frame(const uint8_t *buf, size_t len, bool startup,
                                       size_t *msg_bytes, tw_err *err);

typedef enum tw_pgwire_msg_kind {
    TW_PGWIRE_STARTUP,
    TW_PGWIRE_SSL_REQUEST,
    TW_PGWIRE_GSSENC_REQUEST,
    TW_PGWIRE_CANCEL,
    TW_PGWIRE_QUERY,
    TW_PGWIRE_PARSE,
    TW_PGWIRE_BIND,
    TW_PGWIRE_DESCRIBE,
    TW_PGWIRE_EXECUTE,
    TW_PGWIRE_CLOSE,
    TW_PGWIRE_SYNC,
    TW_PGWIRE_FLUSH,
    TW_PGWIRE_TERMINATE,
    TW_PGWIRE_PASSWORD, /* 'p': password, SASLInitialResponse or SASLResponse */
} tw_pgwire_msg_kind;

/* A parameter value as sent: len -1 is SQL NULL. Not NUL-terminated. */
typedef struct tw_pgwire_value {
    const char *ptr;
    int32_t len;
} tw_pgwire_value;

/* A parsed message. Strings point into the message bytes (NUL-terminated
 * there) and live as long as they do; arrays are allocated by the parser
 * and released by tw_pgwire_msg_free. */
typedef struct tw_pgwire_msg {
    tw_pgwire_msg_kind kind;
    union {
        struct {
            uint32_t version; /* 196608 for 3.0 */
            const char **keys, **values;
            uint32_t nparams;
        } startup;
        struct {
            int32_t pid, secret;
        } cancel;
        struct {
            const char *sql;
            size_t len;
        } query;
        struct {
            const char *name;
            const char *sql;
            size_t sql_len;
            uint32_t *param_types;
            uint16_t nparam_types;
        } parse;
        struct {
            const char *portal, *stmt;
            int16_t *param_formats;
            uint16_t nparam_formats;
            tw_pgwire_value *params;
            uint16_t nparams;
            int16_t *result_formats;
            uint16_t nresult_formats;
        } bind;
        struct {
            char what; /* 'S' statement or 'P' portal */
            const char *name;
        } target; /* Describe and Close */
        struct {
            const char *portal;
            int32_t max_rows; /* 0: all */
        } execute;
        struct {
            const uint8_t *data;
            size_t len;
        } password;
    } u;
} tw_pgwire_msg;

/* Parses one framed message (as tw_pgwire_frame delimited it). Returns
 * false with err set (a sentence for the client) when the message is
 * malformed or of a kind this server does not take; out then holds nothing
 * to free. */
bool tw_pgwire_parse(const uint8_t *msg, size_t len, bool startup, tw_pgwire_msg *out,
                     tw_err *err);

void tw_pgwire_msg_free(tw_pgwire_msg *msg);

/* The highest $n in sql (outside literals, quoted names and comments), or
 * 0 when there is none or the text does not tokenize. */
uint32_t tw_pgwire_param_count(const char *sql, size_t len);

/* Returns sql with every $n replaced by parameter n as a SQL literal:
 * NULL, a number or TRUE/FALSE when its declared type (types[n-1], 0 when
 * not given) is numeric or boolean and the text is one, else a quoted string
 * with quotes doubled (a string literal takes the type of what it is
 * compared with). Returns a malloc'ed NUL-terminated copy (*out_len bytes),
 * or NULL with err set when a $n has no parameter, a value is not valid for
 * its declared type, or a value holds a NUL byte. */
char *tw_pgwire_substitute(const char *sql, size_t len, const uint32_t *types, uint32_t ntypes,
                           const tw_pgwire_value *params, uint32_t nparams, size_t *out_len,
                           tw_err *err);

/* The PostgreSQL type OID a column of type t is sent as (varchar 1043,
 * int8 20, timestamptz 1184, ...). */
uint32_t tw_pgwire_type_oid(tw_type t);

/* Writes v in PostgreSQL's text format ('t'/'f', '2026-01-27 20:47:13.482913',
 * '... +00' for timestamptz) into buf (cap bytes, NUL-terminated when cap >
 * 0). Returns the full length, as snprintf; a VARCHAR is not copied: use
 * its bytes directly. */
size_t tw_pgwire_format_value(const tw_value *v, char *buf, size_t cap);

/* The SQLSTATE for an engine error: 42601 syntax, 0A000 unsupported, 42P01
 * unknown relation, 42703 unknown column, 42710 duplicate, 42704 unknown
 * object, XX000 otherwise. */
const char *tw_pgwire_sqlstate(const tw_err *err);

/* Splits an engine message "FILE:LINE:COL: error: TEXT\n..." into its
 * first line of TEXT (copied into text, cap bytes) and the 1-based byte
 * offset of LINE:COL in sql, which the message was about. Returns 0 for the
 * offset when the message carries no location. */
uint32_t tw_pgwire_error_offset(const char *msg, const char *sql, size_t len, char *text,
                                size_t cap);

/* ---- canned answers to catalog queries (pg_catalog_queries.c) ----------- */

typedef enum tw_pgcat_outcome {
    TW_PGCAT_NOT_MINE, /* not a catalog query: run it on the engine */
    TW_PGCAT_RESULT,   /* *out holds the answer (caller frees it) */
    TW_PGCAT_ERROR,    /* err says what is not supported and what to use */
} tw_pgcat_outcome;

/* Answers the catalog queries psql and drivers send (\dt and \d lists,
 * version(), current_database() and the like) from the engine's SHOW
 * results; other pg_catalog / information_schema queries are refused with
 * a message naming SHOW and DESCRIBE. */
tw_pgcat_outcome tw_pgcat_answer(tw_engine *engine, const char *sql, size_t len,
                                 tw_result **out, tw_err *err);

/* ---- server -------------------------------------------------------------- */

typedef struct tw_pgwire tw_pgwire;

typedef struct tw_pgwire_opts {
    const char *addr;     /* "HOST:PORT"; port 0 picks a free one */
    const char *password; /* SCRAM-SHA-256 for every user when set; NULL: trust */
    uint32_t max_connections;
} tw_pgwire_opts;

void tw_pgwire_opts_default(tw_pgwire_opts *opts);

/* Starts listening and serving statements on engine (which must outlive
 * the server). Returns NULL with err set when the address is bad or taken,
 * or when it is not a loopback address and no password is set. */
tw_pgwire *tw_pgwire_start(tw_engine *engine, const tw_pgwire_opts *opts, tw_err *err);

/* "HOST:PORT" with the real port. */
const char *tw_pgwire_addr(const tw_pgwire *server);

/* Closes every connection, joins the threads and frees the server. Call
 * before freeing the engine; NULL is a no-op. */
void tw_pgwire_stop(tw_pgwire *server);

#endif

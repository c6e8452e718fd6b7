/* err.h - errors a person can act on.
 *
 * A tw_err carries a code and a human sentence through calls that can fail
 * for a user-visible reason (bad SQL, bad option, unreadable file). The
 * message names the thing and, where there is one, the fix. Callers own the
 * tw_err (usually on the stack); functions that fail fill it and return
 * false / NULL / -1 as their contract says.
 */
#ifndef TW_COMMON_ERR_H
#define TW_COMMON_ERR_H

#include <stdbool.h>
#include <stddef.h>

typedef enum tw_err_code {
    TW_OK = 0,
    TW_ERR_SYNTAX,        /* SQL that does not parse */
    TW_ERR_UNSUPPORTED,   /* valid RisingWave SQL tidewatch does not do yet */
    TW_ERR_BIND,          /* unknown name, wrong type, ... */
    TW_ERR_CONFIG,        /* bad option, bad command line */
    TW_ERR_IO,            /* file, socket */
    TW_ERR_NOMEM,
    TW_ERR_INTERNAL,
} tw_err_code;

typedef struct tw_err {
    tw_err_code code;
    char msg[1024];
} tw_err;

/* Sets code and a printf-formatted message. Returns false so that callers
 * can write `return tw_err_set(err, ...);` in bool functions. err may be NULL. */
bool tw_err_set(tw_err *err, tw_err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with "prefix: ". */
void tw_err_prefix(tw_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void tw_err_clear(tw_err *err)
{
    if (err) {
        err->code = TW_OK;
        err->msg[0] = '\0';
    }
}

#endif

/* types.h - SQL types and how their values are stored in a column.
 *
 * Physical storage (see tw_column in batch.h):
 *   BOOLEAN                              -> uint8_t  (0 / 1)
 *   SMALLINT, INT, BIGINT                -> int64_t  (range-checked on input)
 *   TIMESTAMP, TIMESTAMPTZ, INTERVAL     -> int64_t  (microseconds; UTC)
 *   REAL, DOUBLE PRECISION (FLOAT)       -> double   (REAL values are rounded
 *                                                     to float precision)
 *   VARCHAR                              -> tw_str   (pointer + length)
 * As in PostgreSQL and RisingWave, FLOAT without a precision is DOUBLE.
 */
#ifndef TW_EXEC_TYPES_H
#define TW_EXEC_TYPES_H

#include <stdbool.h>
#include <stdint.h>

typedef enum tw_type {
    TW_T_NULL = 0, /* the type of a bare NULL literal before coercion */
    TW_T_BOOL,
    TW_T_INT16,
    TW_T_INT32,
    TW_T_INT64,
    TW_T_FLOAT32,
    TW_T_FLOAT64,
    TW_T_VARCHAR,
    TW_T_TIMESTAMP,
    TW_T_TIMESTAMPTZ,
    TW_T_INTERVAL,
    TW_T_COUNT_
} tw_type;

/* A string slice. The bytes are not NUL-terminated and are owned elsewhere
 * (a batch's arena, a source buffer, an MV row): see the owner's contract. */
typedef struct tw_str {
    const char *ptr;
    uint32_t len;
} tw_str;

typedef enum tw_phys {
    TW_PHYS_BOOL,
    TW_PHYS_I64,
    TW_PHYS_F64,
    TW_PHYS_STR,
} tw_phys;

static inline tw_phys tw_type_phys(tw_type t)
{
    switch (t) {
    case TW_T_BOOL:
    case TW_T_NULL:
        return TW_PHYS_BOOL;
    case TW_T_FLOAT32:
    case TW_T_FLOAT64:
        return TW_PHYS_F64;
    case TW_T_VARCHAR:
        return TW_PHYS_STR;
    default:
        return TW_PHYS_I64;
    }
}

static inline bool tw_type_is_integer(tw_type t)
{
    return t == TW_T_INT16 || t == TW_T_INT32 || t == TW_T_INT64;
}

static inline bool tw_type_is_numeric(tw_type t)
{
    return tw_type_is_integer(t) || t == TW_T_FLOAT32 || t == TW_T_FLOAT64;
}

static inline bool tw_type_is_time(tw_type t)
{
    return t == TW_T_TIMESTAMP || t == TW_T_TIMESTAMPTZ;
}

/* SQL name as PostgreSQL prints it: "character varying", "double precision", ... */
const char *tw_type_name(tw_type t);

/* Short name for messages and DESCRIBE: "varchar", "double", ... */
const char *tw_type_short_name(tw_type t);

#endif

/* types.c - see types.h. */
#include "exec/types.h"

const char *tw_type_name(tw_type t)
{
    switch (t) {
    case TW_T_NULL: return "unknown";
    case TW_T_BOOL: return "boolean";
    case TW_T_INT16: return "smallint";
    case TW_T_INT32: return "integer";
    case TW_T_INT64: return "bigint";
    case TW_T_FLOAT32: return "real";
    case TW_T_FLOAT64: return "double precision";
    case TW_T_VARCHAR: return "character varying";
    case TW_T_TIMESTAMP: return "timestamp without time zone";
    case TW_T_TIMESTAMPTZ: return "timestamp with time zone";
    case TW_T_INTERVAL: return "interval";
    default: return "?";
    }
}

const char *tw_type_short_name(tw_type t)
{
    switch (t) {
    case TW_T_NULL: return "unknown";
    case TW_T_BOOL: return "boolean";
    case TW_T_INT16: return "smallint";
    case TW_T_INT32: return "integer";
    case TW_T_INT64: return "bigint";
    case TW_T_FLOAT32: return "real";
    case TW_T_FLOAT64: return "double";
    case TW_T_VARCHAR: return "varchar";
    case TW_T_TIMESTAMP: return "timestamp";
    case TW_T_TIMESTAMPTZ: return "timestamptz";
    case TW_T_INTERVAL: return "interval";
    default: return "?";
    }
}

/* partition.h - Iceberg types, single values and partition transforms.
 *
 * Maps tidewatch's SQL types to Iceberg primitive types, serializes single
 * values the way manifests store bounds (spec Appendix D), hashes them for
 * bucket[N] with Murmur3 x86_32 (Appendix B), and holds partition specs:
 * parsed from RisingWave's partition_by text or from metadata JSON, applied
 * to row values, and rendered as the directory path of a partition. A spec
 * owns its field names; values it produces borrow the input's strings.
 */
#ifndef TW_ICEBERG_PARTITION_H
#define TW_ICEBERG_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "exec/expr.h"
#include "iceberg/iceberg.h"

typedef enum tw_iceberg_type {
    TW_ICE_BOOLEAN,
    TW_ICE_INT,
    TW_ICE_LONG,
    TW_ICE_FLOAT,
    TW_ICE_DOUBLE,
    TW_ICE_DATE,
    TW_ICE_STRING,
    TW_ICE_TIMESTAMP,
    TW_ICE_TIMESTAMPTZ,
} tw_iceberg_type;

/* The Iceberg type storing a tw_type. False for NULL and INTERVAL. */
bool tw_iceberg_type_of(tw_type t, tw_iceberg_type *out);

/* "boolean", "int", "long", ... as in schema JSON. */
const char *tw_iceberg_type_name(tw_iceberg_type t);

/* Parses a schema JSON primitive type name; false for others. */
bool tw_iceberg_type_parse(const char *name, tw_iceberg_type *out);

/* The tw_type a value of Iceberg type t is held in (DATE -> INT32). */
tw_type tw_iceberg_type_tw(tw_iceberg_type t);

/* Binary single-value serialization of a non-NULL v as Iceberg type t.
 * Returns the length; the bytes are in scratch, or for strings in v's own
 * bytes; *out points at them. */
size_t tw_iceberg_value_bytes(tw_iceberg_type t, const tw_value *v, uint8_t scratch[8],
                              const uint8_t **out);

/* Murmur3 x86_32 with seed 0. */
int32_t tw_iceberg_murmur3_32(const void *data, size_t len);

/* Iceberg's bucket hash of a non-NULL value (Appendix B): int, long, date
 * and timestamps hash as 8-byte longs, strings as their UTF-8 bytes. */
int32_t tw_iceberg_hash_value(tw_iceberg_type t, const tw_value *v);

typedef enum tw_iceberg_transform {
    TW_ICE_IDENTITY,
    TW_ICE_YEAR,
    TW_ICE_MONTH,
    TW_ICE_DAY,
    TW_ICE_HOUR,
    TW_ICE_BUCKET,
    TW_ICE_TRUNCATE,
} tw_iceberg_transform;

typedef struct tw_iceberg_partition_field {
    int32_t source_id;
    int32_t field_id;
    char *name;
    tw_iceberg_transform transform;
    int32_t width;                 /* N of bucket[N], W of truncate[W] */
    uint32_t source_index;         /* position of the source column in the schema */
    tw_iceberg_type source_type;
    tw_iceberg_type result_type;
} tw_iceberg_partition_field;

typedef struct tw_iceberg_partition_spec {
    int32_t spec_id;
    uint32_t nfields;
    tw_iceberg_partition_field *fields;
} tw_iceberg_partition_spec;

/* Parses RisingWave's partition_by text: a comma-separated list of column,
 * year(col), month(col), day(col), hour(col), bucket(n, col),
 * truncate(n, col) against schema. Field ids start at first_field_id
 * (1000 for a new table). NULL or blank text gives an unpartitioned spec.
 * Returns false with err naming the bad item. */
bool tw_iceberg_partition_spec_parse(const char *text, const tw_iceberg_schema *schema,
                                     int32_t first_field_id, tw_iceberg_partition_spec *out,
                                     tw_err *err);

/* Fills field's transform and width from its JSON name ("bucket[16]"), its
 * result type from the source type. False for unknown transforms or a
 * transform the source type does not allow. */
bool tw_iceberg_transform_parse(const char *text, tw_iceberg_partition_field *field,
                                tw_err *err);

/* "identity", "bucket[16]", ... into buf. */
void tw_iceberg_transform_name(const tw_iceberg_partition_field *field, char *buf, size_t size);

/* Applies field's transform to v (of the source type, or NULL). */
void tw_iceberg_partition_apply(const tw_iceberg_partition_field *field, const tw_value *v,
                                tw_value *out);

/* "name=value/name=value" as Java's writers name partition directories
 * (dates, hours and timestamps in human form, URL-escaped), malloc'ed. */
char *tw_iceberg_partition_path(const tw_iceberg_partition_spec *spec, const tw_value *values);

/* True when both specs have the same fields (source, transform, name). */
bool tw_iceberg_partition_spec_equivalent(const tw_iceberg_partition_spec *a,
                                          const tw_iceberg_partition_spec *b);

void tw_iceberg_partition_spec_clear(tw_iceberg_partition_spec *spec);

#endif

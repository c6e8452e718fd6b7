/* iceberg_target.h - the Iceberg table behind a sink: writes each commit's
 * rows as Parquet data files (one per partition; equality-delete files for
 * upserts) and commits them as one snapshot whose summary records the sink
 * watermark and the replay positions. */
#ifndef TW_SINK_ICEBERG_TARGET_H
#define TW_SINK_ICEBERG_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "exec/types.h"
#include "sink/sink.h"

typedef struct tw_iceberg_target_opts {
    const char *sink_name;         /* keys this sink's entries in snapshot summaries */
    /* The sink's WITH options merged over its connection's (key/value). */
    const char *const *keys;
    const char *const *values;
    uint32_t nopts;
    const char *data_dir;          /* relative warehouse paths resolve here */
    const char *const *col_names;  /* the view's columns */
    const tw_type *types;
    uint32_t ncols;
    const uint32_t *key_cols;      /* upsert: identifier fields */
    uint32_t nkey_cols;
} tw_iceberg_target_opts;

/* Opens (or creates, with create_table_if_not_exists) the table and returns
 * a target for tw_sink_new. False with err set: names the catalog or table
 * and what to fix. */
bool tw_iceberg_target_open(const tw_iceberg_target_opts *opts, tw_sink_target *out, tw_err *err);

#endif

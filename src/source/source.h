/* source.h - the interface every source connector implements.
 *
 * A source driver turns its input (file bytes, simulator output, Kafka
 * messages) into decoded rows: each read call appends rows of one partition
 * to a batch with the schema-directed decoder. Rows may point into the
 * driver's buffers (zero copy) until `done` is called; the engine calls
 * `done` once the batch has gone through the pipeline.
 */
#ifndef TW_SOURCE_SOURCE_H
#define TW_SOURCE_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "decode/json.h"
#include "exec/batch.h"
#include "source/reader.h"

typedef struct tw_source_driver tw_source_driver;

typedef struct tw_source_driver_ops {
    const char *name; /* "file", "netsim", "kafka", ... */
    /* Appends decoded rows to out (at most out->capacity - out->nrows).
     * Every row of one call comes from one partition, reported in
     * *partition (-1 for unpartitioned sources). Returns TW_READ_DATA when
     * input was consumed (even if every line was malformed), TW_READ_AGAIN
     * when nothing is available now, TW_READ_EOF when the input has ended,
     * TW_READ_ERROR with err set. */
    tw_read_status (*read)(tw_source_driver *d, tw_json_decoder *dec, tw_batch *out,
                           int32_t *partition, tw_decode_stats *stats, tw_err *err);
    /* The rows handed out so far have been processed. */
    void (*done)(tw_source_driver *d);
    /* True when the input ends by itself (a file, a counted simulator, a
     * Kafka read bounded at start). */
    bool (*is_finite)(const tw_source_driver *d);
    /* Bytes read so far, for the status line and metrics. */
    uint64_t (*bytes)(const tw_source_driver *d);
    void (*close)(tw_source_driver *d);
} tw_source_driver_ops;

struct tw_source_driver {
    const tw_source_driver_ops *ops;
};

/* A driver over a byte reader holding NDJSON (file, stdin, netsim). Takes
 * over the reader. Lines longer than max_line_bytes are counted malformed
 * and skipped. */
tw_source_driver *tw_lines_driver_new(tw_reader *reader, size_t max_line_bytes);

#endif

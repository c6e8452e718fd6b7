/* source.h - the interface every source connector implements.
 *
 * A source driver turns its input (file bytes, simulator output, Kafka
 * messages) into decoded row batches with the schema-directed JSON decoder
 * (decode/json.h). Each read hands out one batch, owned by the driver, whose
 * rows all come from one partition; its strings may point into the driver's
 * buffers (zero copy). The engine may modify the batch (it drops late rows)
 * and calls `done` once the batch has gone through the pipeline; only then
 * may the driver reuse or release what the batch points at.
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

/* What a driver decodes into: the source's columns, and where malformed
 * input goes. The arrays are borrowed for the driver's lifetime. */
typedef struct tw_source_schema {
    const char *const *names;
    const tw_type *types;
    uint32_t ncols;
    tw_dead_letter_fn dead_letter; /* may be NULL */
    void *dead_letter_ctx;
} tw_source_schema;

typedef struct tw_source_driver_ops {
    const char *name; /* "lines", "kafka", ... */
    /* Hands out the next batch in *out (driver-owned, rows of partition
     * *partition, -1 for unpartitioned sources). Returns TW_READ_DATA with a
     * batch (it may have 0 rows when every line was malformed),
     * TW_READ_AGAIN when nothing is available now, TW_READ_EOF when the
     * input has ended (no batch), TW_READ_ERROR with err set. After DATA
     * the engine calls done before the next read. */
    tw_read_status (*read)(tw_source_driver *d, tw_batch **out, int32_t *partition, tw_err *err);
    /* The batch handed out last has been processed. */
    void (*done)(tw_source_driver *d);
    /* Decoding counters so far (lines, rows, malformed, type errors). */
    void (*stats)(const tw_source_driver *d, tw_decode_stats *out);
    /* True when the input ends by itself (a file, a counted simulator, a
     * Kafka read bounded at start). */
    bool (*is_finite)(const tw_source_driver *d);
    /* Bytes read so far, for the status line and metrics. */
    uint64_t (*bytes)(const tw_source_driver *d);
    void (*close)(tw_source_driver *d);
    /* Replay support (both NULL when the input cannot be replayed): the
     * position of the first row of the batch handed out last (a byte
     * offset, a Kafka offset), and restarting a partition at a position
     * such a batch reported, before the first read. */
    bool (*batch_position)(const tw_source_driver *d, uint64_t *position);
    bool (*seek)(tw_source_driver *d, int32_t partition, uint64_t position, tw_err *err);
    /* The partitions that still have rows to give (assigned, and in a
     * bounded run not yet at their end), into out[0..max); returns how many.
     * NULL when the source has one partition. Event time waits for every
     * one of them, so a partition read later does not find its windows
     * closed by another partition's progress. */
    uint32_t (*live_partitions)(const tw_source_driver *d, int32_t *out, uint32_t max);
} tw_source_driver_ops;

struct tw_source_driver {
    const tw_source_driver_ops *ops;
};

/* A driver over a byte reader holding NDJSON (file, stdin, netsim). Takes
 * over the reader. Lines longer than max_line_bytes are counted malformed
 * and skipped. decode_threads: decoder threads for a memory-mapped file (0:
 * one per core, at most 4); streams always use one. */
tw_source_driver *tw_lines_driver_new(tw_reader *reader, const tw_source_schema *schema,
                                      size_t max_line_bytes, uint32_t decode_threads);

#endif

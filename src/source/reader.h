/* reader.h - byte sources for NDJSON: files (optionally followed), stdin
 * and the built-in simulator, behind one interface.
 *
 * A reader appends bytes to a caller-owned buffer. Files and stdin hand out
 * whatever read(2) returns (lines may be cut anywhere; the decoder keeps the
 * partial tail); the simulator writes whole lines, paced to the wall clock
 * when it has a rate.
 */
#ifndef TW_SOURCE_READER_H
#define TW_SOURCE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct tw_reader tw_reader;

typedef enum tw_read_status {
    TW_READ_DATA,  /* *n > 0 bytes were appended */
    TW_READ_AGAIN, /* nothing now; try later (followed file, paced simulator) */
    TW_READ_EOF,   /* no more data, ever */
    TW_READ_ERROR, /* err is set */
} tw_read_status;

/* Opens `path` ("-" is stdin). With follow, end of file waits for more data
 * (like tail -f) instead of ending. Returns NULL with err set when the file
 * cannot be opened. */
tw_reader *tw_reader_open_file(const char *path, bool follow, tw_err *err);

/* Creates a simulator reader from "key=value" pairs as netsim.h accepts, plus
 * `count` (stop after N events; default: never) and `paced` (true: emit at
 * `rate` events per second of wall-clock time with event time = now; false:
 * as fast as possible; default true unless count is set). */
tw_reader *tw_reader_open_netsim(const char *const *keys, const char *const *values, uint32_t n,
                                 tw_err *err);

/* Appends at most cap bytes at buf and sets *n. */
tw_read_status tw_reader_read(tw_reader *r, char *buf, size_t cap, size_t *n, tw_err *err);

/* True when the reader ends by itself (a file without follow, stdin, a
 * simulator with a count). */
bool tw_reader_is_finite(const tw_reader *r);

/* Maps the whole input into memory when it is a regular file read without
 * follow: *data stays valid until tw_reader_close. Returns false (and the
 * reader is used with tw_reader_read) otherwise. */
bool tw_reader_map(tw_reader *r, const char **data, size_t *len);

/* True when tw_reader_read itself waits a little for input before saying
 * TW_READ_AGAIN (pipes, terminals), so callers need not sleep. */
bool tw_reader_waits(const tw_reader *r);

void tw_reader_close(tw_reader *r);

#endif

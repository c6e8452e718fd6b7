/* fileio.h - reading and writing the files of an Iceberg table.
 *
 * Table code names files by location (a path or a file:// URI today; s3://
 * once an S3 implementation exists) and goes through a tw_fileio, so the
 * same commit logic runs over any store. Writes are atomic: a reader sees a
 * whole file or none (local: a temporary file in the same directory, then
 * rename; S3: a single PUT or a completed multipart upload). Parent
 * directories are created as needed. The fileio owns no table state; buffers
 * it returns are malloc'ed and owned by the caller.
 */
#ifndef TW_ICEBERG_FILEIO_H
#define TW_ICEBERG_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

typedef struct tw_fileio tw_fileio;
typedef struct tw_fileio_out tw_fileio_out;

typedef struct tw_fileio_ops {
    const char *kind; /* "local", "s3" */
    /* Starts a new file at location; nothing is visible until commit. */
    tw_fileio_out *(*create)(tw_fileio *io, const char *location, tw_err *err);
    bool (*write)(tw_fileio_out *out, const void *data, size_t len, tw_err *err);
    /* Makes the file visible under its location (durably) and frees out. */
    bool (*commit)(tw_fileio_out *out, tw_err *err);
    /* Drops an unfinished file and frees out. */
    void (*abort)(tw_fileio_out *out);
    /* Reads a whole file into *data (malloc'ed, NUL-terminated past *len).
     * *not_found (if not NULL) tells a missing file from another error. */
    bool (*read)(tw_fileio *io, const char *location, char **data, size_t *len,
                 bool *not_found, tw_err *err);
    /* Deletes a file; a missing file is not an error. */
    bool (*remove)(tw_fileio *io, const char *location, tw_err *err);
    void (*close)(tw_fileio *io);
} tw_fileio_ops;

struct tw_fileio {
    const tw_fileio_ops *ops;
};

/* Every implementation's output handle starts with this. */
struct tw_fileio_out {
    const tw_fileio_ops *ops;
};

/* Opens the local file system. Locations are absolute paths or file:// URIs
 * (file:///abs/path or file:/abs/path). Never NULL. Close with
 * tw_fileio_close. */
tw_fileio *tw_fileio_open_local(void);

/* A local warehouse or catalog path as the sink and the history reader use
 * it: file:// stripped, a relative path resolved against data_dir, the
 * result absolute (table metadata records locations other readers open).
 * Malloc'ed. */
char *tw_fileio_resolve_local(const char *data_dir, const char *path);

/* The local path a location names: strips "file://" or "file:" from a file
 * URI, returns other strings unchanged (a pointer into location). */
const char *tw_fileio_local_path(const char *location);

/* Writes len bytes as the whole file at location, atomically. Returns false
 * with err set (naming the location) on failure; no partial file remains. */
bool tw_fileio_write_all(tw_fileio *io, const char *location, const void *data, size_t len,
                         tw_err *err);

static inline tw_fileio_out *tw_fileio_create(tw_fileio *io, const char *location, tw_err *err)
{
    return io->ops->create(io, location, err);
}

static inline bool tw_fileio_out_write(tw_fileio_out *out, const void *data, size_t len,
                                       tw_err *err)
{
    return out->ops->write(out, data, len, err);
}

static inline bool tw_fileio_out_commit(tw_fileio_out *out, tw_err *err)
{
    return out->ops->commit(out, err);
}

static inline void tw_fileio_out_abort(tw_fileio_out *out)
{
    out->ops->abort(out);
}

static inline bool tw_fileio_read(tw_fileio *io, const char *location, char **data, size_t *len,
                                  bool *not_found, tw_err *err)
{
    return io->ops->read(io, location, data, len, not_found, err);
}

static inline bool tw_fileio_remove(tw_fileio *io, const char *location, tw_err *err)
{
    return io->ops->remove(io, location, err);
}

static inline void tw_fileio_close(tw_fileio *io)
{
    if (io)
        io->ops->close(io);
}

#endif

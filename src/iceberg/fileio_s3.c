/* fileio_s3.c - S3 behind tw_fileio (see s3.h and fileio.h).
 *
 * An output file collects bytes in one part-sized buffer. A file that never
 * fills it is one PUT at commit; a larger one starts a multipart upload when
 * the buffer first fills and sends each full buffer as a part, so memory
 * stays at one part whatever the file size. Nothing is visible under the
 * key until commit: a single PUT is atomic, and so is completing a
 * multipart upload.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "iceberg/s3.h"

typedef struct s3_io {
    tw_fileio base;
    tw_s3_client *client;
} s3_io;

typedef struct s3_out {
    tw_fileio_out base;
    s3_io *io;
    char *bucket, *key;
    char *buf; /* part_size bytes */
    size_t len, part_size;
    uint64_t total_bytes;
    char *upload_id; /* NULL until the first part */
    char **etags;
    uint32_t nparts;
    bool failed; /* a part failed: the upload is already aborted */
} s3_out;

static const tw_fileio_ops s3_ops;

static tw_fileio_out *s3_create(tw_fileio *base, const char *location, tw_err *err)
{
    s3_io *io = (s3_io *)base;
    char *bucket, *key;
    if (!tw_s3_parse_location(location, &bucket, &key, err))
        return NULL;
    s3_out *out = tw_xcalloc(1, sizeof *out);
    out->base.ops = &s3_ops;
    out->io = io;
    out->bucket = bucket;
    out->key = key;
    out->part_size = tw_s3_client_part_size(io->client);
    out->buf = malloc(out->part_size);
    if (!out->buf) {
        free(out->bucket);
        free(out->key);
        free(out);
        tw_err_set(err, TW_ERR_NOMEM, "out of memory for an S3 upload buffer");
        return NULL;
    }
    return &out->base;
}

static void out_free(s3_out *out)
{
    for (uint32_t i = 0; i < out->nparts; i++)
        free(out->etags[i]);
    free(out->etags);
    free(out->upload_id);
    free(out->buf);
    free(out->bucket);
    free(out->key);
    free(out);
}

static void abort_upload(s3_out *out)
{
    if (!out->upload_id)
        return;
    tw_err ignored;
    /* Best effort: on failure the parts stay until the bucket's lifecycle
     * rule for incomplete uploads removes them; they are never visible. */
    tw_s3_multipart_abort(out->io->client, out->bucket, out->key, out->upload_id, &ignored);
    free(out->upload_id);
    out->upload_id = NULL;
}

/* Sends the buffer as the next part, starting the upload if needed. */
static bool flush_part(s3_out *out, tw_err *err)
{
    tw_s3_client *c = out->io->client;
    if (!out->upload_id && !tw_s3_multipart_start(c, out->bucket, out->key, &out->upload_id, err))
        return false;
    char *etag;
    if (!tw_s3_multipart_put_part(c, out->bucket, out->key, out->upload_id, out->nparts + 1,
                                  out->buf, out->len, &etag, err))
        return false;
    out->etags = tw_xrealloc(out->etags, (out->nparts + 1) * sizeof *out->etags);
    out->etags[out->nparts++] = etag;
    out->len = 0;
    return true;
}

static bool s3_write(tw_fileio_out *base, const void *data, size_t len, tw_err *err)
{
    s3_out *out = (s3_out *)base;
    if (out->failed)
        return tw_err_set(err, TW_ERR_IO, "s3://%s/%s: an earlier write failed", out->bucket,
                          out->key);
    const char *p = data;
    while (len > 0) {
        size_t n = out->part_size - out->len;
        if (n > len)
            n = len;
        memcpy(out->buf + out->len, p, n);
        out->len += n;
        out->total_bytes += n;
        p += n;
        len -= n;
        /* A full buffer is sent only once more bytes arrive, so the last
         * part is never empty. */
        if (out->len == out->part_size && len > 0 && !flush_part(out, err)) {
            out->failed = true;
            abort_upload(out);
            return false;
        }
    }
    return true;
}

static void s3_abort(tw_fileio_out *base)
{
    s3_out *out = (s3_out *)base;
    abort_upload(out);
    out_free(out);
}

static bool s3_commit(tw_fileio_out *base, tw_err *err)
{
    s3_out *out = (s3_out *)base;
    tw_s3_client *c = out->io->client;
    bool ok;
    if (out->failed) {
        ok = tw_err_set(err, TW_ERR_IO, "s3://%s/%s: an earlier write failed", out->bucket,
                        out->key);
    } else if (!out->upload_id) {
        ok = tw_s3_put_object(c, out->bucket, out->key, out->buf, out->len, err);
    } else {
        ok = flush_part(out, err) &&
             tw_s3_multipart_complete(c, out->bucket, out->key, out->upload_id, out->etags,
                                      out->nparts, out->total_bytes, err);
        if (ok) {
            free(out->upload_id);
            out->upload_id = NULL;
        }
    }
    abort_upload(out); /* a no-op after success */
    out_free(out);
    return ok;
}

static bool s3_read(tw_fileio *base, const char *location, char **data, size_t *len,
                    bool *not_found, tw_err *err)
{
    s3_io *io = (s3_io *)base;
    char *bucket, *key;
    *data = NULL;
    *len = 0;
    if (not_found)
        *not_found = false;
    if (!tw_s3_parse_location(location, &bucket, &key, err))
        return false;
    bool ok = tw_s3_read_object(io->client, bucket, key, data, len, not_found, err);
    free(bucket);
    free(key);
    return ok;
}

static bool s3_remove(tw_fileio *base, const char *location, tw_err *err)
{
    s3_io *io = (s3_io *)base;
    char *bucket, *key;
    if (!tw_s3_parse_location(location, &bucket, &key, err))
        return false;
    bool ok = tw_s3_delete_object(io->client, bucket, key, err);
    free(bucket);
    free(key);
    return ok;
}

static void s3_close(tw_fileio *base)
{
    s3_io *io = (s3_io *)base;
    tw_s3_client_free(io->client);
    free(io);
}

static const tw_fileio_ops s3_ops = {
    .kind = "s3",
    .create = s3_create,
    .write = s3_write,
    .commit = s3_commit,
    .abort = s3_abort,
    .read = s3_read,
    .remove = s3_remove,
    .close = s3_close,
};

tw_fileio *tw_fileio_open_s3(const tw_s3_config *cfg, tw_err *err)
{
    tw_s3_client *client = tw_s3_client_new(cfg, err);
    if (!client)
        return NULL;
    s3_io *io = tw_xcalloc(1, sizeof *io);
    io->base.ops = &s3_ops;
    io->client = client;
    return &io->base;
}

tw_s3_client *tw_fileio_s3_client(tw_fileio *io)
{
    assert(io);
    return io->ops == &s3_ops ? ((s3_io *)io)->client : NULL;
}

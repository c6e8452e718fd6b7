/* lines.c - a source driver for NDJSON byte streams (files, stdin, netsim).
 *
 * Bytes are read into one buffer; the decoder consumes whole lines and
 * strings of the decoded rows point into the buffer, so the unconsumed tail
 * is moved to the front only once the engine is done with those rows.
 */
#include <stdlib.h>
#include <string.h>

#include "source/source.h"

#define READ_BUF_BYTES (4u << 20)

typedef struct lines_driver {
    tw_source_driver base;
    tw_reader *reader;
    tw_json_decoder *dec;
    tw_decode_stats stats;
    tw_batch *batch;
    size_t max_line_bytes;
    char *buf;
    size_t cap, len, pos;
    bool eof;
    uint64_t bytes;
} lines_driver;

static tw_read_status fill(lines_driver *l, tw_json_decoder *dec, tw_batch *out,
                           tw_decode_stats *stats, tw_err *err)
{
    if (l->pos < l->len) {
        /* Complete lines may remain from the last read. */
        size_t used = tw_json_decode(dec, l->buf + l->pos, l->len - l->pos, l->eof, out, stats);
        l->pos += used;
        if (used > 0)
            return TW_READ_DATA;
    }
    if (l->eof)
        return TW_READ_EOF;
    if (out->nrows > 0)
        return TW_READ_DATA; /* let the engine process what points into buf */
    /* Keep the unconsumed tail (a partial line) at the front. */
    if (l->pos > 0) {
        memmove(l->buf, l->buf + l->pos, l->len - l->pos);
        l->len -= l->pos;
        l->pos = 0;
    }
    if (l->len == l->cap) {
        if (l->cap >= l->max_line_bytes) {
            /* A line longer than any we accept: count it and skip it. */
            char *nl = memchr(l->buf, '\n', l->len);
            stats->lines++;
            stats->malformed++;
            l->len = nl ? l->len - (size_t)(nl + 1 - l->buf) : 0;
            if (nl)
                memmove(l->buf, nl + 1, l->len);
            return TW_READ_DATA;
        }
        l->cap *= 2;
        l->buf = tw_xrealloc(l->buf, l->cap);
    }
    size_t n = 0;
    tw_read_status st = tw_reader_read(l->reader, l->buf + l->len, l->cap - l->len, &n, err);
    if (st == TW_READ_ERROR || st == TW_READ_AGAIN)
        return st;
    l->len += n;
    l->bytes += n;
    if (st == TW_READ_EOF)
        l->eof = true;
    size_t used = tw_json_decode(dec, l->buf, l->len, l->eof, out, stats);
    l->pos = used;
    if (l->eof && l->pos == l->len && out->nrows == 0)
        return TW_READ_EOF;
    return TW_READ_DATA;
}

static tw_read_status lines_read(tw_source_driver *d, tw_batch **out, int32_t *partition,
                                 tw_err *err)
{
    lines_driver *l = (lines_driver *)d;
    *partition = -1;
    *out = l->batch;
    return fill(l, l->dec, l->batch, &l->stats, err);
}

static void lines_done(tw_source_driver *d)
{
    /* The buffer is compacted lazily, on the next refill. */
    tw_batch_reset(((lines_driver *)d)->batch);
}

static void lines_stats(const tw_source_driver *d, tw_decode_stats *out)
{
    *out = ((const lines_driver *)d)->stats;
}

static bool lines_is_finite(const tw_source_driver *d)
{
    return tw_reader_is_finite(((const lines_driver *)d)->reader);
}

static uint64_t lines_bytes(const tw_source_driver *d)
{
    return ((const lines_driver *)d)->bytes;
}

static void lines_close(tw_source_driver *d)
{
    lines_driver *l = (lines_driver *)d;
    tw_reader_close(l->reader);
    tw_json_decoder_free(l->dec);
    tw_batch_free(l->batch);
    free(l->buf);
    free(l);
}

static const tw_source_driver_ops lines_ops = {
    .name = "lines",
    .read = lines_read,
    .done = lines_done,
    .stats = lines_stats,
    .is_finite = lines_is_finite,
    .bytes = lines_bytes,
    .close = lines_close,
};

tw_source_driver *tw_lines_driver_new(tw_reader *reader, const tw_source_schema *schema,
                                      size_t max_line_bytes)
{
    lines_driver *l = tw_xcalloc(1, sizeof *l);
    l->base.ops = &lines_ops;
    l->reader = reader;
    l->dec = tw_json_decoder_new(schema->names, schema->types, schema->ncols);
    if (schema->dead_letter)
        tw_json_decoder_set_dead_letter(l->dec, schema->dead_letter, schema->dead_letter_ctx);
    l->batch = tw_batch_new(schema->types, schema->ncols, TW_BATCH_ROWS);
    l->max_line_bytes = max_line_bytes;
    l->cap = READ_BUF_BYTES < max_line_bytes ? READ_BUF_BYTES : max_line_bytes;
    l->buf = tw_xmalloc(l->cap);
    return &l->base;
}

/* lines.c - a source driver for NDJSON byte streams (files, stdin, netsim),
 * decoding in parallel.
 *
 * Input is cut into chunks of whole lines (about 1 MiB). Decoder threads,
 * one per core, take chunks in sequence and decode each into batches; the
 * pipeline thread hands the batches out strictly in chunk order, so results
 * and counters are the same as a sequential decode, only faster: JSON
 * decoding is most of the work, and this spreads it over the cores while
 * the pipeline thread aggregates.
 *
 * A regular file is memory-mapped and chunks are slices of the mapping (no
 * copy at all: decoded strings point into the page cache). Streams (stdin,
 * a followed file, the simulator) are read into per-chunk buffers; the
 * partial line at the end of a read is carried into the next chunk.
 * Malformed lines are dead-lettered by the pipeline thread, in input order.
 */
#define _GNU_SOURCE /* memrchr */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "source/source.h"

#define CHUNK_BYTES (1u << 20)
#define MAX_WORKERS 4

typedef enum slot_state {
    SLOT_FREE,
    SLOT_DECODING,
    SLOT_READY,
} slot_state;

typedef struct dead_line {
    size_t offset, len; /* in the chunk's dead-letter bytes */
    const char *reason; /* a static string from the decoder */
} dead_line;

typedef struct chunk {
    slot_state state;
    uint64_t seq;
    uint64_t start_pos; /* byte offset of data in the input */
    const char *data; /* the chunk's lines: a slice of the mapping or `own` */
    size_t len;
    bool at_eof;      /* the last line may lack its newline */
    uint64_t oversized_lines; /* lines dropped for exceeding max_line_bytes */
    char *own;
    size_t own_cap;
    tw_batch **batches;
    uint32_t nbatches, cap_batches, next_batch;
    tw_decode_stats stats;
    char *dead;
    size_t dead_len, dead_cap;
    dead_line *dead_lines;
    uint32_t ndead, cap_dead;
} chunk;

typedef struct lines_driver lines_driver;

typedef struct worker {
    lines_driver *l;
    pthread_t thread;
    tw_json_decoder *dec;
    chunk *cur;
} worker;

struct lines_driver {
    tw_source_driver base;
    tw_source_schema schema;
    tw_reader *reader;
    size_t max_line_bytes;
    /* input (guarded by mu) */
    const char *map;
    size_t map_len, map_pos;
    char *carry;
    size_t carry_len, carry_cap;
    uint64_t stream_pos; /* input offset of carry[0] */
    bool skipping_line; /* inside a line longer than max_line_bytes */
    bool input_done, failed;
    uint64_t end_seq;
    tw_err worker_err;
    /* slots */
    pthread_mutex_t mu;
    pthread_cond_t ready, freed;
    chunk *slots;
    uint32_t nslots;
    uint64_t next_take, next_consume;
    bool started; /* set by the first read: a seek may come before it */
    bool stop;
    worker workers[MAX_WORKERS];
    uint32_t nworkers;
    /* pipeline thread only */
    tw_decode_stats total;
    uint64_t bytes;
};

/* ---- input ------------------------------------------------------------- */

typedef enum take_result {
    TAKE_DATA,
    TAKE_AGAIN,
    TAKE_EOF,
    TAKE_ERROR,
} take_result;

static void carry_reserve(lines_driver *l, size_t need)
{
    if (need <= l->carry_cap)
        return;
    size_t cap = l->carry_cap ? l->carry_cap : CHUNK_BYTES;
    while (cap < need)
        cap *= 2;
    l->carry = tw_xrealloc(l->carry, cap);
    l->carry_cap = cap;
}

/* Fills slot c with the next whole lines. Called with mu held; reading a
 * stream happens under the lock, which keeps reads in order. */
static take_result take_input(lines_driver *l, chunk *c, tw_err *err)
{
    c->at_eof = false;
    c->oversized_lines = 0;
    if (l->map) {
        if (l->map_pos >= l->map_len)
            return TAKE_EOF;
        size_t end = l->map_pos + CHUNK_BYTES;
        if (end >= l->map_len) {
            end = l->map_len;
            c->at_eof = true;
        } else {
            const char *nl = memchr(l->map + end, '\n', l->map_len - end);
            end = nl ? (size_t)(nl - l->map) + 1 : l->map_len;
            c->at_eof = !nl;
        }
        c->data = l->map + l->map_pos;
        c->len = end - l->map_pos;
        c->start_pos = l->map_pos;
        l->map_pos = end;
        return TAKE_DATA;
    }
    /* Stream: read after the carried partial line. A stream has a single
     * decoder thread, the only one touching the carry, so the lock is
     * released while read waits for input. */
    carry_reserve(l, l->carry_len + CHUNK_BYTES);
    size_t n = 0;
    pthread_mutex_unlock(&l->mu);
    tw_read_status st = tw_reader_read(l->reader, l->carry + l->carry_len, CHUNK_BYTES, &n, err);
    pthread_mutex_lock(&l->mu);
    if (st == TW_READ_ERROR)
        return TAKE_ERROR;
    if (st == TW_READ_AGAIN)
        return TAKE_AGAIN;
    size_t total = l->carry_len + n;
    size_t complete;
    if (st == TW_READ_EOF) {
        if (total == 0 || l->skipping_line)
            return TAKE_EOF;
        complete = total;
        c->at_eof = true;
    } else {
        const char *nl = memrchr(l->carry + l->carry_len, '\n', n);
        complete = nl ? (size_t)(nl - l->carry) + 1 : 0;
    }
    size_t skip = 0;
    if (l->skipping_line) {
        /* Drop the rest of an oversized line, up to its newline. */
        const char *nl = memchr(l->carry, '\n', total);
        if (!nl) {
            l->stream_pos += total;
            l->carry_len = 0;
            return TAKE_AGAIN;
        }
        skip = (size_t)(nl - l->carry) + 1;
        l->skipping_line = false;
        if (complete < skip)
            complete = skip;
    }
    if (complete == 0 && total >= l->max_line_bytes) {
        /* No newline in max_line_bytes: count the line and skip it. */
        c->oversized_lines = 1;
        l->skipping_line = true;
        l->stream_pos += total;
        l->carry_len = 0;
        c->data = NULL;
        c->len = 0;
        return TAKE_DATA;
    }
    if (c->own_cap < complete - skip) {
        c->own = tw_xrealloc(c->own, complete - skip);
        c->own_cap = complete - skip;
    }
    memcpy(c->own, l->carry + skip, complete - skip);
    c->data = c->own;
    c->len = complete - skip;
    c->start_pos = l->stream_pos + skip;
    l->stream_pos += complete;
    memmove(l->carry, l->carry + complete, total - complete);
    l->carry_len = total - complete;
    return c->len ? TAKE_DATA : TAKE_AGAIN;
}

/* ---- decoding ------------------------------------------------------------- */

static void collect_dead(void *ctx, const char *line, size_t len, const char *reason)
{
    worker *w = ctx;
    chunk *c = w->cur;
    if (c->dead_len + len > c->dead_cap) {
        c->dead_cap = (c->dead_len + len) * 2;
        c->dead = tw_xrealloc(c->dead, c->dead_cap);
    }
    memcpy(c->dead + c->dead_len, line, len);
    if (c->ndead == c->cap_dead) {
        c->cap_dead = c->cap_dead ? c->cap_dead * 2 : 16;
        c->dead_lines = tw_xrealloc(c->dead_lines, c->cap_dead * sizeof *c->dead_lines);
    }
    c->dead_lines[c->ndead++] = (dead_line){c->dead_len, len, reason};
    c->dead_len += len;
}

static void decode_chunk(lines_driver *l, worker *w, chunk *c)
{
    memset(&c->stats, 0, sizeof c->stats);
    c->stats.lines = c->stats.malformed = c->oversized_lines;
    c->nbatches = 0;
    c->next_batch = 0;
    c->dead_len = 0;
    c->ndead = 0;
    w->cur = c;
    size_t pos = 0;
    while (pos < c->len) {
        if (c->nbatches == c->cap_batches) {
            c->cap_batches = c->cap_batches ? c->cap_batches * 2 : 8;
            c->batches = tw_xrealloc(c->batches, c->cap_batches * sizeof *c->batches);
            for (uint32_t i = c->nbatches; i < c->cap_batches; i++)
                c->batches[i] = NULL;
        }
        tw_batch *b = c->batches[c->nbatches];
        if (!b)
            b = c->batches[c->nbatches] =
                tw_batch_new(l->schema.types, l->schema.ncols, TW_BATCH_ROWS);
        tw_batch_reset(b);
        size_t used = tw_json_decode(w->dec, c->data + pos, c->len - pos, c->at_eof, b, &c->stats);
        pos += used;
        if (b->nrows)
            c->nbatches++;
        if (b->nrows < b->capacity)
            break; /* no complete line left */
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    lines_driver *l = w->l;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        if (l->input_done)
            break;
        if (!l->started) {
            pthread_cond_wait(&l->freed, &l->mu);
            continue;
        }
        uint64_t seq = l->next_take;
        chunk *c = &l->slots[seq % l->nslots];
        if (c->state != SLOT_FREE) {
            pthread_cond_wait(&l->freed, &l->mu);
            continue;
        }
        tw_err err;
        tw_err_clear(&err);
        take_result r = take_input(l, c, &err);
        if (r == TAKE_AGAIN) {
            if (tw_reader_waits(l->reader))
                continue; /* the reader already waited in poll */
            pthread_mutex_unlock(&l->mu);
            struct timespec ts = {0, 2 * 1000 * 1000};
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&l->mu);
            continue;
        }
        if (r == TAKE_EOF || r == TAKE_ERROR) {
            l->input_done = true;
            l->end_seq = seq;
            if (r == TAKE_ERROR) {
                l->failed = true;
                l->worker_err = err;
            }
            pthread_cond_broadcast(&l->ready);
            pthread_cond_broadcast(&l->freed);
            break;
        }
        c->seq = seq;
        c->state = SLOT_DECODING;
        l->next_take++;
        pthread_mutex_unlock(&l->mu);
        decode_chunk(l, w, c);
        pthread_mutex_lock(&l->mu);
        c->state = SLOT_READY;
        pthread_cond_broadcast(&l->ready);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* ---- the pipeline side ------------------------------------------------ */

static void add_stats(tw_decode_stats *to, const tw_decode_stats *from)
{
    to->lines += from->lines;
    to->rows += from->rows;
    to->malformed += from->malformed;
    to->type_errors += from->type_errors;
}

/* Releases the slot being consumed. Called with mu held. Mapped pages the
 * chunk covered are dropped from this process (they stay in the page cache)
 * so resident memory stays at a few chunks, not the file's size. */
static void release_slot(lines_driver *l, chunk *c)
{
    if (l->map && c->len) {
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
        uintptr_t start = ((uintptr_t)c->data + page - 1) & ~(page - 1);
        uintptr_t end = ((uintptr_t)c->data + c->len) & ~(page - 1);
        if (end > start)
            madvise((void *)start, end - start, MADV_DONTNEED);
    }
    c->state = SLOT_FREE;
    c->next_batch = 0;
    l->next_consume++;
    pthread_cond_broadcast(&l->freed);
}

static tw_read_status lines_read(tw_source_driver *d, tw_batch **out, int32_t *partition,
                                 tw_err *err)
{
    lines_driver *l = (lines_driver *)d;
    *partition = -1;
    pthread_mutex_lock(&l->mu);
    if (!l->started) {
        l->started = true;
        pthread_cond_broadcast(&l->freed);
    }
    for (;;) {
        chunk *c = &l->slots[l->next_consume % l->nslots];
        if (c->state == SLOT_READY && c->seq == l->next_consume) {
            if (c->next_batch == 0) {
                /* First look at this chunk: account for it, in order. */
                add_stats(&l->total, &c->stats);
                l->bytes += c->len;
                for (uint32_t i = 0; l->schema.dead_letter && i < c->ndead; i++)
                    l->schema.dead_letter(l->schema.dead_letter_ctx,
                                          c->dead + c->dead_lines[i].offset,
                                          c->dead_lines[i].len, c->dead_lines[i].reason);
            }
            if (c->next_batch >= c->nbatches) {
                release_slot(l, c);
                continue;
            }
            *out = c->batches[c->next_batch];
            pthread_mutex_unlock(&l->mu);
            return TW_READ_DATA;
        }
        if (l->input_done && l->next_consume >= l->end_seq) {
            bool failed = l->failed;
            if (failed && err)
                *err = l->worker_err;
            pthread_mutex_unlock(&l->mu);
            return failed ? TW_READ_ERROR : TW_READ_EOF;
        }
        /* Not decoded yet: wait a little, then let the loop do other work. */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 2 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        if (pthread_cond_timedwait(&l->ready, &l->mu, &until) != 0) {
            c = &l->slots[l->next_consume % l->nslots];
            if (!(c->state == SLOT_READY && c->seq == l->next_consume) &&
                !(l->input_done && l->next_consume >= l->end_seq)) {
                pthread_mutex_unlock(&l->mu);
                return TW_READ_AGAIN;
            }
        }
    }
}

static void lines_done(tw_source_driver *d)
{
    lines_driver *l = (lines_driver *)d;
    pthread_mutex_lock(&l->mu);
    chunk *c = &l->slots[l->next_consume % l->nslots];
    if (c->state == SLOT_READY && c->seq == l->next_consume && ++c->next_batch >= c->nbatches)
        release_slot(l, c);
    pthread_mutex_unlock(&l->mu);
}

/* Every batch of a chunk reports the chunk's start: replaying from there
 * re-reads at most one chunk more than needed. */
static bool lines_batch_position(const tw_source_driver *d, uint64_t *position)
{
    const lines_driver *l = (const lines_driver *)d;
    const chunk *c = &l->slots[l->next_consume % l->nslots];
    *position = c->start_pos;
    return true;
}

static bool lines_seek(tw_source_driver *d, int32_t partition, uint64_t position, tw_err *err)
{
    lines_driver *l = (lines_driver *)d;
    pthread_mutex_lock(&l->mu);
    bool ok = l->map && l->next_take == 0 && position <= l->map_len;
    if (ok)
        l->map_pos = (size_t)position;
    pthread_mutex_unlock(&l->mu);
    if (!ok)
        return tw_err_set(err, TW_ERR_CONFIG,
                          "cannot resume at byte %llu: only a regular file (not stdin or a "
                          "followed file) can be replayed",
                          (unsigned long long)position);
    (void)partition;
    return true;
}

static void lines_stats(const tw_source_driver *d, tw_decode_stats *out)
{
    *out = ((const lines_driver *)d)->total;
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
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_broadcast(&l->ready);
    pthread_cond_broadcast(&l->freed);
    pthread_mutex_unlock(&l->mu);
    for (uint32_t i = 0; i < l->nworkers; i++) {
        pthread_join(l->workers[i].thread, NULL);
        tw_json_decoder_free(l->workers[i].dec);
    }
    for (uint32_t i = 0; i < l->nslots; i++) {
        chunk *c = &l->slots[i];
        for (uint32_t k = 0; k < c->cap_batches; k++)
            tw_batch_free(c->batches[k]);
        free(c->batches);
        free(c->own);
        free(c->dead);
        free(c->dead_lines);
    }
    free(l->slots);
    free(l->carry);
    tw_reader_close(l->reader);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->ready);
    pthread_cond_destroy(&l->freed);
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
    .batch_position = lines_batch_position,
    .seek = lines_seek,
};

tw_source_driver *tw_lines_driver_new(tw_reader *reader, const tw_source_schema *schema,
                                      size_t max_line_bytes, uint32_t decode_threads)
{
    lines_driver *l = tw_xcalloc(1, sizeof *l);
    l->base.ops = &lines_ops;
    l->schema = *schema;
    l->reader = reader;
    l->max_line_bytes = max_line_bytes;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->ready, NULL);
    pthread_cond_init(&l->freed, NULL);
    bool mapped = tw_reader_map(reader, &l->map, &l->map_len);
    /* Parallel decoding pays off for bulk input; a live stream needs one. */
    long cores = decode_threads ? (long)decode_threads : sysconf(_SC_NPROCESSORS_ONLN);
    l->nworkers = mapped ? (uint32_t)(cores < 1 ? 1 : cores > MAX_WORKERS ? MAX_WORKERS : cores) : 1;
    l->nslots = 2 * l->nworkers + 2;
    l->slots = tw_xcalloc(l->nslots, sizeof *l->slots);
    for (uint32_t i = 0; i < l->nworkers; i++) {
        worker *w = &l->workers[i];
        w->l = l;
        w->dec = tw_json_decoder_new(schema->names, schema->types, schema->ncols);
        tw_json_decoder_set_dead_letter(w->dec, collect_dead, w);
        pthread_create(&w->thread, NULL, worker_main, w);
    }
    return &l->base;
}

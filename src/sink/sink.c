/* sink.c - see sink.h. */
#include "sink/sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "exec/expr.h"
#include "mv/rowbag.h"

typedef struct sink_node {
    tw_node base;
    tw_sink_config cfg;
    tw_type *types;
    uint32_t *key_cols;
    tw_type *key_types;
    tw_sink_target target;
    char *name;
    /* append mode over a windowed, updating view: rows not final yet */
    tw_rowbag *pending;
    /* upsert mode: latest row per key since the last commit, and deleted keys */
    tw_rowbag *upserts;   /* full rows, at most one per key */
    tw_rowbag *deleted;   /* key columns of every key changed */
    /* rows ready for the next commit */
    tw_batch **outbox;
    uint32_t noutbox;
    bool have_wm;
    int64_t watermark_us;      /* sink watermark */
    bool have_max_end;
    int64_t max_end_us;        /* newest window end seen (implicit watermark) */
    int64_t last_input_mono_us;
    bool explicit_wm;          /* the source has a WATERMARK */
    uint32_t barriers;
    tw_sink_stats stats;
    uint64_t hashes[TW_BATCH_ROWS];
} sink_node;

static bool windowed(const sink_node *s)
{
    return s->cfg.window_end_col >= 0 || s->cfg.window_start_col >= 0;
}

static int64_t row_window_end(const sink_node *s, const tw_value *row)
{
    if (s->cfg.window_end_col >= 0)
        return row[s->cfg.window_end_col].i64;
    return row[s->cfg.window_start_col].i64 + s->cfg.window_size_us;
}

static int64_t batch_window_end(const sink_node *s, const tw_batch *b, uint32_t r)
{
    if (s->cfg.window_end_col >= 0)
        return b->cols[s->cfg.window_end_col].i64[r];
    return b->cols[s->cfg.window_start_col].i64[r] + s->cfg.window_size_us;
}

/* Appends one row (as values) to the outbox, copying strings. */
static void outbox_put(sink_node *s, const tw_value *row)
{
    tw_batch *b = s->noutbox ? s->outbox[s->noutbox - 1] : NULL;
    if (!b || b->nrows == b->capacity) {
        b = tw_batch_new(s->types, s->cfg.ncols, TW_BATCH_ROWS);
        s->outbox = tw_xrealloc(s->outbox, (s->noutbox + 1) * sizeof *s->outbox);
        s->outbox[s->noutbox++] = b;
    }
    uint32_t r = b->nrows++;
    for (uint32_t c = 0; c < s->cfg.ncols; c++) {
        tw_value v = row[c];
        if (v.type == TW_T_VARCHAR && !v.is_null)
            v.s = tw_batch_strdup(b, v.s.ptr, v.s.len);
        tw_column_put(&b->cols[c], r, &v);
    }
}

static void outbox_put_batch_row(sink_node *s, const tw_batch *in, uint32_t r)
{
    tw_value row[256];
    for (uint32_t c = 0; c < s->cfg.ncols && c < 256; c++)
        row[c] = tw_column_get(&in->cols[c], r);
    outbox_put(s, row);
}

static bool finalize_row(void *ctx, const tw_value *row, uint64_t count)
{
    sink_node *s = ctx;
    if (row_window_end(s, row) > s->watermark_us)
        return false;
    if (row_window_end(s, row) > s->cfg.resume_watermark_us)
        for (uint64_t k = 0; k < count; k++)
            outbox_put(s, row);
    return true;
}

/* Moves every pending row whose window has closed to the outbox. */
static void finalize(sink_node *s)
{
    if (s->pending && s->have_wm)
        tw_rowbag_scan(s->pending, finalize_row, s);
    s->stats.pending_rows = s->pending ? tw_rowbag_count(s->pending) : 0;
}

static void advance_watermark(sink_node *s, int64_t wm_us)
{
    if (!s->have_wm || wm_us > s->watermark_us) {
        s->watermark_us = wm_us;
        s->have_wm = true;
        s->stats.watermark_us = wm_us;
    }
}

static void sink_push(tw_node *node, const tw_batch *in)
{
    sink_node *s = (sink_node *)node;
    s->last_input_mono_us = tw_now_mono_us();
    if (s->cfg.mode == TW_SINK_UPSERT) {
        /* Keep the newest value per key: a delete removes the row from
         * upserts (if there) and remembers the key. */
        tw_batch keyb;
        tw_column kc[64];
        memset(&keyb, 0, sizeof keyb);
        keyb.ncols = s->cfg.nkey_cols;
        keyb.cols = kc;
        keyb.nrows = in->nrows;
        keyb.capacity = in->capacity;
        for (uint32_t k = 0; k < s->cfg.nkey_cols; k++)
            kc[k] = in->cols[s->key_cols[k]];
        for (uint32_t r = 0; r < in->nrows; r++) {
            int sign = in->ops ? tw_op_sign(in->ops[r]) : 1;
            uint64_t kh = tw_rowbag_hash_row(s->deleted, &keyb, r);
            /* remember the key once */
            tw_rowbag_apply(s->deleted, &keyb, r, kh, -1);
            tw_rowbag_apply(s->deleted, &keyb, r, kh, +1);
            uint64_t h = tw_rowbag_hash_row(s->upserts, in, r);
            tw_rowbag_apply(s->upserts, in, r, h, sign);
        }
        return;
    }
    if (s->cfg.input_append_only || !windowed(s)) {
        for (uint32_t r = 0; r < in->nrows; r++) {
            if (in->ops && tw_op_sign(in->ops[r]) < 0)
                continue; /* append-only input has none; never write a delete */
            if (windowed(s) && batch_window_end(s, in, r) <= s->cfg.resume_watermark_us)
                continue;
            outbox_put_batch_row(s, in, r);
        }
        return;
    }
    for (uint32_t r = 0; r < in->nrows; r++)
        s->hashes[r] = tw_rowbag_hash_row(s->pending, in, r);
    for (uint32_t r = 0; r < in->nrows; r++) {
        int64_t end = batch_window_end(s, in, r);
        if (!s->have_max_end || end > s->max_end_us) {
            s->max_end_us = end;
            s->have_max_end = true;
        }
        if (s->have_wm && end <= s->watermark_us) {
            s->stats.late_rows++; /* its window was already written */
            continue;
        }
        int sign = in->ops ? tw_op_sign(in->ops[r]) : 1;
        tw_rowbag_apply(s->pending, in, r, s->hashes[r], sign);
    }
    s->stats.pending_rows = tw_rowbag_count(s->pending);
}

static void sink_watermark(tw_node *node, int64_t wm_us)
{
    sink_node *s = (sink_node *)node;
    s->explicit_wm = true;
    advance_watermark(s, wm_us);
    finalize(s);
    tw_node_forward_watermark(node, wm_us);
}

typedef struct upsert_ctx {
    sink_node *s;
    tw_batch **keys;
    uint32_t nkeys;
} upsert_ctx;

static bool take_upsert_row(void *ctx, const tw_value *row, uint64_t count)
{
    upsert_ctx *u = ctx;
    (void)count;
    outbox_put(u->s, row);
    return true;
}

static bool take_deleted_key(void *ctx, const tw_value *row, uint64_t count)
{
    upsert_ctx *u = ctx;
    (void)count;
    tw_batch *b = u->nkeys ? u->keys[u->nkeys - 1] : NULL;
    if (!b || b->nrows == b->capacity) {
        b = tw_batch_new(u->s->key_types, u->s->cfg.nkey_cols, TW_BATCH_ROWS);
        u->keys = tw_xrealloc(u->keys, (u->nkeys + 1) * sizeof *u->keys);
        u->keys[u->nkeys++] = b;
    }
    uint32_t r = b->nrows++;
    for (uint32_t k = 0; k < u->s->cfg.nkey_cols; k++) {
        tw_value v = row[k];
        if (v.type == TW_T_VARCHAR && !v.is_null)
            v.s = tw_batch_strdup(b, v.s.ptr, v.s.len);
        tw_column_put(&b->cols[k], r, &v);
    }
    return true;
}

static void commit(sink_node *s)
{
    tw_batch **keys = NULL;
    uint32_t nkeys = 0;
    if (s->cfg.mode == TW_SINK_UPSERT) {
        upsert_ctx u = {s, NULL, 0};
        tw_rowbag_scan(s->deleted, take_deleted_key, &u);
        tw_rowbag_scan(s->upserts, take_upsert_row, &u);
        keys = u.keys;
        nkeys = u.nkeys;
    }
    bool empty = s->noutbox == 0 && nkeys == 0;
    /* Nothing new and no watermark progress to record: skip the commit. */
    if (empty && s->stats.commits > 0)
        return;
    char *positions = s->cfg.positions
                          ? s->cfg.positions(s->cfg.positions_ctx,
                                             s->have_wm ? s->watermark_us : INT64_MIN,
                                             s->cfg.window_size_us)
                          : NULL;
    tw_sink_commit c = {
        .rows = s->outbox,
        .nrows_batches = s->noutbox,
        .delete_keys = keys,
        .ndelete_batches = nkeys,
        .watermark_us = s->have_wm ? s->watermark_us : INT64_MIN,
        .positions = positions ? positions : "{}",
    };
    tw_err err;
    tw_err_clear(&err);
    if (empty && s->stats.commits == 0) {
        free(positions);
        return;
    }
    if (s->target.commit(s->target.ctx, &c, &err)) {
        uint64_t rows = 0;
        for (uint32_t i = 0; i < s->noutbox; i++) {
            rows += s->outbox[i]->nrows;
            tw_batch_free(s->outbox[i]);
        }
        s->noutbox = 0;
        s->stats.rows_written += rows;
        s->stats.commits++;
        s->stats.last_commit_mono_us = tw_now_mono_us();
    } else {
        s->stats.commit_failures++;
        size_t n = strnlen(err.msg, sizeof s->stats.last_error - 1);
        memcpy(s->stats.last_error, err.msg, n);
        s->stats.last_error[n] = '\0';
        fprintf(stderr, "tidewatch: sink '%s': commit failed, will retry: %s\n", s->name,
                err.msg);
        if (s->cfg.mode == TW_SINK_UPSERT) {
            /* Put the changes back for the next attempt. */
            for (uint32_t i = 0; i < s->noutbox; i++)
                for (uint32_t r = 0; r < s->outbox[i]->nrows; r++)
                    tw_rowbag_apply(s->upserts, s->outbox[i], r,
                                    tw_rowbag_hash_row(s->upserts, s->outbox[i], r), +1);
            for (uint32_t i = 0; i < nkeys; i++)
                for (uint32_t r = 0; r < keys[i]->nrows; r++)
                    tw_rowbag_apply(s->deleted, keys[i], r,
                                    tw_rowbag_hash_row(s->deleted, keys[i], r), +1);
            for (uint32_t i = 0; i < s->noutbox; i++)
                tw_batch_free(s->outbox[i]);
            s->noutbox = 0;
        }
    }
    for (uint32_t i = 0; i < nkeys; i++)
        tw_batch_free(keys[i]);
    free(keys);
    free(positions);
}

static void sink_barrier(tw_node *node)
{
    sink_node *s = (sink_node *)node;
    if (s->cfg.mode == TW_SINK_APPEND && s->pending && !s->explicit_wm && s->have_max_end) {
        /* Implicit watermark: a window is complete once data one window and
         * a lateness past its end has arrived, or the input has been idle
         * that long. */
        int64_t idle_us = tw_now_mono_us() - s->last_input_mono_us;
        int64_t progress_us;
        bool known = true;
        if (s->cfg.progress)
            known = s->cfg.progress(s->cfg.positions_ctx, &progress_us);
        else
            progress_us = s->max_end_us - s->cfg.window_size_us;
        if (known) {
            int64_t wm = progress_us - s->cfg.lateness_us;
            if (idle_us > s->cfg.lateness_us)
                wm += idle_us;
            advance_watermark(s, wm);
            finalize(s);
        }
    }
    if (++s->barriers >= s->cfg.commit_every) {
        s->barriers = 0;
        commit(s);
    }
}

void tw_sink_flush(tw_node *node)
{
    sink_node *s = (sink_node *)node;
    finalize(s);
    commit(s);
    s->barriers = 0;
}

static void sink_finish(tw_node *node)
{
    sink_node *s = (sink_node *)node;
    if (s->pending && s->have_max_end) {
        advance_watermark(s, INT64_MAX);
        finalize(s);
    }
    commit(s);
    tw_node_forward_finish(node);
}

static void sink_destroy(tw_node *node)
{
    sink_node *s = (sink_node *)node;
    if (s->target.close)
        s->target.close(s->target.ctx);
    tw_rowbag_free(s->pending);
    tw_rowbag_free(s->upserts);
    tw_rowbag_free(s->deleted);
    for (uint32_t i = 0; i < s->noutbox; i++)
        tw_batch_free(s->outbox[i]);
    free(s->outbox);
    free(s->types);
    free(s->key_cols);
    free(s->key_types);
    free(s->name);
    free(s);
}

static const tw_node_ops sink_ops = {
    .kind = "sink",
    .push = sink_push,
    .watermark = sink_watermark,
    .barrier = sink_barrier,
    .finish = sink_finish,
    .destroy = sink_destroy,
};

tw_node *tw_sink_new(const tw_sink_config *config, tw_sink_target target)
{
    sink_node *s = tw_xcalloc(1, sizeof *s);
    s->stats.watermark_us = INT64_MIN; /* none yet */
    tw_node_init(&s->base, &sink_ops);
    s->cfg = *config;
    s->name = tw_xstrdup(config->name);
    s->cfg.name = s->name;
    s->types = tw_xmalloc((config->ncols ? config->ncols : 1) * sizeof *s->types);
    memcpy(s->types, config->types, config->ncols * sizeof *s->types);
    s->cfg.types = s->types;
    s->key_cols = tw_xcalloc(config->nkey_cols ? config->nkey_cols : 1, sizeof *s->key_cols);
    s->key_types = tw_xcalloc(config->nkey_cols ? config->nkey_cols : 1, sizeof *s->key_types);
    for (uint32_t k = 0; k < config->nkey_cols; k++) {
        s->key_cols[k] = config->key_cols[k];
        s->key_types[k] = config->types[config->key_cols[k]];
    }
    s->cfg.key_cols = s->key_cols;
    if (s->cfg.commit_every == 0)
        s->cfg.commit_every = 1;
    s->target = target;
    if (config->mode == TW_SINK_UPSERT) {
        s->upserts = tw_rowbag_new(s->types, config->ncols);
        s->deleted = tw_rowbag_new(s->key_types, config->nkey_cols);
    } else if (!config->input_append_only && windowed(s)) {
        s->pending = tw_rowbag_new(s->types, config->ncols);
    }
    s->last_input_mono_us = tw_now_mono_us();
    return &s->base;
}

void tw_sink_get_stats(const tw_node *node, tw_sink_stats *stats)
{
    *stats = ((const sink_node *)node)->stats;
}

/* parquet_read.c - Parquet reader (see parquet_read.h).
 *
 * Opening reads the footer and decodes it into per-leaf schema facts and
 * per-row-group chunk descriptions (offsets, codec, raw statistics pointing
 * into the owned footer copy). Reading a row group fetches each requested
 * chunk's byte range, walks its pages (dictionary first when present), and
 * decodes definition levels and values straight into the batch's columns.
 * Strings are copied into the batch's arena one page body (or dictionary)
 * at a time, and rows point into those copies.
 */
#define _GNU_SOURCE /* pread on older glibc headers */
#include "iceberg/parquet_read.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "common/arena.h"
#include "iceberg/fileio.h"
#include "iceberg/thrift_read.h"

/* Enum values from parquet.thrift. */
enum { PQ_BOOLEAN = 0, PQ_INT32 = 1, PQ_INT64 = 2, PQ_INT96 = 3, PQ_FLOAT = 4, PQ_DOUBLE = 5,
       PQ_BYTE_ARRAY = 6, PQ_FIXED = 7 };
enum { PQ_CT_UTF8 = 0, PQ_CT_DECIMAL = 5, PQ_CT_DATE = 6, PQ_CT_TIME_MILLIS = 7,
       PQ_CT_TIME_MICROS = 8, PQ_CT_TIMESTAMP_MILLIS = 9, PQ_CT_TIMESTAMP_MICROS = 10,
       PQ_CT_UINT_8 = 11, PQ_CT_UINT_16 = 12, PQ_CT_UINT_32 = 13, PQ_CT_UINT_64 = 14,
       PQ_CT_INT_8 = 15, PQ_CT_INT_16 = 16, PQ_CT_INT_32 = 17, PQ_CT_INT_64 = 18,
       PQ_CT_INTERVAL = 21 };
enum { PQ_REQUIRED = 0, PQ_OPTIONAL = 1, PQ_REPEATED = 2 };
enum { PQ_ENC_PLAIN = 0, PQ_ENC_PLAIN_DICTIONARY = 2, PQ_ENC_RLE = 3, PQ_ENC_RLE_DICTIONARY = 8 };
enum { PQ_CODEC_UNCOMPRESSED = 0, PQ_CODEC_SNAPPY = 1, PQ_CODEC_GZIP = 2, PQ_CODEC_ZSTD = 6 };
enum { PQ_PAGE_DATA = 0, PQ_PAGE_INDEX = 1, PQ_PAGE_DICTIONARY = 2, PQ_PAGE_DATA_V2 = 3 };

/* Footers larger than this are refused rather than allocated. */
#define MAX_FOOTER_BYTES ((uint32_t)256 << 20)

typedef struct leaf {
    char *name;
    int phys;
    int repetition;
    bool top_level;
    int32_t field_id;
    tw_type type;
    int64_t time_mul, time_div; /* INT64 timestamps to microseconds */
} leaf;

typedef struct raw_bytes {
    const uint8_t *data; /* into the footer; NULL when absent */
    uint32_t len;
} raw_bytes;

typedef struct chunk {
    int codec;
    int64_t num_values;
    int64_t data_page_offset;
    int64_t dict_page_offset; /* -1: none */
    int64_t compressed_bytes;
    bool has_null_count;
    int64_t null_count;
    raw_bytes min_value, max_value; /* fields 6 and 5: the column order */
    raw_bytes legacy_min, legacy_max; /* fields 2 and 1: signed order */
} chunk;

typedef struct row_group {
    int64_t num_rows;
    chunk *chunks; /* nleaves */
} row_group;

struct tw_parquet_reader {
    const uint8_t *mem; /* open_memory: the file; else NULL */
    size_t mem_len;
    int fd;             /* open_file: the descriptor; else -1 */
    char *location;
    uint64_t file_len;
    uint8_t *footer;
    uint32_t footer_len;

    leaf *leaves;
    uint32_t nleaves;
    tw_parquet_read_column *cols; /* top-level readable-or-not primitive columns */
    uint32_t *col_leaf;
    uint32_t ncols;
    row_group *rgs;
    uint32_t nrgs;
    int64_t num_rows;
    char **kv_keys, **kv_values;
    uint32_t nkv;

    uint8_t *chunk_buf; /* file reads */
    size_t chunk_cap;
    uint8_t *page_buf;  /* decompressed page bodies */
    size_t page_cap;
    uint32_t *scratch_u32; /* levels and dictionary indices */
    size_t scratch_cap;
    ZSTD_DCtx *zstd;
};

/* ---- footer ------------------------------------------------------------- */

typedef struct schema_elem {
    int phys; /* -1: a group */
    int repetition;
    const uint8_t *name;
    uint32_t name_len;
    int32_t num_children;
    int converted; /* -1: none */
    int32_t field_id; /* -1: none */
    /* logical type, as far as tidewatch cares */
    int logical;      /* LogicalType union field id, 0: none */
    bool ts_utc;
    int ts_unit;      /* 1 millis, 2 micros, 3 nanos */
    int int_bits;
    bool int_signed;
} schema_elem;

static void parse_logical(tw_thrift_r *t, schema_elem *e)
{
    int16_t last = 0, id;
    uint8_t ty;
    while (tw_thrift_r_field(t, &last, &id, &ty)) {
        if (ty != TW_THRIFT_STRUCT) {
            tw_thrift_r_skip(t, ty);
            continue;
        }
        e->logical = id;
        int16_t l2 = 0, id2;
        uint8_t ty2;
        while (tw_thrift_r_field(t, &l2, &id2, &ty2)) {
            if (id == 8 && id2 == 1 && (ty2 == TW_THRIFT_BOOL_TRUE || ty2 == TW_THRIFT_BOOL_FALSE)) {
                e->ts_utc = ty2 == TW_THRIFT_BOOL_TRUE;
            } else if (id == 8 && id2 == 2 && ty2 == TW_THRIFT_STRUCT) {
                int16_t l3 = 0, id3;
                uint8_t ty3;
                while (tw_thrift_r_field(t, &l3, &id3, &ty3)) {
                    e->ts_unit = id3;
                    tw_thrift_r_skip(t, ty3);
                }
            } else if (id == 10 && id2 == 1) {
                e->int_bits = (int)tw_thrift_r_int(t, ty2);
            } else if (id == 10 && id2 == 2) {
                e->int_signed = ty2 == TW_THRIFT_BOOL_TRUE;
            } else {
                tw_thrift_r_skip(t, ty2);
            }
        }
    }
}

static void parse_schema_elem(tw_thrift_r *t, schema_elem *e)
{
    *e = (schema_elem){.phys = -1, .converted = -1, .field_id = -1, .int_signed = true};
    int16_t last = 0, id;
    uint8_t ty;
    while (tw_thrift_r_field(t, &last, &id, &ty)) {
        switch (id) {
        case 1: e->phys = (int)tw_thrift_r_int(t, ty); break;
        case 3: e->repetition = (int)tw_thrift_r_int(t, ty); break;
        case 4:
            if (ty == TW_THRIFT_BINARY)
                tw_thrift_r_binary(t, &e->name, &e->name_len);
            else
                tw_thrift_r_skip(t, ty);
            break;
        case 5: e->num_children = (int32_t)tw_thrift_r_int(t, ty); break;
        case 6: e->converted = (int)tw_thrift_r_int(t, ty); break;
        case 9: e->field_id = (int32_t)tw_thrift_r_int(t, ty); break;
        case 10:
            if (ty == TW_THRIFT_STRUCT)
                parse_logical(t, e);
            else
                tw_thrift_r_skip(t, ty);
            break;
        default: tw_thrift_r_skip(t, ty); break;
        }
    }
}

/* The tw_type a leaf reads as, or TW_T_NULL. */
static tw_type leaf_type(const schema_elem *e, leaf *l)
{
    l->time_mul = 1;
    l->time_div = 1;
    int lt = e->logical;
    if (lt == 5 || e->converted == PQ_CT_DECIMAL || e->converted == PQ_CT_INTERVAL)
        return TW_T_NULL;
    switch (e->phys) {
    case PQ_BOOLEAN: return TW_T_BOOL;
    case PQ_INT32:
        if (lt == 7 || e->converted == PQ_CT_TIME_MILLIS || e->converted == PQ_CT_UINT_32 ||
            (lt == 10 && !e->int_signed && e->int_bits == 32))
            return TW_T_NULL;
        if ((lt == 10 && e->int_bits <= 16 && e->int_signed) || e->converted == PQ_CT_INT_8 ||
            e->converted == PQ_CT_INT_16)
            return TW_T_INT16;
        return TW_T_INT32; /* also DATE (days) and small unsigned ints */
    case PQ_INT64:
        if (lt == 8 || e->converted == PQ_CT_TIMESTAMP_MICROS ||
            e->converted == PQ_CT_TIMESTAMP_MILLIS) {
            int unit = lt == 8 ? e->ts_unit : e->converted == PQ_CT_TIMESTAMP_MILLIS ? 1 : 2;
            if (unit == 1)
                l->time_mul = 1000;
            else if (unit == 3)
                l->time_div = 1000;
            /* A converted type alone means adjusted to UTC (the spec's
             * compatibility rule). */
            return lt == 8 && !e->ts_utc ? TW_T_TIMESTAMP : TW_T_TIMESTAMPTZ;
        }
        if (lt == 7 || e->converted == PQ_CT_TIME_MICROS || e->converted == PQ_CT_UINT_64 ||
            (lt == 10 && !e->int_signed))
            return TW_T_NULL;
        return TW_T_INT64;
    case PQ_FLOAT: return TW_T_FLOAT32;
    case PQ_DOUBLE: return TW_T_FLOAT64;
    case PQ_BYTE_ARRAY: return TW_T_VARCHAR;
    default: return TW_T_NULL;
    }
}

static bool parse_schema(tw_parquet_reader *r, tw_thrift_r *t, tw_err *err)
{
    uint8_t et;
    uint32_t n;
    if (!tw_thrift_r_list(t, &et, &n) || et != TW_THRIFT_STRUCT || n == 0)
        return tw_err_set(err, TW_ERR_IO, "parquet: footer schema is malformed");
    schema_elem *elems = tw_xcalloc(n, sizeof *elems);
    for (uint32_t i = 0; i < n && !t->failed; i++)
        parse_schema_elem(t, &elems[i]);
    bool ok = !t->failed;
    /* Walk the depth-first list: a stack of remaining children per level. */
    int32_t remaining[TW_THRIFT_MAX_DEPTH];
    int depth = 0;
    remaining[0] = elems[0].num_children;
    r->leaves = tw_xcalloc(n, sizeof *r->leaves);
    for (uint32_t i = 1; i < n && ok; i++) {
        while (depth > 0 && remaining[depth] == 0)
            depth--;
        if (remaining[depth] <= 0) {
            ok = false;
            break;
        }
        remaining[depth]--;
        const schema_elem *e = &elems[i];
        if (e->num_children > 0) {
            if (depth + 1 >= TW_THRIFT_MAX_DEPTH) {
                ok = false;
                break;
            }
            remaining[++depth] = e->num_children;
            continue;
        }
        leaf *l = &r->leaves[r->nleaves++];
        l->name = tw_xmalloc(e->name_len + 1);
        if (e->name_len)
            memcpy(l->name, e->name, e->name_len);
        l->name[e->name_len] = '\0';
        l->phys = e->phys;
        l->repetition = e->repetition;
        l->top_level = depth == 0 && e->repetition != PQ_REPEATED;
        l->field_id = e->field_id;
        l->type = l->top_level ? leaf_type(e, l) : TW_T_NULL;
    }
    free(elems);
    if (!ok)
        return tw_err_set(err, TW_ERR_IO, "parquet: footer schema tree is malformed");
    r->cols = tw_xcalloc(r->nleaves ? r->nleaves : 1, sizeof *r->cols);
    r->col_leaf = tw_xcalloc(r->nleaves ? r->nleaves : 1, sizeof *r->col_leaf);
    for (uint32_t i = 0; i < r->nleaves; i++) {
        const leaf *l = &r->leaves[i];
        if (!l->top_level)
            continue;
        r->col_leaf[r->ncols] = i;
        r->cols[r->ncols++] = (tw_parquet_read_column){l->name, l->type, l->field_id,
                                                       l->repetition == PQ_REQUIRED};
    }
    return true;
}

static void parse_statistics(tw_thrift_r *t, chunk *c)
{
    int16_t last = 0, id;
    uint8_t ty;
    while (tw_thrift_r_field(t, &last, &id, &ty)) {
        raw_bytes *dst = NULL;
        switch (id) {
        case 1: dst = &c->legacy_max; break;
        case 2: dst = &c->legacy_min; break;
        case 3:
            c->has_null_count = true;
            c->null_count = tw_thrift_r_int(t, ty);
            continue;
        case 5: dst = &c->max_value; break;
        case 6: dst = &c->min_value; break;
        default: break;
        }
        if (dst && ty == TW_THRIFT_BINARY)
            tw_thrift_r_binary(t, &dst->data, &dst->len);
        else
            tw_thrift_r_skip(t, ty);
    }
}

static void parse_column_meta(tw_thrift_r *t, chunk *c)
{
    int16_t last = 0, id;
    uint8_t ty;
    while (tw_thrift_r_field(t, &last, &id, &ty)) {
        switch (id) {
        case 4: c->codec = (int)tw_thrift_r_int(t, ty); break;
        case 5: c->num_values = tw_thrift_r_int(t, ty); break;
        case 7: c->compressed_bytes = tw_thrift_r_int(t, ty); break;
        case 9: c->data_page_offset = tw_thrift_r_int(t, ty); break;
        case 11: c->dict_page_offset = tw_thrift_r_int(t, ty); break;
        case 12:
            if (ty == TW_THRIFT_STRUCT)
                parse_statistics(t, c);
            else
                tw_thrift_r_skip(t, ty);
            break;
        default: tw_thrift_r_skip(t, ty); break;
        }
    }
}

static bool parse_row_group(tw_parquet_reader *r, tw_thrift_r *t, row_group *g)
{
    g->chunks = tw_xcalloc(r->nleaves ? r->nleaves : 1, sizeof *g->chunks);
    uint32_t nchunks = 0;
    int16_t last = 0, id;
    uint8_t ty;
    while (tw_thrift_r_field(t, &last, &id, &ty)) {
        if (id == 1 && ty == TW_THRIFT_LIST) {
            uint8_t et;
            uint32_t n;
            if (!tw_thrift_r_list(t, &et, &n) || et != TW_THRIFT_STRUCT || n != r->nleaves)
                return false;
            for (uint32_t i = 0; i < n && !t->failed; i++) {
                chunk *c = &g->chunks[i];
                c->dict_page_offset = -1;
                int16_t l2 = 0, id2;
                uint8_t ty2;
                while (tw_thrift_r_field(t, &l2, &id2, &ty2)) {
                    if (id2 == 3 && ty2 == TW_THRIFT_STRUCT)
                        parse_column_meta(t, c);
                    else
                        tw_thrift_r_skip(t, ty2);
                }
                nchunks++;
            }
        } else if (id == 3) {
            g->num_rows = tw_thrift_r_int(t, ty);
        } else {
            tw_thrift_r_skip(t, ty);
        }
    }
    return !t->failed && nchunks == r->nleaves && g->num_rows >= 0;
}

static char *dup_bytes(const uint8_t *p, uint32_t n)
{
    char *s = tw_xmalloc((size_t)n + 1);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static bool parse_footer(tw_parquet_reader *r, tw_err *err)
{
    tw_thrift_r t;
    tw_thrift_r_init(&t, r->footer, r->footer_len);
    bool have_schema = false, have_groups = false;
    int16_t last = 0, id;
    uint8_t ty;
    while (tw_thrift_r_field(&t, &last, &id, &ty)) {
        if (id == 2 && ty == TW_THRIFT_LIST && !have_schema) {
            if (!parse_schema(r, &t, err))
                return false;
            have_schema = true;
        } else if (id == 3) {
            r->num_rows = tw_thrift_r_int(&t, ty);
        } else if (id == 4 && ty == TW_THRIFT_LIST && have_schema) {
            uint8_t et;
            uint32_t n;
            if (!tw_thrift_r_list(&t, &et, &n) || et != TW_THRIFT_STRUCT)
                break;
            r->rgs = tw_xcalloc(n ? n : 1, sizeof *r->rgs);
            for (uint32_t i = 0; i < n; i++) {
                r->nrgs++;
                if (!parse_row_group(r, &t, &r->rgs[i]))
                    return tw_err_set(err, TW_ERR_IO, "parquet: row group %u is malformed", i);
            }
            have_groups = true;
        } else if (id == 5 && ty == TW_THRIFT_LIST) {
            uint8_t et;
            uint32_t n;
            if (!tw_thrift_r_list(&t, &et, &n) || et != TW_THRIFT_STRUCT)
                break;
            r->kv_keys = tw_xcalloc(n ? n : 1, sizeof *r->kv_keys);
            r->kv_values = tw_xcalloc(n ? n : 1, sizeof *r->kv_values);
            for (uint32_t i = 0; i < n && !t.failed; i++) {
                int16_t l2 = 0, id2;
                uint8_t ty2;
                const uint8_t *p;
                uint32_t len;
                while (tw_thrift_r_field(&t, &l2, &id2, &ty2)) {
                    if ((id2 == 1 || id2 == 2) && ty2 == TW_THRIFT_BINARY &&
                        tw_thrift_r_binary(&t, &p, &len)) {
                        char **slot = id2 == 1 ? &r->kv_keys[r->nkv] : &r->kv_values[r->nkv];
                        free(*slot);
                        *slot = dup_bytes(p, len);
                    } else {
                        tw_thrift_r_skip(&t, ty2);
                    }
                }
                if (r->kv_keys[r->nkv])
                    r->nkv++;
                else
                    free(r->kv_values[r->nkv]), r->kv_values[r->nkv] = NULL;
            }
        } else {
            tw_thrift_r_skip(&t, ty);
        }
    }
    if (t.failed || !have_schema)
        return tw_err_set(err, TW_ERR_IO, "parquet: the footer (FileMetaData) is malformed");
    if (!have_groups)
        r->nrgs = 0;
    return true;
}

/* ---- opening ------------------------------------------------------------ */

static bool read_at(tw_parquet_reader *r, uint64_t offset, size_t len, const uint8_t **out,
                    tw_err *err)
{
    if (offset > r->file_len || len > r->file_len - offset)
        return tw_err_set(err, TW_ERR_IO,
                          "parquet: %s: byte range %llu+%zu lies outside the file (%llu bytes)",
                          r->location, (unsigned long long)offset, len,
                          (unsigned long long)r->file_len);
    if (r->mem) {
        *out = r->mem + offset;
        return true;
    }
    if (len > r->chunk_cap) {
        free(r->chunk_buf);
        r->chunk_cap = len;
        r->chunk_buf = tw_xmalloc(len ? len : 1);
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(r->fd, r->chunk_buf + done, len - done, (off_t)(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return tw_err_set(err, TW_ERR_IO, "parquet: %s: reading %zu bytes at %llu: %s",
                              r->location, len, (unsigned long long)offset,
                              n < 0 ? strerror(errno) : "unexpected end of file");
        done += (size_t)n;
    }
    *out = r->chunk_buf;
    return true;
}

static tw_parquet_reader *finish_open(tw_parquet_reader *r, tw_err *err)
{
    const uint8_t *tail = NULL;
    if (r->file_len < 12) {
        tw_err_set(err, TW_ERR_IO, "parquet: %s is not a Parquet file (%llu bytes)", r->location,
                   (unsigned long long)r->file_len);
        tw_parquet_reader_free(r);
        return NULL;
    }
    if (!read_at(r, r->file_len - 8, 8, &tail, err)) {
        tw_parquet_reader_free(r);
        return NULL;
    }
    if (memcmp(tail + 4, "PAR1", 4) != 0) {
        tw_err_set(err, TW_ERR_IO, "parquet: %s is not a Parquet file (no PAR1 trailer)",
                   r->location);
        tw_parquet_reader_free(r);
        return NULL;
    }
    uint32_t flen = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 |
                    (uint32_t)tail[3] << 24;
    const uint8_t *footer;
    if (flen > MAX_FOOTER_BYTES || (uint64_t)flen + 12 > r->file_len) {
        tw_err_set(err, TW_ERR_IO, "parquet: %s: footer length %u does not fit the file",
                   r->location, flen);
        tw_parquet_reader_free(r);
        return NULL;
    }
    if (!read_at(r, r->file_len - 8 - flen, flen, &footer, err)) {
        tw_parquet_reader_free(r);
        return NULL;
    }
    r->footer = tw_xmalloc(flen ? flen : 1);
    memcpy(r->footer, footer, flen);
    r->footer_len = flen;
    if (!parse_footer(r, err)) {
        tw_err_prefix(err, "%s", r->location);
        tw_parquet_reader_free(r);
        return NULL;
    }
    return r;
}

tw_parquet_reader *tw_parquet_reader_open_memory(const void *data, size_t len, tw_err *err)
{
    tw_parquet_reader *r = tw_xcalloc(1, sizeof *r);
    r->fd = -1;
    r->mem = data;
    r->mem_len = len;
    r->file_len = len;
    r->location = tw_xstrdup("(memory)");
    return finish_open(r, err);
}

tw_parquet_reader *tw_parquet_reader_open_file(const char *location, tw_err *err)
{
    const char *path = tw_fileio_local_path(location);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        tw_err_set(err, TW_ERR_IO, "parquet: cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        tw_err_set(err, TW_ERR_IO, "parquet: cannot stat %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    tw_parquet_reader *r = tw_xcalloc(1, sizeof *r);
    r->fd = fd;
    r->file_len = (uint64_t)st.st_size;
    r->location = tw_xstrdup(path);
    return finish_open(r, err);
}

void tw_parquet_reader_free(tw_parquet_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    for (uint32_t i = 0; i < r->nleaves; i++)
        free(r->leaves[i].name);
    free(r->leaves);
    free(r->cols);
    free(r->col_leaf);
    for (uint32_t g = 0; g < r->nrgs; g++)
        free(r->rgs[g].chunks);
    free(r->rgs);
    for (uint32_t i = 0; i < r->nkv; i++) {
        free(r->kv_keys[i]);
        free(r->kv_values[i]);
    }
    free(r->kv_keys);
    free(r->kv_values);
    free(r->footer);
    free(r->chunk_buf);
    free(r->page_buf);
    free(r->scratch_u32);
    ZSTD_freeDCtx(r->zstd);
    free(r->location);
    free(r);
}

uint32_t tw_parquet_reader_ncols(const tw_parquet_reader *r) { return r->ncols; }

const tw_parquet_read_column *tw_parquet_reader_column(const tw_parquet_reader *r, uint32_t col)
{
    assert(col < r->ncols);
    return &r->cols[col];
}

int tw_parquet_reader_find(const tw_parquet_reader *r, const char *name)
{
    for (uint32_t i = 0; i < r->ncols; i++)
        if (!strcmp(r->cols[i].name, name))
            return (int)i;
    return -1;
}

int tw_parquet_reader_find_field_id(const tw_parquet_reader *r, int32_t id)
{
    for (uint32_t i = 0; i < r->ncols; i++)
        if (r->cols[i].field_id == id)
            return (int)i;
    return -1;
}

uint64_t tw_parquet_reader_num_rows(const tw_parquet_reader *r)
{
    return r->num_rows > 0 ? (uint64_t)r->num_rows : 0;
}

uint32_t tw_parquet_reader_num_row_groups(const tw_parquet_reader *r) { return r->nrgs; }

uint64_t tw_parquet_reader_row_group_rows(const tw_parquet_reader *r, uint32_t rg)
{
    assert(rg < r->nrgs);
    return (uint64_t)r->rgs[rg].num_rows;
}

const char *tw_parquet_reader_metadata(const tw_parquet_reader *r, const char *key)
{
    for (uint32_t i = 0; i < r->nkv; i++)
        if (!strcmp(r->kv_keys[i], key))
            return r->kv_values[i];
    return NULL;
}

/* ---- statistics --------------------------------------------------------- */

static int64_t le_int(const uint8_t *p, uint32_t n)
{
    uint64_t v = 0;
    for (uint32_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    if (n == 4)
        return (int32_t)(uint32_t)v;
    return (int64_t)v;
}

static bool stat_value(const leaf *l, raw_bytes b, tw_value *out)
{
    *out = (tw_value){.type = l->type};
    switch (l->phys) {
    case PQ_BOOLEAN:
        if (b.len != 1)
            return false;
        out->b = b.data[0] != 0;
        return true;
    case PQ_INT32:
        if (b.len != 4)
            return false;
        out->i64 = le_int(b.data, 4);
        return true;
    case PQ_INT64:
        if (b.len != 8)
            return false;
        out->i64 = le_int(b.data, 8) * l->time_mul / l->time_div;
        return true;
    case PQ_FLOAT: {
        float f;
        if (b.len != 4)
            return false;
        memcpy(&f, b.data, 4);
        out->f64 = f;
        return out->f64 == out->f64; /* a NaN bound says nothing */
    }
    case PQ_DOUBLE:
        if (b.len != 8)
            return false;
        memcpy(&out->f64, b.data, 8);
        return out->f64 == out->f64;
    case PQ_BYTE_ARRAY:
        out->s = (tw_str){(const char *)b.data, b.len};
        return true;
    default: return false;
    }
}

void tw_parquet_reader_chunk_stats(const tw_parquet_reader *r, uint32_t rg, uint32_t col,
                                   tw_parquet_chunk_stats *out)
{
    assert(rg < r->nrgs && col < r->ncols);
    const leaf *l = &r->leaves[r->col_leaf[col]];
    const chunk *c = &r->rgs[rg].chunks[r->col_leaf[col]];
    *out = (tw_parquet_chunk_stats){.num_values = c->num_values > 0 ? (uint64_t)c->num_values : 0,
                                    .has_null_count = c->has_null_count,
                                    .null_count = c->null_count > 0 ? (uint64_t)c->null_count : 0};
    if (l->type == TW_T_NULL)
        return;
    raw_bytes lo = c->min_value, hi = c->max_value;
    /* The deprecated fields use signed byte order: only numbers and
     * booleans agree with tidewatch's comparison. */
    if ((!lo.data || !hi.data) && l->phys != PQ_BYTE_ARRAY) {
        lo = c->legacy_min;
        hi = c->legacy_max;
    }
    if (!lo.data || !hi.data)
        return;
    out->has_bounds = stat_value(l, lo, &out->min) && stat_value(l, hi, &out->max);
}

/* ---- pages -------------------------------------------------------------- */

typedef struct page_header {
    int type;
    int32_t uncompressed_bytes, compressed_bytes;
    int32_t num_values;
    int encoding;
    int def_encoding;
    /* v2 */
    int32_t num_nulls, num_rows;
    int32_t def_bytes, rep_bytes;
    bool is_compressed;
} page_header;

static bool parse_page_header(tw_thrift_r *t, page_header *h)
{
    *h = (page_header){.type = -1, .is_compressed = true, .def_encoding = PQ_ENC_RLE};
    int16_t last = 0, id;
    uint8_t ty;
    while (tw_thrift_r_field(t, &last, &id, &ty)) {
        if (id == 1) {
            h->type = (int)tw_thrift_r_int(t, ty);
        } else if (id == 2) {
            h->uncompressed_bytes = (int32_t)tw_thrift_r_int(t, ty);
        } else if (id == 3) {
            h->compressed_bytes = (int32_t)tw_thrift_r_int(t, ty);
        } else if ((id == 5 || id == 7 || id == 8) && ty == TW_THRIFT_STRUCT) {
            int16_t l2 = 0, id2;
            uint8_t ty2;
            while (tw_thrift_r_field(t, &l2, &id2, &ty2)) {
                if (id2 == 1) {
                    h->num_values = (int32_t)tw_thrift_r_int(t, ty2);
                } else if (id == 5 && id2 == 2) {
                    h->encoding = (int)tw_thrift_r_int(t, ty2);
                } else if (id == 5 && id2 == 3) {
                    h->def_encoding = (int)tw_thrift_r_int(t, ty2);
                } else if (id == 7 && id2 == 2) {
                    h->encoding = (int)tw_thrift_r_int(t, ty2);
                } else if (id == 8 && id2 == 2) {
                    h->num_nulls = (int32_t)tw_thrift_r_int(t, ty2);
                } else if (id == 8 && id2 == 3) {
                    h->num_rows = (int32_t)tw_thrift_r_int(t, ty2);
                } else if (id == 8 && id2 == 4) {
                    h->encoding = (int)tw_thrift_r_int(t, ty2);
                } else if (id == 8 && id2 == 5) {
                    h->def_bytes = (int32_t)tw_thrift_r_int(t, ty2);
                } else if (id == 8 && id2 == 6) {
                    h->rep_bytes = (int32_t)tw_thrift_r_int(t, ty2);
                } else if (id == 8 && id2 == 7 &&
                           (ty2 == TW_THRIFT_BOOL_TRUE || ty2 == TW_THRIFT_BOOL_FALSE)) {
                    h->is_compressed = ty2 == TW_THRIFT_BOOL_TRUE;
                } else {
                    tw_thrift_r_skip(t, ty2);
                }
            }
        } else {
            tw_thrift_r_skip(t, ty);
        }
    }
    return !t->failed && h->type >= 0 && h->compressed_bytes >= 0 && h->uncompressed_bytes >= 0 &&
           h->num_values >= 0 && h->def_bytes >= 0 && h->rep_bytes >= 0;
}

static uint8_t *page_space(tw_parquet_reader *r, size_t n)
{
    if (n > r->page_cap) {
        free(r->page_buf);
        r->page_cap = n;
        r->page_buf = tw_xmalloc(n ? n : 1);
    }
    return r->page_buf;
}

static uint32_t *u32_space(tw_parquet_reader *r, size_t n)
{
    if (n > r->scratch_cap) {
        free(r->scratch_u32);
        r->scratch_cap = n;
        r->scratch_u32 = tw_xmalloc((n ? n : 1) * sizeof *r->scratch_u32);
    }
    return r->scratch_u32;
}

/* Decompresses src into the page buffer (exactly out_len bytes), or
 * returns src when the codec is UNCOMPRESSED. */
static bool decompress(tw_parquet_reader *r, int codec, const uint8_t *src, size_t len,
                       size_t out_len, const uint8_t **out, tw_err *err)
{
    if (codec == PQ_CODEC_UNCOMPRESSED) {
        if (len != out_len)
            return tw_err_set(err, TW_ERR_IO, "parquet: %s: uncompressed page of %zu bytes "
                              "claims %zu", r->location, len, out_len);
        *out = src;
        return true;
    }
    uint8_t *dst = page_space(r, out_len);
    *out = dst;
    switch (codec) {
    case PQ_CODEC_SNAPPY: {
        size_t n = 0;
        if (snappy_uncompressed_length((const char *)src, len, &n) != SNAPPY_OK || n != out_len ||
            snappy_uncompress((const char *)src, len, (char *)dst, &n) != SNAPPY_OK)
            return tw_err_set(err, TW_ERR_IO, "parquet: %s: corrupt snappy page", r->location);
        return true;
    }
    case PQ_CODEC_ZSTD: {
        if (!r->zstd && !(r->zstd = ZSTD_createDCtx()))
            return tw_err_set(err, TW_ERR_NOMEM, "parquet: cannot allocate a zstd context");
        size_t n = ZSTD_decompressDCtx(r->zstd, dst, out_len, src, len);
        if (ZSTD_isError(n) || n != out_len)
            return tw_err_set(err, TW_ERR_IO, "parquet: %s: corrupt zstd page (%s)", r->location,
                              ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong size");
        return true;
    }
    case PQ_CODEC_GZIP: {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (inflateInit2(&z, 15 + 32) != Z_OK) /* gzip or zlib header */
            return tw_err_set(err, TW_ERR_NOMEM, "parquet: gzip initialisation failed");
        z.next_in = (Bytef *)src;
        z.avail_in = (uInt)len;
        z.next_out = dst;
        z.avail_out = (uInt)out_len;
        int rc = inflate(&z, Z_FINISH);
        size_t n = out_len - z.avail_out;
        inflateEnd(&z);
        if (rc != Z_STREAM_END || n != out_len)
            return tw_err_set(err, TW_ERR_IO, "parquet: %s: corrupt gzip page", r->location);
        return true;
    }
    default:
        return tw_err_set(err, TW_ERR_UNSUPPORTED,
                          "parquet: %s: compression codec %d is not supported (zstd, snappy, "
                          "gzip or none)",
                          r->location, codec);
    }
}

/* RLE / bit-packed hybrid: decodes n values of bit_width bits from
 * [p, end) into out. False when the data ends early or a value is wider
 * than the width allows. */
static bool rle_decode(const uint8_t *p, const uint8_t *end, int bit_width, uint32_t *out,
                       size_t n)
{
    if (bit_width < 0 || bit_width > 32)
        return false;
    size_t got = 0;
    size_t value_bytes = ((size_t)bit_width + 7) / 8;
    tw_thrift_r t;
    while (got < n) {
        tw_thrift_r_init(&t, p, (size_t)(end - p));
        uint64_t header = tw_thrift_r_uvarint(&t);
        if (t.failed)
            return false;
        p = t.p;
        if (header & 1) {
            uint64_t groups = header >> 1;
            if (groups > ((size_t)(end - p)) / (bit_width ? (size_t)bit_width : 1) + 1)
                return false;
            size_t bytes = (size_t)groups * (size_t)bit_width;
            if (bytes > (size_t)(end - p))
                return false;
            size_t count = (size_t)groups * 8;
            uint64_t mask = bit_width == 32 ? 0xffffffffu : ((uint64_t)1 << bit_width) - 1;
            for (size_t i = 0; i < count && got < n; i++) {
                size_t bit = i * (size_t)bit_width;
                uint64_t v = 0;
                size_t byte = bit / 8;
                for (size_t k = 0; k < 5 && byte + k < bytes; k++)
                    v |= (uint64_t)p[byte + k] << (8 * k);
                out[got++] = (uint32_t)((v >> (bit % 8)) & mask);
            }
            p += bytes;
        } else {
            uint64_t count = header >> 1;
            if (value_bytes > (size_t)(end - p))
                return false;
            uint32_t v = 0;
            for (size_t k = 0; k < value_bytes; k++)
                v |= (uint32_t)p[k] << (8 * k);
            p += value_bytes;
            if (count == 0)
                return false;
            for (uint64_t i = 0; i < count && got < n; i++)
                out[got++] = v;
        }
    }
    return true;
}

static int bits_for(uint32_t max_value)
{
    int bits = 0;
    while (bits < 32 && (max_value >> bits) != 0)
        bits++;
    return bits;
}

/* A decoded dictionary: values of the leaf's storage class. */
typedef struct dict {
    uint32_t n;
    int64_t *i64;
    double *f64;
    uint8_t *b;
    tw_str *s;
} dict;

static void dict_clear(dict *d)
{
    free(d->i64);
    free(d->f64);
    free(d->b);
    free(d->s);
    *d = (dict){0};
}

/* Decodes n PLAIN values into column rows rows[0..n) (rows NULL: 0..n-1
 * from base). Strings point into `values`, which the caller has placed in
 * the batch's arena. Returns the bytes consumed, or -1 on short data. */
static ssize_t plain_decode(const leaf *l, const uint8_t *values, size_t len, uint32_t n,
                            tw_column *col, const uint32_t *rows)
{
    const uint8_t *p = values, *end = values + len;
    switch (l->phys) {
    case PQ_BOOLEAN:
        if ((size_t)(n + 7) / 8 > len)
            return -1;
        for (uint32_t i = 0; i < n; i++)
            col->b[rows[i]] = (p[i / 8] >> (i % 8)) & 1;
        return (n + 7) / 8;
    case PQ_INT32:
        if ((size_t)n * 4 > len)
            return -1;
        for (uint32_t i = 0; i < n; i++)
            col->i64[rows[i]] = le_int(p + 4 * (size_t)i, 4);
        return (ssize_t)n * 4;
    case PQ_INT64:
        if ((size_t)n * 8 > len)
            return -1;
        for (uint32_t i = 0; i < n; i++) {
            int64_t v;
            memcpy(&v, p + 8 * (size_t)i, 8);
            col->i64[rows[i]] = l->time_mul == 1 && l->time_div == 1 ? v : v * l->time_mul / l->time_div;
        }
        return (ssize_t)n * 8;
    case PQ_FLOAT:
        if ((size_t)n * 4 > len)
            return -1;
        for (uint32_t i = 0; i < n; i++) {
            float f;
            memcpy(&f, p + 4 * (size_t)i, 4);
            col->f64[rows[i]] = f;
        }
        return (ssize_t)n * 4;
    case PQ_DOUBLE:
        if ((size_t)n * 8 > len)
            return -1;
        for (uint32_t i = 0; i < n; i++)
            memcpy(&col->f64[rows[i]], p + 8 * (size_t)i, 8);
        return (ssize_t)n * 8;
    case PQ_BYTE_ARRAY:
        for (uint32_t i = 0; i < n; i++) {
            if (end - p < 4)
                return -1;
            uint32_t sl = (uint32_t)le_int(p, 4);
            p += 4;
            if (sl > (size_t)(end - p))
                return -1;
            col->s[rows[i]] = (tw_str){(const char *)p, sl};
            p += sl;
        }
        return p - values;
    default: return -1;
    }
}

static bool load_dict(tw_parquet_reader *r, const leaf *l, tw_batch *out, const uint8_t *body,
                      size_t len, uint32_t n, dict *d, tw_err *err)
{
    dict_clear(d);
    /* Decode through a scratch column of n rows, then keep its arrays. */
    tw_column tmp = {.type = l->type};
    uint32_t *rows = u32_space(r, n);
    for (uint32_t i = 0; i < n; i++)
        rows[i] = i;
    const uint8_t *values = body;
    if (l->phys == PQ_BYTE_ARRAY) {
        uint8_t *copy = tw_arena_alloc(&out->arena, len ? len : 1);
        memcpy(copy, body, len);
        values = copy;
    }
    switch (tw_type_phys(l->type)) {
    case TW_PHYS_BOOL: tmp.b = d->b = tw_xcalloc(n ? n : 1, 1); break;
    case TW_PHYS_I64: tmp.i64 = d->i64 = tw_xcalloc(n ? n : 1, sizeof *d->i64); break;
    case TW_PHYS_F64: tmp.f64 = d->f64 = tw_xcalloc(n ? n : 1, sizeof *d->f64); break;
    case TW_PHYS_STR: tmp.s = d->s = tw_xcalloc(n ? n : 1, sizeof *d->s); break;
    }
    d->n = n;
    if (plain_decode(l, values, len, n, &tmp, rows) < 0)
        return tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': dictionary page is truncated",
                          r->location, l->name);
    return true;
}

static void put_dict_value(const dict *d, tw_column *col, uint32_t row, uint32_t idx)
{
    switch (tw_type_phys(col->type)) {
    case TW_PHYS_BOOL: col->b[row] = d->b[idx]; break;
    case TW_PHYS_I64: col->i64[row] = d->i64[idx]; break;
    case TW_PHYS_F64: col->f64[row] = d->f64[idx]; break;
    case TW_PHYS_STR: col->s[row] = d->s[idx]; break;
    }
}

/* Decodes one data page's values into rows [base, base + nvalues) of col,
 * given the definition levels (NULL: all present). */
static bool decode_values(tw_parquet_reader *r, const leaf *l, tw_batch *out, tw_column *col,
                          uint32_t base, uint32_t nvalues, const uint32_t *levels,
                          int encoding, const uint8_t *values, size_t len, const dict *d,
                          tw_err *err)
{
    /* rows of the present values, after the levels in scratch */
    uint32_t *scratch = u32_space(r, (size_t)nvalues * 2);
    uint32_t *rows = scratch + nvalues;
    /* When given, levels are scratch[0..nvalues): decode_chunk filled the
     * same buffer, which this call does not grow. */
    assert(!levels || levels == scratch);
    uint32_t present = 0;
    for (uint32_t i = 0; i < nvalues; i++) {
        bool has = !levels || levels[i] != 0;
        col->valid[base + i] = has;
        if (has)
            rows[present++] = base + i;
        else
            tw_col_set_null(col, base + i);
    }
    if (encoding == PQ_ENC_PLAIN) {
        if (l->phys == PQ_BYTE_ARRAY) {
            uint8_t *copy = tw_arena_alloc(&out->arena, len ? len : 1);
            memcpy(copy, values, len);
            values = copy;
        }
        if (plain_decode(l, values, len, present, col, rows) < 0)
            return tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': data page is truncated",
                              r->location, l->name);
        return true;
    }
    if (encoding == PQ_ENC_RLE_DICTIONARY || encoding == PQ_ENC_PLAIN_DICTIONARY) {
        if (!d->n && present)
            return tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': dictionary-encoded page "
                              "without a dictionary", r->location, l->name);
        if (len < 1 && present)
            return tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': empty dictionary page "
                              "data", r->location, l->name);
        /* The index scratch reuses the first half: the levels are consumed. */
        uint32_t *idx = scratch;
        if (present && !rle_decode(values + 1, values + len, values[0], idx, present))
            return tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': corrupt dictionary "
                              "indices", r->location, l->name);
        for (uint32_t i = 0; i < present; i++) {
            if (idx[i] >= d->n)
                return tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': dictionary index "
                                  "%u out of range", r->location, l->name, idx[i]);
            put_dict_value(d, col, rows[i], idx[i]);
        }
        return true;
    }
    if (encoding == PQ_ENC_RLE && l->phys == PQ_BOOLEAN) {
        if (len < 4)
            return tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': truncated RLE booleans",
                              r->location, l->name);
        uint32_t *bits = scratch;
        if (present && !rle_decode(values + 4, values + len, 1, bits, present))
            return tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': corrupt RLE booleans",
                              r->location, l->name);
        for (uint32_t i = 0; i < present; i++)
            col->b[rows[i]] = (uint8_t)bits[i];
        return true;
    }
    return tw_err_set(err, TW_ERR_UNSUPPORTED,
                      "parquet: %s: column '%s': value encoding %d is not supported (PLAIN, "
                      "RLE_DICTIONARY)",
                      r->location, l->name, encoding);
}

static bool decode_chunk(tw_parquet_reader *r, uint32_t rg, uint32_t leaf_index, tw_batch *out,
                         tw_column *col, tw_err *err)
{
    const leaf *l = &r->leaves[leaf_index];
    const chunk *c = &r->rgs[rg].chunks[leaf_index];
    uint32_t nrows = (uint32_t)r->rgs[rg].num_rows;
    int64_t start = c->data_page_offset;
    if (c->dict_page_offset > 0 && c->dict_page_offset < start)
        start = c->dict_page_offset;
    if (start < 0 || c->compressed_bytes < 0)
        return tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': bad chunk offsets",
                          r->location, l->name);
    const uint8_t *data;
    if (!read_at(r, (uint64_t)start, (size_t)c->compressed_bytes, &data, err))
        return false;
    size_t len = (size_t)c->compressed_bytes, pos = 0;
    int max_def = l->repetition == PQ_REQUIRED ? 0 : 1;
    dict d = {0};
    uint32_t done = 0;
    bool ok = true;
    while (ok && done < nrows) {
        if (pos >= len) {
            ok = tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': chunk ends after %u of %u "
                            "rows", r->location, l->name, done, nrows);
            break;
        }
        tw_thrift_r t;
        tw_thrift_r_init(&t, data + pos, len - pos);
        page_header h;
        if (!parse_page_header(&t, &h)) {
            ok = tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': malformed page header",
                            r->location, l->name);
            break;
        }
        pos += tw_thrift_r_offset(&t, data + pos);
        if ((size_t)h.compressed_bytes > len - pos) {
            ok = tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': page overruns its chunk",
                            r->location, l->name);
            break;
        }
        const uint8_t *body = data + pos;
        pos += (size_t)h.compressed_bytes;
        if (h.type == PQ_PAGE_DICTIONARY) {
            const uint8_t *plain;
            ok = decompress(r, c->codec, body, (size_t)h.compressed_bytes,
                            (size_t)h.uncompressed_bytes, &plain, err) &&
                 load_dict(r, l, out, plain, (size_t)h.uncompressed_bytes, (uint32_t)h.num_values,
                           &d, err);
            continue;
        }
        if (h.type != PQ_PAGE_DATA && h.type != PQ_PAGE_DATA_V2)
            continue; /* index pages and unknown kinds carry no rows */
        uint32_t nvalues = (uint32_t)h.num_values;
        if (nvalues > nrows - done) {
            ok = tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': pages hold more values "
                            "than the row group's %u rows", r->location, l->name, nrows);
            break;
        }
        const uint8_t *values;
        size_t values_len;
        const uint8_t *lv = NULL, *lv_end = NULL;
        if (h.type == PQ_PAGE_DATA) {
            const uint8_t *page;
            if (!(ok = decompress(r, c->codec, body, (size_t)h.compressed_bytes,
                                  (size_t)h.uncompressed_bytes, &page, err)))
                break;
            values = page;
            values_len = (size_t)h.uncompressed_bytes;
            if (max_def) {
                if (h.def_encoding != PQ_ENC_RLE || values_len < 4) {
                    ok = tw_err_set(err, TW_ERR_UNSUPPORTED, "parquet: %s: column '%s': "
                                    "definition levels must be RLE", r->location, l->name);
                    break;
                }
                uint32_t n = (uint32_t)le_int(values, 4);
                if (n > values_len - 4) {
                    ok = tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': truncated "
                                    "definition levels", r->location, l->name);
                    break;
                }
                lv = values + 4;
                lv_end = lv + n;
                values += 4 + n;
                values_len -= 4 + (size_t)n;
            }
        } else {
            size_t levels_bytes = (size_t)h.def_bytes + (size_t)h.rep_bytes;
            if (levels_bytes > (size_t)h.compressed_bytes || h.rep_bytes != 0) {
                ok = tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': bad v2 level sizes",
                                r->location, l->name);
                break;
            }
            lv = body;
            lv_end = body + h.def_bytes;
            size_t zlen = (size_t)h.compressed_bytes - levels_bytes;
            size_t plen = (size_t)h.uncompressed_bytes - levels_bytes;
            if ((size_t)h.uncompressed_bytes < levels_bytes) {
                ok = tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': bad v2 page sizes",
                                r->location, l->name);
                break;
            }
            if (h.is_compressed) {
                if (!(ok = decompress(r, c->codec, body + levels_bytes, zlen, plen, &values, err)))
                    break;
            } else {
                values = body + levels_bytes;
                if (zlen != plen) {
                    ok = tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': bad v2 page "
                                    "sizes", r->location, l->name);
                    break;
                }
            }
            values_len = plen;
            if (!max_def)
                lv = NULL;
        }
        uint32_t *levels = NULL;
        if (max_def && lv) {
            levels = u32_space(r, (size_t)nvalues * 2);
            if (!rle_decode(lv, lv_end, bits_for((uint32_t)max_def), levels, nvalues)) {
                ok = tw_err_set(err, TW_ERR_IO, "parquet: %s: column '%s': corrupt definition "
                                "levels", r->location, l->name);
                break;
            }
        }
        ok = decode_values(r, l, out, col, done, nvalues, levels, h.encoding, values, values_len,
                           &d, err);
        done += nvalues;
    }
    dict_clear(&d);
    return ok;
}

tw_batch *tw_parquet_reader_read(tw_parquet_reader *r, uint32_t rg, const uint32_t *cols,
                                 uint32_t ncols, tw_err *err)
{
    if (rg >= r->nrgs) {
        tw_err_set(err, TW_ERR_INTERNAL, "parquet: %s has no row group %u", r->location, rg);
        return NULL;
    }
    if (r->rgs[rg].num_rows > UINT32_MAX - 1) {
        tw_err_set(err, TW_ERR_UNSUPPORTED, "parquet: %s: row group %u is too large", r->location,
                   rg);
        return NULL;
    }
    tw_type *types = tw_xcalloc(ncols ? ncols : 1, sizeof *types);
    for (uint32_t i = 0; i < ncols; i++) {
        if (cols[i] >= r->ncols || r->cols[cols[i]].type == TW_T_NULL) {
            tw_err_set(err, TW_ERR_UNSUPPORTED, "parquet: %s: column %s has a type tidewatch "
                       "cannot read", r->location, cols[i] < r->ncols ? r->cols[cols[i]].name : "?");
            free(types);
            return NULL;
        }
        types[i] = r->cols[cols[i]].type;
    }
    uint32_t nrows = (uint32_t)r->rgs[rg].num_rows;
    tw_batch *b = tw_batch_new(types, ncols, nrows ? nrows : 1);
    free(types);
    for (uint32_t i = 0; i < ncols; i++) {
        if (!decode_chunk(r, rg, r->col_leaf[cols[i]], b, &b->cols[i], err)) {
            tw_batch_free(b);
            return NULL;
        }
    }
    b->nrows = nrows;
    return b;
}

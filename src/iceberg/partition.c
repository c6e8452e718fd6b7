/* partition.c - Iceberg types, single values, bucket hashing and partition
 * specs (see partition.h). */
#include "iceberg/partition.h"

#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"

bool tw_iceberg_type_of(tw_type t, tw_iceberg_type *out)
{
    switch (t) {
    case TW_T_BOOL: *out = TW_ICE_BOOLEAN; return true;
    case TW_T_INT16:
    case TW_T_INT32: *out = TW_ICE_INT; return true;
    case TW_T_INT64: *out = TW_ICE_LONG; return true;
    case TW_T_FLOAT32: *out = TW_ICE_FLOAT; return true;
    case TW_T_FLOAT64: *out = TW_ICE_DOUBLE; return true;
    case TW_T_VARCHAR: *out = TW_ICE_STRING; return true;
    case TW_T_TIMESTAMP: *out = TW_ICE_TIMESTAMP; return true;
    case TW_T_TIMESTAMPTZ: *out = TW_ICE_TIMESTAMPTZ; return true;
    default: return false;
    }
}

static const char *const type_names[] = {
    [TW_ICE_BOOLEAN] = "boolean", [TW_ICE_INT] = "int",         [TW_ICE_LONG] = "long",
    [TW_ICE_FLOAT] = "float",     [TW_ICE_DOUBLE] = "double",   [TW_ICE_DATE] = "date",
    [TW_ICE_STRING] = "string",   [TW_ICE_TIMESTAMP] = "timestamp",
    [TW_ICE_TIMESTAMPTZ] = "timestamptz",
};

const char *tw_iceberg_type_name(tw_iceberg_type t)
{
    return type_names[t];
}

bool tw_iceberg_type_parse(const char *name, tw_iceberg_type *out)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
        if (strcmp(name, type_names[i]) == 0) {
            *out = (tw_iceberg_type)i;
            return true;
        }
    }
    return false;
}

tw_type tw_iceberg_type_tw(tw_iceberg_type t)
{
    switch (t) {
    case TW_ICE_BOOLEAN: return TW_T_BOOL;
    case TW_ICE_INT:
    case TW_ICE_DATE: return TW_T_INT32;
    case TW_ICE_LONG: return TW_T_INT64;
    case TW_ICE_FLOAT: return TW_T_FLOAT32;
    case TW_ICE_DOUBLE: return TW_T_FLOAT64;
    case TW_ICE_STRING: return TW_T_VARCHAR;
    case TW_ICE_TIMESTAMP: return TW_T_TIMESTAMP;
    case TW_ICE_TIMESTAMPTZ: return TW_T_TIMESTAMPTZ;
    }
    return TW_T_NULL;
}

static void put_le(uint8_t *p, uint64_t v, int nbytes)
{
    for (int i = 0; i < nbytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

size_t tw_iceberg_value_bytes(tw_iceberg_type t, const tw_value *v, uint8_t scratch[8],
                              const uint8_t **out)
{
    assert(!v->is_null);
    *out = scratch;
    switch (t) {
    case TW_ICE_BOOLEAN: scratch[0] = v->b ? 1 : 0; return 1;
    case TW_ICE_INT:
    case TW_ICE_DATE: put_le(scratch, (uint64_t)v->i64, 4); return 4;
    case TW_ICE_LONG:
    case TW_ICE_TIMESTAMP:
    case TW_ICE_TIMESTAMPTZ: put_le(scratch, (uint64_t)v->i64, 8); return 8;
    case TW_ICE_FLOAT: {
        float f = (float)v->f64;
        uint32_t bits;
        memcpy(&bits, &f, 4);
        put_le(scratch, bits, 4);
        return 4;
    }
    case TW_ICE_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, &v->f64, 8);
        put_le(scratch, bits, 8);
        return 8;
    }
    case TW_ICE_STRING: *out = (const uint8_t *)v->s.ptr; return v->s.len;
    }
    return 0;
}

static uint32_t rotl32(uint32_t x, int r)
{
    return (x << r) | (x >> (32 - r));
}

static uint32_t murmur_mix_k(uint32_t k)
{
    k *= 0xcc9e2d51u;
    k = rotl32(k, 15);
    return k * 0x1b873593u;
}

int32_t tw_iceberg_murmur3_32(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t h = 0;
    size_t nblocks = len / 4;
    for (size_t i = 0; i < nblocks; i++) {
        uint32_t k = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                     (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
        h ^= murmur_mix_k(k);
        h = rotl32(h, 13) * 5 + 0xe6546b64u;
    }
    const uint8_t *tail = p + nblocks * 4;
    uint32_t k = 0;
    switch (len & 3) {
    case 3: k ^= (uint32_t)tail[2] << 16; /* fall through */
    case 2: k ^= (uint32_t)tail[1] << 8;  /* fall through */
    case 1:
        k ^= tail[0];
        h ^= murmur_mix_k(k);
        break;
    default: break;
    }
    h ^= (uint32_t)len;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return (int32_t)h;
}

int32_t tw_iceberg_hash_value(tw_iceberg_type t, const tw_value *v)
{
    uint8_t buf[8];
    switch (t) {
    case TW_ICE_STRING: return tw_iceberg_murmur3_32(v->s.ptr, v->s.len);
    /* Iceberg's hashInt widens to long, so booleans hash as 8 bytes too. */
    case TW_ICE_BOOLEAN: put_le(buf, v->b ? 1 : 0, 8); return tw_iceberg_murmur3_32(buf, 8);
    case TW_ICE_FLOAT:
    case TW_ICE_DOUBLE: {
        /* doubleToLongBits with NaN and -0.0 canonicalized (Appendix B). */
        double d = isnan(v->f64) ? NAN : (v->f64 == 0 ? 0.0 : v->f64);
        uint64_t bits;
        memcpy(&bits, &d, 8);
        if (isnan(d))
            bits = UINT64_C(0x7ff8000000000000);
        put_le(buf, bits, 8);
        return tw_iceberg_murmur3_32(buf, 8);
    }
    default: put_le(buf, (uint64_t)v->i64, 8); return tw_iceberg_murmur3_32(buf, 8);
    }
}

/* ---- transforms ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool transform_allows(tw_iceberg_transform tr, tw_iceberg_type src)
{
    bool is_ts = src == TW_ICE_TIMESTAMP || src == TW_ICE_TIMESTAMPTZ;
    switch (tr) {
    case TW_ICE_IDENTITY: return true;
    case TW_ICE_YEAR:
    case TW_ICE_MONTH:
    case TW_ICE_DAY: return is_ts || src == TW_ICE_DATE;
    case TW_ICE_HOUR: return is_ts;
    case TW_ICE_BUCKET:
        return is_ts || src == TW_ICE_INT || src == TW_ICE_LONG || src == TW_ICE_DATE ||
               src == TW_ICE_STRING;
    case TW_ICE_TRUNCATE: return src == TW_ICE_INT || src == TW_ICE_LONG || src == TW_ICE_STRING;
    }
    return false;
}

static tw_iceberg_type transform_result(tw_iceberg_transform tr, tw_iceberg_type src)
{
    switch (tr) {
    case TW_ICE_IDENTITY:
    case TW_ICE_TRUNCATE: return src;
    case TW_ICE_DAY: return TW_ICE_DATE;
    default: return TW_ICE_INT;
    }
}

static const char *const transform_names[] = {
    [TW_ICE_IDENTITY] = "identity", [TW_ICE_YEAR] = "year",     [TW_ICE_MONTH] = "month",
    [TW_ICE_DAY] = "day",           [TW_ICE_HOUR] = "hour",     [TW_ICE_BUCKET] = "bucket",
    [TW_ICE_TRUNCATE] = "truncate",
};

/* Java's default partition field names: the column for identity, else
 * column_transform. */
static const char *const name_suffixes[] = {
    [TW_ICE_IDENTITY] = "",    [TW_ICE_YEAR] = "_year",     [TW_ICE_MONTH] = "_month",
    [TW_ICE_DAY] = "_day",     [TW_ICE_HOUR] = "_hour",     [TW_ICE_BUCKET] = "_bucket",
    [TW_ICE_TRUNCATE] = "_trunc",
};

void tw_iceberg_transform_name(const tw_iceberg_partition_field *field, char *buf, size_t size)
{
    if (field->transform == TW_ICE_BUCKET || field->transform == TW_ICE_TRUNCATE)
        snprintf(buf, size, "%s[%" PRId32 "]", transform_names[field->transform], field->width);
    else
        snprintf(buf, size, "%s", transform_names[field->transform]);
}

bool tw_iceberg_transform_parse(const char *text, tw_iceberg_partition_field *field,
                                tw_err *err)
{
    for (size_t i = 0; i < sizeof transform_names / sizeof transform_names[0]; i++) {
        size_t n = strlen(transform_names[i]);
        if (strncmp(text, transform_names[i], n) != 0)
            continue;
        tw_iceberg_transform tr = (tw_iceberg_transform)i;
        int32_t width = 0;
        if (tr == TW_ICE_BUCKET || tr == TW_ICE_TRUNCATE) {
            char *end = NULL;
            if (text[n] != '[')
                continue;
            long w = strtol(text + n + 1, &end, 10);
            if (end == text + n + 1 || strcmp(end, "]") != 0 || w <= 0 || w > INT32_MAX)
                return tw_err_set(err, TW_ERR_CONFIG, "bad partition transform '%s'", text);
            width = (int32_t)w;
        } else if (text[n] != '\0') {
            continue;
        }
        if (!transform_allows(tr, field->source_type))
            return tw_err_set(err, TW_ERR_CONFIG,
                              "partition transform %s does not apply to a %s column", text,
                              tw_iceberg_type_name(field->source_type));
        field->transform = tr;
        field->width = width;
        field->result_type = transform_result(tr, field->source_type);
        return true;
    }
    return tw_err_set(err, TW_ERR_UNSUPPORTED, "unsupported partition transform '%s'", text);
}

void tw_iceberg_partition_apply(const tw_iceberg_partition_field *field, const tw_value *v,
                                tw_value *out)
{
    *out = *v;
    out->type = tw_iceberg_type_tw(field->result_type);
    if (v->is_null)
        return;
    int64_t us = v->i64;
    int64_t days = field->source_type == TW_ICE_DATE ? v->i64 : floor_div(us, TW_USEC_PER_DAY);
    int64_t year;
    unsigned month, day;
    switch (field->transform) {
    case TW_ICE_IDENTITY: break;
    case TW_ICE_YEAR:
        tw_civil_from_days(days, &year, &month, &day);
        out->i64 = year - 1970;
        break;
    case TW_ICE_MONTH:
        tw_civil_from_days(days, &year, &month, &day);
        out->i64 = (year - 1970) * 12 + (int64_t)month - 1;
        break;
    case TW_ICE_DAY: out->i64 = days; break;
    case TW_ICE_HOUR: out->i64 = floor_div(us, INT64_C(3600) * TW_USEC_PER_SEC); break;
    case TW_ICE_BUCKET:
        out->i64 = (int64_t)(((uint32_t)tw_iceberg_hash_value(field->source_type, v) & 0x7fffffffu) %
                             (uint32_t)field->width);
        break;
    case TW_ICE_TRUNCATE:
        if (field->source_type == TW_ICE_STRING) {
            /* At most width code points: count UTF-8 lead bytes. */
            uint32_t cut = 0, points = 0;
            while (cut < v->s.len) {
                if (((unsigned char)v->s.ptr[cut] & 0xc0) != 0x80) {
                    if (points == (uint32_t)field->width)
                        break;
                    points++;
                }
                cut++;
            }
            out->s.len = cut;
        } else {
            int64_t w = field->width;
            out->i64 = v->i64 - (((v->i64 % w) + w) % w);
        }
        break;
    }
}

/* ---- partition_by text ---- */

static const char *skip_space(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

static int find_column(const tw_iceberg_schema *schema, const char *name, size_t len)
{
    for (uint32_t i = 0; i < schema->nfields; i++)
        if (strlen(schema->fields[i].name) == len && memcmp(schema->fields[i].name, name, len) == 0)
            return (int)i;
    for (uint32_t i = 0; i < schema->nfields; i++)
        if (strlen(schema->fields[i].name) == len &&
            strncasecmp(schema->fields[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

static bool is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Parses one item at *pp ("col", "day(col)", "bucket(16, col)") into f. */
static bool parse_item(const char **pp, const tw_iceberg_schema *schema,
                       tw_iceberg_partition_field *f, tw_err *err)
{
    const char *p = skip_space(*pp);
    const char *word = p;
    while (is_ident_char(*p) || *p == '"')
        p++;
    size_t word_len = (size_t)(p - word);
    if (word_len == 0)
        return tw_err_set(err, TW_ERR_CONFIG, "partition_by: expected a column or transform at '%s'",
                          word);
    const char *col = word;
    size_t col_len = word_len;
    tw_iceberg_transform tr = TW_ICE_IDENTITY;
    long width = 0;
    p = skip_space(p);
    if (*p == '(') {
        size_t t;
        for (t = 1; t < sizeof transform_names / sizeof transform_names[0]; t++)
            if (strlen(transform_names[t]) == word_len &&
                strncasecmp(transform_names[t], word, word_len) == 0)
                break;
        if (t == sizeof transform_names / sizeof transform_names[0])
            return tw_err_set(err, TW_ERR_UNSUPPORTED,
                              "partition_by: unknown transform '%.*s' (expected year, month, "
                              "day, hour, bucket or truncate)",
                              (int)word_len, word);
        tr = (tw_iceberg_transform)t;
        p = skip_space(p + 1);
        if (tr == TW_ICE_BUCKET || tr == TW_ICE_TRUNCATE) {
            char *end = NULL;
            width = strtol(p, &end, 10);
            if (end == p || width <= 0 || width > INT32_MAX)
                return tw_err_set(err, TW_ERR_CONFIG,
                                  "partition_by: %s needs a positive width, as in %s(16, col)",
                                  transform_names[tr], transform_names[tr]);
            p = skip_space(end);
            if (*p != ',')
                return tw_err_set(err, TW_ERR_CONFIG, "partition_by: expected ',' after %s(%ld",
                                  transform_names[tr], width);
            p = skip_space(p + 1);
        }
        col = p;
        while (is_ident_char(*p))
            p++;
        col_len = (size_t)(p - col);
        p = skip_space(p);
        if (col_len == 0 || *p != ')')
            return tw_err_set(err, TW_ERR_CONFIG, "partition_by: expected a column and ')' in %s(...)",
                              transform_names[tr]);
        p = skip_space(p + 1);
    }
    int idx = find_column(schema, col, col_len);
    if (idx < 0)
        return tw_err_set(err, TW_ERR_BIND, "partition_by: no column '%.*s' in the sink's schema",
                          (int)col_len, col);
    const tw_iceberg_field *src = &schema->fields[idx];
    memset(f, 0, sizeof *f);
    f->source_id = src->id;
    f->source_index = (uint32_t)idx;
    if (!tw_iceberg_type_of(src->type, &f->source_type))
        return tw_err_set(err, TW_ERR_UNSUPPORTED, "partition_by: column '%s' has type %s",
                          src->name, tw_type_short_name(src->type));
    if (!transform_allows(tr, f->source_type))
        return tw_err_set(err, TW_ERR_CONFIG, "partition_by: %s does not apply to column '%s' (%s)",
                          transform_names[tr], src->name, tw_iceberg_type_name(f->source_type));
    f->transform = tr;
    f->width = (int32_t)width;
    f->result_type = transform_result(tr, f->source_type);
    size_t n = strlen(src->name) + strlen(name_suffixes[tr]) + 1;
    f->name = malloc(n);
    if (!f->name)
        return tw_err_set(err, TW_ERR_NOMEM, "out of memory");
    snprintf(f->name, n, "%s%s", src->name, name_suffixes[tr]);
    *pp = p;
    return true;
}

bool tw_iceberg_partition_spec_parse(const char *text, const tw_iceberg_schema *schema,
                                     int32_t first_field_id, tw_iceberg_partition_spec *out,
                                     tw_err *err)
{
    memset(out, 0, sizeof *out);
    if (!text || *skip_space(text) == '\0')
        return true;
    const char *p = text;
    for (;;) {
        tw_iceberg_partition_field f;
        if (!parse_item(&p, schema, &f, err))
            goto fail;
        for (uint32_t i = 0; i < out->nfields; i++) {
            if (strcmp(out->fields[i].name, f.name) == 0) {
                tw_err_set(err, TW_ERR_CONFIG, "partition_by: '%s' appears twice", f.name);
                free(f.name);
                goto fail;
            }
        }
        tw_iceberg_partition_field *grown =
            realloc(out->fields, (out->nfields + 1) * sizeof *out->fields);
        if (!grown) {
            free(f.name);
            tw_err_set(err, TW_ERR_NOMEM, "out of memory");
            goto fail;
        }
        out->fields = grown;
        f.field_id = first_field_id + (int32_t)out->nfields;
        out->fields[out->nfields++] = f;
        if (*p == '\0')
            return true;
        if (*p != ',') {
            tw_err_set(err, TW_ERR_CONFIG, "partition_by: expected ',' at '%s'", p);
            goto fail;
        }
        p++;
    }
fail:
    tw_iceberg_partition_spec_clear(out);
    return false;
}

bool tw_iceberg_partition_spec_equivalent(const tw_iceberg_partition_spec *a,
                                          const tw_iceberg_partition_spec *b)
{
    if (a->nfields != b->nfields)
        return false;
    for (uint32_t i = 0; i < a->nfields; i++) {
        const tw_iceberg_partition_field *x = &a->fields[i], *y = &b->fields[i];
        if (x->source_id != y->source_id || x->transform != y->transform ||
            x->width != y->width || strcmp(x->name, y->name) != 0)
            return false;
    }
    return true;
}

void tw_iceberg_partition_spec_clear(tw_iceberg_partition_spec *spec)
{
    for (uint32_t i = 0; i < spec->nfields; i++)
        free(spec->fields[i].name);
    free(spec->fields);
    memset(spec, 0, sizeof *spec);
}

/* ---- partition paths ---- */

typedef struct strbuf {
    char *p;
    size_t len, cap;
} strbuf;

static void sb_put(strbuf *sb, const char *s, size_t n)
{
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap * 2 : 64;
        while (cap < sb->len + n + 1)
            cap *= 2;
        char *grown = realloc(sb->p, cap);
        if (!grown)
            abort();
        sb->p = grown;
        sb->cap = cap;
    }
    memcpy(sb->p + sb->len, s, n);
    sb->len += n;
    sb->p[sb->len] = '\0';
}

/* URL form encoding, as java.net.URLEncoder writes partition values. */
static void sb_put_escaped(strbuf *sb, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char buf[4];
        if (isalnum(c) || c == '.' || c == '-' || c == '*' || c == '_') {
            buf[0] = (char)c;
            sb_put(sb, buf, 1);
        } else if (c == ' ') {
            sb_put(sb, "+", 1);
        } else {
            snprintf(buf, sizeof buf, "%%%02X", c);
            sb_put(sb, buf, 3);
        }
    }
}

static size_t humanize(const tw_iceberg_partition_field *f, const tw_value *v, char *buf,
                       size_t size)
{
    int64_t year;
    unsigned month, day;
    switch (f->transform) {
    case TW_ICE_YEAR: return (size_t)snprintf(buf, size, "%" PRId64, 1970 + v->i64);
    case TW_ICE_MONTH:
        return (size_t)snprintf(buf, size, "%04" PRId64 "-%02d", 1970 + floor_div(v->i64, 12),
                                (int)(v->i64 - floor_div(v->i64, 12) * 12) + 1);
    case TW_ICE_DAY:
        tw_civil_from_days(v->i64, &year, &month, &day);
        return (size_t)snprintf(buf, size, "%04" PRId64 "-%02u-%02u", year, month, day);
    case TW_ICE_HOUR: {
        int64_t days = floor_div(v->i64, 24);
        tw_civil_from_days(days, &year, &month, &day);
        return (size_t)snprintf(buf, size, "%04" PRId64 "-%02u-%02u-%02d", year, month, day,
                                (int)(v->i64 - days * 24));
    }
    default: break;
    }
    switch (f->result_type) {
    case TW_ICE_BOOLEAN: return (size_t)snprintf(buf, size, "%s", v->b ? "true" : "false");
    case TW_ICE_FLOAT:
    case TW_ICE_DOUBLE: return (size_t)snprintf(buf, size, "%.17g", v->f64);
    case TW_ICE_TIMESTAMP: return tw_timestamp_format(v->i64, buf, "");
    case TW_ICE_TIMESTAMPTZ: return tw_timestamp_format(v->i64, buf, "+00:00");
    case TW_ICE_DATE:
        tw_civil_from_days(v->i64, &year, &month, &day);
        return (size_t)snprintf(buf, size, "%04" PRId64 "-%02u-%02u", year, month, day);
    default: return (size_t)snprintf(buf, size, "%" PRId64, v->i64);
    }
}

char *tw_iceberg_partition_path(const tw_iceberg_partition_spec *spec, const tw_value *values)
{
    strbuf sb = {0};
    sb_put(&sb, "", 0);
    for (uint32_t i = 0; i < spec->nfields; i++) {
        const tw_iceberg_partition_field *f = &spec->fields[i];
        if (i > 0)
            sb_put(&sb, "/", 1);
        sb_put_escaped(&sb, f->name, strlen(f->name));
        sb_put(&sb, "=", 1);
        if (values[i].is_null) {
            sb_put(&sb, "null", 4);
        } else if (f->result_type == TW_ICE_STRING) {
            sb_put_escaped(&sb, values[i].s.ptr, values[i].s.len);
        } else {
            char buf[64];
            size_t n = humanize(f, &values[i], buf, sizeof buf);
            sb_put_escaped(&sb, buf, n);
        }
    }
    return sb.p;
}

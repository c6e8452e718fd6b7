/* expr.c - see expr.h. */
#include "exec/expr.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "common/timeutil.h"

static void result_alloc(tw_expr *e)
{
    e->result.type = e->type;
    e->result.valid = tw_xcalloc(TW_BATCH_ROWS, 1);
    size_t width = tw_type_phys(e->type) == TW_PHYS_BOOL  ? 1
                   : tw_type_phys(e->type) == TW_PHYS_STR ? sizeof(tw_str)
                                                          : 8;
    e->result.data = tw_xcalloc(TW_BATCH_ROWS, width);
}

tw_expr *tw_expr_column(uint32_t column, tw_type type)
{
    tw_expr *e = tw_xcalloc(1, sizeof *e);
    e->kind = TW_EX_COLUMN;
    e->type = type;
    e->column = column;
    return e;
}

tw_expr *tw_expr_const(tw_value value)
{
    tw_expr *e = tw_xcalloc(1, sizeof *e);
    e->kind = TW_EX_CONST;
    e->type = value.type;
    e->value = value;
    if (value.type == TW_T_VARCHAR && !value.is_null) {
        char *copy = tw_xmalloc(value.s.len + 1);
        memcpy(copy, value.s.ptr, value.s.len);
        copy[value.s.len] = '\0';
        e->value.s.ptr = copy;
    }
    result_alloc(e);
    /* A constant's column never changes: fill it once. */
    for (uint32_t i = 0; i < TW_BATCH_ROWS; i++)
        tw_column_put(&e->result, i, &e->value);
    return e;
}

tw_expr *tw_expr_call(tw_fn fn, tw_type type, tw_expr **args, uint32_t nargs)
{
    tw_expr *e = tw_xcalloc(1, sizeof *e);
    e->kind = TW_EX_CALL;
    e->type = type;
    e->fn = fn;
    e->args = args;
    e->nargs = nargs;
    result_alloc(e);
    return e;
}

tw_expr *tw_expr_call1(tw_fn fn, tw_type type, tw_expr *a)
{
    tw_expr **args = tw_xmalloc(sizeof *args);
    args[0] = a;
    return tw_expr_call(fn, type, args, 1);
}

tw_expr *tw_expr_call2(tw_fn fn, tw_type type, tw_expr *a, tw_expr *b)
{
    tw_expr **args = tw_xmalloc(2 * sizeof *args);
    args[0] = a;
    args[1] = b;
    return tw_expr_call(fn, type, args, 2);
}

tw_expr *tw_expr_copy(const tw_expr *e)
{
    switch (e->kind) {
    case TW_EX_COLUMN: return tw_expr_column(e->column, e->type);
    case TW_EX_CONST: return tw_expr_const(e->value);
    case TW_EX_CALL: break;
    }
    tw_expr **args = tw_xmalloc((e->nargs ? e->nargs : 1) * sizeof *args);
    for (uint32_t i = 0; i < e->nargs; i++)
        args[i] = tw_expr_copy(e->args[i]);
    return tw_expr_call(e->fn, e->type, args, e->nargs);
}

void tw_expr_free(tw_expr *e)
{
    if (!e)
        return;
    for (uint32_t i = 0; i < e->nargs; i++)
        tw_expr_free(e->args[i]);
    free(e->args);
    if (e->kind == TW_EX_CONST && e->value.type == TW_T_VARCHAR && !e->value.is_null)
        free((char *)e->value.s.ptr);
    free(e->result.valid);
    free(e->result.data);
    free(e);
}

bool tw_expr_is_const(const tw_expr *e)
{
    if (e->kind == TW_EX_COLUMN)
        return false;
    for (uint32_t i = 0; i < e->nargs; i++)
        if (!tw_expr_is_const(e->args[i]))
            return false;
    return true;
}

/* ---- values ---------------------------------------------------------- */

tw_value tw_value_null(tw_type type)
{
    tw_value v;
    memset(&v, 0, sizeof v);
    v.type = type;
    v.is_null = true;
    return v;
}

tw_value tw_column_get(const tw_column *col, uint32_t row)
{
    tw_value v;
    memset(&v, 0, sizeof v);
    v.type = col->type;
    v.is_null = !col->valid[row];
    if (v.is_null)
        return v;
    switch (tw_type_phys(col->type)) {
    case TW_PHYS_BOOL: v.b = col->b[row]; break;
    case TW_PHYS_I64: v.i64 = col->i64[row]; break;
    case TW_PHYS_F64: v.f64 = col->f64[row]; break;
    case TW_PHYS_STR: v.s = col->s[row]; break;
    }
    return v;
}

void tw_column_put(tw_column *col, uint32_t row, const tw_value *v)
{
    if (v->is_null) {
        tw_col_set_null(col, row);
        return;
    }
    col->valid[row] = 1;
    switch (tw_type_phys(col->type)) {
    case TW_PHYS_BOOL: col->b[row] = v->b; break;
    case TW_PHYS_I64: col->i64[row] = v->i64; break;
    case TW_PHYS_F64: col->f64[row] = v->f64; break;
    case TW_PHYS_STR: col->s[row] = v->s; break;
    }
}

static int str_cmp(tw_str a, tw_str b)
{
    uint32_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return a.len < b.len ? -1 : a.len > b.len;
}

int tw_value_cmp(const tw_value *a, const tw_value *b)
{
    if (a->is_null || b->is_null)
        return a->is_null == b->is_null ? 0 : (a->is_null ? 1 : -1);
    switch (tw_type_phys(a->type)) {
    case TW_PHYS_BOOL: return (a->b > b->b) - (a->b < b->b);
    case TW_PHYS_I64: return (a->i64 > b->i64) - (a->i64 < b->i64);
    case TW_PHYS_F64:
        if (isnan(a->f64) || isnan(b->f64))
            return isnan(a->f64) ? (isnan(b->f64) ? 0 : 1) : -1;
        return (a->f64 > b->f64) - (a->f64 < b->f64);
    case TW_PHYS_STR: return str_cmp(a->s, b->s);
    }
    return 0;
}

bool tw_value_equal(const tw_value *a, const tw_value *b)
{
    if (a->is_null || b->is_null)
        return a->is_null && b->is_null;
    switch (tw_type_phys(a->type)) {
    case TW_PHYS_BOOL: return a->b == b->b;
    case TW_PHYS_I64: return a->i64 == b->i64;
    case TW_PHYS_F64: return memcmp(&a->f64, &b->f64, sizeof(double)) == 0 || a->f64 == b->f64;
    case TW_PHYS_STR: return a->s.len == b->s.len && !memcmp(a->s.ptr, b->s.ptr, a->s.len);
    }
    return false;
}

uint64_t tw_value_hash(const tw_value *v, uint64_t seed)
{
    if (v->is_null)
        return tw_hash_u64(0x6e756c6c, seed);
    switch (tw_type_phys(v->type)) {
    case TW_PHYS_BOOL: return tw_hash_u64(v->b, seed);
    case TW_PHYS_I64: return tw_hash_u64((uint64_t)v->i64, seed);
    case TW_PHYS_F64: {
        double d = v->f64 == 0 ? 0.0 : v->f64; /* -0 and +0 hash alike */
        uint64_t bits;
        memcpy(&bits, &d, 8);
        return tw_hash_u64(bits, seed);
    }
    case TW_PHYS_STR: return tw_hash_bytes(v->s.ptr, v->s.len, seed);
    }
    return seed;
}

size_t tw_format_double(double d, char *buf)
{
    if (isnan(d))
        return (size_t)sprintf(buf, "NaN");
    if (isinf(d))
        return (size_t)sprintf(buf, d < 0 ? "-Infinity" : "Infinity");
    if (d == floor(d) && fabs(d) < 1e15)
        return (size_t)sprintf(buf, "%.0f", d);
    for (int prec = 1; prec <= 17; prec++) {
        int n = sprintf(buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return (size_t)n;
    }
    return (size_t)sprintf(buf, "%.17g", d);
}

static size_t format_float32(float f, char *buf)
{
    if (isnan(f) || isinf(f) || (f == floorf(f) && fabsf(f) < 1e7f))
        return tw_format_double(f, buf);
    for (int prec = 1; prec <= 9; prec++) {
        int n = sprintf(buf, "%.*g", prec, (double)f);
        if (strtof(buf, NULL) == f)
            return (size_t)n;
    }
    return (size_t)sprintf(buf, "%.9g", (double)f);
}

static size_t format_interval(int64_t us, char *buf, size_t cap)
{
    char sign[2] = {0};
    uint64_t mag = us < 0 ? (uint64_t)(-(us + 1)) + 1 : (uint64_t)us;
    if (us < 0)
        sign[0] = '-';
    uint64_t days = mag / (uint64_t)TW_USEC_PER_DAY;
    uint64_t rest = mag % (uint64_t)TW_USEC_PER_DAY;
    uint64_t secs = rest / 1000000, frac = rest % 1000000;
    char hms[48];
    int n = snprintf(hms, sizeof hms, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, secs / 3600,
                     secs / 60 % 60, secs % 60);
    if (frac)
        snprintf(hms + n, sizeof hms - (size_t)n, ".%06" PRIu64, frac);
    int len;
    if (days)
        len = snprintf(buf, cap, "%s%" PRIu64 " day%s %s%s", sign, days, days == 1 ? "" : "s",
                       sign, hms);
    else
        len = snprintf(buf, cap, "%s%s", sign, hms);
    return len < 0 ? 0 : (size_t)len;
}

size_t tw_value_format(const tw_value *v, char *buf, size_t cap)
{
    char tmp[64];
    size_t n = 0;
    const char *src = tmp;
    if (v->is_null) {
        n = 0;
    } else {
        switch (v->type) {
        case TW_T_BOOL: n = (size_t)sprintf(tmp, "%s", v->b ? "true" : "false"); break;
        case TW_T_INT16:
        case TW_T_INT32:
        case TW_T_INT64: n = (size_t)sprintf(tmp, "%" PRId64, v->i64); break;
        case TW_T_FLOAT32: n = format_float32((float)v->f64, tmp); break;
        case TW_T_FLOAT64: n = tw_format_double(v->f64, tmp); break;
        case TW_T_TIMESTAMP: n = tw_timestamp_format(v->i64, tmp, ""); break;
        case TW_T_TIMESTAMPTZ: n = tw_timestamp_format(v->i64, tmp, "Z"); break;
        case TW_T_INTERVAL: n = format_interval(v->i64, tmp, sizeof tmp); break;
        case TW_T_VARCHAR:
            src = v->s.ptr;
            n = v->s.len;
            break;
        default: n = 0;
        }
    }
    if (cap) {
        size_t c = n < cap - 1 ? n : cap - 1;
        memcpy(buf, src, c);
        buf[c] = '\0';
    }
    return n;
}

/* ---- casts ------------------------------------------------------------ */

static bool int_fits(tw_type t, int64_t v)
{
    switch (t) {
    case TW_T_INT16: return v >= INT16_MIN && v <= INT16_MAX;
    case TW_T_INT32: return v >= INT32_MIN && v <= INT32_MAX;
    default: return true;
    }
}

static bool parse_bool_text(const char *s, size_t n, uint8_t *out)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    static const char *truthy[] = {"t", "true", "y", "yes", "on", "1"};
    static const char *falsy[] = {"f", "false", "n", "no", "off", "0"};
    for (size_t i = 0; i < 6; i++) {
        if (strlen(truthy[i]) == n && !strncasecmp(s, truthy[i], n))
            return *out = 1, true;
        if (strlen(falsy[i]) == n && !strncasecmp(s, falsy[i], n))
            return *out = 0, true;
    }
    return false;
}

bool tw_value_cast(const tw_value *in, tw_type to, tw_arena *strings, tw_value *out)
{
    *out = tw_value_null(to);
    if (in->is_null)
        return true;
    tw_type from = in->type;
    if (to == TW_T_VARCHAR) {
        if (from == TW_T_VARCHAR) {
            *out = *in;
            return true;
        }
        char buf[96];
        size_t n = tw_value_format(in, buf, sizeof buf);
        out->is_null = false;
        out->s.ptr = tw_arena_strndup(strings, buf, n);
        out->s.len = (uint32_t)n;
        return true;
    }
    out->is_null = false;
    if (from == TW_T_VARCHAR) {
        char buf[128];
        size_t n = in->s.len < sizeof buf - 1 ? in->s.len : sizeof buf - 1;
        memcpy(buf, in->s.ptr, n);
        buf[n] = '\0';
        char *s = buf, *end;
        while (isspace((unsigned char)*s))
            s++;
        size_t len = strlen(s);
        while (len && isspace((unsigned char)s[len - 1]))
            s[--len] = '\0';
        if (in->s.len >= sizeof buf - 1 || len == 0)
            goto fail;
        errno = 0;
        switch (to) {
        case TW_T_BOOL:
            if (!parse_bool_text(s, len, &out->b))
                goto fail;
            return true;
        case TW_T_INT16:
        case TW_T_INT32:
        case TW_T_INT64: {
            long long v = strtoll(s, &end, 10);
            if (*end || errno || !int_fits(to, v))
                goto fail;
            out->i64 = v;
            return true;
        }
        case TW_T_FLOAT32:
        case TW_T_FLOAT64: {
            double d = strtod(s, &end);
            if (*end)
                goto fail;
            out->f64 = to == TW_T_FLOAT32 ? (double)(float)d : d;
            return true;
        }
        case TW_T_TIMESTAMP:
        case TW_T_TIMESTAMPTZ:
            if (!tw_timestamp_parse(s, len, &out->i64))
                goto fail;
            return true;
        case TW_T_INTERVAL:
            if (!tw_interval_parse(s, len, NULL, &out->i64))
                goto fail;
            return true;
        default: goto fail;
        }
    }
    switch (to) {
    case TW_T_BOOL:
        if (tw_type_is_integer(from))
            out->b = in->i64 != 0;
        else if (from == TW_T_BOOL)
            out->b = in->b;
        else
            goto fail;
        return true;
    case TW_T_INT16:
    case TW_T_INT32:
    case TW_T_INT64:
        if (tw_type_is_integer(from)) {
            out->i64 = in->i64;
        } else if (from == TW_T_BOOL) {
            out->i64 = in->b;
        } else if (from == TW_T_FLOAT32 || from == TW_T_FLOAT64) {
            double r = rint(in->f64); /* PostgreSQL rounds half to even */
            if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0))
                goto fail;
            out->i64 = (int64_t)r;
        } else {
            goto fail;
        }
        if (!int_fits(to, out->i64))
            goto fail;
        return true;
    case TW_T_FLOAT32:
    case TW_T_FLOAT64: {
        double d;
        if (tw_type_is_integer(from))
            d = (double)in->i64;
        else if (from == TW_T_FLOAT32 || from == TW_T_FLOAT64)
            d = in->f64;
        else
            goto fail;
        out->f64 = to == TW_T_FLOAT32 ? (double)(float)d : d;
        return true;
    }
    case TW_T_TIMESTAMP:
    case TW_T_TIMESTAMPTZ:
        if (!tw_type_is_time(from))
            goto fail;
        out->i64 = in->i64;
        return true;
    case TW_T_INTERVAL:
        if (from != TW_T_INTERVAL)
            goto fail;
        out->i64 = in->i64;
        return true;
    default: goto fail;
    }
fail:
    *out = tw_value_null(to);
    return false;
}

/* ---- evaluation ------------------------------------------------------- */

static void runtime_error(tw_eval_ctx *ctx, const char *what)
{
    ctx->errors++;
    ctx->last_error = what;
}

static void eval_arith(tw_expr *e, const tw_column *a, const tw_column *b, uint32_t n,
                       tw_eval_ctx *ctx)
{
    tw_column *r = &e->result;
    tw_phys phys = tw_type_phys(e->type);
    bool overflow = false, divzero = false;
    if (phys == TW_PHYS_F64) {
        const double *x = a->f64, *y = b->f64;
        double *out = r->f64;
        for (uint32_t i = 0; i < n; i++)
            r->valid[i] = a->valid[i] & b->valid[i];
        switch (e->fn) {
        case TW_FN_ADD:
            for (uint32_t i = 0; i < n; i++)
                out[i] = x[i] + y[i];
            break;
        case TW_FN_SUB:
            for (uint32_t i = 0; i < n; i++)
                out[i] = x[i] - y[i];
            break;
        case TW_FN_MUL:
            for (uint32_t i = 0; i < n; i++)
                out[i] = x[i] * y[i];
            break;
        case TW_FN_DIV:
        case TW_FN_MOD:
            for (uint32_t i = 0; i < n; i++) {
                if (r->valid[i] && y[i] == 0) {
                    r->valid[i] = 0;
                    out[i] = 0;
                    divzero = true;
                    continue;
                }
                out[i] = e->fn == TW_FN_DIV ? x[i] / (y[i] ? y[i] : 1) : fmod(x[i], y[i] ? y[i] : 1);
            }
            break;
        default: assert(0);
        }
        for (uint32_t i = 0; i < n; i++) {
            if (!r->valid[i])
                out[i] = 0;
            else if (e->type == TW_T_FLOAT32)
                out[i] = (double)(float)out[i];
        }
    } else {
        const int64_t *x = a->i64, *y = b->i64;
        int64_t *out = r->i64;
        for (uint32_t i = 0; i < n; i++) {
            r->valid[i] = a->valid[i] & b->valid[i];
            int64_t v = 0;
            bool bad = false;
            if (r->valid[i]) {
                switch (e->fn) {
                case TW_FN_ADD: bad = __builtin_add_overflow(x[i], y[i], &v); break;
                case TW_FN_SUB: bad = __builtin_sub_overflow(x[i], y[i], &v); break;
                case TW_FN_MUL: bad = __builtin_mul_overflow(x[i], y[i], &v); break;
                case TW_FN_DIV:
                case TW_FN_MOD:
                    if (y[i] == 0) {
                        divzero = bad = true;
                    } else if (y[i] == -1) {
                        if (e->fn == TW_FN_DIV)
                            bad = __builtin_sub_overflow((int64_t)0, x[i], &v);
                        else
                            v = 0;
                    } else {
                        v = e->fn == TW_FN_DIV ? x[i] / y[i] : x[i] % y[i];
                    }
                    break;
                default: assert(0);
                }
                if (!bad && !int_fits(e->type, v))
                    bad = true;
                if (bad) {
                    if (!divzero)
                        overflow = true;
                    r->valid[i] = 0;
                    v = 0;
                }
            }
            out[i] = v;
        }
    }
    if (divzero)
        runtime_error(ctx, "division by zero");
    if (overflow)
        runtime_error(ctx, "numeric value out of range");
}

static int cmp_rows(const tw_column *a, const tw_column *b, uint32_t i)
{
    switch (tw_type_phys(a->type)) {
    case TW_PHYS_BOOL: return (a->b[i] > b->b[i]) - (a->b[i] < b->b[i]);
    case TW_PHYS_I64: return (a->i64[i] > b->i64[i]) - (a->i64[i] < b->i64[i]);
    case TW_PHYS_F64: return (a->f64[i] > b->f64[i]) - (a->f64[i] < b->f64[i]);
    case TW_PHYS_STR: return str_cmp(a->s[i], b->s[i]);
    }
    return 0;
}

static void eval_compare(tw_expr *e, const tw_column *a, const tw_column *b, uint32_t n)
{
    tw_column *r = &e->result;
    tw_phys phys = tw_type_phys(a->type);
    /* Specialised loops for the hot case: doubles compared with a constant
     * or column, as anomaly rules do. */
    if (phys == TW_PHYS_F64 && e->fn >= TW_FN_EQ && e->fn <= TW_FN_GE) {
        const double *x = a->f64, *y = b->f64;
        for (uint32_t i = 0; i < n; i++)
            r->valid[i] = a->valid[i] & b->valid[i];
        switch (e->fn) {
        case TW_FN_EQ: for (uint32_t i = 0; i < n; i++) r->b[i] = x[i] == y[i]; break;
        case TW_FN_NE: for (uint32_t i = 0; i < n; i++) r->b[i] = x[i] != y[i]; break;
        case TW_FN_LT: for (uint32_t i = 0; i < n; i++) r->b[i] = x[i] < y[i]; break;
        case TW_FN_LE: for (uint32_t i = 0; i < n; i++) r->b[i] = x[i] <= y[i]; break;
        case TW_FN_GT: for (uint32_t i = 0; i < n; i++) r->b[i] = x[i] > y[i]; break;
        case TW_FN_GE: for (uint32_t i = 0; i < n; i++) r->b[i] = x[i] >= y[i]; break;
        default: break;
        }
        for (uint32_t i = 0; i < n; i++)
            r->b[i] &= r->valid[i];
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        bool both = a->valid[i] && b->valid[i];
        int c = both ? cmp_rows(a, b, i) : 0;
        uint8_t v = 0, valid = both;
        switch (e->fn) {
        case TW_FN_EQ: v = c == 0; break;
        case TW_FN_NE: v = c != 0; break;
        case TW_FN_LT: v = c < 0; break;
        case TW_FN_LE: v = c <= 0; break;
        case TW_FN_GT: v = c > 0; break;
        case TW_FN_GE: v = c >= 0; break;
        case TW_FN_IS_DISTINCT:
        case TW_FN_IS_NOT_DISTINCT: {
            bool same = both ? c == 0 : a->valid[i] == b->valid[i];
            v = e->fn == TW_FN_IS_DISTINCT ? !same : same;
            valid = 1;
            break;
        }
        default: assert(0);
        }
        r->valid[i] = valid;
        r->b[i] = valid ? v : 0;
    }
}

static bool like_match(const char *s, size_t sn, const char *p, size_t pn, bool fold)
{
    /* Iterative matcher with one backtrack point for the last '%'. */
    size_t si = 0, pi = 0, star_p = (size_t)-1, star_s = 0;
    while (si < sn) {
        if (pi < pn && p[pi] == '%') {
            star_p = ++pi;
            star_s = si;
            continue;
        }
        if (pi < pn) {
            char pc = p[pi];
            size_t adv = 1;
            bool lit = false;
            if (pc == '\\' && pi + 1 < pn) {
                pc = p[pi + 1];
                adv = 2;
                lit = true;
            }
            char sc = s[si];
            bool eq = (!lit && pc == '_') ||
                      (fold ? tolower((unsigned char)pc) == tolower((unsigned char)sc) : pc == sc);
            if (eq) {
                si++;
                pi += adv;
                continue;
            }
        }
        if (star_p == (size_t)-1)
            return false;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < pn && p[pi] == '%')
        pi++;
    return pi == pn;
}

static uint32_t utf8_length(tw_str s)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s.len; i++)
        n += ((unsigned char)s.ptr[i] & 0xC0) != 0x80;
    return n;
}

const tw_column *tw_expr_eval(tw_expr *e, const tw_batch *in, tw_eval_ctx *ctx)
{
    uint32_t n = in->nrows;
    assert(n <= TW_BATCH_ROWS);
    if (e->kind == TW_EX_COLUMN)
        return &in->cols[e->column];
    if (e->kind == TW_EX_CONST)
        return &e->result;

    const tw_column *argv_small[8];
    const tw_column **a = e->nargs <= 8 ? argv_small : tw_xmalloc(e->nargs * sizeof *a);
    for (uint32_t i = 0; i < e->nargs; i++)
        a[i] = tw_expr_eval(e->args[i], in, ctx);
    tw_column *r = &e->result;

    switch (e->fn) {
    case TW_FN_ADD:
    case TW_FN_SUB:
    case TW_FN_MUL:
    case TW_FN_DIV:
    case TW_FN_MOD: eval_arith(e, a[0], a[1], n, ctx); break;
    case TW_FN_NEG:
        for (uint32_t i = 0; i < n; i++) {
            r->valid[i] = a[0]->valid[i];
            if (tw_type_phys(e->type) == TW_PHYS_F64) {
                r->f64[i] = r->valid[i] ? -a[0]->f64[i] : 0;
            } else if (r->valid[i] && a[0]->i64[i] == INT64_MIN) {
                r->valid[i] = 0;
                r->i64[i] = 0;
                runtime_error(ctx, "numeric value out of range");
            } else {
                r->i64[i] = r->valid[i] ? -a[0]->i64[i] : 0;
            }
        }
        break;
    case TW_FN_EQ:
    case TW_FN_NE:
    case TW_FN_LT:
    case TW_FN_LE:
    case TW_FN_GT:
    case TW_FN_GE:
    case TW_FN_IS_DISTINCT:
    case TW_FN_IS_NOT_DISTINCT: eval_compare(e, a[0], a[1], n); break;
    case TW_FN_AND:
        for (uint32_t i = 0; i < n; i++) {
            bool x_false = a[0]->valid[i] && !a[0]->b[i];
            bool y_false = a[1]->valid[i] && !a[1]->b[i];
            if (x_false || y_false) {
                r->valid[i] = 1;
                r->b[i] = 0;
            } else {
                r->valid[i] = a[0]->valid[i] & a[1]->valid[i];
                r->b[i] = r->valid[i];
            }
        }
        break;
    case TW_FN_OR:
        for (uint32_t i = 0; i < n; i++) {
            bool x_true = a[0]->valid[i] && a[0]->b[i];
            bool y_true = a[1]->valid[i] && a[1]->b[i];
            if (x_true || y_true) {
                r->valid[i] = 1;
                r->b[i] = 1;
            } else {
                r->valid[i] = a[0]->valid[i] & a[1]->valid[i];
                r->b[i] = 0;
            }
        }
        break;
    case TW_FN_NOT:
        for (uint32_t i = 0; i < n; i++) {
            r->valid[i] = a[0]->valid[i];
            r->b[i] = r->valid[i] && !a[0]->b[i];
        }
        break;
    case TW_FN_IS_NULL:
    case TW_FN_IS_NOT_NULL:
        for (uint32_t i = 0; i < n; i++) {
            r->valid[i] = 1;
            r->b[i] = (e->fn == TW_FN_IS_NULL) == !a[0]->valid[i];
        }
        break;
    case TW_FN_IS_TRUE:
    case TW_FN_IS_NOT_TRUE:
    case TW_FN_IS_FALSE:
    case TW_FN_IS_NOT_FALSE:
        for (uint32_t i = 0; i < n; i++) {
            bool t = a[0]->valid[i] && a[0]->b[i];
            bool f = a[0]->valid[i] && !a[0]->b[i];
            r->valid[i] = 1;
            r->b[i] = e->fn == TW_FN_IS_TRUE      ? t
                      : e->fn == TW_FN_IS_NOT_TRUE ? !t
                      : e->fn == TW_FN_IS_FALSE    ? f
                                                   : !f;
        }
        break;
    case TW_FN_IN:
    case TW_FN_NOT_IN:
        for (uint32_t i = 0; i < n; i++) {
            bool found = false, saw_null = !a[0]->valid[i];
            for (uint32_t k = 1; k < e->nargs && !found && a[0]->valid[i]; k++) {
                if (!a[k]->valid[i])
                    saw_null = true;
                else if (cmp_rows(a[0], a[k], i) == 0)
                    found = true;
            }
            if (found) {
                r->valid[i] = 1;
                r->b[i] = e->fn == TW_FN_IN;
            } else if (saw_null) {
                r->valid[i] = 0;
                r->b[i] = 0;
            } else {
                r->valid[i] = 1;
                r->b[i] = e->fn == TW_FN_NOT_IN;
            }
        }
        break;
    case TW_FN_CASE: {
        uint32_t pairs = e->nargs / 2;
        bool has_else = e->nargs % 2;
        for (uint32_t i = 0; i < n; i++) {
            const tw_column *pick = has_else ? a[e->nargs - 1] : NULL;
            for (uint32_t k = 0; k < pairs; k++) {
                if (a[2 * k]->valid[i] && a[2 * k]->b[i]) {
                    pick = a[2 * k + 1];
                    break;
                }
            }
            if (pick) {
                tw_value v = tw_column_get(pick, i);
                tw_column_put(r, i, &v);
            } else {
                tw_col_set_null(r, i);
            }
        }
        break;
    }
    case TW_FN_COALESCE:
        for (uint32_t i = 0; i < n; i++) {
            uint32_t k = 0;
            while (k < e->nargs && !a[k]->valid[i])
                k++;
            if (k < e->nargs) {
                tw_value v = tw_column_get(a[k], i);
                tw_column_put(r, i, &v);
            } else {
                tw_col_set_null(r, i);
            }
        }
        break;
    case TW_FN_NULLIF:
        for (uint32_t i = 0; i < n; i++) {
            if (a[0]->valid[i] && a[1]->valid[i] && cmp_rows(a[0], a[1], i) == 0) {
                tw_col_set_null(r, i);
            } else {
                tw_value v = tw_column_get(a[0], i);
                tw_column_put(r, i, &v);
            }
        }
        break;
    case TW_FN_GREATEST:
    case TW_FN_LEAST:
        for (uint32_t i = 0; i < n; i++) {
            tw_value best = tw_value_null(e->type);
            for (uint32_t k = 0; k < e->nargs; k++) {
                tw_value v = tw_column_get(a[k], i);
                if (v.is_null)
                    continue;
                int c = best.is_null ? 1 : tw_value_cmp(&v, &best);
                if (best.is_null || (e->fn == TW_FN_GREATEST ? c > 0 : c < 0))
                    best = v;
            }
            tw_column_put(r, i, &best);
        }
        break;
    case TW_FN_ABS:
        for (uint32_t i = 0; i < n; i++) {
            r->valid[i] = a[0]->valid[i];
            if (tw_type_phys(e->type) == TW_PHYS_F64) {
                r->f64[i] = r->valid[i] ? fabs(a[0]->f64[i]) : 0;
            } else if (r->valid[i] && a[0]->i64[i] == INT64_MIN) {
                tw_col_set_null(r, i);
                runtime_error(ctx, "numeric value out of range");
            } else {
                int64_t v = a[0]->i64[i];
                r->i64[i] = r->valid[i] ? (v < 0 ? -v : v) : 0;
            }
        }
        break;
    case TW_FN_ROUND:
    case TW_FN_FLOOR:
    case TW_FN_CEIL:
    case TW_FN_SQRT:
        for (uint32_t i = 0; i < n; i++) {
            r->valid[i] = a[0]->valid[i];
            if (tw_type_phys(e->type) != TW_PHYS_F64) {
                r->i64[i] = r->valid[i] ? a[0]->i64[i] : 0;
                continue;
            }
            double x = r->valid[i] ? a[0]->f64[i] : 0;
            double v = e->fn == TW_FN_ROUND   ? round(x)
                       : e->fn == TW_FN_FLOOR ? floor(x)
                       : e->fn == TW_FN_CEIL  ? ceil(x)
                                              : sqrt(x);
            if (e->fn == TW_FN_SQRT && r->valid[i] && x < 0) {
                tw_col_set_null(r, i);
                runtime_error(ctx, "cannot take square root of a negative number");
                continue;
            }
            r->f64[i] = r->valid[i] ? v : 0;
        }
        break;
    case TW_FN_ROUND2:
        for (uint32_t i = 0; i < n; i++) {
            r->valid[i] = a[0]->valid[i] & a[1]->valid[i];
            if (!r->valid[i]) {
                r->f64[i] = 0;
                continue;
            }
            double scale = pow(10.0, (double)a[1]->i64[i]);
            r->f64[i] = round(a[0]->f64[i] * scale) / scale;
        }
        break;
    case TW_FN_POWER:
        for (uint32_t i = 0; i < n; i++) {
            r->valid[i] = a[0]->valid[i] & a[1]->valid[i];
            r->f64[i] = r->valid[i] ? pow(a[0]->f64[i], a[1]->f64[i]) : 0;
        }
        break;
    case TW_FN_UPPER:
    case TW_FN_LOWER:
        for (uint32_t i = 0; i < n; i++) {
            r->valid[i] = a[0]->valid[i];
            if (!r->valid[i]) {
                r->s[i] = (tw_str){0};
                continue;
            }
            tw_str s = a[0]->s[i];
            char *out = tw_arena_alloc(ctx->strings, s.len ? s.len : 1);
            for (uint32_t k = 0; k < s.len; k++) {
                unsigned char c = (unsigned char)s.ptr[k];
                out[k] = (char)(c < 0x80 ? (e->fn == TW_FN_UPPER ? toupper(c) : tolower(c)) : c);
            }
            r->s[i] = (tw_str){out, s.len};
        }
        break;
    case TW_FN_LENGTH:
        for (uint32_t i = 0; i < n; i++) {
            r->valid[i] = a[0]->valid[i];
            r->i64[i] = r->valid[i] ? utf8_length(a[0]->s[i]) : 0;
        }
        break;
    case TW_FN_CONCAT:
        for (uint32_t i = 0; i < n; i++) {
            bool all = true;
            size_t total = 0;
            for (uint32_t k = 0; k < e->nargs; k++) {
                all &= a[k]->valid[i];
                total += a[k]->valid[i] ? a[k]->s[i].len : 0;
            }
            r->valid[i] = all;
            if (!all) {
                r->s[i] = (tw_str){0};
                continue;
            }
            char *out = tw_arena_alloc(ctx->strings, total ? total : 1);
            size_t off = 0;
            for (uint32_t k = 0; k < e->nargs; k++) {
                memcpy(out + off, a[k]->s[i].ptr, a[k]->s[i].len);
                off += a[k]->s[i].len;
            }
            r->s[i] = (tw_str){out, (uint32_t)total};
        }
        break;
    case TW_FN_LIKE:
    case TW_FN_ILIKE:
        for (uint32_t i = 0; i < n; i++) {
            r->valid[i] = a[0]->valid[i] & a[1]->valid[i];
            r->b[i] = r->valid[i] && like_match(a[0]->s[i].ptr, a[0]->s[i].len, a[1]->s[i].ptr,
                                                a[1]->s[i].len, e->fn == TW_FN_ILIKE);
        }
        break;
    case TW_FN_CAST: {
        tw_type from = a[0]->type;
        if (tw_type_is_integer(from) && (e->type == TW_T_FLOAT64)) {
            for (uint32_t i = 0; i < n; i++) {
                r->valid[i] = a[0]->valid[i];
                r->f64[i] = r->valid[i] ? (double)a[0]->i64[i] : 0;
            }
            break;
        }
        bool failed = false;
        for (uint32_t i = 0; i < n; i++) {
            tw_value v = tw_column_get(a[0], i), out;
            if (!tw_value_cast(&v, e->type, ctx->strings, &out))
                failed = true;
            tw_column_put(r, i, &out);
        }
        if (failed)
            runtime_error(ctx, "invalid cast");
        break;
    }
    case TW_FN_TUMBLE_START: {
        const tw_column *ts = a[0];
        int64_t size = e->args[1]->value.i64;
        int64_t offset = e->nargs > 2 ? e->args[2]->value.i64 : 0;
        for (uint32_t i = 0; i < n; i++) {
            r->valid[i] = ts->valid[i];
            int64_t t = ts->i64[i] - offset;
            int64_t q = t / size;
            if (t % size < 0)
                q--;
            r->i64[i] = r->valid[i] ? q * size + offset : 0;
        }
        break;
    }
    default: assert(0 && "unknown function");
    }
    if (a != argv_small)
        free(a);
    return r;
}

bool tw_expr_eval_const(tw_expr *e, tw_eval_ctx *ctx, tw_value *out)
{
    if (!tw_expr_is_const(e))
        return false;
    tw_batch dummy;
    memset(&dummy, 0, sizeof dummy);
    dummy.nrows = 1;
    const tw_column *c = tw_expr_eval(e, &dummy, ctx);
    *out = tw_column_get(c, 0);
    return true;
}

const char *tw_fn_name(tw_fn fn)
{
    static const char *names[TW_FN_COUNT_] = {
        [TW_FN_ADD] = "+",          [TW_FN_SUB] = "-",          [TW_FN_MUL] = "*",
        [TW_FN_DIV] = "/",          [TW_FN_MOD] = "%",          [TW_FN_NEG] = "-",
        [TW_FN_EQ] = "=",           [TW_FN_NE] = "<>",          [TW_FN_LT] = "<",
        [TW_FN_LE] = "<=",          [TW_FN_GT] = ">",           [TW_FN_GE] = ">=",
        [TW_FN_AND] = "AND",        [TW_FN_OR] = "OR",          [TW_FN_NOT] = "NOT",
        [TW_FN_CASE] = "CASE",      [TW_FN_COALESCE] = "coalesce", [TW_FN_ABS] = "abs",
        [TW_FN_CAST] = "CAST",      [TW_FN_LIKE] = "LIKE",      [TW_FN_CONCAT] = "||",
    };
    return fn < TW_FN_COUNT_ && names[fn] ? names[fn] : "function";
}

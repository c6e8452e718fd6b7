/* json.c - see json.h.
 *
 * One pass per line, no recursion, no per-row indirect calls. The line's end
 * is found first (memchr), so every parse step knows its bound; string
 * bodies are scanned 16 bytes at a time for '"', '\\' and bytes outside
 * 0x20..0x7f, which also stops the scan at the line's '\n'. Keys are
 * predicted from the previous line's key order, so the usual line costs one
 * memcmp per key. Numbers are parsed with integer arithmetic; decimals take
 * Clinger's exact fast path when they can and strtod otherwise.
 */
#define _GNU_SOURCE
#include "decode/json.h"

#include <assert.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/timeutil.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Keys at positions beyond this are looked up without prediction. */
#define PRED_KEYS 64

/* Largest exponent digits are folded into; beyond it every decimal is 0 or
 * infinite anyway and strtod decides which. */
#define EXP_CAP 100000

enum kind { K_NONE, K_BOOL, K_I16, K_I32, K_I64, K_F32, K_F64, K_STR, K_TS };

static const char R_TRUNC[] = "truncated JSON";
static const char R_UTF8[] = "invalid UTF-8";
static const char R_NOT_OBJECT[] = "not a JSON object";
static const char R_DEPTH[] = "nesting too deep";
static const char R_NUMBER[] = "invalid number";
static const char R_ESCAPE[] = "invalid escape";
static const char R_TRAILING[] = "trailing characters";
static const char R_INVALID[] = "invalid JSON";
static const char R_CONTROL[] = "control character in string";

struct tw_json_decoder {
    uint32_t ncols;
    char **names;
    uint32_t *name_lens;
    uint8_t *kinds;
    tw_dead_letter_fn dead_letter;
    void *dead_letter_ctx;
    int32_t pred[PRED_KEYS]; /* column seen at each key position last line, -1 none */
    char *scratch;           /* unescaped keys and timestamps, number text for strtod */
    size_t scratch_cap;
    locale_t c_locale;       /* strtod must not follow the process locale */
    const char *err;         /* reason of the current line's failure */
};

static uint8_t kind_of(tw_type t)
{
    switch (t) {
    case TW_T_BOOL: return K_BOOL;
    case TW_T_INT16: return K_I16;
    case TW_T_INT32: return K_I32;
    case TW_T_INT64: return K_I64;
    case TW_T_FLOAT32: return K_F32;
    case TW_T_FLOAT64: return K_F64;
    case TW_T_VARCHAR: return K_STR;
    case TW_T_TIMESTAMP:
    case TW_T_TIMESTAMPTZ: return K_TS;
    default: return K_NONE;
    }
}

tw_json_decoder *tw_json_decoder_new(const char *const *names, const tw_type *types, uint32_t ncols)
{
    tw_json_decoder *d = tw_xcalloc(1, sizeof *d);
    d->ncols = ncols;
    d->names = tw_xcalloc(ncols ? ncols : 1, sizeof *d->names);
    d->name_lens = tw_xcalloc(ncols ? ncols : 1, sizeof *d->name_lens);
    d->kinds = tw_xcalloc(ncols ? ncols : 1, 1);
    for (uint32_t i = 0; i < ncols; i++) {
        d->names[i] = tw_xstrdup(names[i]);
        d->name_lens[i] = (uint32_t)strlen(names[i]);
        d->kinds[i] = kind_of(types[i]);
    }
    for (int i = 0; i < PRED_KEYS; i++)
        d->pred[i] = -1;
    d->scratch_cap = 256;
    d->scratch = tw_xmalloc(d->scratch_cap);
    d->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!d->c_locale)
        abort();
    return d;
}

void tw_json_decoder_free(tw_json_decoder *dec)
{
    if (!dec)
        return;
    for (uint32_t i = 0; i < dec->ncols; i++)
        free(dec->names[i]);
    free(dec->names);
    free(dec->name_lens);
    free(dec->kinds);
    free(dec->scratch);
    freelocale(dec->c_locale);
    free(dec);
}

void tw_json_decoder_set_dead_letter(tw_json_decoder *dec, tw_dead_letter_fn fn, void *ctx)
{
    dec->dead_letter = fn;
    dec->dead_letter_ctx = ctx;
}

static char *scratch_reserve(tw_json_decoder *d, size_t n)
{
    if (n > d->scratch_cap) {
        while (d->scratch_cap < n)
            d->scratch_cap *= 2;
        free(d->scratch);
        d->scratch = tw_xmalloc(d->scratch_cap);
    }
    return d->scratch;
}

static inline const char *fail(tw_json_decoder *d, const char *reason)
{
    d->err = reason;
    return NULL;
}

static inline const char *skip_ws(const char *p, const char *end)
{
    /* '\n' cannot occur: the line ends at the first one. */
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p;
}

/* ---- UTF-8 ---------------------------------------------------------------- */

/* Validates one multi-byte sequence starting at p (*p >= 0x80). Rejects
 * overlong forms, UTF-16 surrogates and code points above U+10FFFF. */
static const char *check_utf8(tw_json_decoder *d, const char *p, const char *end)
{
    const unsigned char *u = (const unsigned char *)p;
    unsigned c = u[0];
    size_t need;
    unsigned lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return fail(d, R_UTF8);
    }
    if ((size_t)(end - p) <= need)
        return fail(d, R_TRUNC);
    if (u[1] < lo || u[1] > hi)
        return fail(d, R_UTF8);
    for (size_t i = 2; i <= need; i++)
        if ((u[i] & 0xc0) != 0x80)
            return fail(d, R_UTF8);
    return p + need + 1;
}

/* Whole-line check, used only to name the reason of a malformed line. */
static bool utf8_valid(const char *p, const char *end)
{
    tw_json_decoder probe;
    while (p < end) {
        if ((unsigned char)*p < 0x80) {
            p++;
            continue;
        }
        p = check_utf8(&probe, p, end);
        if (!p)
            return false;
    }
    return true;
}

/* ---- strings -------------------------------------------------------------- */

static inline bool is_special(unsigned char c)
{
    return c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
}

/* Returns the first byte in [p, readable_end) that is '"', '\\', a control
 * byte or non-ASCII, or readable_end. */
static inline __attribute__((always_inline)) const char *find_special(const char *p, const char *readable_end)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (readable_end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* Signed compare: bytes >= 0x80 are negative, so "< 0x20" catches
         * both control bytes and non-ASCII. */
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                   _mm_cmplt_epi8(v, space));
        unsigned mask = (unsigned)_mm_movemask_epi8(hit);
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    while (p < readable_end && !is_special((unsigned char)*p))
        p++;
    return p;
}

static inline int hexval(unsigned char c)
{
    if ((unsigned)(c - '0') < 10u)
        return c - '0';
    c |= 0x20;
    if ((unsigned)(c - 'a') < 6u)
        return c - 'a' + 10;
    return -1;
}

/* Reads 4 hex digits at p; -1 when one is not hex. */
static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval((unsigned char)p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* p points after a backslash. Validates the escape, including surrogate
 * pairing of \u escapes. */
static const char *check_escape(tw_json_decoder *d, const char *p, const char *end)
{
    if (p >= end)
        return fail(d, R_TRUNC);
    switch (*p) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        return p + 1;
    case 'u': break;
    default: return fail(d, R_ESCAPE);
    }
    if (end - p < 5)
        return fail(d, R_TRUNC);
    int cp = hex4(p + 1);
    if (cp < 0)
        return fail(d, R_ESCAPE);
    p += 5;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return fail(d, R_ESCAPE); /* low surrogate without a high one */
    if (cp < 0xd800 || cp > 0xdbff)
        return p;
    /* A high surrogate must be followed by an escaped low one. */
    if (p >= end)
        return fail(d, R_TRUNC);
    if (p[0] != '\\')
        return fail(d, R_ESCAPE);
    if (end - p < 2)
        return fail(d, R_TRUNC);
    if (p[1] != 'u')
        return fail(d, R_ESCAPE);
    if (end - p < 6)
        return fail(d, R_TRUNC);
    int low = hex4(p + 2);
    if (low < 0xdc00 || low > 0xdfff)
        return fail(d, R_ESCAPE);
    return p + 6;
}

/* Scans a string body starting after its opening quote. Returns the closing
 * quote, with *escaped set when the body holds escapes. Reads 16-byte blocks
 * up to readable_end (the buffer's end); the line's own '\n' stops the scan
 * at `end`. */
static inline __attribute__((always_inline)) const char *scan_string(tw_json_decoder *d, const char *p, const char *end,
                                      const char *readable_end, bool *escaped)
{
    bool esc = false;
    for (;;) {
        p = find_special(p, readable_end);
        if (p >= end)
            return fail(d, R_TRUNC);
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            *escaped = esc;
            return p;
        }
        if (c == '\\') {
            esc = true;
            p = check_escape(d, p + 1, end);
        } else if (c < 0x20) {
            return fail(d, R_CONTROL);
        } else {
            p = check_utf8(d, p, end);
        }
        if (!p)
            return NULL;
    }
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Unescapes an already validated string body [s, e) into dst, which holds
 * at least e - s bytes (unescaping never grows text). Returns the length. */
static size_t unescape(char *dst, const char *s, const char *e)
{
    char *o = dst;
    while (s < e) {
        const char *bs = memchr(s, '\\', (size_t)(e - s));
        if (!bs) {
            memcpy(o, s, (size_t)(e - s));
            o += e - s;
            break;
        }
        memcpy(o, s, (size_t)(bs - s));
        o += bs - s;
        s = bs + 2;
        switch (bs[1]) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp = (unsigned)hex4(s);
            s += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                unsigned low = (unsigned)hex4(s + 2);
                s += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            }
            o += put_utf8(o, cp);
            break;
        }
        default: *o++ = bs[1]; break; /* '"', '\\', '/' */
        }
    }
    return (size_t)(o - dst);
}

/* ---- numbers and literals ------------------------------------------------- */

typedef struct num {
    const char *start, *stop; /* the number's text */
    uint64_t mantissa;        /* first 19 digits, integer and fraction */
    int64_t exp10;            /* value = mantissa * 10^exp10 when !many_digits */
    bool negative;
    bool is_integer;          /* no fraction, no exponent */
    bool many_digits;         /* more than 19 digits: mantissa incomplete */
} num;

static inline bool is_digit(unsigned char c)
{
    return (unsigned)(c - '0') < 10u;
}

static const char *parse_number(tw_json_decoder *d, const char *p, const char *end, num *n)
{
    n->start = p;
    n->negative = false;
    n->is_integer = true;
    uint64_t m = 0;
    int digits = 0;
    int64_t frac_digits = 0;
    if (*p == '-') {
        n->negative = true;
        if (++p >= end)
            return fail(d, R_TRUNC);
    }
    if (*p == '0') {
        p++;
    } else if (is_digit((unsigned char)*p)) {
        do {
            if (digits < 19)
                m = m * 10 + (unsigned)(*p - '0');
            digits++;
            p++;
        } while (p < end && is_digit((unsigned char)*p));
    } else {
        return fail(d, R_NUMBER);
    }
    if (p < end && *p == '.') {
        n->is_integer = false;
        if (++p >= end)
            return fail(d, R_TRUNC);
        if (!is_digit((unsigned char)*p))
            return fail(d, R_NUMBER);
        do {
            if (digits < 19) {
                m = m * 10 + (unsigned)(*p - '0');
                frac_digits++;
            }
            digits++;
            p++;
        } while (p < end && is_digit((unsigned char)*p));
    }
    int64_t e = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        n->is_integer = false;
        if (++p >= end)
            return fail(d, R_TRUNC);
        bool eneg = false;
        if (*p == '+' || *p == '-') {
            eneg = *p == '-';
            if (++p >= end)
                return fail(d, R_TRUNC);
        }
        if (!is_digit((unsigned char)*p))
            return fail(d, R_NUMBER);
        do {
            if (e < EXP_CAP)
                e = e * 10 + (*p - '0');
            p++;
        } while (p < end && is_digit((unsigned char)*p));
        if (eneg)
            e = -e;
    }
    /* "01", "1.2.3", "0x10", "1e5e": a number glued to more number-ish text. */
    if (p < end && (is_digit((unsigned char)*p) || *p == '.' || *p == '+' || *p == '-' ||
                    ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')))
        return fail(d, R_NUMBER);
    n->stop = p;
    n->mantissa = m;
    n->many_digits = digits > 19;
    n->exp10 = e - frac_digits;
    return p;
}

static const double pow10_f64[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
static const float pow10_f32[] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f,
                                  1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

/* Copies the number's text into scratch, NUL-terminated, for strtod. */
static const char *number_text(tw_json_decoder *d, const num *n)
{
    size_t len = (size_t)(n->stop - n->start);
    char *t = scratch_reserve(d, len + 1);
    memcpy(t, n->start, len);
    t[len] = '\0';
    return t;
}

/* Correctly rounded double; false when it overflows to infinity. */
static bool number_f64(tw_json_decoder *d, const num *n, double *out)
{
    double v;
    if (!n->many_digits && n->mantissa <= (UINT64_C(1) << 53) && n->exp10 >= -22 && n->exp10 <= 22) {
        v = (double)n->mantissa;
        v = n->exp10 >= 0 ? v * pow10_f64[n->exp10] : v / pow10_f64[-n->exp10];
        if (n->negative)
            v = -v;
    } else {
        v = strtod_l(number_text(d, n), NULL, d->c_locale);
    }
    if (isinf(v))
        return false;
    *out = v;
    return true;
}

/* Correctly rounded float (no double rounding through double). */
static bool number_f32(tw_json_decoder *d, const num *n, double *out)
{
    float v;
    if (!n->many_digits && n->mantissa <= (UINT64_C(1) << 24) && n->exp10 >= -10 && n->exp10 <= 10) {
        v = (float)n->mantissa;
        v = n->exp10 >= 0 ? v * pow10_f32[n->exp10] : v / pow10_f32[-n->exp10];
        if (n->negative)
            v = -v;
    } else {
        v = strtof_l(number_text(d, n), NULL, d->c_locale);
    }
    if (isinf(v))
        return false;
    *out = (double)v;
    return true;
}

static bool number_int(const num *n, uint64_t max_positive, int64_t *out)
{
    if (!n->is_integer || n->many_digits)
        return false;
    uint64_t m = n->mantissa;
    if (n->negative) {
        if (m > max_positive + 1)
            return false;
        *out = m == 0 ? 0 : -(int64_t)(m - 1) - 1;
    } else {
        if (m > max_positive)
            return false;
        *out = (int64_t)m;
    }
    return true;
}

static const char *parse_literal(tw_json_decoder *d, const char *p, const char *end, const char *word,
                                 size_t n)
{
    size_t avail = (size_t)(end - p);
    if (avail < n)
        return fail(d, memcmp(p, word, avail) == 0 ? R_TRUNC : R_INVALID);
    if (memcmp(p, word, n) != 0)
        return fail(d, R_INVALID);
    return p + n;
}

/* ---- skipping ------------------------------------------------------------- */

/* p at an object key's opening quote (whitespace skipped). Returns the
 * start of the member's value. */
static const char *skip_key(tw_json_decoder *d, const char *p, const char *end, const char *readable_end)
{
    if (p >= end)
        return fail(d, R_TRUNC);
    if (*p != '"')
        return fail(d, R_INVALID);
    bool esc;
    p = scan_string(d, p + 1, end, readable_end, &esc);
    if (!p)
        return NULL;
    p = skip_ws(p + 1, end);
    if (p >= end)
        return fail(d, R_TRUNC);
    if (*p != ':')
        return fail(d, R_INVALID);
    return skip_ws(p + 1, end);
}

/* Validates and skips one value at p (whitespace skipped) that sits inside
 * `depth` open containers. Nesting is tracked with a bit per level (1 =
 * object), never by recursion. */
static const char *skip_value(tw_json_decoder *d, const char *p, const char *end,
                              const char *readable_end, unsigned depth)
{
    uint64_t is_object[(TW_JSON_MAX_DEPTH + 63) / 64];
    const unsigned base = depth;
    for (;;) {
        if (p >= end)
            return fail(d, R_TRUNC);
        switch (*p) {
        case '{':
        case '[': {
            if (depth >= TW_JSON_MAX_DEPTH)
                return fail(d, R_DEPTH);
            unsigned level = depth - base;
            uint64_t bit = UINT64_C(1) << (level % 64);
            bool obj = *p == '{';
            if (obj)
                is_object[level / 64] |= bit;
            else
                is_object[level / 64] &= ~bit;
            depth++;
            p = skip_ws(p + 1, end);
            if (p >= end)
                return fail(d, R_TRUNC);
            if (*p == (obj ? '}' : ']')) {
                depth--;
                p++;
                break;
            }
            if (obj && !(p = skip_key(d, p, end, readable_end)))
                return NULL;
            continue; /* a member value or array element follows */
        }
        case '"': {
            bool esc;
            p = scan_string(d, p + 1, end, readable_end, &esc);
            if (!p)
                return NULL;
            p++;
            break;
        }
        case 't': p = parse_literal(d, p, end, "true", 4); break;
        case 'f': p = parse_literal(d, p, end, "false", 5); break;
        case 'n': p = parse_literal(d, p, end, "null", 4); break;
        default: {
            if (*p != '-' && !is_digit((unsigned char)*p))
                return fail(d, (*p == 'N' || *p == 'I' || *p == '+' || *p == '.') ? R_NUMBER : R_INVALID);
            num n;
            p = parse_number(d, p, end, &n);
            break;
        }
        }
        if (!p)
            return NULL;
        /* After a value: close containers or move to the next element. */
        for (;;) {
            if (depth == base)
                return p;
            p = skip_ws(p, end);
            if (p >= end)
                return fail(d, R_TRUNC);
            unsigned level = depth - 1 - base;
            bool obj = (is_object[level / 64] >> (level % 64)) & 1;
            if (*p == ',') {
                p = skip_ws(p + 1, end);
                if (obj && !(p = skip_key(d, p, end, readable_end)))
                    return NULL;
                break;
            }
            if (*p != (obj ? '}' : ']'))
                return fail(d, R_INVALID);
            depth--;
            p++;
        }
    }
}

/* ---- columns -------------------------------------------------------------- */

/* Equality of short keys without a libc call: keys are mostly 2..30 bytes,
 * where memcmp's call and dispatch cost more than the compare. */
static inline bool key_equal(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        uint64_t x, y;
        size_t i = 0;
        for (; i + 8 < n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y)
                return false;
        }
        memcpy(&x, a + n - 8, 8); /* last 8 bytes, overlapping the loop's */
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

static int32_t lookup_column(const tw_json_decoder *d, const char *key, size_t len)
{
    for (uint32_t c = 0; c < d->ncols; c++)
        if (d->name_lens[c] == len && memcmp(d->names[c], key, len) == 0)
            return (int32_t)c;
    for (uint32_t c = 0; c < d->ncols; c++) {
        if (d->name_lens[c] != len)
            continue;
        size_t i = 0;
        while (i < len) {
            unsigned char a = (unsigned char)key[i], b = (unsigned char)d->names[c][i];
            if ((unsigned)(a - 'A') < 26u)
                a |= 0x20;
            if ((unsigned)(b - 'A') < 26u)
                b |= 0x20;
            if (a != b)
                break;
            i++;
        }
        if (i == len)
            return (int32_t)c;
    }
    return -1;
}

static inline bool digits2(const char *s, unsigned *out)
{
    unsigned a = (unsigned)(unsigned char)s[0] - '0', b = (unsigned)(unsigned char)s[1] - '0';
    *out = a * 10 + b;
    return a < 10 && b < 10;
}

/* The layouts sources write ("2026-01-27T20:47:13.482913Z" and without the
 * fraction) read at fixed offsets; anything else, including every value
 * this rejects, goes to tw_timestamp_parse, which stays the definition. */
static bool parse_timestamp(const char *s, size_t len, int64_t *out_us)
{
    static const unsigned char month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y1, y2, mo, dd, hh, mi, ss, f1, f2, f3;
    bool layout = (len == 20 && s[19] == 'Z') || (len == 27 && s[19] == '.' && s[26] == 'Z');
    if (!layout || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        !digits2(s, &y1) || !digits2(s + 2, &y2) || !digits2(s + 5, &mo) || !digits2(s + 8, &dd) ||
        !digits2(s + 11, &hh) || !digits2(s + 14, &mi) || !digits2(s + 17, &ss) || mo - 1 > 11u ||
        dd - 1 >= month_days[mo - 1] || hh > 23 || mi > 59 || ss > 59)
        return tw_timestamp_parse(s, len, out_us);
    unsigned year = y1 * 100 + y2;
    if (mo == 2 && dd == 29)
        return tw_timestamp_parse(s, len, out_us);
    int64_t frac_us = 0;
    if (len == 27) {
        if (!digits2(s + 20, &f1) || !digits2(s + 22, &f2) || !digits2(s + 24, &f3))
            return tw_timestamp_parse(s, len, out_us);
        frac_us = (int64_t)(f1 * 10000 + f2 * 100 + f3);
    }
    int64_t days = tw_days_from_civil(year, mo, dd);
    *out_us = (days * 86400 + hh * 3600 + mi * 60 + ss) * TW_USEC_PER_SEC + frac_us;
    return true;
}

/* Stores a string value [s, e) (validated, *escaped when it has escapes)
 * into row `row` of col. Returns false on a type error. */
static bool store_string(tw_json_decoder *d, tw_batch *out, tw_column *col, uint8_t kind, uint32_t row,
                         const char *s, const char *e, bool escaped)
{
    size_t len = (size_t)(e - s);
    if (kind == K_STR) {
        if (len > UINT32_MAX)
            return false;
        if (escaped) {
            char *dst = tw_arena_alloc(&out->arena, len);
            len = unescape(dst, s, e);
            s = dst;
        }
        col->s[row] = (tw_str){s, (uint32_t)len};
        col->valid[row] = 1;
        return true;
    }
    if (kind == K_TS) {
        if (escaped) {
            char *dst = scratch_reserve(d, len);
            len = unescape(dst, s, e);
            s = dst;
        }
        int64_t us;
        if (!parse_timestamp(s, len, &us))
            return false;
        col->i64[row] = us;
        col->valid[row] = 1;
        return true;
    }
    return false;
}

static bool store_number(tw_json_decoder *d, tw_column *col, uint8_t kind, uint32_t row, const num *n)
{
    int64_t i;
    double f;
    switch (kind) {
    case K_I16:
        if (!number_int(n, INT16_MAX, &i))
            return false;
        col->i64[row] = i;
        break;
    case K_I32:
        if (!number_int(n, INT32_MAX, &i))
            return false;
        col->i64[row] = i;
        break;
    case K_I64:
        if (!number_int(n, INT64_MAX, &i))
            return false;
        col->i64[row] = i;
        break;
    case K_F64:
        if (!number_f64(d, n, &f))
            return false;
        col->f64[row] = f;
        break;
    case K_F32:
        if (!number_f32(d, n, &f))
            return false;
        col->f64[row] = f;
        break;
    default: return false;
    }
    col->valid[row] = 1;
    return true;
}

/* Parses the value at p (whitespace skipped) into row `row` of column c.
 * A value of the wrong type leaves the slot NULL and bumps *type_errors. */
static const char *parse_column_value(tw_json_decoder *d, const char *p, const char *end,
                                      const char *readable_end, tw_batch *out, uint32_t c, uint32_t row,
                                      uint64_t *type_errors)
{
    tw_column *col = &out->cols[c];
    uint8_t kind = d->kinds[c];
    bool ok;
    /* A repeated key overrides an earlier value, even with NULL. */
    tw_col_set_null(col, row);
    if (p >= end)
        return fail(d, R_TRUNC);
    switch (*p) {
    case '"': {
        bool esc;
        const char *q = scan_string(d, p + 1, end, readable_end, &esc);
        if (!q)
            return NULL;
        ok = store_string(d, out, col, kind, row, p + 1, q, esc);
        p = q + 1;
        break;
    }
    case 't':
    case 'f': {
        bool v = *p == 't';
        p = v ? parse_literal(d, p, end, "true", 4) : parse_literal(d, p, end, "false", 5);
        if (!p)
            return NULL;
        ok = kind == K_BOOL;
        if (ok) {
            col->b[row] = v;
            col->valid[row] = 1;
        }
        break;
    }
    case 'n': return parse_literal(d, p, end, "null", 4);
    case '{':
    case '[':
        p = skip_value(d, p, end, readable_end, 1);
        ok = false;
        break;
    default: {
        if (*p != '-' && !is_digit((unsigned char)*p))
            return fail(d, (*p == 'N' || *p == 'I' || *p == '+' || *p == '.') ? R_NUMBER : R_INVALID);
        num n;
        p = parse_number(d, p, end, &n);
        if (!p)
            return NULL;
        ok = store_number(d, col, kind, row, &n);
        break;
    }
    }
    if (!ok) {
        tw_col_set_null(col, row);
        ++*type_errors;
    }
    return p;
}

/* ---- lines ---------------------------------------------------------------- */

/* Decodes the object at p (whitespace skipped, *p == '{') into row `row`.
 * Returns NULL with d->err set when the line is malformed. */
static const char *parse_object(tw_json_decoder *d, const char *p, const char *end,
                                const char *readable_end, tw_batch *out, uint32_t row,
                                uint64_t *type_errors)
{
    for (uint32_t c = 0; c < d->ncols; c++)
        tw_col_set_null(&out->cols[c], row);
    p = skip_ws(p + 1, end);
    if (p >= end)
        return fail(d, R_TRUNC);
    if (*p == '}')
        return p + 1;
    for (uint32_t key_pos = 0;; key_pos++) {
        if (*p != '"')
            return fail(d, R_INVALID);
        const char *key = p + 1;
        bool esc;
        const char *q = scan_string(d, key, end, readable_end, &esc);
        if (!q)
            return NULL;
        size_t key_len = (size_t)(q - key);
        p = q + 1;
        if (p < end && *p == ':') {
            p++;
        } else {
            p = skip_ws(p, end);
            if (p >= end)
                return fail(d, R_TRUNC);
            if (*p != ':')
                return fail(d, R_INVALID);
            p++;
        }
        p = skip_ws(p, end);
        if (esc) {
            char *k = scratch_reserve(d, key_len);
            key_len = unescape(k, key, q);
            key = k;
        }
        int32_t c = key_pos < PRED_KEYS ? d->pred[key_pos] : -1;
        if (c < 0 || d->name_lens[c] != key_len || !key_equal(d->names[c], key, key_len)) {
            c = lookup_column(d, key, key_len);
            if (key_pos < PRED_KEYS)
                d->pred[key_pos] = c;
        }
        if (c >= 0)
            p = parse_column_value(d, p, end, readable_end, out, (uint32_t)c, row, type_errors);
        else
            p = skip_value(d, p, end, readable_end, 1);
        if (!p)
            return NULL;
        if (p >= end || (*p != ',' && *p != '}')) {
            p = skip_ws(p, end);
            if (p >= end)
                return fail(d, R_TRUNC);
        }
        if (*p == '}')
            return p + 1;
        if (*p != ',')
            return fail(d, R_INVALID);
        p = skip_ws(p + 1, end);
        if (p >= end)
            return fail(d, R_TRUNC);
    }
}

static void dead_letter(tw_json_decoder *d, const char *line, const char *end, const char *reason)
{
    if (!d->dead_letter)
        return;
    if (end > line && end[-1] == '\r')
        end--;
    d->dead_letter(d->dead_letter_ctx, line, (size_t)(end - line), reason);
}

size_t tw_json_decode(tw_json_decoder *dec, const char *buf, size_t len, bool at_eof, tw_batch *out,
                      tw_decode_stats *stats)
{
    assert(out->ncols == dec->ncols);
    const char *p = buf;
    const char *const buf_end = buf + len;
    uint64_t lines = 0, rows = 0, malformed = 0, type_errors = 0;
    while (out->nrows < out->capacity && p < buf_end) {
        const char *eol = memchr(p, '\n', (size_t)(buf_end - p));
        const char *next;
        if (eol) {
            next = eol + 1;
        } else {
            if (!at_eof)
                break;
            eol = next = buf_end;
        }
        const char *line = p;
        p = next;
        const char *q = skip_ws(line, eol);
        if (q == eol)
            continue; /* blank line */
        lines++;
        uint64_t line_type_errors = 0;
        if (*q == '{') {
            q = parse_object(dec, q, eol, buf_end, out, out->nrows, &line_type_errors);
            if (q) {
                q = skip_ws(q, eol);
                if (q != eol) {
                    q = NULL;
                    dec->err = R_TRAILING;
                }
            }
        } else {
            q = NULL;
            dec->err = R_NOT_OBJECT;
        }
        if (q) {
            out->nrows++;
            rows++;
            type_errors += line_type_errors;
            continue;
        }
        malformed++;
        /* Invalid UTF-8 anywhere names the line's fault, whatever the
         * grammar error that stopped the parse. */
        dead_letter(dec, line, eol, utf8_valid(line, eol) ? dec->err : R_UTF8);
    }
    if (stats) {
        stats->lines += lines;
        stats->rows += rows;
        stats->malformed += malformed;
        stats->type_errors += type_errors;
    }
    return (size_t)(p - buf);
}

bool tw_json_decode_message(tw_json_decoder *dec, const char *buf, size_t len, tw_batch *out,
                            tw_decode_stats *stats)
{
    assert(out->ncols == dec->ncols && out->nrows < out->capacity);
    const char *line = buf, *end = buf + len;
    /* The parser treats '\n' as the end of a line. In a message it is
     * whitespace between tokens (and invalid inside strings), exactly what
     * '\t' is to the parser, so such rare messages are parsed from a copy
     * with one replaced by the other; the copy lives as long as the batch. */
    if (memchr(buf, '\n', len)) {
        char *copy = tw_arena_alloc(&out->arena, len ? len : 1);
        for (size_t i = 0; i < len; i++)
            copy[i] = buf[i] == '\n' ? '\t' : buf[i];
        line = copy;
        end = copy + len;
    }
    const char *q = skip_ws(line, end);
    if (q == end)
        return false;
    uint64_t type_errors = 0;
    if (*q == '{') {
        q = parse_object(dec, q, end, end, out, out->nrows, &type_errors);
        if (q && skip_ws(q, end) != end) {
            q = NULL;
            dec->err = R_TRAILING;
        }
    } else {
        q = NULL;
        dec->err = R_NOT_OBJECT;
    }
    if (stats)
        stats->lines++;
    if (!q) {
        if (stats)
            stats->malformed++;
        dead_letter(dec, buf, buf + len, utf8_valid(buf, buf + len) ? dec->err : R_UTF8);
        return false;
    }
    out->nrows++;
    if (stats) {
        stats->rows++;
        stats->type_errors += type_errors;
    }
    return true;
}

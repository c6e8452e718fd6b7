/* jsonout.c - compact JSON encoder with shortest reals (see jsonout.h). */
#include "serve/jsonout.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"

typedef struct out {
    char *data;
    size_t len, cap;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        while (o->len + n + 1 > o->cap)
            o->cap = o->cap ? o->cap * 2 : 256;
        o->data = tw_xrealloc(o->data, o->cap);
    }
    memcpy(o->data + o->len, s, n);
    o->len += n;
    o->data[o->len] = '\0';
}

size_t tw_json_format_real(double d, char *buf)
{
    assert(isfinite(d));
    /* The fewest significant digits that read back; 17 always do. A double
     * whose shortest form has at most 15 digits prints as that form padded
     * with zeros at 15 (a decimal of up to DBL_DIG digits survives the trip
     * through a double), so 15 digits with the zeros cut off answers every
     * such value in one try; 16, then 17, answer the rest. */
    int digits = 15, n = 0;
    for (; digits <= 17; digits++) {
        n = snprintf(buf, 40, "%.*e", digits - 1, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    if (digits > 17)
        digits = 17;
    const char *e = strchr(buf, 'e');
    for (const char *m = e - 1; digits > 1 && *m == '0'; m--)
        digits--;
    /* Plain notation for exponents -4..15, as Python's repr (100.0, not
     * 1e+02): the same digits, so it reads back the same; from 1e16 on a
     * plain integer could need more digits than the shortest form. */
    int exponent = atoi(e + 1);
    if (exponent >= -4 && exponent < 16) {
        int decimals = digits - 1 - exponent;
        n = snprintf(buf, 40, "%.*f", decimals > 0 ? decimals : 0, d);
    } else {
        n = snprintf(buf, 40, "%.*e", digits - 1, d);
    }
    if (!strpbrk(buf, ".e")) {
        memcpy(buf + n, ".0", 3);
        n += 2;
    }
    return (size_t)n;
}

static void put_string(out *o, const char *s, size_t n)
{
    put(o, "\"", 1);
    size_t plain_from = 0; /* start of the bytes copied as they are */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc;
        char hex[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c >= 0x20)
                continue;
            snprintf(hex, sizeof hex, "\\u%04x", c);
            esc = hex;
        }
        put(o, s + plain_from, i - plain_from);
        put(o, esc, strlen(esc));
        plain_from = i + 1;
    }
    put(o, s + plain_from, n - plain_from);
    put(o, "\"", 1);
}

static void encode(out *o, const json_t *v)
{
    char num[48];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        put(o, "{", 1);
        const char *key;
        size_t key_len;
        json_t *item;
        bool first = true;
        json_object_keylen_foreach((json_t *)v, key, key_len, item)
        {
            if (!first)
                put(o, ",", 1);
            first = false;
            put_string(o, key, key_len);
            put(o, ":", 1);
            encode(o, item);
        }
        put(o, "}", 1);
        return;
    }
    case JSON_ARRAY: {
        put(o, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                put(o, ",", 1);
            encode(o, json_array_get(v, i));
        }
        put(o, "]", 1);
        return;
    }
    case JSON_STRING: put_string(o, json_string_value(v), json_string_length(v)); return;
    case JSON_INTEGER:
        put(o, num, (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                                     json_integer_value(v)));
        return;
    case JSON_REAL: put(o, num, tw_json_format_real(json_real_value(v), num)); return;
    case JSON_TRUE: put(o, "true", 4); return;
    case JSON_FALSE: put(o, "false", 5); return;
    case JSON_NULL: put(o, "null", 4); return;
    }
}

char *tw_json_encode(const json_t *value, size_t *len)
{
    out o = {0};
    put(&o, "", 0);
    encode(&o, value);
    if (len)
        *len = o.len;
    return o.data;
}

/* timeutil.c - see timeutil.h. */
#include "common/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian
 * calendar, no tables, no loops. */
int64_t tw_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void tw_civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *year = y + (m <= 2);
    *month = m;
    *day = d;
}

static bool digits(const char *s, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i] - '0';
        if (c > 9)
            return false;
        v = v * 10 + c;
    }
    *out = v;
    return true;
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool tw_timestamp_parse(const char *s, size_t len, int64_t *out_us)
{
    static const unsigned char mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned year, month, day, hour, minute, second;
    if (len < 19 || !digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &month) ||
        s[7] != '-' || !digits(s + 8, 2, &day) || (s[10] != 'T' && s[10] != ' ' && s[10] != 't') ||
        !digits(s + 11, 2, &hour) || s[13] != ':' || !digits(s + 14, 2, &minute) || s[16] != ':' ||
        !digits(s + 17, 2, &second))
        return false;
    if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59)
        return false;
    unsigned max_day = mdays[month - 1] + (month == 2 && leap(year));
    if (day > max_day)
        return false;
    size_t i = 19;
    int64_t frac_us = 0;
    if (i < len && s[i] == '.') {
        i++;
        size_t start = i;
        int64_t scale = 100000;
        while (i < len && (unsigned)(s[i] - '0') <= 9) {
            if (scale > 0) {
                frac_us += (s[i] - '0') * scale;
                scale /= 10;
            }
            i++;
        }
        if (i == start)
            return false;
    }
    int64_t offset_s = 0;
    if (i < len) {
        if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
            i++;
        } else if (s[i] == '+' || s[i] == '-') {
            int sign = s[i] == '-' ? -1 : 1;
            unsigned oh, om = 0;
            size_t rest = len - i - 1;
            const char *o = s + i + 1;
            if (rest == 2 && digits(o, 2, &oh)) {
            } else if (rest == 4 && digits(o, 2, &oh) && digits(o + 2, 2, &om)) {
            } else if (rest == 5 && digits(o, 2, &oh) && o[2] == ':' && digits(o + 3, 2, &om)) {
            } else {
                return false;
            }
            if (oh > 23 || om > 59)
                return false;
            offset_s = sign * (int64_t)(oh * 3600 + om * 60);
            i = len;
        } else {
            return false;
        }
    }
    if (i != len)
        return false;
    int64_t days = tw_days_from_civil(year, month, day);
    int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
    *out_us = secs * TW_USEC_PER_SEC + frac_us;
    return true;
}

static char *put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

size_t tw_timestamp_format(int64_t us, char *buf, const char *suffix)
{
    int64_t secs = us / TW_USEC_PER_SEC;
    int64_t frac = us % TW_USEC_PER_SEC;
    if (frac < 0) {
        frac += TW_USEC_PER_SEC;
        secs -= 1;
    }
    int64_t days = secs / 86400;
    int64_t sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    int64_t year;
    unsigned month, day;
    tw_civil_from_days(days, &year, &month, &day);
    char *p = buf;
    if (year >= 0 && year <= 9999) {
        unsigned y = (unsigned)year;
        *p++ = (char)('0' + y / 1000);
        *p++ = (char)('0' + y / 100 % 10);
        *p++ = (char)('0' + y / 10 % 10);
        *p++ = (char)('0' + y % 10);
    } else {
        p += sprintf(p, "%lld", (long long)year);
    }
    *p++ = '-';
    p = put2(p, month);
    *p++ = '-';
    p = put2(p, day);
    *p++ = 'T';
    p = put2(p, (unsigned)(sod / 3600));
    *p++ = ':';
    p = put2(p, (unsigned)(sod / 60 % 60));
    *p++ = ':';
    p = put2(p, (unsigned)(sod % 60));
    if (frac) {
        *p++ = '.';
        for (int64_t scale = 100000; scale > 0; scale /= 10)
            *p++ = (char)('0' + frac / scale % 10);
    }
    size_t sl = suffix ? strlen(suffix) : 0;
    memcpy(p, suffix ? suffix : "", sl);
    p += sl;
    *p = '\0';
    return (size_t)(p - buf);
}

static bool unit_us(const char *u, size_t n, int64_t *out)
{
    static const struct {
        const char *name;
        int64_t us;
    } units[] = {
        {"microsecond", 1},       {"microseconds", 1},     {"us", 1},
        {"millisecond", 1000},    {"milliseconds", 1000},  {"ms", 1000},
        {"second", 1000000},      {"seconds", 1000000},    {"sec", 1000000},
        {"secs", 1000000},        {"s", 1000000},          {"minute", 60000000},
        {"minutes", 60000000},    {"min", 60000000},       {"mins", 60000000},
        {"m", 60000000},          {"hour", 3600000000LL},  {"hours", 3600000000LL},
        {"h", 3600000000LL},      {"hr", 3600000000LL},    {"hrs", 3600000000LL},
        {"day", 86400000000LL},   {"days", 86400000000LL}, {"d", 86400000000LL},
        {"week", 604800000000LL}, {"weeks", 604800000000LL},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strlen(units[i].name) == n && strncasecmp(units[i].name, u, n) == 0) {
            *out = units[i].us;
            return true;
        }
    }
    return false;
}

bool tw_interval_parse(const char *s, size_t len, const char *default_unit, int64_t *out_us)
{
    size_t i = 0;
    int64_t total = 0;
    bool any = false;
    while (i < len) {
        while (i < len && isspace((unsigned char)s[i]))
            i++;
        if (i == len)
            break;
        int sign = 1;
        if (s[i] == '-' || s[i] == '+') {
            sign = s[i] == '-' ? -1 : 1;
            i++;
        }
        /* HH:MM:SS form */
        size_t start = i;
        while (i < len && isdigit((unsigned char)s[i]))
            i++;
        if (i == start)
            return false;
        if (i < len && s[i] == ':') {
            unsigned h, m, sec;
            size_t n = i - start;
            if (n > 9 || !digits(s + start, (int)n, &h))
                return false;
            if (len - i < 3 || !digits(s + i + 1, 2, &m))
                return false;
            i += 3;
            sec = 0;
            if (i < len && s[i] == ':') {
                if (len - i < 3 || !digits(s + i + 1, 2, &sec))
                    return false;
                i += 3;
            }
            total += sign * ((int64_t)h * 3600 + m * 60 + sec) * TW_USEC_PER_SEC;
            any = true;
            continue;
        }
        /* number with optional fraction */
        double value = 0;
        for (size_t k = start; k < i; k++)
            value = value * 10 + (s[k] - '0');
        if (i < len && s[i] == '.') {
            i++;
            double scale = 0.1;
            while (i < len && isdigit((unsigned char)s[i])) {
                value += (s[i] - '0') * scale;
                scale /= 10;
                i++;
            }
        }
        while (i < len && isspace((unsigned char)s[i]))
            i++;
        size_t ustart = i;
        while (i < len && isalpha((unsigned char)s[i]))
            i++;
        int64_t mult;
        if (i > ustart) {
            if (!unit_us(s + ustart, i - ustart, &mult))
                return false;
        } else if (default_unit) {
            if (!unit_us(default_unit, strlen(default_unit), &mult))
                return false;
        } else {
            mult = TW_USEC_PER_SEC;
        }
        total += sign * (int64_t)(value * (double)mult + 0.5);
        any = true;
    }
    if (!any)
        return false;
    *out_us = total;
    return true;
}

int64_t tw_now_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * TW_USEC_PER_SEC + ts.tv_nsec / 1000;
}

int64_t tw_now_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * TW_USEC_PER_SEC + ts.tv_nsec / 1000;
}

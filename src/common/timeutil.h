/* timeutil.h - timestamps as int64 microseconds since 1970-01-01 UTC.
 *
 * Parsing accepts YYYY-MM-DD[T ]HH:MM:SS[.ffffff][Z|+HH:MM|-HH:MM|+HHMM|+HH];
 * a value without an offset is taken as UTC. Fractions longer than six
 * digits are truncated to microseconds. Formatting writes ISO 8601 with a
 * 'T' and shows microseconds only where they are non-zero.
 */
#ifndef TW_COMMON_TIMEUTIL_H
#define TW_COMMON_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TW_USEC_PER_SEC INT64_C(1000000)
#define TW_USEC_PER_DAY (INT64_C(86400) * TW_USEC_PER_SEC)

/* Days since 1970-01-01 of a proleptic Gregorian date (valid for any year). */
int64_t tw_days_from_civil(int64_t year, unsigned month, unsigned day);

/* Inverse of tw_days_from_civil. */
void tw_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day);

/* Parses s[0..len) entirely. Returns false, leaving *out_us untouched, when
 * the text is not a valid timestamp (bad field, out-of-range month/day/hour,
 * trailing bytes). */
bool tw_timestamp_parse(const char *s, size_t len, int64_t *out_us);

/* Writes "YYYY-MM-DDTHH:MM:SS[.ffffff]" plus suffix ("Z" or "" ) into buf,
 * which must hold at least 40 bytes. Returns the length written (no NUL
 * counted; buf is NUL-terminated). */
size_t tw_timestamp_format(int64_t us, char *buf, const char *suffix);

/* Parses an interval text such as "10 seconds", "5", "1 minute 30 seconds",
 * "00:00:10" with a unit that applies to a bare number (TW_UNIT_* below or
 * NULL for seconds). Months and years are refused (not a fixed length).
 * Returns false on bad text. */
bool tw_interval_parse(const char *s, size_t len, const char *default_unit, int64_t *out_us);

/* Monotonic clock in microseconds, and wall clock (UTC) in microseconds. */
int64_t tw_now_mono_us(void);
int64_t tw_now_wall_us(void);

#endif

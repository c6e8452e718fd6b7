/* sqlerr.c - see sqlerr.h. */
#include "sql/sqlerr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Source lines longer than this are shown as a window around the caret,
 * so that the message fits in tw_err.msg. */
#define SHOWN_LINE_MAX_BYTES 160
#define SHOWN_BEFORE_CARET_BYTES 80

static bool is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

void tw_sql_line_col(const char *text, size_t len, uint32_t loc, uint32_t *line, uint32_t *col)
{
    if (loc > len)
        loc = (uint32_t)len;
    uint32_t l = 1, c = 1;
    for (uint32_t i = 0; i < loc; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch == '\n') {
            l++;
            c = 1;
        } else if (!is_continuation(ch)) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

bool tw_sql_error_at(tw_err *err, tw_err_code code, const char *text, size_t len,
                     const char *filename, uint32_t loc, const char *fmt, ...)
{
    if (!err)
        return false;
    if (loc > len)
        loc = (uint32_t)len;
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);

    uint32_t line, col;
    tw_sql_line_col(text, len, loc, &line, &col);

    size_t line_start = loc;
    while (line_start > 0 && text[line_start - 1] != '\n')
        line_start--;
    size_t line_end = loc;
    while (line_end < len && text[line_end] != '\n' && text[line_end] != '\r')
        line_end++;

    /* Window very long lines, cutting only at code point boundaries. */
    size_t shown_start = line_start, shown_end = line_end;
    if (line_end - line_start > SHOWN_LINE_MAX_BYTES) {
        if (loc - line_start > SHOWN_BEFORE_CARET_BYTES) {
            shown_start = loc - SHOWN_BEFORE_CARET_BYTES;
            while (shown_start < loc && is_continuation((unsigned char)text[shown_start]))
                shown_start++;
        }
        if (line_end - shown_start > SHOWN_LINE_MAX_BYTES) {
            shown_end = shown_start + SHOWN_LINE_MAX_BYTES;
            while (shown_end > loc && is_continuation((unsigned char)text[shown_end]))
                shown_end--;
        }
    }

    char caret[SHOWN_LINE_MAX_BYTES + 2];
    size_t ncaret = 0;
    for (size_t i = shown_start; i < loc && ncaret < SHOWN_LINE_MAX_BYTES; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch == '\t')
            caret[ncaret++] = '\t';
        else if (!is_continuation(ch))
            caret[ncaret++] = ' ';
    }
    caret[ncaret++] = '^';
    caret[ncaret] = '\0';

    err->code = code;
    snprintf(err->msg, sizeof err->msg, "%s:%u:%u: error: %s\n  %.*s\n  %s",
             filename ? filename : "<sql>", line, col, message,
             (int)(shown_end - shown_start), text + shown_start, caret);
    return false;
}

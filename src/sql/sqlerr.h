/* sqlerr.h - error messages that point into SQL text.
 *
 * Used by the lexer, the parser and the binder to report a problem at a
 * byte offset of a script: the message names file, line and column, shows
 * the source line and puts a caret under the offending character. This
 * module owns nothing; it only formats into the caller's tw_err.
 */
#ifndef TW_SQL_SQLERR_H
#define TW_SQL_SQLERR_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Fills err with code and
 *   "FILE:LINE:COL: error: MESSAGE\n  <source line>\n  <spaces>^"
 * where LINE and COL are 1-based and COL counts UTF-8 code points (a tab
 * is one column and is echoed as a tab under the line so the caret lines
 * up). loc past the end points just after the last character. A NULL
 * filename prints as "<sql>". Very long lines are shown as a window
 * around the caret. Always returns false; err may be NULL. */
bool tw_sql_error_at(tw_err *err, tw_err_code code, const char *text, size_t len,
                     const char *filename, uint32_t loc, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Computes the 1-based line and column (in code points) of loc in text. */
void tw_sql_line_col(const char *text, size_t len, uint32_t loc, uint32_t *line, uint32_t *col);

#endif

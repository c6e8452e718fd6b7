/* parser.h - SQL text to syntax tree (RisingWave dialect).
 *
 * A hand-written recursive-descent parser over the tokens of lexer.h. It
 * accepts the subset of RisingWave SQL that tidewatch runs (see
 * docs/sql.md) and refuses the rest: valid RisingWave/PostgreSQL it does
 * not do yet gives TW_ERR_UNSUPPORTED naming the feature, anything else
 * TW_ERR_SYNTAX saying what was expected and what was found. The tree
 * (ast.h) lives in the caller's arena; the parser keeps no state between
 * calls.
 */
#ifndef TW_SQL_PARSER_H
#define TW_SQL_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "common/err.h"
#include "sql/ast.h"

/* Parses every statement of text[0..len) into out (empty statements are
 * skipped). All nodes and strings are allocated in arena; out->text and
 * out->filename point at the caller's buffers, which must outlive the tree.
 * Stops at the first error: returns false with err filled (message in the
 * tw_sql_error_at format); out is then unspecified. */
bool tw_sql_parse_script(const char *text, size_t len, const char *filename, tw_arena *arena,
                         tw_sql_script *out, tw_err *err);

#endif

/* jsonout.h - compact JSON text for the API, with shortest round-trip reals.
 *
 * jansson writes every real with 17 significant digits, so an average of
 * 21.89 goes out as 21.890000000000001. The API's routes and its event
 * stream encode through here instead: the same compact text jansson would
 * write (objects keep their insertion order, strings are escaped the same
 * way), except that each real is the shortest decimal that reads back as
 * the same double, always with a '.' or an exponent so it stays a real for
 * clients that tell integers and reals apart. Owns nothing.
 */
#ifndef TW_SERVE_JSONOUT_H
#define TW_SERVE_JSONOUT_H

#include <stddef.h>

#include <jansson.h>

/* Encodes value as compact JSON into a malloc'd NUL-terminated string the
 * caller frees; *len (when not NULL) gets its length. Never NULL. */
char *tw_json_encode(const json_t *value, size_t *len);

/* Writes the shortest text that reads back (strtod) as d, a finite double,
 * with ".0" added when it would otherwise read as an integer. buf holds at
 * least 40 bytes. Returns the length. */
size_t tw_json_format_real(double d, char *buf);

#endif

/* assets.h - the dashboard's files (web/), compiled into the binary.
 *
 * cmake/embed.cmake turns every file in web/ into a C array at build time
 * (the generated web_assets.c defines tw_web_assets), so the binary serves
 * its dashboard with no files beside it and no network. The table is
 * read-only static data.
 */
#ifndef TW_SERVE_ASSETS_H
#define TW_SERVE_ASSETS_H

#include <stddef.h>

typedef struct tw_web_asset {
    const char *path;         /* "/index.html" */
    const char *content_type; /* from the file's extension */
    const unsigned char *data;
    size_t len;
} tw_web_asset;

extern const tw_web_asset tw_web_assets[];
extern const size_t tw_web_nassets;

/* The asset at an exact URL path, or NULL. */
const tw_web_asset *tw_web_asset_find(const char *path);

#endif

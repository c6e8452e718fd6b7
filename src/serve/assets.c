/* assets.c - lookup in the embedded dashboard files (see assets.h). */
#include "serve/assets.h"

#include <string.h>

const tw_web_asset *tw_web_asset_find(const char *path)
{
    for (size_t i = 0; i < tw_web_nassets; i++)
        if (!strcmp(tw_web_assets[i].path, path))
            return &tw_web_assets[i];
    return NULL;
}

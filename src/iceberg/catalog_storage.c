/* catalog_storage.c - the storage catalog: a bare warehouse directory.
 *
 * Each table keeps WAREHOUSE/NS/TABLE/metadata/vN.metadata.json for every
 * version N and version-hint.text naming the latest, as Java's
 * HadoopCatalog and readers such as icebird expect. The swap is a hard
 * link of the writer's uniquely named metadata file to v(N+1): link()
 * fails when that name exists, so of two writers racing from version N
 * exactly one wins. The hint is advisory (written after the link); load
 * probes past it, so a crash between the two loses nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iceberg/catalog.h"
#include "iceberg/fileio.h"

typedef struct storage_catalog {
    tw_catalog base;
    char *warehouse; /* local path */
} storage_catalog;

static char *metadata_dir(storage_catalog *c, const char *ns, const char *table)
{
    size_t n = strlen(c->warehouse) + strlen(ns) + strlen(table) + 16;
    char *dir = malloc(n);
    if (!dir)
        abort();
    snprintf(dir, n, "%s/%s/%s/metadata", c->warehouse, ns, table);
    /* Namespace levels are directories. */
    for (char *p = dir + strlen(c->warehouse) + 1; *p && p < dir + strlen(c->warehouse) + 1 + strlen(ns); p++)
        if (*p == '.')
            *p = '/';
    return dir;
}

static char *version_path(const char *dir, long version)
{
    size_t n = strlen(dir) + 40;
    char *p = malloc(n);
    if (!p)
        abort();
    snprintf(p, n, "%s/v%ld.metadata.json", dir, version);
    return p;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The latest version in dir, 0 when there is none. */
static long current_version(const char *dir)
{
    long version = 0;
    size_t n = strlen(dir) + 24;
    char *hint = malloc(n);
    if (!hint)
        abort();
    snprintf(hint, n, "%s/version-hint.text", dir);
    FILE *f = fopen(hint, "r");
    free(hint);
    if (f) {
        if (fscanf(f, "%ld", &version) != 1)
            version = 0;
        fclose(f);
    }
    if (version <= 0) {
        /* No usable hint: the highest vN present. */
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            long v;
            char tail[32];
            if (sscanf(e->d_name, "v%ld.%31s", &v, tail) == 2 && strcmp(tail, "metadata.json") == 0 &&
                v > version)
                version = v;
        }
        if (d)
            closedir(d);
    }
    for (;;) {
        char *next = version_path(dir, version + 1);
        bool more = exists(next);
        free(next);
        if (!more)
            break;
        version++;
    }
    return version;
}

static void write_hint(const char *dir, long version)
{
    size_t n = strlen(dir) + 40;
    char *tmp = malloc(n), *hint = malloc(n);
    if (!tmp || !hint)
        abort();
    snprintf(tmp, n, "%s/version-hint.text.%d.tmp", dir, (int)getpid());
    snprintf(hint, n, "%s/version-hint.text", dir);
    FILE *f = fopen(tmp, "w");
    if (f) {
        bool ok = fprintf(f, "%ld", version) > 0;
        ok = fclose(f) == 0 && ok;
        if (!ok || rename(tmp, hint) != 0)
            unlink(tmp);
    }
    free(tmp);
    free(hint);
}

static bool storage_load(tw_catalog *base, const char *ns, const char *table, char **metadata_location,
                         tw_err *err)
{
    (void)err;
    storage_catalog *c = (storage_catalog *)base;
    char *dir = metadata_dir(c, ns, table);
    long version = current_version(dir);
    *metadata_location = version > 0 ? version_path(dir, version) : NULL;
    free(dir);
    return true;
}

/* Links new_location to version `version`; EEXIST means another writer has it. */
static tw_cas_result link_version(const char *dir, long version, const char *new_location, tw_err *err)
{
    char *target = version_path(dir, version);
    const char *src = tw_fileio_local_path(new_location);
    tw_cas_result r = TW_CAS_OK;
    if (link(src, target) != 0) {
        if (errno == EEXIST)
            r = TW_CAS_CONFLICT;
        else {
            tw_err_set(err, TW_ERR_IO, "cannot link %s to %s: %s", src, target, strerror(errno));
            r = TW_CAS_ERROR;
        }
    }
    free(target);
    if (r == TW_CAS_OK)
        write_hint(dir, version);
    return r;
}

static bool storage_create(tw_catalog *base, const char *ns, const char *table,
                           const char *metadata_location, bool *already_exists, tw_err *err)
{
    storage_catalog *c = (storage_catalog *)base;
    char *dir = metadata_dir(c, ns, table);
    *already_exists = current_version(dir) > 0;
    tw_cas_result r = *already_exists ? TW_CAS_CONFLICT : link_version(dir, 1, metadata_location, err);
    free(dir);
    if (r == TW_CAS_CONFLICT)
        *already_exists = true;
    return r != TW_CAS_ERROR;
}

static tw_cas_result storage_swap(tw_catalog *base, const char *ns, const char *table,
                                  const char *expected_location, const char *new_location, tw_err *err)
{
    storage_catalog *c = (storage_catalog *)base;
    char *dir = metadata_dir(c, ns, table);
    long version = current_version(dir);
    char *current = version > 0 ? version_path(dir, version) : NULL;
    tw_cas_result r;
    if (!current || strcmp(current, tw_fileio_local_path(expected_location)) != 0)
        r = TW_CAS_CONFLICT;
    else
        r = link_version(dir, version + 1, new_location, err);
    free(current);
    free(dir);
    return r;
}

static void storage_close(tw_catalog *base)
{
    storage_catalog *c = (storage_catalog *)base;
    free(c->warehouse);
    free(c->base.name);
    free(c);
}

static const tw_catalog_ops storage_ops = {
    .kind = "storage",
    .load = storage_load,
    .create = storage_create,
    .swap = storage_swap,
    .close = storage_close,
};

tw_catalog *tw_catalog_open_storage(const char *warehouse_dir, tw_err *err)
{
    const char *path = tw_fileio_local_path(warehouse_dir);
    if (path[0] != '/') {
        tw_err_set(err, TW_ERR_CONFIG, "storage catalog: warehouse '%s' is not an absolute path",
                   warehouse_dir);
        return NULL;
    }
    storage_catalog *c = calloc(1, sizeof *c);
    if (!c) {
        tw_err_set(err, TW_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->base.ops = &storage_ops;
    c->base.name = strdup("default");
    c->warehouse = strdup(path);
    size_t n = strlen(c->warehouse);
    while (n > 1 && c->warehouse[n - 1] == '/')
        c->warehouse[--n] = '\0';
    return &c->base;
}

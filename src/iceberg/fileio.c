/* fileio.c - the local file system behind tw_fileio (see fileio.h). */
#include "iceberg/fileio.h"

#include "common/arena.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct local_out {
    tw_fileio_out base;
    int fd;
    char *path;     /* final name */
    char *tmp_path; /* where the bytes go until commit */
} local_out;

const char *tw_fileio_local_path(const char *location)
{
    if (strncmp(location, "file://", 7) == 0)
        return location + 7;
    if (strncmp(location, "file:", 5) == 0)
        return location + 5;
    return location;
}

/* mkdir -p of the directory holding path. */
static bool make_parent_dirs(const char *path, tw_err *err)
{
    char *dir = strdup(path);
    if (!dir)
        return tw_err_set(err, TW_ERR_NOMEM, "out of memory");
    char *slash = strrchr(dir, '/');
    bool ok = true;
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1; ok; p++) {
            if (*p != '/' && *p != '\0')
                continue;
            char saved = *p;
            *p = '\0';
            if (mkdir(dir, 0777) != 0 && errno != EEXIST)
                ok = tw_err_set(err, TW_ERR_IO, "cannot create directory %s: %s", dir,
                                strerror(errno));
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    free(dir);
    return ok;
}

static const tw_fileio_ops local_ops;

static tw_fileio_out *local_create(tw_fileio *io, const char *location, tw_err *err)
{
    (void)io;
    const char *path = tw_fileio_local_path(location);
    if (!make_parent_dirs(path, err))
        return NULL;
    local_out *out = calloc(1, sizeof *out);
    if (!out) {
        tw_err_set(err, TW_ERR_NOMEM, "out of memory");
        return NULL;
    }
    out->base.ops = &local_ops;
    out->path = strdup(path);
    uint32_t salt = 0;
    if (getrandom(&salt, sizeof salt, 0) != (ssize_t)sizeof salt)
        salt = (uint32_t)getpid();
    size_t n = strlen(path) + 32;
    out->tmp_path = malloc(n);
    if (!out->path || !out->tmp_path) {
        tw_err_set(err, TW_ERR_NOMEM, "out of memory");
        goto fail;
    }
    /* Same directory, so the final rename never crosses file systems. */
    snprintf(out->tmp_path, n, "%s.%08x.tmp", path, salt);
    out->fd = open(out->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (out->fd < 0) {
        tw_err_set(err, TW_ERR_IO, "cannot create %s: %s", out->tmp_path, strerror(errno));
        goto fail;
    }
    return &out->base;
fail:
    free(out->path);
    free(out->tmp_path);
    free(out);
    return NULL;
}

static bool local_write(tw_fileio_out *base, const void *data, size_t len, tw_err *err)
{
    local_out *out = (local_out *)base;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(out->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return tw_err_set(err, TW_ERR_IO, "cannot write %s: %s", out->path, strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static void local_out_free(local_out *out)
{
    free(out->path);
    free(out->tmp_path);
    free(out);
}

static void local_abort(tw_fileio_out *base)
{
    local_out *out = (local_out *)base;
    if (out->fd >= 0)
        close(out->fd);
    unlink(out->tmp_path);
    local_out_free(out);
}

static bool local_commit(tw_fileio_out *base, tw_err *err)
{
    local_out *out = (local_out *)base;
    /* fsync before rename: after a crash the name never points at a file
     * whose bytes were not yet on disk. */
    if (fsync(out->fd) != 0) {
        tw_err_set(err, TW_ERR_IO, "cannot sync %s: %s", out->path, strerror(errno));
        local_abort(base);
        return false;
    }
    close(out->fd);
    out->fd = -1;
    if (rename(out->tmp_path, out->path) != 0) {
        tw_err_set(err, TW_ERR_IO, "cannot rename %s to %s: %s", out->tmp_path, out->path,
                   strerror(errno));
        local_abort(base);
        return false;
    }
    char *slash = strrchr(out->path, '/');
    if (slash) {
        *slash = '\0';
        int dfd = open(slash == out->path ? "/" : out->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    local_out_free(out);
    return true;
}

static bool local_read(tw_fileio *io, const char *location, char **data, size_t *len,
                       bool *not_found, tw_err *err)
{
    (void)io;
    const char *path = tw_fileio_local_path(location);
    if (not_found)
        *not_found = false;
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (not_found)
            *not_found = errno == ENOENT;
        return tw_err_set(err, TW_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    }
    size_t cap = 64 * 1024, n = 0;
    char *buf = malloc(cap + 1);
    bool ok = buf != NULL;
    while (ok) {
        if (n == cap) {
            char *bigger = realloc(buf, cap * 2 + 1);
            if (!bigger) {
                ok = false;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (!ok) {
        tw_err_set(err, TW_ERR_NOMEM, "out of memory reading %s", path);
    } else if (ferror(f)) {
        ok = tw_err_set(err, TW_ERR_IO, "cannot read %s", path);
    }
    fclose(f);
    if (!ok) {
        free(buf);
        return false;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return true;
}

static bool local_remove(tw_fileio *io, const char *location, tw_err *err)
{
    (void)io;
    const char *path = tw_fileio_local_path(location);
    if (unlink(path) != 0 && errno != ENOENT)
        return tw_err_set(err, TW_ERR_IO, "cannot delete %s: %s", path, strerror(errno));
    return true;
}

static void local_close(tw_fileio *io)
{
    free(io);
}

static const tw_fileio_ops local_ops = {
    .kind = "local",
    .create = local_create,
    .write = local_write,
    .commit = local_commit,
    .abort = local_abort,
    .read = local_read,
    .remove = local_remove,
    .close = local_close,
};

tw_fileio *tw_fileio_open_local(void)
{
    tw_fileio *io = malloc(sizeof *io);
    if (!io)
        abort();
    io->ops = &local_ops;
    return io;
}

bool tw_fileio_write_all(tw_fileio *io, const char *location, const void *data, size_t len,
                         tw_err *err)
{
    tw_fileio_out *out = tw_fileio_create(io, location, err);
    if (!out)
        return false;
    if (!tw_fileio_out_write(out, data, len, err)) {
        tw_fileio_out_abort(out);
        return false;
    }
    return tw_fileio_out_commit(out, err);
}

char *tw_fileio_resolve_local(const char *data_dir, const char *path)
{
    if (!strncmp(path, "file://", 7))
        path += 7;
    if (path[0] == '/')
        return tw_xstrdup(path);
    char cwd[4096] = "";
    if (data_dir[0] != '/' && !getcwd(cwd, sizeof cwd))
        cwd[0] = '\0';
    size_t n = strlen(cwd) + strlen(data_dir) + strlen(path) + 3;
    char *out = tw_xmalloc(n);
    if (data_dir[0] == '/')
        snprintf(out, n, "%s/%s", data_dir, path);
    else
        snprintf(out, n, "%s/%s/%s", cwd, data_dir, path);
    return out;
}

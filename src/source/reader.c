/* reader.c - see reader.h. */
#include "source/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/timeutil.h"
#include "source/netsim.h"

typedef enum reader_kind {
    READER_FD,
    READER_NETSIM,
} reader_kind;

struct tw_reader {
    reader_kind kind;
    int fd;
    bool own_fd;
    bool follow;
    char *path;
    tw_netsim *sim;
    uint64_t count_limit; /* 0: none */
    uint64_t produced;
    bool paced;
    double rate;
    int64_t start_mono_us;
    void *map;
    size_t map_len;
    bool regular; /* a regular file: poll says nothing about new data */
};

tw_reader *tw_reader_open_file(const char *path, bool follow, tw_err *err)
{
    int fd;
    bool own = true;
    if (!strcmp(path, "-")) {
        fd = 0;
        own = false;
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            tw_err_set(err, TW_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
            return NULL;
        }
    }
    tw_reader *r = tw_xcalloc(1, sizeof *r);
    r->kind = READER_FD;
    r->fd = fd;
    r->own_fd = own;
    r->follow = follow;
    r->path = tw_xstrdup(path);
    struct stat st;
    r->regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    return r;
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes"))
        return *out = true, true;
    if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no"))
        return *out = false, true;
    return false;
}

tw_reader *tw_reader_open_netsim(const char *const *keys, const char *const *values, uint32_t n,
                                 tw_err *err)
{
    tw_netsim_opts opts;
    tw_netsim_opts_default(&opts);
    uint64_t count = 0;
    bool paced = true, paced_set = false, start_set = false;
    for (uint32_t i = 0; i < n; i++) {
        if (!strcmp(keys[i], "count")) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(values[i], &end, 10);
            if (*end || errno || v == 0)
                return tw_err_set(err, TW_ERR_CONFIG,
                                  "netsim option count='%s' must be a positive integer",
                                  values[i]),
                       NULL;
            count = v;
        } else if (!strcmp(keys[i], "paced")) {
            if (!parse_bool(values[i], &paced))
                return tw_err_set(err, TW_ERR_CONFIG, "netsim option paced='%s' must be true or false",
                                  values[i]),
                       NULL;
            paced_set = true;
        } else if (!strcmp(keys[i], "connector")) {
            continue;
        } else {
            if (!strcmp(keys[i], "start"))
                start_set = true;
            if (!tw_netsim_opts_set(&opts, keys[i], values[i], err))
                return NULL;
        }
    }
    if (!paced_set)
        paced = count == 0;
    if (paced && !start_set) {
        /* Live: event time is the wall clock. */
        opts.start_us = tw_now_wall_us();
    }
    tw_reader *r = tw_xcalloc(1, sizeof *r);
    r->kind = READER_NETSIM;
    r->fd = -1;
    r->sim = tw_netsim_new(&opts);
    r->count_limit = count;
    r->paced = paced;
    r->rate = opts.events_per_sec;
    r->start_mono_us = tw_now_mono_us();
    return r;
}

tw_read_status tw_reader_read(tw_reader *r, char *buf, size_t cap, size_t *n, tw_err *err)
{
    *n = 0;
    if (r->kind == READER_FD) {
        /* A pipe or terminal may stay silent: wait a little, then let the
         * caller do other work (and notice a stop) instead of blocking. */
        struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
        if (!r->regular && poll(&pfd, 1, 50) == 0)
            return TW_READ_AGAIN;
        for (;;) {
            ssize_t got = read(r->fd, buf, cap);
            if (got > 0) {
                *n = (size_t)got;
                return TW_READ_DATA;
            }
            if (got == 0)
                return r->follow ? TW_READ_AGAIN : TW_READ_EOF;
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return TW_READ_AGAIN;
            tw_err_set(err, TW_ERR_IO, "reading '%s': %s", r->path, strerror(errno));
            return TW_READ_ERROR;
        }
    }
    uint64_t max_events = UINT64_MAX;
    if (r->count_limit) {
        if (r->produced >= r->count_limit)
            return TW_READ_EOF;
        max_events = r->count_limit - r->produced;
    }
    if (r->paced) {
        double elapsed_s = (double)(tw_now_mono_us() - r->start_mono_us) / 1e6;
        uint64_t due = (uint64_t)(elapsed_s * r->rate);
        if (due <= r->produced)
            return TW_READ_AGAIN;
        if (due - r->produced < max_events)
            max_events = due - r->produced;
    }
    uint64_t events = 0;
    *n = tw_netsim_fill(r->sim, buf, cap, max_events, &events);
    r->produced += events;
    return *n ? TW_READ_DATA : TW_READ_AGAIN;
}

bool tw_reader_waits(const tw_reader *r)
{
    return r->kind == READER_FD && !r->regular;
}

bool tw_reader_is_finite(const tw_reader *r)
{
    if (r->kind == READER_NETSIM)
        return r->count_limit > 0;
    return !r->follow;
}

bool tw_reader_map(tw_reader *r, const char **data, size_t *len)
{
    struct stat st;
    if (r->kind != READER_FD || r->follow || fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size == 0)
        return false;
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, r->fd, 0);
    if (m == MAP_FAILED)
        return false;
    madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
    r->map = m;
    r->map_len = (size_t)st.st_size;
    *data = m;
    *len = r->map_len;
    return true;
}

void tw_reader_close(tw_reader *r)
{
    if (!r)
        return;
    if (r->map)
        munmap(r->map, r->map_len);
    if (r->own_fd && r->fd >= 0)
        close(r->fd);
    tw_netsim_free(r->sim);
    free(r->path);
    free(r);
}

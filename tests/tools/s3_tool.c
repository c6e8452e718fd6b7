/* s3_tool - drives the S3 fileio and client from tests and benchmarks.
 *
 *   s3_tool [--endpoint URL] [--region R] [--path-style 0|1] [--part-size BYTES]
 *           [--max-attempts N] [--max-retry-ms MS] [--write-chunk BYTES] COMMAND ARGS...
 *
 *   put LOCATION FILE [LOCATION FILE ...]  write each file through the fileio
 *                                           (create, write in chunks, commit)
 *   abort LOCATION FILE                     write, then abort instead of commit
 *   get LOCATION OUT                        read the whole object through the fileio
 *   range LOCATION OFFSET LENGTH OUT        one ranged GET (LENGTH -1: to the end)
 *   head LOCATION                           prints the size, or "missing"
 *   rm LOCATION                             delete through the fileio
 *
 * Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Each put
 * prints one JSON line {"location", "bytes", "seconds", "commit_seconds"};
 * at exit the client's counters go to stdout as {"requests", "retries"}.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iceberg/s3.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "s3_tool: cannot read %s\n", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static bool spit(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "s3_tool: cannot write %s\n", path);
    return ok;
}

/* Writes one file; commit or abort at the end. */
static bool write_file(tw_fileio *io, const char *location, const char *path, size_t chunk,
                       bool commit, tw_err *err)
{
    size_t len;
    char *data = slurp(path, &len);
    if (!data)
        return false;
    double t0 = now_s();
    tw_fileio_out *out = tw_fileio_create(io, location, err);
    bool ok = out != NULL;
    for (size_t off = 0; ok && off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        ok = tw_fileio_out_write(out, data + off, n, err);
    }
    double t1 = now_s();
    if (out && ok && commit) {
        ok = tw_fileio_out_commit(out, err);
    } else if (out) {
        tw_fileio_out_abort(out);
    }
    double t2 = now_s();
    if (ok)
        printf("{\"location\": \"%s\", \"bytes\": %zu, \"seconds\": %.6f, \"commit_seconds\": %.6f}\n",
               location, len, t2 - t0, t2 - t1);
    free(data);
    return ok;
}

int main(int argc, char **argv)
{
    tw_s3_config cfg = {.endpoint = getenv("S3_ENDPOINT"), .path_style = true};
    size_t chunk = 64 * 1024;
    static const struct option opts[] = {
        {"endpoint", required_argument, NULL, 'e'},   {"region", required_argument, NULL, 'r'},
        {"path-style", required_argument, NULL, 'p'}, {"part-size", required_argument, NULL, 's'},
        {"max-attempts", required_argument, NULL, 'a'},
        {"max-retry-ms", required_argument, NULL, 'm'},
        {"write-chunk", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'e': cfg.endpoint = optarg; break;
        case 'r': cfg.region = optarg; break;
        case 'p': cfg.path_style = atoi(optarg) != 0; break;
        case 's': cfg.part_size_bytes = strtoull(optarg, NULL, 10); break;
        case 'a': cfg.max_attempts = (uint32_t)atoi(optarg); break;
        case 'm': cfg.max_retry_ms = (uint32_t)atoi(optarg); break;
        case 'c': chunk = strtoull(optarg, NULL, 10); break;
        default: return 2;
        }
    }
    if (optind >= argc || chunk == 0) {
        fprintf(stderr, "usage: s3_tool [options] put|abort|get|range|head|rm ARGS...\n");
        return 2;
    }
    const char *cmd = argv[optind];
    char **args = argv + optind + 1;
    int nargs = argc - optind - 1;
    tw_err err = {0};
    tw_fileio *io = tw_fileio_open_s3(&cfg, &err);
    if (!io) {
        fprintf(stderr, "s3_tool: %s\n", err.msg);
        return 1;
    }
    tw_s3_client *client = tw_fileio_s3_client(io);
    bool ok = false;
    if (!strcmp(cmd, "put") && nargs >= 2 && nargs % 2 == 0) {
        ok = true;
        for (int i = 0; ok && i < nargs; i += 2)
            ok = write_file(io, args[i], args[i + 1], chunk, true, &err);
    } else if (!strcmp(cmd, "abort") && nargs == 2) {
        ok = write_file(io, args[0], args[1], chunk, false, &err);
    } else if (!strcmp(cmd, "get") && nargs == 2) {
        char *data;
        size_t len;
        bool missing = false;
        ok = tw_fileio_read(io, args[0], &data, &len, &missing, &err);
        if (ok) {
            ok = spit(args[1], data, len);
            free(data);
        } else if (missing) {
            fprintf(stderr, "s3_tool: not found\n");
        }
    } else if (!strcmp(cmd, "range") && nargs == 4) {
        char *bucket = NULL, *key = NULL, *data;
        size_t len;
        ok = tw_s3_parse_location(args[0], &bucket, &key, &err) &&
             tw_s3_get_object(client, bucket, key, strtoull(args[1], NULL, 10),
                              strtoll(args[2], NULL, 10), &data, &len, NULL, &err);
        if (ok) {
            ok = spit(args[3], data, len);
            free(data);
        }
        free(bucket);
        free(key);
    } else if (!strcmp(cmd, "head") && nargs == 1) {
        char *bucket = NULL, *key = NULL;
        bool exists;
        uint64_t size;
        ok = tw_s3_parse_location(args[0], &bucket, &key, &err) &&
             tw_s3_head_object(client, bucket, key, &exists, &size, &err);
        if (ok) {
            if (exists)
                printf("%llu\n", (unsigned long long)size);
            else
                printf("missing\n");
        }
        free(bucket);
        free(key);
    } else if (!strcmp(cmd, "rm") && nargs == 1) {
        ok = tw_fileio_remove(io, args[0], &err);
    } else {
        fprintf(stderr, "s3_tool: bad command or arguments: %s\n", cmd);
        tw_fileio_close(io);
        return 2;
    }
    if (!ok && err.msg[0])
        fprintf(stderr, "s3_tool: %s\n", err.msg);
    tw_s3_stats st = tw_s3_client_stats(client);
    printf("{\"requests\": %llu, \"retries\": %llu}\n", (unsigned long long)st.requests,
           (unsigned long long)st.retries);
    tw_fileio_close(io);
    return ok ? 0 : 1;
}

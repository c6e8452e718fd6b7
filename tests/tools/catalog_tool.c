/* catalog_tool - a command line over the SQL catalog (iceberg/catalog.h) for
 * the integration tests: one operation per run, or a loop of
 * compare-and-swap commits that logs every link it adds to the chain.
 *
 * Exit status: 0 done, 1 error (message on stderr), 2 usage, 3 conflict or
 * already exists, 4 no such table.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "iceberg/catalog.h"

enum { EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_CONFLICT = 3, EXIT_NOT_FOUND = 4 };

static void usage(FILE *out)
{
    fputs(
        "usage: catalog_tool [-u USER] [-p PASSWORD] [-n CATALOG_NAME] [-w FILE] URI COMMAND ...\n"
        "  -w FILE: after connecting, wait until FILE exists (lines writers up)\n"
        "  create NS TABLE LOCATION      register a table (exit 3 if it exists)\n"
        "  load NS TABLE                 print the current metadata location (exit 4 if none)\n"
        "  swap NS TABLE EXPECTED NEW    compare-and-swap (exit 3 on conflict)\n"
        "  cas-loop NS TABLE COUNT PREFIX LOG\n"
        "                                COUNT commits to PREFIX-1..PREFIX-COUNT, each: load,\n"
        "                                swap, retry on conflict; appends 'EXPECTED NEW' per\n"
        "                                commit to LOG, prints commits, conflicts, seconds\n"
        "  load-pause NS TABLE FILE      load, wait until FILE exists, load again (both printed)\n"
        "catalog_tool sqlite-hold DB_PATH SECONDS READY_FILE\n"
        "  holds a write transaction on a SQLite file (as a stuck writer would), creates\n"
        "  READY_FILE once it has the lock, then rolls back after SECONDS\n",
        out);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load_print(tw_catalog *c, const char *ns, const char *table)
{
    tw_err err = {0};
    char *loc = NULL;
    if (!c->ops->load(c, ns, table, &loc, &err)) {
        fprintf(stderr, "catalog_tool: %s\n", err.msg);
        return EXIT_ERROR;
    }
    if (!loc)
        return EXIT_NOT_FOUND;
    printf("%s\n", loc);
    fflush(stdout);
    free(loc);
    return 0;
}

static int cas_loop(tw_catalog *c, const char *ns, const char *table, long count,
                    const char *prefix, const char *log_path)
{
    FILE *log = fopen(log_path, "a");
    if (!log) {
        fprintf(stderr, "catalog_tool: cannot open %s: %s\n", log_path, strerror(errno));
        return EXIT_ERROR;
    }
    int status = 0;
    long conflicts = 0;
    double start_s = now_s();
    for (long i = 1; i <= count && status == 0; i++) {
        char new_location[512];
        snprintf(new_location, sizeof new_location, "%s-%ld", prefix, i);
        for (;;) {
            tw_err err = {0};
            char *current = NULL;
            if (!c->ops->load(c, ns, table, &current, &err) || !current) {
                fprintf(stderr, "catalog_tool: load: %s\n", current ? err.msg : "no table");
                status = EXIT_ERROR;
                break;
            }
            tw_cas_result r = c->ops->swap(c, ns, table, current, new_location, &err);
            if (r == TW_CAS_OK) {
                /* Unbuffered per link: a crash must not hide a commit. */
                fprintf(log, "%s %s\n", current, new_location);
                fflush(log);
            }
            free(current);
            if (r == TW_CAS_OK)
                break;
            if (r == TW_CAS_ERROR) {
                fprintf(stderr, "catalog_tool: swap: %s\n", err.msg);
                status = EXIT_ERROR;
                break;
            }
            conflicts++;
        }
    }
    double elapsed_s = now_s() - start_s;
    fclose(log);
    printf("commits=%ld conflicts=%ld seconds=%.3f\n", status == 0 ? count : -1, conflicts,
           elapsed_s);
    return status;
}

static bool wait_for_file(const char *file)
{
    for (int waited_ms = 0; access(file, F_OK) != 0; waited_ms += 5) {
        if (waited_ms > 20000) {
            fprintf(stderr, "catalog_tool: %s did not appear within 20 s\n", file);
            return false;
        }
        nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
    }
    return true;
}

static int load_pause(tw_catalog *c, const char *ns, const char *table, const char *file)
{
    int status = load_print(c, ns, table);
    if (status != 0)
        return status;
    if (!wait_for_file(file))
        return EXIT_ERROR;
    return load_print(c, ns, table);
}

static int sqlite_hold(const char *path, const char *seconds, const char *ready_file)
{
    sqlite3 *db = NULL;
    int status = EXIT_ERROR;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "catalog_tool: cannot lock %s: %s\n", path, sqlite3_errmsg(db));
        goto cleanup;
    }
    FILE *ready = fopen(ready_file, "w");
    if (!ready) {
        fprintf(stderr, "catalog_tool: cannot create %s: %s\n", ready_file, strerror(errno));
        goto cleanup;
    }
    fclose(ready);
    sleep((unsigned)atoi(seconds));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    status = 0;
cleanup:
    sqlite3_close(db);
    return status;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "sqlite-hold") == 0)
        return sqlite_hold(argv[2], argv[3], argv[4]);
    const char *user = NULL, *password = NULL, *name = NULL, *start_file = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "+u:p:n:w:h")) != -1) {
        switch (opt) {
        case 'w': start_file = optarg; break;
        case 'u': user = optarg; break;
        case 'p': password = optarg; break;
        case 'n': name = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    int nargs = argc - optind;
    char **args = argv + optind;
    if (nargs < 4) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = args[1], *ns = args[2], *table = args[3];
    int want = strcmp(cmd, "create") == 0       ? 5
               : strcmp(cmd, "load") == 0       ? 4
               : strcmp(cmd, "swap") == 0       ? 6
               : strcmp(cmd, "cas-loop") == 0   ? 7
               : strcmp(cmd, "load-pause") == 0 ? 5
                                                : -1;
    if (nargs != want) {
        usage(stderr);
        return EXIT_USAGE;
    }

    tw_err err = {0};
    tw_catalog *c = tw_catalog_open_sql(args[0], user, password, name, &err);
    if (!c) {
        fprintf(stderr, "catalog_tool: %s\n", err.msg);
        return EXIT_ERROR;
    }
    int status = 0;
    if (start_file && !wait_for_file(start_file))
        status = EXIT_ERROR;
    else if (strcmp(cmd, "create") == 0) {
        bool exists = false;
        if (!c->ops->create(c, ns, table, args[4], &exists, &err)) {
            fprintf(stderr, "catalog_tool: %s\n", err.msg);
            status = EXIT_ERROR;
        } else {
            status = exists ? EXIT_CONFLICT : 0;
        }
    } else if (strcmp(cmd, "load") == 0) {
        status = load_print(c, ns, table);
    } else if (strcmp(cmd, "swap") == 0) {
        tw_cas_result r = c->ops->swap(c, ns, table, args[4], args[5], &err);
        if (r == TW_CAS_ERROR)
            fprintf(stderr, "catalog_tool: %s\n", err.msg);
        status = r == TW_CAS_OK ? 0 : r == TW_CAS_CONFLICT ? EXIT_CONFLICT : EXIT_ERROR;
    } else if (strcmp(cmd, "cas-loop") == 0) {
        char *end = NULL;
        long count = strtol(args[4], &end, 10);
        if (*end || count <= 0) {
            fprintf(stderr, "catalog_tool: COUNT must be a positive number, not '%s'\n", args[4]);
            status = EXIT_USAGE;
        } else {
            status = cas_loop(c, ns, table, count, args[5], args[6]);
        }
    } else {
        status = load_pause(c, ns, table, args[4]);
    }
    c->ops->close(c);
    return status;
}

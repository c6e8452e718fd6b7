/* serve.c - `tidewatch serve`: a pipeline defined over the PostgreSQL protocol. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "cli/pipeline_args.h"
#include "common/timeutil.h"
#include "exec/engine.h"
#include "serve/pgwire.h"
#include "serve/server.h"
#include "store/catalog_store.h"

static const char serve_usage[] =
    "Usage: tidewatch serve [options]\n"
    "\n"
    "Starts with the pipeline saved in the data directory's catalog (empty the\n"
    "first time) and serves the PostgreSQL protocol and the HTTP API. Sources,\n"
    "views, connections and sinks created over the wire (psql -f pipeline.sql)\n"
    "run at once and are saved, so a restart brings them back; sinks resume from\n"
    "their committed positions. SIGINT/SIGTERM commit what is final and exit.\n"
    "\n"
    "Options:\n"
    "  --data-dir DIR         catalog, warehouse and relative paths (default ./data)\n"
    "  --source NAME=URI      replace source NAME's connector when it is created:\n"
    "                         file:PATH, stdin:, netsim:?..., kafka://... (repeatable)\n"
    TW_PIPELINE_HELP
    "  -q, --quiet            only the addresses on stderr\n"
    "  -h, --help             this help\n"
    "\n"
    "Example:\n"
    "  tidewatch serve --data-dir ./data &\n"
    "  psql -h 127.0.0.1 -p 4566 -d dev -U root -f pipeline.sql\n"
    "  psql -h 127.0.0.1 -p 4566 -d dev -U root -c 'SHOW MATERIALIZED VIEWS'\n";

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void on_tick(void *ctx, tw_engine *engine)
{
    tw_serve *http = ctx;
    if (http)
        tw_serve_tick(http, engine);
}

int tw_cmd_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        TW_PIPELINE_LONGOPTS,
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    tw_pipeline_args a;
    tw_pipeline_args_init(&a, argc);
    a.engine.data_dir = "data";
    bool quiet = false;
    int status = 2, c;
    tw_engine *engine = NULL;
    tw_catalog_store *store = NULL;
    tw_pgwire *pgwire = NULL;
    tw_serve *server = NULL;
    tw_err err;
    tw_err_clear(&err);

    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        switch (tw_pipeline_args_parse(&a, c, optarg, "serve")) {
        case TW_PIPELINE_TAKEN: continue;
        case TW_PIPELINE_BAD: goto out;
        case TW_PIPELINE_NOT_MINE: break;
        }
        switch (c) {
        case 'q': quiet = true; break;
        case 'h':
            fputs(serve_usage, stdout);
            status = 0;
            goto out;
        default: fputs("Run 'tidewatch serve --help' for the options.\n", stderr); goto out;
        }
    }
    if (a.pg_choice == 0) {
        fputs("tidewatch serve: the PostgreSQL protocol is how serve is used; --pg off is "
              "for `tidewatch run`\n",
              stderr);
        goto out;
    }
    if (optind < argc) {
        fprintf(stderr, "tidewatch serve: takes no SQL file (use `tidewatch run FILE.sql`, or "
                        "psql -f FILE.sql against this server)\n");
        goto out;
    }
    if (mkdir(a.engine.data_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "tidewatch serve: cannot create --data-dir '%s': %s\n", a.engine.data_dir,
                strerror(errno));
        goto out;
    }
    status = 1;
    store = tw_catalog_store_open(a.engine.data_dir, &err);
    if (!store)
        goto fail;
    a.engine.on_ddl = tw_catalog_store_on_ddl;
    a.engine.on_ddl_ctx = store;
    tw_pipeline_args_finish(&a);
    engine = tw_engine_new(&a.engine);
    uint32_t restored;
    if (!tw_catalog_store_replay(store, engine, &restored, &err))
        goto fail;
    if (!quiet)
        fprintf(stderr, "tidewatch: %u statement%s restored from %s/%s\n", restored,
                restored == 1 ? "" : "s", a.engine.data_dir, TW_CATALOG_STORE_FILE);
    if (a.http_choice != 0) {
        server = tw_serve_start(engine, &a.http, &err);
        if (!server)
            goto fail;
        fprintf(stderr, "tidewatch: dashboard at %s\n", tw_serve_url(server));
    }
    pgwire = tw_pgwire_start(engine, &a.pg, &err);
    if (!pgwire)
        goto fail;
    /* Always printed: tests and scripts read the port. */
    fprintf(stderr, "tidewatch: PostgreSQL protocol on %s%s\n", tw_pgwire_addr(pgwire),
            a.pg.password && *a.pg.password ? " (password required)" : "");

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    bool ran = tw_engine_run(engine, &stop_requested, false, on_tick, server, &err);
    tw_pgwire_stop(pgwire);
    pgwire = NULL;
    tw_serve_stop(server);
    server = NULL;
    if (!ran)
        goto fail;
    status = 0;
    goto out;
fail:
    fprintf(stderr, "%s\n", err.msg);
out:
    tw_pgwire_stop(pgwire);
    tw_serve_stop(server);
    tw_engine_free(engine);
    tw_catalog_store_close(store);
    tw_pipeline_args_free(&a);
    return status;
}

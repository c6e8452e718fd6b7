/* serve.c - `tidewatch serve`: a pipeline defined over the PostgreSQL protocol. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
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
    "  --pg ADDR              PostgreSQL protocol address (default 127.0.0.1:4566;\n"
    "                         port 0 picks a free one)\n"
    "  --pg-password PW       require this password (SCRAM-SHA-256) for every user\n"
    "                         (default: $TIDEWATCH_PG_PASSWORD; none: trust, and\n"
    "                         then only a loopback address is allowed)\n"
    "  --http ADDR            API and dashboard address (default 127.0.0.1:8080;\n"
    "                         'off' disables)\n"
    "  --http-token TOKEN     bearer token for /api and /metrics\n"
    "                         (default: $TIDEWATCH_HTTP_TOKEN)\n"
    "  --data-dir DIR         catalog, warehouse and relative paths (default ./data)\n"
    "  --source NAME=URI      replace source NAME's connector when it is created:\n"
    "                         file:PATH, stdin:, netsim:?..., kafka://... (repeatable)\n"
    "  --barrier-interval MS  how often views are published (default 1000)\n"
    "  --retention DURATION   window state kept without a watermark (default '1 hour')\n"
    "  --sink-lateness DUR    append-only sink wait past a window's end (default\n"
    "                         '5 seconds')\n"
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
    enum {
        OPT_PG = 256,
        OPT_PG_PASSWORD,
        OPT_HTTP,
        OPT_HTTP_TOKEN,
        OPT_DATA_DIR,
        OPT_SOURCE,
        OPT_BARRIER,
        OPT_RETENTION,
        OPT_SINK_LATENESS,
    };
    static const struct option longopts[] = {
        {"pg", required_argument, NULL, OPT_PG},
        {"pg-password", required_argument, NULL, OPT_PG_PASSWORD},
        {"http", required_argument, NULL, OPT_HTTP},
        {"http-token", required_argument, NULL, OPT_HTTP_TOKEN},
        {"data-dir", required_argument, NULL, OPT_DATA_DIR},
        {"source", required_argument, NULL, OPT_SOURCE},
        {"barrier-interval", required_argument, NULL, OPT_BARRIER},
        {"retention", required_argument, NULL, OPT_RETENTION},
        {"sink-lateness", required_argument, NULL, OPT_SINK_LATENESS},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    tw_engine_opts opts;
    tw_engine_opts_default(&opts);
    opts.data_dir = "data";
    const char **sources = calloc((size_t)argc + 1, sizeof *sources);
    uint32_t nsources = 0;
    tw_pgwire_opts pg;
    tw_pgwire_opts_default(&pg);
    pg.password = getenv("TIDEWATCH_PG_PASSWORD");
    tw_serve_opts http;
    tw_serve_opts_default(&http);
    http.token = getenv("TIDEWATCH_HTTP_TOKEN");
    if (http.token && !*http.token)
        http.token = NULL;
    bool http_on = true, quiet = false;
    int status = 2, c;
    tw_engine *engine = NULL;
    tw_catalog_store *store = NULL;
    tw_pgwire *pgwire = NULL;
    tw_serve *server = NULL;
    tw_err err;
    tw_err_clear(&err);

    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_PG: pg.addr = optarg; break;
        case OPT_PG_PASSWORD: pg.password = optarg; break;
        case OPT_HTTP:
            http_on = strcmp(optarg, "off") != 0;
            http.addr = optarg;
            break;
        case OPT_HTTP_TOKEN: http.token = optarg; break;
        case OPT_DATA_DIR: opts.data_dir = optarg; break;
        case OPT_SOURCE:
            if (!strchr(optarg, '=')) {
                fprintf(stderr, "tidewatch serve: --source needs NAME=URI, got '%s'\n", optarg);
                goto out;
            }
            sources[nsources++] = optarg;
            break;
        case OPT_BARRIER: {
            char *end;
            long ms = strtol(optarg, &end, 10);
            if (*end || ms < 1 || ms > 3600000) {
                fprintf(stderr, "tidewatch serve: --barrier-interval must be 1..3600000 ms\n");
                goto out;
            }
            opts.barrier_interval_ms = ms;
            break;
        }
        case OPT_RETENTION:
            if (!tw_interval_parse(optarg, strlen(optarg), NULL, &opts.retention_us) ||
                opts.retention_us <= 0) {
                fprintf(stderr, "tidewatch serve: --retention takes a duration such as "
                                "'1 hour'\n");
                goto out;
            }
            break;
        case OPT_SINK_LATENESS:
            if (!tw_interval_parse(optarg, strlen(optarg), NULL, &opts.sink_lateness_us) ||
                opts.sink_lateness_us < 0) {
                fprintf(stderr, "tidewatch serve: --sink-lateness takes a duration such as "
                                "'5 seconds'\n");
                goto out;
            }
            break;
        case 'q': quiet = true; break;
        case 'h':
            fputs(serve_usage, stdout);
            status = 0;
            goto out;
        default: fputs("Run 'tidewatch serve --help' for the options.\n", stderr); goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tidewatch serve: takes no SQL file (use `tidewatch run FILE.sql`, or "
                        "psql -f FILE.sql against this server)\n");
        goto out;
    }
    if (mkdir(opts.data_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "tidewatch serve: cannot create --data-dir '%s': %s\n", opts.data_dir,
                strerror(errno));
        goto out;
    }
    status = 1;
    store = tw_catalog_store_open(opts.data_dir, &err);
    if (!store)
        goto fail;
    opts.on_ddl = tw_catalog_store_on_ddl;
    opts.on_ddl_ctx = store;
    opts.source_overrides = sources;
    opts.nsource_overrides = nsources;
    engine = tw_engine_new(&opts);
    uint32_t restored;
    if (!tw_catalog_store_replay(store, engine, &restored, &err))
        goto fail;
    if (!quiet)
        fprintf(stderr, "tidewatch: %u statement%s restored from %s/%s\n", restored,
                restored == 1 ? "" : "s", opts.data_dir, TW_CATALOG_STORE_FILE);
    if (http_on) {
        http.barrier_interval_ms = opts.barrier_interval_ms;
        server = tw_serve_start(engine, &http, &err);
        if (!server)
            goto fail;
        fprintf(stderr, "tidewatch: dashboard at %s\n", tw_serve_url(server));
    }
    pgwire = tw_pgwire_start(engine, &pg, &err);
    if (!pgwire)
        goto fail;
    /* Always printed: tests and scripts read the port. */
    fprintf(stderr, "tidewatch: PostgreSQL protocol on %s%s\n", tw_pgwire_addr(pgwire),
            pg.password && *pg.password ? " (password required)" : "");

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
    free(sources);
    return status;
}

/* run.c - `tidewatch run`: execute SQL files and run the pipeline. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/demo.h"
#include "cli/output.h"
#include "cli/pipeline_args.h"
#include "common/timeutil.h"
#include "exec/engine.h"
#include "serve/pgwire.h"
#include "serve/server.h"

static const char run_usage[] =
    "Usage: tidewatch run [options] [FILE.sql...]\n"
    "\n"
    "Executes the SQL files (sources, materialized views, sinks), then runs the\n"
    "pipeline until SIGINT/SIGTERM. With no file, runs the built-in demo: the seed\n"
    "pipeline on the network simulator, printing anomalies as they change.\n"
    "\n"
    "Options:\n"
    "  --source NAME=URI      replace source NAME's connector: file:PATH, stdin:,\n"
    "                         netsim:?devices=50&rate=1000&seed=7,\n"
    "                         kafka://HOST:PORT/TOPIC[?key=value&...] (repeatable)\n"
    "  --exit-at-eof          when every source is finite and exhausted, close all\n"
    "                         windows, flush and exit 0 (Kafka: each partition is\n"
    "                         read up to its end offset at the start of the run)\n"
    "  --then 'SELECT ...'    after the run, print a query over the views (repeatable)\n"
    "  --format FMT           --then output: csv (default), json, table\n"
    "  --no-sinks             run without the sinks (validated, not started)\n"
    "  --watch VIEW           print the changes of VIEW as they happen\n"
    "  --dead-letter PATH     append malformed input lines to PATH\n"
    "  --stats-json PATH      write per-source and per-view counters as JSON at exit\n"
    "  --data-dir DIR         where relative warehouse and catalog paths live\n"
    "                         (default: the current directory; the demo uses ./data)\n"
    "  --threads N            JSON decoding threads per file source (default: one\n"
    "                         per core, at most 4)\n"
    TW_PIPELINE_HELP
    "  -q, --quiet            no status line, no summary\n"
    "  -h, --help             this help\n"
    "\n"
    "With --exit-at-eof, the HTTP and PostgreSQL servers start only when --http or\n"
    "--pg is given.\n"
    "\n"
    "Example:\n"
    "  tidewatch gen --count 1000000 --seed 1 > m.ndjson\n"
    "  tidewatch run --exit-at-eof --no-sinks \\\n"
    "      --source network_metrics_source=file:m.ndjson pipeline.sql \\\n"
    "      --then 'SELECT * FROM network_anomalies ORDER BY device_id, window_start'\n";

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct run_state {
    tw_output_format format;
    bool status_line;
    int64_t start_us;
    uint64_t last_rows;
    int64_t last_us;
    uint32_t results_printed;
    tw_serve *serve;
} run_state;

static void on_tick(void *ctx, tw_engine *engine)
{
    run_state *rs = ctx;
    if (rs->serve)
        tw_serve_tick(rs->serve, engine);
    if (!rs->status_line)
        return;
    tw_engine_stats st;
    tw_engine_get_stats(engine, &st);
    int64_t now = tw_now_mono_us();
    double dt = (double)(now - rs->last_us) / 1e6;
    double rate = dt > 0 ? (double)(st.rows - rs->last_rows) / dt : 0;
    rs->last_rows = st.rows;
    rs->last_us = now;
    int64_t anomalies = tw_engine_mv_rows(engine, "network_anomalies");
    fprintf(stderr, "\r\033[K%.0f events/s  %llu events", rate, (unsigned long long)st.rows);
    if (anomalies >= 0)
        fprintf(stderr, "  %lld anomalies", (long long)anomalies);
    fprintf(stderr, "  %llu late  %llu errors", (unsigned long long)st.late_rows,
            (unsigned long long)(st.malformed + st.type_errors + st.eval_errors));
    if (st.kafka_lag >= 0)
        fprintf(stderr, "  kafka lag %lld", (long long)st.kafka_lag);
    fflush(stderr);
}

static void print_result(void *ctx, tw_result *res)
{
    run_state *rs = ctx;
    if (rs->results_printed++)
        fputc('\n', stdout);
    tw_output_print(stdout, res, rs->format);
    tw_result_free(res);
}

static char *read_file(const char *path, size_t *len, tw_err *err)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        tw_err_set(err, TW_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf;
}

int tw_cmd_run(int argc, char **argv)
{
    enum {
        OPT_EXIT_AT_EOF = 256,
        OPT_THEN,
        OPT_FORMAT,
        OPT_NO_SINKS,
        OPT_WATCH,
        OPT_DEAD_LETTER,
        OPT_STATS_JSON,
        OPT_THREADS,
    };
    static const struct option longopts[] = {
        TW_PIPELINE_LONGOPTS,
        {"exit-at-eof", no_argument, NULL, OPT_EXIT_AT_EOF},
        {"then", required_argument, NULL, OPT_THEN},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"no-sinks", no_argument, NULL, OPT_NO_SINKS},
        {"watch", required_argument, NULL, OPT_WATCH},
        {"dead-letter", required_argument, NULL, OPT_DEAD_LETTER},
        {"stats-json", required_argument, NULL, OPT_STATS_JSON},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    tw_pipeline_args a;
    tw_pipeline_args_init(&a, argc);
    const char **thens = calloc((size_t)argc + 1, sizeof *thens);
    uint32_t nthens = 0;
    const char *watch = NULL, *dead_letter_path = NULL, *stats_path = NULL;
    bool exit_at_eof = false, quiet = false;
    run_state rs = {.format = TW_OUT_CSV};
    tw_pgwire *pgwire = NULL;
    int status = 2, c;
    tw_engine *engine = NULL;
    FILE *dead_letter = NULL;
    tw_err err;
    tw_err_clear(&err);

    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        switch (tw_pipeline_args_parse(&a, c, optarg, "run")) {
        case TW_PIPELINE_TAKEN: continue;
        case TW_PIPELINE_BAD: goto out;
        case TW_PIPELINE_NOT_MINE: break;
        }
        switch (c) {
        case OPT_EXIT_AT_EOF:
            exit_at_eof = true;
            a.engine.bounded = true;
            break;
        case OPT_THEN: thens[nthens++] = optarg; break;
        case OPT_FORMAT:
            if (!tw_output_format_parse(optarg, &rs.format)) {
                fprintf(stderr, "tidewatch run: --format must be csv, json or table, not '%s'\n",
                        optarg);
                goto out;
            }
            break;
        case OPT_NO_SINKS: a.engine.no_sinks = true; break;
        case OPT_WATCH: watch = optarg; break;
        case OPT_DEAD_LETTER: dead_letter_path = optarg; break;
        case OPT_STATS_JSON: stats_path = optarg; break;
        case OPT_THREADS: {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 4) {
                fprintf(stderr, "tidewatch run: --threads must be 1..4\n");
                goto out;
            }
            a.engine.decode_threads = (uint32_t)n;
            break;
        }
        case 'q': quiet = true; break;
        case 'h':
            fputs(run_usage, stdout);
            status = 0;
            goto out;
        default: fputs("Run 'tidewatch run --help' for the options.\n", stderr); goto out;
        }
    }
    a.http.require_views = a.views_named;
    bool demo = optind >= argc;
    if (demo) {
        if (!a.engine.data_dir)
            a.engine.data_dir = TW_DEMO_DATA_DIR;
        a.sources[a.nsources++] = TW_DEMO_SOURCE;
        if (!watch)
            watch = TW_DEMO_WATCH;
    }
    if (dead_letter_path) {
        dead_letter = fopen(dead_letter_path, "a");
        if (!dead_letter) {
            fprintf(stderr, "tidewatch run: cannot open --dead-letter '%s': %s\n",
                    dead_letter_path, strerror(errno));
            goto out;
        }
        a.engine.dead_letter = dead_letter;
    }
    if (a.engine.data_dir && mkdir(a.engine.data_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "tidewatch run: cannot create --data-dir '%s': %s\n", a.engine.data_dir,
                strerror(errno));
        goto out;
    }
    tw_pipeline_args_finish(&a);
    engine = tw_engine_new(&a.engine);
    status = 1;
    if (demo) {
        if (!quiet)
            fprintf(stderr,
                    "tidewatch: running the built-in demo (the seed pipeline on the network "
                    "simulator). Ctrl-C stops.\n");
        if (!tw_engine_exec(engine, tw_demo_sql, sizeof tw_demo_sql - 1, "<demo>", print_result,
                            &rs, &err))
            goto fail;
    }
    for (int i = optind; i < argc; i++) {
        size_t len;
        char *sql = read_file(argv[i], &len, &err);
        if (!sql)
            goto fail;
        bool ok = tw_engine_exec(engine, sql, len, argv[i], print_result, &rs, &err);
        free(sql);
        if (!ok)
            goto fail;
    }
    if (watch && !tw_engine_watch(engine, watch, stdout, &err))
        goto fail;
    bool http_on = a.http_choice < 0 ? !exit_at_eof : a.http_choice == 1;
    if (http_on) {
        rs.serve = tw_serve_start(engine, &a.http, &err);
        if (!rs.serve)
            goto fail;
        /* Always printed (even with -q): tests and scripts read the port. */
        fprintf(stderr, "tidewatch: dashboard at %s%s\n", tw_serve_url(rs.serve),
                a.http.token ? " (open it with ?token=TOKEN)" : "");
    }
    if (a.pg_choice == 1 || (a.pg_choice < 0 && !exit_at_eof)) {
        pgwire = tw_pgwire_start(engine, &a.pg, &err);
        /* Several workers on one machine: only the first gets the default
         * port, and the others run without the protocol. */
        if (!pgwire && a.pg_choice == 1)
            goto fail;
        if (pgwire)
            /* Always printed (even with -q): tests and scripts read the port. */
            fprintf(stderr, "tidewatch: PostgreSQL protocol on %s\n", tw_pgwire_addr(pgwire));
        else
            fprintf(stderr, "tidewatch: warning: %s\n", err.msg);
        tw_err_clear(&err);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rs.status_line = !quiet && isatty(STDERR_FILENO);
    rs.start_us = rs.last_us = tw_now_mono_us();
    bool ran = tw_engine_run(engine, &stop_requested, exit_at_eof, on_tick, &rs, &err);
    tw_pgwire_stop(pgwire);
    pgwire = NULL;
    tw_serve_stop(rs.serve);
    rs.serve = NULL;
    if (!ran)
        goto fail;
    if (rs.status_line)
        fputs("\r\033[K", stderr);

    for (uint32_t i = 0; i < nthens; i++) {
        if (!tw_engine_exec(engine, thens[i], strlen(thens[i]), "--then", print_result, &rs,
                            &err))
            goto fail;
    }
    fflush(stdout);
    tw_engine_stats st;
    tw_engine_get_stats(engine, &st);
    if (!quiet) {
        int64_t el = tw_now_mono_us() - rs.start_us;
        fprintf(stderr,
                "tidewatch: %llu lines, %llu rows in %.2f s (%.0f rows/s); %llu malformed lines "
                "skipped, %llu type errors, %llu late rows, %llu expression errors\n",
                (unsigned long long)st.lines, (unsigned long long)st.rows, (double)el / 1e6,
                el > 0 ? (double)st.rows * 1e6 / (double)el : 0.0,
                (unsigned long long)st.malformed, (unsigned long long)st.type_errors,
                (unsigned long long)st.late_rows, (unsigned long long)st.eval_errors);
    }
    if (stats_path) {
        FILE *f = fopen(stats_path, "w");
        if (!f || !tw_engine_write_stats_json(engine, f)) {
            fprintf(stderr, "tidewatch run: cannot write --stats-json '%s'\n", stats_path);
            if (f)
                fclose(f);
            goto out;
        }
        fclose(f);
    }
    status = 0;
    goto out;
fail:
    fprintf(stderr, "%s\n", err.msg);
out:
    tw_pgwire_stop(pgwire);
    tw_serve_stop(rs.serve);
    tw_engine_free(engine);
    if (dead_letter)
        fclose(dead_letter);
    tw_pipeline_args_free(&a);
    free(thens);
    return status;
}

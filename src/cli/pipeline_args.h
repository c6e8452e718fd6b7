/* pipeline_args.h - the options `tidewatch run` and `tidewatch serve` share.
 *
 * Both commands run a pipeline with the same engine tuning (--source,
 * --barrier-interval, --retention, --sink-lateness, --data-dir), the same
 * HTTP server (--http, --http-token, --anomalies, --series) and the same
 * PostgreSQL server (--pg, --pg-password), with the same environment
 * defaults ($TIDEWATCH_HTTP_TOKEN, $TIDEWATCH_PG_PASSWORD). This module owns
 * their parsing, their validation messages and their help text, so the
 * commands cannot drift apart; each command keeps its own options and
 * decides what "default" means for the servers.
 */
#ifndef TW_CLI_PIPELINE_ARGS_H
#define TW_CLI_PIPELINE_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "exec/engine.h"
#include "serve/pgwire.h"
#include "serve/server.h"

enum {
    TW_PIPELINE_OPT_SOURCE = 512,
    TW_PIPELINE_OPT_BARRIER,
    TW_PIPELINE_OPT_RETENTION,
    TW_PIPELINE_OPT_SINK_LATENESS,
    TW_PIPELINE_OPT_DATA_DIR,
    TW_PIPELINE_OPT_HTTP,
    TW_PIPELINE_OPT_HTTP_TOKEN,
    TW_PIPELINE_OPT_ANOMALIES,
    TW_PIPELINE_OPT_SERIES,
    TW_PIPELINE_OPT_PG,
    TW_PIPELINE_OPT_PG_PASSWORD,
};

/* The shared entries of a command's getopt_long table. */
#define TW_PIPELINE_LONGOPTS                                                   \
    {"source", required_argument, NULL, TW_PIPELINE_OPT_SOURCE},               \
    {"barrier-interval", required_argument, NULL, TW_PIPELINE_OPT_BARRIER},    \
    {"retention", required_argument, NULL, TW_PIPELINE_OPT_RETENTION},         \
    {"sink-lateness", required_argument, NULL, TW_PIPELINE_OPT_SINK_LATENESS}, \
    {"data-dir", required_argument, NULL, TW_PIPELINE_OPT_DATA_DIR},           \
    {"http", required_argument, NULL, TW_PIPELINE_OPT_HTTP},                   \
    {"http-token", required_argument, NULL, TW_PIPELINE_OPT_HTTP_TOKEN},       \
    {"anomalies", required_argument, NULL, TW_PIPELINE_OPT_ANOMALIES},         \
    {"series", required_argument, NULL, TW_PIPELINE_OPT_SERIES},               \
    {"pg", required_argument, NULL, TW_PIPELINE_OPT_PG},                       \
    {"pg-password", required_argument, NULL, TW_PIPELINE_OPT_PG_PASSWORD}

/* Help lines for the shared options, in the commands' usage format. */
#define TW_PIPELINE_HELP                                                              \
    "  --barrier-interval MS  how often views are published (default 1000)\n"         \
    "  --retention DURATION   window state kept without a watermark (default '1 hour')\n" \
    "  --sink-lateness DUR    how long an append-only sink waits past a window's end\n"   \
    "                         without a WATERMARK (default '5 seconds')\n"               \
    "  --http ADDR            serve the API and dashboard on ADDR (default\n"            \
    "                         127.0.0.1:8080; port 0 picks a free one; 'off' disables)\n" \
    "  --http-token TOKEN     require this bearer token on /api and /metrics\n"          \
    "                         (default: $TIDEWATCH_HTTP_TOKEN; none when unset)\n"       \
    "  --anomalies VIEW       the view served as anomalies (default network_anomalies)\n" \
    "  --series VIEW          the view served as device series (default\n"               \
    "                         device_metrics_10s)\n"                                     \
    "  --pg ADDR              serve the PostgreSQL protocol on ADDR (default\n"          \
    "                         127.0.0.1:4566; port 0 picks a free one; 'off' disables)\n" \
    "  --pg-password PW       require this password (SCRAM-SHA-256) for every user\n"    \
    "                         (default: $TIDEWATCH_PG_PASSWORD; none: trust, and then\n"  \
    "                         only a loopback address is allowed)\n"

typedef struct tw_pipeline_args {
    tw_engine_opts engine;
    const char **sources; /* --source NAME=URI values, borrowed from argv */
    uint32_t nsources;
    tw_serve_opts http;
    tw_pgwire_opts pg;
    int http_choice; /* -1: not given, 0: 'off', 1: an address */
    int pg_choice;   /* the same for --pg */
    bool views_named; /* --anomalies or --series was given */
} tw_pipeline_args;

/* Fills a with the defaults (the environment's token and password
 * included), with room for every --source among argc arguments. */
void tw_pipeline_args_init(tw_pipeline_args *a, int argc);

typedef enum tw_pipeline_parse {
    TW_PIPELINE_NOT_MINE, /* not a shared option: the command handles it */
    TW_PIPELINE_TAKEN,
    TW_PIPELINE_BAD,      /* invalid value; the message is on stderr */
} tw_pipeline_parse;

/* Takes getopt_long's result `opt` with its argument for command `cmd`
 * ("run", "serve"; used in messages). */
tw_pipeline_parse tw_pipeline_args_parse(tw_pipeline_args *a, int opt, const char *arg,
                                         const char *cmd);

/* Points the engine options at the collected --source values; call once
 * after parsing, before tw_engine_new. */
void tw_pipeline_args_finish(tw_pipeline_args *a);

void tw_pipeline_args_free(tw_pipeline_args *a);

#endif

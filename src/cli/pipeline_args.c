/* pipeline_args.c - see pipeline_args.h. */
#include "cli/pipeline_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/timeutil.h"

void tw_pipeline_args_init(tw_pipeline_args *a, int argc)
{
    memset(a, 0, sizeof *a);
    tw_engine_opts_default(&a->engine);
    a->sources = tw_xcalloc((size_t)argc + 1, sizeof *a->sources);
    tw_serve_opts_default(&a->http);
    a->http.token = getenv("TIDEWATCH_HTTP_TOKEN");
    if (a->http.token && !*a->http.token)
        a->http.token = NULL;
    tw_pgwire_opts_default(&a->pg);
    a->pg.password = getenv("TIDEWATCH_PG_PASSWORD");
    a->http_choice = a->pg_choice = -1;
}

/* A duration option into *out_us; false (message printed) when it is not
 * one or is below min_us. */
static bool duration(const char *cmd, const char *option, const char *arg, int64_t min_us,
                     const char *example, int64_t *out_us)
{
    if (tw_interval_parse(arg, strlen(arg), NULL, out_us) && *out_us >= min_us)
        return true;
    fprintf(stderr, "tidewatch %s: %s takes a duration such as '%s', not '%s'\n", cmd, option,
            example, arg);
    return false;
}

tw_pipeline_parse tw_pipeline_args_parse(tw_pipeline_args *a, int opt, const char *arg,
                                         const char *cmd)
{
    switch (opt) {
    case TW_PIPELINE_OPT_SOURCE:
        if (!strchr(arg, '=')) {
            fprintf(stderr, "tidewatch %s: --source needs NAME=URI, got '%s'\n", cmd, arg);
            return TW_PIPELINE_BAD;
        }
        a->sources[a->nsources++] = arg;
        return TW_PIPELINE_TAKEN;
    case TW_PIPELINE_OPT_BARRIER: {
        char *end;
        long ms = strtol(arg, &end, 10);
        if (!*arg || *end || ms < 1 || ms > 3600000) {
            fprintf(stderr, "tidewatch %s: --barrier-interval must be 1..3600000 ms, not '%s'\n",
                    cmd, arg);
            return TW_PIPELINE_BAD;
        }
        a->engine.barrier_interval_ms = ms;
        return TW_PIPELINE_TAKEN;
    }
    case TW_PIPELINE_OPT_RETENTION:
        return duration(cmd, "--retention", arg, 1, "1 hour", &a->engine.retention_us)
                   ? TW_PIPELINE_TAKEN
                   : TW_PIPELINE_BAD;
    case TW_PIPELINE_OPT_SINK_LATENESS:
        return duration(cmd, "--sink-lateness", arg, 0, "5 seconds", &a->engine.sink_lateness_us)
                   ? TW_PIPELINE_TAKEN
                   : TW_PIPELINE_BAD;
    case TW_PIPELINE_OPT_DATA_DIR: a->engine.data_dir = arg; return TW_PIPELINE_TAKEN;
    case TW_PIPELINE_OPT_HTTP:
        a->http_choice = strcmp(arg, "off") != 0;
        a->http.addr = arg;
        return TW_PIPELINE_TAKEN;
    case TW_PIPELINE_OPT_HTTP_TOKEN: a->http.token = arg; return TW_PIPELINE_TAKEN;
    case TW_PIPELINE_OPT_ANOMALIES:
        a->http.anomaly_view = arg;
        a->views_named = true;
        return TW_PIPELINE_TAKEN;
    case TW_PIPELINE_OPT_SERIES:
        a->http.series_view = arg;
        a->views_named = true;
        return TW_PIPELINE_TAKEN;
    case TW_PIPELINE_OPT_PG:
        a->pg_choice = strcmp(arg, "off") != 0;
        a->pg.addr = arg;
        return TW_PIPELINE_TAKEN;
    case TW_PIPELINE_OPT_PG_PASSWORD: a->pg.password = arg; return TW_PIPELINE_TAKEN;
    default: return TW_PIPELINE_NOT_MINE;
    }
}

void tw_pipeline_args_finish(tw_pipeline_args *a)
{
    a->engine.source_overrides = a->sources;
    a->engine.nsource_overrides = a->nsources;
    a->http.barrier_interval_ms = a->engine.barrier_interval_ms;
    a->http.data_dir = a->engine.data_dir;
}

void tw_pipeline_args_free(tw_pipeline_args *a)
{
    free(a->sources);
    a->sources = NULL;
}

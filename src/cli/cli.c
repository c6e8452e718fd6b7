/* cli.c - top-level usage, --version and command dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static const char usage[] =
    "tidewatch " TW_VERSION " - streaming SQL anomaly detection for network telemetry\n"
    "\n"
    "Usage: tidewatch COMMAND [options]\n"
    "\n"
    "Commands:\n"
    "  run [FILE.sql...]   run a pipeline (with no file: the built-in demo pipeline\n"
    "                      on the network simulator)\n"
    "  serve               serve the PostgreSQL protocol and the HTTP API; the\n"
    "                      pipeline is created over the wire and kept in the\n"
    "                      data directory's catalog across restarts\n"
    "  gen                 write simulated network metrics as NDJSON\n"
    "\n"
    "Options:\n"
    "  -h, --help          show this help (tidewatch COMMAND --help for a command)\n"
    "  -V, --version       show the version\n";

int tw_main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
        printf("tidewatch %s\n", TW_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "run"))
        return tw_cmd_run(argc - 1, argv + 1);
    if (!strcmp(argv[1], "serve"))
        return tw_cmd_serve(argc - 1, argv + 1);
    if (!strcmp(argv[1], "gen"))
        return tw_cmd_gen(argc - 1, argv + 1);
    fprintf(stderr, "tidewatch: unknown command '%s'\nRun 'tidewatch --help' for the commands.\n",
            argv[1]);
    return 2;
}

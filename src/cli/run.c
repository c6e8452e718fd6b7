/* run.c - `tidewatch run`: in progress in this commit series. */
#include <stdio.h>

#include "cli/commands.h"

int tw_cmd_run(int argc, char **argv)
{
    fprintf(stderr, "tidewatch run: not built yet\n");
    return 1;
}

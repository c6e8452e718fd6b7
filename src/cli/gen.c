/* gen.c - `tidewatch gen`: in progress in this commit series. */
#include <stdio.h>

#include "cli/commands.h"

int tw_cmd_gen(int argc, char **argv)
{
    fprintf(stderr, "tidewatch gen: not built yet\n");
    return 1;
}

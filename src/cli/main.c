/* main.c - the tidewatch command line: dispatches to the commands. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

int main(int argc, char **argv)
{
    return tw_main(argc, argv);
}

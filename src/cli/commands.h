/* commands.h - the subcommands of the tidewatch binary. Each takes the
 * arguments after its name (argv[0] is the command name) and returns the
 * process exit status. */
#ifndef TW_CLI_COMMANDS_H
#define TW_CLI_COMMANDS_H

int tw_main(int argc, char **argv);
int tw_cmd_run(int argc, char **argv);
int tw_cmd_gen(int argc, char **argv);
int tw_cmd_serve(int argc, char **argv);

#endif

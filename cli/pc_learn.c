/* cli/pc_learn.c: placeholder until its part of the pc module lands. */
#include <config.h>

#include "cli.h"

static int later(int argc, char **argv, cli_common *c) {
  (void)argc, (void)argv;
  return cli_fail(c, CLI_EUSAGE, "not built yet");
}

const cli_command cli_pc_learn = {"learn", "(not built yet)", later};

int cli_demo_pc(const cli_common *c, const char *dir, FILE *out, cli_json *j) {
  (void)c, (void)dir, (void)out, (void)j;
  return CLI_OK;
}

/* cli/gp_gpfa.c: placeholder until its part of the gp module lands. */
#include <config.h>

#include "cli.h"

static int later(int argc, char **argv, cli_common *c) {
  (void)argc, (void)argv;
  return cli_fail(c, CLI_EUSAGE, "not built yet");
}

const cli_command cli_gp_gpfa = {"gpfa", "(not built yet)", later};

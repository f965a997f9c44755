/* cli/sde_sim.c: placeholder until its part of the sde module lands. */
#include <config.h>

#include "cli.h"

static int later(int argc, char **argv, cli_common *c) {
  (void)argc, (void)argv;
  return cli_fail(c, CLI_EUSAGE, "not built yet");
}

const cli_command cli_sde_simulate = {"simulate", "(not built yet)", later};

/* cli/pc_query.c: placeholder until its part of the pc module lands. */
#include <config.h>

#include "cli.h"

static int later(int argc, char **argv, cli_common *c) {
  (void)argc, (void)argv;
  return cli_fail(c, CLI_EUSAGE, "not built yet");
}

const cli_command cli_pc_loglik = {"loglik", "(not built yet)", later};
const cli_command cli_pc_marginal = {"marginal", "(not built yet)", later};
const cli_command cli_pc_conditional = {"conditional", "(not built yet)", later};
const cli_command cli_pc_map = {"map", "(not built yet)", later};
const cli_command cli_pc_sample = {"sample", "(not built yet)", later};

/* cli/causal_run.c: placeholder until its part of the causal module lands. */
#include <config.h>

#include "cli.h"

static int later(int argc, char **argv, cli_common *c) {
  (void)argc, (void)argv;
  return cli_fail(c, CLI_EUSAGE, "not built yet");
}

const cli_command cli_causal_pc = {"pc", "(not built yet)", later};
const cli_command cli_causal_fci = {"fci", "(not built yet)", later};
const cli_command cli_causal_ges = {"ges", "(not built yet)", later};
const cli_command cli_causal_lingam = {"lingam", "(not built yet)", later};
const cli_command cli_causal_cumulant = {"cumulant", "(not built yet)", later};
const cli_command cli_causal_notears = {"notears", "(not built yet)", later};
const cli_command cli_causal_compare = {"compare", "(not built yet)", later};

int cli_demo_causal(const cli_common *c, const char *dir, FILE *out, cli_json *j) {
  (void)c, (void)dir, (void)out, (void)j;
  return CLI_OK;
}

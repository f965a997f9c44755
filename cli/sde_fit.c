/* cli/sde_fit.c: placeholder until its part of the sde module lands. */
#include <config.h>

#include "cli.h"

static int later(int argc, char **argv, cli_common *c) {
  (void)argc, (void)argv;
  return cli_fail(c, CLI_EUSAGE, "not built yet");
}

const cli_command cli_sde_filter = {"filter", "(not built yet)", later};
const cli_command cli_sde_smooth = {"smooth", "(not built yet)", later};
const cli_command cli_sde_fit = {"fit", "(not built yet)", later};

int cli_demo_sde(const cli_common *c, const char *dir, FILE *out, cli_json *j) {
  (void)c, (void)dir, (void)out, (void)j;
  return CLI_OK;
}

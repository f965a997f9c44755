/* cli/gp_fit.c: placeholder until its part of the gp module lands. */
#include <config.h>

#include "cli.h"

static int later(int argc, char **argv, cli_common *c) {
  (void)argc, (void)argv;
  return cli_fail(c, CLI_EUSAGE, "not built yet");
}

const cli_command cli_gp_fit = {"fit", "(not built yet)", later};
const cli_command cli_gp_loglik = {"loglik", "(not built yet)", later};
const cli_command cli_gp_smooth = {"smooth", "(not built yet)", later};
const cli_command cli_gp_predict = {"predict", "(not built yet)", later};

int cli_demo_gp(const cli_common *c, const char *dir, FILE *out, cli_json *j) {
  (void)c, (void)dir, (void)out, (void)j;
  return CLI_OK;
}

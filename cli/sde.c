/* cli/sde.c: `latens sde SUBCOMMAND` — the group's table; each subcommand lives in its own
 * cli/sde_*.c file. */
#include <config.h>

#include "cli.h"

static const cli_command *const subs[] = {
    &cli_sde_simulate,
    &cli_sde_filter,
    &cli_sde_smooth,
    &cli_sde_fit,
};

static int run(int argc, char **argv, cli_common *c) {
  return cli_group_run(argc, argv, c, "latens sde: latent stochastic differential equations.", subs, sizeof subs / sizeof *subs);
}

const cli_command cli_cmd_sde = {"sde", "latent stochastic differential equations", run};
